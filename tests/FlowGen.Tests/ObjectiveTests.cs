using System;
using System.Collections.Concurrent;
using System.Linq;
using FlowGen.Tests.Models;

namespace FlowGen.Tests;

/// <summary>
/// Public objectives (IFlowObjective, FlowTrainer.Fit): the built-in ones reproduce Train/FitMap bit for bit, a user-written
/// weighted NLL has the right gradient and trains to the weighted distribution, batches carry the right rows.
/// </summary>
public class ObjectiveTests
{
    /// <summary>
    /// Weighted maximum likelihood written by a user through the generated ForwardVjp: per-row loss
    /// wᵢ·(½|zᵢ|² + (D/2)log 2π − log|det ∂z/∂x|ᵢ), the weight looked up by the row's index in the data.
    /// </summary>
    private sealed class WeightedNll<T> : IFlowObjective<T> where T : unmanaged, System.Numerics.IFloatingPointIeee754<T>
    {
        private readonly double[] _weights;

        public WeightedNll(double[] weights) => _weights = weights;

        public bool UsesDataInitialization => true;

        public double LossAndGradient(ICouplingFlow<T> flow, FlowBatch<T> batch, Span<T> gradParameters, T weight)
        {
            int n = batch.Count, d = flow.Dim;
            var zs = new T[n * d];
            var logDets = new T[n];
            flow.Forward(batch.Inputs, batch.Contexts, zs, logDets);
            var gradLogDets = new T[n];
            double loss = 0, half = 0.5 * d * Math.Log(2 * Math.PI);
            for (int i = 0; i < n; i++)
            {
                double w = _weights[batch.RowIndices[i]];
                double sq = 0;
                for (int j = 0; j < d; j++)
                {
                    double z = double.CreateTruncating(zs[i * d + j]);
                    sq += z * z;
                    zs[i * d + j] = T.CreateChecked(w) * weight * zs[i * d + j]; // ∂L/∂z = weight·wᵢ·zᵢ
                }
                loss += w * (0.5 * sq + half - double.CreateTruncating(logDets[i]));
                gradLogDets[i] = -T.CreateChecked(w) * weight; // ∂L/∂log|det| = −weight·wᵢ
            }
            flow.ForwardVjp(batch.Inputs, batch.Contexts, zs, gradLogDets, gradParameters, default, default);
            return loss;
        }
    }

    private static double[] Gaussian(int count, ulong seed)
    {
        var v = new double[count];
        new FlowRandom(seed).FillGaussian(v);
        return v;
    }

    private static void Perturb(ICouplingFlow<double> flow, ulong seed, double scale)
    {
        var r = new FlowRandom(seed);
        Span<double> p = flow.Parameters;
        for (int i = 0; i < p.Length; i++) p[i] += scale * r.NextGaussian();
    }

    [Fact]
    public void MaximumLikelihoodThroughFitIsTrainBitForBit()
    {
        float[] data = Gaussian(2 * 700, 1).Select(v => (float)(0.7 * v + 0.3)).ToArray();
        float[] validation = Gaussian(2 * 90, 2).Select(v => (float)v).ToArray();
        foreach (int threads in new[] { 1, 2 })
        {
            var options = new TrainingOptions { Steps = 40, BatchSize = 128, EvaluateEvery = 10, Threads = threads, Seed = 5, LearningRate = 3e-3 };
            var a = new Tiny2D(seed: 9);
            var b = new Tiny2D(seed: 9);
            TrainingResult ra = FlowTrainer.Train<float>(a, data, options);
            TrainingResult rb = FlowTrainer.Fit<float>(b, new FlowData<float>(data), MaximumLikelihoodObjective<float>.Instance, options);
            Assert.Equal(a.Parameters.ToArray(), b.Parameters.ToArray());
            Assert.Equal(ra.BestValidationLoss, rb.BestValidationLoss);
            Assert.Equal(ra.FinalTrainLoss, rb.FinalTrainLoss);

            var c = new Tiny2D(seed: 9);
            var d = new Tiny2D(seed: 9);
            FlowTrainer.Train<float>(c, new FlowData<float>(data), new FlowData<float>(validation), options);
            FlowTrainer.Fit<float>(d, new FlowData<float>(data), new FlowData<float>(validation), MaximumLikelihoodObjective<float>.Instance, options);
            Assert.Equal(c.Parameters.ToArray(), d.Parameters.ToArray());
        }
    }

