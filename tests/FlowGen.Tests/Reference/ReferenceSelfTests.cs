// Tests of the reference implementation itself (no generated code involved).

#nullable enable

using System;
using System.Collections.Generic;
using System.Linq;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;

namespace FlowGen.Tests.Reference;

public class ReferenceSelfTests
{
    private static readonly global::FlowGen.Activation Relu = global::FlowGen.Activation.Relu;

    private static double[] RandomContext(Random rng, FlowConfig config) =>
        config.Context == 0 ? [] : ReferenceFlow.Gaussians(rng, config.Context);

    private static double[]? ContextOrNull(double[] context) => context.Length == 0 ? null : context;

    // ------------------------------------------------------------------------------------------------
    // Round trip and log-determinants on random configs

    [Fact]
    [Trait("Category", "Slow")]
    public void RoundTrip_InverseOfForward_IsIdentity_OnRandomConfigs()
    {
        var generator = new ConfigGenerator(20240601);
        var rng = new Random(7);
        double worst = 0;
        for (int n = 0; n < 150; n++)
        {
            FlowConfig config = generator.Next();
            var flow = new ReferenceFlow(config);
            double[] parameters = flow.RandomParameters(rng, 0.7);
            for (int trial = 0; trial < 3; trial++)
            {
                double[] x = ReferenceFlow.Gaussians(rng, config.Dim, trial == 2 ? 2.5 : 1.0);
                double[] context = RandomContext(rng, config);
                var z = new double[config.Dim];
                var back = new double[config.Dim];
                double forwardLogDet = flow.Forward(parameters, x, ContextOrNull(context), z);
                double inverseLogDet = flow.Inverse(parameters, z, ContextOrNull(context), back);
                Assert.True(double.IsFinite(forwardLogDet) && z.All(double.IsFinite), "non-finite forward: " + config.Describe());
                for (int i = 0; i < config.Dim; i++)
                {
                    double error = Math.Abs(back[i] - x[i]) / (1 + Math.Abs(x[i]));
                    worst = Math.Max(worst, error);
                    Assert.True(error < 1e-8, $"x[{i}] = {x[i]} came back as {back[i]}: {config.Describe()}");
                }
                Assert.True(Math.Abs(forwardLogDet + inverseLogDet) < 1e-8 * (1 + Math.Abs(forwardLogDet)),
                    $"log-dets {forwardLogDet} / {inverseLogDet}: {config.Describe()}");
            }
        }
        Assert.True(worst < 1e-8);
    }

    [Fact]
    public void ForwardLogDet_MatchesCentralDifferenceJacobian()
    {
        var generator = new ConfigGenerator(99, new ConfigGeneratorOptions { MaxDim = 8, MaxCouplings = 6 });
        var rng = new Random(11);
        for (int n = 0; n < 80; n++)
        {
            FlowConfig config = generator.Next();
            var flow = new ReferenceFlow(config);
            double[] parameters = flow.RandomParameters(rng, 0.7);
            double[] x = ReferenceFlow.Gaussians(rng, config.Dim, 1.3);
            double[]? context = ContextOrNull(RandomContext(rng, config));
            var z = new double[config.Dim];
            double logDet = flow.Forward(parameters, x, context, z);
            double[,] jacobian = ReferenceMath.NumericalJacobian(v =>
            {
                var o = new double[config.Dim];
                flow.Forward(parameters, v, context, o);
                return o;
            }, x, 1e-5);
            double numerical = ReferenceMath.LogAbsDeterminant(jacobian);
            Assert.True(Math.Abs(numerical - logDet) < 1e-6 * (1 + Math.Abs(logDet)),
                $"log|det| {logDet} vs numerical {numerical}: {config.Describe()}");
        }
    }

    [Fact]
    public void LogDetByLu_KnownMatrices()
    {
        Assert.Equal(Math.Log(6), ReferenceMath.LogAbsDeterminant(new double[,] { { 0, 2 }, { 3, 0 } }), 12);
        Assert.Equal(Math.Log(3), ReferenceMath.LogAbsDeterminant(new double[,] { { 1, 2, 0 }, { 3, 4, 0 }, { 0, 0, 1.5 } }), 12);
        Assert.Equal(double.NegativeInfinity, ReferenceMath.LogAbsDeterminant(new double[,] { { 1, 2 }, { 2, 4 } }));
    }

    [Fact]
    public void InvertibleLinear_MatchesDenseMatrix()
    {
        var config = new FlowConfig
        {
            Dim = 5,
            Seed = 3,
            Hidden = [4],
            Explicit = [new InvertibleLinearLayer(), new CouplingLayer(CouplingKind.Affine), new InvertibleLinearLayer { Permute = false }],
        };
        var flow = new ReferenceFlow(config);
        var rng = new Random(5);
        double[] parameters = ReferenceFlow.Gaussians(rng, flow.ParameterCount, 0.5);
        Assert.Equal(new[] { 2, 4, 0, 1, 3 }, flow.Permutation(0)); // seed 3 + stack index 0
        Assert.Equal(new[] { 0, 1, 2, 3, 4 }, flow.Permutation(2)); // Permute = false: P = identity
        foreach (int l in new[] { 0, 2 })
        {
            double[,] w = flow.InvertibleLinearMatrix(l, parameters);
            double[] x = ReferenceFlow.Gaussians(rng, 5);
            var y = new double[5];
            double logDet = flow.ForwardLayer(l, parameters, x, null, y);
            int biasOffset = config.Resolve()[l].ParameterOffset + 5 * 4 + 5;
            for (int i = 0; i < 5; i++)
            {
                double expected = parameters[biasOffset + i];
                for (int j = 0; j < 5; j++) expected += w[i, j] * x[j];
                Assert.Equal(expected, y[i], 12);
            }
            Assert.Equal(ReferenceMath.LogAbsDeterminant(w), logDet, 10);
            var back = new double[5];
            Assert.Equal(-logDet, flow.InverseLayer(l, parameters, y, null, back), 12);
            for (int i = 0; i < 5; i++) Assert.Equal(x[i], back[i], 12);
        }
    }

    [Fact]
    public void ActNorm_And_InvertibleLinear_HandComputedLayout()
    {
        var config = new FlowConfig
        {
            Dim = 3,
            Hidden = [],
            Explicit = [new ActNormLayer(), new InvertibleLinearLayer { Permute = false }, new InvertibleLinearLayer { Seed = 0 }, new CouplingLayer(CouplingKind.Affine)],
        };
        var flow = new ReferenceFlow(config);
        Assert.Equal(new[] { 0, 6, 18, 30 }, config.LayerParameterOffsets);
        var p = new double[flow.ParameterCount];
        // ActNorm: ℓ = (0, ln 3, −ln 2), b = (1, −1, 0.5).
        double[] actNorm = [0, Math.Log(3), -Math.Log(2), 1, -1, 0.5];
        // Invertible linear: L₁₀, L₂₀, L₂₁ = 0.5, −1, 2; U₀₁, U₀₂, U₁₂ = 0.3, 0.1, −0.4; ℓ = (0, ln 2, 0); bias = (1, 0, 0).
        double[] linear = [0.5, -1, 2, 0.3, 0.1, -0.4, 0, Math.Log(2), 0, 1, 0, 0];
        actNorm.CopyTo(p, 0);
        linear.CopyTo(p, 6);
        linear.CopyTo(p, 18);
        double[] x = [1, 2, 3];
        var y = new double[3];
        Assert.Equal(Math.Log(3) - Math.Log(2), flow.ForwardLayer(0, p, x, null, y), 14);
        Assert.Equal(new[] { 2.0, 5.0, 2.0 }, y.Select(v => Math.Round(v, 12)));
        // v = (1 + 0.3·2 + 0.1·3, 2·2 − 0.4·3, 3) = (1.9, 2.8, 3); w = (1.9, 2.8 + 0.5·1.9, 3 − 1.9 + 2·2.8) = (1.9, 3.75, 6.7).
        Assert.Equal(Math.Log(2), flow.ForwardLayer(1, p, x, null, y), 14);
        Assert.Equal(new[] { 2.9, 3.75, 6.7 }, y.Select(v => Math.Round(v, 12)));
        // Seed 0, D = 3: π = [2, 0, 1], y_i = w_{π(i)} + bias_i.
        Assert.Equal(new[] { 2, 0, 1 }, flow.Permutation(2));
        flow.ForwardLayer(2, p, x, null, y);
        Assert.Equal(new[] { 7.7, 1.9, 3.75 }, y.Select(v => Math.Round(v, 12)));
    }

