using FlowGen.Tests;
using System;
using System.Numerics;
using System.Runtime.InteropServices;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using FlowGen.Kernels;
using FlowGen.Tests.Reference.EmittedDense;

namespace FlowGen.Benchmarks;

// The runtime's generic dense kernels (FlowGen.Kernels.Dense) against the kernels the generator emitted per model
// (tests/FlowGen.Tests/Reference/EmittedDenseKernels.cs, linked into this project), on the shapes of R8's conditioner:
// 4 → 64 and 64 → 64 tanh, 64 → 8 linear; forward on a tile (16 float / 8 double samples), forward on one sample, and
// backward on a tile. Not part of the default or quick runs: `FlowGen.Benchmarks --dense` (bench/README.md), and
// `dense-ab` for the interleaved comparison (DenseAB).

internal readonly struct S4x64 : IDenseShape { public static int In => 4; public static int Out => 64; }
internal readonly struct S64x64 : IDenseShape { public static int In => 64; public static int Out => 64; }
internal readonly struct S64x8 : IDenseShape { public static int In => 64; public static int Out => 8; }

/// <summary>
/// The buffers of one dense layer, in 64-byte aligned native memory shared by the emitted and the runtime kernel, so
/// that both see the same addresses. The backward pass reads an all-zero output row: the tanh gradient gy·(1 − y²) then
/// leaves gy unchanged, so repeated calls neither decay gy towards subnormals nor change the work; ∂W only grows.
/// </summary>
public sealed unsafe class DenseLayerBuffers<T> : IDisposable where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>Parameters (W, b), parameter gradient, single-sample input and output.</summary>
    public readonly T* W, Gw, U1, Y1;

    /// <summary>Tile rows: input, output, all-zero output (backward), output gradient, input gradient, transpose scratch.</summary>
    public readonly Vector<T>* U, Y, Y0, Gy, Gu, Tt;

    /// <summary>Allocates and fills the buffers of an <paramref name="din"/> → <paramref name="dout"/> layer.</summary>
    public DenseLayerBuffers(int din, int dout, ulong seed)
    {
        var rng = new FlowRandom(seed);
        int lanes = Dense.Lanes;
        W = Alloc<T>(din * dout + dout); Fill(rng, W, din * dout + dout, 1.0 / Math.Sqrt(din));
        Gw = Alloc<T>(din * dout + dout); Fill(rng, Gw, din * dout + dout, 0.1);
        U1 = Alloc<T>(din); Fill(rng, U1, din, 1);
        Y1 = Alloc<T>(dout);
        U = Alloc<Vector<T>>(din * lanes); Fill(rng, (T*)U, din * lanes * Vector<T>.Count, 1);
        Y = Alloc<Vector<T>>(dout * lanes);
        Y0 = Alloc<Vector<T>>(dout * lanes);
        Gy = Alloc<Vector<T>>(dout * lanes); Fill(rng, (T*)Gy, dout * lanes * Vector<T>.Count, 1);
        Gu = Alloc<Vector<T>>(din * lanes);
        Tt = Alloc<Vector<T>>(dout * lanes);
    }

    private static TElement* Alloc<TElement>(int count) where TElement : unmanaged
    {
        nuint bytes = (nuint)(count * sizeof(TElement));
        var p = (TElement*)NativeMemory.AlignedAlloc(bytes, 64);
        NativeMemory.Clear(p, bytes);
        return p;
    }

    private static void Fill(FlowRandom rng, T* p, int count, double scale)
    {
        for (int i = 0; i < count; i++) p[i] = T.CreateTruncating(scale * rng.NextGaussian());
    }

    /// <summary>Frees the buffers.</summary>
    public void Dispose()
    {
        foreach (void* p in new void*[] { W, Gw, U1, Y1, U, Y, Y0, Gy, Gu, Tt }) NativeMemory.AlignedFree(p);
    }
}

/// <summary>Dense kernels in float: emitted (baseline) against runtime, per shape and kernel (one category each).</summary>
[GroupBenchmarksBy(BenchmarkLogicalGroupRule.ByCategory)]
[CategoriesColumn]
public unsafe class DenseKernels_float : IDisposable
{
    private readonly DenseLayerBuffers<float> _a = new(4, 64, 1), _b = new(64, 64, 2), _c = new(64, 8, 3);

    /// <summary>Frees the buffers.</summary>
    [GlobalCleanup]
    public void Dispose()
    {
        _a.Dispose(); _b.Dispose(); _c.Dispose();
        GC.SuppressFinalize(this);
    }

    // ---------------------------------------------------------------- 4 → 64 tanh

    /// <summary>Emitted tile forward.</summary>
    [Benchmark(Baseline = true), BenchmarkCategory("float 4x64 Tanh forward")]
    public void Forward_4x64_Tanh_Emitted() => EmittedFloat.Dense_4x64_Tanh(ref *_a.W, ref *_a.U, ref *_a.Y);

