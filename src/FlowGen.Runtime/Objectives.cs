using System;
using System.Numerics;
using System.Threading;

namespace FlowGen;

/// <summary>
/// A training objective for <see cref="FlowTrainer"/>: given one shard of a batch (rows, their contexts and, where the data
/// has them, per-row targets), the sum of the rows' losses and the gradient of that sum with respect to the flow's
/// parameters, which the objective obtains from the flow's generated members (<see cref="ICouplingFlow{T}.NllGradient"/>,
/// or <see cref="ICouplingFlow{T}.ForwardVjp"/> / <see cref="ICouplingFlow{T}.InverseVjp"/> with its own ∂L/∂z, ∂L/∂x and
/// ∂L/∂log|det|). <see cref="FlowTrainer.Fit{T}(ICouplingFlow{T}, FlowData{T}, IFlowObjective{T}, TrainingOptions?, IProgress{TrainingProgress}?, CancellationToken)"/>
/// runs any objective with everything the trainer does (Adam, schedule, clipping, divergence guard, validation, early
/// stopping, progress, determinism across thread counts).
/// </summary>
/// <remarks>
/// <para>The objective never owns the data: the trainer hands it the rows of each step (and of each validation chunk) as a
/// <see cref="FlowBatch{T}"/>. The loss the trainer minimises and reports is (Σ over the batch's rows of the per-row loss) / B
/// for a batch of B rows, i.e. a mean over rows.</para>
/// <para>Threads: the trainer cuts every batch into a fixed number of shards (independent of
/// <see cref="TrainingOptions.Threads"/>) and calls <see cref="LossAndGradient"/> for different shards concurrently, each
/// with its own gradient buffer. An implementation must therefore not share mutable state between calls (use per-call
/// or <see cref="ThreadLocal{T}"/> scratch, or index scratch by <see cref="FlowBatch{T}.Shard"/>), and must compute a
/// shard's result from the shard alone, so that the run is bit-identical for every thread count.</para>
/// </remarks>
/// <typeparam name="T"><see cref="float"/> or <see cref="double"/>.</typeparam>
public interface IFlowObjective<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>
    /// True when the trainer should run the flow's data-dependent initialisation (ActNorm) on the first training rows before
    /// the first step (maximum likelihood does; map fitting and objectives whose rows are not the flow's inputs do not).
    /// </summary>
    bool UsesDataInitialization => false;

    /// <summary>
    /// The sum over the shard's rows of the per-row loss (in double), and <paramref name="weight"/>·Σ ∂loss/∂θ written to
    /// <paramref name="gradParameters"/> (ParameterCount values; overwrite it, as the flow's gradient members do).
    /// </summary>
    /// <param name="flow">The flow being trained.</param>
    /// <param name="batch">The shard's rows.</param>
    /// <param name="gradParameters">Receives weight·Σᵢ ∂lossᵢ/∂θ.</param>
    /// <param name="weight">1/B for a batch of B rows (the shard is part of it): the gradient of the batch mean.</param>
    /// <returns>Σᵢ lossᵢ over the shard's rows.</returns>
    double LossAndGradient(ICouplingFlow<T> flow, FlowBatch<T> batch, Span<T> gradParameters, T weight);

    /// <summary>
    /// The sum over the rows of the per-row loss without a gradient: the validation loss (the trainer divides the sum over
    /// all validation rows by their number). The default calls <see cref="LossAndGradient"/> with weight 0 into a scratch
    /// buffer; override it when the loss alone is cheaper.
    /// </summary>
    /// <param name="flow">The flow being trained.</param>
    /// <param name="batch">A chunk of validation rows (<see cref="FlowBatch{T}.IsValidation"/> is true).</param>
    /// <returns>Σᵢ lossᵢ over the rows.</returns>
    double Loss(ICouplingFlow<T> flow, FlowBatch<T> batch) => LossAndGradient(flow, batch, new T[flow.ParameterCount], T.Zero);
}

