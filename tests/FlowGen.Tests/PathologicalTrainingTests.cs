using System;
using System.Linq;
using System.Numerics;
using FlowGen.Tests.Models;
using FlowGen.Tests.Models.Extremes;
using Xunit.Abstractions;

namespace FlowGen.Tests;

/// <summary>
/// Training on pathological data completes or stops with a clear message, and nothing becomes NaN silently: after every
/// run the parameters are finite, a non-finite loss shows up as skipped steps / rollbacks in <see cref="TrainingResult.Events"/>
/// (or as <see cref="TrainingStatus.Diverged"/>), and the reported losses are finite unless the result says why not.
/// </summary>
public sealed class PathologicalTrainingTests
{
    private readonly ITestOutputHelper _output;

    public PathologicalTrainingTests(ITestOutputHelper output) => _output = output;

    private static TrainingOptions Options(int steps = 150) => new()
    {
        Steps = steps, BatchSize = 32, LearningRate = 5e-3, EvaluateEvery = 25, Threads = 2, Seed = 3,
    };

    private void CheckOutcome<T>(ICouplingFlow<T> flow, TrainingResult r, ReadOnlySpan<T> data, string what)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        _output.WriteLine($"{what}: {r.Status}, {r.Steps} steps, train loss {r.FinalTrainLoss:G6}, validation {r.FinalValidationLoss:G6}, " +
                          $"skipped {r.SkippedSteps}, rollbacks {r.Rollbacks}{string.Concat(r.Events.Take(3).Select(e => "\n  " + e))}");
        foreach (T p in flow.Parameters) Assert.True(T.IsFinite(p), $"{what}: a parameter became {p}");
        Assert.True(r.Status is TrainingStatus.Completed or TrainingStatus.StoppedEarly or TrainingStatus.Diverged, $"{what}: {r.Status}");
        if (r.Status == TrainingStatus.Diverged) Assert.Contains(r.Events, e => e.Contains("non-finite", StringComparison.Ordinal));
        if (r.SkippedSteps > 0) Assert.NotEmpty(r.Events); // skipped steps are always reported
        if (r.Steps > 0 && r.Status != TrainingStatus.Diverged) Assert.True(double.IsFinite(r.FinalTrainLoss), $"{what}: final train loss {r.FinalTrainLoss} without a reason");
        if (r.ValidationRows > 0) Assert.False(double.IsNaN(r.FinalValidationLoss), $"{what}: validation loss NaN");
        double nll = FlowTrainer.MeanNll(flow, data, threads: 1);
        Assert.False(double.IsNaN(nll), $"{what}: the trained flow's NLL on its data is NaN");
    }

    private static float[] Gaussian(int n, int dim, double scale, ulong seed)
    {
        var data = new float[n * dim];
        new FlowRandom(seed).FillGaussian(data);
        for (int i = 0; i < data.Length; i++) data[i] = (float)(data[i] * scale);
        return data;
    }

    [Fact]
    public void AllRowsEqual()
    {
        float[] row = { 0.3f, -1.2f, 2.5f };
        float[] data = Enumerable.Range(0, 200).SelectMany(_ => row).ToArray();
        var actNorm = new WithActNorm3D(seed: 1);
        CheckOutcome(actNorm, FlowTrainer.Train(actNorm, data, Options()), data, "ActNorm, all rows equal");
        var linear = new XLinear(seed: 1);
        CheckOutcome(linear, FlowTrainer.Train(linear, data, Options()), data, "ActNorm + invertible linear, all rows equal");
        var spline = new XSpline(seed: 1);
        CheckOutcome(spline, FlowTrainer.Train(spline, data, Options()), data, "spline, all rows equal");
        var sos = new XSos(seed: 1);
        CheckOutcome(sos, FlowTrainer.Train(sos, data, Options()), data, "sum of squares, all rows equal");
    }

    [Fact]
    public void AllRowsEqualDouble()
    {
        double[] data = Enumerable.Range(0, 200).SelectMany(_ => new[] { 0.3, -1.2, 2.5 }).ToArray();
        var dsf = new XDsfD(seed: 1);
        CheckOutcome(dsf, FlowTrainer.Train(dsf, data, Options()), data, "deep sigmoidal (double), all rows equal");
        var linear = new XLinearD(seed: 1);
        CheckOutcome(linear, FlowTrainer.Train(linear, data, Options(400)), data, "linear (double), all rows equal, 400 steps");
    }

    [Fact]
    public void ScaleOneMillion()
    {
        float[] data = Gaussian(300, 3, 1e6, 5);
        var actNorm = new WithActNorm3D(seed: 1);
        CheckOutcome(actNorm, FlowTrainer.Train(actNorm, data, Options()), data, "ActNorm, scale 1e6");
        var affine = new XAffine(seed: 1);
        CheckOutcome(affine, FlowTrainer.Train(affine, data, Options()), data, "affine without ActNorm, scale 1e6");
        // float gradients of a degree-2 sum-of-squares coupling overflow at |x| ~ 1e6 (∂τ/∂a ~ x⁵): every step is skipped, the
        // run stops as Diverged with the parameters untouched and a message that names the cause
        var sos = new XSos(seed: 1);
        float[] sosBefore = sos.Parameters.ToArray();
        TrainingResult sosResult = FlowTrainer.Train(sos, data, Options());
        CheckOutcome(sos, sosResult, data, "sum of squares, scale 1e6");
        if (sosResult.Status == TrainingStatus.Diverged)
        {
            Assert.Contains(sosResult.Events, e => e.Contains("standardise the data", StringComparison.Ordinal));
            Assert.True(sosBefore.AsSpan().SequenceEqual(sos.Parameters), "a diverged run must leave the last good parameters");
        }
        var dsf = new XDsf(seed: 1);
        CheckOutcome(dsf, FlowTrainer.Train(dsf, data, Options()), data, "deep sigmoidal, scale 1e6");
        float[] map = Gaussian(300, 3, 1e6, 6);
        var fit = new XAffine(seed: 1);
        TrainingResult r = FlowTrainer.FitMap(fit, data, map, Options());
        foreach (float p in fit.Parameters) Assert.True(float.IsFinite(p));
        _output.WriteLine($"FitMap at scale 1e6: {r.Status}, loss {r.FinalTrainLoss:G6}, skipped {r.SkippedSteps}");
    }

    [Fact]
    public void ASingleRowIsRefusedWithAClearMessage()
    {
        var flow = new Tiny2D(seed: 1);
        float[] before = flow.Parameters.ToArray();
        var ex = Assert.Throws<ArgumentException>(() => FlowTrainer.Train(flow, new[] { 0.5f, 1.5f }, Options()));
        Assert.Contains("at least 2 rows", ex.Message, StringComparison.Ordinal);
        Assert.True(before.AsSpan().SequenceEqual(flow.Parameters));
        Assert.Throws<ArgumentException>(() => FlowTrainer.Train(flow, Array.Empty<float>(), Options()));
    }

    [Fact]
    [Trait("Category", "Slow")]
    public void TwoRowsAndMoreDimensionsThanRows()
    {
        float[] two = Gaussian(2, 8, 1, 7);
        var r8 = new R8(seed: 1);
        CheckOutcome(r8, FlowTrainer.Train(r8, two, Options()), two, "R8 on 2 rows");
        float[] three = Gaussian(3, 4, 1, 8);
        var lu = new SingleCoordinate4D(seed: 1);
        CheckOutcome(lu, FlowTrainer.Train(lu, three, Options(400)), three, "invertible linear 4-D on 3 rows, 400 steps");
        float[] five = Gaussian(5, 3, 1, 9);
        var linear = new XLinear(seed: 1);
        CheckOutcome(linear, FlowTrainer.Train(linear, five, Options(400)), five, "ActNorm + invertible linear 3-D on 5 rows, 400 steps");
    }

    [Fact]
    public void AConstantColumn()
    {
        float[] data = Gaussian(200, 3, 1, 10);
        for (int i = 0; i < 200; i++) data[i * 3 + 1] = 4f;
        var actNorm = new WithActNorm3D(seed: 1);
        CheckOutcome(actNorm, FlowTrainer.Train(actNorm, data, Options(400)), data, "ActNorm, constant column, 400 steps");
    }
}
