using System;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace FlowGen.Kernels;

// The class-conditional members of a flow with a Gaussian-mixture base (IGaussianMixtureFlow<T>; docs/model.md §11.3), with
// their argument checks. The generated class has them only when its base is a mixture; the joints log(w_c·p_c(z)) come from
// the model's base (IFlowKernels<T>.BaseComponentLogJointsOne), one sample at a time.
public static partial class FlowDriver<T, TFlow>
{
    private static int Components => TFlow.BaseComponents;

    private static void CheckMixture()
    {
        if (Components == 0) throw new NotSupportedException("The flow's base is not a Gaussian mixture.");
    }

    private static void CheckComponent(int component, string name)
    {
        if ((uint)component >= (uint)Components)
            throw new ArgumentOutOfRangeException(name, component, $"{name} must be between 0 and {Components - 1} (the base has {Components} components).");
    }

    /// <summary>One sample through the flow, data → latent, leaving z in the rows of buffer (FinalRows); returns log|det ∂z/∂x|.</summary>
    private static T ForwardRows(ref T p, ReadOnlySpan<T> xIn, ReadOnlySpan<T> context, Span<T> buffer)
    {
        xIn.CopyTo(buffer);
        ref T x = ref MemoryMarshal.GetReference(buffer);
        T ld = default;
        TFlow.ForwardOne(ref p, ref x, ref MemoryMarshal.GetReference(context), ref Unsafe.Add(ref x, Dim), ref ld);
        return ld;
    }

    /// <summary><see cref="IGaussianMixtureFlow{T}.LogProb(ReadOnlySpan{T}, ReadOnlySpan{T}, int)"/>: log p_c(f(x)) + log|det ∂z/∂x|.</summary>
    public static T LogProbComponent(T[] parameters, ReadOnlySpan<T> x, ReadOnlySpan<T> context, int component)
    {
        CheckMixture();
        FlowTile.CheckLength(x.Length, Dim, "Dim", nameof(x));
        CheckContext(context.Length);
        CheckComponent(component, nameof(component));
        ref T p = ref P(parameters);
        Span<T> buffer = SingleOnStack ? stackalloc T[SingleScratch] : t_single ??= new T[SingleScratch];
        T ld = ForwardRows(ref p, x, context, buffer);
        Span<T> joints = stackalloc T[Components];
        TFlow.BaseComponentLogJointsOne(ref p, ref MemoryMarshal.GetReference(buffer), joints);
        return FlowTile.CanonicalNaN(joints[component] - TFlow.BaseLogWeight(ref p, component) + ld);
    }

    /// <summary><see cref="IGaussianMixtureFlow{T}.ComponentLogPosteriors"/>: log p(c | x) = log(w_c·p_c(z)) − log Σ_j w_j·p_j(z).</summary>
    public static void ComponentLogPosteriors(T[] parameters, ReadOnlySpan<T> xs, ReadOnlySpan<T> contexts, Span<T> posteriors)
    {
        CheckMixture();
        int n = FlowTile.RowCount(xs.Length, Dim, nameof(xs));
        CheckContexts(contexts.Length, n);
        if (posteriors.Length != n * Components) FlowTile.CheckLength(posteriors.Length, n * Components, $"n × Components for n = {n} rows", nameof(posteriors));
        ref T p = ref P(parameters);
        Span<T> buffer = SingleOnStack ? stackalloc T[SingleScratch] : t_single ??= new T[SingleScratch];
        for (int i = 0; i < n; i++)
        {
            ForwardRows(ref p, xs.Slice(i * Dim, Dim), ContextRow(contexts, i), buffer);
            Span<T> row = posteriors.Slice(i * Components, Components);
            TFlow.BaseComponentLogJointsOne(ref p, ref MemoryMarshal.GetReference(buffer), row);
            T lse = LogSumExp(row);
            for (int c = 0; c < row.Length; c++) row[c] = FlowTile.CanonicalNaN(row[c] - lse);
        }
    }

