#!/usr/bin/python3
"""FlowGen ⇄ PyTorch interop check (run with Debian's python3 and python3-torch).

1. FlowGen → PyTorch: tools/FlowGen.InteropCheck trains several stacks a few steps in C# and exports the weights
   (safetensors) with inputs and FlowGen's outputs; here each stack is rebuilt from the file's ``flowgen.stack`` metadata,
   the weights are loaded, and latents, log-dets, log-densities, inverses and inverse log-dets are compared.
2. PyTorch → FlowGen: each stack is then trained a few Adam steps in PyTorch, saved as safetensors with PyTorch's outputs,
   and the C# tool loads the weights with FlowSafetensors.Load and compares its outputs with PyTorch's.

Tolerance: |a − b| ≤ tol·max(1, |a|) with tol = 1e-5 for float stacks and 1e-9 for double stacks.

    /usr/bin/python3 interop/python/check.py [--dir DIR] [--no-build]
"""

import argparse
import json
import math
import os
import shutil
import subprocess
import sys
import tempfile
import time

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from flowgen_torch import FlowGenFlow  # noqa: E402

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
TOOL = os.path.join(ROOT, "tools", "FlowGen.InteropCheck")
KEYS = ["z", "log_det", "log_prob", "x_inverse", "inverse_log_det"]


def tool(command, directory, no_build):
    args = ["dotnet", "run", "--project", TOOL, "-c", "Release"] + (["--no-build"] if no_build else []) + ["--", command, directory]
    result = subprocess.run(args, cwd=ROOT)
    return result.returncode


def tensor(values, dtype, columns):
    t = torch.tensor([math.nan if v is None else v for v in values], dtype=torch.float64).to(dtype)
    return t.reshape(-1, columns) if columns > 0 else t.reshape(len(values) // max(columns, 1) if columns else 0, 0)


def outputs(flow, x, context, z_samples):
    with torch.no_grad():
        z, log_det = flow(x, context)
        log_prob = flow.log_prob(x, context)
        x_inverse, inverse_log_det = flow.inverse(z_samples, context)
    return {"z": z, "log_det": log_det, "log_prob": log_prob, "x_inverse": x_inverse, "inverse_log_det": inverse_log_det}


def max_relative(expected, actual):
    e = torch.as_tensor(expected, dtype=torch.float64).reshape(-1)
    a = actual.detach().to(torch.float64).reshape(-1)
    d = (e - a).abs() / torch.clamp(e.abs(), min=1.0)
    d = torch.where(torch.isnan(d), torch.full_like(d, math.inf), d)
    return float(d.max()) if d.numel() else 0.0


def to_list(t):
    return [None if not math.isfinite(v) else v for v in t.detach().to(torch.float64).reshape(-1).tolist()]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--dir", default=None)
    parser.add_argument("--no-build", action="store_true")
    parser.add_argument("--steps", type=int, default=30)
    options = parser.parse_args()
    torch.manual_seed(0)
    directory = options.dir or tempfile.mkdtemp(prefix="flowgen-interop-")
    os.makedirs(directory, exist_ok=True)
    start = time.time()
    print(f"torch {torch.__version__}, threads {torch.get_num_threads()}, working in {directory}")

    if tool("export", directory, options.no_build) != 0:
        print("the C# export failed")
        return 1
    ok = True
    names = sorted(f[:-len(".json")] for f in os.listdir(directory) if f.endswith(".json") and not f.endswith(".torch.json"))
    print(f"\nFlowGen-trained weights loaded in PyTorch (max relative difference per output):")
    for name in names:
        with open(os.path.join(directory, name + ".json")) as f:
            data = json.load(f)
        flow = FlowGenFlow.from_safetensors(os.path.join(directory, name + ".safetensors"))
        if flow.description != data["stack"]:
            print(f"{name}: the safetensors metadata and the exported stack differ")
            ok = False
        dtype = next(flow.parameters()).dtype
        tol = 1e-5 if dtype == torch.float32 else 1e-9
        d, c = flow.dim, flow.context_dim
        x = tensor(data["x"], dtype, d)
        n = x.shape[0]
        context = tensor(data["context"], dtype, c) if c else None
        z_samples = tensor(data["z_samples"], dtype, d)
        got = outputs(flow, x, context, z_samples)
        diffs = {k: max_relative([math.nan if v is None else v for v in data[k]], got[k]) for k in KEYS}
        good = all(v <= tol for v in diffs.values())
        ok &= good
        print(f"  {name:<15} ({'float' if dtype == torch.float32 else 'double'}) " +
              ", ".join(f"{k} {v:.1e}" for k, v in diffs.items()) + ("  ok" if good else f"  FAILED (tolerance {tol})"))

        # train a few steps in PyTorch, export for the reverse direction
        train_x = tensor(data["train_x"], dtype, d)
        train_context = tensor(data["train_context"], dtype, c) if c else None
        optimizer = torch.optim.Adam(flow.parameters(), lr=5e-3)
        before = float(-flow.log_prob(train_x, train_context).mean())
        for _ in range(options.steps):
            optimizer.zero_grad()
            loss = -flow.log_prob(train_x, train_context).mean()
            loss.backward()
            optimizer.step()
        after = float(-flow.log_prob(train_x, train_context).detach().mean())
        if not after < before:
            print(f"  {name}: PyTorch training did not reduce the NLL ({before} -> {after})")
        flow.save_safetensors(os.path.join(directory, name + ".torch.safetensors"), model_name=name)
        got = outputs(flow, x, context, z_samples)
        record = {"x": to_list(x), "context": to_list(context) if context is not None else [], "z_samples": to_list(z_samples)}
        record.update({k: to_list(v) for k, v in got.items()})
        with open(os.path.join(directory, name + ".torch.json"), "w") as f:
            json.dump(record, f)

    print(f"\nPyTorch-trained weights ({options.steps} Adam steps) loaded in FlowGen:")
    if tool("verify", directory, True) != 0:
        ok = False
    print(f"\ninterop check {'passed' if ok else 'FAILED'} in {time.time() - start:.0f} s")
    if options.dir is None and ok:
        shutil.rmtree(directory, ignore_errors=True)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
