using System;
using System.Collections.Generic;
using System.Linq;
using System.Numerics;
using FlowGen.Tests.Infrastructure;
using FlowGen.Tests.Models;
using FlowGen.Tests.Reference;
using Xunit.Abstractions;

namespace FlowGen.Tests;

/// <summary>Random configurations with every base distribution (docs/model.md §11), float and double, compiled once per run.</summary>
public sealed class BaseOracleModels
{
    public static readonly ReferenceBase[] Bases =
    [
        new GaussianReferenceBase(),
        new MixtureReferenceBase(3),
        new MixtureReferenceBase(2, FlowGmm: true),
        new MixtureReferenceBase(4, FlowGmm: true, LearnableMeans: false),
        new StudentTReferenceBase(4),
        new StudentTReferenceBase(2.5, Learnable: false),
    ];

    public BaseOracleModels()
    {
        var options = ConfigGeneratorOptions.All with { MaxDim = 6, MaxCouplings = 4, MaxHiddenWidth = 12, MaxParameters = 4000 };
        var generated = new ConfigGenerator(20261202, options).Take(4 * Bases.Length);
        Configs = generated.Select((c, i) => c with { Base = Bases[i % Bases.Length], Precision = i / Bases.Length % 2 == 0 ? "double" : "float" }).ToList();
        Models = GeneratedModels.Build(Configs, "BaseFlow");
    }

    public IReadOnlyList<FlowConfig> Configs { get; }

    public IReadOnlyList<ModelUnderTest> Models { get; }
}

/// <summary>
/// Every base against the tests' own reference (tests/Reference/ReferenceBase.cs, from docs/model.md §11) on random configurations
/// (dims 2–6, every layer kind, contexts), and the gradients of every parameter (layers' and base's) against finite differences.
/// </summary>
public class BaseOracleTests : IClassFixture<BaseOracleModels>
{
    private readonly BaseOracleModels _models;
    private readonly ITestOutputHelper _output;

    public BaseOracleTests(BaseOracleModels models, ITestOutputHelper output)
    {
        _models = models;
        _output = output;
    }

    /// <summary>Random layer parameters (the oracle suite's) and random base parameters, rounded to the model's precision.</summary>
    internal static double[] RandomParameters(FlowConfig config, Random rng)
    {
        var reference = new ReferenceFlow(config);
        double[] p = reference.RandomParameters(rng, 0.5);
        config.Base!.RandomParameters(rng, config.Dim).CopyTo(p, reference.LayerParameterCount);
        return config.ToModelPrecision(p);
    }

    [Fact]
    public void LogProbMatchesTheReference()
    {
        var worst = new Dictionary<string, double>();
        foreach (ModelUnderTest m in _models.Models)
        {
            double e = m.IsFloat ? Check<float>(m.Config, m.Float) : Check<double>(m.Config, m.Double);
            string key = m.Config.Base!.Attribute() + (m.IsFloat ? " float" : " double");
            worst[key] = Math.Max(worst.GetValueOrDefault(key), e);
            Assert.True(e <= (m.IsFloat ? 2e-4 : 1e-10), $"{m.Config.Describe()} {key}: scaled error {e:E2}");
        }
        foreach (var (k, v) in worst) _output.WriteLine($"{k}: max |LogProb − reference|/(1 + |reference|) = {v:E2}");
    }

