using System;
using System.Diagnostics;
using System.Numerics;
using System.Runtime.InteropServices;
using System.Threading;

namespace FlowGen;

// The training loop, in named parts: BatchSampler (which rows each step sees), DivergenceGuard (non-finite or exploding
// steps are skipped, then rolled back), ValidationTracker (best parameters and early stopping) and ProgressWindow (the
// mean loss and throughput of each report). TrainingRun drives them, one step at a time.
public static partial class FlowTrainer
{
    private const int MaxShards = 8;
    private const int MinShardRows = 32;

    private static TrainingResult Run<T>(ICouplingFlow<T> flow, DataSet<T> set, IFlowObjective<T> objective, TrainingOptions options,
        IProgress<TrainingProgress>? progress, CancellationToken ct)
        where T : unmanaged, IFloatingPointIeee754<T> =>
        new TrainingRun<T>(flow, set, new ObjectiveRunner<T>(flow, set, objective, options.Seed), options, progress).Execute(ct);

    /// <summary>One run of the trainer: the state that lives across steps and the step itself.</summary>
    private sealed class TrainingRun<T> where T : unmanaged, IFloatingPointIeee754<T>
    {
        private readonly ICouplingFlow<T> _flow;
        private readonly DataSet<T> _set;
        private readonly ObjectiveRunner<T> _objective;
        private readonly TrainingOptions _options;
        private readonly IProgress<TrainingProgress>? _progress;
        private readonly TrainingResult _result;
        private readonly Stopwatch _clock = Stopwatch.StartNew();
        private readonly int _batch, _totalSteps;
        private readonly AdamOptimizer<T> _adam;
        private readonly T[] _gradient;
        private readonly IRowFeed _sampler;
        private readonly DivergenceGuard<T> _guard;
        private readonly ValidationTracker<T> _validation;
        private readonly ProgressWindow _window;

        public TrainingRun(ICouplingFlow<T> flow, DataSet<T> set, ObjectiveRunner<T> objective, TrainingOptions options, IProgress<TrainingProgress>? progress)
        {
            _flow = flow;
            _set = set;
            _objective = objective;
            _options = options;
            _progress = progress;
            _result = new TrainingResult { TrainRows = set.TrainRows, ValidationRows = set.ValidationRows };
            _batch = Math.Min(options.BatchSize, set.TrainRows);
            int stepsPerEpoch = (set.TrainRows + _batch - 1) / _batch;
            _totalSteps = options.Epochs > 0 ? checked(options.Epochs * stepsPerEpoch) : options.Steps;

            if (!flow.IsDataInitialized && objective.Objective.UsesDataInitialization && set.Dim > 0 && set.Stream is null)
            {
                int rows = Math.Min(set.TrainRows, 4096);
                flow.InitializeFromData(set.Inputs.AsSpan(0, rows * set.Dim), set.ContextDim > 0 ? set.Contexts.AsSpan(0, rows * set.ContextDim) : default);
            }

            var state = new TrainedParameters<T>(flow, objective.Objective.ObjectiveParameters);
            _adam = new AdamOptimizer<T>(flow.ParameterCount, AdamOptimizer<T>.FixedParameterIndices(flow)); // fixed base parameters: no update, no decay
            _gradient = new T[state.Count];
            _sampler = set.Stream?.CreateFeed(_batch) ?? new BatchSampler(set.TrainRows, _batch, options.Seed);
            _guard = new DivergenceGuard<T>(state, _adam, options);
            _validation = new ValidationTracker<T>(state, objective, options, set.ValidationRows > 0);
            _window = new ProgressWindow(); // the first report's window starts after the data initialisation
        }

        public TrainingResult Execute(CancellationToken ct)
        {
            for (int step = 0; step < _totalSteps; step++)
            {
                if (ct.IsCancellationRequested)
                {
                    _result.Status = TrainingStatus.Cancelled;
                    break;
                }
                if (!Step(step)) break;
            }
            _validation.Finish(_result, _options.Threads);
            _result.Elapsed = _clock.Elapsed;
            _result.SamplesPerSecond = _window.TotalSamplesPerSecond;
            return _result;
        }

        /// <summary>One optimisation step (and, when due, an evaluation); false when the run ends here.</summary>
        private bool Step(int step)
        {
            _window.StartTraining();
            int[] rows = _sampler.Next();
            Array.Clear(_gradient);
            double loss = _objective.LossAndGradient(rows, _gradient, _options.Threads, step);
            double norm = Math.Sqrt(SumOfSquares<T>(_gradient));
            double lr = LearningRateAt(_options, step, _totalSteps) * _guard.LearningRateScale;
            string? problem = _guard.Inspect(loss, norm) ?? _guard.Update(_gradient, norm, lr);
            _window.StopTraining();
            if (problem is not null) return Reject(step, problem, lr);

            _guard.Accept(loss);
            _result.Steps = step + 1;
            _window.Add(loss, _batch);
            bool last = step == _totalSteps - 1;
            if ((step + 1) % _options.EvaluateEvery == 0 || last) return Evaluate(step, last, lr);
            return true;
        }