    [Fact]
    public void MapObjectiveThroughFitIsFitMapBitForBit()
    {
        double[] x = Gaussian(2 * 400, 3);
        double[] y = x.Select((v, i) => i % 2 == 0 ? 1.5 * v + 0.2 : v - 0.1 * x[i - 1]).ToArray();
        foreach (MapDirection direction in new[] { MapDirection.Forward, MapDirection.Inverse })
        {
            var options = new TrainingOptions { Steps = 30, BatchSize = 100, EvaluateEvery = 10, Threads = 2, Seed = 2, LearningRate = 3e-3 };
            var a = new ObjSmall2DDouble(seed: 4);
            var b = new ObjSmall2DDouble(seed: 4);
            TrainingResult ra = FlowTrainer.FitMap<double>(a, x, y, options, direction: direction);
            TrainingResult rb = FlowTrainer.Fit<double>(b, new FlowData<double>(x, default, y), new MapObjective<double>(direction), options);
            Assert.Equal(a.Parameters.ToArray(), b.Parameters.ToArray());
            Assert.Equal(ra.FinalTrainLoss, rb.FinalTrainLoss);
            Assert.True(rb.FinalTrainLoss < 1, $"{direction}: {rb}");
        }
    }

    [Fact]
    public void WeightedNllHasTheGradientOfItsLoss()
    {
        ICouplingFlow<double> flow = new ObjSmall2DDouble(seed: 1);
        Perturb(flow, 2, 0.1);
        const int N = 40;
        double[] x = Gaussian(2 * N, 3);
        double[] w = Gaussian(N, 4).Select(v => Math.Exp(v)).ToArray();
        int[] idx = Enumerable.Range(0, N).ToArray();
        var objective = new WeightedNll<double>(w);
        double Loss()
        {
            var g = new double[flow.ParameterCount];
            return objective.LossAndGradient(flow, new FlowBatch<double>(N, x, default, default, idx, false, 0, 0, 0), g, 1.0 / N) / N;
        }
        var grad = new double[flow.ParameterCount];
        objective.LossAndGradient(flow, new FlowBatch<double>(N, x, default, default, idx, false, 0, 0, 0), grad, 1.0 / N);

        // all weights 1: the generated NllGradient's gradient
        var ones = new WeightedNll<double>(Enumerable.Repeat(1.0, N).ToArray());
        var g1 = new double[flow.ParameterCount];
        double l1 = ones.LossAndGradient(flow, new FlowBatch<double>(N, x, default, default, idx, false, 0, 0, 0), g1, 1.0 / N);
        var gNll = new double[flow.ParameterCount];
        double lNll = flow.NllGradient(x, default, gNll, 1.0 / N);
        Assert.Equal(lNll, l1, 1e-9 * Math.Abs(lNll));
        for (int i = 0; i < g1.Length; i++) Assert.True(Math.Abs(g1[i] - gNll[i]) <= 1e-9 * (1 + Math.Abs(gNll[i])), $"parameter {i}: {g1[i]} vs {gNll[i]}");

        // random weights: central finite differences on 25 random parameters
        var r = new FlowRandom(5);
        for (int k = 0; k < 25; k++)
        {
            int i = r.NextInt(flow.ParameterCount);
            double p = flow.Parameters[i], h = 1e-5 * (1 + Math.Abs(p));
            flow.Parameters[i] = p + h;
            double up = Loss();
            flow.Parameters[i] = p - h;
            double down = Loss();
            flow.Parameters[i] = p;
            double fd = (up - down) / (2 * h);
            Assert.True(Math.Abs(fd - grad[i]) <= 1e-6 * (1 + Math.Abs(fd)), $"parameter {i}: analytic {grad[i]}, finite difference {fd}");
        }
    }