    // ------------------------------------------------------------------------------------------------
    // Normalisation in 2-D

    public static IEnumerable<object[]> TwoDimensionalFlows()
    {
        yield return [new FlowConfig { Dim = 2, Layers = 4, Hidden = [8], Permutation = PermutationKind.Reverse, ActNorm = true }];
        yield return [new FlowConfig { Dim = 2, Layers = 3, Coupling = CouplingKind.Additive, Hidden = [6], Activation = global::FlowGen.Activation.Silu, ActNorm = true, InvertibleLinear = true }];
        yield return [new FlowConfig { Dim = 2, Layers = 2, Coupling = CouplingKind.SumOfSquares, Degree = 2, Squares = 2, Hidden = [5], Activation = global::FlowGen.Activation.Gelu }];
        yield return [new FlowConfig { Dim = 2, Layers = 2, Coupling = CouplingKind.DeepSigmoidal, SigmoidUnits = 3, SigmoidLayers = 2, Hidden = [5], Activation = global::FlowGen.Activation.Elu }];
        yield return [new FlowConfig { Dim = 2, Layers = 3, Context = 1, Coupling = CouplingKind.Spline, Bins = 5, Bound = 2.5, Hidden = [6], Activation = Relu }];
        yield return
        [
            new FlowConfig
            {
                Dim = 2,
                Seed = 17,
                Hidden = [4],
                Activation = global::FlowGen.Activation.Softplus,
                Explicit =
                [
                    new CouplingLayer(CouplingKind.Affine) { Clamp = 0, Mask = MaskKind.SingleCoordinate },
                    PermuteLayer.Random(),
                    new CouplingLayer(CouplingKind.Spline) { Bins = 4, Bound = 2 },
                    new InvertibleLinearLayer(),
                    new CouplingLayer(CouplingKind.SumOfSquares) { Degree = 1, Squares = 2, MaskPattern = "01" },
                    new CouplingLayer(CouplingKind.DeepSigmoidal) { SigmoidUnits = 2 },
                ],
            },
        ];
    }

    [Theory]
    [Trait("Category", "Slow")]
    [MemberData(nameof(TwoDimensionalFlows))]
    public void Density_IntegratesToOne_In2D(FlowConfig config)
    {
        var flow = new ReferenceFlow(config);
        double[] parameters = flow.RandomParameters(new Random(config.Layers * 31 + config.Dim), 0.6);
        double[]? context = config.Context == 0 ? null : [0.7];
        const double limit = 9, h = 0.05;
        int steps = (int)Math.Round(2 * limit / h);
        double total = 0;
        var x = new double[2];
        for (int i = 0; i <= steps; i++)
        {
            x[0] = -limit + i * h;
            for (int j = 0; j <= steps; j++)
            {
                x[1] = -limit + j * h;
                total += Math.Exp(flow.LogProb(parameters, x, context));
            }
        }
        total *= h * h;
        Assert.True(Math.Abs(total - 1) < 1e-3, $"∫ p = {total}: {config.Describe()}");
    }

    // ------------------------------------------------------------------------------------------------
    // Transformers

    private static double[] SplineIdentityTheta(int bins)
    {
        var theta = new double[3 * bins - 1];
        for (int k = 2 * bins; k < theta.Length; k++) theta[k] = Math.Log(Math.Exp(1 - ReferenceFlow.SplineMinDerivative) - 1);
        return theta;
    }

    [Theory]
    [InlineData(1, 3.0)]
    [InlineData(2, 1.0)]
    [InlineData(5, 3.0)]
    [InlineData(8, 2.5)]
    public void Spline_IsIdentity_AtIdentityParameters(int bins, double bound)
    {
        double[] theta = SplineIdentityTheta(bins);
        SplineGeometry g = ReferenceFlow.Geometry(theta, bins, bound);
        var points = new List<double>(g.Xs) { -bound - 1, bound + 1, -bound, bound };
        for (int i = 0; i <= 200; i++) points.Add(-bound - 0.5 + (2 * bound + 1) * i / 200.0);
        foreach (double x in points)
        {
            double y = ReferenceFlow.Spline(x, theta, bins, bound, out double logDerivative);
            Assert.Equal(x, y, 12);
            Assert.Equal(0, logDerivative, 12);
            double back = ReferenceFlow.SplineInverse(x, theta, bins, bound, out double inverseLog);
            Assert.Equal(x, back, 12);
            Assert.Equal(0, inverseLog, 12);
        }
    }

    [Fact]
    public void SplineFlow_IsIdentity_AtIdentityParameters()
    {
        var config = new FlowConfig { Dim = 5, Layers = 4, Coupling = CouplingKind.Spline, Bins = 6, Hidden = [7, 3], Context = 2, Permutation = PermutationKind.Random };
        var flow = new ReferenceFlow(config);
        var rng = new Random(3);
        double[] parameters = flow.IdentityParameters(rng);
        double[] x = ReferenceFlow.Gaussians(rng, 5, 2);
        var z = new double[5];
        double logDet = flow.Forward(parameters, x, [0.3, -1.2], z);
        Assert.Equal(0, logDet, 12);
        // Only the permutations act: z is x permuted by the composition of the permutations.
        double[] expected = x;
        for (int l = 0; l < flow.Layers.Count; l++)
        {
            if (flow.Layers[l].Type != ReferenceLayerType.Permutation) continue;
            int[] pi = flow.Permutation(l);
            expected = pi.Select(i => expected[i]).ToArray();
        }
        for (int i = 0; i < 5; i++) Assert.Equal(expected[i], z[i], 12);
    }

