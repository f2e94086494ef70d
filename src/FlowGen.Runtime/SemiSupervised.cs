using System;
using System.Collections.Generic;
using System.Numerics;
using System.Threading;

namespace FlowGen;

/// <summary>The options of <see cref="FlowTrainer.TrainSemiSupervised{T}(IGaussianMixtureFlow{T}, ReadOnlySpan{T}, ReadOnlySpan{int}, SemiSupervisedOptions?, IProgress{SemiSupervisedProgress}?, CancellationToken)"/>.</summary>
public sealed class SemiSupervisedOptions
{
    /// <summary>The trainer's options (steps, batch size, learning rate, clipping, early stopping, threads, seed). Its
    /// <see cref="TrainingOptions.ValidationFraction"/> is the fraction of each class's labelled rows held out for validation
    /// (at least one labelled row of every class stays in training; none is held out when a class has a single one).</summary>
    public TrainingOptions Training { get; set; } = new();

    /// <summary>λ: the weight of the unlabelled rows' mean mixture NLL in the loss (default 1; ≥ 0).</summary>
    public double UnlabeledWeight { get; set; } = 1.0;

    /// <summary>The weight of the labelled rows' mean NLL in the loss (default 1, FlowGMM's objective; ≥ 0). With a handful of
    /// labels a smaller weight keeps the flow from concentrating its density on them (two moons, 3 labels per class: 0.1 gives
    /// 93.5 ± 3.7 % against 86.6 ± 7.6 % at 1; README).</summary>
    public double LabeledWeight { get; set; } = 1.0;

    /// <summary>
    /// True: before the first step, the base's means are moved to where the labelled rows are (docs/model.md §11.3): with
    /// z̄_c the mean of f(x) over class c's labelled training rows and z̄ the mean of the z̄_c, μ_c = z̄ + s·(z̄_c − z̄), s chosen
    /// so that the closest two means are as far apart as the closest two initial means. Left unchanged when a class has no
    /// labelled training row or two classes' z̄_c coincide. Fixed means (LearnableMeans = false) are then fixed there.
    /// Default true: on two moons with 3 labels per class it lifts FlowGMM from 76.8 ± 13.6 % to 86.6 ± 7.6 % (README).
    /// </summary>
    public bool MeansFromLabels { get; set; } = true;
}

/// <summary>A progress report of semi-supervised training: the trainer's, and the accuracy of Classify on the held-out labelled rows (NaN without them).</summary>
public readonly record struct SemiSupervisedProgress(TrainingProgress Training, double ValidationAccuracy);

/// <summary>The outcome of semi-supervised training.</summary>
public sealed class SemiSupervisedResult
{
    internal SemiSupervisedResult(TrainingResult training, double accuracy, int labeled, int unlabeled, int validation)
    {
        Training = training;
        ValidationAccuracy = accuracy;
        LabeledRows = labeled;
        UnlabeledRows = unlabeled;
        ValidationRows = validation;
    }

    /// <summary>The trainer's result (status, steps, losses).</summary>
    public TrainingResult Training { get; }

    /// <summary>Accuracy of Classify on the held-out labelled rows at the end (NaN without them).</summary>
    public double ValidationAccuracy { get; }

    /// <summary>Labelled rows trained on.</summary>
    public int LabeledRows { get; }

    /// <summary>Unlabelled rows trained on.</summary>
    public int UnlabeledRows { get; }

    /// <summary>Labelled rows held out for validation.</summary>
    public int ValidationRows { get; }
}

