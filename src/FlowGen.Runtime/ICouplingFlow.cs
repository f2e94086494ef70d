using System;
using System.Collections.Generic;

namespace FlowGen;

/// <summary>
/// What every generated flow implements, for code that works with any model (trainers, serialisers, tools).
/// The generated class also has direct members (<c>MyFlow.Dim</c> as a constant, <c>Forward(x, z)</c> without a context for an
/// unconditional flow, …); prefer those in application code.
/// </summary>
/// <remarks>
/// <para>The conventions of every member (README "API conventions", docs/model.md §10):</para>
/// <list type="bullet">
/// <item>Arguments come in one order: the primary span, then the contexts, then further inputs (upstream gradients), then the
/// outputs, then scalar options (a weight, a random generator).</item>
/// <item>The primary span (the first argument: xs, zs, or for <see cref="Sample"/> the samples written) fixes the row count n;
/// its length must be a multiple of Dim. Every other span is checked against n, and a wrong length throws
/// <see cref="ArgumentException"/> naming that span and the expected size.</item>
/// <item>Batch spans are row-major: sample i occupies [i·Dim, (i+1)·Dim) of xs and zs, [i·ContextDim, (i+1)·ContextDim) of contexts.</item>
/// <item><c>contexts</c> holds n rows, or one row (ContextDim values) that every sample shares. An unconditional flow takes an
/// empty span. Per-sample context gradients (<c>gradContexts</c>) always have n rows.</item>
/// <item>Every output span is overwritten, never accumulated into — parameter gradients included. An optional output (one
/// documented as "may be empty") that is empty is not computed; an optional input that is empty counts as zero.</item>
/// <item>Single-sample members return the log-determinant of the map they apply, or the log-density.</item>
/// </list>
/// </remarks>
/// <typeparam name="T"><see cref="float"/> or <see cref="double"/>.</typeparam>
public interface ICouplingFlow<T> where T : unmanaged
{
    /// <summary>Number of coordinates of a data point.</summary>
    int Dim { get; }

    /// <summary>Length of the context vector (0 for an unconditional flow).</summary>
    int ContextDim { get; }

    /// <summary>Number of parameters (length of <see cref="Parameters"/>).</summary>
    int ParameterCount { get; }

    /// <summary>A human-readable description of the declared stack (one line per layer).</summary>
    string StackDescription { get; }

    /// <summary>
    /// The stack specification: one line of versioned JSON (schema <c>flowgen.stack</c>, docs/model.md §8) giving every layer's
    /// kind and options. Checkpoints and safetensors files carry it; interop/python rebuilds the model from it.
    /// </summary>
    string StackSpec { get; }

    /// <summary>FNV-1a hash of <see cref="StackSpec"/>: identifies the architecture in checkpoints.</summary>
    ulong StackHash { get; }

    /// <summary>The model's name (the declaring class's full name).</summary>
    string ModelName { get; }

    /// <summary>The parameters, one flat span in the layout of docs/model.md §5. Writable.</summary>
    Span<T> Parameters { get; }

    /// <summary>The parameter tensors with names, offsets and shapes.</summary>
    IReadOnlyList<ParameterTensor> ParameterTensors { get; }

    /// <summary>Re-initialises every parameter deterministically from <paramref name="seed"/> (docs/model.md §6); every coupling starts as the identity.</summary>
    void ResetParameters(ulong seed);

    /// <summary>Maps one data point to the latent space, z = f(x) (z may be the same memory as x). Returns log|det ∂z/∂x|.</summary>
    /// <param name="x">The data point (Dim values).</param>
    /// <param name="context">The context (ContextDim values; empty for an unconditional flow).</param>
    /// <param name="z">Receives the latent point (Dim values).</param>
    T Forward(ReadOnlySpan<T> x, ReadOnlySpan<T> context, Span<T> z);

    /// <summary>Maps one latent point to the data space, x = f⁻¹(z) (x may be the same memory as z). Returns log|det ∂x/∂z|.</summary>
    /// <remarks>Where a numerical inverse finds no bracket, x and the returned value are NaN.</remarks>
    T Inverse(ReadOnlySpan<T> z, ReadOnlySpan<T> context, Span<T> x);

    /// <summary>Log-density of one data point: log p_Z(f(x)) + log|det ∂z/∂x| with the standard-normal base.</summary>
    T LogProb(ReadOnlySpan<T> x, ReadOnlySpan<T> context);

