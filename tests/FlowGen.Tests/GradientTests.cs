using System;
using System.Collections.Generic;
using System.Linq;
using System.Numerics;
using FlowGen.Tests.Infrastructure;
using FlowGen.Tests.Reference;
using Xunit.Abstractions;

namespace FlowGen.Tests;

/// <summary>Float twins of some double configurations of the oracle suite.</summary>
public sealed class GradientTwins
{
    private readonly List<ModelUnderTest> _doubles, _floats;

    public GradientTwins()
    {
        var doubles = new ConfigGenerator(777, OracleModels.Options with { AllowFloat = false }).Take(30);
        _doubles = GeneratedModels.Build(doubles, "GradD").ToList();
        _floats = GeneratedModels.Build(doubles.Select(c => c with { Precision = "float" }).ToList(), "GradF").ToList();
    }

    public IReadOnlyList<ModelUnderTest> Doubles => _doubles;

    public IReadOnlyList<ModelUnderTest> Floats => _floats;

    /// <summary>Compiles the twins of one more double config (a shrinking candidate; not thread-safe) and returns their index.</summary>
    public int Add(FlowConfig doubleConfig)
    {
        _doubles.Add(GeneratedModels.Build([doubleConfig], "ShrunkD")[0]);
        _floats.Add(GeneratedModels.Build([doubleConfig with { Precision = "float" }], "ShrunkF")[0]);
        return _doubles.Count - 1;
    }
}

/// <summary>
/// Generated backprop against central finite differences (Richardson-extrapolated, in double) on the oracle suite's double models:
/// NLL parameter gradients, the forward and inverse vector-Jacobian products with respect to parameters, inputs and context.
/// </summary>
[Collection(OracleCollection.Name)]
[Trait("Category", "Slow")]
public class GradientTests : IClassFixture<GradientTwins>
{
    private const double RelativeTolerance = 1e-6;
    private readonly OracleModels _models;
    private readonly GradientTwins _twins;
    private readonly ITestOutputHelper _output;

    public GradientTests(OracleModels models, GradientTwins twins, ITestOutputHelper output)
    {
        _models = models;
        _twins = twins;
        _output = output;
    }

    private IEnumerable<ModelUnderTest> DoubleModels => _models.Models.Where(m => !m.IsFloat);

    /// <summary>d/dt f(t) at 0 by Richardson-extrapolated central differences (error O(h⁴)).</summary>
    private static double Derivative(Func<double, double> f, double h)
    {
        double D(double s) => (f(s) - f(-s)) / (2 * s);
        return (4 * D(h / 2) - D(h)) / 3;
    }

    /// <summary>
    /// True when the loss is only piecewise smooth: ReLU units (a kink), ELU units (a jump in the second derivative), or spline
    /// couplings (the spline is C¹, so its log-derivative — part of the log-det — has kinks at the knots and at ±B).
    /// </summary>
    private static bool HasKinks(FlowConfig config) =>
        config.Resolve().Any(l => l.Type == ReferenceLayerType.Coupling &&
            (l.Kind == CouplingKind.Spline || l.Hidden.Length > 0 && l.Activation is global::FlowGen.Activation.Relu or global::FlowGen.Activation.Elu));

    /// <summary>
    /// A finite-difference derivative for a piecewise smooth map: NaN when the estimates with steps h and h/8 disagree, which means
    /// a ReLU kink lies within the step (the map has no derivative the differences could measure there).
    /// </summary>
    private static double DerivativeUnlessKink(Func<double, double> f, bool kinks)
    {
        double d = Derivative(f, 1e-3);
        if (!kinks) return d;
        double fine = Derivative(f, 1e-3 / 8);
        return Math.Abs(d - fine) <= 1e-7 * Math.Abs(d) + 1e-10 ? d : double.NaN;
    }