    private static double Check<T>(FlowConfig config, ICouplingFlow<T> model) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var rng = new Random(GeneratedModels.StableSeed(config));
        double[] parameters = RandomParameters(config, rng);
        GeneratedModels.To<T>(parameters).CopyTo(model.Parameters);
        var reference = new ReferenceFlow(config);
        const int Rows = 6;
        int d = config.Dim, c = config.Context;
        double[] xs = config.ToModelPrecision(GeneratedModels.Gaussians(rng, Rows * d, 1.5));
        double[] cs = config.ToModelPrecision(GeneratedModels.Gaussians(rng, Rows * c, 1.0));
        var batch = new T[Rows];
        model.LogProb(GeneratedModels.To<T>(xs), GeneratedModels.To<T>(cs), batch);
        double worst = 0;
        for (int r = 0; r < Rows; r++)
        {
            double[] x = xs.AsSpan(r * d, d).ToArray();
            double[]? ctx = c > 0 ? cs.AsSpan(r * c, c).ToArray() : null;
            double expected = reference.LogProb(parameters, x, ctx);
            double single = double.CreateTruncating(model.LogProb(GeneratedModels.To<T>(x), ctx is null ? [] : GeneratedModels.To<T>(ctx)));
            Assert.Equal(double.CreateTruncating(batch[r]), single); // batch = single, bit for bit
            worst = Math.Max(worst, Math.Abs(single - expected) / (1 + Math.Abs(expected)));
            if (model is IGaussianMixtureFlow<T> mixture)
            {
                for (int k = 0; k < mixture.Components; k++)
                {
                    // log p(x | k) = log(w_k p_k(z)) − log w_k + log|det|; the reference's joint minus its log-weight
                    double expectedComponent = reference.ComponentLogJoint(parameters, x, ctx, k) - LogWeight(config, parameters, reference, k);
                    double actual = double.CreateTruncating(mixture.LogProb(GeneratedModels.To<T>(x), ctx is null ? [] : GeneratedModels.To<T>(ctx), k));
                    worst = Math.Max(worst, Math.Abs(actual - expectedComponent) / (1 + Math.Abs(expectedComponent)));
                }
            }
        }
        return worst;
    }

    /// <summary>log w_k of a mixture base from its parameters (§11.3).</summary>
    internal static double LogWeight(FlowConfig config, double[] parameters, ReferenceFlow reference, int k)
    {
        var b = (MixtureReferenceBase)config.Base!;
        if (b.FlowGmm) return -Math.Log(b.K);
        double[] theta = reference.BaseParameters(parameters);
        double total = theta.Take(b.K).Sum(Math.Exp);
        return theta[k] - Math.Log(total);
    }

    /// <summary>d/dt f(t) at 0 by Richardson-extrapolated central differences.</summary>
    private static double Derivative(Func<double, double> f, double h)
    {
        double d1 = (f(h) - f(-h)) / (2 * h), d2 = (f(h / 2) - f(-h / 2)) / h;
        return (4 * d2 - d1) / 3;
    }

    /// <summary>
    /// NllGradient of every parameter (layers and base; the layers' gradients go through the base's ∂/∂z) against finite
    /// differences of the mean NLL, double models; fixed base parameters have gradient exactly 0. For mixtures also the
    /// labelled objective (LabeledNllGradient).
    /// </summary>
    [Fact]
    public void GradientsMatchFiniteDifferences()
    {
        var worst = new Dictionary<string, double>();
        foreach (ModelUnderTest m in _models.Models.Where(m => !m.IsFloat))
        {
            FlowConfig config = m.Config;
            ICouplingFlow<double> model = m.Double;
            var rng = new Random(GeneratedModels.StableSeed(config) + 1);
            double[] parameters = RandomParameters(config, rng);
            parameters.CopyTo(model.Parameters);
            const int Rows = 5;
            double[] xs = GeneratedModels.Gaussians(rng, Rows * config.Dim, 1.2);
            double[] cs = GeneratedModels.Gaussians(rng, Rows * config.Context, 1.0);
            int[] labels = Enumerable.Range(0, Rows).Select(i => config.Base!.Components == 0 || i % 3 == 2 ? -1 : rng.Next(config.Base.Components)).ToArray();
            var reference = new ReferenceFlow(config);
            bool[] fixedParameter = FixedParameters(config, reference);

            var gradient = new double[model.ParameterCount];
            model.NllGradient(xs, cs, gradient, 1.0 / Rows);
            var labeledGradient = new double[model.ParameterCount];
            var mixture = model as IGaussianMixtureFlow<double>;
            mixture?.LabeledNllGradient(xs, cs, labels, labeledGradient, 0.7, 0.3);

            double MeanNll(double[] p)
            {
                p.CopyTo(model.Parameters);
                var lp = new double[Rows];
                model.LogProb(xs, cs, lp);
                return -lp.Average();
            }
            double Labeled(double[] p)
            {
                p.CopyTo(model.Parameters);
                double sum = 0;
                for (int r = 0; r < Rows; r++)
                {
                    double[] x = xs.AsSpan(r * config.Dim, config.Dim).ToArray();
                    double[] ctx = cs.AsSpan(r * config.Context, config.Context).ToArray();
                    if (labels[r] < 0) sum -= 0.3 * model.LogProb(x, ctx);
                    else sum -= 0.7 * (mixture!.LogProb(x, ctx, labels[r]) + LogWeight(config, p, reference, labels[r]));
                }
                return sum;
            }
            string key = config.Base!.Attribute();
            for (int j = 0; j < parameters.Length; j++)
            {
                if (fixedParameter[j])
                {
                    Assert.Equal(0.0, gradient[j]);
                    continue;
                }
                double Shifted(Func<double[], double> f, double t)
                {
                    double[] p = (double[])parameters.Clone();
                    p[j] += t;
                    return f(p);
                }
                double fd = Derivative(t => Shifted(MeanNll, t), 1e-4);
                double e = Math.Abs(gradient[j] - fd) / (1e-3 + Math.Abs(fd));
                worst[key] = Math.Max(worst.GetValueOrDefault(key), e);
                Assert.True(e < 1e-5 || Math.Abs(gradient[j] - fd) < 1e-8, $"{config.Describe()} {key}: parameter {j} of {parameters.Length}: gradient {gradient[j]:R}, finite difference {fd:R}");
                if (mixture is not null)
                {
                    double fdl = Derivative(t => Shifted(Labeled, t), 1e-4);
                    double el = Math.Abs(labeledGradient[j] - fdl) / (1e-3 + Math.Abs(fdl));
                    Assert.True(el < 1e-5 || Math.Abs(labeledGradient[j] - fdl) < 1e-8, $"{config.Describe()} {key}: labelled, parameter {j}: gradient {labeledGradient[j]:R}, finite difference {fdl:R}");
                }
            }
            parameters.CopyTo(model.Parameters);
        }
        foreach (var (k, v) in worst) _output.WriteLine($"{k}: max relative gradient error {v:E2}");
    }

    /// <summary>The base parameters a declaration fixes (their gradient is 0): a mixture's means or scales, a t's degrees of freedom.</summary>
    internal static bool[] FixedParameters(FlowConfig config, ReferenceFlow reference)
    {
        var fixedParameter = new bool[reference.ParameterCount];
        int b = reference.LayerParameterCount, d = config.Dim;
        switch (config.Base)
        {
            case MixtureReferenceBase mix:
                int means = b + (mix.FlowGmm ? 0 : mix.K), scales = means + mix.K * d;
                if (!mix.LearnableMeans) for (int j = means; j < scales; j++) fixedParameter[j] = true;
                if (!mix.LearnableScales) for (int j = scales; j < reference.ParameterCount; j++) fixedParameter[j] = true;
                break;
            case StudentTReferenceBase t when !t.Learnable:
                for (int j = b; j < reference.ParameterCount; j++) fixedParameter[j] = true;
                break;
        }
        return fixedParameter;
    }

    /// <summary>Sample's log-densities equal LogProb of the samples (up to rounding), and batch Sample = LogProb of its rows.</summary>
    [Fact]
    public void SampleLogProbsAgreeWithLogProb()
    {
        foreach (ModelUnderTest m in _models.Models)
        {
            if (m.IsFloat) CheckSample<float>(m.Config, m.Float, 1e-3);
            else CheckSample<double>(m.Config, m.Double, 1e-8);
        }
    }

    private static void CheckSample<T>(FlowConfig config, ICouplingFlow<T> model, double tolerance) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var rng = new Random(GeneratedModels.StableSeed(config) + 2);
        GeneratedModels.To<T>(RandomParameters(config, rng)).CopyTo(model.Parameters);
        const int Rows = 40;
        var xs = new T[Rows * config.Dim];
        var logProbs = new T[Rows];
        T[] cs = GeneratedModels.To<T>(GeneratedModels.Gaussians(rng, config.Context, 1.0));
        model.Sample(xs, cs, logProbs, new FlowRandom(5));
        var again = new T[Rows];
        model.LogProb(xs, cs, again);
        for (int r = 0; r < Rows; r++)
        {
            double a = double.CreateTruncating(logProbs[r]), b = double.CreateTruncating(again[r]);
            if (!double.IsFinite(a) || Math.Abs(a) > 1e4) continue; // far tails of a heavy-tailed base, where an inverse loses precision
            Assert.True(Math.Abs(a - b) <= tolerance * (1 + Math.Abs(b)) * 10, $"{config.Describe()} {config.Base!.Attribute()}: row {r}: Sample's log-density {a:R}, LogProb {b:R}");
        }
    }
}

