using System;
using FlowGen;

namespace FlowGen.Demo;

/// <summary>
/// The 2-D toy benchmarks of FFJORD's <c>lib/toy_data.py</c> (Grathwohl, Chen et al., ICLR 2019; rtqichen/ffjord), which
/// Residual Flows, NAF, SoS flows, UMNN and later papers reuse: the same distributions, sampled i.i.d. from a seeded
/// <see cref="FlowRandom"/>, with their exact log-densities (closed form, or a one-dimensional quadrature of a closed form),
/// so that a test NLL can be read next to the true entropy. Shared by the demo (<c>--data</c>) and experiments/Universality.
/// </summary>
/// <remarks>
/// Where toy_data.py spaces angles evenly (np.linspace in make_moons, make_circles and rings), each point here draws its
/// angle uniformly: the same limiting distribution, and two seeds give independent samples. Everything else is as there:
/// moons = make_moons(noise 0.1)·2 + (−1, −0.2); 8gaussians = (4·(cos kπ/4, sin kπ/4) + N(0, 0.5²))/1.414; checkerboard =
/// 2·(x1, x2) with x1 ~ U[−2, 2), x2 ~ U[0, 1) − 2·Bernoulli(½) + (⌊x1⌋ mod 2); pinwheel (5 arms, radial sd 0.3, tangential
/// sd 0.1, rate 0.25, ×2); 2spirals (n = √U·540·2π/360, (−n cos n + U/2, n sin n + U/2) and its negative, /3, + N(0, 0.1²));
/// circles = make_circles(factor 0.5, noise 0.08)·3; rings = radii 3, 2.25, 1.5, 0.75 with equal mass, + N(0, 0.08²).
/// </remarks>
internal static class FfjordToys
{
    public static readonly string[] Names = ["moons", "8gaussians", "checkerboard", "pinwheel", "2spirals", "circles", "rings"];

    /// <summary>Writes i.i.d. points of toy <paramref name="name"/>, row-major [n, 2].</summary>
    public static void Sample(string name, FlowRandom rng, Span<float> xy)
    {
        for (int i = 0; i < xy.Length; i += 2)
        {
            var (x, y) = Draw(name, rng);
            xy[i] = (float)x;
            xy[i + 1] = (float)y;
        }
    }

    /// <summary>One point of toy <paramref name="name"/>.</summary>
    public static (double X, double Y) Draw(string name, FlowRandom rng)
    {
        switch (name)
        {
            case "moons":
            {
                double t = Math.PI * rng.NextDouble();
                bool outer = rng.NextDouble() < 0.5;
                double x = outer ? Math.Cos(t) : 1 - Math.Cos(t), y = outer ? Math.Sin(t) : 0.5 - Math.Sin(t);
                return (2 * (x + 0.1 * rng.NextGaussian()) - 1, 2 * (y + 0.1 * rng.NextGaussian()) - 0.2);
            }
            case "8gaussians":
            {
                double angle = Math.PI / 4 * rng.NextInt(8);
                return ((4 * Math.Cos(angle) + 0.5 * rng.NextGaussian()) / 1.414, (4 * Math.Sin(angle) + 0.5 * rng.NextGaussian()) / 1.414);
            }
            case "checkerboard":
            {
                double x1 = 4 * rng.NextDouble() - 2;
                double x2 = rng.NextDouble() - 2 * rng.NextInt(2) + Math.Abs(Math.Floor(x1) % 2);
                return (2 * x1, 2 * x2);
            }
            case "pinwheel":
            {
                int k = rng.NextInt(5);
                double f0 = 1 + 0.3 * rng.NextGaussian(), f1 = 0.1 * rng.NextGaussian();
                double phi = 2 * Math.PI * k / 5 + 0.25 * Math.Exp(f0);
                return (2 * (f0 * Math.Cos(phi) + f1 * Math.Sin(phi)), 2 * (-f0 * Math.Sin(phi) + f1 * Math.Cos(phi)));
            }
            case "2spirals":
            {
                double n = Math.Sqrt(rng.NextDouble()) * 3 * Math.PI;
                double sign = rng.NextDouble() < 0.5 ? 1 : -1;
                double x = sign * (-Math.Cos(n) * n + 0.5 * rng.NextDouble()) / 3, y = sign * (Math.Sin(n) * n + 0.5 * rng.NextDouble()) / 3;
                return (x + 0.1 * rng.NextGaussian(), y + 0.1 * rng.NextGaussian());
            }
            case "circles":
            {
                double r = rng.NextDouble() < 0.5 ? 1 : 0.5, t = 2 * Math.PI * rng.NextDouble();
                return (3 * (r * Math.Cos(t) + 0.08 * rng.NextGaussian()), 3 * (r * Math.Sin(t) + 0.08 * rng.NextGaussian()));
            }
            case "rings":
            {
                double radius = 0.75 * (1 + rng.NextInt(4)), t = 2 * Math.PI * rng.NextDouble();
                return (radius * Math.Cos(t) + 0.08 * rng.NextGaussian(), radius * Math.Sin(t) + 0.08 * rng.NextGaussian());
            }
            default:
                throw new ArgumentException($"unknown FFJORD toy '{name}'", nameof(name));
        }
    }