    /// <summary>Runtime tile forward.</summary>
    [Benchmark, BenchmarkCategory("float 4x64 Tanh forward")]
    public void Forward_4x64_Tanh_Runtime() => VectorDense.Forward<S4x64, Tanh>(ref *_a.W, ref *_a.U, ref *_a.Y, ref *_a.Y);

    /// <summary>Emitted single-sample forward.</summary>
    [Benchmark(Baseline = true), BenchmarkCategory("float 4x64 Tanh forward one")]
    public void ForwardOne_4x64_Tanh_Emitted() => EmittedFloat.DenseOne_4x64_Tanh(ref *_a.W, ref *_a.U1, ref *_a.Y1);

    /// <summary>Runtime single-sample forward.</summary>
    [Benchmark, BenchmarkCategory("float 4x64 Tanh forward one")]
    public void ForwardOne_4x64_Tanh_Runtime() => Dense.ForwardOne<S4x64, Tanh>(ref *_a.W, ref *_a.U1, ref *_a.Y1, ref *_a.Y1);

    /// <summary>Emitted tile backward.</summary>
    [Benchmark(Baseline = true), BenchmarkCategory("float 4x64 Tanh backward")]
    public void Backward_4x64_Tanh_Emitted() => EmittedFloat.DenseBackward_4x64_Tanh(ref *_a.W, ref *_a.Gw, ref *_a.U, ref *_a.Y0, ref *_a.Y0, ref *_a.Gy, ref *_a.Gu, ref *_a.Tt);

    /// <summary>Runtime tile backward.</summary>
    [Benchmark, BenchmarkCategory("float 4x64 Tanh backward")]
    public void Backward_4x64_Tanh_Runtime() => VectorDense.Backward<S4x64, Tanh>(ref *_a.W, ref *_a.Gw, ref *_a.U, ref *_a.Y0, ref *_a.Y0, ref *_a.Gy, ref *_a.Gu, ref *_a.Tt);

    // ---------------------------------------------------------------- 64 → 64 tanh

    /// <summary>Emitted tile forward.</summary>
    [Benchmark(Baseline = true), BenchmarkCategory("float 64x64 Tanh forward")]
    public void Forward_64x64_Tanh_Emitted() => EmittedFloat.Dense_64x64_Tanh(ref *_b.W, ref *_b.U, ref *_b.Y);

    /// <summary>Runtime tile forward.</summary>
    [Benchmark, BenchmarkCategory("float 64x64 Tanh forward")]
    public void Forward_64x64_Tanh_Runtime() => VectorDense.Forward<S64x64, Tanh>(ref *_b.W, ref *_b.U, ref *_b.Y, ref *_b.Y);

    /// <summary>Emitted single-sample forward.</summary>
    [Benchmark(Baseline = true), BenchmarkCategory("float 64x64 Tanh forward one")]
    public void ForwardOne_64x64_Tanh_Emitted() => EmittedFloat.DenseOne_64x64_Tanh(ref *_b.W, ref *_b.U1, ref *_b.Y1);

    /// <summary>Runtime single-sample forward.</summary>
    [Benchmark, BenchmarkCategory("float 64x64 Tanh forward one")]
    public void ForwardOne_64x64_Tanh_Runtime() => Dense.ForwardOne<S64x64, Tanh>(ref *_b.W, ref *_b.U1, ref *_b.Y1, ref *_b.Y1);

    /// <summary>Emitted tile backward.</summary>
    [Benchmark(Baseline = true), BenchmarkCategory("float 64x64 Tanh backward")]
    public void Backward_64x64_Tanh_Emitted() => EmittedFloat.DenseBackward_64x64_Tanh(ref *_b.W, ref *_b.Gw, ref *_b.U, ref *_b.Y0, ref *_b.Y0, ref *_b.Gy, ref *_b.Gu, ref *_b.Tt);

    /// <summary>Runtime tile backward.</summary>
    [Benchmark, BenchmarkCategory("float 64x64 Tanh backward")]
    public void Backward_64x64_Tanh_Runtime() => VectorDense.Backward<S64x64, Tanh>(ref *_b.W, ref *_b.Gw, ref *_b.U, ref *_b.Y0, ref *_b.Y0, ref *_b.Gy, ref *_b.Gu, ref *_b.Tt);

    // ---------------------------------------------------------------- 64 → 8 linear

    /// <summary>Emitted tile forward.</summary>
    [Benchmark(Baseline = true), BenchmarkCategory("float 64x8 Identity forward")]
    public void Forward_64x8_Identity_Emitted() => EmittedFloat.Dense_64x8_Linear(ref *_c.W, ref *_c.U, ref *_c.Y);