    /// <summary><see cref="IGaussianMixtureFlow{T}.Classify"/>: the component of largest posterior (the first on ties; −1 where a joint is NaN).</summary>
    public static void Classify(T[] parameters, ReadOnlySpan<T> xs, ReadOnlySpan<T> contexts, Span<int> labels)
    {
        CheckMixture();
        int n = FlowTile.RowCount(xs.Length, Dim, nameof(xs));
        CheckContexts(contexts.Length, n);
        CheckValues(labels.Length, n, nameof(labels));
        ref T p = ref P(parameters);
        Span<T> buffer = SingleOnStack ? stackalloc T[SingleScratch] : t_single ??= new T[SingleScratch];
        Span<T> joints = stackalloc T[Components];
        for (int i = 0; i < n; i++)
        {
            ForwardRows(ref p, xs.Slice(i * Dim, Dim), ContextRow(contexts, i), buffer);
            TFlow.BaseComponentLogJointsOne(ref p, ref MemoryMarshal.GetReference(buffer), joints);
            int best = 0;
            for (int c = 1; c < joints.Length; c++) if (joints[c] > joints[best]) best = c;
            foreach (T j in joints) if (T.IsNaN(j)) best = -1;
            labels[i] = best;
        }
    }

    /// <summary><see cref="IGaussianMixtureFlow{T}.Sample(Span{T}, ReadOnlySpan{T}, int, FlowRandom)"/>: z ~ p_c, x = f⁻¹(z).</summary>
    public static int SampleComponent(T[] parameters, Span<T> xs, ReadOnlySpan<T> contexts, int component, FlowRandom rng)
    {
        CheckMixture();
        ArgumentNullException.ThrowIfNull(rng);
        int n = FlowTile.RowCount(xs.Length, Dim, nameof(xs));
        CheckContexts(contexts.Length, n);
        CheckComponent(component, nameof(component));
        TFlow.BaseSample(ref P(parameters), xs, component, rng);
        InverseBatch(ref P(parameters), xs, contexts, xs, default, n, logProb: false);
        return NonFiniteRows(xs);
    }

    /// <summary><see cref="IGaussianMixtureFlow{T}.LabeledNllGradient"/>.</summary>
    public static (double Labeled, double Unlabeled) LabeledNllGradient(T[] parameters, ReadOnlySpan<T> xs, ReadOnlySpan<T> contexts, ReadOnlySpan<int> labels,
        Span<T> gradParameters, T labeledWeight, T unlabeledWeight)
    {
        CheckMixture();
        int n = FlowTile.RowCount(xs.Length, Dim, nameof(xs));
        CheckContexts(contexts.Length, n);
        CheckValues(labels.Length, n, nameof(labels));
        foreach (int label in labels)
        {
            if (label < -1 || label >= Components)
                throw new ArgumentException($"labels must be −1 (unlabelled) or a component between 0 and {Components - 1}; found {label}.", nameof(labels));
        }
        FlowTile.CheckLength(gradParameters.Length, TFlow.ParameterCount, "ParameterCount", nameof(gradParameters));
        ref T gp = ref ClearedGradient(gradParameters);
        if (n == 0) return (0, 0);
        double unlabeled = ForwardBackwardCore(ref P(parameters), xs, contexts, default, default, ref gp, default, default, n, unlabeledWeight, nll: true, labels, labeledWeight, out double labeled);
        return (labeled, unlabeled);
    }

    /// <summary>log Σ exp(values), by the largest value (−∞ when every value is −∞; NaN when a value is NaN).</summary>
    private static T LogSumExp(ReadOnlySpan<T> values)
    {
        T max = T.NegativeInfinity;
        foreach (T v in values)
        {
            if (T.IsNaN(v)) return v;
            if (v > max) max = v;
        }
        if (T.IsNegativeInfinity(max)) return max;
        T sum = T.Zero;
        foreach (T v in values) sum += T.Exp(v - max);
        return max + T.Log(sum);
    }
}
