using System;
using System.Collections.Generic;
using System.Linq;
using FlowGen.Tests.Models;

namespace FlowGen.Tests;

/// <summary>The trainer: learning, determinism across thread counts, non-finite handling, early stopping, map fitting.</summary>
public class TrainingTests
{
    /// <summary>Samples of a correlated 2-D Gaussian N(μ, Σ) with Σ = [[1, 0.8], [0.8, 1]], and its entropy (the best achievable NLL).</summary>
    private static (float[] data, double entropy) CorrelatedGaussian(int n, ulong seed)
    {
        var rng = new FlowRandom(seed);
        var z = new float[2 * n];
        rng.FillGaussian(z);
        var data = new float[2 * n];
        const double Rho = 0.8;
        double c = Math.Sqrt(1 - Rho * Rho);
        for (int i = 0; i < n; i++)
        {
            data[2 * i] = 1.5f + z[2 * i];
            data[2 * i + 1] = (float)(-0.5 + Rho * z[2 * i] + c * z[2 * i + 1]);
        }
        double entropy = 1 + Math.Log(2 * Math.PI) + 0.5 * Math.Log(1 - Rho * Rho);
        return (data, entropy);
    }

    [Fact]
    [Trait("Category", "Slow")]
    public void TrainingLearnsACorrelatedGaussian()
    {
        var (data, entropy) = CorrelatedGaussian(4000, 1);
        var flow = new Tiny2D(seed: 3);
        double before = FlowTrainer.MeanNll<float>(flow, data);
        var reports = new List<TrainingProgress>();
        TrainingResult result = FlowTrainer.Train<float>(flow, data,
            new TrainingOptions { Steps = 600, BatchSize = 256, LearningRate = 3e-3, EvaluateEvery = 100, Seed = 7 },
            new SynchronousProgress<TrainingProgress>(reports.Add));
        double after = FlowTrainer.MeanNll<float>(flow, data);
        Assert.Equal(TrainingStatus.Completed, result.Status);
        Assert.Equal(600, result.Steps);
        Assert.True(after < before - 0.5, $"NLL {before} → {after}");
        Assert.True(after - entropy < 0.05, $"NLL {after} is more than 0.05 nats above the entropy {entropy}");
        Assert.Equal(6, reports.Count);
        Assert.All(reports, r => Assert.True(r.SamplesPerSecond > 0 && r.ValidationLoss is double v && double.IsFinite(v)));
        Assert.True(double.IsFinite(result.BestValidationLoss) && result.BestStep > 0);
    }

    [Fact]
    [Trait("Category", "Slow")]
    public void SameSeedGivesTheSameParametersWhateverTheThreadCount()
    {
        var (data, _) = CorrelatedGaussian(3000, 2);
        float[] Run(int threads)
        {
            var flow = new Tiny2D(seed: 4);
            FlowTrainer.Train<float>(flow, data, new TrainingOptions { Steps = 60, BatchSize = 512, Threads = threads, Seed = 11, EvaluateEvery = 20 });
            return flow.Parameters.ToArray();
        }
        float[] one = Run(1), two = Run(2), four = Run(4);
        Assert.True(one.AsSpan().SequenceEqual(two), "1 and 2 threads differ");
        Assert.True(one.AsSpan().SequenceEqual(four), "1 and 4 threads differ");
        Assert.False(one.AsSpan().SequenceEqual(new Tiny2D(seed: 4).Parameters), "training changed nothing");
    }

    [Fact]
    public void NonFiniteDataIsRejectedNamingTheRow()
    {
        var (data, _) = CorrelatedGaussian(100, 3);
        data[2 * 37 + 1] = float.NaN;
        var flow = new Tiny2D();
        float[] before = flow.Parameters.ToArray();
        var ex = Assert.Throws<ArgumentException>(() => FlowTrainer.Train<float>(flow, data, new TrainingOptions { Steps = 5 }));
        Assert.Contains("Row 37", ex.Message);
        Assert.Contains("column 1", ex.Message);
        Assert.True(before.AsSpan().SequenceEqual(flow.Parameters));
        data[2 * 37 + 1] = float.PositiveInfinity;
        Assert.Contains("Row 37", Assert.Throws<ArgumentException>(() => FlowTrainer.Train<float>(flow, data, new TrainingOptions { Steps = 5 })).Message);
    }