    [Fact]
    public void Spline_IsContinuous_AtKnots_AndMatchesTails()
    {
        var rng = new Random(42);
        for (int trial = 0; trial < 50; trial++)
        {
            int bins = rng.Next(2, 12);
            double bound = 0.5 + 4 * rng.NextDouble();
            double[] theta = ReferenceFlow.Gaussians(rng, 3 * bins - 1, 1.5);
            SplineGeometry g = ReferenceFlow.Geometry(theta, bins, bound);
            Assert.Equal(bound, g.Xs[bins]);
            Assert.Equal(bound, g.Ys[bins]);
            Assert.Equal(bound, g.Xs[bins - 1] + g.Widths[bins - 1], 12);
            Assert.Equal(bound, g.Ys[bins - 1] + g.Heights[bins - 1], 12);
            Assert.All(g.Widths, w => Assert.True(w >= 2 * bound * ReferenceFlow.SplineMinBin * 0.999999));
            Assert.All(g.Derivatives, d => Assert.True(d >= ReferenceFlow.SplineMinDerivative));
            const double eta = 1e-12; // small against the bin widths (≥ 2B·1e-3), so τ′ barely moves
            for (int k = 0; k <= bins; k++)
            {
                double xk = g.Xs[k];
                double at = ReferenceFlow.Spline(xk, theta, bins, bound, out double logAt);
                double below = ReferenceFlow.Spline(xk - eta, theta, bins, bound, out double logBelow);
                double above = ReferenceFlow.Spline(xk + eta, theta, bins, bound, out double logAbove);
                Assert.Equal(g.Ys[k], at, 11);
                Assert.True(Math.Abs(below - at) < 1e-10 && Math.Abs(above - at) < 1e-10, $"jump at knot {k}");
                Assert.Equal(Math.Log(g.Derivatives[k]), logAt, 6);
                Assert.Equal(Math.Log(g.Derivatives[k]), logBelow, 6);
                Assert.Equal(Math.Log(g.Derivatives[k]), logAbove, 6);
            }
        }
    }

    /// <summary>Checks τ increasing on a grid, τ′ > 0, and exp(log τ′) against a central difference of τ.</summary>
    private static void CheckMonotoneWithDerivative(Func<double, (double Value, double LogDerivative)> tau, double from, double to, string what)
    {
        const int n = 1500;
        double previous = double.NegativeInfinity;
        for (int i = 0; i <= n; i++)
        {
            double x = from + (to - from) * i / n;
            (double value, double logDerivative) = tau(x);
            Assert.True(value > previous, $"{what}: not increasing at x = {x}");
            previous = value;
            Assert.True(double.IsFinite(logDerivative), $"{what}: log τ′ not finite at {x}");
            const double h = 1e-7; // small, so that a knot or kink within ±h costs little
            double numerical = (tau(x + h).Value - tau(x - h).Value) / (2 * h);
            double analytic = Math.Exp(logDerivative);
            Assert.True(Math.Abs(numerical - analytic) <= 1e-5 * (1 + analytic), $"{what}: τ′({x}) = {analytic}, numerically {numerical}");
        }
    }

    [Fact]
    public void SumOfSquares_IsMonotone_WithConsistentDerivative_AndIntegralForm()
    {
        var rng = new Random(8);
        for (int trial = 0; trial < 20; trial++)
        {
            int degree = rng.Next(0, 4), squares = rng.Next(1, 5);
            double bound = new[] { 0.5, 1.0, 2.0, 3.0, 5.0 }[rng.Next(5)];
            double[] theta = ReferenceFlow.Gaussians(rng, 1 + squares * (degree + 1), 0.7);
            (double, double) Tau(double x) => (ReferenceFlow.SumOfSquares(x, theta, degree, squares, bound, out double ld), ld);
            CheckMonotoneWithDerivative(Tau, -3 * bound, 3 * bound, $"SoS r={degree} K={squares} B={bound}");
            // τ(0) = c and τ(x) − c = ∫₀ˣ τ′ (Simpson, with τ′(t) = ε + Σₖ qₖ(clamp(t)/B)² written out here), independent of
            // the β convolution and of the tails' formula; x1 inside or beyond the bound
            Assert.Equal(theta[0], ReferenceFlow.SumOfSquares(0, theta, degree, squares, bound, out _), 14);
            double x1 = (2 * rng.NextDouble() - 1) * 2 * bound;
            double Derivative(double t)
            {
                double v = Math.Clamp(t, -bound, bound) / bound, derivative = ReferenceFlow.SumOfSquaresEpsilon;
                for (int k = 0; k < squares; k++)
                {
                    double poly = 0;
                    for (int l = 0; l <= degree; l++) poly += theta[1 + k * (degree + 1) + l] * Math.Pow(v, l);
                    derivative += poly * poly;
                }
                return derivative;
            }
            double Simpson(double from, double to)
            {
                const int m = 2000;
                double sum = 0;
                for (int i = 0; i <= m; i++)
                {
                    double weight = i == 0 || i == m ? 1 : i % 2 == 1 ? 4 : 2;
                    sum += weight * Derivative(from + (to - from) * i / m);
                }
                return sum * (to - from) / m / 3;
            }
            double inner = Math.Clamp(x1, -bound, bound);
            double integral = Simpson(0, inner) + Simpson(inner, x1);
            double value = ReferenceFlow.SumOfSquares(x1, theta, degree, squares, bound, out double logDerivative);
            Assert.Equal(theta[0] + integral, value, 1e-9 * (1 + Math.Abs(value)));
            Assert.Equal(Math.Log(Derivative(x1)), logDerivative, 12);
            for (int i = 0; i < 10; i++)
            {
                double y = 6 * ReferenceFlow.NextGaussian(rng);
                double x = ReferenceFlow.SumOfSquaresInverse(y, theta, degree, squares, bound, out _);
                Assert.Equal(y, ReferenceFlow.SumOfSquares(x, theta, degree, squares, bound, out _), 9);
            }
        }
        Assert.True(double.IsNaN(ReferenceFlow.SumOfSquaresInverse(double.PositiveInfinity, [0, 1], 0, 1, 3, out _)));
        Assert.True(double.IsNaN(ReferenceFlow.SumOfSquaresInverse(double.NaN, [0, 1], 0, 1, 3, out _)));
    }

    [Fact]
    public void SumOfSquares_KnownPolynomial_AndLinearTails()
    {
        // r = 1, K = 1, a = (1, 2), c = 0.5, B = 2, u = x/2: τ′ = ε + (1 + 2u)², τ = 0.5 + εx + x + 2x²/B + (4/3)x³/B² on [−2, 2]
        double[] theta = [0.5, 1, 2];
        const double eps = 1e-3, B = 2;
        double Inside(double x) => 0.5 + eps * x + x + 2 * x * x / B + 4.0 / 3 * x * x * x / (B * B);
        double x = 0.7;
        Assert.Equal(Inside(x), ReferenceFlow.SumOfSquares(x, theta, 1, 1, B, out double ld), 13);
        Assert.Equal(Math.Log(eps + (1 + 2 * x / B) * (1 + 2 * x / B)), ld, 13);
        // beyond the bound: the tangent at ±B, τ′(2) = ε + 9, τ′(−2) = ε + 1
        Assert.Equal(Inside(2) + (eps + 9) * 1.5, ReferenceFlow.SumOfSquares(3.5, theta, 1, 1, B, out ld), 12);
        Assert.Equal(Math.Log(eps + 9), ld, 13);
        Assert.Equal(Inside(-2) + (eps + 1) * -3, ReferenceFlow.SumOfSquares(-5, theta, 1, 1, B, out ld), 12);
        Assert.Equal(Math.Log(eps + 1), ld, 13);
    }

