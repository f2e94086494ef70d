using System;
using System.Runtime.InteropServices;

namespace FlowGen.Kernels;

// The public members of every generated flow (its direct members and ICouplingFlow<T>), with their argument checks, written
// once: the generated class forwards each member here with its parameter array. The conventions they check are those of
// ICouplingFlow<T> (the first span fixes the row count; a wrong length names its span; contexts have n rows or one shared
// row; every output is overwritten).
public static partial class FlowDriver<T, TFlow>
{
    // ------------------------------------------------------------------ argument checks

    private static void CheckContext(int length)
    {
        if (ContextDim > 0) FlowTile.CheckLength(length, ContextDim, "ContextDim", "context");
        else FlowTile.CheckLength(length, 0, "an unconditional flow takes no context", "context");
    }

    private static void CheckContexts(int length, int n)
    {
        if (ContextDim == 0) FlowTile.CheckLength(length, 0, "an unconditional flow takes no context", "contexts");
        else if (length != ContextDim) FlowTile.CheckLength(length, n * ContextDim, $"n × ContextDim for n = {n} rows, or ContextDim for one shared context", "contexts");
    }

    private static void CheckRows(int length, int n, string name)
    {
        if (length != n * Dim) FlowTile.CheckLength(length, n * Dim, $"n × Dim for n = {n} rows", name);
    }

    private static void CheckOptionalRows(int length, int n, string name)
    {
        if (length != 0 && length != n * Dim) FlowTile.CheckLength(length, n * Dim, $"n × Dim for n = {n} rows, or 0 for none", name);
    }

    private static void CheckOptionalValues(int length, int n, string name)
    {
        if (length != 0 && length != n) FlowTile.CheckLength(length, n, $"n = {n}, one per row, or 0 for none", name);
    }

    private static void CheckValues(int length, int n, string name)
    {
        if (length != n) FlowTile.CheckLength(length, n, $"n = {n}, one per row", name);
    }

    private static void CheckVjp(int n, int upstream, int logDet, int parameters, int downstream, int gradContexts, string upstreamName, string downstreamName)
    {
        CheckOptionalRows(upstream, n, upstreamName);
        CheckOptionalValues(logDet, n, "gradLogDets");
        if (parameters != 0) FlowTile.CheckLength(parameters, TFlow.ParameterCount, "ParameterCount, or 0 for none", "gradParameters");
        CheckOptionalRows(downstream, n, downstreamName);
        if (gradContexts != 0) FlowTile.CheckLength(gradContexts, n * ContextDim, $"n × ContextDim for n = {n} rows, or 0 for none", "gradContexts");
    }

    private static ref T P(T[] parameters) => ref MemoryMarshal.GetArrayDataReference(parameters);

    /// <summary>The parameter-gradient span to accumulate into, cleared (every output is overwritten), or a per-thread scratch when the caller asked for none.</summary>
    private static ref T ClearedGradient(Span<T> gradParameters)
    {
        Span<T> g = gradParameters.IsEmpty ? UnusedParameterGradient() : gradParameters;
        g.Clear();
        return ref MemoryMarshal.GetReference(g);
    }

    private static int NonFiniteRows(ReadOnlySpan<T> values) => typeof(T) == typeof(float)
        ? FlowTile.CountNonFiniteRows(MemoryMarshal.Cast<T, float>(values), Dim)
        : FlowTile.CountNonFiniteRows(MemoryMarshal.Cast<T, double>(values), Dim);

    private static void FillGaussian(FlowRandom rng, Span<T> values)
    {
        if (typeof(T) == typeof(float)) rng.FillGaussian(MemoryMarshal.Cast<T, float>(values));
        else rng.FillGaussian(MemoryMarshal.Cast<T, double>(values));
    }

    // ------------------------------------------------------------------ one sample