    [Fact]
    public void NonFiniteGradientsAreSkippedThenRolledBackNeverPropagated()
    {
        var (data, _) = CorrelatedGaussian(1000, 4);
        var inner = new Tiny2D(seed: 5);
        // steps 10–11 produce a NaN gradient (skipped); steps 30–40 persistently (rollback after 5, then recover)
        var flow = new FaultyFlow(inner, call => call is >= 10 and <= 11 or >= 30 and <= 40);
        var reports = new List<TrainingProgress>();
        TrainingResult result = FlowTrainer.Train<float>(flow, data,
            new TrainingOptions { Steps = 80, BatchSize = 32, Threads = 1, EvaluateEvery = 10, MaxConsecutiveNonFinite = 5 },
            new SynchronousProgress<TrainingProgress>(reports.Add));
        Assert.Equal(TrainingStatus.Completed, result.Status);
        Assert.Equal(2 + 11, result.SkippedSteps);
        Assert.Equal(2, result.Rollbacks);
        Assert.Contains(result.Events, e => e.Contains("non-finite") && e.Contains("skipped"));
        Assert.Contains(result.Events, e => e.Contains("rolled back"));
        Assert.Contains(reports, r => r.Message is not null && r.Message.Contains("skipped"));
        Assert.True(inner.Parameters.ToArray().All(float.IsFinite));
        Assert.True(double.IsFinite(FlowTrainer.MeanNll<float>(inner, data)));
    }

    [Fact]
    public void ExplodingFiniteLossesAreSkippedAndRolledBack()
    {
        var (data, _) = CorrelatedGaussian(1000, 4);
        var inner = new Tiny2D(seed: 5);
        // a huge but finite loss on step 40, then steps 60–70 in a row
        var flow = new FaultyFlow(inner, call => call is 40 or >= 60 and <= 70, explode: true);
        TrainingResult result = FlowTrainer.Train<float>(flow, data,
            new TrainingOptions { Steps = 100, BatchSize = 32, Threads = 1, EvaluateEvery = 10, MaxConsecutiveNonFinite = 5 });
        Assert.Equal(TrainingStatus.Completed, result.Status);
        Assert.Equal(1 + 11, result.SkippedSteps);
        Assert.Equal(2, result.Rollbacks);
        Assert.Contains(result.Events, e => e.Contains("exploded") && e.Contains("skipped"));
        Assert.True(result.FinalTrainLoss < 10, $"final train loss {result.FinalTrainLoss}");
        Assert.True(inner.Parameters.ToArray().All(float.IsFinite));

        // LossSpikeFactor = 0 turns the check off: the same run accepts the spikes
        var unguarded = new FaultyFlow(new Tiny2D(seed: 5), call => call is 40, explode: true);
        TrainingResult off = FlowTrainer.Train<float>(unguarded, data,
            new TrainingOptions { Steps = 50, BatchSize = 32, Threads = 1, EvaluateEvery = 10, LossSpikeFactor = 0 });
        Assert.Equal(0, off.SkippedSteps);
    }

    [Fact]
    public void PersistentNonFiniteGradientsEndTheRunAsDiverged()
    {
        var (data, _) = CorrelatedGaussian(500, 5);
        var inner = new Tiny2D(seed: 6);
        float[] start = inner.Parameters.ToArray();
        var flow = new FaultyFlow(inner, _ => true);
        TrainingResult result = FlowTrainer.Train<float>(flow, data, new TrainingOptions { Steps = 100, BatchSize = 32, Threads = 1, MaxConsecutiveNonFinite = 3, MaxRollbacks = 2 });
        Assert.Equal(TrainingStatus.Diverged, result.Status);
        Assert.True(start.AsSpan().SequenceEqual(inner.Parameters), "parameters changed although no step was good");
        Assert.Contains(result.Events, e => e.StartsWith("stopped", StringComparison.Ordinal));
    }

    [Fact]
    public void EarlyStoppingKeepsTheBestParameters()
    {
        var (data, _) = CorrelatedGaussian(400, 6);
        var flow = new Tiny2D(seed: 7);
        // a learning rate this high makes the validation loss bounce, so patience runs out
        TrainingResult result = FlowTrainer.Train<float>(flow, data,
            new TrainingOptions { Steps = 3000, BatchSize = 32, LearningRate = 2e-2, Schedule = LearningRateSchedule.Constant, EvaluateEvery = 10, Patience = 3, ValidationFraction = 0.25 });
        Assert.Equal(TrainingStatus.StoppedEarly, result.Status);
        Assert.True(result.Steps < 3000);
        Assert.Equal(result.BestValidationLoss, result.FinalValidationLoss, 5);
        Assert.Contains(result.Events, e => e.StartsWith("early stop", StringComparison.Ordinal));
    }

