using System;
using System.Collections.Generic;
using System.Globalization;
using System.Numerics;
using System.Text;
using System.Threading;

namespace FlowGen;

/// <summary>How the learning rate changes over a run.</summary>
public enum LearningRateSchedule
{
    /// <summary>The same rate at every step (after warm-up).</summary>
    Constant = 0,

    /// <summary>Cosine decay from <see cref="TrainingOptions.LearningRate"/> to <see cref="TrainingOptions.MinLearningRate"/> over the run (after warm-up).</summary>
    Cosine = 1,
}

/// <summary>Options of <see cref="FlowTrainer"/>.</summary>
public sealed class TrainingOptions
{
    /// <summary>Samples per step (default 256).</summary>
    public int BatchSize { get; set; } = 256;

    /// <summary>Number of optimisation steps (default 1000). Ignored when <see cref="Epochs"/> is set.</summary>
    public int Steps { get; set; } = 1000;

    /// <summary>Passes over the training rows; when positive, the number of steps is Epochs × ⌈train rows / BatchSize⌉.</summary>
    public int Epochs { get; set; }

    /// <summary>Peak learning rate of Adam (default 1e-3).</summary>
    public double LearningRate { get; set; } = 1e-3;

    /// <summary>Final learning rate of the cosine schedule (default 1e-5).</summary>
    public double MinLearningRate { get; set; } = 1e-5;

    /// <summary>Learning-rate schedule (default cosine).</summary>
    public LearningRateSchedule Schedule { get; set; } = LearningRateSchedule.Cosine;

    /// <summary>Linear warm-up steps (default 0).</summary>
    public int WarmupSteps { get; set; }

    /// <summary>Decoupled weight decay (AdamW) coefficient (default 0).</summary>
    public double WeightDecay { get; set; }

    /// <summary>Clip the gradient to this global L2 norm before the update (default 0: no clipping).</summary>
    public double GradientClipNorm { get; set; }

    /// <summary>Adam β₁ (default 0.9).</summary>
    public double Beta1 { get; set; } = 0.9;

    /// <summary>Adam β₂ (default 0.999).</summary>
    public double Beta2 { get; set; } = 0.999;

    /// <summary>Adam ε (default 1e-8).</summary>
    public double Epsilon { get; set; } = 1e-8;

    /// <summary>
    /// Fraction of the rows held out, at random, for validation (default 0.1; 0 for none). Ignored when an explicit validation
    /// set is given (<see cref="FlowTrainer.Train{T}(ICouplingFlow{T}, FlowData{T}, FlowData{T}, TrainingOptions?, IProgress{TrainingProgress}?, CancellationToken)"/>):
    /// then every given training row is trained on.
    /// </summary>
    public double ValidationFraction { get; set; } = 0.1;

    /// <summary>
    /// Validation rows of a run without data (<c>FlowTrainer.Fit(flow, objective)</c>, <c>FitTarget</c> without contexts): the
    /// objective's loss on this many rows of fixed noise at every evaluation (default 1024; 0 for no validation).
    /// </summary>
    public int ValidationSamples { get; set; } = 1024;

    /// <summary>Evaluate (and report) every this many steps (default 100).</summary>
    public int EvaluateEvery { get; set; } = 100;

    /// <summary>Early stopping: stop after this many evaluations without a better validation loss (default 0: never; needs validation rows).</summary>
    public int Patience { get; set; }

    /// <summary>Restore the parameters with the best validation loss at the end (default true; needs validation rows: a split or a validation set).</summary>
    public bool RestoreBest { get; set; } = true;

    /// <summary>Worker threads for the data-parallel gradient (default: all cores). The result does not depend on it.</summary>
    public int Threads { get; set; } = Environment.ProcessorCount;

    /// <summary>Seed of the shuffles (default 0).</summary>
    public ulong Seed { get; set; }

    /// <summary>
    /// Training from an <see cref="IFlowDataSource{T}"/>: the chunks read and shuffled together as one window (default 4): memory
    /// holds this many chunks; more mixes the rows of more chunks into each stretch of batches.
    /// </summary>
    public int ShuffleBufferChunks { get; set; } = 4;

    /// <summary>
    /// After this many consecutive steps with a non-finite or exploded loss or gradient (each skipped), roll back to the last good parameters,
    /// halve the learning rate and reset the optimizer (default 5). After <see cref="MaxRollbacks"/> rollbacks the run stops.
    /// </summary>
    public int MaxConsecutiveNonFinite { get; set; } = 5;

    /// <summary>Rollbacks before the run gives up with <see cref="TrainingStatus.Diverged"/> (default 3).</summary>
    public int MaxRollbacks { get; set; } = 3;

    /// <summary>
    /// A finite loss above m + LossSpikeFactor·(1 + |m|), where m is the moving average of the recent accepted losses
    /// (after the first 20 steps), is an explosion: the step is treated like a non-finite one (skipped, and counted
    /// towards a rollback). Catches runs that blow up to huge but finite values (e.g. polynomial couplings at too high a
    /// learning rate). Default 100; 0 disables.
    /// </summary>
    public double LossSpikeFactor { get; set; } = 100;