    /// <summary><see cref="ICouplingFlow{T}.Forward(ReadOnlySpan{T}, ReadOnlySpan{T}, Span{T})"/>.</summary>
    public static T Forward(T[] parameters, ReadOnlySpan<T> x, ReadOnlySpan<T> context, Span<T> z)
    {
        FlowTile.CheckLength(x.Length, Dim, "Dim", nameof(x));
        CheckContext(context.Length);
        FlowTile.CheckLength(z.Length, Dim, "Dim", nameof(z));
        return ForwardOne(ref P(parameters), x, context, z, logProb: false);
    }

    /// <summary><see cref="ICouplingFlow{T}.Inverse(ReadOnlySpan{T}, ReadOnlySpan{T}, Span{T})"/>.</summary>
    public static T Inverse(T[] parameters, ReadOnlySpan<T> z, ReadOnlySpan<T> context, Span<T> x)
    {
        FlowTile.CheckLength(z.Length, Dim, "Dim", nameof(z));
        CheckContext(context.Length);
        FlowTile.CheckLength(x.Length, Dim, "Dim", nameof(x));
        return InverseOne(ref P(parameters), z, context, x, logProb: false);
    }

    /// <summary><see cref="ICouplingFlow{T}.LogProb(ReadOnlySpan{T}, ReadOnlySpan{T})"/>.</summary>
    public static T LogProb(T[] parameters, ReadOnlySpan<T> x, ReadOnlySpan<T> context)
    {
        FlowTile.CheckLength(x.Length, Dim, "Dim", nameof(x));
        CheckContext(context.Length);
        return ForwardOne(ref P(parameters), x, context, default, logProb: true);
    }

    // ------------------------------------------------------------------ batches

    /// <summary><see cref="ICouplingFlow{T}.Forward(ReadOnlySpan{T}, ReadOnlySpan{T}, Span{T}, Span{T})"/>.</summary>
    public static void Forward(T[] parameters, ReadOnlySpan<T> xs, ReadOnlySpan<T> contexts, Span<T> zs, Span<T> logDets)
    {
        int n = FlowTile.RowCount(xs.Length, Dim, nameof(xs));
        CheckContexts(contexts.Length, n);
        CheckRows(zs.Length, n, nameof(zs));
        CheckOptionalValues(logDets.Length, n, nameof(logDets));
        ForwardBatch(ref P(parameters), xs, contexts, zs, logDets, n, logProb: false);
    }

    /// <summary><see cref="ICouplingFlow{T}.Inverse(ReadOnlySpan{T}, ReadOnlySpan{T}, Span{T}, Span{T})"/>.</summary>
    public static int Inverse(T[] parameters, ReadOnlySpan<T> zs, ReadOnlySpan<T> contexts, Span<T> xs, Span<T> logDets)
    {
        int n = FlowTile.RowCount(zs.Length, Dim, nameof(zs));
        CheckContexts(contexts.Length, n);
        CheckRows(xs.Length, n, nameof(xs));
        CheckOptionalValues(logDets.Length, n, nameof(logDets));
        InverseBatch(ref P(parameters), zs, contexts, xs, logDets, n, logProb: false);
        return NonFiniteRows(xs);
    }

    /// <summary><see cref="ICouplingFlow{T}.LogProb(ReadOnlySpan{T}, ReadOnlySpan{T}, Span{T})"/>.</summary>
    public static void LogProb(T[] parameters, ReadOnlySpan<T> xs, ReadOnlySpan<T> contexts, Span<T> logProbs)
    {
        int n = FlowTile.RowCount(xs.Length, Dim, nameof(xs));
        CheckContexts(contexts.Length, n);
        CheckValues(logProbs.Length, n, nameof(logProbs));
        ForwardBatch(ref P(parameters), xs, contexts, default, logProbs, n, logProb: true);
    }

    /// <summary><see cref="ICouplingFlow{T}.Sample"/>.</summary>
    public static int Sample(T[] parameters, Span<T> xs, ReadOnlySpan<T> contexts, Span<T> logProbs, FlowRandom rng)
    {
        ArgumentNullException.ThrowIfNull(rng);
        int n = FlowTile.RowCount(xs.Length, Dim, nameof(xs));
        CheckContexts(contexts.Length, n);
        CheckOptionalValues(logProbs.Length, n, nameof(logProbs));
        if (TFlow.HasStandardNormalBase) FillGaussian(rng, xs);
        else TFlow.BaseSample(ref P(parameters), xs, -1, rng);
        InverseBatch(ref P(parameters), xs, contexts, xs, logProbs, n, logProb: !logProbs.IsEmpty);
        return NonFiniteRows(xs);
    }

