using System;
using System.Linq;
using FlowGen.Tests.Models;
using Xunit.Abstractions;

namespace FlowGen.Tests;

/// <summary>2-D and funnel targets with analytic gradients and known normalisers (the VI and importance-sampling tests).</summary>
internal abstract class TestTarget : IFlowTarget<double>
{
    public abstract int Dim { get; }
    public bool ProvidesGradient => true;

    /// <summary>The exact log Z = log ∫ p̃.</summary>
    public abstract double LogZ { get; }

    /// <summary>log p̃(x) and, into g (Dim values, may be empty), its gradient.</summary>
    protected abstract double LogDensity(ReadOnlySpan<double> x, Span<double> g);

    public void Evaluate(ReadOnlySpan<double> xs, ReadOnlySpan<double> contexts, Span<double> logDensities, Span<double> gradients)
    {
        for (int i = 0; i < logDensities.Length; i++)
        {
            logDensities[i] = LogDensity(xs.Slice(i * Dim, Dim), gradients.IsEmpty ? default : gradients.Slice(i * Dim, Dim));
        }
    }
}

/// <summary>p̃ = C·N(x₀; 0, 1)·N(x₁; b(x₀² − 1), s²) unnormalised by 2π·s/C: Z = C (log C = 1.3).</summary>
internal sealed class Banana : TestTarget
{
    private const double B = 0.6, S = 0.5, LogC = 1.3;
    public override int Dim => 2;
    public override double LogZ => LogC + Math.Log(2 * Math.PI * S);

    protected override double LogDensity(ReadOnlySpan<double> x, Span<double> g)
    {
        double r = x[1] - B * (x[0] * x[0] - 1);
        if (!g.IsEmpty)
        {
            g[0] = -x[0] + r / (S * S) * 2 * B * x[0];
            g[1] = -r / (S * S);
        }
        return LogC - 0.5 * x[0] * x[0] - 0.5 * r * r / (S * S);
    }
}

/// <summary>p̃ = exp(−(|x| − R)²/(2σ²)): Z = 2π(σ² e^{−R²/2σ²} + Rσ√(2π) Φ(R/σ)).</summary>
internal sealed class Ring : TestTarget
{
    private const double R = 2.0, Sigma = 0.5;
    public override int Dim => 2;

    public override double LogZ
    {
        get
        {
            // Φ(R/σ) by Simpson's rule on the standard normal density over [−12, R/σ]
            double t = R / Sigma, lo = -12;
            int n = 20000;
            double h = (t - lo) / n, s = 0;
            for (int i = 0; i <= n; i++)
            {
                double u = lo + i * h, f = Math.Exp(-0.5 * u * u) / Math.Sqrt(2 * Math.PI);
                s += f * (i == 0 || i == n ? 1 : i % 2 == 1 ? 4 : 2);
            }
            double phi = s * h / 3;
            return Math.Log(2 * Math.PI * (Sigma * Sigma * Math.Exp(-R * R / (2 * Sigma * Sigma)) + R * Sigma * Math.Sqrt(2 * Math.PI) * phi));
        }
    }

    protected override double LogDensity(ReadOnlySpan<double> x, Span<double> g)
    {
        double rho = Math.Sqrt(x[0] * x[0] + x[1] * x[1]), d = rho - R;
        if (!g.IsEmpty)
        {
            double c = rho > 0 ? -d / (Sigma * Sigma) / rho : 0;
            g[0] = c * x[0];
            g[1] = c * x[1];
        }
        return -0.5 * d * d / (Sigma * Sigma);
    }
}

/// <summary>p̃ = C·(0.6 N(μ₁, 0.6² I) + 0.4 N(μ₂, diag(0.7², 0.5²))): Z = C (log C = −0.7).</summary>
internal sealed class Mixture : TestTarget
{
    private const double LogC = -0.7;
    private static readonly double[] M1 = { -0.8, 0.0 }, M2 = { 0.9, 0.4 }, S1 = { 0.6, 0.6 }, S2 = { 0.7, 0.5 };
    public override int Dim => 2;
    public override double LogZ => LogC;

    private static double LogNormal(ReadOnlySpan<double> x, double[] m, double[] s, Span<double> g)
    {
        double lp = 0;
        for (int j = 0; j < 2; j++)
        {
            double u = (x[j] - m[j]) / s[j];
            lp += -0.5 * u * u - Math.Log(s[j]) - 0.5 * Math.Log(2 * Math.PI);
            g[j] = -u / s[j];
        }
        return lp;
    }

