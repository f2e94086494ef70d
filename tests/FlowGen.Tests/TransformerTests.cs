using System;
using System.Linq;
using System.Numerics;
using FlowGen.Tests.Models;
using FlowGen.Tests.Reference;
using Xunit.Abstractions;

namespace FlowGen.Tests;

/// <summary>
/// The monotone transformers (sum of squares, deep sigmoidal, spline) in generated code, at wide inputs and extreme
/// parameters: strictly increasing, positive finite derivative, round trips, spline continuity at knots and tails.
/// Each model is one coupling without hidden layer, so its transformer parameters are set directly as the output bias.
/// </summary>
public class TransformerTests(ITestOutputHelper output)
{
    /// <summary>Sets the transformer parameters θ (the conditioner's weights zero, its bias θ).</summary>
    private static void SetTheta<T>(ICouplingFlow<T> flow, double[] theta) where T : unmanaged, IFloatingPointIeee754<T>
    {
        Span<T> p = flow.Parameters;
        Assert.Equal(2 * theta.Length, p.Length); // 1 input × P weights, then P biases
        p.Clear();
        for (int i = 0; i < theta.Length; i++) p[theta.Length + i] = T.CreateTruncating(theta[i]);
    }

    /// <summary>τ(x) and log τ′(x) of the transformed coordinate for a batch of x.</summary>
    private static (T[] y, T[] logDerivative) Map<T>(ICouplingFlow<T> flow, T[] x) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var xs = new T[2 * x.Length];
        for (int i = 0; i < x.Length; i++) xs[2 * i + 1] = x[i];
        var zs = new T[xs.Length];
        var ld = new T[x.Length];
        flow.Forward(xs, default, zs, ld);
        return (Enumerable.Range(0, x.Length).Select(i => zs[2 * i + 1]).ToArray(), ld);
    }

    private static double[] RandomTheta(Random rng, int count, double scale) =>
        Enumerable.Range(0, count).Select(_ => scale * (2 * rng.NextDouble() - 1)).ToArray();

    public static TheoryData<string> Kinds => new() { "sos", "dsf", "spline" };

    private static object Model(string kind, bool isDouble) => (kind, isDouble) switch
    {
        ("sos", false) => new OneSos(),
        ("sos", true) => new OneSosDouble(),
        ("dsf", false) => new OneDsf(),
        ("dsf", true) => new OneDsfDouble(),
        ("spline", false) => new OneSpline(),
        _ => new OneSplineDouble(),
    };

    private static int ParametersPerCoordinate(string kind) => kind switch { "sos" => 1 + 2 * 4, "dsf" => 3 * 6 * 2, _ => 3 * 7 - 1 };

    [Theory]
    [Trait("Category", "Slow")]
    [MemberData(nameof(Kinds))]
    public void MonotoneWithPositiveDerivativeAndInvertible(string kind)
    {
        Check((ICouplingFlow<float>)Model(kind, false), kind, 2e-4);
        Check((ICouplingFlow<double>)Model(kind, true), kind, 1e-10);
    }

    private void Check<T>(ICouplingFlow<T> flow, string kind, double roundTripTolerance) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var rng = new Random(kind.Length * 31 + (typeof(T) == typeof(double) ? 1 : 0));
        // inputs across the whole range the kind is meant for: dense near zero, then out to ±50 (the spline's tails, DSF's linear tails)
        // (the sum of squares is a polynomial only on [−3, 3] and linear beyond, docs/model.md §3)
        double range = 50;
        T[] x = Enumerable.Range(0, 4001).Select(i => T.CreateTruncating(range * Math.Sinh(6.0 * (i - 2000) / 2000) / Math.Sinh(6.0))).ToArray();
        double worstRoundTrip = 0, worstResidual = 0;
        // the test project turns the counters on with the runtime switch (FlowGen.Tests.csproj): no symbol, the shipped code
        Assert.True(InverseStatistics.IsEnabled, $"the runtime switch {InverseStatistics.SwitchName} is off");
        InverseStatistics.Reset();
        int models = 0;
        // parameters from tame to extreme
        foreach (double scale in new[] { 0.5, 2, 5, 10 })
        {
            for (int trial = 0; trial < 10; trial++)
            {
                double[] theta = RandomTheta(rng, ParametersPerCoordinate(kind), scale);
                SetTheta(flow, theta);
                var (y, ld) = Map(flow, x);
                for (int i = 0; i < x.Length; i++)
                {
                    Assert.True(T.IsFinite(y[i]) && T.IsFinite(ld[i]), $"{kind} θ·{scale}: τ({x[i]}) = {y[i]}, log τ′ = {ld[i]}");
                    // increasing up to rounding: the computed τ may step back by a few ulps where it saturates
                    if (i > 0) Assert.True(double.CreateTruncating(y[i]) >= double.CreateTruncating(y[i - 1]) - 4 * Ulp(double.CreateTruncating(y[i]), typeof(T)), $"{kind} θ·{scale}: τ not increasing between {x[i - 1]} ({y[i - 1]}) and {x[i]} ({y[i]})");
                }
                // log τ′ is finite everywhere: τ′ > 0. Round trip through the generated inverse:
                var zs = new T[2 * x.Length];
                for (int i = 0; i < x.Length; i++) zs[2 * i + 1] = y[i];
                var back = new T[zs.Length];
                var inverseLd = new T[x.Length];
                int failures = flow.Inverse(zs, default, back, inverseLd);
                Assert.Equal(0, failures);
                // where the map is nearly flat the inverse is ill-conditioned: then the residual τ(τ⁻¹(y)) − y (backward error) is what must be small
                T[] backX = Enumerable.Range(0, x.Length).Select(i => back[2 * i + 1]).ToArray();
                var (residualY, ldAtBack) = Map(flow, backX);
                for (int i = 0; i < x.Length; i++)
                {
                    double xi = double.CreateTruncating(x[i]), bi = double.CreateTruncating(backX[i]);
                    double yi = double.CreateTruncating(y[i]);
                    double slope = Math.Exp(double.CreateTruncating(ld[i]));
                    double allowed = roundTripTolerance * (1 + Math.Abs(xi)) + 4 * double.CreateTruncating(T.Epsilon) + 8 * Ulp(yi, typeof(T)) / slope;
                    double e = Math.Abs(bi - xi);
                    double residual = Math.Abs(double.CreateTruncating(residualY[i]) - yi);
                    if (e <= allowed) worstRoundTrip = Math.Max(worstRoundTrip, e / (1 + Math.Abs(xi)));
                    else worstResidual = Math.Max(worstResidual, residual / (1 + Math.Abs(yi)));
                    Assert.True(e <= allowed || residual <= 16 * Ulp(yi, typeof(T)) + roundTripTolerance * 1e-3 * (1 + Math.Abs(yi)),
                        $"{kind} θ·{scale}: τ⁻¹(τ({xi})) = {bi}, error {e:E2} (allowed {allowed:E2}, τ′ = {slope:E2}), residual {residual:E2}");
                    // the inverse's log-det is −log τ′ at the point it returns
                    double ldBack = double.CreateTruncating(ldAtBack[i]);
                    Assert.True(Math.Abs(double.CreateTruncating(inverseLd[i]) + ldBack) <= 1e3 * roundTripTolerance * (1 + Math.Abs(ldBack)),
                        $"{kind} θ·{scale}: inverse log-det {inverseLd[i]} vs −{ldBack}");
                }
                models++;
            }
        }
        output.WriteLine($"{kind} ({typeof(T).Name}): {models} parameter draws × {x.Length} inputs, max round-trip error / (1 + |x|) = {worstRoundTrip:E2}; on flat stretches (x not recoverable to the precision of y) max |τ(τ⁻¹(y)) − y| / (1 + |y|) = {worstResidual:E2}");
        if (kind != "spline")
        {
            // the spline inverts in closed form; the others by safeguarded Newton (docs/model.md §7)
            output.WriteLine($"  numerical inverse: {InverseStatistics.Calls} inversions, iterations mean {InverseStatistics.MeanIterations:F1} max {InverseStatistics.MaxIterations}, bracket doublings mean {InverseStatistics.MeanGrowthSteps:F1} max {InverseStatistics.MaxGrowthSteps}, unconverged {InverseStatistics.Unconverged}");
            Assert.True(InverseStatistics.Calls > 0, "the statistics hook recorded nothing");
            Assert.Equal(0, InverseStatistics.Unconverged);
        }
    }

    private static double Ulp(double value, Type type) =>
        type == typeof(float) ? Math.Abs(MathF.BitIncrement((float)value) - (float)value) : Math.Abs(Math.BitIncrement(value) - value);

    [Fact]
    public void SplineIsContinuousAtKnotsAndTails()
    {
        var flow = new OneSplineDouble();
        var rng = new Random(5);
        for (int trial = 0; trial < 20; trial++)
        {
            double[] theta = RandomTheta(rng, 20, 3);
            SetTheta(flow, theta);
            // on both sides of every knot (from the independent reference's geometry), τ and log τ′ agree: τ is C¹
            SplineGeometry g = ReferenceFlow.Geometry(theta, 7, 2.5);
            const double H = 1e-11; // log τ′ may change by 1e5 per unit in a narrow bin
            double[] left = g.Xs.Select(v => v - H).ToArray(), right = g.Xs.Select(v => v + H).ToArray();
            var (yl, ll) = Map<double>(flow, left);
            var (yr, lr) = Map<double>(flow, right);
            for (int k = 0; k < g.Xs.Length; k++)
            {
                Assert.True(Math.Abs(yl[k] - g.Ys[k]) <= 1e-7 && Math.Abs(yr[k] - g.Ys[k]) <= 1e-7, $"τ jumps at knot {g.Xs[k]}: {yl[k]} | {g.Ys[k]} | {yr[k]}");
                Assert.True(Math.Abs(ll[k] - lr[k]) <= 1e-4, $"log τ′ jumps at knot {k} of {g.Xs.Length} at {g.Xs[k]}: {ll[k]} → {lr[k]}, log δ = {Math.Log(g.Derivatives[k])}, widths {string.Join(",", g.Widths)}");
                Assert.True(Math.Abs(ll[k] - Math.Log(g.Derivatives[k])) <= 1e-4, $"τ′ at knot {g.Xs[k]} is {Math.Exp(ll[k])}, expected δ = {g.Derivatives[k]}");
            }
            // identity tails: τ(x) = x and log τ′ = 0 outside [−B, B]
            var (tails, tailLd) = Map<double>(flow, new[] { -2.5000001, -7.0, 2.5000001, 40.0 });
            Assert.Equal(new[] { -2.5000001, -7.0, 2.5000001, 40.0 }, tails);
            Assert.All(tailLd, v => Assert.Equal(0.0, v));
        }
    }

    /// <summary>
    /// The sum of squares with its bound (OneSosDouble: r = 3, K = 2, B = 3): equal to the independent reference inside, at and
    /// beyond ±B; C¹ across ±B; exactly linear in the tails (τ(x) = τ(±B) + τ′(±B)(x ∓ B)); and inverted to the point in the
    /// tails and at the bound. Fails if the tails are dropped (the polynomial grows), have the wrong slope, or the bound is
    /// applied to u instead of x.
    /// </summary>
    [Fact]
    public void SumOfSquaresIsC1AtTheBoundLinearBeyondItAndInvertsThere()
    {
        var flow = new OneSosDouble();
        var rng = new Random(12);
        const double B = 3;
        for (int trial = 0; trial < 20; trial++)
        {
            double[] theta = RandomTheta(rng, 9, 1 + trial % 4);
            SetTheta(flow, theta);
            double[] x = [-1e6, -40, -3.5, -B - 1e-9, -B, -B + 1e-9, -1.3, 0, 0.7, B - 1e-9, B, B + 1e-9, 3.25, 12, 1e6];
            var (y, ld) = Map<double>(flow, x);
            for (int i = 0; i < x.Length; i++)
            {
                double expected = ReferenceFlow.SumOfSquares(x[i], theta, 3, 2, B, out double expectedLd);
                Assert.True(Math.Abs(y[i] - expected) <= 1e-11 * (1 + Math.Abs(expected)), $"τ({x[i]}) = {y[i]}, reference {expected}");
                Assert.True(Math.Abs(ld[i] - expectedLd) <= 1e-11 * (1 + Math.Abs(expectedLd)), $"log τ′({x[i]}) = {ld[i]}, reference {expectedLd}");
            }
            // C¹ at ±B: value and log-derivative agree on both sides
            foreach (int at in new[] { 4, 10 })
            {
                Assert.True(Math.Abs(y[at - 1] - y[at + 1]) <= 1e-7 * (1 + Math.Abs(y[at])), $"τ jumps at {x[at]}");
                Assert.True(Math.Abs(ld[at - 1] - ld[at + 1]) <= 1e-6, $"log τ′ jumps at {x[at]}: {ld[at - 1]} → {ld[at + 1]}");
            }
            // the tails are the tangent at ±B: constant log-derivative, τ linear
            double slopeHigh = Math.Exp(ld[10]), slopeLow = Math.Exp(ld[4]);
            foreach (int i in new[] { 11, 12, 13, 14 })
            {
                Assert.Equal(ld[10], ld[i], 12);
                Assert.True(Math.Abs(y[i] - (y[10] + slopeHigh * (x[i] - B))) <= 1e-12 * (1 + Math.Abs(y[i])), $"τ({x[i]}) is not on the tangent at B");
            }
            foreach (int i in new[] { 0, 1, 2, 3 })
            {
                Assert.Equal(ld[4], ld[i], 12);
                Assert.True(Math.Abs(y[i] - (y[4] + slopeLow * (x[i] + B))) <= 1e-12 * (1 + Math.Abs(y[i])), $"τ({x[i]}) is not on the tangent at −B");
            }
            // round trips in the tails and at the bound, with the inverse's log-det −log τ′
            var zs = new double[2 * x.Length];
            for (int i = 0; i < x.Length; i++) zs[2 * i + 1] = y[i];
            var back = new double[zs.Length];
            var inverseLd = new double[x.Length];
            Assert.Equal(0, ((ICouplingFlow<double>)flow).Inverse(zs, default, back, inverseLd));
            for (int i = 0; i < x.Length; i++)
            {
                Assert.True(Math.Abs(back[2 * i + 1] - x[i]) <= 1e-12 * (1 + Math.Abs(x[i])) + 8 * Ulp(y[i], typeof(double)) / Math.Exp(ld[i]),
                    $"τ⁻¹(τ({x[i]})) = {back[2 * i + 1]}");
                Assert.True(Math.Abs(inverseLd[i] + ld[i]) <= 1e-9, $"inverse log-det at {x[i]}: {inverseLd[i]} vs −{ld[i]}");
            }
        }
    }

    [Fact]
    public void NonFiniteInputsGiveNaNAndAreCountedByInverse()
    {
        foreach (object model in new[] { Model("sos", true), Model("dsf", true), Model("spline", true) })
        {
            var flow = (ICouplingFlow<double>)model;
            SetTheta(flow, RandomTheta(new Random(1), ParametersPerCoordinate(model switch { OneSosDouble => "sos", OneDsfDouble => "dsf", _ => "spline" }), 1));
            var zs = new[] { 0.0, double.NaN, 0.0, 1.0, 0.0, double.PositiveInfinity, 0.0, -0.5 };
            var xs = new double[zs.Length];
            int failures = flow.Inverse(zs, default, xs, default);
            Assert.Equal(2, failures);
            Assert.True(double.IsNaN(xs[1]));
            Assert.True(double.IsFinite(xs[3]) && double.IsFinite(xs[7]));
            Assert.True(model is OneSplineDouble ? xs[5] == double.PositiveInfinity || double.IsNaN(xs[5]) : double.IsNaN(xs[5]));
        }
    }

    [Theory]
    [InlineData("sos")]
    [InlineData("dsf")]
    public void InitialisationIsTheIdentityButTheUnitsCanSeparate(string kind)
    {
        var flow = (ICouplingFlow<double>)Model(kind, true);
        var rng = new FlowRandom(9);
        var xs = new double[2 * 512];
        rng.FillGaussian(xs);
        var zs = new double[xs.Length];
        var ld = new double[512];
        flow.Forward(xs, default, zs, ld);
        for (int i = 0; i < xs.Length; i++) Assert.True(Math.Abs(zs[i] - xs[i]) <= 1e-12 * (1 + Math.Abs(xs[i])), $"{kind}: initial map moves {xs[i]} to {zs[i]}");
        Assert.All(ld, v => Assert.True(Math.Abs(v) <= 1e-12, $"{kind}: initial log-det {v}"));

        // a bimodal second coordinate: the units (squares) must take different roles, which they cannot if they start equal
        for (int i = 0; i < 512; i++) xs[2 * i + 1] = (i % 2 == 0 ? -2 : 2) + 0.3 * xs[2 * i + 1];
        FlowTrainer.Train<double>(flow, xs, new TrainingOptions { Steps = 150, BatchSize = 128, LearningRate = 1e-2, ValidationFraction = 0 });
        // the output biases are the transformer parameters θ (no hidden layer); compare the units' offsets b_j (DSF) or the squares' a_k1 (SoS), which start equal
        double[] theta = flow.Parameters[(flow.Parameters.Length / 2)..].ToArray();
        double[] unit = kind == "dsf"
            ? Enumerable.Range(0, 6).Select(j => theta[6 + j]).ToArray()            // first block: ã[6], b[6], w̃[6]
            : Enumerable.Range(0, 2).Select(k => theta[1 + k * 4 + 1]).ToArray();   // r = 3, K = 2: c, then a_k0 … a_k3
        double spread = unit.Max() - unit.Min();
        Assert.True(spread > 1e-3, $"{kind}: units still tied after training (spread {spread:E2}: {string.Join(", ", unit)})");
    }
}
