using System;
using System.Runtime.InteropServices;

namespace FlowGen.Kernels;

// The ICouplingFlow<T> members of every generated flow, with their argument checks, written once: the generated class
// forwards each interface member here with its parameter array.
public static partial class FlowDriver<T, TFlow>
{
    private static void CheckContexts(int length, int n)
    {
        if (ContextDim > 0) FlowTile.CheckLength(length, n * ContextDim, "n × ContextDim", "contexts");
        else FlowTile.CheckLength(length, 0, "an unconditional flow takes no context", "contexts");
    }

    private static void CheckVjp(int n, int upstream, int logDet, int parameters, int downstream, int gradContexts, string upstreamName, string downstreamName)
    {
        if (upstream != 0) FlowTile.CheckLength(upstream, n * Dim, "n × Dim, or 0", upstreamName);
        if (logDet != 0) FlowTile.CheckLength(logDet, n, "n, or 0", "gradLogDet");
        if (parameters != 0) FlowTile.CheckLength(parameters, TFlow.ParameterCount, "ParameterCount, or 0", "gradParameters");
        if (downstream != 0) FlowTile.CheckLength(downstream, n * Dim, "n × Dim, or 0", downstreamName);
        if (gradContexts != 0) FlowTile.CheckLength(gradContexts, n * ContextDim, "n × ContextDim, or 0", "gradContexts");
    }

    private static ref T GradientOrScratch(Span<T> gradParameters) =>
        ref MemoryMarshal.GetReference(gradParameters.IsEmpty ? UnusedParameterGradient() : gradParameters);

    private static int NonFiniteRows(ReadOnlySpan<T> values) => typeof(T) == typeof(float)
        ? FlowTile.CountNonFiniteRows(MemoryMarshal.Cast<T, float>(values), Dim)
        : FlowTile.CountNonFiniteRows(MemoryMarshal.Cast<T, double>(values), Dim);

    private static void FillGaussian(FlowRandom rng, Span<T> values)
    {
        if (typeof(T) == typeof(float)) rng.FillGaussian(MemoryMarshal.Cast<T, float>(values));
        else rng.FillGaussian(MemoryMarshal.Cast<T, double>(values));
    }

    /// <summary><see cref="ICouplingFlow{T}.Forward"/>.</summary>
    public static void Forward(T[] parameters, ReadOnlySpan<T> xs, ReadOnlySpan<T> contexts, Span<T> zs, Span<T> logDets)
    {
        int n = FlowTile.RowCount(xs.Length, Dim, nameof(xs));
        CheckContexts(contexts.Length, n);
        FlowTile.CheckLength(zs.Length, xs.Length, "xs.Length", nameof(zs));
        if (!logDets.IsEmpty) FlowTile.CheckLength(logDets.Length, n, "n, or 0 for none", nameof(logDets));
        ForwardBatch(ref MemoryMarshal.GetArrayDataReference(parameters), xs, contexts, zs, logDets, n, logProb: false);
    }

    /// <summary><see cref="ICouplingFlow{T}.Inverse"/>.</summary>
    public static int Inverse(T[] parameters, ReadOnlySpan<T> zs, ReadOnlySpan<T> contexts, Span<T> xs, Span<T> logDets)
    {
        int n = FlowTile.RowCount(zs.Length, Dim, nameof(zs));
        CheckContexts(contexts.Length, n);
        FlowTile.CheckLength(xs.Length, zs.Length, "zs.Length", nameof(xs));
        if (!logDets.IsEmpty) FlowTile.CheckLength(logDets.Length, n, "n, or 0 for none", nameof(logDets));
        InverseBatch(ref MemoryMarshal.GetArrayDataReference(parameters), zs, contexts, xs, logDets, n, logProb: false);
        return NonFiniteRows(xs);
    }

    /// <summary><see cref="ICouplingFlow{T}.LogProb"/>.</summary>
    public static void LogProb(T[] parameters, ReadOnlySpan<T> xs, ReadOnlySpan<T> contexts, Span<T> logProbs)
    {
        int n = logProbs.Length;
        FlowTile.CheckLength(xs.Length, n * Dim, "logProbs.Length × Dim", nameof(xs));
        CheckContexts(contexts.Length, n);
        ForwardBatch(ref MemoryMarshal.GetArrayDataReference(parameters), xs, contexts, default, logProbs, n, logProb: true);
    }

    /// <summary><see cref="ICouplingFlow{T}.Sample"/>.</summary>
    public static int Sample(T[] parameters, ReadOnlySpan<T> contexts, Span<T> xs, FlowRandom rng)
    {
        ArgumentNullException.ThrowIfNull(rng);
        int n = FlowTile.RowCount(xs.Length, Dim, nameof(xs));
        CheckContexts(contexts.Length, n);
        FillGaussian(rng, xs);
        InverseBatch(ref MemoryMarshal.GetArrayDataReference(parameters), xs, contexts, xs, default, n, logProb: false);
        return NonFiniteRows(xs);
    }

    /// <summary><see cref="ICouplingFlow{T}.NllGradient"/>.</summary>
    public static double NllGradient(T[] parameters, ReadOnlySpan<T> xs, ReadOnlySpan<T> contexts, Span<T> gradient, T weight)
    {
        int n = FlowTile.RowCount(xs.Length, Dim, nameof(xs));
        CheckContexts(contexts.Length, n);
        FlowTile.CheckLength(gradient.Length, TFlow.ParameterCount, "ParameterCount", nameof(gradient));
        return n == 0 ? 0 : ForwardBackwardBatch(ref MemoryMarshal.GetArrayDataReference(parameters), xs, contexts, default, default, ref MemoryMarshal.GetReference(gradient), default, default, n, weight, nll: true);
    }

    /// <summary><see cref="ICouplingFlow{T}.ForwardVjp"/>.</summary>
    public static void ForwardVjp(T[] parameters, ReadOnlySpan<T> xs, ReadOnlySpan<T> contexts, ReadOnlySpan<T> gradZ, ReadOnlySpan<T> gradLogDet, Span<T> gradParameters, Span<T> gradX, Span<T> gradContexts)
    {
        int n = FlowTile.RowCount(xs.Length, Dim, nameof(xs));
        CheckContexts(contexts.Length, n);
        CheckVjp(n, gradZ.Length, gradLogDet.Length, gradParameters.Length, gradX.Length, gradContexts.Length, nameof(gradZ), nameof(gradX));
        ForwardBackwardBatch(ref MemoryMarshal.GetArrayDataReference(parameters), xs, contexts, gradZ, gradLogDet, ref GradientOrScratch(gradParameters), gradX, gradContexts, n, default, nll: false);
    }

    /// <summary><see cref="ICouplingFlow{T}.InverseVjp"/>.</summary>
    public static void InverseVjp(T[] parameters, ReadOnlySpan<T> zs, ReadOnlySpan<T> contexts, ReadOnlySpan<T> gradX, ReadOnlySpan<T> gradLogDet, Span<T> gradParameters, Span<T> gradZ, Span<T> gradContexts)
    {
        int n = FlowTile.RowCount(zs.Length, Dim, nameof(zs));
        CheckContexts(contexts.Length, n);
        CheckVjp(n, gradX.Length, gradLogDet.Length, gradParameters.Length, gradZ.Length, gradContexts.Length, nameof(gradX), nameof(gradZ));
        InverseBackwardBatch(ref MemoryMarshal.GetArrayDataReference(parameters), zs, contexts, gradX, gradLogDet, ref GradientOrScratch(gradParameters), gradZ, gradContexts, n);
    }
}