/// <summary>
/// The bases on the 2-D models of BaseModels.cs: densities integrate to 1, sampling matches the density (entropy), zero
/// allocation, checkpoints and safetensors round trips, the mixture's class-conditional members, the stack specification.
/// </summary>
public class BaseDistributionTests
{
    private readonly ITestOutputHelper _output;

    public BaseDistributionTests(ITestOutputHelper output) => _output = output;

    private static FlowConfig Config2D(ReferenceBase b) => new() { Dim = 2, Layers = 3, Hidden = [8], Base = b };

    /// <summary>The 2-D models with their reference bases (the layer part is not needed: tests use the flows' own LogProb).</summary>
    public static IEnumerable<object[]> Models2D() =>
    [
        ["gaussian", new GaussianReferenceBase()],
        ["mixture", new MixtureReferenceBase(3)],
        ["flowgmm", new MixtureReferenceBase(3, FlowGmm: true)],
        ["student-t", new StudentTReferenceBase(4)],
    ];

    private static ICouplingFlow<double> Create(string name, ulong seed) => name switch
    {
        "gaussian" => new GaussianBase2D(seed),
        "mixture" => new MixtureBase2D(seed),
        "flowgmm" => new FlowGmmBase2D(seed),
        "student-t" => new StudentTBase2D(seed),
        _ => throw new ArgumentException(name),
    };