    /// <summary>A copy (the semi-supervised trainer adjusts its own).</summary>
    internal TrainingOptions Clone() => (TrainingOptions)MemberwiseClone();

    internal void Validate()
    {
        if (BatchSize < 1) throw new ArgumentOutOfRangeException(nameof(BatchSize), BatchSize, "BatchSize must be at least 1.");
        if (Steps < 1 && Epochs < 1) throw new ArgumentOutOfRangeException(nameof(Steps), Steps, "Set Steps or Epochs to at least 1.");
        if (!(LearningRate > 0) || double.IsInfinity(LearningRate)) throw new ArgumentOutOfRangeException(nameof(LearningRate), LearningRate, "LearningRate must be positive and finite.");
        if (MinLearningRate < 0) throw new ArgumentOutOfRangeException(nameof(MinLearningRate), MinLearningRate, "MinLearningRate must not be negative.");
        if (ValidationFraction < 0 || ValidationFraction >= 1) throw new ArgumentOutOfRangeException(nameof(ValidationFraction), ValidationFraction, "ValidationFraction must be in [0, 1).");
        if (ValidationSamples < 0) throw new ArgumentOutOfRangeException(nameof(ValidationSamples), ValidationSamples, "ValidationSamples must not be negative.");
        if (EvaluateEvery < 1) throw new ArgumentOutOfRangeException(nameof(EvaluateEvery), EvaluateEvery, "EvaluateEvery must be at least 1.");
        if (ShuffleBufferChunks < 1) throw new ArgumentOutOfRangeException(nameof(ShuffleBufferChunks), ShuffleBufferChunks, "ShuffleBufferChunks must be at least 1.");
        if (Threads < 1) throw new ArgumentOutOfRangeException(nameof(Threads), Threads, "Threads must be at least 1.");
        if (Beta1 < 0 || Beta1 >= 1 || Beta2 < 0 || Beta2 >= 1) throw new ArgumentOutOfRangeException(nameof(Beta1), "Adam betas must be in [0, 1).");
        if (GradientClipNorm < 0 || WeightDecay < 0) throw new ArgumentOutOfRangeException(nameof(GradientClipNorm), "GradientClipNorm and WeightDecay must not be negative.");
        if (!(LossSpikeFactor >= 0)) throw new ArgumentOutOfRangeException(nameof(LossSpikeFactor), LossSpikeFactor, "LossSpikeFactor must not be negative (0 disables the check).");
    }
}

/// <summary>One progress report of a training run.</summary>
/// <param name="Step">Steps completed.</param>
/// <param name="TotalSteps">Steps planned.</param>
/// <param name="Epoch">Current epoch (0-based).</param>
/// <param name="TrainLoss">Mean training loss since the previous report (the objective's mean per row: NLL in nats per sample, MSE for map fitting).</param>
/// <param name="ValidationLoss">Validation loss at this report, when there are validation rows.</param>
/// <param name="SamplesPerSecond">Training throughput since the previous report.</param>
/// <param name="LearningRate">Learning rate of the last step.</param>
/// <param name="Message">An event worth reporting (skipped step, rollback, early stop), else null.</param>
public readonly record struct TrainingProgress(int Step, int TotalSteps, int Epoch, double TrainLoss, double? ValidationLoss, double SamplesPerSecond, double LearningRate, string? Message);

/// <summary>How a run ended.</summary>
public enum TrainingStatus
{
    /// <summary>All planned steps ran.</summary>
    Completed = 0,

    /// <summary>Early stopping: the validation loss stopped improving.</summary>
    StoppedEarly = 1,

    /// <summary>Cancelled through the cancellation token.</summary>
    Cancelled = 2,

    /// <summary>Non-finite losses persisted after the allowed rollbacks; the parameters are the last good ones.</summary>
    Diverged = 3,
}

/// <summary>The outcome of a training run.</summary>
public sealed class TrainingResult
{
    /// <summary>How the run ended.</summary>
    public TrainingStatus Status { get; internal set; }

    /// <summary>Steps run.</summary>
    public int Steps { get; internal set; }

    /// <summary>Mean training loss over the last reporting window.</summary>
    public double FinalTrainLoss { get; internal set; } = double.NaN;

    /// <summary>Best validation loss seen (NaN without validation rows).</summary>
    public double BestValidationLoss { get; internal set; } = double.NaN;

    /// <summary>Step at which <see cref="BestValidationLoss"/> was measured.</summary>
    public int BestStep { get; internal set; }

    /// <summary>Validation loss of the parameters the flow holds at the end (NaN without validation rows).</summary>
    public double FinalValidationLoss { get; internal set; } = double.NaN;

    /// <summary>Steps skipped because the loss or gradient was not finite.</summary>
    public int SkippedSteps { get; internal set; }

    /// <summary>Rollbacks to the last good parameters.</summary>
    public int Rollbacks { get; internal set; }

