using System;
using System.Collections.Generic;

namespace FlowGen.Tests;

/// <summary>
/// An <see cref="ICouplingFlow{T}"/> (float) that forwards every member to another flow; test flows derive from it and
/// override the calls they observe or break (TrainingTests.FaultyFlow, ParallelTests.SpyFlow).
/// </summary>
internal abstract class ForwardingFlow(ICouplingFlow<float> inner) : ICouplingFlow<float>
{
    protected ICouplingFlow<float> Inner { get; } = inner;

    public int Dim => Inner.Dim;
    public int ContextDim => Inner.ContextDim;
    public int ParameterCount => Inner.ParameterCount;
    public string StackDescription => Inner.StackDescription;
    public string StackSpec => Inner.StackSpec;
    public ulong StackHash => Inner.StackHash;
    public string ModelName => Inner.ModelName;
    public Span<float> Parameters => Inner.Parameters;
    public IReadOnlyList<ParameterTensor> ParameterTensors => Inner.ParameterTensors;
    public bool IsDataInitialized { get => Inner.IsDataInitialized; set => Inner.IsDataInitialized = value; }
    public void ResetParameters(ulong seed) => Inner.ResetParameters(seed);
    public float Forward(ReadOnlySpan<float> x, ReadOnlySpan<float> context, Span<float> z) => Inner.Forward(x, context, z);
    public float Inverse(ReadOnlySpan<float> z, ReadOnlySpan<float> context, Span<float> x) => Inner.Inverse(z, context, x);
    public float LogProb(ReadOnlySpan<float> x, ReadOnlySpan<float> context) => Inner.LogProb(x, context);
    public void Forward(ReadOnlySpan<float> xs, ReadOnlySpan<float> contexts, Span<float> zs, Span<float> logDets) => Inner.Forward(xs, contexts, zs, logDets);
    public int Inverse(ReadOnlySpan<float> zs, ReadOnlySpan<float> contexts, Span<float> xs, Span<float> logDets) => Inner.Inverse(zs, contexts, xs, logDets);
    public virtual void LogProb(ReadOnlySpan<float> xs, ReadOnlySpan<float> contexts, Span<float> logProbs) => Inner.LogProb(xs, contexts, logProbs);
    public virtual int Sample(Span<float> xs, ReadOnlySpan<float> contexts, Span<float> logProbs, FlowRandom rng) => Inner.Sample(xs, contexts, logProbs, rng);
    public virtual double NllGradient(ReadOnlySpan<float> xs, ReadOnlySpan<float> contexts, Span<float> gradParameters, float weight) => Inner.NllGradient(xs, contexts, gradParameters, weight);
    public void ForwardVjp(ReadOnlySpan<float> xs, ReadOnlySpan<float> contexts, ReadOnlySpan<float> gradZs, ReadOnlySpan<float> gradLogDets, Span<float> gradParameters, Span<float> gradXs, Span<float> gradContexts) =>
        Inner.ForwardVjp(xs, contexts, gradZs, gradLogDets, gradParameters, gradXs, gradContexts);
    public void InverseVjp(ReadOnlySpan<float> zs, ReadOnlySpan<float> contexts, ReadOnlySpan<float> gradXs, ReadOnlySpan<float> gradLogDets, Span<float> gradParameters, Span<float> gradZs, Span<float> gradContexts) =>
        Inner.InverseVjp(zs, contexts, gradXs, gradLogDets, gradParameters, gradZs, gradContexts);
    public void InitializeFromData(ReadOnlySpan<float> xs, ReadOnlySpan<float> contexts) => Inner.InitializeFromData(xs, contexts);
}