    /// <summary>How <see cref="LogDensity"/> computes log p, for the tables.</summary>
    public static string HowExact(string name) => name switch
    {
        "checkerboard" => "exact: uniform on 8 squares of area 4, H = ln 32",
        "8gaussians" => "closed form (equal mixture of 8 isotropic Gaussians, sd 0.5/1.414)",
        "pinwheel" => "change of variables: per arm, every root f₀ of f₀ = ρ·cos(ψ + 2πk/5 + e^{f₀}/4) (grid scan + bisection), |det| = 4|1 + e^{f₀}f₁/4|",
        "2spirals" => "1-D quadrature over n (2000 midpoints) of the closed-form Gaussian ⊛ uniform-box density",
        _ => "1-D quadrature over the angle (midpoint rule) of the Gaussian-noise density around the curves",
    };

    private const double Log2Pi = 1.8378770664093453;

    /// <summary>The exact log-density of toy <paramref name="name"/> at (x, y) (numerically: see <see cref="HowExact"/>).</summary>
    public static double LogDensity(string name, double x, double y)
    {
        switch (name)
        {
            case "checkerboard":
            {
                double x1 = x / 2, x2 = y / 2;
                if (x1 < -2 || x1 >= 2 || x2 < -2 || x2 >= 2) return double.NegativeInfinity;
                // x2 − (⌊x1⌋ mod 2) ∈ [0, 1) or [−2, −1)
                double v = x2 - Math.Abs(Math.Floor(x1) % 2);
                bool inside = (v >= 0 && v < 1) || (v >= -2 && v < -1);
                return inside ? -Math.Log(32) : double.NegativeInfinity;
            }
            case "8gaussians":
            {
                double s = 0.5 / 1.414, lse = double.NegativeInfinity;
                for (int k = 0; k < 8; k++)
                {
                    double cx = 4 * Math.Cos(Math.PI / 4 * k) / 1.414, cy = 4 * Math.Sin(Math.PI / 4 * k) / 1.414;
                    double l = -Math.Log(8) - Log2Pi - 2 * Math.Log(s) - ((x - cx) * (x - cx) + (y - cy) * (y - cy)) / (2 * s * s);
                    lse = LogAdd(lse, l);
                }
                return lse;
            }
            case "moons":
            {
                // t uniform on [0, π] (density 1/π), moon chosen with probability ½, noise sd 0.2 after the scaling by 2
                const int M = 2000;
                const double s = 0.2;
                double lse = double.NegativeInfinity;
                for (int i = 0; i < M; i++)
                {
                    double t = Math.PI * (i + 0.5) / M;
                    double ox = 2 * Math.Cos(t) - 1, oy = 2 * Math.Sin(t) - 0.2, ix = 1 - 2 * Math.Cos(t), iy = 0.8 - 2 * Math.Sin(t);
                    lse = LogAdd(lse, -((x - ox) * (x - ox) + (y - oy) * (y - oy)) / (2 * s * s));
                    lse = LogAdd(lse, -((x - ix) * (x - ix) + (y - iy) * (y - iy)) / (2 * s * s));
                }
                return lse - Math.Log(2 * M) - Log2Pi - 2 * Math.Log(s);
            }
            case "circles":
                return Rings(x, y, [3.0, 1.5], 0.24);
            case "rings":
                return Rings(x, y, [3.0, 2.25, 1.5, 0.75], 0.08);
            case "2spirals":
                return Spirals(x, y);
            case "pinwheel":
                return Pinwheel(x, y);
            default:
                throw new ArgumentException($"unknown FFJORD toy '{name}'", nameof(name));
        }
    }

    private static double LogAdd(double a, double b)
    {
        if (double.IsNegativeInfinity(a)) return b;
        if (double.IsNegativeInfinity(b)) return a;
        return a > b ? a + Math.Log(1 + Math.Exp(b - a)) : b + Math.Log(1 + Math.Exp(a - b));
    }

