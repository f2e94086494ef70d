#!/usr/bin/python3
"""PyTorch peer of FlowGen's benchmarks (Debian's python3-torch 1.13 with OpenBLAS; run bench/peers/pytorch/setup.sh first).

R8 and R2 written with torch tensor operations exactly as docs/model.md defines them (affine coupling,
s~ = 2*tanh(s/2), alternating halves, tanh MLP conditioners, standard-normal base), loaded with the weights FlowGen
exported (`FlowGen.Benchmarks export DIR`), checked against FlowGen's log-densities, inverse and NLL gradient, then timed.

usage: /usr/bin/python3 bench/peers/pytorch/bench.py --weights DIR [--out FILE.jsonl] [--quick] [--models R8,R2]

Timing method (same as the TorchSharp peer): for each case, calls are grouped into repetitions of k calls with k chosen
so that one repetition takes >= 20 ms (k = 1 for slow cases); after a warm-up (>= 3 calls and >= 0.3 s) the median over
R repetitions (R = 7, quick 3) of (repetition time / k) is reported. Log-density and inverse run under torch.no_grad();
the training step is zero_grad + mean NLL + backward + Adam step (lr from the manifest). Threads: torch.set_num_threads(t)
(intra-op; inter-op threads fixed at 1).
"""
import argparse
import json
import math
import os
import sys
import time

import numpy as np
import torch


class CouplingFlow:
    def __init__(self, folder):
        self.dir = folder
        with open(os.path.join(folder, "manifest.json")) as f:
            self.m = json.load(f)
        self.dim = self.m["dim"]
        self.layers = self.m["layers"]
        self.depth = len(self.m["hidden"]) + 1
        self.clamp = float(self.m["clamp"])
        p = self.floats("weights.bin")
        self.tensors = self.m["tensors"]
        self.params = []
        by_name = {}
        for t in self.tensors:
            block = p[t["offset"]:t["offset"] + t["length"]]
            if t["transposed"]:
                # stored input-major [in, out] = the transpose of Linear.weight [out, in]
                v = torch.from_numpy(block.reshape(t["storage_shape"]).T.copy())
            else:
                v = torch.from_numpy(block.reshape(t["shape"]).copy())
            v.requires_grad_(True)
            by_name[t["name"]] = v
            self.params.append(v)
        self.dense = [[(by_name[f"layers.{c}.conditioner.{k}.weight"], by_name[f"layers.{c}.conditioner.{k}.bias"])
                       for k in range(self.depth)] for c in range(self.layers)]
        self.adam = torch.optim.Adam(self.params, lr=self.m["learning_rate"], betas=(0.9, 0.999), eps=1e-8)
        self.log_norm = 0.5 * self.dim * math.log(2 * math.pi)

    def floats(self, name):
        return np.fromfile(os.path.join(self.dir, name), dtype="<f4")

    def conditioner(self, c, u):
        h = u
        layer = self.dense[c]
        for k, (w, b) in enumerate(layer):
            h = torch.nn.functional.linear(h, w, b)
            if k < len(layer) - 1:
                h = torch.tanh(h)
        return h

    def mask(self, c):
        h = self.dim // 2
        return (0, h, h, self.dim - h) if c % 2 == 0 else (h, self.dim - h, 0, h)

    def log_prob(self, x):
        ld = torch.zeros(x.shape[0])
        for c in range(self.layers):
            ks, kl, ts, tl = self.mask(c)
            xa, xb = x.narrow(1, ks, kl), x.narrow(1, ts, tl)
            o = self.conditioner(c, xa)
            s = torch.tanh(o[:, :tl] / self.clamp) * self.clamp
            t = o[:, tl:]
            yb = xb * torch.exp(s) + t
            x = torch.cat([xa, yb], 1) if ks == 0 else torch.cat([yb, xa], 1)
            ld = ld + s.sum(1)
        return ld - 0.5 * x.square().sum(1) - self.log_norm

    def inverse(self, z):
        x = z
        for c in reversed(range(self.layers)):
            ks, kl, ts, tl = self.mask(c)
            ya, yb = x.narrow(1, ks, kl), x.narrow(1, ts, tl)
            o = self.conditioner(c, ya)
            s = torch.tanh(o[:, :tl] / self.clamp) * self.clamp
            t = o[:, tl:]
            xb = (yb - t) * torch.exp(-s)
            x = torch.cat([ya, xb], 1) if ks == 0 else torch.cat([xb, ya], 1)
        return x

    def train_step(self, x):
        self.adam.zero_grad()
        loss = -self.log_prob(x).mean()
        loss.backward()
        self.adam.step()

    def check(self):
        ch = self.m["check"]
        n, rows, model = ch["rows"], ch["grad_rows"], self.m["model"]
        failures = 0
        x = torch.from_numpy(self.floats("check_x.bin").reshape(n, self.dim))
        with torch.no_grad():
            lp = self.log_prob(x).numpy().astype(np.float64)
            want = self.floats("check_logp.bin").astype(np.float64)
            d = np.abs(lp - want)
            rel = (d / np.maximum(1, np.abs(want))).max()
            ok = rel <= 1e-5
            print(f"{model}: log p vs FlowGen over {n} samples: max |d| = {d.max():.2e}, max |d|/max(1,|log p|) = {rel:.2e} {'ok' if ok else 'FAIL'}")
            failures += not ok
            z = torch.from_numpy(self.floats("check_z.bin").reshape(n, self.dim))
            xi = self.inverse(z).numpy().astype(np.float64)
            wx = self.floats("check_xinv.bin").reshape(n, self.dim).astype(np.float64)
            rx = (np.abs(xi - wx) / np.maximum(1, np.abs(wx))).max()
            ok = rx <= 1e-5
            print(f"{model}: inverse vs FlowGen: max relative |d| = {rx:.2e} {'ok' if ok else 'FAIL'}")
            failures += not ok
        for p in self.params:
            p.grad = None
        loss = -self.log_prob(x[:rows]).mean()
        loss.backward()
        want = self.floats("check_grad.bin")
        worst = 0.0
        for t, p in zip(self.tensors, self.params):
            g = p.grad.T if t["transposed"] else p.grad
            got = g.contiguous().numpy().reshape(-1)
            worst = max(worst, float(np.abs(got - want[t["offset"]:t["offset"] + t["length"]]).max()))
        scale = float(np.abs(want).max())
        ok = worst <= 1e-4 * scale
        print(f"{model}: NLL gradient vs FlowGen ({rows} rows): max |d| = {worst:.2e} (max |g| = {scale:.2e}) {'ok' if ok else 'FAIL'}")
        failures += not ok
        for p in self.params:
            p.grad = None
        return failures