    /// <summary>
    /// Relative error, with a floor of 1e-5·(1 + |L|) on the denominator: the differences of L carry rounding of about 1e-12·(1 + |L|),
    /// so components far smaller than L cannot be measured to 1e-6 relative. (The floor was 1e-6·(1 + |L|), i.e. an absolute
    /// tolerance equal to the rounding estimate itself; a component of 7.9e-6 with |L| ≈ 6.9 then failed at 1.3× that estimate
    /// — 9e-12 — on a config with nothing wrong. The floor leaves a factor 10 for rounding.)
    /// </summary>
    private static double RelativeError(double fd, double analytic, double scale) =>
        Math.Abs(fd - analytic) / Math.Max(Math.Max(Math.Abs(fd), Math.Abs(analytic)), 1e-5 * (1 + scale));

    private static (double[] p, double[] x, double[] c) Problem(FlowConfig config, int seed, int rows)
    {
        var rng = new Random(seed);
        double[] p = new ReferenceFlow(config).RandomParameters(rng, 0.7);
        return (p, GeneratedModels.Gaussians(rng, rows * config.Dim, 1.0), GeneratedModels.Gaussians(rng, rows * config.Context, 1.0));
    }

    private static double[] RandomDirection(Random rng, int n)
    {
        double[] u = GeneratedModels.Gaussians(rng, n, 1.0);
        double norm = Math.Sqrt(u.Sum(v => v * v));
        return u.Select(v => v / norm).ToArray();
    }

    private static IEnumerable<int> Coordinates(Random rng, int n, int count) =>
        n <= count ? Enumerable.Range(0, n) : Enumerable.Range(0, count).Select(_ => rng.Next(n)).Distinct();

    [Fact]
    public void NllParameterGradientsMatchFiniteDifferences()
    {
        double worst = 0;
        var perKind = new PerKind();
        int models = 0, total = 0, skipped = 0;
        Shrinking.ForEachModel(DoubleModels, m =>
        {
            FlowConfig config = m.Config;
            var flow = m.Double;
            const int Rows = 3;
            var (p, x, c) = Problem(config, 5, Rows);
            double[] theta = p.ToArray();
            var grad = new double[theta.Length];
            theta.CopyTo(flow.Parameters);
            double nll = flow.MeanNllGradient(x, c, grad);

            double Loss(double[] at)
            {
                at.CopyTo(flow.Parameters);
                var lp = new double[Rows];
                flow.LogProb(x, c, lp);
                return -lp.Average();
            }
            Assert.True(Math.Abs(Loss(theta) - nll) <= 1e-12 * (1 + Math.Abs(nll)), $"{config.Describe()}\nNllGradient's loss {nll} vs mean −LogProb {Loss(theta)}");

            var rng = new Random(GeneratedModels.StableSeed(config));
            bool kinks = HasKinks(config);
            double[] u = RandomDirection(rng, theta.Length);
            var checks = new List<(string what, double fd, double an)>
            {
                ("direction", DerivativeUnlessKink(t => Loss(theta.Select((v, i) => v + t * u[i]).ToArray()), kinks), grad.Select((g, i) => g * u[i]).Sum()),
            };
            foreach (int i in Coordinates(rng, theta.Length, 12))
            {
                checks.Add(($"θ[{i}]", DerivativeUnlessKink(t => { var q = theta.ToArray(); q[i] += t; return Loss(q); }, kinks), grad[i]));
            }
            foreach (var (what, fd, an) in checks)
            {
                total++;
                if (double.IsNaN(fd)) { skipped++; continue; }
                double e = RelativeError(fd, an, Math.Abs(nll));
                worst = Math.Max(worst, e);
                perKind.Add(config, e);
                Assert.True(e <= RelativeTolerance, $"{config.Describe()}\n∂NLL/∂{what}: analytic {an}, finite differences {fd} (relative error {e:E2})");
            }
            theta.CopyTo(flow.Parameters);
            models++;
        }, applies: c => !c.IsFloat);
        Assert.True(models >= 100, $"only {models} double configurations");
        Assert.True(skipped <= total / 50, $"{skipped} of {total} checks skipped for kinks");
        _output.WriteLine($"{models} configurations, {total} checks ({skipped} skipped at kinks): max relative error of NLL parameter gradients {worst:E2}");
        _output.WriteLine(perKind.Report("per kind"));
    }