    protected override double LogDensity(ReadOnlySpan<double> x, Span<double> g)
    {
        Span<double> g1 = stackalloc double[2], g2 = stackalloc double[2];
        double a = Math.Log(0.6) + LogNormal(x, M1, S1, g1), b = Math.Log(0.4) + LogNormal(x, M2, S2, g2);
        double m = Math.Max(a, b), lse = m + Math.Log(Math.Exp(a - m) + Math.Exp(b - m));
        if (!g.IsEmpty)
        {
            double ra = Math.Exp(a - lse), rb = Math.Exp(b - lse);
            for (int j = 0; j < 2; j++) g[j] = ra * g1[j] + rb * g2[j];
        }
        return LogC + lse;
    }
}

/// <summary>Neal's funnel in D dimensions: v = x₀ ~ N(0, 3²), xᵢ | v ~ N(0, eᵛ) (i ≥ 1); normalised (log Z = 0).</summary>
internal sealed class Funnel : TestTarget
{
    private readonly int _dim;
    public Funnel(int dim) => _dim = dim;
    public override int Dim => _dim;
    public override double LogZ => 0;

    protected override double LogDensity(ReadOnlySpan<double> x, Span<double> g)
    {
        double v = x[0], ev = Math.Exp(-v), half = 0.5 * Math.Log(2 * Math.PI);
        double lp = -v * v / 18 - Math.Log(3) - half;
        double dv = -v / 9;
        for (int i = 1; i < _dim; i++)
        {
            lp += -0.5 * x[i] * x[i] * ev - 0.5 * v - half;
            dv += 0.5 * x[i] * x[i] * ev - 0.5;
            if (!g.IsEmpty) g[i] = -x[i] * ev;
        }
        if (!g.IsEmpty) g[0] = dv;
        return lp;
    }
}

/// <summary>Variational inference (FitTarget, reverse KL) and importance sampling (FlowImportance).</summary>
public class VariationalTests
{
    private readonly ITestOutputHelper _output;
    public VariationalTests(ITestOutputHelper output) => _output = output;

    private static TrainingOptions Options(int steps, double lr = 3e-3, int batch = 256) =>
        new() { Steps = steps, BatchSize = batch, LearningRate = lr, MinLearningRate = 1e-5, EvaluateEvery = 250, GradientClipNorm = 50, Seed = 3 };

    private ImportanceEstimate<double> FitAndEstimate(ICouplingFlow<double> flow, TestTarget target, int steps, double lr = 3e-3, int n = 20000)
    {
        TrainingResult result = FlowTrainer.FitTarget(flow, target, Options(steps, lr));
        ImportanceEstimate<double> est = FlowImportance.Estimate(flow, target, n, new FlowRandom(99));
        _output.WriteLine($"{target.GetType().Name} on {flow.GetType().Name}: {result}");
        _output.WriteLine($"  {est}; true log Z {target.LogZ:F4}, error {est.LogZ - target.LogZ:+0.0000;-0.0000} ({(est.LogZ - target.LogZ) / est.LogZStandardError:+0.00;-0.00} SE)");
        return est;
    }

    /// <summary>
    /// p̃(x | c) = e^c·N(x; (c, c²/2), diag(0.5², 0.8²)) for a context c: log Z(c) = c. The amortised-inference target.
    /// </summary>
    private sealed class ShiftingGaussian : IFlowTarget<double>
    {
        public int Dim => 2;
        public bool ProvidesGradient => true;

        public void Evaluate(ReadOnlySpan<double> xs, ReadOnlySpan<double> contexts, Span<double> logDensities, Span<double> gradients)
        {
            for (int i = 0; i < logDensities.Length; i++)
            {
                double c = contexts.Length == 1 ? contexts[0] : contexts[i];
                double u0 = (xs[2 * i] - c) / 0.5, u1 = (xs[2 * i + 1] - 0.5 * c * c) / 0.8;
                logDensities[i] = c - 0.5 * (u0 * u0 + u1 * u1) - Math.Log(2 * Math.PI * 0.5 * 0.8);
                if (!gradients.IsEmpty)
                {
                    gradients[2 * i] = -u0 / 0.5;
                    gradients[2 * i + 1] = -u1 / 0.8;
                }
            }
        }
    }