    [Fact]
    public void CancellationStopsTheRun()
    {
        var (data, _) = CorrelatedGaussian(400, 7);
        using var cts = new System.Threading.CancellationTokenSource();
        cts.Cancel();
        TrainingResult result = FlowTrainer.Train<float>(new Tiny2D(), data, new TrainingOptions { Steps = 100 }, cancellationToken: cts.Token);
        Assert.Equal(TrainingStatus.Cancelled, result.Status);
        Assert.Equal(0, result.Steps);
    }

    [Fact]
    public void InvalidOptionsAreRejected()
    {
        var (data, _) = CorrelatedGaussian(100, 8);
        Assert.Throws<ArgumentOutOfRangeException>(() => FlowTrainer.Train<float>(new Tiny2D(), data, new TrainingOptions { BatchSize = 0 }));
        Assert.Throws<ArgumentOutOfRangeException>(() => FlowTrainer.Train<float>(new Tiny2D(), data, new TrainingOptions { LearningRate = double.NaN }));
        Assert.Throws<ArgumentException>(() => FlowTrainer.Train<float>(new Tiny2D(), data.AsSpan(0, 7), new TrainingOptions()));
        Assert.Throws<ArgumentException>(() => FlowTrainer.Train<float>(new Conditional2D(), data, new TrainingOptions()));
    }

    [Fact]
    [Trait("Category", "Slow")]
    public void ConditionalTrainingUsesTheContext()
    {
        // x | c ~ N(c·(1, −1), 0.5² I): the flow must learn the mean shift from the context
        int n = 3000;
        var rng = new FlowRandom(9);
        var data = new float[2 * n];
        var contexts = new float[n];
        rng.FillGaussian(data);
        for (int i = 0; i < n; i++)
        {
            float c = 2 * rng.NextSingle() - 1;
            contexts[i] = c;
            data[2 * i] = 0.5f * data[2 * i] + 2 * c;
            data[2 * i + 1] = 0.5f * data[2 * i + 1] - 2 * c;
        }
        var flow = new Conditional2D(seed: 1);
        FlowTrainer.Train<float>(flow, data, new TrainingOptions { Steps = 500, BatchSize = 256, LearningRate = 3e-3 }, contexts: contexts);
        double entropy = 2 * (0.5 * Math.Log(2 * Math.PI * Math.E) + Math.Log(0.5));
        double nll = FlowTrainer.MeanNll<float>(flow, data, contexts);
        Assert.True(nll - entropy < 0.1, $"conditional NLL {nll}, entropy {entropy}");
        // samples for a given context follow the conditional mean
        var cs = Enumerable.Repeat(0.75f, 2000).ToArray();
        var xs = new float[4000];
        flow.Sample(cs, xs, new FlowRandom(3));
        double mean0 = Enumerable.Range(0, 2000).Average(i => xs[2 * i]);
        Assert.InRange(mean0, 1.5 - 0.1, 1.5 + 0.1);
    }

    [Fact]
    public void ActNormIsInitialisedFromTheFirstBatch()
    {
        var (data, _) = CorrelatedGaussian(500, 10);
        for (int i = 0; i < data.Length; i++) data[i] = data[i] * 7 + 30;
        var flow = new WithActNorm3D(seed: 2);
        var data3 = new float[3 * 500];
        for (int i = 0; i < 500; i++) { data3[3 * i] = data[2 * i]; data3[3 * i + 1] = data[2 * i + 1]; data3[3 * i + 2] = -data[2 * i]; }
        Assert.False(flow.IsDataInitialized);
        flow.InitializeFromData(data3);
        Assert.True(flow.IsDataInitialized);
        // the first layer is ActNorm: its output has zero mean and unit variance over the batch
        var logScale = flow.Parameters.Slice(0, 3).ToArray();
        var shift = flow.Parameters.Slice(3, 3).ToArray();
        for (int d = 0; d < 3; d++)
        {
            double[] y = Enumerable.Range(0, 500).Select(i => data3[3 * i + d] * Math.Exp(logScale[d]) + shift[d]).ToArray();
            double mean = y.Average(), variance = y.Select(v => (v - mean) * (v - mean)).Average();
            Assert.InRange(mean, -1e-4, 1e-4);
            Assert.InRange(variance, 1 - 1e-3, 1 + 1e-3);
        }
        // the trainer initialises an uninitialised flow itself
        var fresh = new WithActNorm3D(seed: 2);
        FlowTrainer.Train<float>(fresh, data3, new TrainingOptions { Steps = 1 });
        Assert.True(fresh.IsDataInitialized);
    }