    [Fact]
    [Trait("Category", "Slow")]
    public void DeepSigmoidal_IsMonotone_WithConsistentDerivative_AndMatchesDirectFormula()
    {
        var rng = new Random(9);
        for (int trial = 0; trial < 20; trial++)
        {
            int units = rng.Next(1, 6), blocks = rng.Next(1, 4);
            double[] theta = ReferenceFlow.Gaussians(rng, 3 * units * blocks, 1.0);
            (double, double) Tau(double x) => (ReferenceFlow.DeepSigmoidal(x, theta, units, blocks, out double ld), ld);
            CheckMonotoneWithDerivative(Tau, -5, 5, $"DSF n={units} L={blocks}");
            // One block against the direct formula logit(Σ w σ(a v + b)) for moderate v.
            double v = 2 * rng.NextDouble() - 1;
            double[] a = Enumerable.Range(0, units).Select(j => Math.Log(1 + Math.Exp(theta[j]))).ToArray();
            double[] expW = Enumerable.Range(0, units).Select(j => Math.Exp(theta[2 * units + j])).ToArray();
            double hSum = 0;
            for (int j = 0; j < units; j++) hSum += expW[j] / expW.Sum() / (1 + Math.Exp(-(a[j] * v + theta[units + j])));
            double direct = Math.Log(hSum / (1 - hSum));
            Assert.Equal(direct, ReferenceFlow.DeepSigmoidalBlock(v, theta, 0, units, out _), 10);
            for (int i = 0; i < 10; i++)
            {
                double y = 4 * ReferenceFlow.NextGaussian(rng);
                double x = ReferenceFlow.DeepSigmoidalInverse(y, theta, units, blocks, out double ld);
                Assert.Equal(y, ReferenceFlow.DeepSigmoidal(x, theta, units, blocks, out double forwardLd), 9);
                Assert.Equal(forwardLd, ld, 12);
            }
        }
    }

    [Fact]
    public void DeepSigmoidal_OneUnitAtIdentityParameters_IsIdentity()
    {
        // n = 1, a = 1, b = 0: logit(σ(v)) = v, log out′ = 0.
        double[] theta = [Math.Log(Math.E - 1), 0, 0];
        foreach (double v in new[] { -30.0, -3, -0.5, 0, 0.25, 4, 30 })
        {
            Assert.Equal(v, ReferenceFlow.DeepSigmoidalBlock(v, theta, 0, 1, out double ld), 9);
            Assert.Equal(0, ld, 9);
        }
    }

    [Fact]
    public void Spline_IsMonotone_WithConsistentDerivative_AndInverts()
    {
        var rng = new Random(10);
        for (int trial = 0; trial < 20; trial++)
        {
            int bins = rng.Next(1, 10);
            double bound = 1 + 3 * rng.NextDouble();
            double[] theta = ReferenceFlow.Gaussians(rng, 3 * bins - 1, 1.2);
            (double, double) Tau(double x) => (ReferenceFlow.Spline(x, theta, bins, bound, out double ld), ld);
            CheckMonotoneWithDerivative(Tau, -bound - 1, bound + 1, $"spline K={bins} B={bound}");
            for (int i = 0; i <= 100; i++)
            {
                double y = -bound - 0.5 + (2 * bound + 1) * i / 100.0;
                double x = ReferenceFlow.SplineInverse(y, theta, bins, bound, out double ld);
                Assert.Equal(y, ReferenceFlow.Spline(x, theta, bins, bound, out double forwardLd), 11);
                Assert.Equal(forwardLd, ld, 9);
            }
        }
    }

    [Fact]
    public void Affine_Clamp()
    {
        Assert.Equal(7.5, ReferenceFlow.ClampedLogScale(7.5, 0));
        Assert.Equal(2 * Math.Tanh(1.5), ReferenceFlow.ClampedLogScale(3, 2), 15);
        Assert.True(Math.Abs(ReferenceFlow.ClampedLogScale(1e6, 1.5)) <= 1.5);
        double y = ReferenceFlow.Affine(2, 3, 0.5, 2, out double ld);
        Assert.Equal(2 * Math.Exp(2 * Math.Tanh(1.5)) + 0.5, y, 13);
        Assert.Equal(2 * Math.Tanh(1.5), ld, 15);
        Assert.Equal(2, ReferenceFlow.AffineInverse(y, 3, 0.5, 2, out _), 13);
    }

    [Fact]
    public void Activations_MatchDefinitions()
    {
        Assert.Equal(0, ReferenceFlow.Activate(Relu, -2));
        Assert.Equal(1.5, ReferenceFlow.Activate(Relu, 1.5));
        Assert.Equal(Math.Tanh(0.3), ReferenceFlow.Activate(global::FlowGen.Activation.Tanh, 0.3));
        Assert.Equal(Math.Log(1 + Math.Exp(0.3)), ReferenceFlow.Activate(global::FlowGen.Activation.Softplus, 0.3), 15);
        Assert.Equal(800, ReferenceFlow.Activate(global::FlowGen.Activation.Softplus, 800));
        Assert.Equal(Math.Exp(-800), ReferenceFlow.Activate(global::FlowGen.Activation.Softplus, -800));
        Assert.Equal(Math.Exp(-0.5) - 1, ReferenceFlow.Activate(global::FlowGen.Activation.Elu, -0.5), 15);
        Assert.Equal(0.5, ReferenceFlow.Activate(global::FlowGen.Activation.Elu, 0.5));
        // GELU (tanh form) at 1: ½(1 + tanh(√(2/π)·1.044715)) = 0.8411919906082768 (PyTorch approximate='tanh').
        Assert.Equal(0.8411919906082768, ReferenceFlow.Activate(global::FlowGen.Activation.Gelu, 1), 14);
        Assert.Equal(1 / (1 + Math.Exp(-1)), ReferenceFlow.Activate(global::FlowGen.Activation.Silu, 1), 15);
        Assert.Equal(1e-20, ReferenceFlow.Log1P(1e-20));
    }

    // ------------------------------------------------------------------------------------------------
    // Masks, permutations, seeds

    private static (int[] A, int[] B)[] Masks(FlowConfig config) =>
        config.Resolve().Where(r => r.Type == ReferenceLayerType.Coupling).Select(r => (r.Kept, r.Transformed)).ToArray();

    [Fact]
    public void Masks_Halves_OddDim()
    {
        var masks = Masks(new FlowConfig { Dim = 5, Layers = 3, Hidden = [] });
        Assert.Equal(new[] { 0, 1 }, masks[0].A);
        Assert.Equal(new[] { 2, 3, 4 }, masks[0].B);
        Assert.Equal(new[] { 2, 3, 4 }, masks[1].A);
        Assert.Equal(new[] { 0, 1 }, masks[1].B);
        Assert.Equal(masks[0].A, masks[2].A);
    }

    [Fact]
    public void Masks_Parity_OddDim()
    {
        var masks = Masks(new FlowConfig { Dim = 5, Layers = 2, Mask = MaskKind.Checkerboard, Hidden = [] });
        Assert.Equal(new[] { 0, 2, 4 }, masks[0].A);
        Assert.Equal(new[] { 1, 3 }, masks[0].B);
        Assert.Equal(new[] { 1, 3 }, masks[1].A);
        Assert.Equal(new[] { 0, 2, 4 }, masks[1].B);
    }

    [Fact]
    public void Masks_SingleCoordinate_CyclesOrUsesCoordinate()
    {
        var masks = Masks(new FlowConfig { Dim = 3, Layers = 5, Mask = MaskKind.SingleCoordinate, Hidden = [] });
        Assert.Equal(new[] { 0, 1, 2, 0, 1 }, masks.Select(m => m.B.Single()));
        Assert.Equal(new[] { 1, 2 }, masks[0].A);
        var explicitMasks = Masks(new FlowConfig
        {
            Dim = 3,
            Mask = MaskKind.SingleCoordinate,
            Hidden = [],
            Explicit = [new CouplingLayer(CouplingKind.Affine) { Coordinate = 2 }, new CouplingLayer(CouplingKind.Additive), new CouplingLayer(CouplingKind.Affine) { Coordinate = 2 }],
        });
        Assert.Equal(new[] { 2, 1, 2 }, explicitMasks.Select(m => m.B.Single()));
    }