    private sealed class NoGradient : IFlowTarget<double>
    {
        public int Dim => 2;
        public bool ProvidesGradient => false;
        public void Evaluate(ReadOnlySpan<double> xs, ReadOnlySpan<double> contexts, Span<double> logDensities, Span<double> gradients) => logDensities.Clear();
    }

    private static void Perturb(ICouplingFlow<double> flow, ulong seed, double scale)
    {
        var r = new FlowRandom(seed);
        Span<double> p = flow.Parameters;
        for (int i = 0; i < p.Length; i++) p[i] += scale * r.NextGaussian();
    }

    [Fact]
    public void TheTestTargetsHaveTheGradientsTheyClaim()
    {
        var r = new FlowRandom(1);
        foreach (TestTarget t in new TestTarget[] { new Banana(), new Ring(), new Mixture(), new Funnel(10) })
        {
            for (int trial = 0; trial < 5; trial++)
            {
                var x = new double[t.Dim];
                for (int j = 0; j < x.Length; j++) x[j] = 1.5 * r.NextGaussian();
                var g = new double[t.Dim];
                var lp = new double[1];
                t.Evaluate(x, default, lp, g);
                for (int j = 0; j < x.Length; j++)
                {
                    double keep = x[j], h = 1e-6;
                    x[j] = keep + h; t.Evaluate(x, default, lp, default); double up = lp[0];
                    x[j] = keep - h; t.Evaluate(x, default, lp, default); double down = lp[0];
                    x[j] = keep;
                    Assert.Equal((up - down) / (2 * h), g[j], 1e-5 * (1 + Math.Abs(g[j])));
                }
            }
        }
    }

    [Fact]
    public void SampleReturnsTheLogDensityOfItsSamples()
    {
        // FlowImportance and the reverse KL rely on Sample's and Inverse's log-densities: they must be LogProb of the samples
        foreach (ICouplingFlow<double> flow in new ICouplingFlow<double>[] { new Vi2DAffine(seed: 1), new Vi2DSpline(seed: 2), new Funnel10Large(seed: 3) })
        {
            Perturb(flow, 4, 0.05);
            int n = 200, d = flow.Dim;
            var xs = new double[n * d];
            var lq = new double[n];
            flow.Sample(xs, default, lq, new FlowRandom(5));
            var lp = new double[n];
            flow.LogProb(xs, default, lp);
            for (int i = 0; i < n; i++) Assert.Equal(lp[i], lq[i], 1e-8 * (1 + Math.Abs(lp[i])));
        }
    }

    [Fact]
    public void ReverseKlGradientMatchesFiniteDifferences()
    {
        // L(θ) = (1/n) Σ log q(xᵢ) − log p̃(xᵢ), xᵢ = f⁻¹(zᵢ; θ), on one fixed noise batch (NoiseSeed), against central differences
        var cases = new (ICouplingFlow<double> Flow, IFlowTarget<double> Target, double[] Contexts)[]
        {
            (new Vi2DAffine(seed: 1), new Banana(), Array.Empty<double>()),
            (new Vi2DSpline(seed: 2), new Mixture(), Array.Empty<double>()),
            (new Vi2DAffine(seed: 3), new Ring(), Array.Empty<double>()),
            (new Funnel10Small(seed: 4), new Funnel(10), Array.Empty<double>()),
            (new Vi2DConditional(seed: 5), new ShiftingGaussian(), new double[] { -1.2, 0.3, 0.8, 1.5, -0.4, 0.0, 2.0, -2.0, 0.6, 1.1 }),
        };
        ulong caseSeed = 10;
        foreach (var (flow, target, contexts) in cases)
        {
            Perturb(flow, caseSeed++, 0.15);
            var objective = new ReverseKlObjective<double>(target);
            int n = 10;
            int[] idx = Enumerable.Range(0, n).ToArray();
            FlowBatch<double> Batch() => new(n, default, contexts, default, idx, false, 0, 0, 0xBADC0FFEUL + caseSeed);
            var grad = new double[flow.ParameterCount];
            double loss = objective.LossAndGradient(flow, Batch(), grad, 1.0 / n);
            Assert.Equal(objective.Loss(flow, Batch()), loss, 1e-12 * (1 + Math.Abs(loss)));
            var r = new FlowRandom(caseSeed);
            double worst = 0;
            for (int k = 0; k < 30; k++)
            {
                int i = r.NextInt(flow.ParameterCount);
                double p = flow.Parameters[i], h = 1e-5 * (1 + Math.Abs(p));
                flow.Parameters[i] = p + h;
                double up = objective.Loss(flow, Batch()) / n;
                flow.Parameters[i] = p - h;
                double down = objective.Loss(flow, Batch()) / n;
                flow.Parameters[i] = p;
                double fd = (up - down) / (2 * h), err = Math.Abs(fd - grad[i]) / (1e-4 + Math.Abs(fd));
                worst = Math.Max(worst, err);
                Assert.True(Math.Abs(fd - grad[i]) <= 1e-5 * (1e-2 + Math.Abs(fd)), $"{flow.GetType().Name}, parameter {i}: analytic {grad[i]}, finite difference {fd}");
            }
            _output.WriteLine($"{flow.GetType().Name} × {target.GetType().Name}: worst relative error {worst:E2} over 30 parameters");
        }
    }