/// <summary>
/// The rows an <see cref="IFlowObjective{T}"/> sees in one call: a shard of a training batch, or a chunk of the validation
/// rows. All spans are row-major and hold <see cref="Count"/> rows.
/// </summary>
/// <typeparam name="T"><see cref="float"/> or <see cref="double"/>.</typeparam>
public readonly ref struct FlowBatch<T> where T : unmanaged
{
    /// <summary>A batch (used by the trainer; objectives may build their own to call other objectives).</summary>
    /// <param name="count">Rows.</param>
    /// <param name="inputs">[count, Dim] data rows (empty for objectives without data rows, e.g. variational inference).</param>
    /// <param name="contexts">[count, ContextDim] (empty for an unconditional flow).</param>
    /// <param name="targets">[count, TargetDim] per-row targets (empty without targets).</param>
    /// <param name="rowIndices">[count] the rows' indices in the data as the caller gave it.</param>
    /// <param name="isValidation">True for validation rows.</param>
    /// <param name="step">The 0-based training step; −1 for validation.</param>
    /// <param name="shard">The shard of the batch (training) or the chunk of the validation rows.</param>
    /// <param name="seed">The deterministic seed of this call's noise (see <see cref="NoiseSeed"/>).</param>
    public FlowBatch(int count, ReadOnlySpan<T> inputs, ReadOnlySpan<T> contexts, ReadOnlySpan<T> targets, ReadOnlySpan<int> rowIndices,
        bool isValidation, int step, int shard, ulong seed)
    {
        Count = count;
        Inputs = inputs;
        Contexts = contexts;
        Targets = targets;
        RowIndices = rowIndices;
        IsValidation = isValidation;
        Step = step;
        Shard = shard;
        NoiseSeed = seed;
    }

    /// <summary>Number of rows.</summary>
    public int Count { get; }

    /// <summary>The data rows, [Count, Dim]; empty when the run has no data rows (variational inference, or <c>Fit</c> without data).</summary>
    public ReadOnlySpan<T> Inputs { get; }

    /// <summary>The rows' contexts, [Count, ContextDim]; empty for an unconditional flow.</summary>
    public ReadOnlySpan<T> Contexts { get; }

    /// <summary>The rows' targets, [Count, TargetDim] (TargetDim = <c>Targets.Length / Count</c>); empty when the data has none.</summary>
    public ReadOnlySpan<T> Targets { get; }

    /// <summary>
    /// For each row, its index in the data as given to the trainer: in the training data for training rows and for the rows a
    /// random split holds out; in the explicit validation set for its rows. Use it to look up per-row values the objective
    /// holds (weights, labels). Without data rows: 0, 1, … within the batch.
    /// </summary>
    public ReadOnlySpan<int> RowIndices { get; }

    /// <summary>True for validation rows (<see cref="IFlowObjective{T}.Loss"/>).</summary>
    public bool IsValidation { get; }

    /// <summary>The 0-based training step; −1 for validation.</summary>
    public int Step { get; }

    /// <summary>The shard within the step's batch (fixed by the batch size, not by the thread count), or the validation chunk.</summary>
    public int Shard { get; }

    /// <summary>
    /// A seed for noise the objective draws (e.g. the latent samples of variational inference): a fixed function of
    /// <see cref="TrainingOptions.Seed"/>, the step and the shard, so runs are reproducible and independent of the thread
    /// count; for validation it depends on the chunk only, so every evaluation sees the same noise.
    /// </summary>
    public ulong NoiseSeed { get; }

    /// <summary>A new generator seeded with <see cref="NoiseSeed"/>.</summary>
    public FlowRandom CreateRandom() => new(NoiseSeed);
}

/// <summary>
/// Maximum likelihood: the per-row loss is −log p(x | c) (docs/model.md §7), its gradient from the flow's generated
/// <see cref="ICouplingFlow{T}.NllGradient"/>. What <see cref="FlowTrainer.Train{T}(ICouplingFlow{T}, ReadOnlySpan{T}, TrainingOptions?, IProgress{TrainingProgress}?, CancellationToken)"/> runs.
/// </summary>
/// <typeparam name="T"><see cref="float"/> or <see cref="double"/>.</typeparam>
public sealed class MaximumLikelihoodObjective<T> : IFlowObjective<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>The one instance (the objective has no state).</summary>
    public static MaximumLikelihoodObjective<T> Instance { get; } = new();

    /// <summary>True: ActNorm layers are initialised from the first training rows.</summary>
    public bool UsesDataInitialization => true;

    /// <inheritdoc/>
    public double LossAndGradient(ICouplingFlow<T> flow, FlowBatch<T> batch, Span<T> gradParameters, T weight) =>
        flow.NllGradient(batch.Inputs, batch.Contexts, gradParameters, weight);

    /// <inheritdoc/>
    public double Loss(ICouplingFlow<T> flow, FlowBatch<T> batch)
    {
        var lp = new T[batch.Count];
        flow.LogProb(batch.Inputs, batch.Contexts, lp);
        double s = 0;
        foreach (T v in lp) s -= double.CreateTruncating(v);
        return s;
    }
}

