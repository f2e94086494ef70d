using System;
using System.Collections.Generic;
using System.Linq;
using System.Numerics;
using FlowGen.Tests.Infrastructure;
using FlowGen.Tests.Reference;
using Xunit.Abstractions;

namespace FlowGen.Tests;

/// <summary>
/// The random configurations of the oracle suite, compiled once per test run for all the classes of
/// <see cref="OracleCollection"/> (<see cref="OracleTests"/>, <see cref="GradientTests"/>).
/// </summary>
public sealed class OracleModels
{
    /// <summary>Coupling kinds under test.</summary>
    public static readonly ConfigGeneratorOptions Options = ConfigGeneratorOptions.All;

    private static int s_builds;

    public OracleModels()
    {
        Configs = new ConfigGenerator(20261128, Options).Take(240);
        Models = GeneratedModels.Build(Configs);
        System.Threading.Interlocked.Increment(ref s_builds);
    }

    /// <summary>How many times the models were compiled in this process (once: the fixture is shared).</summary>
    public static int Builds => s_builds;

    public IReadOnlyList<FlowConfig> Configs { get; }

    public IReadOnlyList<ModelUnderTest> Models { get; }
}

/// <summary>The test classes that share one <see cref="OracleModels"/> (an xunit collection fixture: built once per run, not per class).</summary>
[CollectionDefinition(Name)]
public sealed class OracleCollection : ICollectionFixture<OracleModels>
{
    public const string Name = "Oracle models";
}

/// <summary>
/// Generated code against the independent double-precision scalar reference (tests/Reference, written from docs/model.md)
/// on 240 random configurations — dims 2–33, 1–16 couplings, every mask kind, hidden depth 0–3, every activation,
/// permutations, ActNorm, invertible linear layers, context — with random parameters and inputs, in float and double.
/// </summary>
[Collection(OracleCollection.Name)]
[Trait("Category", "Slow")]
public class OracleTests
{
    private readonly OracleModels _models;
    private readonly ITestOutputHelper _output;

    public OracleTests(OracleModels models, ITestOutputHelper output)
    {
        _models = models;
        _output = output;
    }

    /// <summary>Tolerance |a − b| ≤ tol·(1 + |b|) for generated code in T against the double reference.</summary>
    private static double Tolerance(FlowConfig c) => c.IsFloat ? 5e-5 : 1e-11;

    private static (double[] parameters, double[] inputs, double[] contexts) Problem(FlowConfig config, int seed, int rows, double inputScale = 1.0)
    {
        var rng = new Random(seed);
        var reference = new ReferenceFlow(config);
        double[] parameters = config.ToModelPrecision(reference.RandomParameters(rng, 0.7));
        double[] inputs = config.ToModelPrecision(GeneratedModels.Gaussians(rng, rows * config.Dim, inputScale));
        double[] contexts = config.ToModelPrecision(GeneratedModels.Gaussians(rng, rows * config.Context, 1.0));
        return (parameters, inputs, contexts);
    }

    private static double Error(double actual, double expected) => Math.Abs(actual - expected) / (1 + Math.Abs(expected));

    /// <summary>The 240 models are compiled once per run, for this class and <see cref="GradientTests"/> together.</summary>
    [Fact]
    public void TheModelsAreCompiledOnce()
    {
        Assert.Equal(240, _models.Models.Count);
        Assert.Equal(1, OracleModels.Builds);
    }

    [Fact]
    public void ParameterCountMatchesTheSpecification()
    {
        Shrinking.ForEachModel(_models.Models, m =>
        {
            int count = m.IsFloat ? m.Float.ParameterCount : m.Double.ParameterCount;
            Assert.True(count == m.Config.ParameterCount, $"{m.Config.Describe()}: ParameterCount {count}, spec says {m.Config.ParameterCount}");
        });
    }