    /// <summary>Maps a batch to the latent space: zs = f(xs) (in place allowed), logDets = log|det ∂z/∂x| (may be empty: not computed).</summary>
    void Forward(ReadOnlySpan<T> xs, ReadOnlySpan<T> contexts, Span<T> zs, Span<T> logDets);

    /// <summary>Maps a batch to the data space: xs = f⁻¹(zs) (in place allowed), logDets = log|det ∂x/∂z| (may be empty: not computed).</summary>
    /// <returns>The number of rows of xs holding a NaN or ±∞ (non-finite latents, or no bracket found by a numerical inverse).</returns>
    int Inverse(ReadOnlySpan<T> zs, ReadOnlySpan<T> contexts, Span<T> xs, Span<T> logDets);

    /// <summary>Log-density of each row of xs into logProbs (n values).</summary>
    void LogProb(ReadOnlySpan<T> xs, ReadOnlySpan<T> contexts, Span<T> logProbs);

    /// <summary>
    /// Draws xs.Length / Dim samples: z ~ N(0, I) from <paramref name="rng"/> (row-major), x = f⁻¹(z), and their log-densities
    /// log p(x) = log N(z) − log|det ∂x/∂z| into logProbs (may be empty: not computed).
    /// </summary>
    /// <returns>The number of rows of xs holding a NaN or ±∞.</returns>
    int Sample(Span<T> xs, ReadOnlySpan<T> contexts, Span<T> logProbs, FlowRandom rng);

    /// <summary>
    /// Negative log-likelihood and its gradient for a batch: returns Σᵢ −log p(xᵢ) (accumulated in double) and writes
    /// <paramref name="weight"/>·Σᵢ ∂(−log p(xᵢ))/∂θ to <paramref name="gradParameters"/> (ParameterCount values).
    /// With weight = 1/n it is the gradient of the mean NLL (divide the returned sum by n for the mean); with 1/N it is one
    /// shard's part of the mean over N samples split across calls (each into its own buffer).
    /// </summary>
    double NllGradient(ReadOnlySpan<T> xs, ReadOnlySpan<T> contexts, Span<T> gradParameters, T weight);

    /// <summary>
    /// Vector-Jacobian product of z = f(x) for a batch: given ∂L/∂z (gradZs) and ∂L/∂log|det ∂z/∂x| (gradLogDets), each may be
    /// empty (zero), writes ∂L/∂θ to gradParameters, ∂L/∂x to gradXs and ∂L/∂context to gradContexts (each may be empty: not computed).
    /// </summary>
    void ForwardVjp(ReadOnlySpan<T> xs, ReadOnlySpan<T> contexts, ReadOnlySpan<T> gradZs, ReadOnlySpan<T> gradLogDets,
        Span<T> gradParameters, Span<T> gradXs, Span<T> gradContexts);

    /// <summary>
    /// Vector-Jacobian product of x = f⁻¹(z) for a batch: given ∂L/∂x (gradXs) and ∂L/∂log|det ∂x/∂z| (gradLogDets), each may be
    /// empty (zero), writes ∂L/∂θ to gradParameters, ∂L/∂z to gradZs and ∂L/∂context to gradContexts (each may be empty: not computed).
    /// </summary>
    void InverseVjp(ReadOnlySpan<T> zs, ReadOnlySpan<T> contexts, ReadOnlySpan<T> gradXs, ReadOnlySpan<T> gradLogDets,
        Span<T> gradParameters, Span<T> gradZs, Span<T> gradContexts);

    /// <summary>
    /// False while the flow has data-dependent layers (ActNorm) not yet set by <see cref="InitializeFromData"/>; always true for a
    /// flow without them. Loading trained parameters sets it; set it yourself after writing <see cref="Parameters"/> by hand.
    /// </summary>
    bool IsDataInitialized { get; set; }

    /// <summary>
    /// Data-dependent initialisation (ActNorm, Glow): runs the batch through the flow and sets every ActNorm layer, in stack order,
    /// so that its output has zero mean and unit variance over the batch (at least 2 rows). Does nothing for flows without ActNorm.
    /// </summary>
    void InitializeFromData(ReadOnlySpan<T> xs, ReadOnlySpan<T> contexts);
}

