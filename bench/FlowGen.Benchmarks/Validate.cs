using System;
using System.Numerics;
using System.Runtime.Intrinsics;

namespace FlowGen.Benchmarks;

/// <summary>
/// `validate`: fast sanity checks outside BenchmarkDotNet — FLOP counts, the naive baseline against FlowGen, 2-thread
/// results against 1-thread results, and the bytes every benchmarked call allocates after warm-up (must be 0).
/// </summary>
public static class Validate
{
    /// <summary>The vector widths and x86 instruction sets the JIT uses in this process.</summary>
    public static string IsaLine() =>
        $"Vector<float>.Count = {Vector<float>.Count}, Vector256 accelerated = {Vector256.IsHardwareAccelerated}, " +
        $"Vector512 accelerated = {Vector512.IsHardwareAccelerated}, Avx2 = {System.Runtime.Intrinsics.X86.Avx2.IsSupported}, " +
        $"Fma = {System.Runtime.Intrinsics.X86.Fma.IsSupported}, Avx512F = {System.Runtime.Intrinsics.X86.Avx512F.IsSupported}";

    /// <summary>Runs the checks; returns the number of failures.</summary>
    public static int Run()
    {
        int failures = 0;
        Console.WriteLine(IsaLine());
        Console.WriteLine();
        Console.WriteLine("| model | parameters | dense MACs / sample | FLOP / sample (log p) | FLOP / sample (train step) |");
        Console.WriteLine("|---|---:|---:|---:|---:|");
        foreach (var m in Catalog.All)
            if (m.Precision == "float") Console.WriteLine($"| {m.Name} | {m.Parameters:N0} | {m.DenseMacs:N0} | {m.Flop:N0} | {m.TrainFlop:N0} |");
        Console.WriteLine();

        double w8 = NaiveFlow.Check(BenchSetup.CreateModel<R8Float, float>(), NaiveFlow.For(BenchSetup.CreateModel<R8Float, float>()));
        double w2 = NaiveFlow.Check(BenchSetup.CreateModel<R2Float, float>(), NaiveFlow.For(BenchSetup.CreateModel<R2Float, float>()));
        Console.WriteLine($"naive vs FlowGen log p, max |Δ| over 4096 samples: R8 {w8:E2}, R2 {w2:E2} (tolerance 1e-5·max(1, |log p|))");

        failures += Check<R8_float, R8Float, float>();
        failures += Check<R8_double, R8Double, double>();
        failures += Check<R2_float, R2Float, float>();
        failures += Check<R2_double, R2Double, double>();
        failures += Check<L64_float, L64Float, float>(small: true);
        failures += Check<L64_double, L64Double, double>(small: true);
        failures += Check<S8_float, S8Float, float>(small: true);
        failures += Check<Q8_float, Q8Float, float>(small: true);
        failures += Check<D8_float, D8Float, float>(small: true);
        failures += Check<G8_float, G8Float, float>(small: true);
        failures += CheckNaive<Naive_R8_float>();
        failures += CheckParallel();
        Console.WriteLine(failures == 0 ? "validate: all checks passed" : $"validate: {failures} FAILED");
        return failures;
    }

    private static int Check<TBench, TFlow, T>(bool small = false)
        where TBench : FlowBench<TFlow, T>, new()
        where TFlow : class, ICouplingFlowModel<TFlow, T>
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int failures = 0;
        string name = typeof(TBench).Name;
        // 2 threads must give the 1-thread answer (the batch split is at a multiple of the tile width)
        int n = small ? 256 : 4096;
        var flow = BenchSetup.CreateModel<TFlow, T>();
        int d = flow.Dim;
        T[] xs = BenchSetup.Gaussian<T>(n * d, BenchSetup.DataSeed);
        T[] a = new T[n], b = new T[n];
        flow.LogProb(xs, default, a);
        flow.LogProb(xs.AsSpan(0, n / 2 * d), default, b.AsSpan(0, n / 2));
        flow.LogProb(xs.AsSpan(n / 2 * d), default, b.AsSpan(n / 2));
        if (!a.AsSpan().SequenceEqual(b)) { Console.WriteLine($"FAIL {name}: split log p differs from the whole-batch log p"); failures++; }
        for (int i = 0; i < n; i++)
            if (!T.IsFinite(a[i])) { Console.WriteLine($"FAIL {name}: log p[{i}] = {a[i]}"); failures++; break; }

