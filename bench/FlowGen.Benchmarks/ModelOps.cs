using System;
using System.Collections.Generic;
using System.Numerics;

namespace FlowGen.Benchmarks;

/// <summary>
/// A thin, allocation-free adapter over one generated model's public batch API. Implemented by small structs, so a generic
/// benchmark instantiated with one of them is specialised by the JIT and calls the generated methods directly (no interface
/// dispatch, which would otherwise be visible at batch 1).
/// </summary>
public interface IModelOps<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>Short model name: R8, R2 or L64.</summary>
    static abstract string Name { get; }

    /// <summary>Coordinates per sample.</summary>
    static abstract int Dim { get; }

    /// <summary>Number of parameters.</summary>
    static abstract int ParameterCount { get; }

    /// <summary>The parameter tensors of the model (docs/model.md §5).</summary>
    static abstract IReadOnlyList<ParameterTensor> Tensors { get; }

    /// <summary>Creates the model from a seed (docs/model.md §6).</summary>
    void Create(int seed);

    /// <summary>The model as the generic interface (for setup code only; never on a timed path).</summary>
    ICouplingFlow<T> Flow { get; }

    /// <summary>The parameters (writable).</summary>
    Span<T> Parameters { get; }

    /// <summary>log p(x) for each row of xs.</summary>
    void LogProb(ReadOnlySpan<T> xs, Span<T> logProbs);

    /// <summary>z = f(x) and log|det| for each row.</summary>
    void Forward(ReadOnlySpan<T> xs, Span<T> zs, Span<T> logDets);

    /// <summary>x = f⁻¹(z) for each row.</summary>
    void Inverse(ReadOnlySpan<T> zs, Span<T> xs);

    /// <summary>xs.Length / Dim samples.</summary>
    void Sample(Span<T> xs, FlowRandom rng);

    /// <summary>Mean NLL of the rows; adds its gradient to <paramref name="gradient"/>.</summary>
    T NllGradient(ReadOnlySpan<T> xs, Span<T> gradient);
}

#pragma warning disable CS1591 // the adapters are one-liners over the generated API
public struct R8F : IModelOps<float>
{
    private R8Float _m;
    public static string Name => "R8";
    public static int Dim => R8Float.Dim;
    public static int ParameterCount => R8Float.ParameterCount;
    public static IReadOnlyList<ParameterTensor> Tensors => R8Float.ParameterTensors;
    public void Create(int seed) => _m = new R8Float(seed);
    public readonly ICouplingFlow<float> Flow => _m;
    public readonly Span<float> Parameters => _m.Parameters;
    public readonly void LogProb(ReadOnlySpan<float> xs, Span<float> logProbs) => _m.LogProb(xs, logProbs);
    public readonly void Forward(ReadOnlySpan<float> xs, Span<float> zs, Span<float> logDets) => _m.Forward(xs, zs, logDets);
    public readonly void Inverse(ReadOnlySpan<float> zs, Span<float> xs) => _m.Inverse(zs, xs);
    public readonly void Sample(Span<float> xs, FlowRandom rng) => _m.Sample(xs, rng);
    public readonly float NllGradient(ReadOnlySpan<float> xs, Span<float> gradient) => _m.NllGradient(xs, gradient);
}

public struct R8D : IModelOps<double>
{
    private R8Double _m;
    public static string Name => "R8";
    public static int Dim => R8Double.Dim;
    public static int ParameterCount => R8Double.ParameterCount;
    public static IReadOnlyList<ParameterTensor> Tensors => R8Double.ParameterTensors;
    public void Create(int seed) => _m = new R8Double(seed);
    public readonly ICouplingFlow<double> Flow => _m;
    public readonly Span<double> Parameters => _m.Parameters;
    public readonly void LogProb(ReadOnlySpan<double> xs, Span<double> logProbs) => _m.LogProb(xs, logProbs);
    public readonly void Forward(ReadOnlySpan<double> xs, Span<double> zs, Span<double> logDets) => _m.Forward(xs, zs, logDets);
    public readonly void Inverse(ReadOnlySpan<double> zs, Span<double> xs) => _m.Inverse(zs, xs);
    public readonly void Sample(Span<double> xs, FlowRandom rng) => _m.Sample(xs, rng);
    public readonly double NllGradient(ReadOnlySpan<double> xs, Span<double> gradient) => _m.NllGradient(xs, gradient);
}