        /// <summary>A step that was not taken: counts it, rolls back when they persist; false when the run gives up.</summary>
        private bool Reject(int step, string problem, double lr)
        {
            _result.SkippedSteps++;
            string message = $"step {step + 1}: {problem}; step skipped";
            if (_guard.Reject())
            {
                _result.Rollbacks++;
                message += $"; rolled back to the last good parameters and halved the learning rate (rollback {_result.Rollbacks})";
                if (_result.Rollbacks > _options.MaxRollbacks)
                {
                    _result.Events.Add(message);
                    _result.Status = TrainingStatus.Diverged;
                    _result.Events.Add($"stopped: steps still non-finite or exploding after {_options.MaxRollbacks} rollbacks{ScaleHint(_set.Inputs)}");
                    Report(step, double.NaN, null, 0, lr, _result.Events[^1]);
                    _result.Steps = step + 1;
                    return false;
                }
            }
            _result.Events.Add(message);
            Report(step, double.NaN, null, 0, lr, message);
            return true;
        }

        /// <summary>The report after <paramref name="step"/>: training window, validation loss, early stopping; false on an early stop.</summary>
        private bool Evaluate(int step, bool last, double lr)
        {
            (double trainLoss, double samplesPerSecond) = _window.Measure();
            double? validation = _validation.Loss(_options.Threads);
            if (double.IsFinite(trainLoss)) _guard.RememberGoodParameters();
            string? message = validation is double v ? _validation.Record(v, step + 1, last, _result) : null;
            if (message is not null) _result.Status = TrainingStatus.StoppedEarly;
            _result.FinalTrainLoss = trainLoss;
            Report(step, trainLoss, validation, samplesPerSecond, lr, message);
            if (message is not null) _result.Events.Add(message);
            _window.Restart();
            return message is null;
        }

        private void Report(int step, double trainLoss, double? validation, double samplesPerSecond, double lr, string? message) =>
            _progress?.Report(new TrainingProgress(step + 1, _totalSteps, _sampler.Epoch, trainLoss, validation, samplesPerSecond, lr, message));
    }

    /// <summary>
    /// Batch sampling: the training rows in epochs, each a fresh seeded shuffle of all rows, cut into batches in order
    /// (a batch may straddle two epochs).
    /// </summary>
    private sealed class BatchSampler : IRowFeed
    {
        private readonly int[] _order, _rows;
        private readonly FlowRandom _shuffle;
        private int _cursor;

        public BatchSampler(int trainRows, int batch, ulong seed)
        {
            _order = new int[trainRows];
            for (int i = 0; i < _order.Length; i++) _order[i] = i;
            _rows = new int[batch];
            _shuffle = new FlowRandom(seed ^ 0x9E3779B97F4A7C15UL);
            _cursor = _order.Length; // forces a shuffle at the first step
        }

        /// <summary>The epoch (0-based) of the last row handed out; −1 before the first batch.</summary>
        public int Epoch { get; private set; } = -1;

        /// <summary>The rows of the next batch (the same array every time, overwritten).</summary>
        public int[] Next()
        {
            for (int i = 0; i < _rows.Length; i++)
            {
                if (_cursor >= _order.Length)
                {
                    _shuffle.Shuffle(_order.AsSpan());
                    _cursor = 0;
                    Epoch++;
                }
                _rows[i] = _order[_cursor++];
            }
            return _rows;
        }
    }

    /// <summary>
    /// Divergence guard: a step whose loss or gradient is not finite, whose loss spikes far above its recent average, or
    /// whose update would make a parameter non-finite is skipped; after <see cref="TrainingOptions.MaxConsecutiveNonFinite"/>
    /// such steps in a row the parameters go back to the last good ones (those of the last report with a finite training
    /// loss), the learning rate is halved and Adam is reset.
    /// </summary>
    private sealed class DivergenceGuard<T> where T : unmanaged, IFloatingPointIeee754<T>
    {
        private readonly TrainedParameters<T> _state;
        private readonly ICouplingFlow<T> _flow;
        private readonly AdamOptimizer<T> _adam, _objectiveAdam;
        private readonly TrainingOptions _options;
        private readonly T[] _beforeStep, _lastGood;
        private int _consecutiveBad;
        private double _lossAverage; // moving average of the accepted losses, for LossSpikeFactor
        private int _acceptedSteps;

        public DivergenceGuard(TrainedParameters<T> state, AdamOptimizer<T> adam, TrainingOptions options)
        {
            _state = state;
            _flow = state.Flow;
            _adam = adam;
            _objectiveAdam = new AdamOptimizer<T>(state.Objective.Length);
            _options = options;
            _beforeStep = new T[state.Count];
            _lastGood = new T[state.Count];
            state.SaveTo(_lastGood);
        }

