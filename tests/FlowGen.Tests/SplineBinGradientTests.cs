using System;
using FlowGen.Tests.Models;
using FlowGen.Tests.Reference;

namespace FlowGen.Tests;

/// <summary>
/// The spline's parameter gradient bin by bin, against central differences of the double reference
/// (<see cref="ReferenceFlow.Spline"/>): the generated backward pass selects the raw derivative parameters of the bin's two
/// knots only (δ = 1 at ±B has none), so the first and last bins, where one of the two knots is a boundary, and the
/// parameters of every other knot (whose gradient must be exactly 0) are checked in every bin, at a point inside it.
/// </summary>
public class SplineBinGradientTests
{
    private const int Bins = 7;
    private const double Bound = 2.5;
    private const int P = 3 * Bins - 1;

    [Fact]
    public void ParameterGradientMatchesFiniteDifferencesInEveryBin()
    {
        var rng = new Random(5);
        double[] theta = new double[P];
        for (int i = 0; i < P; i++) theta[i] = 1.5 * (2 * rng.NextDouble() - 1);
        var flow = new OneSplineDouble();
        Span<double> p = flow.Parameters;
        Assert.Equal(2 * P, p.Length); // 1 input × P weights (zero), then the P biases: θ
        p.Clear();
        theta.CopyTo(p[P..]);
        SplineGeometry g = ReferenceFlow.Geometry(theta, Bins, Bound);
        const double a = 0.8, b = -1.3; // L = a·τ(x) + b·log τ′(x)
        double Loss(double[] t, double x) => a * ReferenceFlow.Spline(x, t, Bins, Bound, out double l) + b * l;

        for (int bin = 0; bin < Bins; bin++)
        {
            double x = g.Xs[bin] + 0.37 * g.Widths[bin];
            double[] xs = [0.4, x];
            double[] gradient = new double[2 * P];
            flow.ForwardVjp(xs, [0, a], [b], gradient, default);
            for (int q = 0; q < P; q++)
            {
                double analytic = gradient[P + q];
                // interior derivative parameters: knot j = q − 2K + 1 (1 … K − 1) matters only to bins j − 1 and j
                int knot = q - 2 * Bins + 1;
                if (q >= 2 * Bins && knot != bin && knot != bin + 1)
                {
                    Assert.True(analytic == 0, $"bin {bin}: ∂L/∂θ[{q}] (knot {knot}) = {analytic}, not 0");
                    continue;
                }
                const double h = 1e-5;
                double[] up = (double[])theta.Clone(), down = (double[])theta.Clone();
                up[q] += h;
                down[q] -= h;
                double numeric = (Loss(up, x) - Loss(down, x)) / (2 * h);
                Assert.True(Math.Abs(analytic - numeric) <= 1e-7 * (1 + Math.Abs(numeric)),
                    $"bin {bin}, x = {x}: ∂L/∂θ[{q}] = {analytic}, central difference {numeric}");
            }
            // the kept coordinate's weights: ∂L/∂W = x[0]·∂L/∂θ
            for (int q = 0; q < P; q++) Assert.Equal(0.4 * gradient[P + q], gradient[q], 12);
        }
    }
}
