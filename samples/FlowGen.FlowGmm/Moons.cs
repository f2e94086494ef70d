using System;
using System.Diagnostics;
using System.Globalization;
using System.Linq;

namespace FlowGen.FlowGmm;

/// <summary>
/// Two moons (1000 points, noise 0.1, standardised) with 3 labelled points per moon, all from one seed, and FlowGMM trained
/// on them; accuracy is on all 1000 points.
/// </summary>
internal static class Moons
{
    public const int Rows = 1000, LabelsPerClass = 3;
    public const double Noise = 0.1;

    /// <summary>The training settings of every moons run (the sample's defaults; README "Semi-supervised classification").</summary>
    public sealed record Settings(int Steps, string Variant = "learnable", double WeightDecay = Defaults.WeightDecay, double LabeledWeight = Defaults.LabeledWeight, bool MeansFromLabels = Defaults.MeansFromLabels, int BatchSize = 128, double LearningRate = 1e-3);

    public static (double[] Raw, double[] X, int[] Y, int[] Labels, Standardizer Scaler) Data(ulong seed)
    {
        var rng = new FlowRandom(seed);
        var raw = new double[Rows * 2];
        var y = new int[Rows];
        for (int i = 0; i < Rows; i++)
        {
            int c = i % 2;
            double t = Math.PI * rng.NextDouble();
            raw[2 * i] = (c == 0 ? Math.Cos(t) : 1 - Math.Cos(t)) + Noise * rng.NextGaussian();
            raw[2 * i + 1] = (c == 0 ? Math.Sin(t) : 0.5 - Math.Sin(t)) + Noise * rng.NextGaussian();
            y[i] = c;
        }
        int[] labels = Enumerable.Repeat(-1, Rows).ToArray();
        for (int c = 0; c < 2; c++)
            foreach (int i in PenguinsExperiment.Shuffle(Enumerable.Range(0, Rows).Where(i => y[i] == c).ToArray(), rng).Take(LabelsPerClass))
                labels[i] = c;
        var scaler = Standardizer.Fit<double>(raw, 2);
        return (raw, scaler.Apply<double>(raw), y, labels, scaler);
    }

    public static IGaussianMixtureFlow<double> NewFlow(string variant, ulong seed) => variant switch
    {
        "learnable" => new MoonsFlow(seed),
        "fixed-means" => new MoonsFixedMeansFlow(seed),
        "fixed" => new MoonsFixedFlow(seed),
        _ => throw new ArgumentException($"variant must be learnable, fixed-means or fixed; it is {variant}.", nameof(variant)),
    };

    /// <summary>Trains on one seed's moons; returns the flow, its accuracy on all points, the seconds taken and the result.</summary>
    public static (IGaussianMixtureFlow<double> Flow, double Accuracy, double Seconds, SemiSupervisedResult Result) Train(Settings s, ulong seed)
    {
        var (_, x, y, labels, _) = Data(seed);
        var clock = Stopwatch.StartNew();
        IGaussianMixtureFlow<double> flow = NewFlow(s.Variant, seed);
        SemiSupervisedResult result = FlowTrainer.TrainSemiSupervised(flow, x, labels, new SemiSupervisedOptions
        {
            Training = new TrainingOptions
            {
                Steps = s.Steps, BatchSize = s.BatchSize, LearningRate = s.LearningRate, WeightDecay = s.WeightDecay,
                ValidationFraction = 0, Seed = seed, Threads = 1,
            },
            LabeledWeight = s.LabeledWeight,
            MeansFromLabels = s.MeansFromLabels,
        });
        double seconds = clock.Elapsed.TotalSeconds;
        var predicted = new int[Rows];
        flow.Classify(x, ReadOnlySpan<double>.Empty, predicted);
        return (flow, predicted.Zip(y).Count(p => p.First == p.Second) / (double)Rows, seconds, result);
    }

    /// <summary>Accuracy over seeds first … first + count − 1: each seed, then mean ± sd and the time per run.</summary>
    public static int Seeds(Settings s, int first, int count, Action<string> log)
    {
        var accuracies = new double[count];
        var seconds = new double[count];
        for (int i = 0; i < count; i++)
        {
            ulong seed = (ulong)(first + i);
            var (flow, accuracy, time, result) = Train(s, seed);
            var (_, x, _, labels, _) = Data(seed);
            int[] unlabeled = Enumerable.Range(0, Rows).Where(r => labels[r] < 0).ToArray();
            double[] u = PenguinsExperiment.Gather(x, unlabeled, 2);
            var lp = new double[unlabeled.Length];
            flow.LogProb(u, ReadOnlySpan<double>.Empty, lp);
            accuracies[i] = accuracy;
            seconds[i] = time;
            log(string.Create(CultureInfo.InvariantCulture,
                $"seed {seed,2}: accuracy {accuracy:P1}, unlabelled mixture NLL {-lp.Average():F3}, {time:F2} s ({result.Training.Status})"));
        }
        double mean = accuracies.Average(), sd = Math.Sqrt(accuracies.Sum(a => (a - mean) * (a - mean)) / Math.Max(1, count - 1));
        log(string.Create(CultureInfo.InvariantCulture,
            $"moons {s}, seeds {first}–{first + count - 1}: {100 * mean:F1} ± {100 * sd:F1} % (min {100 * accuracies.Min():F1} %), {seconds.Average():F2} s per run"));
        return 0;
    }
}