    [Fact]
    public void ForwardInverseAndLogProbMatchTheReference()
    {
        double worstFloat = 0, worstDouble = 0, worstRoundTripFloat = 0, worstRoundTripDouble = 0;
        PerKind[] perKind = [new(), new(), new(), new()];
        Shrinking.ForEachModel(_models.Models, m =>
        {
            var (fwd, rt) = m.IsFloat ? CheckForward<float>(m.Config, m.Float) : CheckForward<double>(m.Config, m.Double);
            perKind[m.IsFloat ? 0 : 1].Add(m.Config, fwd);
            perKind[m.IsFloat ? 2 : 3].Add(m.Config, rt);
            if (m.IsFloat) { worstFloat = Math.Max(worstFloat, fwd); worstRoundTripFloat = Math.Max(worstRoundTripFloat, rt); }
            else { worstDouble = Math.Max(worstDouble, fwd); worstRoundTripDouble = Math.Max(worstRoundTripDouble, rt); }
        });
        _output.WriteLine($"max scaled error vs reference (z, log-det, log-prob): float {worstFloat:E2}, double {worstDouble:E2}");
        _output.WriteLine($"max round-trip error |Inverse(Forward(x)) − x|/(1+|x|): float {worstRoundTripFloat:E2}, double {worstRoundTripDouble:E2}");
        _output.WriteLine(perKind[0].Report("vs reference, float, per kind (configurations)"));
        _output.WriteLine(perKind[1].Report("vs reference, double, per kind (configurations)"));
        _output.WriteLine(perKind[2].Report("round trip, float, per kind"));
        _output.WriteLine(perKind[3].Report("round trip, double, per kind"));
    }

    private static (double forward, double roundTrip) CheckForward<T>(FlowConfig config, ICouplingFlow<T> model) where T : unmanaged, IFloatingPointIeee754<T>
    {
        const int Rows = 5;
        var (parameters, inputs, contexts) = Problem(config, GeneratedModels.StableSeed(config), Rows);
        GeneratedModels.To<T>(parameters).CopyTo(model.Parameters);
        var reference = new ReferenceFlow(config);
        double tol = Tolerance(config);
        int d = config.Dim, c = config.Context;
        double worst = 0, worstRoundTrip = 0;
        for (int r = 0; r < Rows; r++)
        {
            double[] x = inputs.AsSpan(r * d, d).ToArray();
            double[]? ctx = c > 0 ? contexts.AsSpan(r * c, c).ToArray() : null;
            var zRef = new double[d];
            double ldRef = reference.Forward(parameters, x, ctx, zRef);
            double lpRef = reference.LogProb(parameters, x, ctx);

            T[] xt = GeneratedModels.To<T>(x), ct = ctx is null ? Array.Empty<T>() : GeneratedModels.To<T>(ctx);
            var z = new T[d];
            double ld = double.CreateTruncating(model.Forward(xt, ct, z));
            double lp = double.CreateTruncating(model.LogProb(xt, ct));
            for (int i = 0; i < d; i++)
            {
                double e = Error(double.CreateTruncating(z[i]), zRef[i]);
                worst = Math.Max(worst, e);
                Assert.True(e <= tol, $"{config.Describe()}\nrow {r}: z[{i}] = {z[i]}, reference {zRef[i]}");
            }
            worst = Math.Max(worst, Math.Max(Error(ld, ldRef), Error(lp, lpRef)));
            Assert.True(Error(ld, ldRef) <= tol, $"{config.Describe()}\nrow {r}: log-det {ld}, reference {ldRef}");
            Assert.True(Error(lp, lpRef) <= tol, $"{config.Describe()}\nrow {r}: log-prob {lp}, reference {lpRef}");

            // round trip through the generated inverse, and the inverse log-det
            var back = new T[d];
            model.Inverse(z, ct, back);
            for (int i = 0; i < d; i++)
            {
                double e = Error(double.CreateTruncating(back[i]), x[i]);
                worstRoundTrip = Math.Max(worstRoundTrip, e);
                Assert.True(e <= tol, $"{config.Describe()}\nrow {r}: Inverse(Forward(x))[{i}] = {back[i]}, x = {x[i]}");
            }
            var inverseLogDet = new T[1];
            model.Inverse(z, ct, back, inverseLogDet);
            Assert.True(Error(-double.CreateTruncating(inverseLogDet[0]), ld) <= tol, $"{config.Describe()}\nrow {r}: inverse log-det {inverseLogDet[0]} vs −{ld}");

            // the reference's inverse agrees with the generated inverse
            var xRef = new double[d];
            reference.Inverse(parameters, GeneratedModels.ToDouble<T>(z), ctx, xRef);
            for (int i = 0; i < d; i++) Assert.True(Error(double.CreateTruncating(back[i]), xRef[i]) <= tol, $"{config.Describe()}\nrow {r}: Inverse[{i}] {back[i]} vs reference {xRef[i]}");
        }
        return (worst, worstRoundTrip);
    }