/// <summary>
/// FlowGMM's semi-supervised objective (Izmailov et al. 2020; docs/model.md §11.3) for a flow with a Gaussian-mixture base:
/// mean over the labelled rows of −log(w_y·p_y(f(x))) − log|det ∂z/∂x| plus λ × mean over the unlabelled rows of the mixture
/// NLL. The trainer's batches are the unlabelled rows; every training step's shard 0 adds the whole labelled term (all
/// labelled rows, each step), so that a handful of labels is seen at every step. Without unlabelled rows the batches are the
/// labelled rows themselves. Validation rows are labelled: their loss is the labelled NLL.
/// </summary>
/// <typeparam name="T"><see cref="float"/> or <see cref="double"/>.</typeparam>
public sealed class SemiSupervisedObjective<T> : IFlowObjective<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly T[] _labeledRows, _labeledContexts;
    private readonly int[] _labels, _batchLabels, _validationLabels;
    private readonly double _unlabeledWeight, _labeledWeight;
    private readonly bool _labeledEveryStep;
    private readonly ThreadLocal<(int[] Labels, T[] Gradient)> _scratch;

    /// <summary>The objective over labelled rows (with their labels and contexts) and batch rows.</summary>
    /// <param name="labeledRows">The labelled rows added at every step, [L, Dim] (empty: the batches are labelled).</param>
    /// <param name="labeledContexts">Their contexts, [L, ContextDim] (empty for an unconditional flow).</param>
    /// <param name="labels">Their labels (L values, each a component).</param>
    /// <param name="batchLabels">The label of each row of the trainer's data (−1 for unlabelled).</param>
    /// <param name="validationLabels">The label of each validation row.</param>
    /// <param name="unlabeledWeight">λ.</param>
    /// <param name="parameterCount">The flow's ParameterCount.</param>
    /// <param name="labeledWeight">The weight of the labelled term added at every step.</param>
    public SemiSupervisedObjective(ReadOnlySpan<T> labeledRows, ReadOnlySpan<T> labeledContexts, ReadOnlySpan<int> labels,
        ReadOnlySpan<int> batchLabels, ReadOnlySpan<int> validationLabels, double unlabeledWeight, int parameterCount, double labeledWeight = 1.0)
    {
        _labeledWeight = labeledWeight;
        _labeledRows = labeledRows.ToArray();
        _labeledContexts = labeledContexts.ToArray();
        _labels = labels.ToArray();
        _batchLabels = batchLabels.ToArray();
        _validationLabels = validationLabels.ToArray();
        _unlabeledWeight = unlabeledWeight;
        // the batches are unlabelled rows: the labelled term is added at every step
        _labeledEveryStep = _labels.Length > 0 && Array.TrueForAll(_batchLabels, l => l < 0);
        _scratch = new ThreadLocal<(int[], T[])>(() => (Array.Empty<int>(), new T[parameterCount]));
    }

    /// <summary>True: ActNorm layers are initialised from the first training rows.</summary>
    public bool UsesDataInitialization => true;

    /// <inheritdoc/>
    public double LossAndGradient(ICouplingFlow<T> flow, FlowBatch<T> batch, Span<T> gradParameters, T weight)
    {
        var mixture = (IGaussianMixtureFlow<T>)flow;
        var (labels, extra) = _scratch.Value;
        if (labels.Length < batch.Count) { labels = new int[batch.Count]; _scratch.Value = (labels, extra); }
        int[] source = batch.IsValidation ? _validationLabels : _batchLabels;
        for (int i = 0; i < batch.Count; i++) labels[i] = source[batch.RowIndices[i]];
        // batch rows: a labelled one weighs 1 (labelled batches, or validation), an unlabelled one λ
        T lambda = T.CreateTruncating(_unlabeledWeight);
        var (labeled, unlabeled) = mixture.LabeledNllGradient(batch.Inputs, batch.Contexts, labels.AsSpan(0, batch.Count), gradParameters, weight, weight * lambda);
        double loss = labeled + _unlabeledWeight * unlabeled;
        if (_labeledEveryStep && !batch.IsValidation && batch.Shard == 0 && weight != T.Zero)
        {
            // the step's labelled term, all labelled rows: mean(labelled NLL), i.e. B·mean in the sum the trainer divides by B (weight = 1/B)
            var (l, _) = mixture.LabeledNllGradient(_labeledRows, _labeledContexts, _labels, extra, T.CreateTruncating(_labeledWeight) / T.CreateTruncating(_labels.Length), T.Zero);
            for (int j = 0; j < gradParameters.Length; j++) gradParameters[j] += extra[j];
            loss += _labeledWeight * l / _labels.Length / double.CreateTruncating(weight);
        }
        return loss;
    }
}

public static partial class FlowTrainer
{
    /// <summary>
    /// Semi-supervised training of a flow with a Gaussian-mixture base (FlowGMM, Izmailov et al. 2020): labels[i] = c ≥ 0 marks
    /// row i as of component (class) c, −1 as unlabelled. Minimises mean over labelled rows of −log N(f(x) | μ_y, Σ_y) − log|det|
    /// − log w_y (log K for equal weights) + <see cref="SemiSupervisedOptions.UnlabeledWeight"/> × mean over unlabelled rows
    /// of −log p(x), with everything the trainer does (Adam, schedule, clipping, divergence guard, early stopping on the
    /// held-out labelled rows' loss, determinism across thread counts). Progress reports carry the held-out accuracy.
    /// </summary>
    public static SemiSupervisedResult TrainSemiSupervised<T>(IGaussianMixtureFlow<T> flow, ReadOnlySpan<T> data, ReadOnlySpan<int> labels,
        SemiSupervisedOptions? options = null, IProgress<SemiSupervisedProgress>? progress = null, CancellationToken cancellationToken = default)
        where T : unmanaged, IFloatingPointIeee754<T> =>
        TrainSemiSupervised(flow, data, default, labels, options, progress, cancellationToken);

