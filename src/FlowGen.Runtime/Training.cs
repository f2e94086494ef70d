using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Numerics;
using System.Threading;
using System.Threading.Tasks;

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

    /// <summary>Passes over the training split; when positive, the number of steps is Epochs × ⌈train rows / BatchSize⌉.</summary>
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

    /// <summary>Fraction of the rows held out for validation (default 0.1; 0 for none).</summary>
    public double ValidationFraction { get; set; } = 0.1;

    /// <summary>Evaluate (and report) every this many steps (default 100).</summary>
    public int EvaluateEvery { get; set; } = 100;

    /// <summary>Early stopping: stop after this many evaluations without a better validation loss (default 0: never).</summary>
    public int Patience { get; set; }

    /// <summary>Restore the parameters with the best validation loss at the end (default true; needs a validation split).</summary>
    public bool RestoreBest { get; set; } = true;

    /// <summary>Worker threads for the data-parallel gradient (default: all cores). The result does not depend on it.</summary>
    public int Threads { get; set; } = Environment.ProcessorCount;

    /// <summary>Seed of the shuffles (default 0).</summary>
    public ulong Seed { get; set; }

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

    internal void Validate()
    {
        if (BatchSize < 1) throw new ArgumentOutOfRangeException(nameof(BatchSize), BatchSize, "BatchSize must be at least 1.");
        if (Steps < 1 && Epochs < 1) throw new ArgumentOutOfRangeException(nameof(Steps), Steps, "Set Steps or Epochs to at least 1.");
        if (!(LearningRate > 0) || double.IsInfinity(LearningRate)) throw new ArgumentOutOfRangeException(nameof(LearningRate), LearningRate, "LearningRate must be positive and finite.");
        if (MinLearningRate < 0) throw new ArgumentOutOfRangeException(nameof(MinLearningRate), MinLearningRate, "MinLearningRate must not be negative.");
        if (ValidationFraction < 0 || ValidationFraction >= 1) throw new ArgumentOutOfRangeException(nameof(ValidationFraction), ValidationFraction, "ValidationFraction must be in [0, 1).");
        if (EvaluateEvery < 1) throw new ArgumentOutOfRangeException(nameof(EvaluateEvery), EvaluateEvery, "EvaluateEvery must be at least 1.");
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
/// <param name="TrainLoss">Mean training loss since the previous report (NLL in nats per sample, or MSE for map fitting).</param>
/// <param name="ValidationLoss">Validation loss at this report, when there is a validation split.</param>
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

    /// <summary>Best validation loss seen (NaN without a validation split).</summary>
    public double BestValidationLoss { get; internal set; } = double.NaN;

    /// <summary>Step at which <see cref="BestValidationLoss"/> was measured.</summary>
    public int BestStep { get; internal set; }

    /// <summary>Validation loss of the parameters the flow holds at the end (NaN without a validation split).</summary>
    public double FinalValidationLoss { get; internal set; } = double.NaN;

    /// <summary>Steps skipped because the loss or gradient was not finite.</summary>
    public int SkippedSteps { get; internal set; }

    /// <summary>Rollbacks to the last good parameters.</summary>
    public int Rollbacks { get; internal set; }

    /// <summary>Wall time of the run.</summary>
    public TimeSpan Elapsed { get; internal set; }

    /// <summary>Training samples per second over the whole run.</summary>
    public double SamplesPerSecond { get; internal set; }

    /// <summary>Rows used for training and validation.</summary>
    public int TrainRows { get; internal set; }

    /// <summary>Rows held out for validation.</summary>
    public int ValidationRows { get; internal set; }

    /// <summary>Everything noteworthy that happened (skipped steps, rollbacks, early stop).</summary>
    public List<string> Events { get; } = new();
}

/// <summary>Which map <see cref="FlowTrainer.FitMap{T}"/> fits.</summary>
public enum MapDirection
{
    /// <summary>Fit Forward(x) ≈ y.</summary>
    Forward = 0,

    /// <summary>Fit Inverse(y) ≈ x, i.e. train the inverse map.</summary>
    Inverse = 1,
}