    // ------------------------------------------------------------------ gradients

    /// <summary><see cref="ICouplingFlow{T}.NllGradient"/>.</summary>
    public static double NllGradient(T[] parameters, ReadOnlySpan<T> xs, ReadOnlySpan<T> contexts, Span<T> gradParameters, T weight)
    {
        int n = FlowTile.RowCount(xs.Length, Dim, nameof(xs));
        CheckContexts(contexts.Length, n);
        FlowTile.CheckLength(gradParameters.Length, TFlow.ParameterCount, "ParameterCount", nameof(gradParameters));
        ref T gp = ref ClearedGradient(gradParameters);
        return n == 0 ? 0 : ForwardBackwardBatch(ref P(parameters), xs, contexts, default, default, ref gp, default, default, n, weight, nll: true);
    }

    /// <summary><see cref="ICouplingFlow{T}.ForwardVjp"/>.</summary>
    public static void ForwardVjp(T[] parameters, ReadOnlySpan<T> xs, ReadOnlySpan<T> contexts, ReadOnlySpan<T> gradZs, ReadOnlySpan<T> gradLogDets, Span<T> gradParameters, Span<T> gradXs, Span<T> gradContexts)
    {
        int n = FlowTile.RowCount(xs.Length, Dim, nameof(xs));
        CheckContexts(contexts.Length, n);
        CheckVjp(n, gradZs.Length, gradLogDets.Length, gradParameters.Length, gradXs.Length, gradContexts.Length, nameof(gradZs), nameof(gradXs));
        ForwardBackwardBatch(ref P(parameters), xs, contexts, gradZs, gradLogDets, ref ClearedGradient(gradParameters), gradXs, gradContexts, n, default, nll: false);
    }

    /// <summary><see cref="ICouplingFlow{T}.InverseVjp"/>.</summary>
    public static void InverseVjp(T[] parameters, ReadOnlySpan<T> zs, ReadOnlySpan<T> contexts, ReadOnlySpan<T> gradXs, ReadOnlySpan<T> gradLogDets, Span<T> gradParameters, Span<T> gradZs, Span<T> gradContexts)
    {
        int n = FlowTile.RowCount(zs.Length, Dim, nameof(zs));
        CheckContexts(contexts.Length, n);
        CheckVjp(n, gradXs.Length, gradLogDets.Length, gradParameters.Length, gradZs.Length, gradContexts.Length, nameof(gradXs), nameof(gradZs));
        InverseBackwardBatch(ref P(parameters), zs, contexts, gradXs, gradLogDets, ref ClearedGradient(gradParameters), gradZs, gradContexts, n);
    }

    // ------------------------------------------------------------------ data-dependent initialisation

    /// <summary><see cref="ICouplingFlow{T}.InitializeFromData"/>; returns false (and does nothing) for a flow without data-dependent layers.</summary>
    public static bool InitializeFromData(T[] parameters, ReadOnlySpan<T> xs, ReadOnlySpan<T> contexts)
    {
        int n = FlowTile.RowCount(xs.Length, Dim, nameof(xs));
        CheckContexts(contexts.Length, n);
        if (!TFlow.HasDataInitialization) return false;
        if (n < 2) throw new ArgumentException($"InitializeFromData needs at least 2 rows; xs has {n}.", nameof(xs));
        if (ContextDim > 0 && contexts.Length == ContextDim && n > 1)
        {
            // one shared context: the layer-by-layer initialisation reads a context row per sample
            var rows = new T[n * ContextDim];
            for (int i = 0; i < n; i++) contexts.CopyTo(rows.AsSpan(i * ContextDim));
            contexts = rows;
        }
        TFlow.InitializeFromData(parameters, xs, contexts, n);
        return true;
    }
}