    /// <summary>The same for a conditional flow: contexts holds n rows (or one shared row).</summary>
    public static SemiSupervisedResult TrainSemiSupervised<T>(IGaussianMixtureFlow<T> flow, ReadOnlySpan<T> data, ReadOnlySpan<T> contexts, ReadOnlySpan<int> labels,
        SemiSupervisedOptions? options = null, IProgress<SemiSupervisedProgress>? progress = null, CancellationToken cancellationToken = default)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(flow);
        options ??= new SemiSupervisedOptions();
        TrainingOptions training = options.Training ?? throw new ArgumentException("SemiSupervisedOptions.Training must not be null.", nameof(options));
        if (!(options.UnlabeledWeight >= 0) || double.IsInfinity(options.UnlabeledWeight))
            throw new ArgumentOutOfRangeException(nameof(options), options.UnlabeledWeight, "UnlabeledWeight must be a finite number ≥ 0.");
        if (!(options.LabeledWeight >= 0) || double.IsInfinity(options.LabeledWeight))
            throw new ArgumentOutOfRangeException(nameof(options), options.LabeledWeight, "LabeledWeight must be a finite number ≥ 0.");
        int d = flow.Dim, c = flow.ContextDim, k = flow.Components;
        if (d == 0 || data.Length % d != 0) throw new ArgumentException($"data.Length must be a multiple of Dim = {d}; it is {data.Length}.", nameof(data));
        int n = data.Length / d;
        if (labels.Length != n) throw new ArgumentException($"labels.Length must be n = {n}, one per row; it is {labels.Length}.", nameof(labels));
        bool shared = c > 0 && contexts.Length == c;
        if (c == 0 ? contexts.Length != 0 : !shared && contexts.Length != n * c)
            throw new ArgumentException($"contexts.Length must be n × ContextDim = {n * c}{(c > 0 ? $" or ContextDim = {c}" : "")}; it is {contexts.Length}.", nameof(contexts));
        var byClass = new List<int>[k];
        for (int j = 0; j < k; j++) byClass[j] = new List<int>();
        var unlabeledRows = new List<int>();
        for (int i = 0; i < n; i++)
        {
            if (labels[i] < -1 || labels[i] >= k) throw new ArgumentException($"labels must be −1 (unlabelled) or a component between 0 and {k - 1}; labels[{i}] is {labels[i]}.", nameof(labels));
            if (labels[i] < 0) unlabeledRows.Add(i);
            else byClass[labels[i]].Add(i);
        }
        // hold out ValidationFraction of each class's labelled rows (deterministic from the seed), keeping one in training
        var rng = new FlowRandom(training.Seed ^ 0x5E31_5C0E_D00D_F10EUL);
        var train = new List<int>();
        var validation = new List<int>();
        foreach (List<int> rows in byClass)
        {
            int[] shuffled = rows.ToArray();
            rng.Shuffle<int>(shuffled);
            int held = Math.Min((int)Math.Round(training.ValidationFraction * shuffled.Length), Math.Max(0, shuffled.Length - 1));
            for (int j = 0; j < shuffled.Length; j++) (j < held ? validation : train).Add(shuffled[j]);
        }
        train.Sort();
        validation.Sort();
        if (train.Count == 0) throw new ArgumentException("labels mark no row as labelled (every label is −1).", nameof(labels));

        T[] Gather(ReadOnlySpan<T> values, List<int> rows, int width)
        {
            var result = new T[rows.Count * width];
            for (int r = 0; r < rows.Count; r++) values.Slice(rows[r] * width, width).CopyTo(result.AsSpan(r * width));
            return result;
        }
        T[] ContextsOf(ReadOnlySpan<T> all, List<int> rows) => c == 0 ? Array.Empty<T>() : shared ? Repeat(all, rows.Count) : Gather(all, rows, c);
        static T[] Repeat(ReadOnlySpan<T> row, int count)
        {
            var result = new T[row.Length * count];
            for (int r = 0; r < count; r++) row.CopyTo(result.AsSpan(r * row.Length));
            return result;
        }
        int[] LabelsOf(List<int> rows, ReadOnlySpan<int> all)
        {
            var result = new int[rows.Count];
            for (int r = 0; r < rows.Count; r++) result[r] = all[rows[r]];
            return result;
        }