    [Fact]
    public void Masks_FlowPattern_IsComplementedOnOddCouplings_LayerPatternIsNot()
    {
        var uniform = Masks(new FlowConfig { Dim = 5, Layers = 3, MaskPattern = "11010", Hidden = [] });
        Assert.Equal(new[] { 0, 1, 3 }, uniform[0].A);
        Assert.Equal(new[] { 2, 4 }, uniform[0].B);
        Assert.Equal(new[] { 2, 4 }, uniform[1].A);
        Assert.Equal(new[] { 0, 1, 3 }, uniform[1].B);
        Assert.Equal(new[] { 0, 1, 3 }, uniform[2].A);

        // Coupling numbers count couplings only (permutations / ActNorm in between do not count).
        var config = new FlowConfig
        {
            Dim = 5,
            MaskPattern = "11010",
            Hidden = [],
            Explicit =
            [
                PermuteLayer.Reverse(),
                new CouplingLayer(CouplingKind.Affine),
                new ActNormLayer(),
                new CouplingLayer(CouplingKind.Affine),
                new CouplingLayer(CouplingKind.Affine) { MaskPattern = "10000" },
                new CouplingLayer(CouplingKind.Affine) { MaskPattern = "10000" },
            ],
        };
        var layers = config.Resolve();
        Assert.Equal(new[] { 1, 3, 4, 5 }, layers.Where(r => r.Type == ReferenceLayerType.Coupling).Select(r => r.StackIndex));
        Assert.Equal(new[] { 0, 1, 2, 3 }, layers.Where(r => r.Type == ReferenceLayerType.Coupling).Select(r => r.CouplingNumber));
        var masks = Masks(config);
        Assert.Equal(new[] { 0, 1, 3 }, masks[0].A);
        Assert.Equal(new[] { 2, 4 }, masks[1].A);
        Assert.Equal(new[] { 0 }, masks[2].A);
        Assert.Equal(new[] { 0 }, masks[3].A);
        Assert.Equal(new[] { 1, 2, 3, 4 }, masks[3].B);
    }

    [Fact]
    public void Masks_LayerMaskOverridesFlowMask()
    {
        var masks = Masks(new FlowConfig
        {
            Dim = 4,
            Mask = MaskKind.Parity,
            Hidden = [],
            Explicit = [new CouplingLayer(CouplingKind.Affine) { Mask = MaskKind.Halves }, new CouplingLayer(CouplingKind.Affine), new CouplingLayer(CouplingKind.Affine) { Mask = MaskKind.Halves }],
        });
        Assert.Equal(new[] { 0, 1 }, masks[0].A);
        Assert.Equal(new[] { 1, 3 }, masks[1].A);
        Assert.Equal(new[] { 0, 1 }, masks[2].A);
    }

    [Fact]
    public void SplitMix64_FirstOutputForSeedZero()
    {
        ulong state = 0;
        Assert.Equal(0xE220A8397B1DCDAFUL, ReferenceFlow.SplitMix64Next(ref state));
        Assert.Equal(0x9E3779B97F4A7C15UL, state);
    }

    [Fact]
    public void RandomPermutation_PinnedValues()
    {
        // Values traced independently of this code (SplitMix64 + Fisher–Yates exactly as in docs/model.md §4).
        Assert.Equal(new[] { 2, 3, 1, 4, 0 }, ReferenceFlow.RandomPermutation(5, 0));
        Assert.Equal(new[] { 3, 1, 6, 2, 4, 0, 7, 5 }, ReferenceFlow.RandomPermutation(8, 42));
        Assert.Equal(new[] { 2, 1, 3, 0 }, ReferenceFlow.RandomPermutation(4, -1));
        Assert.Equal(new[] { 8, 6, 7, 2, 1, 3, 9, 5, 0, 4 }, ReferenceFlow.RandomPermutation(10, 12345));
    }

    [Fact]
    public void Permutations_SeedsFollowStackIndex()
    {
        // Uniform: C0(l=0) P(l=1) C1(l=2) P(l=3) C2(l=4); Seed 0 → seeds 1 and 3.
        var uniform = new ReferenceFlow(new FlowConfig { Dim = 5, Layers = 3, Permutation = PermutationKind.Random, Hidden = [] });
        Assert.Equal(5, uniform.Layers.Count);
        Assert.Equal(new[] { 2, 1, 4, 3, 0 }, uniform.Permutation(1));
        Assert.Equal(new[] { 2, 4, 0, 1, 3 }, uniform.Permutation(3));

        var negative = new ReferenceFlow(new FlowConfig { Dim = 4, Layers = 2, Seed = -1000, Permutation = PermutationKind.Random, Hidden = [] });
        Assert.Equal(new[] { 1, 3, 2, 0 }, negative.Permutation(1)); // seed −999

        var config = new FlowConfig
        {
            Dim = 6,
            Seed = 100,
            Hidden = [],
            Explicit =
            [
                new CouplingLayer(CouplingKind.Affine),
                PermuteLayer.Random(), // l = 1 → seed 101
                new ActNormLayer(),
                new InvertibleLinearLayer(), // l = 3 → seed 103
                PermuteLayer.Random(11), // explicit seed 11
                new InvertibleLinearLayer { Permute = false }, // P = identity
                PermuteLayer.Reverse(),
                PermuteLayer.Explicit(1, 0, 3, 2, 5, 4),
                new CouplingLayer(CouplingKind.Affine),
            ],
        };
        var flow = new ReferenceFlow(config);
        Assert.Equal(new[] { 5, 4, 0, 2, 1, 3 }, flow.Permutation(1));
        Assert.Equal(new[] { 1, 3, 5, 2, 4, 0 }, flow.Permutation(3));
        Assert.Equal(new[] { 5, 4, 2, 1, 0, 3 }, flow.Permutation(4));
        Assert.Equal(new[] { 0, 1, 2, 3, 4, 5 }, flow.Permutation(5));
        Assert.Equal(new[] { 5, 4, 3, 2, 1, 0 }, flow.Permutation(6));
        Assert.Equal(new[] { 1, 0, 3, 2, 5, 4 }, flow.Permutation(7));
        Assert.Throws<ArgumentException>(() => flow.Permutation(0));

        // y_i = x_{π(i)}.
        double[] x = [10, 11, 12, 13, 14, 15];
        var y = new double[6];
        flow.ForwardLayer(1, new double[flow.ParameterCount], x, null, y);
        Assert.Equal(new double[] { 15, 14, 10, 12, 11, 13 }, y);
    }

    [Fact]
    public void UniformStack_Expansion()
    {
        var config = new FlowConfig { Dim = 4, Layers = 3, ActNorm = true, InvertibleLinear = true, Permutation = PermutationKind.Reverse, Coupling = CouplingKind.Spline, Hidden = [] };
        Assert.Equal(
            new[] { "ActNorm", "InvertibleLinear", "Coupling", "Permutation", "ActNorm", "InvertibleLinear", "Coupling", "Permutation", "ActNorm", "InvertibleLinear", "Coupling" },
            config.Resolve().Select(r => r.Type.ToString()));
        Assert.All(config.Resolve().Where(r => r.Type == ReferenceLayerType.Coupling), r => Assert.Equal(CouplingKind.Spline, r.Kind));
        Assert.Equal(3, new FlowConfig { Dim = 4, Layers = 3, Permutation = PermutationKind.None }.Resolve().Count);
    }