    [Fact]
    public void TargetsWithoutAGradientOrOfTheWrongDimAreRejected()
    {
        var e = Assert.Throws<ArgumentException>(() => FlowTrainer.FitTarget(new Vi2DAffine(seed: 1), new NoGradient()));
        Assert.Contains("gradient", e.Message);
        e = Assert.Throws<ArgumentException>(() => FlowTrainer.FitTarget(new Funnel10Small(seed: 1), new Banana()));
        Assert.Contains("Dim", e.Message);
        Assert.Throws<ArgumentException>(() => FlowImportance.Estimate(new Funnel10Small(seed: 1), new Banana(), 100, new FlowRandom(1)));
        Assert.Throws<ArgumentOutOfRangeException>(() => FlowImportance.Estimate(new Vi2DAffine(seed: 1), new Banana(), 1, new FlowRandom(1)));
        e = Assert.Throws<ArgumentException>(() => FlowTrainer.FitTarget(new Vi2DConditional(seed: 1), new ShiftingGaussian()));
        Assert.Contains("contexts", e.Message);
    }

    [Fact]
    public void FitTargetNeedsTheStandardNormalBaseAndImportanceSamplingWorksWithEveryBase()
    {
        var e = Assert.Throws<ArgumentException>(() => FlowTrainer.FitTarget(new GaussianBase2D(seed: 1), new Banana()));
        Assert.Contains("standard-normal base", e.Message);
        Assert.Equal("flow", e.ParamName);
        // with the flow's own density as the target, every importance weight is 1 (up to rounding): log Z = 0, ESS = n.
        // It fails if Sample's log-densities disagree with LogProb's for a base, or if sampling ignores the base.
        foreach (ICouplingFlow<double> flow in new ICouplingFlow<double>[] { new GaussianBase2D(seed: 2), new MixtureBase2D(seed: 3), new StudentTBase2D(seed: 4) })
        {
            Perturb(flow, 7, 0.3);
            var est = FlowImportance.Estimate(flow, new FlowItself(flow), 4000, new FlowRandom(5));
            Assert.True(Math.Abs(est.LogZ) < 1e-9, $"{flow.ModelName}: log Z {est.LogZ}");
            Assert.True(est.EffectiveSampleFraction > 1 - 1e-9, $"{flow.ModelName}: ESS fraction {est.EffectiveSampleFraction}");
        }
    }

    /// <summary>The target p̃ = the flow's own density (no gradient: importance sampling only).</summary>
    private sealed class FlowItself(ICouplingFlow<double> flow) : IFlowTarget<double>
    {
        public int Dim => flow.Dim;
        public bool ProvidesGradient => false;
        public void Evaluate(ReadOnlySpan<double> xs, ReadOnlySpan<double> contexts, Span<double> logDensities, Span<double> gradients) =>
            flow.LogProb(xs, contexts, logDensities);
    }

    private static void AssertGoodFit(ImportanceEstimate<double> est, double logZ)
    {
        Assert.True(Math.Abs(est.LogZ - logZ) <= 3 * est.LogZStandardError, $"log Z {est.LogZ} vs {logZ}: more than 3 SE ({est.LogZStandardError}) off");
        Assert.True(est.EffectiveSampleFraction >= 0.5, $"ESS fraction {est.EffectiveSampleFraction}");
        Assert.True(est.ParetoK < 0.7 && est.IsReliable, $"k̂ {est.ParetoK}");
    }

