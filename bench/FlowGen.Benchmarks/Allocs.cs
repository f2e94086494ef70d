using System;
using System.Numerics;

namespace FlowGen.Benchmarks;

/// <summary>
/// `allocs [calls]`: allocation noise probe. Runs each R8 float benchmark call many times after warm-up and prints, per case,
/// how many calls saw a non-zero GC.GetTotalAllocatedBytes(precise) delta and the largest delta. A real per-call allocation
/// shows in every call; background runtime activity (tiered JIT, timers) shows in a few. `validate` asserts the minimum is 0.
/// </summary>
public static class Allocs
{
    /// <summary>Runs the probe.</summary>
    /// <param name="calls">Measured calls per case.</param>
    /// <param name="collect">--gc: a full collection before each measured call, as BenchmarkDotNet's MemoryDiagnoser does around its runs.</param>
    /// <param name="wait">Not --no-wait: GC.WaitForPendingFinalizers() after each such collection.</param>
    public static int Run(int calls, bool collect, bool wait)
    {
        foreach (int threads in new[] { 1, 2 })
            foreach (int batch in new[] { 1, 256, 4096, 65536 })
            {
                if (batch == 1 && threads == 2) continue;
                var bench = new R8_float { Batch = batch, Threads = threads };
                bench.Setup();
                (string Op, Action Call, bool Ok)[] ops =
                [
                    ("LogProb", bench.LogProb, batch != 4096),
                    ("Inverse", bench.Inverse, batch == 65536),
                    ("Sample", bench.Sample, batch == 65536),
                    ("TrainStep", bench.TrainStep, batch is 256 or 4096),
                ];
                foreach (var (op, call, ok) in ops)
                {
                    if (!ok) continue;
                    for (int r = 0; r < 4; r++) call();
                    int n = batch == 65536 ? Math.Max(4, calls / 8) : calls, nonZero = 0;
                    long max = 0;
                    for (int r = 0; r < n; r++)
                    {
                        if (collect) { GC.Collect(); if (wait) GC.WaitForPendingFinalizers(); }
                        long before = GC.GetTotalAllocatedBytes(precise: true);
                        call();
                        long d = GC.GetTotalAllocatedBytes(precise: true) - before;
                        if (d != 0) { nonZero++; max = Math.Max(max, d); }
                    }
                    Console.WriteLine($"R8 float {op,-9} batch {batch,6} threads {threads}: {nonZero}/{n} calls allocated, max {max} B");
                }
                bench.Cleanup();
            }
        return 0;
    }
}