/// <summary>
/// Trains any generated flow in-process: maximum likelihood on a data set (<see cref="Train{T}"/>) or least squares on pairs
/// (<see cref="FitMap{T}"/>), with Adam(W), gradient clipping, a learning-rate schedule, a validation split with early stopping,
/// and data-parallel gradients whose reduction does not depend on the number of threads.
/// </summary>
/// <remarks>
/// Determinism: each batch is cut into a fixed number of shards (at most 8, each at least 32 rows), independent of
/// <see cref="TrainingOptions.Threads"/>; every shard's gradient is computed sequentially and the shards are summed in a fixed
/// order, so a given seed gives bit-identical parameters with 1 or 16 threads.
/// </remarks>
public static class FlowTrainer
{
    private const int MaxShards = 8;
    private const int MinShardRows = 32;

    /// <summary>
    /// Maximum-likelihood training on <paramref name="data"/> (row-major [n, Dim]; for a conditional flow, <paramref name="contexts"/>
    /// row-major [n, ContextDim]). Throws <see cref="ArgumentException"/> naming the first row with a NaN or infinite value.
    /// </summary>
    public static TrainingResult Train<T>(ICouplingFlow<T> flow, ReadOnlySpan<T> data, TrainingOptions? options = null,
        IProgress<TrainingProgress>? progress = null, ReadOnlySpan<T> contexts = default, CancellationToken cancellationToken = default)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(flow);
        options ??= new TrainingOptions();
        var set = DataSet<T>.Create(flow, data, default, contexts, options, nameof(data), null);
        var objective = new NllObjective<T>(flow, set);
        return Run(flow, set, objective, options, progress, cancellationToken);
    }

    /// <summary>
    /// Least-squares fit of the map: minimises the mean over rows and coordinates of (Forward(x) − y)² (or of
    /// (Inverse(y) − x)² with <see cref="MapDirection.Inverse"/>), using the generated vector-Jacobian products.
    /// </summary>
    public static TrainingResult FitMap<T>(ICouplingFlow<T> flow, ReadOnlySpan<T> inputs, ReadOnlySpan<T> targets, TrainingOptions? options = null,
        IProgress<TrainingProgress>? progress = null, MapDirection direction = MapDirection.Forward, ReadOnlySpan<T> contexts = default,
        CancellationToken cancellationToken = default)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(flow);
        options ??= new TrainingOptions();
        if (targets.Length != inputs.Length)
        {
            throw new ArgumentException($"targets.Length must equal inputs.Length ({inputs.Length}); it is {targets.Length}.", nameof(targets));
        }
        var set = DataSet<T>.Create(flow, inputs, targets, contexts, options, nameof(inputs), nameof(targets));
        var objective = new MapObjective<T>(flow, set, direction);
        return Run(flow, set, objective, options, progress, cancellationToken);
    }

    /// <summary>Mean negative log-likelihood of a data set (row-major), in double, computed in parallel chunks.</summary>
    public static double MeanNll<T>(ICouplingFlow<T> flow, ReadOnlySpan<T> data, ReadOnlySpan<T> contexts = default, int threads = 0)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(flow);
        int n = FlowTile.RowCount(data.Length, flow.Dim, nameof(data));
        if (n == 0) return double.NaN;
        T[] rows = data.ToArray();
        T[] ctx = contexts.ToArray();
        return EvaluateNll(flow, rows, ctx, n, threads <= 0 ? Environment.ProcessorCount : threads);
    }

    // ------------------------------------------------------------------ the loop

    private static TrainingResult Run<T>(ICouplingFlow<T> flow, DataSet<T> set, Objective<T> objective, TrainingOptions options,
        IProgress<TrainingProgress>? progress, CancellationToken ct)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var result = new TrainingResult { TrainRows = set.TrainRows, ValidationRows = set.ValidationRows };
        var clock = Stopwatch.StartNew();
        int p = flow.ParameterCount;
        int batch = Math.Min(options.BatchSize, set.TrainRows);
        int stepsPerEpoch = (set.TrainRows + batch - 1) / batch;
        int totalSteps = options.Epochs > 0 ? checked(options.Epochs * stepsPerEpoch) : options.Steps;

        if (!flow.IsDataInitialized && objective.UsesDataInitialization)
        {
            int rows = Math.Min(set.TrainRows, 4096);
            flow.InitializeFromData(set.Inputs.AsSpan(0, rows * set.Dim), set.ContextDim > 0 ? set.Contexts.AsSpan(0, rows * set.ContextDim) : default);
        }

        var adam = new AdamOptimizer<T>(p);
        var gradient = new T[p];
        var beforeStep = new T[p];
        T[] lastGood = flow.Parameters.ToArray();
        T[]? best = null;
        double bestValidation = double.PositiveInfinity;
        int evaluationsWithoutImprovement = 0;
        int consecutiveBad = 0;
        double learningRateScale = 1;
        var order = new int[set.TrainRows];
        for (int i = 0; i < order.Length; i++) order[i] = i;
        var rng = new FlowRandom(options.Seed);
        var shuffle = new FlowRandom(options.Seed ^ 0x9E3779B97F4A7C15UL);
        int cursor = order.Length; // forces a shuffle at the first step
        int epoch = -1;
        double windowLoss = 0;
        int windowSteps = 0;
        long windowSamples = 0, totalSamples = 0;
        var windowClock = Stopwatch.StartNew();
        var trainClock = new Stopwatch();
        int[] batchRows = new int[batch];
        double lr = 0;
        double lossAverage = 0; // moving average of the accepted losses, for LossSpikeFactor
        int acceptedSteps = 0;

        for (int step = 0; step < totalSteps; step++)
        {
            if (ct.IsCancellationRequested)
            {
                result.Status = TrainingStatus.Cancelled;
                break;
            }
            trainClock.Start();
            for (int i = 0; i < batch; i++)
            {
                if (cursor >= order.Length)
                {
                    shuffle.Shuffle(order.AsSpan());
                    cursor = 0;
                    epoch++;
                }
                batchRows[i] = order[cursor++];
            }
            Array.Clear(gradient);
            double loss = objective.LossAndGradient(batchRows, gradient, options.Threads);
            double norm = Math.Sqrt(SumOfSquares<T>(gradient));
            lr = LearningRateAt(options, step, totalSteps) * learningRateScale;
            bool finite = double.IsFinite(loss) && double.IsFinite(norm);
            string? problem = finite ? null : $"non-finite loss or gradient (loss {loss}, gradient norm {norm})";
            if (finite && options.LossSpikeFactor > 0 && acceptedSteps >= 20 && loss > lossAverage + options.LossSpikeFactor * (1 + Math.Abs(lossAverage)))
            {
                finite = false;
                problem = $"loss exploded to {loss:G4} (recent average {lossAverage:G4})";
            }
            if (finite)
            {
                if (options.GradientClipNorm > 0 && norm > options.GradientClipNorm)
                {
                    Scale(gradient, T.CreateChecked(options.GradientClipNorm / norm));
                }
                flow.Parameters.CopyTo(beforeStep);
                adam.Step(flow.Parameters, gradient, lr, options.Beta1, options.Beta2, options.Epsilon, options.WeightDecay);
                if (IndexOfNonFinite<T>(flow.Parameters) >= 0)
                {
                    // undo the update: a NaN must never reach the parameters
                    beforeStep.CopyTo(flow.Parameters);
                    finite = false;
                    problem = "the update made a parameter non-finite";
                }
            }
            trainClock.Stop();
            if (!finite)
            {
                result.SkippedSteps++;
                consecutiveBad++;
                string message = $"step {step + 1}: {problem}; step skipped";
                if (consecutiveBad >= options.MaxConsecutiveNonFinite)
                {
                    result.Rollbacks++;
                    lastGood.CopyTo(flow.Parameters);
                    learningRateScale *= 0.5;
                    adam.Reset();
                    consecutiveBad = 0;
                    message += $"; rolled back to the last good parameters and halved the learning rate (rollback {result.Rollbacks})";
                    if (result.Rollbacks > options.MaxRollbacks)
                    {
                        result.Events.Add(message);
                        result.Status = TrainingStatus.Diverged;
                        result.Events.Add($"stopped: steps still non-finite or exploding after {options.MaxRollbacks} rollbacks{ScaleHint(set.Inputs)}");
                        progress?.Report(new TrainingProgress(step + 1, totalSteps, epoch, double.NaN, null, 0, lr, result.Events[^1]));
                        result.Steps = step + 1;
                        break;
                    }
                }
                result.Events.Add(message);
                progress?.Report(new TrainingProgress(step + 1, totalSteps, epoch, double.NaN, null, 0, lr, message));
                continue;
            }
            consecutiveBad = 0;
            result.Steps = step + 1;
            lossAverage = acceptedSteps == 0 ? loss : lossAverage + 0.05 * (loss - lossAverage);
            acceptedSteps++;
            windowLoss += loss;
            windowSteps++;
            windowSamples += batch;
            totalSamples += batch;

            bool last = step == totalSteps - 1;
            if ((step + 1) % options.EvaluateEvery == 0 || last)
            {
                double trainLoss = windowLoss / Math.Max(1, windowSteps);
                double seconds = windowClock.Elapsed.TotalSeconds;
                double? validation = set.ValidationRows > 0 ? objective.ValidationLoss(options.Threads) : null;
                string? message = null;
                if (double.IsFinite(trainLoss)) flow.Parameters.CopyTo(lastGood);
                if (validation is double v)
                {
                    if (v < bestValidation)
                    {
                        bestValidation = v;
                        result.BestStep = step + 1;
                        best ??= new T[p];
                        flow.Parameters.CopyTo(best);
                        evaluationsWithoutImprovement = 0;
                    }
                    else
                    {
                        evaluationsWithoutImprovement++;
                    }
                    if (options.Patience > 0 && evaluationsWithoutImprovement >= options.Patience && !last)
                    {
                        message = $"early stop at step {step + 1}: validation loss has not improved for {options.Patience} evaluations (best {bestValidation:G6} at step {result.BestStep})";
                        result.Status = TrainingStatus.StoppedEarly;
                    }
                }
                result.FinalTrainLoss = trainLoss;
                progress?.Report(new TrainingProgress(step + 1, totalSteps, epoch, trainLoss, validation, windowSamples / Math.Max(seconds, 1e-9), lr, message));
                if (message is not null) result.Events.Add(message);
                windowLoss = 0;
                windowSteps = 0;
                windowSamples = 0;
                windowClock.Restart();
                if (result.Status == TrainingStatus.StoppedEarly) break;
            }
        }

        if (set.ValidationRows > 0)
        {
            result.BestValidationLoss = bestValidation;
            if (options.RestoreBest && best is not null) best.CopyTo(flow.Parameters);
            result.FinalValidationLoss = objective.ValidationLoss(options.Threads);
        }
        result.Elapsed = clock.Elapsed;
        result.SamplesPerSecond = totalSamples / Math.Max(trainClock.Elapsed.TotalSeconds, 1e-9);
        return result;
    }

    /// <summary>Why a run may have diverged, when the data suggest it: values far from unit scale overflow float gradients.</summary>
    private static string ScaleHint<T>(T[] inputs) where T : unmanaged, IFloatingPointIeee754<T>
    {
        double max = 0;
        foreach (T v in inputs) max = Math.Max(max, Math.Abs(double.CreateTruncating(v)));
        return max > 1e3
            ? $"; the data reach |x| = {max:G3}, where losses and gradients of polynomial or unclamped layers overflow: standardise the data (or put ActNorm first)"
            : "";
    }

    private static double LearningRateAt(TrainingOptions o, int step, int total)
    {
        if (o.WarmupSteps > 0 && step < o.WarmupSteps) return o.LearningRate * (step + 1) / o.WarmupSteps;
        if (o.Schedule == LearningRateSchedule.Constant) return o.LearningRate;
        int span = Math.Max(1, total - o.WarmupSteps);
        double t = Math.Clamp((double)(step - o.WarmupSteps) / span, 0, 1);
        return o.MinLearningRate + 0.5 * (o.LearningRate - o.MinLearningRate) * (1 + Math.Cos(Math.PI * t));
    }

    private static double SumOfSquares<T>(ReadOnlySpan<T> values) where T : unmanaged, IFloatingPointIeee754<T>
    {
        double sum = 0;
        foreach (T v in values)
        {
            double d = double.CreateTruncating(v);
            sum += d * d;
        }
        return sum;
    }

    private static void Scale<T>(Span<T> values, T factor) where T : unmanaged, IFloatingPointIeee754<T>
    {
        for (int i = 0; i < values.Length; i++) values[i] *= factor;
    }

    private static int IndexOfNonFinite<T>(ReadOnlySpan<T> values) where T : unmanaged, IFloatingPointIeee754<T>
    {
        for (int i = 0; i < values.Length; i++)
        {
            if (!T.IsFinite(values[i])) return i;
        }
        return -1;
    }

    /// <summary>target += source, element by element (vectorised; the order of operations does not depend on the lane count).</summary>
    private static void AddTo<T>(Span<T> target, ReadOnlySpan<T> source) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int i = 0;
        for (; i <= target.Length - Vector<T>.Count; i += Vector<T>.Count)
        {
            (new Vector<T>(target.Slice(i)) + new Vector<T>(source.Slice(i))).CopyTo(target.Slice(i));
        }
        for (; i < target.Length; i++) target[i] += source[i];
    }

    private static double EvaluateNll<T>(ICouplingFlow<T> flow, T[] rows, T[] contexts, int n, int threads)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        const int Chunk = 1024;
        int chunks = (n + Chunk - 1) / Chunk;
        var sums = new double[chunks];
        int dim = flow.Dim, cdim = flow.ContextDim;
        Parallel.For(0, chunks, new ParallelOptions { MaxDegreeOfParallelism = threads }, c =>
        {
            int start = c * Chunk, count = Math.Min(Chunk, n - start);
            var lp = new T[count];
            flow.LogProb(rows.AsSpan(start * dim, count * dim), cdim > 0 ? contexts.AsSpan(start * cdim, count * cdim) : default, lp);
            double s = 0;
            foreach (T v in lp) s -= double.CreateTruncating(v);
            sums[c] = s;
        });
        double total = 0;
        foreach (double s in sums) total += s;
        return total / n;
    }

    // ------------------------------------------------------------------ data and objectives

    /// <summary>Training rows (shuffled once, then split) held as arrays so that shards can run in parallel.</summary>
    internal sealed class DataSet<T> where T : unmanaged, IFloatingPointIeee754<T>
    {
        public int Dim, ContextDim, TrainRows, ValidationRows;
        public T[] Inputs = Array.Empty<T>(), Targets = Array.Empty<T>(), Contexts = Array.Empty<T>();

        public static DataSet<T> Create(ICouplingFlow<T> flow, ReadOnlySpan<T> inputs, ReadOnlySpan<T> targets, ReadOnlySpan<T> contexts,
            TrainingOptions options, string inputName, string? targetName)
        {
            options.Validate();
            int dim = flow.Dim, cdim = flow.ContextDim;
            int n = FlowTile.RowCount(inputs.Length, dim, inputName);
            if (n < 2) throw new ArgumentException($"{inputName} needs at least 2 rows; it has {n}.", inputName);
            FlowTile.CheckLength(contexts.Length, n * cdim, cdim == 0 ? "an unconditional flow takes no context" : "rows × ContextDim", nameof(contexts));
            RejectNonFinite(inputs, dim, inputName);
            if (targetName is not null) RejectNonFinite(targets, dim, targetName);
            if (cdim > 0) RejectNonFinite(contexts, cdim, nameof(contexts));

            // one shuffle of the rows, then the last ValidationFraction of them are held out
            var perm = new int[n];
            for (int i = 0; i < n; i++) perm[i] = i;
            new FlowRandom(options.Seed + 0x5EEDUL).Shuffle(perm.AsSpan());
            int validation = (int)Math.Floor(n * options.ValidationFraction);
            if (options.ValidationFraction > 0 && validation == 0 && n >= 4) validation = 1;
            if (n - validation < 1) validation = n - 1;
            var set = new DataSet<T>
            {
                Dim = dim, ContextDim = cdim, TrainRows = n - validation, ValidationRows = validation,
                Inputs = new T[n * dim], Targets = targetName is null ? Array.Empty<T>() : new T[n * dim], Contexts = new T[n * cdim],
            };
            for (int i = 0; i < n; i++)
            {
                int src = perm[i];
                inputs.Slice(src * dim, dim).CopyTo(set.Inputs.AsSpan(i * dim));
                if (targetName is not null) targets.Slice(src * dim, dim).CopyTo(set.Targets.AsSpan(i * dim));
                if (cdim > 0) contexts.Slice(src * cdim, cdim).CopyTo(set.Contexts.AsSpan(i * cdim));
            }
            return set;
        }

        private static void RejectNonFinite(ReadOnlySpan<T> values, int width, string name)
        {
            int index = IndexOfNonFinite(values);
            if (index >= 0)
            {
                throw new ArgumentException($"Row {index / width} of {name} has a non-finite value ({values[index]}) at column {index % width}; clean or drop that row before training.", name);
            }
        }
    }

    /// <summary>A loss whose gradient the trainer minimises, computed shard by shard.</summary>
    internal abstract class Objective<T> where T : unmanaged, IFloatingPointIeee754<T>
    {
        protected readonly ICouplingFlow<T> Flow;
        protected readonly DataSet<T> Set;
        private T[][] _shardGradients = Array.Empty<T[]>();
        private double[] _shardLoss = Array.Empty<double>();
        private T[][] _shardInputs = Array.Empty<T[]>(), _shardTargets = Array.Empty<T[]>(), _shardContexts = Array.Empty<T[]>();

        protected Objective(ICouplingFlow<T> flow, DataSet<T> set)
        {
            Flow = flow;
            Set = set;
        }

        public virtual bool UsesDataInitialization => true;

        /// <summary>Mean loss over the batch rows; the gradient of the mean is added to <paramref name="gradient"/>.</summary>
        public double LossAndGradient(int[] rows, T[] gradient, int threads)
        {
            int b = rows.Length;
            int shards = Math.Max(1, Math.Min(MaxShards, b / MinShardRows));
            int per = (b + shards - 1) / shards;
            if (_shardGradients.Length != shards || _shardInputs[0].Length < per * Set.Dim)
            {
                _shardGradients = new T[shards][];
                _shardLoss = new double[shards];
                _shardInputs = new T[shards][];
                _shardTargets = new T[shards][];
                _shardContexts = new T[shards][];
                for (int s = 0; s < shards; s++)
                {
                    _shardGradients[s] = new T[Flow.ParameterCount];
                    _shardInputs[s] = new T[per * Set.Dim];
                    _shardTargets[s] = new T[Set.Targets.Length > 0 ? per * Set.Dim : 0];
                    _shardContexts[s] = new T[per * Set.ContextDim];
                }
            }
            T weight = T.One / T.CreateChecked(b);
            void Shard(int s)
            {
                int start = s * per, count = Math.Min(per, b - start);
                Array.Clear(_shardGradients[s]);
                if (count <= 0)
                {
                    _shardLoss[s] = 0;
                    return;
                }
                int dim = Set.Dim, cdim = Set.ContextDim;
                for (int i = 0; i < count; i++)
                {
                    int r = rows[start + i];
                    Array.Copy(Set.Inputs, r * dim, _shardInputs[s], i * dim, dim);
                    if (Set.Targets.Length > 0) Array.Copy(Set.Targets, r * dim, _shardTargets[s], i * dim, dim);
                    if (cdim > 0) Array.Copy(Set.Contexts, r * cdim, _shardContexts[s], i * cdim, cdim);
                }
                _shardLoss[s] = ShardLoss(_shardInputs[s].AsSpan(0, count * dim), _shardTargets[s].AsSpan(0, Set.Targets.Length > 0 ? count * dim : 0),
                    _shardContexts[s].AsSpan(0, count * cdim), _shardGradients[s], weight, count);
            }
            if (threads <= 1 || shards == 1)
            {
                for (int s = 0; s < shards; s++) Shard(s);
            }
            else
            {
                Parallel.For(0, shards, new ParallelOptions { MaxDegreeOfParallelism = threads }, Shard);
            }
            // fixed-order reduction: the result does not depend on which thread ran which shard
            double loss = 0;
            for (int s = 0; s < shards; s++)
            {
                loss += _shardLoss[s];
                AddTo<T>(gradient, _shardGradients[s]);
            }
            return loss / b;
        }

        /// <summary>Sum of the per-row losses of a shard; adds weight·Σ ∂loss/∂θ to gradient.</summary>
        protected abstract double ShardLoss(ReadOnlySpan<T> inputs, ReadOnlySpan<T> targets, ReadOnlySpan<T> contexts, T[] gradient, T weight, int count);

        public abstract double ValidationLoss(int threads);
    }

    private sealed class NllObjective<T> : Objective<T> where T : unmanaged, IFloatingPointIeee754<T>
    {
        public NllObjective(ICouplingFlow<T> flow, DataSet<T> set) : base(flow, set) { }

        protected override double ShardLoss(ReadOnlySpan<T> inputs, ReadOnlySpan<T> targets, ReadOnlySpan<T> contexts, T[] gradient, T weight, int count) =>
            Flow.NllGradient(inputs, contexts, gradient, weight);

        public override double ValidationLoss(int threads)
        {
            int start = Set.TrainRows;
            T[] rows = Set.Inputs.AsSpan(start * Set.Dim).ToArray();
            T[] ctx = Set.ContextDim > 0 ? Set.Contexts.AsSpan(start * Set.ContextDim).ToArray() : Array.Empty<T>();
            return EvaluateNll(Flow, rows, ctx, Set.ValidationRows, threads);
        }
    }

    private sealed class MapObjective<T> : Objective<T> where T : unmanaged, IFloatingPointIeee754<T>
    {
        private readonly MapDirection _direction;
        private readonly ThreadLocal<T[]> _outputs = new(() => Array.Empty<T>());

        public MapObjective(ICouplingFlow<T> flow, DataSet<T> set, MapDirection direction) : base(flow, set) => _direction = direction;

        public override bool UsesDataInitialization => false;

        private Span<T> Map(ReadOnlySpan<T> inputs, ReadOnlySpan<T> contexts, ReadOnlySpan<T> targets)
        {
            T[] buffer = _outputs.Value!;
            if (buffer.Length < inputs.Length) _outputs.Value = buffer = new T[inputs.Length];
            Span<T> outputs = buffer.AsSpan(0, inputs.Length);
            // Forward: inputs are x, the map's output is compared with y. Inverse: inputs (y) go through Inverse, compared with x.
            if (_direction == MapDirection.Forward) Flow.Forward(inputs, contexts, outputs, default);
            else Flow.Inverse(targets, contexts, outputs, default);
            return outputs;
        }

        protected override double ShardLoss(ReadOnlySpan<T> inputs, ReadOnlySpan<T> targets, ReadOnlySpan<T> contexts, T[] gradient, T weight, int count)
        {
            // Forward: minimise |f(x) − y|²; Inverse: minimise |f⁻¹(y) − x|² (the data set's inputs are x, targets y).
            ReadOnlySpan<T> wanted = _direction == MapDirection.Forward ? targets : inputs;
            Span<T> outputs = Map(inputs, contexts, targets);
            double loss = 0;
            T scale = T.CreateChecked(2) * weight / T.CreateChecked(Set.Dim);
            for (int i = 0; i < outputs.Length; i++)
            {
                T diff = outputs[i] - wanted[i];
                double d = double.CreateTruncating(diff);
                loss += d * d;
                outputs[i] = scale * diff;
            }
            if (_direction == MapDirection.Forward) Flow.ForwardVjp(inputs, contexts, outputs, default, gradient, default, default);
            else Flow.InverseVjp(targets, contexts, outputs, default, gradient, default, default);
            return loss / Set.Dim;
        }

        public override double ValidationLoss(int threads)
        {
            int start = Set.TrainRows * Set.Dim, length = Set.ValidationRows * Set.Dim;
            ReadOnlySpan<T> inputs = Set.Inputs.AsSpan(start, length), targets = Set.Targets.AsSpan(start, length);
            ReadOnlySpan<T> contexts = Set.ContextDim > 0 ? Set.Contexts.AsSpan(Set.TrainRows * Set.ContextDim) : default;
            Span<T> outputs = Map(inputs, contexts, targets);
            ReadOnlySpan<T> wanted = _direction == MapDirection.Forward ? targets : inputs;
            double loss = 0;
            for (int i = 0; i < outputs.Length; i++)
            {
                double d = double.CreateTruncating(outputs[i] - wanted[i]);
                loss += d * d;
            }
            return loss / length;
        }
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
    private int _t;

    /// <summary>An optimizer for <paramref name="parameterCount"/> parameters.</summary>
    public AdamOptimizer(int parameterCount)
    {
        _m = new T[parameterCount];
        _v = new T[parameterCount];
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
    }
}
