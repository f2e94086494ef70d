using System;
using BenchmarkDotNet.Attributes;

namespace FlowGen.Benchmarks;

/// <summary>
/// Optional (not in the default or quick runs; `bench/run.sh --disasm`): the JIT's x64 output for R8 float log-density at
/// batch 65 536, down to the dense kernels (R8Impl.Dense_64x64_Tanh is the hottest: 4 096 of each layer's 4 864 multiply-adds)
/// and whatever of Kernel they call. DisassemblyDiagnoser must run out of process (it crashes with --inProcess).
/// Output: &lt;artifacts&gt;/results/FlowGen.Benchmarks.Disasm_R8_float-asm.md. With `bench/run.sh --disasm --avx2` the JIT
/// targets AVX2 only (16 ymm registers, as on Zen 3) instead of this machine's AVX-512.
/// </summary>
[DisassemblyDiagnoser(maxDepth: 6, printSource: true, exportGithubMarkdown: true, exportCombinedDisassemblyReport: true)]
[WarmupCount(2), IterationCount(3)]
public class Disasm_R8_float
{
    private R8Float _flow = null!;
    private float[] _xs = [], _out = [], _one = [];

    /// <summary>Model and buffers.</summary>
    [GlobalSetup]
    public void Setup()
    {
        _flow = BenchSetup.CreateModel<R8Float, float>();
        _xs = BenchSetup.Gaussian<float>(65536 * 8, BenchSetup.DataSeed);
        _out = new float[65536];
        _one = new float[1];
    }

    /// <summary>R8 float log-density, batch 65 536, 1 thread.</summary>
    [Benchmark]
    public void LogProb() => _flow.LogProb(_xs, _out);

    /// <summary>R8 float log-density, batch 1 (the single-sample path, R8Impl.ForwardOne and DenseOne_*).</summary>
    [Benchmark]
    public void LogProbOne() => _flow.LogProb(_xs.AsSpan(0, 8), _one);
}