    /// <summary>Wall time of the run.</summary>
    public TimeSpan Elapsed { get; internal set; }

    /// <summary>Training samples per second over the whole run.</summary>
    public double SamplesPerSecond { get; internal set; }

    /// <summary>Rows trained on (the validation rows excluded).</summary>
    public int TrainRows { get; internal set; }

    /// <summary>Validation rows: those held out by <see cref="TrainingOptions.ValidationFraction"/>, or the rows of the explicit validation set.</summary>
    public int ValidationRows { get; internal set; }

    /// <summary>Everything noteworthy that happened (skipped steps, rollbacks, early stop).</summary>
    public List<string> Events { get; } = new();

    /// <summary>
    /// One line for a log: status and steps, the final training loss, the validation losses (final, and the best with its
    /// step), the rows, the throughput and wall time, and the skipped steps and rollbacks. Invariant culture.
    /// </summary>
    /// <returns>E.g. <c>Completed: 1000 steps; train loss 1.2346; validation loss 1.3012 (best 1.3001 at step 900); 9000 train + 1000 validation rows; 48213 samples/s, 5.31 s; 0 skipped steps, 0 rollbacks</c>.</returns>
    public override string ToString()
    {
        var sb = new StringBuilder();
        var c = CultureInfo.InvariantCulture;
        string status = Status switch
        {
            TrainingStatus.Completed => "Completed",
            TrainingStatus.StoppedEarly => "Stopped early",
            TrainingStatus.Cancelled => "Cancelled",
            TrainingStatus.Diverged => "Diverged",
            _ => Status.ToString(),
        };
        sb.Append(c, $"{status}: {Steps} step{(Steps == 1 ? "" : "s")}; train loss {FinalTrainLoss:G5}; ");
        sb.Append(ValidationRows > 0
            ? string.Create(c, $"validation loss {FinalValidationLoss:G5} (best {BestValidationLoss:G5} at step {BestStep}); {TrainRows} train + {ValidationRows} validation rows; ")
            : string.Create(c, $"no validation; {TrainRows} train rows; "));
        sb.Append(c, $"{SamplesPerSecond:F0} samples/s, {Elapsed.TotalSeconds:F2} s; ");
        sb.Append(c, $"{SkippedSteps} skipped step{(SkippedSteps == 1 ? "" : "s")}, {Rollbacks} rollback{(Rollbacks == 1 ? "" : "s")}");
        return sb.ToString();
    }
}

/// <summary>Which map <c>FlowTrainer.FitMap</c> fits.</summary>
public enum MapDirection
{
    /// <summary>Fit Forward(x) ≈ y.</summary>
    Forward = 0,

    /// <summary>Fit Inverse(y) ≈ x, i.e. train the inverse map.</summary>
    Inverse = 1,
}

/// <summary>
/// Rows of a data set and their contexts, both row-major: <see cref="Rows"/> is [n, Dim] and <see cref="Contexts"/> is
/// [n, ContextDim] (empty for an unconditional flow). Used to hand <see cref="FlowTrainer"/> an explicit validation set
/// next to the training set, so that the two cannot be confused with each other or with contexts.
/// </summary>
/// <remarks>
/// A view: it holds the caller's spans (no copy) and checks nothing; the trainer checks the lengths against the flow and
/// names the offending span (<c>validation.Contexts</c>, …) and the size it expected.
/// </remarks>
/// <typeparam name="T"><see cref="float"/> or <see cref="double"/>.</typeparam>
public readonly ref struct FlowData<T> where T : unmanaged
{
    /// <summary>Rows and, for a conditional flow, one context row per data row.</summary>
    /// <param name="rows">Row-major [n, Dim].</param>
    /// <param name="contexts">Row-major [n, ContextDim]; empty for an unconditional flow.</param>
    public FlowData(ReadOnlySpan<T> rows, ReadOnlySpan<T> contexts = default)
    {
        Rows = rows;
        Contexts = contexts;
    }

    /// <summary>Rows, their contexts and per-row targets (for objectives that use targets, e.g. <see cref="MapObjective{T}"/>).</summary>
    /// <param name="rows">Row-major [n, Dim]; empty for rows that are contexts only (see <c>FlowTrainer.Fit</c>).</param>
    /// <param name="contexts">Row-major [n, ContextDim]; empty for an unconditional flow.</param>
    /// <param name="targets">Row-major [n, TargetDim], any TargetDim ≥ 0 (the same for training and validation data).</param>
    public FlowData(ReadOnlySpan<T> rows, ReadOnlySpan<T> contexts, ReadOnlySpan<T> targets)
    {
        Rows = rows;
        Contexts = contexts;
        Targets = targets;
    }

    /// <summary>The data rows, row-major [n, Dim].</summary>
    public ReadOnlySpan<T> Rows { get; }

    /// <summary>The context rows, row-major [n, ContextDim]; empty for an unconditional flow.</summary>
    public ReadOnlySpan<T> Contexts { get; }

    /// <summary>Per-row targets, row-major [n, TargetDim]; empty without targets. Maximum likelihood ignores them.</summary>
    public ReadOnlySpan<T> Targets { get; }
}