    [Fact]
    public void BatchPathsEqualSingleSamplePathsBitForBit()
    {
        var rng = new Random(3);
        Shrinking.ForEachModel(_models.Models.Where((_, i) => i % 3 == 0), m =>
        {
            if (m.IsFloat) CheckBatch<float>(m.Config, m.Float, rng.Next());
            else CheckBatch<double>(m.Config, m.Double, rng.Next());
        });
    }

    private static void CheckBatch<T>(FlowConfig config, ICouplingFlow<T> model, int seed) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int v = Vector<T>.Count, width = 2 * v;
        int[] sizes = { 0, 1, 2, v - 1, v, v + 1, width - 1, width, width + 1, 3 * width + v / 2 + 1, 1000 };
        var (parameters, inputs, contexts) = Problem(config, seed, 1000);
        GeneratedModels.To<T>(parameters).CopyTo(model.Parameters);
        int d = config.Dim, c = config.Context;
        T[] xs = GeneratedModels.To<T>(inputs), cs = GeneratedModels.To<T>(contexts);
        foreach (int n in sizes.Where(s => s >= 0).Distinct())
        {
            var zs = new T[n * d];
            var lds = new T[n];
            var lps = new T[n];
            model.Forward(xs.AsSpan(0, n * d), cs.AsSpan(0, n * c), zs, lds);
            model.LogProb(xs.AsSpan(0, n * d), cs.AsSpan(0, n * c), lps);
            var back = new T[n * d];
            var ildBatch = new T[n];
            model.Inverse(zs, cs.AsSpan(0, n * c), back, ildBatch);
            // every row of small batches; the first and last 32 rows of large ones (rows are independent: the edges are where tiles and tails differ)
            foreach (int r in Enumerable.Range(0, n).Where(r => r < 32 || r >= n - 32))
            {
                var z = new T[d];
                T ld = model.Forward(xs.AsSpan(r * d, d), cs.AsSpan(r * c, c), z);
                T lp = model.LogProb(xs.AsSpan(r * d, d), cs.AsSpan(r * c, c));
                Assert.True(z.AsSpan().SequenceEqual(zs.AsSpan(r * d, d)), $"{config.Describe()}\nn = {n}, row {r}: batch z differs from single-sample z");
                Assert.True(ld.Equals(lds[r]), $"{config.Describe()}\nn = {n}, row {r}: batch log-det {lds[r]} vs single {ld}");
                Assert.True(lp.Equals(lps[r]), $"{config.Describe()}\nn = {n}, row {r}: batch log-prob {lps[r]} vs single {lp}");
                var x = new T[d];
                model.Inverse(z, cs.AsSpan(r * c, c), x);
                Assert.True(x.AsSpan().SequenceEqual(back.AsSpan(r * d, d)), $"{config.Describe()}\nn = {n}, row {r}: batch inverse differs from single-sample inverse");
            }
        }
    }

    [Fact]
    public void LogDetMatchesTheNumericalJacobian()
    {
        double worst = 0;
        int checkedModels = 0;
        var perKind = new PerKind();
        Shrinking.ForEachModel(_models.Models.Where(m => !m.IsFloat && m.Config.Dim <= 16).Take(60), m =>
        {
            FlowConfig config = m.Config;
            var (parameters, inputs, contexts) = Problem(config, 11, 2);
            parameters.CopyTo(m.Double.Parameters);
            int d = config.Dim, c = config.Context;
            for (int r = 0; r < 2; r++)
            {
                double[] x = inputs.AsSpan(r * d, d).ToArray();
                double[] ctx = contexts.AsSpan(r * c, c).ToArray();
                double[,] jacobian = ReferenceMath.NumericalJacobian(xv =>
                {
                    var z = new double[d];
                    m.Double.Forward(xv, ctx, z);
                    return z;
                }, x, 1e-5);
                double expected = ReferenceMath.LogAbsDeterminant(jacobian);
                double ld = m.Double.Forward(x, ctx, new double[d]);
                double e = Math.Abs(ld - expected) / (1 + Math.Abs(expected));
                worst = Math.Max(worst, e);
                perKind.Add(config, e);
                Assert.True(e <= 1e-6, $"{config.Describe()}\nlog-det {ld}, log|det J| by central differences {expected}");
            }
            checkedModels++;
        }, applies: c => !c.IsFloat && c.Dim <= 16);
        Assert.True(checkedModels >= 40, $"only {checkedModels} double models with Dim ≤ 16");
        _output.WriteLine($"{checkedModels} models: max |log-det − log|det J_fd|| / (1 + |·|) = {worst:E2}");
        _output.WriteLine(perKind.Report("per kind"));
    }

    [Fact]
    public void TwoDimensionalDensitiesIntegrateToOne()
    {
        var models = _models.Models.Where(m => m.Config.Dim == 2).ToList();
        Assert.True(models.Count >= 10, $"only {models.Count} two-dimensional models");
        double worst = 0;
        Shrinking.ForEachModel(models, m =>
        {
            double mass = m.IsFloat ? Integrate<float>(m.Config, m.Float, out int overflowed) : Integrate<double>(m.Config, m.Double, out overflowed);
            worst = Math.Max(worst, Math.Abs(mass - 1));
            Assert.True(Math.Abs(mass - 1) <= 1e-3, $"{m.Config.Describe()}\n∫ exp(LogProb) over the grid = {mass} ({overflowed} points overflowed)");
        }, applies: c => c.Dim == 2);
        _output.WriteLine($"{models.Count} two-dimensional models: max |∫p − 1| = {worst:E2}");
    }

    /// <summary>
    /// ∫ exp(LogProb) over [−12, 12]² by the midpoint rule on a 600 × 600 grid, with contexts fixed at a random value. Where the
    /// model's arithmetic overflows (high-degree sum-of-squares stacks in float, far from the data) LogProb is NaN: those points
    /// count as zero density after the double reference confirms that the density there is negligible (below e⁻⁴⁰).
    /// A density with features finer than the grid (a deep stack of splines with a small bound: 1.8e-3 off at 600, 2.2e-3 at
    /// 1 200, 1.2e-4 at 2 400) is integrated again on a 4× finer grid, up to 2 400 × 2 400, when the mass misses 1 by more than
    /// 1e-3: the quadrature error shrinks with the grid, a wrong log-determinant does not.
    /// </summary>
    private static double Integrate<T>(FlowConfig config, ICouplingFlow<T> model, out int overflowed, int N = 600) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var reference = new ReferenceFlow(config);
        overflowed = 0;
        const double L = 12;
        double H = 2 * L / N;
        var (parameters, _, contexts) = Problem(config, 21, 1);
        GeneratedModels.To<T>(parameters).CopyTo(model.Parameters);
        var xs = new T[2 * N];
        var cs = new T[N * config.Context];
        for (int i = 0; i < N; i++) GeneratedModels.To<T>(contexts).CopyTo(cs.AsSpan(i * config.Context));
        var lp = new T[N];
        double total = 0;
        for (int row = 0; row < N; row++)
        {
            double y = -L + (row + 0.5) * H;
            for (int col = 0; col < N; col++)
            {
                xs[2 * col] = T.CreateTruncating(-L + (col + 0.5) * H);
                xs[2 * col + 1] = T.CreateTruncating(y);
            }
            model.LogProb(xs, cs, lp);
            for (int col = 0; col < N; col++)
            {
                double v = double.CreateTruncating(lp[col]);
                if (double.IsFinite(v) || double.IsNegativeInfinity(v))
                {
                    total += Math.Exp(v);
                    continue;
                }
                double expected = reference.LogProb(config.ToModelPrecision(parameters), [double.CreateTruncating(xs[2 * col]), y], config.Context > 0 ? GeneratedModels.ToDouble<T>(cs.AsSpan(0, config.Context)) : null);
                Assert.True(!(expected > -40), $"{config.Describe()}\nLogProb({xs[2 * col]}, {y}) = {v} where the reference gives {expected}");
                overflowed++;
            }
        }
        double mass = total * H * H;
        return Math.Abs(mass - 1) > 1e-3 && N < 2400 ? Integrate(config, model, out overflowed, 4 * N) : mass;
    }
}