        var line = new System.Text.StringBuilder($"{name,-11} bytes allocated per call after warm-up:");
        foreach (int threads in new[] { 1, 2 })
        {
            foreach (int batch in small ? new[] { 1, 256, 4096 } : new[] { 1, 256, 4096, 65536 })
            {
                if (batch == 1 && threads == 2) continue;
                var bench = new TBench { Batch = batch, Threads = threads };
                bench.Setup();
                try
                {
                    (string Op, Action Call, bool Ok)[] calls =
                    [
                        ("LogProb", bench.LogProb, batch != 4096),
                        ("Forward", bench.Forward, batch != 4096),
                        ("Inverse", bench.Inverse, batch >= 4096),
                        ("Sample", bench.Sample, batch >= 4096),
                        ("TrainStep", bench.TrainStep, batch is 256 or 4096),
                    ];
                    foreach (var (op, call, ok) in calls)
                    {
                        if (!ok) continue;
                        for (int r = 0; r < 4; r++) call(); // warm-up: thread-static buffers, tier-0 code
                        long bytes = MinBytesPerCall(call);
                        line.Append($" {op}@{batch}x{threads}t={bytes}");
                        if (bytes != 0) { failures++; line.Append(" (FAIL)"); }
                    }
                }
                finally
                {
                    bench.Cleanup();
                }
            }
        }
        Console.WriteLine(line);
        return failures;
    }

    /// <summary>
    /// The library's split calls (<see cref="Parallel_R8_float"/>): 2 threads give the 1-thread bits, and a call allocates
    /// nothing after warm-up in the whole process (the workers included: GC.GetTotalAllocatedBytes counts every thread).
    /// </summary>
    private static int CheckParallel()
    {
        int failures = 0;
        var line = new System.Text.StringBuilder("Parallel_R8_float bytes allocated per call after warm-up:");
        var one = new Parallel_R8_float { Batch = 65536, Threads = 1 };
        var two = new Parallel_R8_float { Batch = 65536, Threads = 2 };
        one.Setup();
        two.Setup();
        try
        {
            (string Op, Action One, Action Two)[] calls =
                [("LogProb", one.LogProb, two.LogProb), ("Forward", one.Forward, two.Forward), ("Inverse", one.Inverse, two.Inverse), ("Sample", one.Sample, two.Sample)];
            foreach (var (op, callOne, callTwo) in calls)
            {
                callOne();
                callTwo();
                if (!one.Outputs().SequenceEqual(two.Outputs())) { Console.WriteLine($"FAIL Parallel_R8_float {op}: 2 threads differ from 1"); failures++; }
                for (int r = 0; r < 3; r++) callTwo();
                long bytes = MinBytesPerCall(callTwo);
                line.Append($" {op}@65536x2t={bytes}");
                if (bytes != 0) { failures++; line.Append(" (FAIL)"); }
            }
        }
        finally
        {
            two.Cleanup();
        }
        Console.WriteLine(line);
        return failures;
    }

    /// <summary>
    /// Bytes the process allocates during one call of <paramref name="call"/> (every thread): the minimum over 4 calls, since
    /// the runtime itself allocates now and then (tiered JIT, timers), which GC.GetTotalAllocatedBytes counts too; a real
    /// per-call allocation shows in every call.
    /// </summary>
    private static long MinBytesPerCall(Action call)
    {
        long bytes = long.MaxValue;
        for (int r = 0; r < 4; r++)
        {
            long before = GC.GetTotalAllocatedBytes(precise: true);
            call();
            bytes = Math.Min(bytes, GC.GetTotalAllocatedBytes(precise: true) - before);
        }
        return bytes;
    }

    private static int CheckNaive<TBench>() where TBench : NaiveBench<R8Float>, new()
    {
        var bench = new TBench { Batch = 256, Threads = 2 };
        bench.Setup();
        try
        {
            for (int r = 0; r < 4; r++) bench.LogProb();
            long bytes = MinBytesPerCall(bench.LogProb);
            Console.WriteLine($"{typeof(TBench).Name} bytes allocated per call (256, 2 threads): {bytes}");
            return bytes == 0 ? 0 : 1;
        }
        finally
        {
            bench.Cleanup();
        }
    }
}