    [Fact]
    public void WeightedNllTrainsToTheTiltedDistribution()
    {
        // x ~ N(0, I₂) weighted by exp(a·x₀ − a²/2): the weighted density is N((a, 0), I₂), so the flow's mean moves to (a, 0).
        const int N = 6000;
        const double A = 1.0;
        double[] x = Gaussian(2 * N, 11);
        double[] w = Enumerable.Range(0, N).Select(i => Math.Exp(A * x[2 * i] - 0.5 * A * A)).ToArray();
        ICouplingFlow<double> flow = new ObjSmall2DDouble(seed: 3);
        TrainingResult result = FlowTrainer.Fit<double>(flow, new FlowData<double>(x), new WeightedNll<double>(w),
            new TrainingOptions { Steps = 500, BatchSize = 256, LearningRate = 5e-3, EvaluateEvery = 100, Seed = 1 });
        Assert.Equal(TrainingStatus.Completed, result.Status);
        var samples = new double[2 * 20000];
        flow.Sample(samples, default, default, new FlowRandom(7));
        double m0 = 0, m1 = 0, v0 = 0;
        for (int i = 0; i < 20000; i++)
        {
            m0 += samples[2 * i];
            m1 += samples[2 * i + 1];
        }
        m0 /= 20000;
        m1 /= 20000;
        for (int i = 0; i < 20000; i++) v0 += (samples[2 * i] - m0) * (samples[2 * i] - m0);
        v0 /= 20000;
        Assert.True(Math.Abs(m0 - A) < 0.15 && Math.Abs(m1) < 0.15, $"mean ({m0:F3}, {m1:F3}), expected ({A}, 0); {result}");
        Assert.True(Math.Abs(v0 - 1) < 0.25, $"variance of x₀ {v0:F3}, expected 1");

        // the unweighted fit of the same data stays at the origin (the weights made the difference)
        ICouplingFlow<double> plain = new ObjSmall2DDouble(seed: 3);
        FlowTrainer.Train<double>(plain, x, new TrainingOptions { Steps = 500, BatchSize = 256, LearningRate = 5e-3, EvaluateEvery = 100, Seed = 1 });
        plain.Sample(samples, default, default, new FlowRandom(7));
        double p0 = 0;
        for (int i = 0; i < 20000; i++) p0 += samples[2 * i];
        Assert.True(Math.Abs(p0 / 20000) < 0.1, $"unweighted mean {p0 / 20000:F3}");
    }

    /// <summary>Checks every row it is handed against the data as given (inputs, contexts, targets at RowIndices); loss 0.</summary>
    private sealed class RowChecker : IFlowObjective<double>
    {
        private readonly double[] _x, _c, _t, _vx;
        public readonly ConcurrentBag<string> Problems = new();
        public int TrainingRows, ValidationRows;

        public RowChecker(double[] x, double[] c, double[] t, double[] vx)
        {
            _x = x; _c = c; _t = t; _vx = vx;
        }

        public double LossAndGradient(ICouplingFlow<double> flow, FlowBatch<double> batch, Span<double> gradParameters, double weight)
        {
            Check(batch);
            System.Threading.Interlocked.Add(ref TrainingRows, batch.Count);
            gradParameters.Fill(1e-3); // a harmless constant gradient
            return 0;
        }

        public double Loss(ICouplingFlow<double> flow, FlowBatch<double> batch)
        {
            if (!batch.IsValidation || batch.Step != -1) Problems.Add("validation batch not flagged");
            Check(batch);
            System.Threading.Interlocked.Add(ref ValidationRows, batch.Count);
            return 0;
        }

        private void Check(FlowBatch<double> batch)
        {
            for (int i = 0; i < batch.Count; i++)
            {
                int r = batch.RowIndices[i];
                double[] x = batch.IsValidation && _vx.Length > 0 ? _vx : _x;
                if (batch.Inputs[2 * i] != x[2 * r] || batch.Inputs[2 * i + 1] != x[2 * r + 1]) Problems.Add($"input of row {r}");
                if (!(batch.IsValidation && _vx.Length > 0))
                {
                    if (batch.Contexts[i] != _c[r]) Problems.Add($"context of row {r}");
                    for (int j = 0; j < 3; j++) if (batch.Targets[3 * i + j] != _t[3 * r + j]) Problems.Add($"target of row {r}");
                }
            }
        }
    }