/// <summary>
/// Least squares on a map: the per-row loss is the mean over coordinates of (Forward(x, c) − y)² (or of (Inverse(y, c) − x)²
/// with <see cref="MapDirection.Inverse"/>), where x is the batch's input row and y its target row (TargetDim = Dim); its
/// gradient from the generated vector-Jacobian products. What <c>FlowTrainer.FitMap</c> runs.
/// </summary>
/// <typeparam name="T"><see cref="float"/> or <see cref="double"/>.</typeparam>
public sealed class MapObjective<T> : IFlowObjective<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly ThreadLocal<T[]> _outputs = new(() => Array.Empty<T>());

    /// <summary>The objective of fitting the map in <paramref name="direction"/>.</summary>
    public MapObjective(MapDirection direction = MapDirection.Forward) => Direction = direction;

    /// <summary>Which map is fitted.</summary>
    public MapDirection Direction { get; }

    /// <summary>False: the map's inputs are not a density's data, so ActNorm keeps its initial identity.</summary>
    public bool UsesDataInitialization => false;

    private Span<T> Map(ICouplingFlow<T> flow, FlowBatch<T> batch)
    {
        int length = batch.Count * flow.Dim;
        if (batch.Inputs.Length != length || batch.Targets.Length != length)
        {
            throw new ArgumentException($"MapObjective needs inputs and targets of {length} values ({batch.Count} rows × Dim {flow.Dim}); the batch has {batch.Inputs.Length} and {batch.Targets.Length}.", nameof(batch));
        }
        T[] buffer = _outputs.Value!;
        if (buffer.Length < length) _outputs.Value = buffer = new T[length];
        Span<T> outputs = buffer.AsSpan(0, length);
        // Forward: inputs are x, the map's output is compared with y. Inverse: targets (y) go through Inverse, compared with x.
        if (Direction == MapDirection.Forward) flow.Forward(batch.Inputs, batch.Contexts, outputs, default);
        else flow.Inverse(batch.Targets, batch.Contexts, outputs, default);
        return outputs;
    }

    /// <inheritdoc/>
    public double LossAndGradient(ICouplingFlow<T> flow, FlowBatch<T> batch, Span<T> gradParameters, T weight)
    {
        // Forward: minimise |f(x) − y|²; Inverse: minimise |f⁻¹(y) − x|².
        ReadOnlySpan<T> wanted = Direction == MapDirection.Forward ? batch.Targets : batch.Inputs;
        Span<T> outputs = Map(flow, batch);
        double loss = 0;
        T scale = T.CreateChecked(2) * weight / T.CreateChecked(flow.Dim);
        for (int i = 0; i < outputs.Length; i++)
        {
            T diff = outputs[i] - wanted[i];
            double d = double.CreateTruncating(diff);
            loss += d * d;
            outputs[i] = scale * diff;
        }
        if (Direction == MapDirection.Forward) flow.ForwardVjp(batch.Inputs, batch.Contexts, outputs, default, gradParameters, default, default);
        else flow.InverseVjp(batch.Targets, batch.Contexts, outputs, default, gradParameters, default, default);
        return loss / flow.Dim;
    }

    /// <inheritdoc/>
    public double Loss(ICouplingFlow<T> flow, FlowBatch<T> batch)
    {
        Span<T> outputs = Map(flow, batch);
        ReadOnlySpan<T> wanted = Direction == MapDirection.Forward ? batch.Targets : batch.Inputs;
        double loss = 0;
        for (int i = 0; i < outputs.Length; i++)
        {
            double d = double.CreateTruncating(outputs[i] - wanted[i]);
            loss += d * d;
        }
        return loss / flow.Dim;
    }
}
