using System;
using System.Collections.Generic;
using System.Linq;
using FlowGen.Tests.Models;

namespace FlowGen.Tests;

/// <summary>The trainer: learning, determinism across thread counts, non-finite handling, early stopping, explicit validation sets, map fitting.</summary>
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
        FlowTrainer.Train<float>(flow, data, contexts, new TrainingOptions { Steps = 500, BatchSize = 256, LearningRate = 3e-3 });
        double entropy = 2 * (0.5 * Math.Log(2 * Math.PI * Math.E) + Math.Log(0.5));
        double nll = FlowTrainer.MeanNll<float>(flow, data, contexts);
        Assert.True(nll - entropy < 0.1, $"conditional NLL {nll}, entropy {entropy}");
        // samples for a given context follow the conditional mean
        var cs = Enumerable.Repeat(0.75f, 2000).ToArray();
        var xs = new float[4000];
        flow.Sample(xs, cs, new FlowRandom(3));
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
            else flow.Inverse(y, z, default);
            double[] wanted = direction == MapDirection.Forward ? y : x;
            double mse = z.Select((v, i) => (v - wanted[i]) * (v - wanted[i])).Average();
            Assert.True(mse < 2e-3, $"{direction}: MSE {mse}");
        }
    }

    [Fact]
    public void AnExplicitValidationSetReplacesTheRandomSplit()
    {
        var (data, _) = CorrelatedGaussian(2000, 21);
        var (validation, _) = CorrelatedGaussian(300, 22);
        // ValidationFraction = 0.5 is ignored: no row of data is held out
        TrainingOptions Options(double fraction) => new() { Steps = 120, BatchSize = 128, EvaluateEvery = 20, Threads = 1, Seed = 5, ValidationFraction = fraction, RestoreBest = false };
        var flow = new Tiny2D(seed: 8);
        var reported = new List<(double Reported, double Recomputed)>();
        TrainingResult result = FlowTrainer.Train(flow, new FlowData<float>(data), new FlowData<float>(validation), Options(0.5),
            new SynchronousProgress<TrainingProgress>(p =>
            {
                if (p.ValidationLoss is double v) reported.Add((v, FlowTrainer.MeanNll<float>(flow, validation, threads: 1)));
            }));
        Assert.Equal(TrainingStatus.Completed, result.Status);
        Assert.Equal(2000, result.TrainRows);
        Assert.Equal(300, result.ValidationRows);
        // every validation loss is the mean NLL of the given validation set (the same chunks in the same order: equal bits)
        Assert.Equal(6, reported.Count);
        Assert.All(reported, r => Assert.Equal(r.Recomputed, r.Reported));
        Assert.Equal(FlowTrainer.MeanNll<float>(flow, validation, threads: 1), result.FinalValidationLoss);
        Assert.Equal(reported.Min(r => r.Reported), result.BestValidationLoss);

        // every row trained on, in the order of a run without validation: the same parameters, bit for bit
        var unvalidated = new Tiny2D(seed: 8);
        TrainingResult plain = FlowTrainer.Train<float>(unvalidated, data, Options(0));
        Assert.Equal(2000, plain.TrainRows);
        Assert.Equal(0, plain.ValidationRows);
        Assert.True(double.IsNaN(plain.BestValidationLoss));
        Assert.True(flow.Parameters.SequenceEqual(unvalidated.Parameters), "the validation set changed the training");

        // while the random split holds half of the rows out and so trains differently
        var split = new Tiny2D(seed: 8);
        TrainingResult random = FlowTrainer.Train<float>(split, data, Options(0.5));
        Assert.Equal(1000, random.TrainRows);
        Assert.Equal(1000, random.ValidationRows);
        Assert.False(flow.Parameters.SequenceEqual(split.Parameters));
    }

    [Fact]
    public void EarlyStoppingAndRestoreBestUseTheExplicitValidationSet()
    {
        // training rows tightly around 0; validation rows from N(0, I), the initial flow's own density: every step that fits
        // the training rows makes the validation loss worse, so the first evaluation stays the best one
        int n = 2000;
        var rng = new FlowRandom(31);
        var data = new float[2 * n];
        rng.FillGaussian(data);
        for (int i = 0; i < data.Length; i++) data[i] *= 0.05f;
        var wide = new float[2 * 500];
        rng.FillGaussian(wide);
        var options = new TrainingOptions { Steps = 300, BatchSize = 128, LearningRate = 3e-3, EvaluateEvery = 10, Patience = 3, Threads = 1, Seed = 2 };

        var flow = new Tiny2D(seed: 9);
        var losses = new List<(int Step, double Loss)>();
        TrainingResult result = FlowTrainer.Train(flow, new FlowData<float>(data), new FlowData<float>(wide), options,
            new SynchronousProgress<TrainingProgress>(p => { if (p.ValidationLoss is double v) losses.Add((p.Step, v)); }));
        Assert.Equal(TrainingStatus.StoppedEarly, result.Status);
        Assert.Equal(10, result.BestStep);
        Assert.Equal(result.BestStep + options.Patience * options.EvaluateEvery, result.Steps);
        Assert.Equal(losses.Min(l => l.Loss), result.BestValidationLoss);
        Assert.Equal(losses.Single(l => l.Step == result.BestStep).Loss, result.BestValidationLoss);
        // RestoreBest put the parameters of step 10 back: their loss on the validation set is the best one
        Assert.Equal(result.BestValidationLoss, result.FinalValidationLoss);
        Assert.Equal(result.BestValidationLoss, FlowTrainer.MeanNll<float>(flow, wide, threads: 1));
        Assert.Contains(result.Events, e => e.StartsWith("early stop at step 40", StringComparison.Ordinal));

        // the same run validated on a random tenth of its own rows keeps improving for longer
        var own = new Tiny2D(seed: 9);
        TrainingResult split = FlowTrainer.Train<float>(own, data, options);
        Assert.True(split.BestStep > result.BestStep, $"random split: best step {split.BestStep}");
    }

    [Fact]
    public void AValidationSetOfTheWrongShapeIsRejectedNamingTheSpan()
    {
        var rng = new FlowRandom(4);
        var data = new float[2 * 100];
        var contexts = new float[100];
        var validation = new float[2 * 10];
        var validationContexts = new float[10];
        rng.FillGaussian(data);
        rng.FillGaussian(contexts);
        rng.FillGaussian(validation);
        rng.FillGaussian(validationContexts);
        var flow = new Conditional2D(seed: 1);
        float[] before = flow.Parameters.ToArray();
        var options = new TrainingOptions { Steps = 5, BatchSize = 32 };

        var e = Assert.Throws<ArgumentException>(() => FlowTrainer.Train(flow, new FlowData<float>(data, contexts), new FlowData<float>(validation.AsSpan(0, 7), validationContexts), options));
        Assert.Equal("validation", e.ParamName);
        Assert.Equal("validation.Rows.Length must be a multiple of Dim = 2 (row-major [n, 2]); it is 7. (Parameter 'validation')", e.Message);
        e = Assert.Throws<ArgumentException>(() => FlowTrainer.Train(flow, new FlowData<float>(data, contexts), new FlowData<float>(validation, validationContexts.AsSpan(0, 9)), options));
        Assert.Equal("validation", e.ParamName);
        Assert.StartsWith("validation.Contexts.Length must be 10 (10 rows × ContextDim 1); it is 9.", e.Message, StringComparison.Ordinal);
        e = Assert.Throws<ArgumentException>(() => FlowTrainer.Train(flow, new FlowData<float>(data, contexts), new FlowData<float>(ReadOnlySpan<float>.Empty), options));
        Assert.StartsWith("validation.Rows needs at least 1 row; it has 0.", e.Message, StringComparison.Ordinal);
        e = Assert.Throws<ArgumentException>(() => FlowTrainer.Train(flow, new FlowData<float>(data, contexts.AsSpan(1)), new FlowData<float>(validation, validationContexts), options));
        Assert.Equal("data", e.ParamName);
        Assert.StartsWith("data.Contexts.Length must be 100 (100 rows × ContextDim 1); it is 99.", e.Message, StringComparison.Ordinal);
        validation[2 * 3 + 1] = float.NaN;
        e = Assert.Throws<ArgumentException>(() => FlowTrainer.Train(flow, new FlowData<float>(data, contexts), new FlowData<float>(validation, validationContexts), options));
        Assert.StartsWith("Row 3 of validation.Rows has a non-finite value (NaN) at column 1", e.Message, StringComparison.Ordinal);
        validation[2 * 3 + 1] = 0;
        Assert.True(before.AsSpan().SequenceEqual(flow.Parameters), "a refused call changed the parameters");

        // an unconditional flow takes no validation contexts
        e = Assert.Throws<ArgumentException>(() => FlowTrainer.Train(new Tiny2D(), new FlowData<float>(data), new FlowData<float>(validation, validationContexts), options));
        Assert.StartsWith("validation.Contexts.Length must be 0 (an unconditional flow takes no context); it is 10.", e.Message, StringComparison.Ordinal);

        // the right shapes train, validated on the given rows
        TrainingResult result = FlowTrainer.Train(flow, new FlowData<float>(data, contexts), new FlowData<float>(validation, validationContexts), options);
        Assert.Equal((100, 10), (result.TrainRows, result.ValidationRows));
        Assert.Equal(FlowTrainer.MeanNll<float>(flow, validation, validationContexts), result.FinalValidationLoss);
    }

    [Fact]
    public void MeanNllChecksTheContextLength()
    {
        var e = Assert.Throws<ArgumentException>(() => FlowTrainer.MeanNll<float>(new Conditional2D(), new float[20], new float[9]));
        Assert.Equal("contexts", e.ParamName);
        Assert.StartsWith("contexts.Length must be 10 (10 rows × ContextDim 1); it is 9.", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void TheResultPrintsAsOneReadableLine()
    {
        var (data, _) = CorrelatedGaussian(1000, 12);
        var previous = System.Globalization.CultureInfo.CurrentCulture;
        try
        {
            // invariant formatting whatever the culture ("1.5", not "1,5")
            System.Globalization.CultureInfo.CurrentCulture = new System.Globalization.CultureInfo("de-DE");
            TrainingResult r = FlowTrainer.Train<float>(new Tiny2D(seed: 2), data, new TrainingOptions { Steps = 30, BatchSize = 64, EvaluateEvery = 10, Threads = 1 });
            string text = r.ToString();
            var c = System.Globalization.CultureInfo.InvariantCulture;
            Assert.DoesNotContain("\n", text, StringComparison.Ordinal);
            Assert.StartsWith($"Completed: 30 steps; train loss {r.FinalTrainLoss.ToString("G5", c)}; ", text, StringComparison.Ordinal);
            Assert.Contains($"; validation loss {r.FinalValidationLoss.ToString("G5", c)} (best {r.BestValidationLoss.ToString("G5", c)} at step {r.BestStep}); 900 train + 100 validation rows; ", text, StringComparison.Ordinal);
            Assert.Contains(" samples/s, ", text, StringComparison.Ordinal);
            Assert.EndsWith(" s; 0 skipped steps, 0 rollbacks", text, StringComparison.Ordinal);

            TrainingResult none = FlowTrainer.Train<float>(new Tiny2D(seed: 2), data, new TrainingOptions { Steps = 1, BatchSize = 64, ValidationFraction = 0, Threads = 1 });
            Assert.Contains("Completed: 1 step; ", none.ToString(), StringComparison.Ordinal);
            Assert.Contains("; no validation; 1000 train rows; ", none.ToString(), StringComparison.Ordinal);
        }
        finally
        {
            System.Globalization.CultureInfo.CurrentCulture = previous;
        }
        var inner = new Tiny2D(seed: 6);
        TrainingResult diverged = FlowTrainer.Train<float>(new FaultyFlow(inner, _ => true), data, new TrainingOptions { Steps = 100, BatchSize = 32, Threads = 1, MaxConsecutiveNonFinite = 3, MaxRollbacks = 1 });
        Assert.StartsWith("Diverged: ", diverged.ToString(), StringComparison.Ordinal);
        Assert.EndsWith($"; {diverged.SkippedSteps} skipped steps, 2 rollbacks", diverged.ToString(), StringComparison.Ordinal);
    }

    /// <summary>Progress that reports synchronously (Progress&lt;T&gt; posts to the thread pool).</summary>
    private sealed class SynchronousProgress<T>(Action<T> report) : IProgress<T>
    {
        public void Report(T value) => report(value);
    }

    /// <summary>A flow whose NLL gradient turns NaN on chosen calls, to test the trainer's defences.</summary>
    private sealed class FaultyFlow(ICouplingFlow<float> inner, Func<int, bool> fail, bool explode = false) : ForwardingFlow(inner)
    {
        private int _calls;

        public override double NllGradient(ReadOnlySpan<float> xs, ReadOnlySpan<float> contexts, Span<float> gradParameters, float weight)
        {
            // one call per training step with Threads = 1 and a batch below the shard size
            double loss = Inner.NllGradient(xs, contexts, gradParameters, weight);
            if (!fail(_calls++)) return loss;
            if (explode) return loss * 1e30 + 1e30; // huge but finite
            gradParameters[gradParameters.Length / 2] = float.NaN;
            return loss;
        }
    }
}
