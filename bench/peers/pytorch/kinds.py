#!/usr/bin/python3
"""PyTorch peer of FlowGen's every-layer-kind benchmarks (issue 17): S8 (spline), Q8 (sum-of-squares), D8 (deep sigmoidal),
G8 (ActNorm + LU + affine), each rebuilt by interop/python/flowgen_torch.py from the weights.safetensors that
`FlowGen.Benchmarks export DIR` wrote (its flowgen.spec metadata is the model's StackSpec), checked against FlowGen's
log p (1e-5 relative), inverse (1e-4 relative) and NLL gradient (1e-4 of its largest entry) before timing.

The inverse of the numerical kinds (sum-of-squares, deep sigmoidal) is flowgen_torch's `_bisect`: per element, grow a
bracket [x0 - s, x0 + s] around x0 = 0 by doubling s until tau(lo) <= y <= tau(hi), then bisect a fixed 200 times
(vectorised over the batch with torch.where; no Newton steps, so it does more evaluations of tau than FlowGen's
safeguarded Newton-bisection of docs/model.md section 7, which stops each lane at ~2 ulps). The spline inverse is closed form.

usage: /usr/bin/python3 bench/peers/pytorch/kinds.py --weights DIR [--out FILE.jsonl] [--quick] [--models S8,Q8,D8,G8]
Timing as bench.py: median of R repetitions (7, quick 3) of >= 20 ms after a >= 0.3 s warm-up; 1 thread.
"""
import argparse
import json
import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "interop", "python"))
from flowgen_torch import FlowGenFlow  # noqa: E402
from bench import report, time_call  # noqa: E402  (the same timing method and result lines as the R8/R2 peer)


def floats(folder, name):
    return np.fromfile(os.path.join(folder, name), dtype="<f4")


def check(folder, m, flow):
    ch, dim, name = m["check"], m["dim"], m["model"]
    n, rows = ch["rows"], ch["grad_rows"]
    failures = 0
    x = torch.from_numpy(floats(folder, ch["x"]).reshape(n, dim))
    with torch.no_grad():
        lp = flow.log_prob(x).double().numpy()
        want = floats(folder, ch["logp"]).astype(np.float64)
        rel = (np.abs(lp - want) / np.maximum(1, np.abs(want))).max()
        print(f"{name}: log p vs FlowGen over {n} samples: max |d|/max(1,|log p|) = {rel:.2e} {'ok' if rel <= 1e-5 else 'FAIL'}")
        failures += rel > 1e-5
        z = torch.from_numpy(floats(folder, ch["z"]).reshape(n, dim))
        xi = flow.inverse(z)[0].double().numpy()
        wx = floats(folder, ch["xinv"]).reshape(n, dim).astype(np.float64)
        rx = (np.abs(xi - wx) / np.maximum(1, np.abs(wx))).max()
        print(f"{name}: inverse vs FlowGen: max relative |d| = {rx:.2e} {'ok' if rx <= 1e-4 else 'FAIL'}")
        failures += rx > 1e-4
    flow.zero_grad()
    (-flow.log_prob(x[:rows]).mean()).backward()
    want = floats(folder, ch["grad"])
    params = dict(flow.named_parameters())
    worst = 0.0
    for t in m["tensors"]:
        g = params[t["name"]].grad
        g = g.T if t["transposed"] else g          # FlowGen stores a conditioner weight input-major
        got = g.contiguous().numpy().reshape(-1)
        worst = max(worst, float(np.abs(got - want[t["offset"]:t["offset"] + t["length"]]).max()))
    scale = float(np.abs(want).max())
    print(f"{name}: NLL gradient vs FlowGen ({rows} rows): max |d| = {worst:.2e} (max |g| = {scale:.2e}) {'ok' if worst <= 1e-4 * scale else 'FAIL'}")
    failures += worst > 1e-4 * scale
    flow.zero_grad()
    return failures


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--weights", required=True)
    ap.add_argument("--out")
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--models", default="S8,Q8,D8,G8")
    a = ap.parse_args()
    torch.set_num_interop_threads(1)
    torch.set_num_threads(1)
    out = open(a.out, "a") if a.out else None
    failures = 0
    for name in a.models.split(","):
        folder = os.path.join(a.weights, name)
        with open(os.path.join(folder, "manifest.json")) as f:
            m = json.load(f)
        flow = FlowGenFlow.from_safetensors(os.path.join(folder, m["safetensors"]))
        if flow.stack_spec != m["stack_spec"]:
            print(f"{name}: the file's StackSpec differs from the model's", file=sys.stderr)
            failures += 1
            continue
        f = check(folder, m, flow)
        failures += f
        if f:
            print(f"{name}: check failed, not timing it", file=sys.stderr)
            continue
        adam = torch.optim.Adam(flow.parameters(), lr=m["learning_rate"], betas=(0.9, 0.999), eps=1e-8)
        g = torch.Generator().manual_seed(42)
        x65 = torch.randn(65536, m["dim"], generator=g)
        x4 = torch.randn(4096, m["dim"], generator=g)

        def log_prob():
            with torch.no_grad():
                flow.log_prob(x65)

        def inverse():
            with torch.no_grad():
                flow.inverse(x65)

        def train_step():
            adam.zero_grad()
            (-flow.log_prob(x4).mean()).backward()
            adam.step()

        for op, batch, call in (("LogProb", 65536, log_prob), ("Inverse", 65536, inverse), ("TrainStep", 4096, train_step)):
            report(out, name, op, batch, 1, time_call(call, a.quick))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