/// <summary>
/// A generated flow as a type: <see cref="ICouplingFlow{T}"/> and a factory, so that one generic method
/// (<c>Run&lt;TFlow&gt;() where TFlow : ICouplingFlowModel&lt;TFlow, float&gt;</c>, calling <c>TFlow.Create(seed)</c>) works with
/// every model, its calls direct. Every generated class implements it.
/// </summary>
/// <typeparam name="TSelf">The generated class.</typeparam>
/// <typeparam name="T"><see cref="float"/> or <see cref="double"/>.</typeparam>
public interface ICouplingFlowModel<TSelf, T> : ICouplingFlow<T> where TSelf : ICouplingFlowModel<TSelf, T> where T : unmanaged
{
    /// <summary>A new flow with parameters initialised from <paramref name="seed"/> (as the constructor taking a seed).</summary>
    static abstract TSelf Create(ulong seed);
}

/// <summary>A named block of a flow's parameter vector.</summary>
/// <param name="Name">Tensor name, e.g. <c>layers.3.conditioner.1.weight</c> (the PyTorch module's state-dict key).</param>
/// <param name="Offset">Offset of the first element in <see cref="ICouplingFlow{T}.Parameters"/>.</param>
/// <param name="Shape">Shape in PyTorch's convention (a Linear weight is [out, in]).</param>
/// <param name="Transposed">True when the parameter vector stores the tensor transposed (input-major [in, out]).</param>
public sealed record ParameterTensor(string Name, int Offset, IReadOnlyList<int> Shape, bool Transposed)
{
    /// <summary>Shape in PyTorch's convention (a Linear weight is [out, in]); read-only.</summary>
    public IReadOnlyList<int> Shape { get; } = new List<int>(Shape).AsReadOnly();

    /// <summary>Number of elements.</summary>
    public int Length
    {
        get
        {
            int n = 1;
            foreach (int s in Shape) n *= s;
            return n;
        }
    }
}

/// <summary>
/// A flow whose base is a Gaussian mixture (<see cref="GaussianMixtureBaseAttribute"/>): the class-conditional members of
/// FlowGMM (Izmailov et al. 2020; docs/model.md §11.3). Component c has density p_c and weight w_c; the base is Σ_c w_c·p_c.
/// The conventions are <see cref="ICouplingFlow{T}"/>'s.
/// </summary>
/// <typeparam name="T"><see cref="float"/> or <see cref="double"/>.</typeparam>
public interface IGaussianMixtureFlow<T> : ICouplingFlow<T> where T : unmanaged
{
    /// <summary>Number of mixture components K.</summary>
    int Components { get; }

    /// <summary>Log-density of one data point under component <paramref name="component"/>: log p_c(f(x)) + log|det ∂z/∂x| (log p(x | c)).</summary>
    T LogProb(ReadOnlySpan<T> x, ReadOnlySpan<T> context, int component);

    /// <summary>Fills posteriors (row-major [n, Components]) with log p(c | xᵢ) = log(w_c·p_c(zᵢ)) − log Σ_j w_j·p_j(zᵢ); each row sums to 1 in probability.</summary>
    void ComponentLogPosteriors(ReadOnlySpan<T> xs, ReadOnlySpan<T> contexts, Span<T> posteriors);

    /// <summary>Writes to labels (n values) the component of largest posterior of each row (the first on ties; −1 where it is NaN).</summary>
    void Classify(ReadOnlySpan<T> xs, ReadOnlySpan<T> contexts, Span<int> labels);

    /// <summary>Draws xs.Length / Dim samples of component <paramref name="component"/>: z ~ p_c from <paramref name="rng"/>, x = f⁻¹(z).</summary>
    /// <returns>The number of rows of xs holding a NaN or ±∞.</returns>
    int Sample(Span<T> xs, ReadOnlySpan<T> contexts, int component, FlowRandom rng);

    /// <summary>
    /// The semi-supervised NLL and its gradient (FlowGMM): a row with labels[i] = c ≥ 0 contributes −log(w_c·p_c(zᵢ)) − log|det ∂z/∂x|
    /// with weight <paramref name="labeledWeight"/>, a row with labels[i] = −1 the marginal NLL −log p(xᵢ) with weight
    /// <paramref name="unlabeledWeight"/>. Writes the weighted sum of the rows' gradients to gradParameters (ParameterCount values)
    /// and returns the two unweighted sums (accumulated in double).
    /// </summary>
    (double Labeled, double Unlabeled) LabeledNllGradient(ReadOnlySpan<T> xs, ReadOnlySpan<T> contexts, ReadOnlySpan<int> labels,
        Span<T> gradParameters, T labeledWeight, T unlabeledWeight);
}
