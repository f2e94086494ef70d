using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.Linq;

namespace FlowGen.FlowGmm;

/// <summary>
/// The penguins experiment: a fixed stratified test split (30 % of each species, shuffled with a fixed seed), the rest is
/// the training split. For each seed and k, k training penguins per species are labelled and the rest of the training split
/// unlabelled; features are standardised with a Standardizer fitted on the training split (labelled + unlabelled rows).
/// </summary>
internal static class PenguinsExperiment
{
    public const double TestFraction = 0.3;
    private const ulong SplitSeed = 20_200_712;

    public static int Run(int seeds, int steps, int[] ks, double weightDecay, double labeledWeight, bool meansFromLabels, Action<string> log)
    {
        var (x, y) = Penguins.Load();
        int n = y.Length, d = Penguins.Dim, classes = Penguins.Species.Length;
        log($"Palmer penguins: {Penguins.RowsInSource} rows, {Penguins.RowsInSource - n} dropped for missing values, {n} used " +
            $"({string.Join(", ", Penguins.Species.Select((s, c) => $"{s} {y.Count(v => v == c)}"))}).");

        // the fixed test split
        var split = new FlowRandom(SplitSeed);
        var test = new List<int>();
        var train = new List<int>();
        for (int c = 0; c < classes; c++)
        {
            int[] rows = Shuffle(Enumerable.Range(0, n).Where(i => y[i] == c).ToArray(), split);
            int t = (int)Math.Round(TestFraction * rows.Length);
            test.AddRange(rows.Take(t));
            train.AddRange(rows.Skip(t));
        }
        double[] trainX = Gather(x, train, d), testX = Gather(x, test, d);
        int[] trainY = train.Select(i => y[i]).ToArray(), testY = test.Select(i => y[i]).ToArray();
        var scaler = Standardizer.Fit<double>(trainX, d);
        trainX = scaler.Apply<double>(trainX);
        testX = scaler.Apply<double>(testX);
        log($"Training split {train.Count} rows, test split {test.Count} rows; flow {nameof(PenguinFlow)} (Dim = 4, Layers = 6, " +
            $"Hidden = [32, 32], FlowGMM base), {steps} steps per training run, weight decay {weightDecay}, labelled weight {labeledWeight}, means from labels {meansFromLabels}.");

        var results = new Dictionary<(int K, string Method), List<double>>();
        var runTimes = new List<double>();
        foreach (int k in ks)
        {
            for (int s = 1; s <= seeds; s++)
            {
                var pick = new FlowRandom((ulong)(1000 * k + s));
                int[] labels = Enumerable.Repeat(-1, train.Count).ToArray();
                for (int c = 0; c < classes; c++)
                    foreach (int i in Shuffle(Enumerable.Range(0, train.Count).Where(i => trainY[i] == c).ToArray(), pick).Take(k))
                        labels[i] = c;
                int[] labelled = Enumerable.Range(0, train.Count).Where(i => labels[i] >= 0).ToArray();
                double[] labelledX = Gather(trainX, labelled, d);
                int[] labelledY = labelled.Select(i => labels[i]).ToArray();

                double flowGmm = Accuracy(Train(trainX, labels, steps, (ulong)s, weightDecay, labeledWeight, meansFromLabels, runTimes), testX, testY);
                double labelledOnly = Accuracy(Train(labelledX, labelledY, steps, (ulong)s, weightDecay, labeledWeight, meansFromLabels, runTimes), testX, testY);
                var lda = new Lda(labelledX, labelledY, d, classes);
                var predicted = new int[testY.Length];
                lda.Classify(testX, predicted);
                double baseline = predicted.Zip(testY).Count(p => p.First == p.Second) / (double)testY.Length;

                Add(results, (k, "flowgmm"), flowGmm);
                Add(results, (k, "labelled"), labelledOnly);
                Add(results, (k, "lda"), baseline);
                log(string.Create(CultureInfo.InvariantCulture,
                    $"k = {k,2}, seed {s,2}: FlowGMM {flowGmm:P1}, flow on labelled rows {labelledOnly:P1}, LDA {baseline:P1}"));
            }
        }

        log("");
        log(string.Create(CultureInfo.InvariantCulture,
            $"Test accuracy on {test.Count} held-out penguins over {seeds} seeds (mean ± sd); {steps} steps per flow training run, " +
            $"{runTimes.Average():F2} s per run on average ({runTimes.Count} runs):"));
        log("");
        log("| labels per species | FlowGMM (labelled + unlabelled) | same flow, labelled rows only | LDA on labelled rows |");
        log("|---|---|---|---|");
        foreach (int k in ks)
            log($"| {k} | {Cell(results[(k, "flowgmm")])} | {Cell(results[(k, "labelled")])} | {Cell(results[(k, "lda")])} |");
        return 0;
    }

    private static PenguinFlow Train(double[] data, int[] labels, int steps, ulong seed, double weightDecay, double labeledWeight, bool meansFromLabels, List<double> runTimes)
    {
        var clock = Stopwatch.StartNew();
        var flow = new PenguinFlow(seed);
        FlowTrainer.TrainSemiSupervised(flow, data, labels, new SemiSupervisedOptions
        {
            Training = new TrainingOptions { Steps = steps, BatchSize = 64, LearningRate = 1e-3, WeightDecay = weightDecay, ValidationFraction = 0, Seed = seed, Threads = 1 },
            LabeledWeight = labeledWeight,
            MeansFromLabels = meansFromLabels,
        });
        runTimes.Add(clock.Elapsed.TotalSeconds);
        return flow;
    }

    private static double Accuracy(IGaussianMixtureFlow<double> flow, double[] x, int[] y)
    {
        var predicted = new int[y.Length];
        flow.Classify(x, ReadOnlySpan<double>.Empty, predicted);
        return predicted.Zip(y).Count(p => p.First == p.Second) / (double)y.Length;
    }

    private static string Cell(List<double> v)
    {
        double mean = v.Average(), sd = v.Count > 1 ? Math.Sqrt(v.Sum(a => (a - mean) * (a - mean)) / (v.Count - 1)) : 0;
        return string.Create(CultureInfo.InvariantCulture, $"{100 * mean:F1} ± {100 * sd:F1} %");
    }

    private static void Add(Dictionary<(int, string), List<double>> r, (int, string) key, double value)
    {
        if (!r.TryGetValue(key, out var list)) r[key] = list = new List<double>();
        list.Add(value);
    }

    internal static int[] Shuffle(int[] a, FlowRandom rng)
    {
        for (int i = a.Length - 1; i > 0; i--)
        {
            int j = (int)(rng.NextDouble() * (i + 1));
            if (j > i) j = i;
            (a[i], a[j]) = (a[j], a[i]);
        }
        return a;
    }

    internal static double[] Gather(double[] x, IReadOnlyList<int> rows, int d)
    {
        var r = new double[rows.Count * d];
        for (int i = 0; i < rows.Count; i++) Array.Copy(x, rows[i] * d, r, i * d, d);
        return r;
    }
}
