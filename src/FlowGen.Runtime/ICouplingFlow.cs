using System;
using System.Collections.Generic;

namespace FlowGen;

/// <summary>
/// What every generated flow implements, for code that works with any model (trainers, serialisers, tools).
/// The generated class also has direct, strongly named members (<c>MyFlow.Dim</c> as a constant, <c>Forward(x, z)</c>, …);
/// prefer those in application code. All batch spans are row-major: sample i occupies [i·Dim, (i+1)·Dim).
/// </summary>
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

    /// <summary>Maps data to latent for a batch: zs = f(xs), logDets = log|det ∂z/∂x| (empty span: not computed).</summary>
    void Forward(ReadOnlySpan<T> xs, ReadOnlySpan<T> contexts, Span<T> zs, Span<T> logDets);

    /// <summary>Maps latent to data for a batch: xs = f⁻¹(zs), logDets = log|det ∂x/∂z| (empty span: not computed).</summary>
    /// <returns>The number of rows of xs holding a NaN or ±∞ (non-finite latents, or no bracket found by a numerical inverse).</returns>
    int Inverse(ReadOnlySpan<T> zs, ReadOnlySpan<T> contexts, Span<T> xs, Span<T> logDets);

    /// <summary>Log-density of each row of xs under the flow with a standard-normal base.</summary>
    void LogProb(ReadOnlySpan<T> xs, ReadOnlySpan<T> contexts, Span<T> logProbs);

    /// <summary>Draws xs.Length / Dim samples (one per context row for a conditional flow).</summary>
    /// <returns>The number of rows of xs holding a NaN or ±∞.</returns>
    int Sample(ReadOnlySpan<T> contexts, Span<T> xs, FlowRandom rng);

    /// <summary>
    /// Negative log-likelihood and its gradient for a batch: returns Σᵢ −log p(xᵢ) (in double) and adds
    /// <paramref name="weight"/>·Σᵢ ∂(−log p(xᵢ))/∂θ to <paramref name="gradient"/> (length ParameterCount).
    /// With weight = 1/N this accumulates the gradient of a mean over N samples split across calls.
    /// </summary>
    double NllGradient(ReadOnlySpan<T> xs, ReadOnlySpan<T> contexts, Span<T> gradient, T weight);

    /// <summary>
    /// Vector-Jacobian product of z = f(x) for a batch: given ∂L/∂z and ∂L/∂log|det ∂z/∂x| (empty: zero), adds ∂L/∂θ to
    /// gradParameters and writes ∂L/∂x and ∂L/∂context (each output may be empty: not computed).
    /// </summary>
    void ForwardVjp(ReadOnlySpan<T> xs, ReadOnlySpan<T> contexts, ReadOnlySpan<T> gradZ, ReadOnlySpan<T> gradLogDet,
        Span<T> gradParameters, Span<T> gradX, Span<T> gradContexts);

    /// <summary>
    /// Vector-Jacobian product of x = f⁻¹(z) for a batch: given ∂L/∂x and ∂L/∂log|det ∂x/∂z| (empty: zero), adds ∂L/∂θ to
    /// gradParameters and writes ∂L/∂z and ∂L/∂context (each output may be empty: not computed).
    /// </summary>
    void InverseVjp(ReadOnlySpan<T> zs, ReadOnlySpan<T> contexts, ReadOnlySpan<T> gradX, ReadOnlySpan<T> gradLogDet,
        Span<T> gradParameters, Span<T> gradZ, Span<T> gradContexts);

    /// <summary>True when the flow has data-dependent layers (ActNorm) that have not been initialised from data yet.</summary>
    bool NeedsDataInitialization { get; }

    /// <summary>
    /// Data-dependent initialisation (ActNorm, Glow): sets every ActNorm layer so that its output has zero mean and unit
    /// variance over the batch. Does nothing for flows without ActNorm.
    /// </summary>
    void InitializeFromData(ReadOnlySpan<T> xs, ReadOnlySpan<T> contexts);

    /// <summary>Marks data-dependent layers as initialised (after loading trained parameters) or not.</summary>
    void MarkDataInitialized(bool initialized);
}

/// <summary>A named block of a flow's parameter vector.</summary>
/// <param name="Name">Tensor name, e.g. <c>layers.3.conditioner.1.weight</c> (the PyTorch module's state-dict key).</param>
/// <param name="Offset">Offset of the first element in <see cref="ICouplingFlow{T}.Parameters"/>.</param>
/// <param name="Shape">Shape in PyTorch's convention (a Linear weight is [out, in]).</param>
/// <param name="Transposed">True when the parameter vector stores the tensor transposed (input-major [in, out]).</param>
public sealed record ParameterTensor(string Name, int Offset, int[] Shape, bool Transposed)
{
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