    [Fact]
    public void VariationalInferenceFitsAMixtureAndImportanceSamplingFindsItsNormaliser()
    {
        var target = new Mixture();
        ImportanceEstimate<double> est = FitAndEstimate(new Vi2DAffine(seed: 1), target, 1000);
        AssertGoodFit(est, target.LogZ);
        // self-normalised expectations: E[x] = 0.6·μ₁ + 0.4·μ₂ = (−0.12, 0.16), E[x₀²] = 0.6(0.64 + 0.36) + 0.4(0.81 + 0.49)
        ImportanceExpectation m0 = est.Expectation(x => x[0]), m1 = est.Expectation(x => x[1]), s0 = est.Expectation(x => x[0] * x[0]);
        _output.WriteLine($"E[x₀] = {m0.Value:F4} ± {m0.StandardError:F4}, E[x₁] = {m1.Value:F4} ± {m1.StandardError:F4}, E[x₀²] = {s0.Value:F4} ± {s0.StandardError:F4}");
        Assert.True(Math.Abs(m0.Value + 0.12) <= 4 * m0.StandardError + 1e-3, $"E[x₀] {m0}");
        Assert.True(Math.Abs(m1.Value - 0.16) <= 4 * m1.StandardError + 1e-3, $"E[x₁] {m1}");
        Assert.True(Math.Abs(s0.Value - 1.12) <= 4 * s0.StandardError + 1e-3, $"E[x₀²] {s0}");
    }

    [Theory]
    [Trait("Category", "Slow")]
    [InlineData("banana", "affine")]
    [InlineData("ring", "affine")]
    [InlineData("ring", "spline")]
    [InlineData("mixture", "spline")]
    public void VariationalInferenceOnTwoDimensionalTargets(string name, string kind)
    {
        TestTarget target = name switch { "banana" => new Banana(), "ring" => new Ring(), _ => new Mixture() };
        ICouplingFlow<double> flow = kind == "affine" ? new Vi2DAffine(seed: 1) : new Vi2DSpline(seed: 1);
        AssertGoodFit(FitAndEstimate(flow, target, 1500), target.LogZ);
    }

    [Fact]
    [Trait("Category", "Slow")]
    public void ParetoKSeesTheLightTailsOfASplineFlowOnTheBananaWhereTheEssDoesNot()
    {
        // the spline is the identity outside [−5, 5]: its tails are Gaussian, lighter than the banana's along the parabola
        var target = new Banana();
        ImportanceEstimate<double> est = FitAndEstimate(new Vi2DSpline(seed: 1), target, 1500);
        Assert.True(est.EffectiveSampleFraction > 0.9, est.ToString());
        Assert.True(est.ParetoK >= 0.7, est.ToString());
    }

    [Fact]
    [Trait("Category", "Slow")]
    public void TheFunnelFlagsATooSmallFlowAndASufficientOneSamplesIt()
    {
        var funnel = new Funnel(10);
        ImportanceEstimate<double> small = FitAndEstimate(new Funnel10Small(seed: 1), funnel, 1500);
        ImportanceEstimate<double> large = FitAndEstimate(new Funnel10Large(seed: 1), funnel, 3000, 1e-3);
        Assert.True(small.ParetoK >= 0.7 && !small.IsReliable, $"the too-small flow's k̂ {small.ParetoK} does not flag it");
        Assert.True(large.EffectiveSampleFraction >= 0.2, $"the sufficient flow's ESS fraction {large.EffectiveSampleFraction}");
        Assert.True(large.ParetoK < small.ParetoK);
        Assert.True(Math.Abs(large.LogZ) <= 3 * large.LogZStandardError + 0.01, $"log Z {large.LogZ} ± {large.LogZStandardError}");
    }

    [Fact]
    public void AmortisedInferenceLearnsTheTargetAtEveryContext()
    {
        var rng = new FlowRandom(4);
        var contexts = new double[2000];
        rng.FillUniform(contexts, -1.5, 1.5);
        var flow = new Vi2DConditional(seed: 2);
        var target = new ShiftingGaussian();
        TrainingResult result = FlowTrainer.FitTarget(flow, target, contexts, Options(1000, 5e-3));
        _output.WriteLine(result.ToString());
        Assert.Equal(200, result.ValidationRows);
        foreach (double c in new[] { -1.0, 0.0, 1.2 })
        {
            ImportanceEstimate<double> est = FlowImportance.Estimate(flow, target, new[] { c }, 10000, new FlowRandom(8));
            _output.WriteLine($"c = {c}: {est}; true log Z {c}");
            Assert.True(Math.Abs(est.LogZ - c) <= 3 * est.LogZStandardError + 1e-3, $"c = {c}: log Z {est.LogZ} ± {est.LogZStandardError}");
            Assert.True(est.EffectiveSampleFraction >= 0.5 && est.ParetoK < 0.7, est.ToString());
        }
    }