    /// <summary>Random base parameters after the layers' (which stay as initialised, or get a perturbation).</summary>
    private static void Randomize(ICouplingFlow<double> flow, ReferenceBase b, int seed, double layerNoise)
    {
        var rng = new Random(seed);
        int baseOffset = flow.ParameterCount - b.ParameterCount(2);
        for (int j = 0; j < baseOffset; j++) flow.Parameters[j] += layerNoise * (rng.NextDouble() - 0.5);
        b.RandomParameters(rng, 2).CopyTo(flow.Parameters[baseOffset..]);
    }

    /// <summary>
    /// ∫ exp(LogProb) over R² = 1 by the midpoint rule after x = tan θ (θ ∈ (−π/2, π/2)², 800² points), which maps the whole
    /// plane, heavy tails included, to a bounded square; layers perturbed so that the flow is not the identity.
    /// </summary>
    [Theory]
    [MemberData(nameof(Models2D))]
    public void DensityIntegratesToOne(string name, ReferenceBase b)
    {
        ICouplingFlow<double> flow = Create(name, 3);
        Randomize(flow, b, 11, 0.4);
        const int N = 800;
        double h = Math.PI / N;
        var xs = new double[2 * N];
        var lp = new double[N];
        double mass = 0;
        for (int row = 0; row < N; row++)
        {
            double ty = -Math.PI / 2 + (row + 0.5) * h;
            for (int col = 0; col < N; col++)
            {
                double tx = -Math.PI / 2 + (col + 0.5) * h;
                xs[2 * col] = Math.Tan(tx);
                xs[2 * col + 1] = Math.Tan(ty);
            }
            flow.LogProb(xs, default, lp);
            for (int col = 0; col < N; col++)
            {
                double tx = -Math.PI / 2 + (col + 0.5) * h;
                double jac = 1 / (Math.Cos(tx) * Math.Cos(tx) * Math.Cos(ty) * Math.Cos(ty));
                if (double.IsFinite(lp[col])) mass += Math.Exp(lp[col]) * jac * h * h;
            }
        }
        _output.WriteLine($"{name}: ∫ p = {mass:R} (error {Math.Abs(mass - 1):E2})");
        Assert.True(Math.Abs(mass - 1) < 2e-4, $"{name}: ∫ p = {mass}");
    }

