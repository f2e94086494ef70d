#!/usr/bin/python3
"""FlowGen ⇄ PyTorch interop check (run with Debian's python3 and python3-torch).

0. The specification reader: parse_spec refuses another schema, a newer version and a StackDescription, with messages
   that say so.
1. FlowGen → PyTorch: tools/FlowGen.InteropCheck trains several stacks a few steps in C# and exports the weights
   (safetensors) with the architecture (StackSpec, StackHash, ParameterTensors), inputs and FlowGen's outputs; here each
   stack is rebuilt from the file's ``flowgen.spec`` metadata, its tensor names, offsets and shapes and its hash are
   compared with FlowGen's, the weights are loaded, and latents, log-dets, log-densities, inverses and inverse log-dets
   are compared.
2. PyTorch → FlowGen: each stack is then trained a few Adam steps in PyTorch and saved as safetensors (with flowgen.spec
   and flowgen.stack_hash), and the C# tool loads the file with FlowSafetensors.Load (which checks the specification) and
   compares its outputs.

The criterion (interop/python/rounding.py): every output element q is compared with the reference r = the PyTorch module
evaluated in double on the same parameters and inputs (a float stack's parameters and inputs are floats, exactly
representable in double), within

    |q − r| ≤ SAFETY · (u_q + u_double) · condition(q),   condition(q) = Σ_v |∂q/∂v| · m_v,

the first-order effect on q of a rounding error in every intermediate v of its evaluation, computed through the reference
(u = 2⁻²⁴ for float, 2⁻⁵³ for double). Compared so: FlowGen's float results and PyTorch's float results (float stacks),
FlowGen's double results (double stacks), and — for every float stack — a double twin of it in FlowGen holding the same
parameters, which compares the mathematics of both sides with a tolerance near 1e-13. The ratio |q − r| / tolerance is
printed (the worst per output; ≤ 1 passes).

    /usr/bin/python3 interop/python/check.py [--dir DIR] [--no-build] [--steps N]
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
from flowgen_torch import FlowGenFlow, parse_spec, read_safetensors, stack_hash  # noqa: E402
import rounding  # noqa: E402

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
TOOL = os.path.join(ROOT, "tools", "FlowGen.InteropCheck")
KEYS = ["z", "log_det", "log_prob", "x_inverse", "inverse_log_det"]


def tool(command, directory, no_build):
    args = ["dotnet", "run", "--project", TOOL, "-c", "Release"] + (["--no-build"] if no_build else []) + ["--", command, directory]
    result = subprocess.run(args, cwd=ROOT)
    return result.returncode


def tensor(values, dtype, columns):
    t = torch.tensor([math.nan if v is None else v for v in values], dtype=torch.float64).to(dtype)
    return t.reshape(-1, columns) if columns > 0 else t.reshape(0, 0)


def to_list(t):
    return [None if not math.isfinite(v) else v for v in t.detach().to(torch.float64).reshape(-1).tolist()]


def outputs(flow, x, context, z_samples):
    with torch.no_grad():
        z, log_det = flow(x, context)
        log_prob = flow.log_prob(x, context)
        x_inverse, inverse_log_det = flow.inverse(z_samples, context)
    return {"z": z, "log_det": log_det, "log_prob": log_prob, "x_inverse": x_inverse, "inverse_log_det": inverse_log_det}


def reference(flow, x, context, z_samples):
    """The flow's parameters in a float64 module, evaluated on the inputs (in double): each output's reference value and
    its condition (rounding.condition)."""
    ref = FlowGenFlow(flow.stack_spec, dtype=torch.float64, description=flow.description)
    ref.load_state_dict({k: v.detach().to(torch.float64) for k, v in flow.state_dict().items()})
    x64, z64 = x.to(torch.float64), z_samples.to(torch.float64)
    c64 = context.to(torch.float64) if context is not None else None
    params = list(ref.parameters())

    def forward():
        z, log_det = ref(x64, c64)
        return z, log_det, ref.log_prob(x64, c64)

    (z, log_det, log_prob), (cz, cl, cp) = rounding.condition(forward, params)
    (xi, il), (cx, ci) = rounding.condition(lambda: ref.inverse(z64, c64), params)
    values = {"z": z, "log_det": log_det, "log_prob": log_prob, "x_inverse": xi, "inverse_log_det": il}
    conditions = {"z": cz, "log_det": cl, "log_prob": cp, "x_inverse": cx, "inverse_log_det": ci}
    return values, conditions


def compare(label, got, ref, conditions, dtype):
    """Prints and returns whether every output is within its tolerance of the reference."""
    ratios, widest = {}, 0.0
    for k in KEYS:
        tol = rounding.tolerance(conditions[k], dtype)
        ratios[k] = float(rounding.ratio(got[k], ref[k], tol).max()) if tol.numel() else 0.0
        r = ref[k].reshape(-1)
        if r.numel():
            widest = max(widest, float((tol.reshape(-1) / r.abs().clamp(min=1.0)).max()))
    good = all(v <= 1.0 for v in ratios.values())
    print(f"  {label:<36} " + ", ".join(f"{k} {v:.3f}" for k, v in ratios.items())
          + f"  {'ok' if good else 'FAILED'}  (tolerances ≤ {widest:.1e}·max(1, |r|))")
    return good


def check_reader():
    """parse_spec refuses what it cannot read, with a message that says what."""
    spec = ('{"schema":"flowgen.stack","version":2,"dtype":"float32","dim":2,"context":0,"parameters":7,'
            '"base":{"kind":"standard_normal"},"layers":[{"kind":"coupling","transformer":"additive","kept":[0],'
            '"transformed":[1],"hidden":[2],"activation":"tanh","parameters":7}]}')
    parse_spec(spec)
    cases = {
        "a newer version": (spec.replace('"version":2', '"version":3'), "version 3"),
        "a version-1 sum of squares": (spec.replace('"version":2', '"version":1').replace(
            '"transformer":"additive"', '"transformer":"sum_of_squares","degree":0,"squares":1'), "unbounded"),
        "another schema": (spec.replace('"flowgen.stack"', '"other"'), "schema"),
        "a description": ("Dim 2, float, 7 parameters\nlayer 0: additive coupling 0 …", "StackDescription"),
        "an unknown field": (spec.replace('"activation":"tanh"', '"activation":"tanh","dropout":0.5'), "dropout"),
        "a wrong count": (spec.replace('"parameters":7}]', '"parameters":8}]'), "parameters"),
    }
    ok = True
    for what, (text, needle) in cases.items():
        try:
            parse_spec(text)
            message = None
        except ValueError as e:
            message = str(e)
        good = message is not None and needle in message
        ok &= good
        print(f"  refuses {what}: {'ok' if good else 'FAILED'} ({message})")
    return ok


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
    print("\nStack specification reader:")
    ok = check_reader()

    if tool("export", directory, options.no_build) != 0:
        print("the C# export failed")
        return 1
    names = sorted(f[:-len(".json")] for f in os.listdir(directory) if f.endswith(".json") and not f.endswith(".torch.json"))
    print(f"\nFlowGen-trained weights loaded in PyTorch: worst |a − r| / tolerance per output (≤ 1 passes; "
          f"r = PyTorch in double on the same parameters):")
    for name in names:
        with open(os.path.join(directory, name + ".json")) as f:
            data = json.load(f)
        path = os.path.join(directory, name + ".safetensors")
        flow = FlowGenFlow.from_safetensors(path)
        _, metadata = read_safetensors(path)
        problems = []
        if flow.stack_spec != data["spec"]:
            problems.append("the file's flowgen.spec is not the model's StackSpec")
        if not (stack_hash(data["spec"]) == data["stack_hash"] == metadata.get("flowgen.stack_hash") == flow.stack_hash):
            problems.append(f"stack hashes differ: FNV-1a of the spec {stack_hash(data['spec'])}, StackHash "
                            f"{data['stack_hash']}, flowgen.stack_hash {metadata.get('flowgen.stack_hash')}")
        theirs = [(t["name"], t["offset"], t["shape"]) for t in data["tensors"]]
        if flow.parameter_tensors() != theirs:
            problems.append(f"parameter tensors differ:\n    PyTorch {flow.parameter_tensors()}\n    FlowGen {theirs}")
        if flow.description != data["stack"]:
            problems.append("the file's flowgen.stack is not the model's StackDescription")
        for p in problems:
            print(f"  {name}: {p}")
        ok &= not problems
        dtype = flow.dtype
        is_float = dtype == torch.float32
        d, c = flow.dim, flow.context_dim
        x = tensor(data["x"], dtype, d)
        context = tensor(data["context"], dtype, c) if c else None
        z_samples = tensor(data["z_samples"], dtype, d)
        ref, conditions = reference(flow, x, context, z_samples)
        flowgen = {k: tensor(data["flowgen"][k], torch.float64, d if k in ("z", "x_inverse") else 1).reshape(ref[k].shape)
                   for k in KEYS}
        ok &= compare(f"{name} ({'float' if is_float else 'double'})", flowgen, ref, conditions, dtype)
        if is_float:
            ok &= compare(f"{name} (PyTorch float)", outputs(flow, x, context, z_samples), ref, conditions, dtype)
            twin = {k: tensor(data["flowgen_double"][k], torch.float64, d if k in ("z", "x_inverse") else 1).reshape(ref[k].shape)
                    for k in KEYS}
            ok &= compare(f"{name} (double twin)", twin, ref, conditions, torch.float64)

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
        ref, conditions = reference(flow, x, context, z_samples)
        if is_float:
            ok &= compare(f"{name} (PyTorch float, trained)", outputs(flow, x, context, z_samples), ref, conditions, dtype)
        record = {"x": to_list(x), "context": to_list(context) if context is not None else [], "z_samples": to_list(z_samples),
                  "reference": {k: to_list(v) for k, v in ref.items()},
                  "tolerance": {k: to_list(rounding.tolerance(v, dtype)) for k, v in conditions.items()}}
        if is_float:
            record["tolerance_double"] = {k: to_list(rounding.tolerance(v, torch.float64)) for k, v in conditions.items()}
        with open(os.path.join(directory, name + ".torch.json"), "w") as f:
            json.dump(record, f)

    print(f"\nPyTorch-trained weights ({options.steps} Adam steps) loaded in FlowGen: worst |a − r| / tolerance per output:")
    if tool("verify", directory, True) != 0:
        ok = False
    print(f"\ninterop check {'passed' if ok else 'FAILED'} in {time.time() - start:.0f} s")
    if options.dir is None and ok:
        shutil.rmtree(directory, ignore_errors=True)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