/// <summary>
/// Trains any generated flow in-process: maximum likelihood on a data set (<c>Train</c>) or least squares on pairs
/// (<c>FitMap</c>), with Adam(W), gradient clipping, a learning-rate schedule, validation (a random split or an explicit
/// validation set) with early stopping, and data-parallel gradients whose reduction does not depend on the number of threads.
/// </summary>
/// <remarks>
/// <para>Arguments follow the library's order: the flow, the input rows, their contexts (the overloads without contexts
/// are for unconditional flows), then the targets where there are any, then options, progress and cancellation.</para>
/// <para>
/// Determinism: each batch is cut into a fixed number of shards (at most 8, each at least 32 rows), independent of
/// <see cref="TrainingOptions.Threads"/>; every shard's gradient is computed sequentially into its own zeroed buffer and
/// the shards are summed in a fixed order, so a given seed gives bit-identical parameters with 1 or 16 threads.
/// </para>
/// </remarks>
public static partial class FlowTrainer
{
    /// <summary>
    /// Maximum-likelihood training of an unconditional flow on <paramref name="data"/> (row-major [n, Dim]), holding out a
    /// random <see cref="TrainingOptions.ValidationFraction"/> of the rows for validation.
    /// </summary>
    /// <param name="flow">The flow; its parameters are trained in place.</param>
    /// <param name="data">Training rows, row-major [n, Dim], n ≥ 2.</param>
    /// <param name="options">Options (defaults when null).</param>
    /// <param name="progress">Receives a report every <see cref="TrainingOptions.EvaluateEvery"/> steps and at every event.</param>
    /// <param name="cancellationToken">Stops the run between steps (<see cref="TrainingStatus.Cancelled"/>).</param>
    /// <returns>How the run went.</returns>
    /// <exception cref="ArgumentException">A length does not fit the flow, or a row has a NaN or infinite value (the message names the row and column).</exception>
    /// <exception cref="ArgumentOutOfRangeException">An option is out of range.</exception>
    public static TrainingResult Train<T>(ICouplingFlow<T> flow, ReadOnlySpan<T> data, TrainingOptions? options = null,
        IProgress<TrainingProgress>? progress = null, CancellationToken cancellationToken = default)
        where T : unmanaged, IFloatingPointIeee754<T> =>
        Train(flow, data, default, options, progress, cancellationToken);