    [Fact]
    [Trait("Category", "Slow")]
    public void MapFittingLearnsAnInvertibleMapInBothDirections()
    {
        // target map: a shear followed by a coordinate-wise warp, invertible on R²
        int n = 2000;
        var rng = new FlowRandom(12);
        var x = new double[2 * n];
        rng.FillUniform(x, -2, 2);
        var y = new double[2 * n];
        for (int i = 0; i < n; i++)
        {
            double a = x[2 * i], b = x[2 * i + 1] + 0.5 * Math.Sin(2 * x[2 * i]);
            y[2 * i] = a + 0.3 * Math.Tanh(b);
            y[2 * i + 1] = b;
        }
        foreach (MapDirection direction in new[] { MapDirection.Forward, MapDirection.Inverse })
        {
            var flow = new Tiny2DDouble(seed: 3);
            TrainingResult result = FlowTrainer.FitMap<double>(flow, x, y, new TrainingOptions { Steps = 800, BatchSize = 256, LearningRate = 3e-3 }, direction: direction);
            Assert.True(result.FinalValidationLoss < 2e-3, $"{direction}: validation MSE {result.FinalValidationLoss}");
            // the fitted map really is that map (and its inverse is the inverse)
            var z = new double[2 * n];
            if (direction == MapDirection.Forward) flow.Forward(x, z, new double[n]);
            else flow.Inverse(y, z);
            double[] wanted = direction == MapDirection.Forward ? y : x;
            double mse = z.Select((v, i) => (v - wanted[i]) * (v - wanted[i])).Average();
            Assert.True(mse < 2e-3, $"{direction}: MSE {mse}");
        }
    }

    /// <summary>Progress that reports synchronously (Progress&lt;T&gt; posts to the thread pool).</summary>
    private sealed class SynchronousProgress<T>(Action<T> report) : IProgress<T>
    {
        public void Report(T value) => report(value);
    }

    /// <summary>A flow whose NLL gradient turns NaN on chosen calls, to test the trainer's defences.</summary>
    private sealed class FaultyFlow(ICouplingFlow<float> inner, Func<int, bool> fail, bool explode = false) : ICouplingFlow<float>
    {
        private int _calls;
        public int Dim => inner.Dim;
        public int ContextDim => inner.ContextDim;
        public int ParameterCount => inner.ParameterCount;
        public string StackDescription => inner.StackDescription;
        public string StackSpec => inner.StackSpec;
        public ulong StackHash => inner.StackHash;
        public string ModelName => inner.ModelName;
        public Span<float> Parameters => inner.Parameters;
        public IReadOnlyList<ParameterTensor> ParameterTensors => inner.ParameterTensors;
        public bool NeedsDataInitialization => inner.NeedsDataInitialization;
        public void Forward(ReadOnlySpan<float> xs, ReadOnlySpan<float> contexts, Span<float> zs, Span<float> logDets) => inner.Forward(xs, contexts, zs, logDets);
        public int Inverse(ReadOnlySpan<float> zs, ReadOnlySpan<float> contexts, Span<float> xs, Span<float> logDets) => inner.Inverse(zs, contexts, xs, logDets);
        public void LogProb(ReadOnlySpan<float> xs, ReadOnlySpan<float> contexts, Span<float> logProbs) => inner.LogProb(xs, contexts, logProbs);
        public int Sample(ReadOnlySpan<float> contexts, Span<float> xs, FlowRandom rng) => inner.Sample(contexts, xs, rng);
        public void ForwardVjp(ReadOnlySpan<float> xs, ReadOnlySpan<float> contexts, ReadOnlySpan<float> gradZ, ReadOnlySpan<float> gradLogDet, Span<float> gradParameters, Span<float> gradX, Span<float> gradContexts) =>
            inner.ForwardVjp(xs, contexts, gradZ, gradLogDet, gradParameters, gradX, gradContexts);
        public void InverseVjp(ReadOnlySpan<float> zs, ReadOnlySpan<float> contexts, ReadOnlySpan<float> gradX, ReadOnlySpan<float> gradLogDet, Span<float> gradParameters, Span<float> gradZ, Span<float> gradContexts) =>
            inner.InverseVjp(zs, contexts, gradX, gradLogDet, gradParameters, gradZ, gradContexts);
        public void InitializeFromData(ReadOnlySpan<float> xs, ReadOnlySpan<float> contexts) => inner.InitializeFromData(xs, contexts);
        public void MarkDataInitialized(bool initialized) => inner.MarkDataInitialized(initialized);

        public double NllGradient(ReadOnlySpan<float> xs, ReadOnlySpan<float> contexts, Span<float> gradient, float weight)
        {
            // one call per training step with Threads = 1 and a batch below the shard size
            double loss = inner.NllGradient(xs, contexts, gradient, weight);
            if (!fail(_calls++)) return loss;
            if (explode) return loss * 1e30 + 1e30; // huge but finite
            gradient[gradient.Length / 2] = float.NaN;
            return loss;
        }
    }
}