    /// <summary>
    /// Sampling matches the density: with the layers at their initialisation (the identity) x = z, and the mean of −LogProb over
    /// 200 000 samples is the base's entropy — computed here independently: closed form for the Gaussian, quadrature of −p log p
    /// of the reference density for the mixture (2-D) and the Student-t (1-D per coordinate, normalised numerically) — within
    /// 5 standard errors.
    /// </summary>
    [Theory]
    [MemberData(nameof(Models2D))]
    public void SamplesMatchTheDensity(string name, ReferenceBase b)
    {
        ICouplingFlow<double> flow = Create(name, 5);
        Randomize(flow, b, 13, 0);
        double[] theta = flow.Parameters[(flow.ParameterCount - b.ParameterCount(2))..].ToArray();
        const int N = 200_000;
        var xs = new double[2 * N];
        var lp = new double[N];
        flow.Sample(xs, default, lp, new FlowRandom(99));
        double mean = -lp.Average(), sd = Math.Sqrt(lp.Select(v => (v + mean) * (v + mean)).Sum() / (N - 1));
        double entropy = Entropy(b, theta);
        double se = sd / Math.Sqrt(N);
        _output.WriteLine($"{name}: mean −log p of samples {mean:F5} ± {se:F5}, entropy {entropy:F5}");
        Assert.True(Math.Abs(mean - entropy) < 5 * se, $"{name}: mean −log p {mean} vs entropy {entropy} (se {se})");
    }

    private static double Entropy(ReferenceBase b, double[] theta)
    {
        switch (b)
        {
            case GaussianReferenceBase:
                return Enumerable.Range(0, 2).Sum(i => 0.5 * Math.Log(2 * Math.PI * Math.E) + theta[2 + i]);
            case StudentTReferenceBase:
            {
                double h = 0;
                foreach (double eta in theta)
                {
                    double nu = Math.Exp(eta);
                    // unnormalised density (1 + z²/ν)^(−(ν+1)/2), its normaliser and entropy by quadrature after z = tan θ
                    double Kernel(double z) => Math.Pow(1 + z * z / nu, -(nu + 1) / 2);
                    const int M = 400_000;
                    double step = Math.PI / M, mass = 0, plogp = 0;
                    for (int k = 0; k < M; k++)
                    {
                        double t = -Math.PI / 2 + (k + 0.5) * step, z = Math.Tan(t), w = step / (Math.Cos(t) * Math.Cos(t));
                        double q = Kernel(z);
                        mass += q * w;
                        if (q > 0) plogp += q * Math.Log(q) * w;
                    }
                    h += -(plogp / mass - Math.Log(mass));
                }
                return h;
            }
            default:
            {
                // −∫ p log p over a box that holds the mixture (means within a few units, scales ≤ e^1)
                const int M = 1200;
                const double L = 14;
                double step = 2 * L / M, h = 0;
                for (int i = 0; i < M; i++)
                {
                    for (int j = 0; j < M; j++)
                    {
                        double lp = b.LogDensity(theta, [-L + (i + 0.5) * step, -L + (j + 0.5) * step]);
                        h -= Math.Exp(lp) * lp * step * step;
                    }
                }
                return h;
            }
        }
    }

    /// <summary>LogProb, NllGradient, Sample and the mixture's members allocate nothing once warmed up (per-thread buffers).</summary>
    [Theory]
    [MemberData(nameof(Models2D))]
    public void NoAllocation(string name, ReferenceBase b)
    {
        ICouplingFlow<double> flow = Create(name, 1);
        Randomize(flow, b, 3, 0.2);
        const int N = 37;
        var xs = new double[2 * N];
        var lp = new double[N];
        var gradient = new double[flow.ParameterCount];
        var rng = new FlowRandom(1);
        var posteriors = new double[N * 3];
        var labels = new int[N];
        void Run()
        {
            flow.Sample(xs, default, lp, rng);
            flow.LogProb(xs, default, lp);
            flow.LogProb(xs.AsSpan(0, 2), default);
            flow.NllGradient(xs, default, gradient, 1.0 / N);
            if (flow is IGaussianMixtureFlow<double> m)
            {
                m.ComponentLogPosteriors(xs, default, posteriors);
                m.Classify(xs, default, labels);
                m.LogProb(xs.AsSpan(0, 2), default, 1);
                m.Sample(xs, default, 2, rng);
                for (int i = 0; i < N; i++) labels[i] = i % 4 - 1;
                m.LabeledNllGradient(xs, default, labels, gradient, 0.5, 0.5);
            }
        }
        Run();
        long before = GC.GetAllocatedBytesForCurrentThread();
        Run();
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }

    /// <summary>A checkpoint and a safetensors file of a flow with each base restore every parameter bit for bit (and so LogProb).</summary>
    [Theory]
    [MemberData(nameof(Models2D))]
    public void CheckpointAndSafetensorsRoundTrip(string name, ReferenceBase b)
    {
        ICouplingFlow<double> flow = Create(name, 2);
        Randomize(flow, b, 5, 0.3);
        byte[] checkpoint = FlowCheckpoint.Serialize(flow);
        byte[] safetensors = FlowSafetensors.Serialize(flow);
        foreach (Action<ICouplingFlow<double>> load in new Action<ICouplingFlow<double>>[] { f => FlowCheckpoint.Deserialize(f, checkpoint), f => FlowSafetensors.Deserialize(f, safetensors) })
        {
            ICouplingFlow<double> restored = Create(name, 77);
            load(restored);
            Assert.Equal(flow.Parameters.ToArray().Select(BitConverter.DoubleToInt64Bits), restored.Parameters.ToArray().Select(BitConverter.DoubleToInt64Bits));
            double[] x = [0.3, -1.2];
            Assert.Equal(flow.LogProb(x, default), restored.LogProb(x, default));
        }
        Assert.Contains(flow.ParameterTensors, t => t.Name.StartsWith("base.", StringComparison.Ordinal));
    }

    /// <summary>The base is part of the stack specification, so of the stack hash (checkpoints of another base are refused).</summary>
    [Fact]
    public void TheBaseIsInTheSpecificationAndHash()
    {
        Assert.Contains("\"base\":{\"kind\":\"diagonal_gaussian\",\"parameters\":4}", GaussianBase2D.StackSpec);
        Assert.Contains("\"base\":{\"kind\":\"gaussian_mixture\",\"components\":3,\"flow_gmm\":true", FlowGmmBase2D.StackSpec);
        Assert.Contains("\"base\":{\"kind\":\"student_t\",\"degrees_of_freedom\":4,\"learnable\":true,\"parameters\":2}", StudentTBase2D.StackSpec);
        var hashes = new[] { GaussianBase2D.StackHash, MixtureBase2D.StackHash, FlowGmmBase2D.StackHash, StudentTBase2D.StackHash };
        Assert.Equal(hashes.Length, hashes.Distinct().Count());
        Assert.Throws<FlowFormatException>(() => FlowCheckpoint.Deserialize(new MixtureBase2D(1), FlowCheckpoint.Serialize(new FlowGmmBase2D(1))));
        Assert.Equal(new[] { "base.logits", "base.means", "base.log_scales" }, MixtureBase2D.ParameterTensors.Where(t => t.Name.StartsWith("base.")).Select(t => t.Name));
        Assert.Equal(new[] { 1 }, FlowGmmBase2D.ParameterTensors.Single(t => t.Name == "base.log_scales").Shape);
    }

    /// <summary>Posterior rows sum to 1 (in probability); Classify is their argmax; the members check their arguments.</summary>
    [Fact]
    public void PosteriorsOfANaNRowAreNaNAndItsLabelIsMinusOne()
    {
        // a NaN coordinate makes every component's joint NaN: log p(c | x) is NaN for every c (not −∞, which would claim
        // "impossible"), and Classify gives −1; the finite row beside it is unaffected
        foreach (IGaussianMixtureFlow<double> flow in new IGaussianMixtureFlow<double>[] { new MixtureBase2D(4), new FlowGmmBase2D(4) })
        {
            double[] xs = [double.NaN, 0.5, 0.25, -1.0];
            var posteriors = new double[2 * 3];
            var labels = new int[2];
            flow.ComponentLogPosteriors(xs, default, posteriors);
            flow.Classify(xs, default, labels);
            for (int c = 0; c < 3; c++) Assert.True(double.IsNaN(posteriors[c]), $"component {c}: {posteriors[c]}");
            Assert.Equal(1.0, posteriors.AsSpan(3, 3).ToArray().Sum(Math.Exp), 1e-12);
            Assert.Equal(-1, labels[0]);
            Assert.InRange(labels[1], 0, 2);
        }
    }