public struct R2F : IModelOps<float>
{
    private R2Float _m;
    public static string Name => "R2";
    public static int Dim => R2Float.Dim;
    public static int ParameterCount => R2Float.ParameterCount;
    public static IReadOnlyList<ParameterTensor> Tensors => R2Float.ParameterTensors;
    public void Create(int seed) => _m = new R2Float(seed);
    public readonly ICouplingFlow<float> Flow => _m;
    public readonly Span<float> Parameters => _m.Parameters;
    public readonly void LogProb(ReadOnlySpan<float> xs, Span<float> logProbs) => _m.LogProb(xs, logProbs);
    public readonly void Forward(ReadOnlySpan<float> xs, Span<float> zs, Span<float> logDets) => _m.Forward(xs, zs, logDets);
    public readonly void Inverse(ReadOnlySpan<float> zs, Span<float> xs) => _m.Inverse(zs, xs);
    public readonly void Sample(Span<float> xs, FlowRandom rng) => _m.Sample(xs, rng);
    public readonly float NllGradient(ReadOnlySpan<float> xs, Span<float> gradient) => _m.NllGradient(xs, gradient);
}

public struct R2D : IModelOps<double>
{
    private R2Double _m;
    public static string Name => "R2";
    public static int Dim => R2Double.Dim;
    public static int ParameterCount => R2Double.ParameterCount;
    public static IReadOnlyList<ParameterTensor> Tensors => R2Double.ParameterTensors;
    public void Create(int seed) => _m = new R2Double(seed);
    public readonly ICouplingFlow<double> Flow => _m;
    public readonly Span<double> Parameters => _m.Parameters;
    public readonly void LogProb(ReadOnlySpan<double> xs, Span<double> logProbs) => _m.LogProb(xs, logProbs);
    public readonly void Forward(ReadOnlySpan<double> xs, Span<double> zs, Span<double> logDets) => _m.Forward(xs, zs, logDets);
    public readonly void Inverse(ReadOnlySpan<double> zs, Span<double> xs) => _m.Inverse(zs, xs);
    public readonly void Sample(Span<double> xs, FlowRandom rng) => _m.Sample(xs, rng);
    public readonly double NllGradient(ReadOnlySpan<double> xs, Span<double> gradient) => _m.NllGradient(xs, gradient);
}

public struct L64F : IModelOps<float>
{
    private L64Float _m;
    public static string Name => "L64";
    public static int Dim => L64Float.Dim;
    public static int ParameterCount => L64Float.ParameterCount;
    public static IReadOnlyList<ParameterTensor> Tensors => L64Float.ParameterTensors;
    public void Create(int seed) => _m = new L64Float(seed);
    public readonly ICouplingFlow<float> Flow => _m;
    public readonly Span<float> Parameters => _m.Parameters;
    public readonly void LogProb(ReadOnlySpan<float> xs, Span<float> logProbs) => _m.LogProb(xs, logProbs);
    public readonly void Forward(ReadOnlySpan<float> xs, Span<float> zs, Span<float> logDets) => _m.Forward(xs, zs, logDets);
    public readonly void Inverse(ReadOnlySpan<float> zs, Span<float> xs) => _m.Inverse(zs, xs);
    public readonly void Sample(Span<float> xs, FlowRandom rng) => _m.Sample(xs, rng);
    public readonly float NllGradient(ReadOnlySpan<float> xs, Span<float> gradient) => _m.NllGradient(xs, gradient);
}

public struct L64D : IModelOps<double>
{
    private L64Double _m;
    public static string Name => "L64";
    public static int Dim => L64Double.Dim;
    public static int ParameterCount => L64Double.ParameterCount;
    public static IReadOnlyList<ParameterTensor> Tensors => L64Double.ParameterTensors;
    public void Create(int seed) => _m = new L64Double(seed);
    public readonly ICouplingFlow<double> Flow => _m;
    public readonly Span<double> Parameters => _m.Parameters;
    public readonly void LogProb(ReadOnlySpan<double> xs, Span<double> logProbs) => _m.LogProb(xs, logProbs);
    public readonly void Forward(ReadOnlySpan<double> xs, Span<double> zs, Span<double> logDets) => _m.Forward(xs, zs, logDets);
    public readonly void Inverse(ReadOnlySpan<double> zs, Span<double> xs) => _m.Inverse(zs, xs);
    public readonly void Sample(Span<double> xs, FlowRandom rng) => _m.Sample(xs, rng);
    public readonly double NllGradient(ReadOnlySpan<double> xs, Span<double> gradient) => _m.NllGradient(xs, gradient);
}
#pragma warning restore CS1591