    // ------------------------------------------------------------------------------------------------
    // Inheritance, equivalence of the two stack forms

    [Fact]
    public void LayerOptions_OverrideOrInherit()
    {
        var config = new FlowConfig
        {
            Dim = 4,
            Hidden = [3],
            Activation = Relu,
            Clamp = 1.5,
            Bins = 5,
            Explicit =
            [
                new CouplingLayer(CouplingKind.Affine) { Clamp = 0, Activation = global::FlowGen.Activation.Tanh },
                new CouplingLayer(CouplingKind.Affine),
                new CouplingLayer(CouplingKind.Spline) { Hidden = [], Bound = 1 },
            ],
        };
        var layers = config.Resolve();
        Assert.Equal(0, layers[0].Clamp);
        Assert.Equal(global::FlowGen.Activation.Tanh, layers[0].Activation);
        Assert.Equal(1.5, layers[1].Clamp);
        Assert.Equal(Relu, layers[1].Activation);
        Assert.Equal(new[] { 3 }, layers[1].Hidden);
        Assert.Empty(layers[2].Hidden);
        Assert.Equal(5, layers[2].Bins);
        Assert.Equal(1, layers[2].Bound);
    }

    [Fact]
    public void UniformAndExplicitForms_AreTheSameFlow()
    {
        var generator = new ConfigGenerator(5, new ConfigGeneratorOptions { AllowExplicit = false });
        var rng = new Random(6);
        for (int n = 0; n < 30; n++)
        {
            FlowConfig uniform = generator.Next();
            FlowConfig explicitForm = uniform.ToExplicit();
            Assert.False(explicitForm.IsUniform);
            var a = new ReferenceFlow(uniform);
            var b = new ReferenceFlow(explicitForm);
            Assert.Equal(a.ParameterCount, b.ParameterCount);
            double[] parameters = a.RandomParameters(rng, 0.7);
            double[] x = ReferenceFlow.Gaussians(rng, uniform.Dim);
            double[]? context = ContextOrNull(RandomContext(rng, uniform));
            var za = new double[uniform.Dim];
            var zb = new double[uniform.Dim];
            Assert.Equal(a.Forward(parameters, x, context, za), b.Forward(parameters, x, context, zb));
            Assert.Equal(za, zb);
        }
    }

    // ------------------------------------------------------------------------------------------------
    // Parameter layout

    [Fact]
    public void ParameterCount_Dim8_12Affine_Hidden64x64()
    {
        var config = new FlowConfig { Dim = 8, Layers = 12, Hidden = [64, 64] };
        // Each coupling: 4 → 64 → 64 → 8 = (4·64 + 64) + (64·64 + 64) + (64·8 + 8) = 320 + 4160 + 520 = 5000.
        // (The task brief said 4424 / 53 088; that arithmetic is wrong: 320 + 4160 + 520 = 5000.)
        Assert.Equal(60000, config.ParameterCount);
        Assert.Equal(Enumerable.Range(0, 12).Select(i => 5000 * i), config.LayerParameterOffsets);
        Assert.Equal(60000, new FlowConfig { Dim = 8, Layers = 12 }.ParameterCount); // Hidden defaults to {64, 64}
    }

    [Fact]
    public void ParameterCount_HandComputed()
    {
        // AN(2·4 = 8), IL(4·3 + 2·4 = 20), spline coupling: 2 → 3 → (3·4 − 1)·2 = 22: (2·3 + 3) + (3·22 + 22) = 97.
        var uniform = new FlowConfig { Dim = 4, Layers = 2, Hidden = [3], ActNorm = true, InvertibleLinear = true, Coupling = CouplingKind.Spline, Bins = 4 };
        Assert.Equal(250, uniform.ParameterCount);
        Assert.Equal(new[] { 0, 8, 28, 125, 133, 153 }, uniform.LayerParameterOffsets);

        // SoS, D = 3, C = 2, single coordinate: input 2 + 2 = 4, P = 1 + 3·(2+1) = 10, |B| = 1: 4·10 + 10 = 50.
        var sos = new FlowConfig { Dim = 3, Context = 2, Hidden = [], Explicit = [new CouplingLayer(CouplingKind.SumOfSquares) { Mask = MaskKind.SingleCoordinate }] };
        Assert.Equal(50, sos.ParameterCount);

        // DSF, D = 6 parity, n = 4, L = 2: P = 24, |B| = 3 → 72 outputs; 3 → 5 → 72: (3·5 + 5) + (5·72 + 72) = 452.
        var dsf = new FlowConfig { Dim = 6, Mask = MaskKind.Parity, Hidden = [5], Layers = 1, Coupling = CouplingKind.DeepSigmoidal, SigmoidUnits = 4, SigmoidLayers = 2 };
        Assert.Equal(452, dsf.ParameterCount);

        // Affine + permutation + additive, D = 5 halves, C = 1: c0: 2+1 → 7 → 6: 21+7 + 42+6 = 76; c1: 3+1 → 7 → 2: 28+7 + 14+2 = 51.
        var mixed = new FlowConfig { Dim = 5, Context = 1, Hidden = [7], Explicit = [new CouplingLayer(CouplingKind.Affine), PermuteLayer.Reverse(), new CouplingLayer(CouplingKind.Additive)] };
        Assert.Equal(127, mixed.ParameterCount);
        Assert.Equal(new[] { 0, 76, 76 }, mixed.LayerParameterOffsets);
    }

    [Fact]
    public void Conditioner_UsesInputMajorWeights_AndOutputLayout()
    {
        // D = 3 single coordinate 2 (A = {0, 1}), no hidden layer, affine: o = u·W + bias with W[i, j] at i·2 + j.
        var config = new FlowConfig { Dim = 3, Hidden = [], Explicit = [new CouplingLayer(CouplingKind.Affine) { Mask = MaskKind.SingleCoordinate, Coordinate = 2 }] };
        var flow = new ReferenceFlow(config);
        double[] p = [0.1, 0.2, 0.3, 0.4, 0.05, -0.5];
        double[] x = [1, 2, 3];
        double[] o = flow.ConditionerOutput(0, p, x, null);
        Assert.Equal(1 * 0.1 + 2 * 0.3 + 0.05, o[0], 14); // s
        Assert.Equal(1 * 0.2 + 2 * 0.4 - 0.5, o[1], 14); // t
        var z = new double[3];
        double logDet = flow.Forward(p, x, null, z);
        double s = 2 * Math.Tanh(o[0] / 2);
        Assert.Equal(3 * Math.Exp(s) + o[1], z[2], 13);
        Assert.Equal(s, logDet, 14);
        Assert.Equal(1, z[0]);
        Assert.Equal(2, z[1]);
    }

