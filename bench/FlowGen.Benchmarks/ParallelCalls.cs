using System;
using BenchmarkDotNet.Attributes;

namespace FlowGen.Benchmarks;

/// <summary>
/// The library's own multi-core batch calls (<see cref="FlowParallel"/>) on R8 float at batch 65 536: Threads = 1 is the
/// flow's own call (what <see cref="FlowParallel"/> does with one thread), Threads = 2 the split call on the runtime's
/// persistent workers. Unlike <see cref="FlowBench{TFlow, T}"/>'s 2-thread rows (the bench's own split), these rows measure
/// what a user gets. A 2-thread case records the contention gauge before and after its iterations (<see cref="Gauge"/>).
/// </summary>
public class Parallel_R8_float
{
    /// <summary>Samples per call.</summary>
    [Params(65536)]
    public int Batch { get; set; }

    /// <summary>Threads of the call (the caller included).</summary>
    [Params(1, 2)]
    public int Threads { get; set; }

    private R8Float _flow = null!;
    private float[] _xs = [], _zs = [], _out = [];
    private FlowRandom _rng = null!;
    private double _gaugeBefore = double.NaN;

    /// <summary>The model with the benchmark weights and this batch's buffers.</summary>
    [GlobalSetup]
    public void Setup()
    {
        _flow = BenchSetup.CreateModel<R8Float, float>();
        _xs = BenchSetup.Gaussian<float>(Batch * R8Float.Dim, BenchSetup.DataSeed);
        _zs = new float[Batch * R8Float.Dim];
        _out = new float[Batch];
        _rng = new FlowRandom(11);
        if (Threads == 2) _gaugeBefore = Gauge.Read();
    }

    /// <summary>What the last call wrote (outputs and log-values), for <see cref="Validate"/>'s 1-vs-2-thread check.</summary>
    public float[] Outputs() => [.. _zs, .. _out];

    /// <summary>A 2-thread case records its contention gauge.</summary>
    [GlobalCleanup]
    public void Cleanup()
    {
        if (Threads == 2 && !double.IsNaN(_gaugeBefore)) Gauge.Write(nameof(Parallel_R8_float), "*", Batch, Threads, _gaugeBefore, Gauge.Read());
    }

    /// <summary>log p(x) for the batch.</summary>
    [Benchmark]
    public void LogProb() => FlowParallel.LogProb(_flow, _xs, default, _out, Threads);

    /// <summary>z = f(x) and log|det ∂z/∂x|.</summary>
    [Benchmark]
    public void Forward() => FlowParallel.Forward(_flow, _xs, default, _zs, _out, Threads);

    /// <summary>x = f⁻¹(z) (z = the standard-normal input buffer).</summary>
    [Benchmark]
    public void Inverse() => FlowParallel.Inverse(_flow, _xs, default, _zs, default, Threads);

    /// <summary>Samples with their log-densities (the draws are the one-thread call's).</summary>
    [Benchmark]
    public void Sample() => FlowParallel.Sample(_flow, _zs, default, _out, _rng, Threads);
}
