#!/usr/bin/python3
"""PyTorch peer of FlowGen's every-layer-kind benchmarks (issue 17): S8 (spline), Q8 (sum-of-squares), D8 (deep sigmoidal),
G8 (ActNorm + LU + affine), each rebuilt by interop/python/flowgen_torch.py from the weights.safetensors that
`FlowGen.Benchmarks export DIR` wrote (its flowgen.spec metadata is the model's StackSpec), checked before timing:

- log p against FlowGen's (1e-5 relative) and the NLL gradient (1e-4 of its largest entry), on 1024 rows;
- the inverse: FlowGen's float inverse and the peer's are each compared with the double reference (the same module in
  float64, interop/python/rounding.py) within the rounding tolerance of that reference, the criterion of the interop check
  (interop/python/check.py), on the first CONDITION_ROWS rows; the relative difference between the two float inverses
  over all 1024 rows is printed. A fixed relative tolerance between the two float results is no criterion here: Q8's
  inverse is ill-conditioned on these weights (the 12 couplings send |z| ~ 1 to |x| in the hundreds, where 1-ulp
  differences in z move x by tens of per cent), so two correct float implementations differ by up to ~10× there, and
  each is as far from the double reference as the other.

The inverse of the numerical kinds (sum-of-squares, deep sigmoidal) is flowgen_torch's `_solve`: FlowGen's safeguarded
Newton–bisection of docs/model.md section 7 with FlowGen's start points, tolerance (2.4e-7·(|x| + 1) in float) and
iteration limits, vectorised over the batch, evaluating τ only on the rows still open (its docstring gives the counts:
about 10 bracket doublings and 20 iterations for the slowest element of a Q8 layer, 25 iterations for a D8 block, most
rows done after 5). The spline inverse is closed form.

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
import rounding  # noqa: E402  (the interop check's rounding tolerance)
from bench import report, time_call  # noqa: E402  (the same timing method and result lines as the R8/R2 peer)


CONDITION_ROWS = 64   # rows of the inverse's rounding check (the condition costs a batched backward pass per output column)


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
        xi = flow.inverse(z)[0]
        wx = torch.from_numpy(floats(folder, ch["xinv"]).reshape(n, dim))
        rx = ((xi.double() - wx.double()).abs() / wx.double().abs().clamp(min=1)).max()
        print(f"{name}: inverse, PyTorch vs FlowGen (float, {n} rows): max |d|/max(1,|x|) = {rx:.2e}")
    # both float inverses against the double reference, within its rounding tolerance (interop/python/rounding.py)
    ref = FlowGenFlow(flow.stack_spec, dtype=torch.float64)
    ref.load_state_dict({k: v.detach().double() for k, v in flow.state_dict().items()})
    rows_c = min(n, CONDITION_ROWS)
    (xr, _), (cx, _) = rounding.condition(lambda: ref.inverse(z[:rows_c].double()), list(ref.parameters()))
    tol = rounding.tolerance(cx, torch.float32)
    widest = float((tol / xr.abs().clamp(min=1)).max())
    for side, inverse in (("FlowGen", wx), ("PyTorch", xi)):
        worst = float(rounding.ratio(inverse[:rows_c], xr, tol).max())
        error = float(((inverse[:rows_c].double() - xr).abs() / xr.abs().clamp(min=1)).max())
        print(f"{name}: inverse, {side} float vs double reference ({rows_c} rows): max |d|/max(1,|x|) = {error:.2e}, "
              f"max |d|/tolerance = {worst:.3f} (tolerances <= {widest:.1e}·max(1,|x|)) {'ok' if worst <= 1 else 'FAIL'}")
        failures += worst > 1
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