def cases(model, quick):
    if quick:
        if model == "R8":
            yield from [("LogProb", 1, 1), ("LogProb", 65536, 1), ("LogProb", 65536, 2), ("TrainStep", 4096, 1), ("TrainStep", 4096, 2)]
        return
    for t in (1, 2):
        for b in (1, 256, 65536):
            if not (b == 1 and t == 2):
                yield ("LogProb", b, t)
        yield ("Inverse", 65536, t)
        yield ("TrainStep", 256, t)
        yield ("TrainStep", 4096, t)


def time_case(flow, op, batch, quick):
    g = torch.Generator().manual_seed(42)
    x = torch.randn(batch, flow.dim, generator=g)
    if op == "LogProb":
        def call():
            with torch.no_grad():
                flow.log_prob(x)
    elif op == "Inverse":
        def call():
            with torch.no_grad():
                flow.inverse(x)
    elif op == "TrainStep":
        def call():
            flow.train_step(x)
    else:
        raise ValueError(op)
    return time_call(call, quick)


def time_call(call, quick):
    """The timing method of the module docstring: warm-up, repetitions of k calls lasting >= 20 ms, median per call."""
    t0 = time.perf_counter()
    warm = 0
    while warm < 3 or time.perf_counter() - t0 < 0.3:
        call()
        warm += 1
    per_call = (time.perf_counter() - t0) / warm
    k = max(1, math.ceil(0.02 / per_call))
    reps = 3 if quick else 7
    times = []
    for _ in range(reps):
        t1 = time.perf_counter()
        for _ in range(k):
            call()
        times.append((time.perf_counter() - t1) / k)
    times.sort()
    return times[reps // 2]


def report(out, model, op, batch, threads, seconds):
    """Prints one result as a JSON line (the format Report.cs reads) and appends it to out when given."""
    line = json.dumps({"system": "PyTorch", "model": model, "precision": "float", "op": op, "batch": batch,
                       "threads": threads, "median_s": seconds, "samples_per_s": batch / seconds})
    print(line, flush=True)
    if out:
        out.write(line + "\n")
        out.flush()


def blas_info():
    try:
        import subprocess
        out = subprocess.run(["update-alternatives", "--query", "libblas.so.3-x86_64-linux-gnu"], capture_output=True, text=True).stdout
        for line in out.splitlines():
            if line.startswith("Value:"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return "?"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--weights", required=True)
    ap.add_argument("--out")
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--models", default="R8,R2")
    a = ap.parse_args()
    torch.set_num_interop_threads(1)
    print(f"PyTorch peer: torch {torch.__version__}, BLAS {blas_info()}, default threads {torch.get_num_threads()}")
    out = open(a.out, "a") if a.out else None
    failures = 0
    for name in a.models.split(","):
        flow = CouplingFlow(os.path.join(a.weights, name))
        f = flow.check()
        failures += f
        if f:
            print(f"{name}: check failed, not timing it", file=sys.stderr)
            continue
        for op, batch, threads in cases(name, a.quick):
            torch.set_num_threads(threads)
            report(out, name, op, batch, threads, time_case(flow, op, batch, a.quick))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
