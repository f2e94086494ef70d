using System;
using System.Linq;
using FlowGen.MechanismTransfer;
using Xunit.Abstractions;

namespace FlowGen.Tests;

/// <summary>
/// The mechanism-transfer sample (samples/FlowGen.MechanismTransfer): the contrastive objective's gradient, the augmentation,
/// the independence of the components GCL recovers, and the few-shot gain of the augmentation.
/// </summary>
public class MechanismTransferTests
{
    private readonly ITestOutputHelper _output;
    public MechanismTransferTests(ITestOutputHelper output) => _output = output;

    [Fact]
    public void ContrastiveObjectiveHasTheGradientOfItsLoss()
    {
        // flow and classifier parameters against central differences on a fixed batch (fixed wrong labels via NoiseSeed)
        var g = new DomainGenerator(3, 4);
        var r = new FlowRandom(1);
        const int N = 24;
        var rows = new double[N * 3];
        var labels = new double[N];
        for (int i = 0; i < N; i++)
        {
            labels[i] = i % 4;
            g.Sample(i % 4, 1, r).CopyTo(rows, 3 * i);
        }
        ICouplingFlow<double> flow = new MechanismFlow(seed: 2);
        var pr = new FlowRandom(3);
        for (int i = 0; i < flow.ParameterCount; i++) flow.Parameters[i] += 0.1 * pr.NextGaussian();
        flow.IsDataInitialized = true;
        var objective = new ContrastiveObjective(3, 4, 8, seed: 4);
        int[] idx = Enumerable.Range(0, N).ToArray();
        FlowBatch<double> Batch() => new(N, rows, default, labels, idx, false, 0, 0, 77);
        int p = flow.ParameterCount, total = p + objective.ObjectiveParameters.Length;
        var grad = new double[total];
        double loss = objective.LossAndGradient(flow, Batch(), grad, 1.0 / N);
        Assert.Equal(objective.Loss(flow, Batch()), loss, 1e-12);
        var rnd = new FlowRandom(5);
        for (int k = 0; k < 40; k++)
        {
            int i = k % 2 == 0 ? rnd.NextInt(p) : p + rnd.NextInt(total - p);
            Span<double> target = i < p ? flow.Parameters : objective.ObjectiveParameters.Span;
            int j = i < p ? i : i - p;
            double keep = target[j], h = 1e-6 * (1 + Math.Abs(keep));
            target[j] = keep + h;
            double up = objective.Loss(flow, Batch()) / N;
            target = i < p ? flow.Parameters : objective.ObjectiveParameters.Span;
            target[j] = keep - h;
            double down = objective.Loss(flow, Batch()) / N;
            target = i < p ? flow.Parameters : objective.ObjectiveParameters.Span;
            target[j] = keep;
            double fd = (up - down) / (2 * h);
            Assert.True(Math.Abs(fd - grad[i]) <= 1e-5 * (1e-2 + Math.Abs(fd)), $"{(i < p ? "flow" : "classifier")} parameter {j}: analytic {grad[i]}, finite difference {fd}");
        }
    }

    [Fact]
    public void AugmentationTakesEveryCombinationOfTheComponents()
    {
        // with the identity flow, ŝ = z: the augmented rows are the originals and all n³ coordinate combinations
        ICouplingFlow<double> flow = new MechanismFlow(seed: 1);
        flow.IsDataInitialized = true;
        double[] target = { 0, 1, 2, 3, 4, 5, 6, 7, 8 };
        double[] source = { -10, -10, -10, 10, 10, 10 };
        double[] augmented = Experiment.Augment(flow, target, source);
        Assert.Equal((3 + 27) * 3, augmented.Length);
        Assert.Equal(target, augmented.Take(9).ToArray());
        var combos = Enumerable.Range(0, 27).Select(i => (augmented[9 + 3 * i], augmented[10 + 3 * i], augmented[11 + 3 * i])).ToHashSet();
        Assert.Equal(27, combos.Count);
        Assert.Contains((6.0, 1.0, 5.0), combos.Select(c => (Math.Round(c.Item1, 9), Math.Round(c.Item2, 9), Math.Round(c.Item3, 9))));
        // rows outside the source box (widened by 10 %) are dropped
        double[] narrow = { 0, 0, 0, 3, 4, 5 };
        Assert.True(Experiment.Augment(flow, target, narrow).Length < augmented.Length);
    }

    [Fact]
    [Trait("Category", "Slow")]
    public void GclRecoversIndependentComponents()
    {
        // Bound: truly independent components give E|corr| ≈ √(2/π)/√1000 ≈ 0.025 on 1000 held-out rows per domain;
        // 0.1 (four times that) leaves room for an imperfect estimate and is well below the observations' own mean |corr|
        double recovered = 0, observed = 0;
        ulong[] seeds = { 1, 2, 3, 4 };
        foreach (ulong seed in seeds)
        {
            var g = new DomainGenerator(seed, Experiment.SourceDomains + 1);
            var (rows, labels) = Experiment.Sources(g, new FlowRandom(seed * 7919 + 1));
            var flow = new MechanismFlow(seed);
            TrainingResult result = Experiment.TrainGcl(flow, rows, labels, seed);
            double s = Experiment.MeanAbsoluteCorrelation(flow, g, 1000, new FlowRandom(seed + 5));
            double z = Experiment.MeanAbsoluteCorrelation(flow, g, 1000, new FlowRandom(seed + 5), mapped: false);
            _output.WriteLine($"seed {seed}: mean |corr| of ŝ {s:F3}, of z {z:F3}; {result}");
            recovered += s / seeds.Length;
            observed += z / seeds.Length;
        }
        _output.WriteLine($"mean over seeds: ŝ {recovered:F3}, z {observed:F3}");
        Assert.True(recovered <= 0.1, $"mean |corr| of the recovered components {recovered}");
        Assert.True(recovered < 0.5 * observed, $"recovered {recovered} vs observed {observed}");
    }

    [Fact]
    [Trait("Category", "Slow")]
    public void AugmentationBeatsTargetOnlyAtFiveTargetPoints()
    {
        var runs = Enumerable.Range(1, 6).Select(s => Experiment.Run((ulong)s, new[] { 5 })[0]).ToArray();
        foreach (var r in runs) _output.WriteLine($"target only {r.TargetOnly:F3}, source + target {r.SourceAndTarget:F3}, augmented {r.Augmented:F3}");
        double targetOnly = runs.Average(r => r.TargetOnly), augmented = runs.Average(r => r.Augmented);
        Assert.True(augmented < targetOnly, $"augmented {augmented} vs target only {targetOnly}");
    }
}