        T[] labeledX = Gather(data, train, d), labeledC = ContextsOf(contexts, train);
        int[] labeledY = LabelsOf(train, labels);
        T[] validationX = Gather(data, validation, d), validationC = ContextsOf(contexts, validation);
        int[] validationY = LabelsOf(validation, labels);
        bool hasUnlabeled = unlabeledRows.Count > 0;
        T[] batchX = hasUnlabeled ? Gather(data, unlabeledRows, d) : labeledX;
        T[] batchC = hasUnlabeled ? ContextsOf(contexts, unlabeledRows) : labeledC;
        int[] batchY = hasUnlabeled ? LabelsOf(unlabeledRows, labels) : labeledY;
        if (options.MeansFromLabels)
        {
            if (!flow.IsDataInitialized)
            {
                // what the trainer would do first (ActNorm from the first training rows), so that z = f(x) below is the trained flow's start
                int rows = Math.Min(batchX.Length / d, 4096);
                flow.InitializeFromData(batchX.AsSpan(0, rows * d), c > 0 ? batchC.AsSpan(0, rows * c) : default);
            }
            PlaceMeansAtLabels(flow, labeledX, labeledC, labeledY);
        }
        var objective = new SemiSupervisedObjective<T>(labeledX, labeledC, labeledY, batchY, validationY, options.UnlabeledWeight, flow.ParameterCount, options.LabeledWeight);

        var predicted = new int[validation.Count];
        double Accuracy()
        {
            if (validation.Count == 0) return double.NaN;
            flow.Classify(validationX, validationC, predicted);
            int right = 0;
            for (int i = 0; i < predicted.Length; i++) if (predicted[i] == validationY[i]) right++;
            return right / (double)predicted.Length;
        }
        IProgress<TrainingProgress>? inner = progress is null ? null : new AccuracyProgress(p => progress.Report(new SemiSupervisedProgress(p, Accuracy())));
        TrainingResult result = validation.Count > 0
            ? Fit(flow, new FlowData<T>(batchX, batchC), new FlowData<T>(validationX, validationC), objective, training, inner, cancellationToken)
            : Fit(flow, new FlowData<T>(batchX, batchC), objective, WithoutValidation(training), inner, cancellationToken);
        return new SemiSupervisedResult(result, Accuracy(), train.Count, unlabeledRows.Count, validation.Count);
    }

    /// <summary><see cref="SemiSupervisedOptions.MeansFromLabels"/>: μ_c = z̄ + s·(z̄_c − z̄), in double, the closest pair of means kept as far apart.</summary>
    private static void PlaceMeansAtLabels<T>(IGaussianMixtureFlow<T> flow, T[] xs, T[] contexts, int[] labels) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int d = flow.Dim, k = flow.Components, n = labels.Length;
        ParameterTensor? tensor = null;
        foreach (ParameterTensor t in flow.ParameterTensors) if (t.Name == "base.means") tensor = t;
        if (tensor is null || k < 2) return;
        var zs = new T[n * d];
        flow.Forward(xs, contexts, zs, new T[n]);
        var centroid = new double[k, d];
        var count = new int[k];
        for (int i = 0; i < n; i++)
        {
            count[labels[i]]++;
            for (int j = 0; j < d; j++) centroid[labels[i], j] += double.CreateTruncating(zs[i * d + j]);
        }
        for (int c = 0; c < k; c++)
        {
            if (count[c] == 0) return;
            for (int j = 0; j < d; j++) centroid[c, j] /= count[c];
        }
        var centre = new double[d];
        for (int c = 0; c < k; c++) for (int j = 0; j < d; j++) centre[j] += centroid[c, j] / k;
        Span<T> means = flow.Parameters.Slice(tensor.Offset, k * d);
        double MinDistance(Func<int, int, double> at)
        {
            double min = double.PositiveInfinity;
            for (int a = 0; a < k; a++)
                for (int b = a + 1; b < k; b++)
                {
                    double s2 = 0;
                    for (int j = 0; j < d; j++) s2 += (at(a, j) - at(b, j)) * (at(a, j) - at(b, j));
                    min = Math.Min(min, Math.Sqrt(s2));
                }
            return min;
        }
        T[] initial = means.ToArray();
        double target = MinDistance((c, j) => double.CreateTruncating(initial[c * d + j]));
        double spread = MinDistance((c, j) => centroid[c, j]);
        if (!(spread > 0) || !(target > 0) || double.IsInfinity(target / spread)) return;
        double scale = target / spread;
        for (int c = 0; c < k; c++)
            for (int j = 0; j < d; j++) means[c * d + j] = T.CreateTruncating(centre[j] + scale * (centroid[c, j] - centre[j]));
    }

    private static TrainingOptions WithoutValidation(TrainingOptions o)
    {
        TrainingOptions copy = o.Clone();
        copy.ValidationFraction = 0;
        return copy;
    }

    /// <summary>Forwards each report synchronously (the flow's parameters are the reported step's while it runs).</summary>
    private sealed class AccuracyProgress(Action<TrainingProgress> report) : IProgress<TrainingProgress>
    {
        public void Report(TrainingProgress value) => report(value);
    }
}