    /// <summary>Draws from a generalized Pareto distribution with location 0, shape k and scale σ by inversion.</summary>
    private static double[] GeneralizedPareto(int n, double k, double sigma, ulong seed)
    {
        var r = new FlowRandom(seed);
        var y = new double[n];
        for (int i = 0; i < n; i++)
        {
            double u = 1 - r.NextDouble(); // (0, 1]
            y[i] = Math.Abs(k) < 1e-12 ? -sigma * Math.Log(u) : sigma * (Math.Pow(u, -k) - 1) / k;
        }
        return y;
    }

    [Fact]
    public void TheGeneralizedParetoFitRecoversKnownShapes()
    {
        foreach (double k in new[] { -0.3, 0.0, 0.3, 0.6, 0.9, 1.3 })
        {
            double mean = 0, meanSigma = 0;
            const int Seeds = 8, N = 2000;
            for (ulong s = 0; s < Seeds; s++)
            {
                (double kh, double sh) = FlowImportance.FitGeneralizedPareto(GeneralizedPareto(N, k, 2.0, 100 + s), weaklyInformativePrior: false);
                mean += kh / Seeds;
                meanSigma += sh / Seeds;
                Assert.True(Math.Abs(kh - k) < 0.15, $"k {k}: one fit gave {kh}");
            }
            _output.WriteLine($"k = {k}: mean k̂ {mean:F4}, mean σ̂ {meanSigma:F4} (σ = 2) over {Seeds} samples of {N}");
            Assert.True(Math.Abs(mean - k) < 0.05, $"k {k}: mean k̂ {mean}");
            Assert.True(Math.Abs(meanSigma / 2 - 1) < 0.1, $"k {k}: mean σ̂ {meanSigma}");
        }
        // the weakly informative prior pulls k̂ towards 0.5 by 10 pseudo-observations
        double[] y = GeneralizedPareto(20, 0.1, 1, 7);
        double raw = FlowImportance.FitGeneralizedPareto(y, false).Shape, adjusted = FlowImportance.FitGeneralizedPareto(y).Shape;
        Assert.Equal((raw * 20 + 5) / 30, adjusted, 1e-12);
    }

    [Fact]
    public void ParetoKOfLogWeightsReadsTheTailOfTheWeights()
    {
        // weights w = Pareto(α)-distributed, w ≥ 1 with P(w > t) = t^−α, have tail shape k = 1/α; lognormal weights have k ≈ 0 at the M largest of n
        foreach (double alpha in new[] { 4.0, 2.0, 1.25, 0.8 })
        {
            const int N = 10000, Seeds = 8;
            double mean = 0;
            for (int s = 0; s < Seeds; s++)
            {
                var r = new FlowRandom((ulong)(alpha * 100) + (ulong)s);
                var lw = new double[N];
                for (int i = 0; i < N; i++) lw[i] = -Math.Log(1 - r.NextDouble()) / alpha; // log of a Pareto(α) draw
                double k = FlowImportance.ParetoK(lw);
                mean += k / Seeds;
                Assert.True(Math.Abs(k - 1 / alpha) < 0.4, $"α = {alpha}: k̂ {k}"); // one fit: M = 300 tail draws, SE ≈ (1 + k)/√M ≈ 0.1
            }
            _output.WriteLine($"α = {alpha}: mean k̂ {mean:F3} over {Seeds} × {N} weights (1/α = {1 / alpha:F3})");
            Assert.True(Math.Abs(mean - 1 / alpha) < 0.12, $"α = {alpha}: mean k̂ {mean}");
        }
        Assert.Equal(double.PositiveInfinity, FlowImportance.ParetoK(new double[] { 0, 1, 2, 3, 4, 5, 6, 7, 8, 9 })); // tail of 2 < 5
        var flat = new double[1000];
        Assert.True(FlowImportance.ParetoK(flat) is double kf && !(kf > 0.7), "equal weights are not a heavy tail");
    }
}