    [Fact]
    public void PosteriorsSumToOneAndClassifyIsTheirArgmax()
    {
        foreach (IGaussianMixtureFlow<double> flow in new IGaussianMixtureFlow<double>[] { new MixtureBase2D(4), new FlowGmmBase2D(4) })
        {
            Randomize(flow, flow is MixtureBase2D ? new MixtureReferenceBase(3) : new MixtureReferenceBase(3, FlowGmm: true), 17, 0.4);
            const int N = 200;
            var rng = new FlowRandom(8);
            var xs = new double[2 * N];
            rng.FillGaussian(xs);
            for (int i = 0; i < xs.Length; i++) xs[i] *= 3;
            var posteriors = new double[N * 3];
            var labels = new int[N];
            flow.ComponentLogPosteriors(xs, default, posteriors);
            flow.Classify(xs, default, labels);
            for (int i = 0; i < N; i++)
            {
                double[] row = posteriors.AsSpan(i * 3, 3).ToArray();
                Assert.Equal(1.0, row.Sum(Math.Exp), 1e-12);
                Assert.Equal(Array.IndexOf(row, row.Max()), labels[i]);
                // log p(k | x) = log p(x | k) + log w_k − log p(x)
                double lpx = flow.LogProb(xs.AsSpan(2 * i, 2), default);
                for (int k = 0; k < 3; k++)
                {
                    double logWeight = flow is FlowGmmBase2D ? -Math.Log(3) : LogSoftmax(flow.Parameters.Slice(flow.ParameterCount - 3 - 12, 3).ToArray(), k);
                    Assert.Equal(row[k], flow.LogProb(xs.AsSpan(2 * i, 2), default, k) + logWeight - lpx, 1e-10);
                }
            }
            Assert.Throws<ArgumentOutOfRangeException>(() => flow.LogProb(xs.AsSpan(0, 2), default, 3));
            Assert.Throws<ArgumentOutOfRangeException>(() => flow.Sample(xs, default, -1, rng));
            Assert.Throws<ArgumentException>(() => flow.ComponentLogPosteriors(xs, default, new double[N * 2]));
            Assert.Throws<ArgumentException>(() => flow.Classify(xs, default, new int[N - 1]));
            Assert.Throws<ArgumentException>(() => flow.LabeledNllGradient(xs, default, Enumerable.Repeat(3, N).ToArray(), new double[flow.ParameterCount], 1, 1));
        }
    }

    private static double LogSoftmax(double[] logits, int k) => logits[k] - Math.Log(logits.Sum(Math.Exp));

    /// <summary>Samples drawn for component k are classified as k (≥ 95 %) when the components are well separated; also in float and with a context.</summary>
    [Fact]
    public void SamplesOfAComponentAreClassifiedAsIt()
    {
        static void Check<T>(IGaussianMixtureFlow<T> flow, int meansOffset, ReadOnlySpan<T> context) where T : unmanaged, IFloatingPointIeee754<T>
        {
            int d = flow.Dim, k = flow.Components;
            for (int c = 0; c < k; c++)
                for (int i = 0; i < d; i++) flow.Parameters[meansOffset + c * d + i] = T.CreateChecked(i == c % d ? 6.0 * (1 + c / d) : 0.0);
            const int N = 2000;
            var xs = new T[N * d];
            var labels = new int[N];
            for (int c = 0; c < k; c++)
            {
                flow.Sample(xs, context, c, new FlowRandom((ulong)(c + 1)));
                flow.Classify(xs, context, labels);
                double rate = labels.Count(l => l == c) / (double)N;
                Assert.True(rate >= 0.95, $"{flow.ModelName}: component {c}: {rate:P1} classified as {c}");
            }
        }
        var mixture = new MixtureBase2D(3);
        Check<double>(mixture, MixtureBase2D.ParameterTensors.Single(t => t.Name == "base.means").Offset, default);
        var gmm = new FlowGmmBase2D(3);
        Check<double>(gmm, FlowGmmBase2D.ParameterTensors.Single(t => t.Name == "base.means").Offset, default);
        var f3 = new MixtureBase3DFloat(3);
        Check<float>(f3, MixtureBase3DFloat.ParameterTensors.Single(t => t.Name == "base.means").Offset, default);
        var conditional = new ConditionalFlowGmm2D(3);
        Check<float>(conditional, ConditionalFlowGmm2D.ParameterTensors.Single(t => t.Name == "base.means").Offset, [0.5f]);
    }