    /// <summary>Runtime tile forward.</summary>
    [Benchmark, BenchmarkCategory("float 64x8 Identity forward")]
    public void Forward_64x8_Identity_Runtime() => VectorDense.Forward<S64x8, Identity>(ref *_c.W, ref *_c.U, ref *_c.Y, ref *_c.Y);

    /// <summary>Emitted single-sample forward.</summary>
    [Benchmark(Baseline = true), BenchmarkCategory("float 64x8 Identity forward one")]
    public void ForwardOne_64x8_Identity_Emitted() => EmittedFloat.DenseOne_64x8_Linear(ref *_c.W, ref *_c.U1, ref *_c.Y1);

    /// <summary>Runtime single-sample forward.</summary>
    [Benchmark, BenchmarkCategory("float 64x8 Identity forward one")]
    public void ForwardOne_64x8_Identity_Runtime() => Dense.ForwardOne<S64x8, Identity>(ref *_c.W, ref *_c.U1, ref *_c.Y1, ref *_c.Y1);

    /// <summary>Emitted tile backward.</summary>
    [Benchmark(Baseline = true), BenchmarkCategory("float 64x8 Identity backward")]
    public void Backward_64x8_Identity_Emitted() => EmittedFloat.DenseBackward_64x8_Linear(ref *_c.W, ref *_c.Gw, ref *_c.U, ref *_c.Y0, ref *_c.Y0, ref *_c.Gy, ref *_c.Gu, ref *_c.Tt);

    /// <summary>Runtime tile backward.</summary>
    [Benchmark, BenchmarkCategory("float 64x8 Identity backward")]
    public void Backward_64x8_Identity_Runtime() => VectorDense.Backward<S64x8, Identity>(ref *_c.W, ref *_c.Gw, ref *_c.U, ref *_c.Y0, ref *_c.Y0, ref *_c.Gy, ref *_c.Gu, ref *_c.Tt);
}

/// <summary>Dense kernels in double: emitted (baseline) against runtime, per shape and kernel (one category each).</summary>
[GroupBenchmarksBy(BenchmarkLogicalGroupRule.ByCategory)]
[CategoriesColumn]
public unsafe class DenseKernels_double : IDisposable
{
    private readonly DenseLayerBuffers<double> _a = new(4, 64, 1), _b = new(64, 64, 2), _c = new(64, 8, 3);

    /// <summary>Frees the buffers.</summary>
    [GlobalCleanup]
    public void Dispose()
    {
        _a.Dispose(); _b.Dispose(); _c.Dispose();
        GC.SuppressFinalize(this);
    }

    // ---------------------------------------------------------------- 4 → 64 tanh

    /// <summary>Emitted tile forward.</summary>
    [Benchmark(Baseline = true), BenchmarkCategory("double 4x64 Tanh forward")]
    public void Forward_4x64_Tanh_Emitted() => EmittedDouble.Dense_4x64_Tanh(ref *_a.W, ref *_a.U, ref *_a.Y);

    /// <summary>Runtime tile forward.</summary>
    [Benchmark, BenchmarkCategory("double 4x64 Tanh forward")]
    public void Forward_4x64_Tanh_Runtime() => VectorDense.Forward<S4x64, Tanh>(ref *_a.W, ref *_a.U, ref *_a.Y, ref *_a.Y);

    /// <summary>Emitted single-sample forward.</summary>
    [Benchmark(Baseline = true), BenchmarkCategory("double 4x64 Tanh forward one")]
    public void ForwardOne_4x64_Tanh_Emitted() => EmittedDouble.DenseOne_4x64_Tanh(ref *_a.W, ref *_a.U1, ref *_a.Y1);

    /// <summary>Runtime single-sample forward.</summary>
    [Benchmark, BenchmarkCategory("double 4x64 Tanh forward one")]
    public void ForwardOne_4x64_Tanh_Runtime() => Dense.ForwardOne<S4x64, Tanh>(ref *_a.W, ref *_a.U1, ref *_a.Y1, ref *_a.Y1);

    /// <summary>Emitted tile backward.</summary>
    [Benchmark(Baseline = true), BenchmarkCategory("double 4x64 Tanh backward")]
    public void Backward_4x64_Tanh_Emitted() => EmittedDouble.DenseBackward_4x64_Tanh(ref *_a.W, ref *_a.Gw, ref *_a.U, ref *_a.Y0, ref *_a.Y0, ref *_a.Gy, ref *_a.Gu, ref *_a.Tt);

    /// <summary>Runtime tile backward.</summary>
    [Benchmark, BenchmarkCategory("double 4x64 Tanh backward")]
    public void Backward_4x64_Tanh_Runtime() => VectorDense.Backward<S4x64, Tanh>(ref *_a.W, ref *_a.Gw, ref *_a.U, ref *_a.Y0, ref *_a.Y0, ref *_a.Gy, ref *_a.Gu, ref *_a.Tt);