    [Fact]
    public void VectorJacobianProductsMatchFiniteDifferences()
    {
        double worstForward = 0, worstInverse = 0;
        PerKind perKindForward = new(), perKindInverse = new();
        int models = 0, total = 0, skipped = 0;
        Shrinking.ForEachModel(DoubleModels, m =>
        {
            FlowConfig config = m.Config;
            ICouplingFlow<double> flow = m.Double;
            const int Rows = 2;
            int d = config.Dim, cd = config.Context;
            var (p, x, c) = Problem(config, 9, Rows);
            p.CopyTo(flow.Parameters);
            var rng = new Random(GeneratedModels.StableSeed(config) ^ 0x55);
            double[] upstream = GeneratedModels.Gaussians(rng, Rows * d, 1.0);
            double[] upstreamLogDet = GeneratedModels.Gaussians(rng, Rows, 1.0);

            foreach (bool inverse in new[] { false, true })
            {
                // L(θ, input, context) = Σ upstream·output + Σ upstreamLogDet·logDet, with output = f(input) or f⁻¹(input)
                double L(double[] theta, double[] input, double[] context)
                {
                    theta.CopyTo(flow.Parameters);
                    var output = new double[Rows * d];
                    var ld = new double[Rows];
                    if (inverse) flow.Inverse(input, context, output, ld);
                    else flow.Forward(input, context, output, ld);
                    p.CopyTo(flow.Parameters);
                    return output.Select((v, i) => v * upstream[i]).Sum() + ld.Select((v, i) => v * upstreamLogDet[i]).Sum();
                }
                var gp = new double[p.Length];
                var gIn = new double[Rows * d];
                var gc = new double[Rows * cd];
                if (inverse) flow.InverseVjp(x, c, upstream, upstreamLogDet, gp, gIn, gc);
                else flow.ForwardVjp(x, c, upstream, upstreamLogDet, gp, gIn, gc);
                double scale = Math.Abs(L(p, x, c));

                var checks = new List<(string what, double fd, double an)>();
                bool kinks = HasKinks(config);
                double[] u = RandomDirection(rng, p.Length);
                checks.Add(("θ·direction", DerivativeUnlessKink(t => L(p.Select((v, i) => v + t * u[i]).ToArray(), x, c), kinks), gp.Select((g, i) => g * u[i]).Sum()));
                foreach (int i in Coordinates(rng, p.Length, 6))
                {
                    checks.Add(($"θ[{i}]", DerivativeUnlessKink(t => { var q = p.ToArray(); q[i] += t; return L(q, x, c); }, kinks), gp[i]));
                }
                foreach (int i in Coordinates(rng, x.Length, 12))
                {
                    checks.Add(($"input[{i}]", DerivativeUnlessKink(t => { var q = x.ToArray(); q[i] += t; return L(p, q, c); }, kinks), gIn[i]));
                }
                foreach (int i in Coordinates(rng, c.Length, 4))
                {
                    checks.Add(($"context[{i}]", DerivativeUnlessKink(t => { var q = c.ToArray(); q[i] += t; return L(p, x, q); }, kinks), gc[i]));
                }
                foreach (var (what, fd, an) in checks)
                {
                    total++;
                    if (double.IsNaN(fd)) { skipped++; continue; }
                    double e = RelativeError(fd, an, scale);
                    (inverse ? perKindInverse : perKindForward).Add(config, e);
                    if (inverse) worstInverse = Math.Max(worstInverse, e);
                    else worstForward = Math.Max(worstForward, e);
                    Assert.True(e <= RelativeTolerance, $"{config.Describe()}\n{(inverse ? "InverseVjp" : "ForwardVjp")} ∂L/∂{what}: analytic {an}, finite differences {fd} (relative error {e:E2})");
                }
            }
            models++;
        }, applies: c => !c.IsFloat);
        Assert.True(models >= 100, $"only {models} double configurations");
        Assert.True(skipped <= total / 50, $"{skipped} of {total} checks skipped for kinks");
        _output.WriteLine($"{models} configurations, {total} checks ({skipped} skipped at kinks): max relative error ForwardVjp {worstForward:E2}, InverseVjp {worstInverse:E2}");
        _output.WriteLine(perKindForward.Report("ForwardVjp per kind"));
        _output.WriteLine(perKindInverse.Report("InverseVjp per kind"));
    }