    [Fact]
    public void Validate_RejectsInvalidAndAmbiguousConfigs()
    {
        Assert.Throws<ArgumentException>(() => new FlowConfig { Dim = 1, Layers = 1 }.Validate());
        Assert.Throws<ArgumentException>(() => new FlowConfig { Dim = 4, Layers = 0 }.Validate());
        Assert.Throws<ArgumentException>(() => new FlowConfig { Dim = 4, Layers = 1, MaskPattern = "1111" }.Validate());
        Assert.Throws<ArgumentException>(() => new FlowConfig { Dim = 4, Layers = 1, MaskPattern = "110" }.Validate());
        Assert.Throws<ArgumentException>(() => new FlowConfig { Dim = 4, Layers = 2, Explicit = [new CouplingLayer(CouplingKind.Affine)] }.Validate());
        Assert.Throws<ArgumentException>(() => new FlowConfig { Dim = 4, ActNorm = true, Explicit = [new CouplingLayer(CouplingKind.Affine)] }.Validate());
        Assert.Throws<ArgumentException>(() => new FlowConfig { Dim = 4, Explicit = [new CouplingLayer(CouplingKind.Additive) { Clamp = 1 }] }.Validate());
        Assert.Throws<ArgumentException>(() => new FlowConfig { Dim = 4, Explicit = [new CouplingLayer(CouplingKind.Affine), PermuteLayer.Explicit(0, 1, 1, 2)] }.Validate());
        Assert.Throws<ArgumentException>(() => new FlowConfig { Dim = 4, MaskPattern = "1100", Explicit = [new CouplingLayer(CouplingKind.Affine) { Mask = MaskKind.Parity }] }.Validate());
        Assert.Throws<ArgumentException>(() => new FlowConfig { Dim = 4, Explicit = [new CouplingLayer(CouplingKind.Affine) { Mask = MaskKind.Parity, MaskPattern = "1100" }] }.Validate());
        Assert.Throws<ArgumentException>(() => new FlowConfig { Dim = 4, Explicit = [new CouplingLayer(CouplingKind.Affine) { Mask = MaskKind.Parity, Coordinate = 1 }] }.Validate());
        Assert.Throws<ArgumentException>(() => new FlowConfig { Dim = 4, Explicit = [new CouplingLayer(CouplingKind.Affine), PermuteLayer.Random(-1)] }.Validate());
        Assert.Throws<ArgumentException>(() => new FlowConfig { Dim = 4, Explicit = [new CouplingLayer(CouplingKind.Affine), new PermuteLayer { Kind = PermutationKind.None }] }.Validate());
        new FlowConfig { Dim = 4, Layers = 1, Explicit = [new CouplingLayer(CouplingKind.Affine)] }.Validate();
    }

    // ------------------------------------------------------------------------------------------------
    // Config generator and rendering

    [Fact]
    public void ConfigGenerator_CoversTheFeatureSpace_AndRespectsLimits()
    {
        var configs = new ConfigGenerator(1).Take(400);
        var layers = configs.SelectMany(c => c.Resolve()).ToList();
        foreach (CouplingKind kind in ConfigGeneratorOptions.AllKinds) Assert.Contains(layers, r => r.Type == ReferenceLayerType.Coupling && r.Kind == kind);
        foreach (global::FlowGen.Activation a in Enum.GetValues<global::FlowGen.Activation>()) Assert.Contains(layers, r => r.Type == ReferenceLayerType.Coupling && r.Activation == a);
        Assert.Contains(configs, c => c.IsFloat);
        Assert.Contains(configs, c => !c.IsFloat);
        Assert.Contains(configs, c => c.IsUniform);
        Assert.Contains(configs, c => !c.IsUniform);
        Assert.Contains(configs, c => c.Context > 0);
        Assert.Contains(configs, c => c.Dim % 2 == 1);
        Assert.Contains(configs, c => c.Dim % 2 == 0);
        Assert.Contains(configs, c => c.Dim > 20);
        Assert.Contains(configs, c => c.CouplingCount > 8);
        Assert.Contains(configs, c => c.MaskPattern != null);
        Assert.Contains(layers, r => r.Type == ReferenceLayerType.ActNorm);
        Assert.Contains(layers, r => r.Type == ReferenceLayerType.InvertibleLinear && r.ShuffleSeed == null);
        Assert.Contains(layers, r => r.Type == ReferenceLayerType.InvertibleLinear && r.ShuffleSeed != null);
        Assert.Contains(layers, r => r.Type == ReferenceLayerType.Permutation && r.Order != null);
        Assert.Contains(layers, r => r.Type == ReferenceLayerType.Permutation && r.PermutationKind == PermutationKind.Reverse);
        Assert.Contains(layers, r => r.Type == ReferenceLayerType.Permutation && r.PermutationKind == PermutationKind.Random);
        Assert.Contains(layers, r => r.Type == ReferenceLayerType.Coupling && r.Clamp == 0);
        Assert.Contains(layers, r => r.Type == ReferenceLayerType.Coupling && r.Hidden.Length == 0);
        Assert.Contains(layers, r => r.Type == ReferenceLayerType.Coupling && r.Hidden.Length == 3);
        var explicitCouplings = configs.Where(c => !c.IsUniform).SelectMany(c => c.Explicit!.OfType<CouplingLayer>()).ToList();
        Assert.Contains(explicitCouplings, l => l.Coordinate != null);
        Assert.Contains(explicitCouplings, l => l.Mask == MaskKind.SingleCoordinate && l.Coordinate == null);
        Assert.Contains(explicitCouplings, l => l.MaskPattern != null);
        Assert.Contains(explicitCouplings, l => l.Clamp == 0);
        Assert.Contains(explicitCouplings, l => l.Hidden == null);
        Assert.Contains(explicitCouplings, l => l.Hidden != null);
        Assert.All(configs, c =>
        {
            Assert.InRange(c.Dim, 2, 33);
            Assert.InRange(c.CouplingCount, 1, 16);
            Assert.InRange(c.Context, 0, 4);
            Assert.True(c.ParameterCount <= 20000);
        });

        var restricted = new ConfigGenerator(2, CouplingKind.Affine, CouplingKind.Additive).Take(100);
        Assert.All(restricted.SelectMany(c => c.Resolve()).Where(r => r.Type == ReferenceLayerType.Coupling),
            r => Assert.True(r.Kind is CouplingKind.Affine or CouplingKind.Additive));
        Assert.Equal(ConfigGenerator.FromSeed(1234).Describe(), ConfigGenerator.FromSeed(1234).Describe());
    }

    [Fact]
    public void ToAttributeSource_CanonicalExample()
    {
        var config = new FlowConfig
        {
            Dim = 5,
            Hidden = [7],
            Activation = Relu,
            Explicit = [new CouplingLayer(CouplingKind.Affine) { Mask = MaskKind.Parity }, PermuteLayer.Reverse(), new CouplingLayer(CouplingKind.Additive) { Clamp = null }],
        };
        Assert.Equal(
            "[global::FlowGen.CouplingFlow<double>(Dim = 5, Hidden = new int[] { 7 }, Activation = global::FlowGen.Activation.Relu)]\n" +
            "[global::FlowGen.AffineCoupling(Mask = global::FlowGen.MaskKind.Parity)]\n" +
            "[global::FlowGen.Permute(global::FlowGen.PermutationKind.Reverse)]\n" +
            "[global::FlowGen.AdditiveCoupling]\n" +
            "public partial class Flow17 { }\n",
            config.ToAttributeSource("Flow17"));
        // Clamp has no effect on a uniform Spline stack (FlowGen would warn, FG0020): not written
        var floatUniform = new FlowConfig { Precision = "float", Dim = 3, Layers = 2, Clamp = 1.5, Bound = 2, Coupling = CouplingKind.Spline, Hidden = [] };
        Assert.Equal(
            "[global::FlowGen.CouplingFlow(Dim = 3, Layers = 2, Coupling = global::FlowGen.CouplingKind.Spline, Hidden = new int[] { }, Bound = 2.0)]\n" +
            "public partial class F { }\n",
            floatUniform.ToAttributeSource("F"));
    }