    // ---------------------------------------------------------------- 64 → 64 tanh

    /// <summary>Emitted tile forward.</summary>
    [Benchmark(Baseline = true), BenchmarkCategory("double 64x64 Tanh forward")]
    public void Forward_64x64_Tanh_Emitted() => EmittedDouble.Dense_64x64_Tanh(ref *_b.W, ref *_b.U, ref *_b.Y);

    /// <summary>Runtime tile forward.</summary>
    [Benchmark, BenchmarkCategory("double 64x64 Tanh forward")]
    public void Forward_64x64_Tanh_Runtime() => VectorDense.Forward<S64x64, Tanh>(ref *_b.W, ref *_b.U, ref *_b.Y, ref *_b.Y);

    /// <summary>Emitted single-sample forward.</summary>
    [Benchmark(Baseline = true), BenchmarkCategory("double 64x64 Tanh forward one")]
    public void ForwardOne_64x64_Tanh_Emitted() => EmittedDouble.DenseOne_64x64_Tanh(ref *_b.W, ref *_b.U1, ref *_b.Y1);

    /// <summary>Runtime single-sample forward.</summary>
    [Benchmark, BenchmarkCategory("double 64x64 Tanh forward one")]
    public void ForwardOne_64x64_Tanh_Runtime() => Dense.ForwardOne<S64x64, Tanh>(ref *_b.W, ref *_b.U1, ref *_b.Y1, ref *_b.Y1);

    /// <summary>Emitted tile backward.</summary>
    [Benchmark(Baseline = true), BenchmarkCategory("double 64x64 Tanh backward")]
    public void Backward_64x64_Tanh_Emitted() => EmittedDouble.DenseBackward_64x64_Tanh(ref *_b.W, ref *_b.Gw, ref *_b.U, ref *_b.Y0, ref *_b.Y0, ref *_b.Gy, ref *_b.Gu, ref *_b.Tt);

    /// <summary>Runtime tile backward.</summary>
    [Benchmark, BenchmarkCategory("double 64x64 Tanh backward")]
    public void Backward_64x64_Tanh_Runtime() => VectorDense.Backward<S64x64, Tanh>(ref *_b.W, ref *_b.Gw, ref *_b.U, ref *_b.Y0, ref *_b.Y0, ref *_b.Gy, ref *_b.Gu, ref *_b.Tt);

    // ---------------------------------------------------------------- 64 → 8 linear

    /// <summary>Emitted tile forward.</summary>
    [Benchmark(Baseline = true), BenchmarkCategory("double 64x8 Identity forward")]
    public void Forward_64x8_Identity_Emitted() => EmittedDouble.Dense_64x8_Linear(ref *_c.W, ref *_c.U, ref *_c.Y);

    /// <summary>Runtime tile forward.</summary>
    [Benchmark, BenchmarkCategory("double 64x8 Identity forward")]
    public void Forward_64x8_Identity_Runtime() => VectorDense.Forward<S64x8, Identity>(ref *_c.W, ref *_c.U, ref *_c.Y, ref *_c.Y);

    /// <summary>Emitted single-sample forward.</summary>
    [Benchmark(Baseline = true), BenchmarkCategory("double 64x8 Identity forward one")]
    public void ForwardOne_64x8_Identity_Emitted() => EmittedDouble.DenseOne_64x8_Linear(ref *_c.W, ref *_c.U1, ref *_c.Y1);

    /// <summary>Runtime single-sample forward.</summary>
    [Benchmark, BenchmarkCategory("double 64x8 Identity forward one")]
    public void ForwardOne_64x8_Identity_Runtime() => Dense.ForwardOne<S64x8, Identity>(ref *_c.W, ref *_c.U1, ref *_c.Y1, ref *_c.Y1);

    /// <summary>Emitted tile backward.</summary>
    [Benchmark(Baseline = true), BenchmarkCategory("double 64x8 Identity backward")]
    public void Backward_64x8_Identity_Emitted() => EmittedDouble.DenseBackward_64x8_Linear(ref *_c.W, ref *_c.Gw, ref *_c.U, ref *_c.Y0, ref *_c.Y0, ref *_c.Gy, ref *_c.Gu, ref *_c.Tt);

    /// <summary>Runtime tile backward.</summary>
    [Benchmark, BenchmarkCategory("double 64x8 Identity backward")]
    public void Backward_64x8_Identity_Runtime() => VectorDense.Backward<S64x8, Identity>(ref *_c.W, ref *_c.Gw, ref *_c.U, ref *_c.Y0, ref *_c.Y0, ref *_c.Gy, ref *_c.Gu, ref *_c.Tt);
}