    /// <summary>
    /// Maximum-likelihood training on <paramref name="data"/> (row-major [n, Dim]) with one context row per data row
    /// (<paramref name="contexts"/>, row-major [n, ContextDim]; empty for an unconditional flow), holding out a random
    /// <see cref="TrainingOptions.ValidationFraction"/> of the rows (with their contexts) for validation.
    /// </summary>
    /// <param name="flow">The flow; its parameters are trained in place.</param>
    /// <param name="data">Training rows, row-major [n, Dim], n ≥ 2.</param>
    /// <param name="contexts">Context rows, row-major [n, ContextDim].</param>
    /// <param name="options">Options (defaults when null).</param>
    /// <param name="progress">Receives a report every <see cref="TrainingOptions.EvaluateEvery"/> steps and at every event.</param>
    /// <param name="cancellationToken">Stops the run between steps (<see cref="TrainingStatus.Cancelled"/>).</param>
    /// <returns>How the run went.</returns>
    /// <exception cref="ArgumentException">A length does not fit the flow, or a row has a NaN or infinite value (the message names the row and column).</exception>
    /// <exception cref="ArgumentOutOfRangeException">An option is out of range.</exception>
    public static TrainingResult Train<T>(ICouplingFlow<T> flow, ReadOnlySpan<T> data, ReadOnlySpan<T> contexts, TrainingOptions? options = null,
        IProgress<TrainingProgress>? progress = null, CancellationToken cancellationToken = default)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(flow);
        options ??= new TrainingOptions();
        var set = DataSet<T>.Create(flow, options, new Rows<T>(data, contexts, default, nameof(data), nameof(data), nameof(contexts), nameof(contexts)));
        return Run(flow, set, MaximumLikelihoodObjective<T>.Instance, options, progress, cancellationToken);
    }

    /// <summary>
    /// Maximum-likelihood training on <paramref name="data"/>, validated on <paramref name="validation"/>: every row of
    /// <paramref name="data"/> is trained on, <see cref="TrainingOptions.ValidationFraction"/> is ignored (no random split), and
    /// the validation loss that drives <see cref="TrainingOptions.Patience"/> and <see cref="TrainingOptions.RestoreBest"/> is
    /// the mean NLL of <paramref name="validation"/> (<see cref="TrainingResult.ValidationRows"/> is its row count).
    /// </summary>
    /// <param name="flow">The flow; its parameters are trained in place.</param>
    /// <param name="data">Training rows ([n, Dim], n ≥ 2) and their contexts ([n, ContextDim]).</param>
    /// <param name="validation">Validation rows ([m, Dim], m ≥ 1) and their contexts ([m, ContextDim]).</param>
    /// <param name="options">Options (defaults when null).</param>
    /// <param name="progress">Receives a report every <see cref="TrainingOptions.EvaluateEvery"/> steps and at every event.</param>
    /// <param name="cancellationToken">Stops the run between steps (<see cref="TrainingStatus.Cancelled"/>).</param>
    /// <returns>How the run went.</returns>
    /// <exception cref="ArgumentException">A length does not fit the flow (the message names the span, e.g. <c>validation.Contexts</c>, and the
    /// expected size), or a row has a NaN or infinite value.</exception>
    /// <exception cref="ArgumentOutOfRangeException">An option is out of range.</exception>
    public static TrainingResult Train<T>(ICouplingFlow<T> flow, FlowData<T> data, FlowData<T> validation, TrainingOptions? options = null,
        IProgress<TrainingProgress>? progress = null, CancellationToken cancellationToken = default)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(flow);
        options ??= new TrainingOptions();
        var set = DataSet<T>.Create(flow, options,
            new Rows<T>(data.Rows, data.Contexts, default, "data.Rows", nameof(data), "data.Contexts", nameof(data)),
            new Rows<T>(validation.Rows, validation.Contexts, default, "validation.Rows", nameof(validation), "validation.Contexts", nameof(validation)));
        return Run(flow, set, MaximumLikelihoodObjective<T>.Instance, options, progress, cancellationToken);
    }

    /// <summary>
    /// Least-squares fit of the map of an unconditional flow: minimises the mean over rows and coordinates of
    /// (Forward(x) − y)² (or of (Inverse(y) − x)² with <see cref="MapDirection.Inverse"/>), using the generated
    /// vector-Jacobian products. A random <see cref="TrainingOptions.ValidationFraction"/> of the pairs is held out.
    /// </summary>
    /// <param name="flow">The flow; its parameters are trained in place.</param>
    /// <param name="inputs">x, row-major [n, Dim].</param>
    /// <param name="targets">y, row-major [n, Dim].</param>
    /// <param name="options">Options (defaults when null).</param>
    /// <param name="progress">Receives a report every <see cref="TrainingOptions.EvaluateEvery"/> steps and at every event.</param>
    /// <param name="direction">Which map is fitted.</param>
    /// <param name="cancellationToken">Stops the run between steps.</param>
    /// <returns>How the run went (losses are mean squared errors).</returns>
    public static TrainingResult FitMap<T>(ICouplingFlow<T> flow, ReadOnlySpan<T> inputs, ReadOnlySpan<T> targets, TrainingOptions? options = null,
        IProgress<TrainingProgress>? progress = null, MapDirection direction = MapDirection.Forward, CancellationToken cancellationToken = default)
        where T : unmanaged, IFloatingPointIeee754<T> =>
        FitMap(flow, inputs, default, targets, options, progress, direction, cancellationToken);

    /// <summary>
    /// Least-squares fit of the map: minimises the mean over rows and coordinates of (Forward(x, c) − y)² (or of
    /// (Inverse(y, c) − x)² with <see cref="MapDirection.Inverse"/>), using the generated vector-Jacobian products.
    /// A random <see cref="TrainingOptions.ValidationFraction"/> of the triples is held out.
    /// </summary>
    /// <param name="flow">The flow; its parameters are trained in place.</param>
    /// <param name="inputs">x, row-major [n, Dim].</param>
    /// <param name="contexts">c, row-major [n, ContextDim]; empty for an unconditional flow.</param>
    /// <param name="targets">y, row-major [n, Dim].</param>
    /// <param name="options">Options (defaults when null).</param>
    /// <param name="progress">Receives a report every <see cref="TrainingOptions.EvaluateEvery"/> steps and at every event.</param>
    /// <param name="direction">Which map is fitted.</param>
    /// <param name="cancellationToken">Stops the run between steps.</param>
    /// <returns>How the run went (losses are mean squared errors).</returns>
    public static TrainingResult FitMap<T>(ICouplingFlow<T> flow, ReadOnlySpan<T> inputs, ReadOnlySpan<T> contexts, ReadOnlySpan<T> targets,
        TrainingOptions? options = null, IProgress<TrainingProgress>? progress = null, MapDirection direction = MapDirection.Forward,
        CancellationToken cancellationToken = default)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(flow);
        options ??= new TrainingOptions();
        if (targets.Length != inputs.Length)
        {
            throw new ArgumentException($"targets.Length must equal inputs.Length ({inputs.Length}); it is {targets.Length}.", nameof(targets));
        }
        var set = DataSet<T>.Create(flow, options, new Rows<T>(inputs, contexts, targets, nameof(inputs), nameof(inputs), nameof(contexts), nameof(contexts), nameof(targets)),
            targetDim: flow.Dim);
        return Run(flow, set, new MapObjective<T>(direction), options, progress, cancellationToken);
    }

    /// <summary>
    /// Minimises any <see cref="IFlowObjective{T}"/> over <paramref name="data"/>, holding out a random
    /// <see cref="TrainingOptions.ValidationFraction"/> of the rows (with their contexts and targets) for validation; everything
    /// else as <c>Train</c> (Adam, schedule, clipping, divergence guard, early stopping, progress, determinism across thread
    /// counts). <c>Fit(flow, new FlowData&lt;T&gt;(data, contexts), MaximumLikelihoodObjective&lt;T&gt;.Instance, options)</c> is
    /// <c>Train(flow, data, contexts, options)</c>, bit for bit.
    /// </summary>
    /// <param name="flow">The flow; its parameters are trained in place.</param>
    /// <param name="data">Rows ([n, Dim], n ≥ 2), their contexts ([n, ContextDim]) and targets ([n, TargetDim], any width). For a
    /// conditional flow the rows may be empty: then the context rows are the data (n = contexts / ContextDim) and the
    /// objective sees empty <see cref="FlowBatch{T}.Inputs"/>.</param>
    /// <param name="objective">The loss; it gets every shard of every batch through <see cref="FlowBatch{T}"/>.</param>
    /// <param name="options">Options (defaults when null).</param>
    /// <param name="progress">Receives a report every <see cref="TrainingOptions.EvaluateEvery"/> steps and at every event.</param>
    /// <param name="cancellationToken">Stops the run between steps (<see cref="TrainingStatus.Cancelled"/>).</param>
    /// <returns>How the run went (losses are the objective's mean per row).</returns>
    /// <exception cref="ArgumentException">A length does not fit the flow, or a value is NaN or infinite.</exception>
    /// <exception cref="ArgumentOutOfRangeException">An option is out of range.</exception>
    public static TrainingResult Fit<T>(ICouplingFlow<T> flow, FlowData<T> data, IFlowObjective<T> objective, TrainingOptions? options = null,
        IProgress<TrainingProgress>? progress = null, CancellationToken cancellationToken = default)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(flow);
        ArgumentNullException.ThrowIfNull(objective);
        options ??= new TrainingOptions();
        bool hasInputs = !(data.Rows.IsEmpty && flow.ContextDim > 0 && !data.Contexts.IsEmpty);
        var set = DataSet<T>.Create(flow, options,
            new Rows<T>(data.Rows, data.Contexts, data.Targets, "data.Rows", nameof(data), "data.Contexts", nameof(data), "data.Targets", nameof(data)),
            hasInputs, targetDim: -1);
        return Run(flow, set, objective, options, progress, cancellationToken);
    }

    /// <summary>
    /// Minimises any <see cref="IFlowObjective{T}"/> over <paramref name="data"/>, validated on <paramref name="validation"/> (no
    /// random split; the validation loss is the objective's <see cref="IFlowObjective{T}.Loss"/> over the validation rows,
    /// divided by their number). Otherwise as <see cref="Fit{T}(ICouplingFlow{T}, FlowData{T}, IFlowObjective{T}, TrainingOptions?, IProgress{TrainingProgress}?, CancellationToken)"/>.
    /// </summary>
    /// <param name="flow">The flow; its parameters are trained in place.</param>
    /// <param name="data">Training rows, contexts and targets.</param>
    /// <param name="validation">Validation rows (m ≥ 1), contexts and targets of the same widths.</param>
    /// <param name="objective">The loss.</param>
    /// <param name="options">Options (defaults when null).</param>
    /// <param name="progress">Receives a report every <see cref="TrainingOptions.EvaluateEvery"/> steps and at every event.</param>
    /// <param name="cancellationToken">Stops the run between steps (<see cref="TrainingStatus.Cancelled"/>).</param>
    /// <returns>How the run went.</returns>
    public static TrainingResult Fit<T>(ICouplingFlow<T> flow, FlowData<T> data, FlowData<T> validation, IFlowObjective<T> objective,
        TrainingOptions? options = null, IProgress<TrainingProgress>? progress = null, CancellationToken cancellationToken = default)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(flow);
        ArgumentNullException.ThrowIfNull(objective);
        options ??= new TrainingOptions();
        bool hasInputs = !(data.Rows.IsEmpty && flow.ContextDim > 0 && !data.Contexts.IsEmpty);
        var set = DataSet<T>.Create(flow, options,
            new Rows<T>(data.Rows, data.Contexts, data.Targets, "data.Rows", nameof(data), "data.Contexts", nameof(data), "data.Targets", nameof(data)),
            new Rows<T>(validation.Rows, validation.Contexts, validation.Targets, "validation.Rows", nameof(validation), "validation.Contexts", nameof(validation), "validation.Targets", nameof(validation)),
            hasInputs, targetDim: -1);
        return Run(flow, set, objective, options, progress, cancellationToken);
    }

    /// <summary>
    /// Minimises an <see cref="IFlowObjective{T}"/> that draws its own rows (e.g. latent noise, from
    /// <see cref="FlowBatch{T}.CreateRandom"/>): every step hands it <see cref="TrainingOptions.BatchSize"/> rows with empty
    /// inputs, contexts and targets; validation is one fixed set of <see cref="TrainingOptions.ValidationSamples"/> such rows
    /// (the same noise seeds at every evaluation; 0: no validation). <see cref="TrainingOptions.Epochs"/> counts one step per epoch.
    /// </summary>
    /// <param name="flow">The flow; its parameters are trained in place.</param>
    /// <param name="objective">The loss.</param>
    /// <param name="options">Options (defaults when null).</param>
    /// <param name="progress">Receives a report every <see cref="TrainingOptions.EvaluateEvery"/> steps and at every event.</param>
    /// <param name="cancellationToken">Stops the run between steps (<see cref="TrainingStatus.Cancelled"/>).</param>
    /// <returns>How the run went.</returns>
    public static TrainingResult Fit<T>(ICouplingFlow<T> flow, IFlowObjective<T> objective, TrainingOptions? options = null,
        IProgress<TrainingProgress>? progress = null, CancellationToken cancellationToken = default)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(flow);
        ArgumentNullException.ThrowIfNull(objective);
        options ??= new TrainingOptions();
        var set = DataSet<T>.CreateVirtual(flow, options, options.BatchSize, options.ValidationSamples);
        return Run(flow, set, objective, options, progress, cancellationToken);
    }

    /// <summary>Mean negative log-likelihood (nats per row, in double) of an unconditional flow on row-major data, computed in parallel chunks.</summary>
    /// <param name="flow">The flow.</param>
    /// <param name="data">Rows, row-major [n, Dim].</param>
    /// <param name="threads">Worker threads (0: all cores). The result does not depend on it.</param>
    /// <returns>The mean NLL, or NaN for no rows.</returns>
    public static double MeanNll<T>(ICouplingFlow<T> flow, ReadOnlySpan<T> data, int threads = 0)
        where T : unmanaged, IFloatingPointIeee754<T> =>
        MeanNll(flow, data, default, threads);

    /// <summary>Mean negative log-likelihood (nats per row, in double) of row-major data given one context row per data row, computed in parallel chunks.</summary>
    /// <param name="flow">The flow.</param>
    /// <param name="data">Rows, row-major [n, Dim].</param>
    /// <param name="contexts">Context rows, row-major [n, ContextDim]; empty for an unconditional flow.</param>
    /// <param name="threads">Worker threads (0: all cores). The result does not depend on it.</param>
    /// <returns>The mean NLL, or NaN for no rows.</returns>
    /// <remarks>For a flow trained on standardised data, the NLL in the data's units is this value minus <see cref="Standardizer.LogDet"/>.</remarks>
    public static double MeanNll<T>(ICouplingFlow<T> flow, ReadOnlySpan<T> data, ReadOnlySpan<T> contexts, int threads = 0)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(flow);
        int n = FlowTile.RowCount(data.Length, flow.Dim, nameof(data));
        CheckContextLength(contexts.Length, n, flow.ContextDim, nameof(contexts), nameof(contexts));
        if (n == 0) return double.NaN;
        T[] rows = data.ToArray();
        T[] ctx = contexts.ToArray();
        return EvaluateNll(flow, rows, ctx, n, threads <= 0 ? Environment.ProcessorCount : threads);
    }

    internal static void CheckContextLength(int length, int rows, int contextDim, string name, string parameter)
    {
        if (length == (long)rows * contextDim) return;
        throw new ArgumentException(contextDim == 0
            ? $"{name}.Length must be 0 (an unconditional flow takes no context); it is {length}."
            : $"{name}.Length must be {(long)rows * contextDim} ({rows} rows × ContextDim {contextDim}); it is {length}.", parameter);
    }
}