    [Fact]
    public void BatchGradientIsTheSumOfSingleSampleGradients()
    {
        Shrinking.ForEachModel(_models.Models.Where((_, i) => i % 4 == 0), m =>
        {
            if (m.IsFloat) CheckSum<float>(m.Config, m.Float, 1e-4);
            else CheckSum<double>(m.Config, m.Double, 1e-12);
        });
    }

    private static void CheckSum<T>(FlowConfig config, ICouplingFlow<T> model, double tolerance) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int n = 2 * 2 * Vector<T>.Count + 3, d = config.Dim, cd = config.Context;
        var (p, x, c) = Problem(config, 13, n);
        GeneratedModels.To<T>(config.ToModelPrecision(p)).CopyTo(model.Parameters);
        T[] xs = GeneratedModels.To<T>(x), cs = GeneratedModels.To<T>(c);
        var batch = new T[p.Length];
        double meanNll = double.CreateTruncating(model.MeanNllGradient(xs, cs, batch));
        var sum = new double[p.Length];
        double nllSum = 0;
        for (int r = 0; r < n; r++)
        {
            var single = new T[p.Length];
            nllSum += double.CreateTruncating(model.MeanNllGradient(xs.AsSpan(r * d, d), cs.AsSpan(r * cd, cd), single));
            for (int i = 0; i < single.Length; i++) sum[i] += double.CreateTruncating(single[i]);
        }
        double norm = Math.Sqrt(sum.Sum(v => v * v));
        double diff = Math.Sqrt(sum.Select((v, i) => v / n - double.CreateTruncating(batch[i])).Sum(v => v * v));
        Assert.True(diff <= tolerance * (norm / n + 1e-3), $"{config.Describe()}\n|batch − mean of single| = {diff} (|gradient| = {norm / n})");
        Assert.True(Math.Abs(nllSum / n - meanNll) <= tolerance * (1 + Math.Abs(meanNll)), $"{config.Describe()}\nbatch NLL {meanNll}, mean of single NLLs {nllSum / n}");
    }

    [Fact]
    public void FloatGradientsAgreeWithDouble()
    {
        double worst = 0;
        Shrinking.ForEach(Enumerable.Range(0, _twins.Doubles.Count), k => _twins.Doubles[k].Config, k =>
        {
            FlowConfig config = _twins.Doubles[k].Config;
            var (p, x, c) = Problem(config, 17, 8);
            double[] pf = config.ToModelPrecision(p).Select(v => (double)(float)v).ToArray();
            double[] xf = x.Select(v => (double)(float)v).ToArray(), cf = c.Select(v => (double)(float)v).ToArray();
            var gd = new double[p.Length];
            pf.CopyTo(_twins.Doubles[k].Double.Parameters);
            _twins.Doubles[k].Double.MeanNllGradient(xf, cf, gd);
            var gf = new float[p.Length];
            GeneratedModels.To<float>(pf).CopyTo(_twins.Floats[k].Float.Parameters);
            _twins.Floats[k].Float.MeanNllGradient(GeneratedModels.To<float>(xf), GeneratedModels.To<float>(cf), gf);
            double norm = Math.Sqrt(gd.Sum(v => v * v));
            double diff = Math.Sqrt(gd.Select((v, i) => v - gf[i]).Sum(v => v * v));
            worst = Math.Max(worst, diff / Math.Max(norm, 1e-6));
            Assert.True(diff <= 1e-4 * Math.Max(norm, 1e-3), $"{config.Describe()}\n|g_float − g_double| = {diff}, |g_double| = {norm}");
        }, rebuild: _twins.Add, applies: c => !c.IsFloat, threads: 1);
        _output.WriteLine($"{_twins.Doubles.Count} configurations: max |g_float − g_double| / |g_double| = {worst:E2}");
    }
}
