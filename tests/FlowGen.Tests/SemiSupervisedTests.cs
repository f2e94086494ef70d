using System;
using System.Linq;
using FlowGen.Tests.Models;

namespace FlowGen.Tests;

/// <summary>FlowTrainer.TrainSemiSupervised (FlowGMM) on a synthetic 2-D three-class problem with 5 labels per class.</summary>
public class SemiSupervisedTests
{
    /// <summary>
    /// Three classes, 2-D: three arcs (half circles of radius 1, noise 0.15) whose centres lie 120° apart on a circle of radius
    /// 2.5, each bent the other way; not Gaussian, so the flow has to straighten them onto the mixture's components.
    /// </summary>
    internal static (double[] X, int[] Y) Problem(int perClass, ulong seed)
    {
        var rng = new FlowRandom(seed);
        var x = new double[3 * perClass * 2];
        var y = new int[3 * perClass];
        for (int i = 0; i < 3 * perClass; i++)
        {
            int c = i % 3;
            double centre = 2 * Math.PI * c / 3, t = centre + Math.PI * (rng.NextDouble() - 0.5);
            x[2 * i] = 2.5 * Math.Cos(centre) - Math.Cos(t) + 0.15 * rng.NextGaussian();
            x[2 * i + 1] = 2.5 * Math.Sin(centre) - Math.Sin(t) + 0.15 * rng.NextGaussian();
            y[i] = c;
        }
        return (x, y);
    }

    /// <summary>
    /// FlowGMM's form with σ = 1 fixed, the default simplex means (7.5 apart) and the default options (MeansFromLabels,
    /// LabeledWeight 1), seeds 1 and 2 (flow and trainer). Measured over seeds 1–10 with these settings: minimum 99.9 % —
    /// see the branch's report (the previous random means, MeanSpread = 3, gave 49.4–99.4 % over the same seeds).
    /// </summary>
    [Theory]
    [InlineData(1UL)]
    [InlineData(2UL)]
    public void FiveLabelsPerClassReachNinetyFivePercent(ulong seed)
    {
        var (x, y) = Problem(600, 1);
        int[] labels = Enumerable.Repeat(-1, y.Length).ToArray();
        for (int c = 0; c < 3; c++)
            foreach (int i in Enumerable.Range(0, y.Length).Where(i => y[i] == c).Take(5)) labels[i] = c;
        var flow = new SemiSupervisedSimplex2D(seed);
        int reports = 0;
        var progress = new SynchronousProgress<SemiSupervisedProgress>(_ => reports++);
        SemiSupervisedResult result = FlowTrainer.TrainSemiSupervised(flow, x, labels, new SemiSupervisedOptions
        {
            Training = new TrainingOptions { Steps = 3000, BatchSize = 128, LearningRate = 1e-3, ValidationFraction = 0, Seed = seed, EvaluateEvery = 250 },
        }, progress);
        Assert.Equal(15, result.LabeledRows);
        Assert.Equal(y.Length - 15, result.UnlabeledRows);
        Assert.True(reports > 0);

        var (tx, ty) = Problem(500, 99);
        var predicted = new int[ty.Length];
        flow.Classify(tx, predicted);
        double accuracy = predicted.Zip(ty).Count(p => p.First == p.Second) / (double)ty.Length;
        Assert.True(accuracy >= 0.95, $"test accuracy {accuracy:P1} (status {result.Training.Status})");
    }