    /// <summary>
    /// Renders many generated configs, compiles them with Roslyn against FlowGen.Runtime (no generator), reads the
    /// attributes back and checks that they describe the same flow (same resolved layers, options, masks and seeds).
    /// </summary>
    [Fact]
    public void ToAttributeSource_CompilesAndReadsBackAsTheSameFlow()
    {
        List<FlowConfig> configs = new ConfigGenerator(77).Take(150);
        configs.Add(new FlowConfig { Dim = 4, Layers = 2, Hidden = [] , RenderStyle = 5 });
        string source = "namespace RenderCheck;\n" + string.Concat(configs.Select((c, i) => c.ToAttributeSource("Flow" + i)));
        var references = Basic.Reference.Assemblies.Net100.References.All
            .Append(MetadataReference.CreateFromFile(typeof(global::FlowGen.CouplingFlowAttribute).Assembly.Location));
        var compilation = CSharpCompilation.Create(
            "RenderCheck",
            [CSharpSyntaxTree.ParseText(source, new CSharpParseOptions(LanguageVersion.Latest))],
            references,
            new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary));
        var errors = compilation.GetDiagnostics().Where(d => d.Severity == DiagnosticSeverity.Error).ToList();
        Assert.True(errors.Count == 0, string.Join("\n", errors.Take(10)));
        for (int i = 0; i < configs.Count; i++)
        {
            INamedTypeSymbol type = compilation.GetTypeByMetadataName("RenderCheck.Flow" + i)!;
            FlowConfig readBack = ReadBack(type.GetAttributes());
            FlowConfig expected = configs[i] with { RenderStyle = 0, Origin = null };
            Assert.True(expected.Describe() == readBack.Describe(),
                $"rendered:\n{configs[i].ToAttributeSource("Flow" + i)}expected {expected.Describe()}\nread back {readBack.Describe()}");
            Assert.Equal(expected.IsUniform, readBack.IsUniform);
        }
    }

    /// <summary>A minimal reader of the attribute surface (test-only, mirrors Attributes.cs).</summary>
    private static FlowConfig ReadBack(IEnumerable<AttributeData> attributes)
    {
        var config = new FlowConfig();
        var layers = new List<FlowLayer>();
        foreach (AttributeData attribute in attributes)
        {
            string name = attribute.AttributeClass!.Name;
            var named = attribute.NamedArguments.ToDictionary(kv => kv.Key, kv => kv.Value);
            T? Get<T>(string key) where T : struct => named.TryGetValue(key, out TypedConstant v) ? (T)v.Value! : null;
            int[]? Ints(string key) => named.TryGetValue(key, out TypedConstant v) ? v.Values.Select(e => (int)e.Value!).ToArray() : null;
            switch (name)
            {
                case "CouplingFlowAttribute":
                    bool isGeneric = attribute.AttributeClass.IsGenericType;
                    Assert.True(!isGeneric || attribute.AttributeClass.TypeArguments[0].SpecialType == SpecialType.System_Double);
                    config = config with
                    {
                        Precision = isGeneric ? "double" : "float",
                        Dim = Get<int>("Dim") ?? 0,
                        Layers = Get<int>("Layers") ?? 0,
                        Context = Get<int>("ContextDim") ?? Get<int>("Context") ?? 0,
                        Seed = Get<int>("Seed") ?? 0,
                        Coupling = (CouplingKind)(Get<int>("Coupling") ?? 0),
                        Mask = (MaskKind)(Get<int>("Mask") ?? 0),
                        MaskPattern = named.TryGetValue("MaskPattern", out TypedConstant p) ? (string)p.Value! : null,
                        Hidden = Ints("Hidden") ?? FlowConfig.DefaultHidden,
                        Activation = (global::FlowGen.Activation)(Get<int>("Activation") ?? 0),
                        Permutation = (PermutationKind)(Get<int>("Permutation") ?? 0),
                        ActNorm = Get<bool>("ActNorm") ?? false,
                        InvertibleLinear = Get<bool>("InvertibleLinear") ?? false,
                        InvertibleLinearPermute = Get<bool>("InvertibleLinearPermute") ?? true,
                        Clamp = Get<double>("Clamp") ?? 2.0,
                        Degree = Get<int>("Degree") ?? 2,
                        Squares = Get<int>("Squares") ?? 3,
                        SigmoidUnits = Get<int>("SigmoidUnits") ?? 8,
                        SigmoidLayers = Get<int>("SigmoidLayers") ?? 1,
                        Bins = Get<int>("Bins") ?? 8,
                        Bound = Get<double>("Bound") ?? 3.0,
                    };
                    break;
                case "AffineCouplingAttribute":
                case "AdditiveCouplingAttribute":
                case "SumOfSquaresCouplingAttribute":
                case "DeepSigmoidalCouplingAttribute":
                case "SplineCouplingAttribute":
                    layers.Add(new CouplingLayer(Enum.Parse<CouplingKind>(name[..^"CouplingAttribute".Length]))
                    {
                        Mask = Get<int>("Mask") is int m ? (MaskKind)m : null,
                        MaskPattern = named.TryGetValue("MaskPattern", out TypedConstant lp) ? (string)lp.Value! : null,
                        Coordinate = Get<int>("Coordinate"),
                        Hidden = Ints("Hidden"),
                        Activation = Get<int>("Activation") is int a ? (global::FlowGen.Activation)a : null,
                        Clamp = Get<double>("Clamp"),
                        Degree = Get<int>("Degree"),
                        Squares = Get<int>("Squares"),
                        SigmoidUnits = Get<int>("SigmoidUnits"),
                        SigmoidLayers = Get<int>("SigmoidLayers"),
                        Bins = Get<int>("Bins"),
                        Bound = Get<double>("Bound"),
                    });
                    break;
                case "PermuteAttribute":
                    TypedConstant argument = attribute.ConstructorArguments[0];
                    layers.Add(argument.Kind == TypedConstantKind.Array
                        ? PermuteLayer.Explicit(argument.Values.Select(e => (int)e.Value!).ToArray())
                        : new PermuteLayer { Kind = (PermutationKind)(int)argument.Value!, Seed = Get<int>("Seed") });
                    break;
                case "ActNormAttribute":
                    layers.Add(new ActNormLayer());
                    break;
                case "InvertibleLinearAttribute":
                    layers.Add(new InvertibleLinearLayer { Seed = Get<int>("Seed"), Permute = Get<bool>("Permute") ?? true });
                    break;
                default:
                    throw new InvalidOperationException("unexpected attribute " + name);
            }
        }
        return layers.Count == 0 ? config : config with { Explicit = layers };
    }

    [Fact]
    public void Describe_IsOneLine_AndMentionsOrigin()
    {
        FlowConfig config = ConfigGenerator.FromSeed(3);
        string description = config.Describe();
        Assert.DoesNotContain("\n", description);
        Assert.Contains("FromSeed(3)", description);
        Assert.Contains(config.Precision, description);
        Assert.Equal(description, config.ToString());
        Assert.Equal(config.Describe(), ConfigGenerator.FromSeed(3).Describe());
    }
}
