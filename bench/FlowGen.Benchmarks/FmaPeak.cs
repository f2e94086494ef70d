using System;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using BenchmarkDotNet.Attributes;

namespace FlowGen.Benchmarks;

/// <summary>
/// This machine's peak multiply-add throughput: a loop of independent vector FMAs (12 accumulators, more than
/// latency × pipes = 4 × 2 on Zen 3/4), a = a·m + c, per thread. FLOP per call = <see cref="Flop"/>(width) × Threads.
/// The report divides this into the models' FLOP counts to give "% of FMA peak", against the 1-thread peak at the widest
/// accelerated width (Vector512 where it is hardware-accelerated: Zen 5 has full-width 512-bit FMA units, so its 512-bit
/// peak is twice the 256-bit one; Zen 4 executes 512-bit FMAs as two halves), with the 256-bit figure beside it. The
/// 512-bit variants only run where Vector512 is hardware-accelerated.
/// </summary>
public class FmaPeak : IHalfWork
{
    /// <summary>Loop trips per call and thread.</summary>
    public const int Iterations = 1 << 20;

    /// <summary>Independent accumulators.</summary>
    public const int Accumulators = 12;

    /// <summary>FLOP per call and thread for a vector of <paramref name="lanes"/> lanes (2 per lane per FMA).</summary>
    public static double Flop(int lanes) => 2.0 * Iterations * Accumulators * lanes;

    /// <summary>Threads, each running the full loop.</summary>
    [Params(1, 2)]
    public int Threads { get; set; }

    private TwoThreads? _pool;
    private int _kind;
    private double _sink0, _sink1;

    /// <summary>Starts the worker for 2 threads.</summary>
    [GlobalSetup]
    public void Setup()
    {
        if (!Fma.IsSupported) throw new NotSupportedException("This benchmark needs x86 FMA.");
        if (Threads == 2) _pool = new TwoThreads();
    }

    /// <summary>Stops the worker.</summary>
    [GlobalCleanup]
    public void Cleanup() => _pool?.Dispose();

    /// <summary>Vector256&lt;float&gt;: 8 lanes, 16 FLOP per FMA.</summary>
    [Benchmark]
    public double Float256() => Run(0);

    /// <summary>Vector256&lt;double&gt;: 4 lanes, 8 FLOP per FMA.</summary>
    [Benchmark]
    public double Double256() => Run(1);

    /// <summary>Vector512&lt;float&gt; (AVX-512 only).</summary>
    [Benchmark]
    public double Float512() => Run(2);

    /// <summary>Vector512&lt;double&gt; (AVX-512 only).</summary>
    [Benchmark]
    public double Double512() => Run(3);

    private double Run(int kind)
    {
        if (_pool is null) return Loop(kind);
        _kind = kind;
        _pool.Run(this);
        return _sink0 + _sink1;
    }

    /// <inheritdoc/>
    public void RunHalf(int half)
    {
        double r = Loop(_kind);
        if (half == 0) _sink0 = r; else _sink1 = r;
    }