    /// <summary>
    /// Parameters a base declaration fixes are never changed by the optimiser, also with a decoupled weight decay (AdamW): a
    /// FlowGMM base with fixed means and scale (plain and semi-supervised training) and a fixed-ν Student-t keep their base
    /// tensors bit for bit, while the decay does shrink the learnable ones (the layers' weights, learnable means).
    /// </summary>
    [Fact]
    public void WeightDecayLeavesFixedBaseParametersUntouched()
    {
        static double[] Tensor<T>(ICouplingFlow<T> flow, string name) where T : unmanaged, IFloatingPointIeee754<T>
        {
            ParameterTensor t = flow.ParameterTensors.Single(t => t.Name == name);
            return flow.Parameters.Slice(t.Offset, t.Length).ToArray().Select(v => double.CreateTruncating(v)).ToArray();
        }
        var (x, y) = SemiSupervisedTests.Problem(100, 4);
        int[] labels = y.Select((c, i) => i < 15 ? c : -1).ToArray();
        var options = new TrainingOptions { Steps = 40, BatchSize = 64, WeightDecay = 0.5, ValidationFraction = 0, Seed = 3, Threads = 1 };
        // MeansFromLabels = false: the optimiser is under test here, not the initial placement (which moves fixed means once, before training)

        var fixedGmm = new FixedFlowGmm2D(7);
        double[] means = Tensor(fixedGmm, "base.means"), scales = Tensor(fixedGmm, "base.log_scales"), layers = fixedGmm.Parameters[..^7].ToArray();
        FlowTrainer.TrainSemiSupervised(fixedGmm, x, labels, new SemiSupervisedOptions { Training = options, MeansFromLabels = false });
        Assert.Equal(means, Tensor(fixedGmm, "base.means"));
        Assert.Equal(scales, Tensor(fixedGmm, "base.log_scales"));
        Assert.NotEqual(layers, fixedGmm.Parameters[..^7].ToArray());

        fixedGmm = new FixedFlowGmm2D(8);
        means = Tensor(fixedGmm, "base.means");
        scales = Tensor(fixedGmm, "base.log_scales");
        FlowTrainer.Train(fixedGmm, x, options);
        Assert.Equal(means, Tensor(fixedGmm, "base.means"));
        Assert.Equal(scales, Tensor(fixedGmm, "base.log_scales"));

        // learnable means do decay (with a zero gradient they would still shrink: here they simply change)
        var learnable = new FlowGmmBase2D(7);
        means = Tensor(learnable, "base.means");
        FlowTrainer.TrainSemiSupervised(learnable, x, labels, new SemiSupervisedOptions { Training = options, MeansFromLabels = false });
        Assert.NotEqual(means, Tensor(learnable, "base.means"));

        var t = new StudentTFixed3DFloat(2);
        var data = new float[3 * 300];
        new FlowRandom(5).FillGaussian(data);
        double[] logDof = Tensor(t, "base.log_dof");
        FlowTrainer.Train(t, data, options);
        Assert.Equal(logDof, Tensor(t, "base.log_dof"));
    }

    /// <summary>A fixed-ν Student-t (and ActNorm before it) trains: its ν stays, the NLL falls, and float batch = single.</summary>
    [Fact]
    public void FloatStudentTWithFixedDegreesOfFreedomTrains()
    {
        var flow = new StudentTFixed3DFloat(1);
        var rng = new FlowRandom(3);
        var data = new float[3 * 2000];
        rng.FillGaussian(data);
        for (int i = 0; i < data.Length; i++) data[i] = data[i] * 2 + 1;
        float[] logDof = flow.Parameters[^3..].ToArray();
        double before = FlowTrainer.MeanNll(flow, data);
        FlowTrainer.Train(flow, data, new TrainingOptions { Epochs = 5, BatchSize = 200, Seed = 1 });
        double after = FlowTrainer.MeanNll(flow, data);
        Assert.True(after < before - 0.1, $"NLL {before} → {after}");
        Assert.Equal(logDof, flow.Parameters[^3..].ToArray());
        var lp = new float[2000];
        flow.LogProb(data, lp);
        for (int i = 0; i < 2000; i += 97) Assert.Equal(lp[i], flow.LogProb(data.AsSpan(3 * i, 3)));
    }
}