        /// <summary>Scale of the scheduled learning rate: halved at every rollback.</summary>
        public double LearningRateScale { get; private set; } = 1;

        /// <summary>Why the step's loss and gradient cannot be used, or null.</summary>
        public string? Inspect(double loss, double norm)
        {
            if (!(double.IsFinite(loss) && double.IsFinite(norm))) return $"non-finite loss or gradient (loss {loss}, gradient norm {norm})";
            if (_options.LossSpikeFactor > 0 && _acceptedSteps >= 20 && loss > _lossAverage + _options.LossSpikeFactor * (1 + Math.Abs(_lossAverage)))
            {
                return $"loss exploded to {loss:G4} (recent average {_lossAverage:G4})";
            }
            return null;
        }

        /// <summary>
        /// Clips the gradient to <see cref="TrainingOptions.GradientClipNorm"/> and takes the Adam step; undoes it (and says why)
        /// if it made a parameter non-finite: a NaN must never reach the parameters.
        /// </summary>
        public string? Update(T[] gradient, double norm, double learningRate)
        {
            if (_options.GradientClipNorm > 0 && norm > _options.GradientClipNorm)
            {
                Scale<T>(gradient, T.CreateChecked(_options.GradientClipNorm / norm));
            }
            _state.SaveTo(_beforeStep);
            int p = _flow.ParameterCount;
            _adam.Step(_flow.Parameters, gradient.AsSpan(0, p), learningRate, _options.Beta1, _options.Beta2, _options.Epsilon, _options.WeightDecay);
            Span<T> objectiveParameters = _state.Objective.Span;
            if (objectiveParameters.Length > 0)
            {
                _objectiveAdam.Step(objectiveParameters, gradient.AsSpan(p), learningRate, _options.Beta1, _options.Beta2, _options.Epsilon, _options.WeightDecay);
            }
            if (IndexOfNonFinite<T>(_flow.Parameters) < 0 && IndexOfNonFinite<T>(objectiveParameters) < 0) return null;
            _state.LoadFrom(_beforeStep);
            return "the update made a parameter non-finite";
        }

        /// <summary>A step was taken.</summary>
        public void Accept(double loss)
        {
            _consecutiveBad = 0;
            _lossAverage = _acceptedSteps == 0 ? loss : _lossAverage + 0.05 * (loss - _lossAverage);
            _acceptedSteps++;
        }

        /// <summary>A step was skipped; true when this one triggered a rollback (parameters restored, learning rate halved, Adam reset).</summary>
        public bool Reject()
        {
            if (++_consecutiveBad < _options.MaxConsecutiveNonFinite) return false;
            _state.LoadFrom(_lastGood);
            LearningRateScale *= 0.5;
            _adam.Reset();
            _objectiveAdam.Reset();
            _consecutiveBad = 0;
            return true;
        }

        /// <summary>The current parameters become the ones a rollback returns to.</summary>
        public void RememberGoodParameters() => _state.SaveTo(_lastGood);
    }

    /// <summary>
    /// Validation tracking: the best validation loss and its parameters, and early stopping after
    /// <see cref="TrainingOptions.Patience"/> evaluations without improvement.
    /// </summary>
    private sealed class ValidationTracker<T> where T : unmanaged, IFloatingPointIeee754<T>
    {
        private readonly TrainedParameters<T> _state;
        private readonly ObjectiveRunner<T> _objective;
        private readonly TrainingOptions _options;
        private readonly bool _enabled;
        private T[]? _best;
        private double _bestLoss = double.PositiveInfinity;
        private int _evaluationsWithoutImprovement;

        public ValidationTracker(TrainedParameters<T> state, ObjectiveRunner<T> objective, TrainingOptions options, bool enabled)
        {
            _state = state;
            _objective = objective;
            _options = options;
            _enabled = enabled;
        }

        /// <summary>The validation loss of the current parameters, or null without validation rows.</summary>
        public double? Loss(int threads) => _enabled ? _objective.ValidationLoss(threads) : null;

        /// <summary>
        /// Records the validation loss measured after <paramref name="steps"/> steps (keeping the parameters when it is the best so
        /// far); returns the early-stop message when patience has run out before the last step, else null.
        /// </summary>
        public string? Record(double loss, int steps, bool last, TrainingResult result)
        {
            if (loss < _bestLoss)
            {
                _bestLoss = loss;
                result.BestStep = steps;
                _best ??= new T[_state.Count];
                _state.SaveTo(_best);
                _evaluationsWithoutImprovement = 0;
            }
            else
            {
                _evaluationsWithoutImprovement++;
            }
            if (_options.Patience > 0 && _evaluationsWithoutImprovement >= _options.Patience && !last)
            {
                return $"early stop at step {steps}: validation loss has not improved for {_options.Patience} evaluations (best {_bestLoss:G6} at step {result.BestStep})";
            }
            return null;
        }