    [Fact]
    public void BatchesCarryTheRowsTheirIndicesName()
    {
        const int N = 300;
        double[] x = Gaussian(2 * N, 1), c = Gaussian(N, 2), t = Gaussian(3 * N, 3);
        var checker = new RowChecker(x, c, t, Array.Empty<double>());
        var flow = new ObjConditional2DDouble(seed: 1);
        TrainingResult result = FlowTrainer.Fit<double>(flow, new FlowData<double>(x, c, t), checker,
            new TrainingOptions { Steps = 7, BatchSize = 100, EvaluateEvery = 3, Threads = 2, ValidationFraction = 0.2 });
        Assert.Empty(checker.Problems);
        Assert.Equal(7 * 100, checker.TrainingRows);
        Assert.Equal(60, result.ValidationRows);
        Assert.Equal(4 * 60, checker.ValidationRows); // steps 3, 6, 7 and the final evaluation

        // an explicit validation set: its rows are indexed in it
        double[] vx = Gaussian(2 * 50, 4), vc = Gaussian(50, 5), vt = Gaussian(3 * 50, 6);
        var checker2 = new RowChecker(x, c, t, vx);
        FlowTrainer.Fit<double>(new ObjConditional2DDouble(seed: 1), new FlowData<double>(x, c, t), new FlowData<double>(vx, vc, vt), checker2,
            new TrainingOptions { Steps = 4, BatchSize = 64, EvaluateEvery = 2 });
        Assert.Empty(checker2.Problems);
        Assert.Equal(3 * 50, checker2.ValidationRows);
    }

    [Fact]
    public void WrongTargetLengthsAreNamed()
    {
        double[] x = Gaussian(2 * 10, 1);
        var flow = new ObjSmall2DDouble(seed: 1);
        var e = Assert.Throws<ArgumentException>(() => FlowTrainer.Fit<double>(flow, new FlowData<double>(x, default, new double[7]), new MapObjective<double>()));
        Assert.Contains("data.Targets", e.Message);
        e = Assert.Throws<ArgumentException>(() => FlowTrainer.Fit<double>(flow, new FlowData<double>(x, default, new double[20]), new FlowData<double>(x, default, new double[10]), new MapObjective<double>()));
        Assert.Contains("validation.Targets", e.Message);
        Assert.Throws<ArgumentNullException>(() => FlowTrainer.Fit<double>(flow, new FlowData<double>(x), null!));
    }

    /// <summary>A data-free objective: fit x = f⁻¹(z) ≈ z + shift for z ~ N(0, I) drawn from the batch's noise seed.</summary>
    private sealed class ShiftObjective : IFlowObjective<double>
    {
        public double LossAndGradient(ICouplingFlow<double> flow, FlowBatch<double> batch, Span<double> gradParameters, double weight)
        {
            int n = batch.Count, d = flow.Dim;
            var z = new double[n * d];
            batch.CreateRandom().FillGaussian(z);
            var x = new double[n * d];
            flow.Inverse(z, default, x, default);
            double loss = 0;
            for (int i = 0; i < x.Length; i++)
            {
                double diff = x[i] - (z[i] + 2);
                loss += diff * diff;
                x[i] = 2 * weight * diff;
            }
            flow.InverseVjp(z, default, x, default, gradParameters, default, default);
            return loss;
        }
    }

    [Fact]
    public void DataFreeObjectivesTrainAndDoNotDependOnTheThreadCount()
    {
        double[] Run(int threads, out TrainingResult result)
        {
            var flow = new ObjSmall2DDouble(seed: 2);
            result = FlowTrainer.Fit<double>(flow, new ShiftObjective(),
                new TrainingOptions { Steps = 300, BatchSize = 256, LearningRate = 1e-2, EvaluateEvery = 50, Threads = threads, ValidationSamples = 500 });
            return flow.Parameters.ToArray();
        }
        double[] one = Run(1, out TrainingResult r1), two = Run(2, out TrainingResult r2);
        Assert.Equal(one, two);
        Assert.Equal(500, r1.ValidationRows);
        Assert.True(r1.FinalValidationLoss < 0.05, r1.ToString());
        ICouplingFlow<double> flow = new ObjSmall2DDouble(seed: 2);
        one.CopyTo(flow.Parameters);
        var x = new double[2];
        flow.Inverse(new double[] { 0, 0 }, default, x);
        Assert.True(Math.Abs(x[0] - 2) < 0.2 && Math.Abs(x[1] - 2) < 0.2, $"f⁻¹(0) = ({x[0]}, {x[1]})");
    }
}
