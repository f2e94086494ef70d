#!/usr/bin/python3
"""PyTorch peer of FlowGen's FlowTrainer benchmark (issue 17; bench/FlowGen.Benchmarks/TrainerBench.cs): a plain PyTorch
training loop on R8 (bench.py's model, loaded from the weights FlowGen exported, its log p / inverse / gradient checked
against FlowGen's first), on the same data set (R8/train_x.bin) for the same number of steps at the same batch sizes,
with the settings of R8/trainer.json (written by `FlowGen.Benchmarks export DIR`, from TrainerBench's constants):

    for each step: take the next `batch` rows of a random permutation of the data (a new permutation once fewer than
    `batch` rows are left), zero_grad, loss = −mean log p, backward, Adam step (constant learning rate, no validation).

Checked before timing: the mean loss over the steps of one run must match FlowTrainer's (trainer.json's
flowgen_mean_loss, the same run in C#) within LOSS_TOLERANCE relative; the two runs draw different batches, so they agree
to sampling noise, not bit for bit. A loop that trains another model, another data set, at another rate or not at all
misses by far more.

One run starts from the exported weights with a fresh Adam. Timed: the median over R runs (R = 5, quick 3, after one
warm-up run) of the run's wall time ÷ steps, reported per step like FlowGen's rows (op "TrainRun", samples/s = batch ÷
time per step). Threads: torch.set_num_threads(t) (inter-op threads 1); quick: 1 thread only.

usage: /usr/bin/python3 bench/peers/pytorch/trainer.py --weights DIR [--out FILE.jsonl] [--quick] [--steps N] [--batches 256,4096]
(--steps and --batches override trainer.json, e.g. for a short smoke run; the table needs the exported values.)
"""
import argparse
import json
import os
import statistics
import sys
import time

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench import CouplingFlow, report  # noqa: E402  (R8 as bench.py builds it, and the result lines Report.cs reads)


LOSS_TOLERANCE = 0.01   # relative; measured (2026-12-02): 1.4e-3 at batch 256, 1e-5 at batch 4 096


def run(flow, initial, data, batch, steps, settings, seed):
    """One training run from the initial weights: `steps` Adam steps on batches of a reshuffled permutation; returns the
    mean loss over the steps (FlowTrainer's FinalTrainLoss when it reports once per run)."""
    with torch.no_grad():
        for p, v in zip(flow.params, initial):
            p.copy_(v)
    adam = settings["adam"]
    optimizer = torch.optim.Adam(flow.params, lr=settings["learning_rate"], betas=(adam["beta1"], adam["beta2"]), eps=adam["eps"])
    g = torch.Generator().manual_seed(seed)
    rows = data.shape[0]
    order, used = torch.randperm(rows, generator=g), 0
    total = torch.zeros(())
    for _ in range(steps):
        if used + batch > rows:
            order, used = torch.randperm(rows, generator=g), 0
        x = data[order[used:used + batch]]
        used += batch
        optimizer.zero_grad()
        loss = -flow.log_prob(x).mean()
        loss.backward()
        optimizer.step()
        total += loss.detach()
    return total.item() / steps


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--weights", required=True)
    ap.add_argument("--out")
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--steps", type=int)
    ap.add_argument("--batches")
    a = ap.parse_args()
    torch.set_num_interop_threads(1)
    folder = os.path.join(a.weights, "R8")
    with open(os.path.join(folder, "trainer.json")) as f:
        settings = json.load(f)
    if settings["schedule"] != "constant" or settings["validation_fraction"] != 0:
        print("trainer.json asks for a schedule or a validation split this plain loop does not do", file=sys.stderr)
        return 1
    steps = a.steps or settings["steps"]
    batches = [int(b) for b in a.batches.split(",")] if a.batches else settings["batches"]
    flow = CouplingFlow(folder)
    if flow.check():
        print("R8: check failed, not timing the training loop", file=sys.stderr)
        return 1
    data = torch.from_numpy(np.fromfile(os.path.join(folder, settings["data"]), dtype="<f4").reshape(settings["rows"], settings["dim"]).copy())
    initial = [p.detach().clone() for p in flow.params]
    out = open(a.out, "a") if a.out else None
    reps = 3 if a.quick else 5
    failures = 0
    for threads in ([1] if a.quick else settings["threads"]):
        torch.set_num_threads(threads)
        for batch in batches:
            loss = run(flow, initial, data, batch, steps, settings, seed=0)   # the check, and the warm-up
            want = settings["flowgen_mean_loss"].get(str(batch)) if steps == settings["steps"] else None
            if want is None:
                print(f"R8 training run, batch {batch}: mean loss {loss:.5f} (no FlowGen run of {steps} steps to compare)")
            else:
                rel = abs(loss - want) / max(1.0, abs(want))
                ok = rel <= LOSS_TOLERANCE
                print(f"R8 training run, batch {batch}, {steps} steps: mean loss {loss:.5f}, FlowTrainer's {want:.5f}, "
                      f"relative |d| = {rel:.1e} {'ok' if ok else 'FAIL'}", flush=True)
                if not ok:
                    failures += 1
                    continue
            times = []
            for r in range(reps):
                t0 = time.perf_counter()
                run(flow, initial, data, batch, steps, settings, seed=r + 1)
                times.append((time.perf_counter() - t0) / steps)
            report(out, "R8", "TrainRun", batch, threads, statistics.median(times))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