        /// <summary>At the end of the run: the best loss, the best parameters back in the flow (RestoreBest), and the final validation loss.</summary>
        public void Finish(TrainingResult result, int threads)
        {
            if (!_enabled) return;
            result.BestValidationLoss = _bestLoss;
            if (_options.RestoreBest && _best is not null) _state.LoadFrom(_best);
            result.FinalValidationLoss = _objective.ValidationLoss(threads);
        }
    }

    /// <summary>
    /// What a run trains: the flow's parameters, then the objective's own (<see cref="IFlowObjective{T}.ObjectiveParameters"/>),
    /// one vector of Count values for the gradient, the saved copies (rollback, best) and the non-finite checks.
    /// </summary>
    private sealed class TrainedParameters<T> where T : unmanaged, IFloatingPointIeee754<T>
    {
        public TrainedParameters(ICouplingFlow<T> flow, Memory<T> objective)
        {
            Flow = flow;
            Objective = objective;
            Count = checked(flow.ParameterCount + objective.Length);
        }

        public ICouplingFlow<T> Flow { get; }

        public Memory<T> Objective { get; }

        public int Count { get; }

        public void SaveTo(T[] destination)
        {
            Flow.Parameters.CopyTo(destination);
            Objective.Span.CopyTo(destination.AsSpan(Flow.ParameterCount));
        }

        public void LoadFrom(T[] source)
        {
            source.AsSpan(0, Flow.ParameterCount).CopyTo(Flow.Parameters);
            source.AsSpan(Flow.ParameterCount, Objective.Length).CopyTo(Objective.Span);
        }
    }

    /// <summary>
    /// Progress accounting: the mean training loss and the throughput of the steps since the previous report, and the
    /// total training time (optimisation steps only, not evaluations) for the run's throughput.
    /// </summary>
    private sealed class ProgressWindow
    {
        private readonly Stopwatch _windowClock = Stopwatch.StartNew(), _trainClock = new();
        private double _loss;
        private int _steps;
        private long _samples, _totalSamples;

        public void StartTraining() => _trainClock.Start();

        public void StopTraining() => _trainClock.Stop();

        /// <summary>An accepted step with its loss and batch size.</summary>
        public void Add(double loss, int samples)
        {
            _loss += loss;
            _steps++;
            _samples += samples;
            _totalSamples += samples;
        }

        /// <summary>Mean loss and samples per second since the window began (the window keeps running until <see cref="Restart"/>).</summary>
        public (double TrainLoss, double SamplesPerSecond) Measure() =>
            (_loss / Math.Max(1, _steps), _samples / Math.Max(_windowClock.Elapsed.TotalSeconds, 1e-9));

        /// <summary>Starts the next window.</summary>
        public void Restart()
        {
            _loss = 0;
            _steps = 0;
            _samples = 0;
            _windowClock.Restart();
        }

        /// <summary>Training samples per second over the whole run.</summary>
        public double TotalSamplesPerSecond => _totalSamples / Math.Max(_trainClock.Elapsed.TotalSeconds, 1e-9);
    }

    // ------------------------------------------------------------------ helpers

    /// <summary>Why a run may have diverged, when the data suggest it: values far from unit scale overflow float gradients.</summary>
    private static string ScaleHint<T>(T[] inputs) where T : unmanaged, IFloatingPointIeee754<T>
    {
        double max = 0;
        foreach (T v in inputs) max = Math.Max(max, Math.Abs(double.CreateTruncating(v)));
        return max > 1e3
            ? $"; the data reach |x| = {max:G3}, where losses and gradients of polynomial or unclamped layers overflow: standardise the data (Standardizer, or put ActNorm first)"
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

    /// <summary>Σ v², accumulated in double in index order (the gradient norm; the trainer's only reduction of this kind).</summary>
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

    /// <summary>values[i] *= factor.</summary>
    private static void Scale<T>(Span<T> values, T factor) where T : unmanaged, IFloatingPointIeee754<T>
    {
        for (int i = 0; i < values.Length; i++) values[i] *= factor;
    }

    /// <summary>Index of the first NaN or ±∞ (−1: none): <see cref="Kernel.IndexOfNonFinite(ReadOnlySpan{float})"/> for the flows' float and double.</summary>
    private static int IndexOfNonFinite<T>(ReadOnlySpan<T> values) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (typeof(T) == typeof(float)) return Kernel.IndexOfNonFinite(MemoryMarshal.Cast<T, float>(values));
        if (typeof(T) == typeof(double)) return Kernel.IndexOfNonFinite(MemoryMarshal.Cast<T, double>(values));
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
}