    [Fact]
    public void HeldOutLabelsAreReportedAndTheRunIsDeterministicAcrossThreads()
    {
        var (x, y) = Problem(200, 3);
        int[] labels = y.Select((c, i) => i < 60 ? c : -1).ToArray();
        double[] Run(int threads, out SemiSupervisedResult result)
        {
            var flow = new SemiSupervised2D(4);
            var accuracies = new System.Collections.Generic.List<double>();
            result = FlowTrainer.TrainSemiSupervised(flow, x, labels, new SemiSupervisedOptions
            {
                Training = new TrainingOptions { Steps = 60, BatchSize = 64, ValidationFraction = 0.25, EvaluateEvery = 20, Threads = threads, Seed = 5 },
            }, new SynchronousProgress<SemiSupervisedProgress>(p => accuracies.Add(p.ValidationAccuracy)));
            Assert.NotEmpty(accuracies);
            Assert.All(accuracies, a => Assert.InRange(a, 0, 1));
            return flow.Parameters.ToArray();
        }
        double[] one = Run(1, out SemiSupervisedResult r1), two = Run(2, out _);
        Assert.Equal(one, two);
        Assert.Equal(15, r1.ValidationRows);
        Assert.Equal(45, r1.LabeledRows);
        Assert.InRange(r1.ValidationAccuracy, 0, 1);
        Assert.Throws<ArgumentException>(() => FlowTrainer.TrainSemiSupervised(new SemiSupervised2D(1), x, labels.Take(10).ToArray()));
        Assert.Throws<ArgumentException>(() => FlowTrainer.TrainSemiSupervised(new SemiSupervised2D(1), x, labels.Select(_ => 5).ToArray()));
        Assert.Throws<ArgumentException>(() => FlowTrainer.TrainSemiSupervised(new SemiSupervised2D(1), x, labels.Select(_ => -1).ToArray()));
    }

    /// <summary>
    /// MeansFromLabels moves the means to μ_c = z̄ + s·(z̄_c − z̄) before the first step (z̄_c the mean of f(x) over class c's
    /// labelled rows under the initial flow, z̄ their mean, s keeping the closest two means 7.5 apart); the means are fixed
    /// here, so they are still there after training. Without the option they stay at the simplex.
    /// </summary>
    [Fact]
    public void MeansFromLabelsPlacesTheMeansAtTheLabelledClasses()
    {
        var (x, y) = Problem(100, 4);
        int[] labels = y.Select((c, i) => i < 30 ? c : -1).ToArray();
        ParameterTensor t = FixedFlowGmm2D.ParameterTensors.Single(p => p.Name == "base.means");
        double[] initial = new FixedFlowGmm2D(3).Parameters.Slice(t.Offset, 6).ToArray();

        // the oracle: z of the labelled rows under the initial flow, class centroids, their centre, the scale
        var start = new FixedFlowGmm2D(3);
        var centroid = new double[3, 2];
        for (int i = 0; i < 30; i++)
        {
            var z = new double[2];
            start.Forward(x.AsSpan(2 * i, 2), z);
            for (int j = 0; j < 2; j++) centroid[y[i], j] += z[j] / 10;
        }
        double[] centre = Enumerable.Range(0, 2).Select(j => (centroid[0, j] + centroid[1, j] + centroid[2, j]) / 3).ToArray();
        double Dist(int a, int b) => Math.Sqrt(Enumerable.Range(0, 2).Sum(j => Math.Pow(centroid[a, j] - centroid[b, j], 2)));
        double scale = 7.5 / Math.Min(Dist(0, 1), Math.Min(Dist(0, 2), Dist(1, 2)));

        double[] Train(bool fromLabels)
        {
            var flow = new FixedFlowGmm2D(3);
            FlowTrainer.TrainSemiSupervised(flow, x, labels, new SemiSupervisedOptions
            {
                Training = new TrainingOptions { Steps = 5, BatchSize = 32, ValidationFraction = 0, Seed = 1 },
                MeansFromLabels = fromLabels,
            });
            return flow.Parameters.Slice(t.Offset, 6).ToArray();
        }
        double[] placed = Train(true);
        for (int c = 0; c < 3; c++)
            for (int j = 0; j < 2; j++) Assert.Equal(centre[j] + scale * (centroid[c, j] - centre[j]), placed[2 * c + j], 1e-10);
        Assert.Equal(initial, Train(false));
        Assert.NotEqual(initial, placed);
    }

    private sealed class SynchronousProgress<T>(Action<T> report) : IProgress<T>
    {
        public void Report(T value) => report(value);
    }
}