    /// <summary>Equal mixture of circles of the given radii (uniform angle) plus isotropic noise of sd <paramref name="s"/>.</summary>
    private static double Rings(double x, double y, double[] radii, double s)
    {
        const int M = 1024; // periodic trapezoid rule: converges geometrically
        double lse = double.NegativeInfinity;
        foreach (double r in radii)
            for (int i = 0; i < M; i++)
            {
                double t = 2 * Math.PI * i / M, cx = r * Math.Cos(t), cy = r * Math.Sin(t);
                lse = LogAdd(lse, -((x - cx) * (x - cx) + (y - cy) * (y - cy)) / (2 * s * s));
            }
        return lse - Math.Log(radii.Length * M) - Log2Pi - 2 * Math.Log(s);
    }

    /// <summary>
    /// 2spirals: n has density 2n/(3π)² on [0, 3π]; given n and the sign, each coordinate is a/3 + U[0, 1/6] (sign +) or
    /// −a/3 − U[0, 1/6] (sign −) plus N(0, 0.1²), whose density is 6·(Φ((v − lo)/σ) − Φ((v − hi)/σ)) on the box [lo, hi].
    /// </summary>
    private static double Spirals(double x, double y)
    {
        const int M = 2000;
        const double s = 0.1, top = 3 * Math.PI;
        double sum = 0;
        for (int i = 0; i < M; i++)
        {
            double n = top * (i + 0.5) / M, weight = 2 * n / (top * top) * (top / M);
            double a = -Math.Cos(n) * n / 3, b = Math.Sin(n) * n / 3;
            double plus = Box(x, a, a + 1.0 / 6, s) * Box(y, b, b + 1.0 / 6, s);
            double minus = Box(x, -a - 1.0 / 6, -a, s) * Box(y, -b - 1.0 / 6, -b, s);
            sum += weight * 0.5 * (plus + minus);
        }
        return Math.Log(sum);
    }

    private static double Box(double v, double lo, double hi, double s) =>
        (NormalCdf((v - lo) / s) - NormalCdf((v - hi) / s)) / (hi - lo);

    private static double NormalCdf(double z) => 0.5 * Erfc(-z / Math.Sqrt(2));

    /// <summary>erfc with relative error below 1.2e-7 everywhere (Numerical Recipes' Chebyshev fit).</summary>
    private static double Erfc(double x)
    {
        double z = Math.Abs(x), t = 1 / (1 + 0.5 * z);
        double r = t * Math.Exp(-z * z - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806 +
            t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))));
        return x >= 0 ? r : 2 - r;
    }

    /// <summary>
    /// pinwheel: x = 2·R(−φ)·f with f = (f₀, f₁), f₀ ~ N(1, 0.3²), f₁ ~ N(0, 0.1²), φ = 2πk/5 + e^{f₀}/4, k uniform in 0…4.
    /// Given x (ρ = |x|/2, ψ its angle), f = R(φ)·x/2, so f₀ solves f₀ = ρ·cos(ψ + φ(f₀)); every root on a fine grid is
    /// refined by bisection and contributes N(f₀)·N(f₁)/(4·|1 + φ′(f₀)·f₁|).
    /// </summary>
    private static double Pinwheel(double x, double y)
    {
        double rho = Math.Sqrt(x * x + y * y) / 2, psi = Math.Atan2(y, x);
        double lo = Math.Max(-rho, 1 - 12 * 0.3), hi = Math.Min(rho, 1 + 12 * 0.3);
        double total = 0;
        if (lo >= hi) return double.NegativeInfinity;
        const int Grid = 2000;
        for (int k = 0; k < 5; k++)
        {
            double offset = psi + 2 * Math.PI * k / 5;
            double H(double f0) => f0 - rho * Math.Cos(offset + 0.25 * Math.Exp(f0));
            double previous = H(lo), left = lo;
            for (int i = 1; i <= Grid; i++)
            {
                double right = lo + (hi - lo) * i / Grid, value = H(right);
                if ((previous <= 0 && value > 0) || (previous >= 0 && value < 0))
                {
                    double a = left, b = right, ha = previous;
                    for (int it = 0; it < 80; it++)
                    {
                        double m = 0.5 * (a + b), hm = H(m);
                        if ((hm <= 0) == (ha <= 0)) { a = m; ha = hm; } else b = m;
                    }
                    double f0 = 0.5 * (a + b), phi = offset - psi + 0.25 * Math.Exp(f0);
                    double f1 = (x * Math.Sin(phi) + y * Math.Cos(phi)) / 2;
                    double density = Math.Exp(-(f0 - 1) * (f0 - 1) / (2 * 0.09) - f1 * f1 / (2 * 0.01)) / (2 * Math.PI * 0.3 * 0.1);
                    total += 0.2 * density / (4 * Math.Abs(1 + 0.25 * Math.Exp(f0) * f1));
                }
                previous = value; left = right;
            }
        }
        return total > 0 ? Math.Log(total) : double.NegativeInfinity;
    }
}