/// <summary>
/// Adam with decoupled weight decay (AdamW, Loshchilov &amp; Hutter): m ← β₁m + (1−β₁)g, v ← β₂v + (1−β₂)g²,
/// θ ← θ − lr·(m̂/(√v̂ + ε) + λθ) with bias-corrected m̂, v̂.
/// </summary>
/// <typeparam name="T"><see cref="float"/> or <see cref="double"/>.</typeparam>
public sealed class AdamOptimizer<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly T[] _m, _v;
    private readonly int[] _fixed;
    private readonly T[] _fixedValues;
    private int _t;

    /// <summary>An optimizer for <paramref name="parameterCount"/> parameters.</summary>
    public AdamOptimizer(int parameterCount) : this(parameterCount, ReadOnlySpan<int>.Empty)
    {
    }

    /// <summary>
    /// An optimizer that never changes the parameters at <paramref name="fixedIndices"/> (neither the Adam update nor the
    /// weight decay touches them): the parameters a base declaration fixes (docs/model.md §11).
    /// </summary>
    internal AdamOptimizer(int parameterCount, ReadOnlySpan<int> fixedIndices)
    {
        _m = new T[parameterCount];
        _v = new T[parameterCount];
        foreach (int i in fixedIndices)
            if ((uint)i >= (uint)parameterCount) throw new ArgumentOutOfRangeException(nameof(fixedIndices), i, $"A fixed index must be below {parameterCount}.");
        _fixed = fixedIndices.ToArray();
        _fixedValues = new T[_fixed.Length];
    }

    /// <summary>
    /// The indices of the parameters a flow's declaration fixes, read from its <see cref="ICouplingFlow{T}.StackSpec"/> and
    /// <see cref="ICouplingFlow{T}.ParameterTensors"/>: a mixture base's <c>base.means</c> with <c>LearnableMeans = false</c>,
    /// its <c>base.log_scales</c> with <c>LearnableScales = false</c>, a Student-t base's <c>base.log_dof</c> with
    /// <c>LearnableDegreesOfFreedom = false</c> (docs/model.md §11). Empty when the flow has none.
    /// </summary>
    internal static int[] FixedParameterIndices(ICouplingFlow<T> flow)
    {
        using var spec = System.Text.Json.JsonDocument.Parse(flow.StackSpec);
        if (!spec.RootElement.TryGetProperty("base", out var b) || !b.TryGetProperty("kind", out var kind)) return Array.Empty<int>();
        bool Fixed(string flag) => b.TryGetProperty(flag, out var v) && v.ValueKind == System.Text.Json.JsonValueKind.False;
        var names = new List<string>();
        switch (kind.GetString())
        {
            case "gaussian_mixture":
                if (Fixed("learnable_means")) names.Add("base.means");
                if (Fixed("learnable_scales")) names.Add("base.log_scales");
                break;
            case "student_t":
                if (Fixed("learnable")) names.Add("base.log_dof");
                break;
        }
        var indices = new List<int>();
        foreach (ParameterTensor t in flow.ParameterTensors)
            if (names.Contains(t.Name))
                for (int j = 0; j < t.Length; j++) indices.Add(t.Offset + j);
        return indices.ToArray();
    }

    /// <summary>Steps taken since construction or <see cref="Reset"/>.</summary>
    public int StepCount => _t;

    /// <summary>Forgets the moment estimates.</summary>
    public void Reset()
    {
        Array.Clear(_m);
        Array.Clear(_v);
        _t = 0;
    }

    /// <summary>One update of <paramref name="parameters"/> with <paramref name="gradient"/>.</summary>
    public void Step(Span<T> parameters, ReadOnlySpan<T> gradient, double learningRate, double beta1 = 0.9, double beta2 = 0.999, double epsilon = 1e-8, double weightDecay = 0)
    {
        if (parameters.Length != _m.Length) throw new ArgumentException($"parameters.Length must be {_m.Length}; it is {parameters.Length}.", nameof(parameters));
        if (gradient.Length != _m.Length) throw new ArgumentException($"gradient.Length must be {_m.Length}; it is {gradient.Length}.", nameof(gradient));
        _t++;
        for (int f = 0; f < _fixed.Length; f++) _fixedValues[f] = parameters[_fixed[f]];
        T b1 = T.CreateChecked(beta1), b2 = T.CreateChecked(beta2);
        T c1 = T.One - b1, c2 = T.One - b2;
        T stepSize = T.CreateChecked(learningRate / (1 - Math.Pow(beta1, _t)));
        T root = T.CreateChecked(1 / Math.Sqrt(1 - Math.Pow(beta2, _t)));
        T eps = T.CreateChecked(epsilon), decay = T.CreateChecked(learningRate * weightDecay);
        int i = 0;
        if (Vector.IsHardwareAccelerated)
        {
            var vb1 = new Vector<T>(b1); var vb2 = new Vector<T>(b2); var vc1 = new Vector<T>(c1); var vc2 = new Vector<T>(c2);
            var vStep = new Vector<T>(stepSize); var vRoot = new Vector<T>(root); var vEps = new Vector<T>(eps); var vDecay = new Vector<T>(decay);
            for (; i <= parameters.Length - Vector<T>.Count; i += Vector<T>.Count)
            {
                var g = new Vector<T>(gradient.Slice(i));
                var m = vb1 * new Vector<T>(_m, i) + vc1 * g;
                var v = vb2 * new Vector<T>(_v, i) + vc2 * g * g;
                m.CopyTo(_m, i);
                v.CopyTo(_v, i);
                var p = new Vector<T>(parameters.Slice(i));
                p = p - vStep * m / (Vector.SquareRoot(v) * vRoot + vEps) - vDecay * p;
                p.CopyTo(parameters.Slice(i));
            }
        }
        for (; i < parameters.Length; i++)
        {
            T g = gradient[i];
            T m = b1 * _m[i] + c1 * g;
            T v = b2 * _v[i] + c2 * g * g;
            _m[i] = m;
            _v[i] = v;
            T p = parameters[i];
            parameters[i] = p - stepSize * m / (T.Sqrt(v) * root + eps) - decay * p;
        }
        // fixed parameters: put back exactly (the loops above are the same for every index, so the others' bits do not change)
        for (int f = 0; f < _fixed.Length; f++)
        {
            int j = _fixed[f];
            parameters[j] = _fixedValues[f];
            _m[j] = T.Zero;
            _v[j] = T.Zero;
        }
    }
}