    private static double Loop(int kind) => kind switch
    {
        0 => LoopF256(),
        1 => LoopD256(),
        2 => LoopF512(),
        _ => LoopD512(),
    };

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static double LoopF256()
    {
        Vector256<float> m = Vector256.Create(0.999999f), c = Vector256.Create(1e-6f);
        Vector256<float> a0 = Vector256.Create(0.1f), a1 = Vector256.Create(0.2f), a2 = Vector256.Create(0.3f), a3 = Vector256.Create(0.4f);
        Vector256<float> a4 = Vector256.Create(0.5f), a5 = Vector256.Create(0.6f), a6 = Vector256.Create(0.7f), a7 = Vector256.Create(0.8f);
        Vector256<float> a8 = Vector256.Create(0.9f), a9 = Vector256.Create(1.0f), a10 = Vector256.Create(1.1f), a11 = Vector256.Create(1.2f);
        for (int i = 0; i < Iterations; i++)
        {
            a0 = Fma.MultiplyAdd(a0, m, c); a1 = Fma.MultiplyAdd(a1, m, c); a2 = Fma.MultiplyAdd(a2, m, c); a3 = Fma.MultiplyAdd(a3, m, c);
            a4 = Fma.MultiplyAdd(a4, m, c); a5 = Fma.MultiplyAdd(a5, m, c); a6 = Fma.MultiplyAdd(a6, m, c); a7 = Fma.MultiplyAdd(a7, m, c);
            a8 = Fma.MultiplyAdd(a8, m, c); a9 = Fma.MultiplyAdd(a9, m, c); a10 = Fma.MultiplyAdd(a10, m, c); a11 = Fma.MultiplyAdd(a11, m, c);
        }
        Vector256<float> s = ((a0 + a1) + (a2 + a3)) + ((a4 + a5) + (a6 + a7)) + ((a8 + a9) + (a10 + a11));
        return Vector256.Sum(s);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static double LoopD256()
    {
        Vector256<double> m = Vector256.Create(0.999999), c = Vector256.Create(1e-6);
        Vector256<double> a0 = Vector256.Create(0.1), a1 = Vector256.Create(0.2), a2 = Vector256.Create(0.3), a3 = Vector256.Create(0.4);
        Vector256<double> a4 = Vector256.Create(0.5), a5 = Vector256.Create(0.6), a6 = Vector256.Create(0.7), a7 = Vector256.Create(0.8);
        Vector256<double> a8 = Vector256.Create(0.9), a9 = Vector256.Create(1.0), a10 = Vector256.Create(1.1), a11 = Vector256.Create(1.2);
        for (int i = 0; i < Iterations; i++)
        {
            a0 = Fma.MultiplyAdd(a0, m, c); a1 = Fma.MultiplyAdd(a1, m, c); a2 = Fma.MultiplyAdd(a2, m, c); a3 = Fma.MultiplyAdd(a3, m, c);
            a4 = Fma.MultiplyAdd(a4, m, c); a5 = Fma.MultiplyAdd(a5, m, c); a6 = Fma.MultiplyAdd(a6, m, c); a7 = Fma.MultiplyAdd(a7, m, c);
            a8 = Fma.MultiplyAdd(a8, m, c); a9 = Fma.MultiplyAdd(a9, m, c); a10 = Fma.MultiplyAdd(a10, m, c); a11 = Fma.MultiplyAdd(a11, m, c);
        }
        Vector256<double> s = ((a0 + a1) + (a2 + a3)) + ((a4 + a5) + (a6 + a7)) + ((a8 + a9) + (a10 + a11));
        return Vector256.Sum(s);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static double LoopF512()
    {
        Vector512<float> m = Vector512.Create(0.999999f), c = Vector512.Create(1e-6f);
        Vector512<float> a0 = Vector512.Create(0.1f), a1 = Vector512.Create(0.2f), a2 = Vector512.Create(0.3f), a3 = Vector512.Create(0.4f);
        Vector512<float> a4 = Vector512.Create(0.5f), a5 = Vector512.Create(0.6f), a6 = Vector512.Create(0.7f), a7 = Vector512.Create(0.8f);
        Vector512<float> a8 = Vector512.Create(0.9f), a9 = Vector512.Create(1.0f), a10 = Vector512.Create(1.1f), a11 = Vector512.Create(1.2f);
        for (int i = 0; i < Iterations; i++)
        {
            a0 = Vector512.FusedMultiplyAdd(a0, m, c); a1 = Vector512.FusedMultiplyAdd(a1, m, c); a2 = Vector512.FusedMultiplyAdd(a2, m, c); a3 = Vector512.FusedMultiplyAdd(a3, m, c);
            a4 = Vector512.FusedMultiplyAdd(a4, m, c); a5 = Vector512.FusedMultiplyAdd(a5, m, c); a6 = Vector512.FusedMultiplyAdd(a6, m, c); a7 = Vector512.FusedMultiplyAdd(a7, m, c);
            a8 = Vector512.FusedMultiplyAdd(a8, m, c); a9 = Vector512.FusedMultiplyAdd(a9, m, c); a10 = Vector512.FusedMultiplyAdd(a10, m, c); a11 = Vector512.FusedMultiplyAdd(a11, m, c);
        }
        Vector512<float> s = ((a0 + a1) + (a2 + a3)) + ((a4 + a5) + (a6 + a7)) + ((a8 + a9) + (a10 + a11));
        return Vector512.Sum(s);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static double LoopD512()
    {
        Vector512<double> m = Vector512.Create(0.999999), c = Vector512.Create(1e-6);
        Vector512<double> a0 = Vector512.Create(0.1), a1 = Vector512.Create(0.2), a2 = Vector512.Create(0.3), a3 = Vector512.Create(0.4);
        Vector512<double> a4 = Vector512.Create(0.5), a5 = Vector512.Create(0.6), a6 = Vector512.Create(0.7), a7 = Vector512.Create(0.8);
        Vector512<double> a8 = Vector512.Create(0.9), a9 = Vector512.Create(1.0), a10 = Vector512.Create(1.1), a11 = Vector512.Create(1.2);
        for (int i = 0; i < Iterations; i++)
        {
            a0 = Vector512.FusedMultiplyAdd(a0, m, c); a1 = Vector512.FusedMultiplyAdd(a1, m, c); a2 = Vector512.FusedMultiplyAdd(a2, m, c); a3 = Vector512.FusedMultiplyAdd(a3, m, c);
            a4 = Vector512.FusedMultiplyAdd(a4, m, c); a5 = Vector512.FusedMultiplyAdd(a5, m, c); a6 = Vector512.FusedMultiplyAdd(a6, m, c); a7 = Vector512.FusedMultiplyAdd(a7, m, c);
            a8 = Vector512.FusedMultiplyAdd(a8, m, c); a9 = Vector512.FusedMultiplyAdd(a9, m, c); a10 = Vector512.FusedMultiplyAdd(a10, m, c); a11 = Vector512.FusedMultiplyAdd(a11, m, c);
        }
        Vector512<double> s = ((a0 + a1) + (a2 + a3)) + ((a4 + a5) + (a6 + a7)) + ((a8 + a9) + (a10 + a11));
        return Vector512.Sum(s);
    }
}
