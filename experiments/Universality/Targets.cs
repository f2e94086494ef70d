using System;

namespace Universality;

/// <summary>
/// The known smooth diffeomorphism g = T ∘ W ∘ S of R^d (d = 2, 4 or 8), in double, with its exact inverse and log|det Dg|.
/// Stated exactly in results/README.md ("Targets").
/// </summary>
public sealed class Diffeo
{
    public readonly int D;
    private readonly int _h;
    private readonly (int, int)[] _planes;
    private readonly double[] _turn;

    // constants of the three pieces
    private const double ShearAmp = 0.8, ShearFreq = 1.5, ShearMix = 0.5;   // S
    private const double Swirl = 1.2, SwirlScale = 2.0, Radial = 0.3;       // W
    private const double TriA = 0.5, TriB = 0.6, TriC = 1.5, TriE = 0.3;     // T

    public Diffeo(int d)
    {
        if (d != 2 && d != 4 && d != 8) throw new ArgumentOutOfRangeException(nameof(d));
        D = d;
        _h = d / 2;
        // rotation planes of the swirl: (j, j + d/2) for j < d/2 — (0,1) in 2-D; (0,2), (1,3) in 4-D; (0,4) … (3,7) in 8-D —
        // crossing the coupling halves, with turns 1, −0.7, 0.5, −0.3
        double[] turns = [1.0, -0.7, 0.5, -0.3];
        _planes = new (int, int)[_h];
        _turn = new double[_h];
        for (int j = 0; j < _h; j++) { _planes[j] = (j, j + _h); _turn[j] = turns[j]; }
    }

    public static string Describe(int d) => d == 2
        ? "S: y0 = x0, y1 = x1 + 0.8 sin(1.5 x0 + 0.5 x0)"
        : "S: y0,y1 = x0,x1; y2 = x2 + 0.8 sin(1.5 x0 + 0.5 x1); y3 = x3 + 0.8 sin(1.5 x1 + 0.5 x0)";

    // ---- S: nonlinear shear of the second half by the first, y_{h+j} = x_{h+j} + a·sin(b·x_j + c·x_{(j+1) mod h}); det 1
    private void Shear(Span<double> x, double sign)
    {
        for (int j = 0; j < _h; j++) x[_h + j] += sign * ShearAmp * Math.Sin(ShearFreq * x[j] + ShearMix * x[(j + 1) % _h]);
    }

    // ---- W: rotation by an angle depending on the radius, plus a radial warp.
    // W(x) = m(r)·Q(r)·x, r = |x|, Q(r) = rotations by θ_p(r) = turn_p·1.2·exp(−r²/2²) in the planes p,
    // m(r) = 1 + 0.3·exp(−r²/2). Q(r) preserves |x|, so |W(x)| = ρ(r) = r·m(r) (increasing: ρ' = 1 + 0.3 e^{−r²/2}(1 − r²) ≥ 1 − 0.6e^{−1.5} > 0).
    // log|det DW| = (d−1)·log m(r) + log ρ'(r)   (the radius-preserving rotation has det 1).
    private static double M(double r2) => 1 + Radial * Math.Exp(-r2 / 2);
    private static double RhoPrime(double r2) => 1 + Radial * Math.Exp(-r2 / 2) * (1 - r2);

    private void Rotate(Span<double> x, double r2, double sign)
    {
        double baseAngle = sign * Swirl * Math.Exp(-r2 / (SwirlScale * SwirlScale));
        for (int p = 0; p < _planes.Length; p++)
        {
            var (a, b) = _planes[p];
            double t = baseAngle * _turn[p], c = Math.Cos(t), s = Math.Sin(t);
            double xa = x[a], xb = x[b];
            x[a] = c * xa - s * xb;
            x[b] = s * xa + c * xb;
        }
    }

    private double Warp(Span<double> x)
    {
        double r2 = 0;
        for (int i = 0; i < D; i++) r2 += x[i] * x[i];
        Rotate(x, r2, +1);
        double m = M(r2);
        for (int i = 0; i < D; i++) x[i] *= m;
        return (D - 1) * Math.Log(m) + Math.Log(RhoPrime(r2));
    }

    private void Unwarp(Span<double> y)
    {
        double rho = 0;
        for (int i = 0; i < D; i++) rho += y[i] * y[i];
        rho = Math.Sqrt(rho);
        double r = Solve(u => u * M(u * u), rho, rho / (1 + Radial), rho);   // ρ(r) ∈ [r, 1.3 r]
        double r2 = r * r, m = M(r2);
        for (int i = 0; i < D; i++) y[i] /= m;
        Rotate(y, r2, -1);
    }

    // ---- T: triangular, non-affine in each coordinate:
    // y0 = x0 + 0.5·tanh(x0); y_k = x_k + 0.6·tanh(1.5·x_k + x_{k−1}) + 0.3·cos(x_{k−1})  (k ≥ 1)
    // ∂y_k/∂x_k ∈ [1, 1.9]; log|det DT| = Σ_k log ∂y_k/∂x_k.
    private double Triangular(Span<double> x)
    {
        double logDet = 0;
        Span<double> old = stackalloc double[D];
        x.CopyTo(old);
        double t0 = Math.Tanh(old[0]);
        x[0] = old[0] + TriA * t0;
        logDet += Math.Log(1 + TriA * (1 - t0 * t0));
        for (int k = 1; k < D; k++)
        {
            double t = Math.Tanh(TriC * old[k] + old[k - 1]);
            x[k] = old[k] + TriB * t + TriE * Math.Cos(old[k - 1]);
            logDet += Math.Log(1 + TriB * TriC * (1 - t * t));
        }
        return logDet;
    }

    private void Untriangular(Span<double> y)
    {
        double y0 = y[0];
        y[0] = Solve(u => u + TriA * Math.Tanh(u), y0, y0 - TriA, y0 + TriA);
        for (int k = 1; k < D; k++)
        {
            double prev = y[k - 1], target = y[k] - TriE * Math.Cos(prev);
            y[k] = Solve(u => u + TriB * Math.Tanh(TriC * u + prev), target, target - TriB, target + TriB);
        }
    }

    /// <summary>x ← g(x); returns log|det Dg(x)|.</summary>
    public double Forward(Span<double> x)
    {
        Shear(x, +1);
        double ld = Warp(x);
        ld += Triangular(x);
        return ld;
    }

    /// <summary>y ← g⁻¹(y).</summary>
    public void Inverse(Span<double> y)
    {
        Untriangular(y);
        Unwarp(y);
        Shear(y, -1);
    }

    /// <summary>Root of an increasing f on [lo, hi] with f(lo) ≤ target ≤ f(hi), by bisection to machine precision.</summary>
    private static double Solve(Func<double, double> f, double target, double lo, double hi)
    {
        for (int i = 0; i < 200 && hi - lo > 1e-15 * Math.Max(1, Math.Abs(lo)); i++)
        {
            double mid = 0.5 * (lo + hi);
            if (f(mid) < target) lo = mid; else hi = mid;
        }
        return 0.5 * (lo + hi);
    }
}

/// <summary>A target density with exact sampling and exact log-density.</summary>
public abstract class Density
{
    public abstract string Name { get; }
    public abstract int D { get; }
    public abstract string Definition { get; }
    /// <summary>Draws one sample into x and returns its exact log-density.</summary>
    public abstract double Sample(Random rng, Span<double> x);
    public abstract double LogDensity(ReadOnlySpan<double> x);

    public static double Gaussian(Random rng)
    {
        double u1 = 1.0 - rng.NextDouble(), u2 = rng.NextDouble();
        return Math.Sqrt(-2 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2);
    }
}

/// <summary>Mixture of axis-aligned Gaussians.</summary>
public sealed class Mixture : Density
{
    private readonly double[] _w;
    private readonly double[][] _mu, _sigma;
    private readonly string _name;

    public Mixture(string name, double[] w, double[][] mu, double[][] sigma)
    {
        _name = name; _w = w; _mu = mu; _sigma = sigma;
    }

    public override string Name => _name;
    public override int D => _mu[0].Length;

    public override string Definition
    {
        get
        {
            var parts = new System.Collections.Generic.List<string>();
            for (int k = 0; k < _w.Length; k++)
                parts.Add($"{_w[k]:0.###}·N(({string.Join(", ", Array.ConvertAll(_mu[k], v => v.ToString("0.###")))}), diag σ = ({string.Join(", ", Array.ConvertAll(_sigma[k], v => v.ToString("0.###")))}))");
            return string.Join(" + ", parts);
        }
    }

    public static Mixture Ring2D()
    {
        // five components on a circle of radius 2, different widths, unequal weights
        int k = 5;
        var w = new double[k]; var mu = new double[k][]; var s = new double[k][];
        double[] weights = [0.3, 0.2, 0.2, 0.15, 0.15];
        for (int i = 0; i < k; i++)
        {
            double a = 2 * Math.PI * i / k;
            w[i] = weights[i];
            mu[i] = [Math.Round(2 * Math.Cos(a), 3), Math.Round(2 * Math.Sin(a), 3)];
            s[i] = [0.3 + 0.1 * i, 0.6 - 0.05 * i];
        }
        return new Mixture("gmm2", w, mu, s);
    }

    public static Mixture Four4D() => new("gmm4",
        [0.25, 0.25, 0.3, 0.2],
        [[1.5, 0, 0, -1], [-1.5, 0.5, 1, 0], [0, -1.5, -1, 1], [0.5, 1.5, 0, 1.5]],
        [[0.5, 0.4, 0.6, 0.5], [0.4, 0.6, 0.5, 0.4], [0.6, 0.5, 0.4, 0.6], [0.5, 0.5, 0.5, 0.3]]);

    public override double Sample(Random rng, Span<double> x)
    {
        double u = rng.NextDouble(), acc = 0;
        int k = _w.Length - 1;
        for (int i = 0; i < _w.Length; i++) { acc += _w[i]; if (u < acc) { k = i; break; } }
        for (int j = 0; j < D; j++) x[j] = _mu[k][j] + _sigma[k][j] * Gaussian(rng);
        return LogDensity(x);
    }

    public override double LogDensity(ReadOnlySpan<double> x)
    {
        Span<double> terms = stackalloc double[_w.Length];
        double max = double.NegativeInfinity;
        for (int k = 0; k < _w.Length; k++)
        {
            double t = Math.Log(_w[k]);
            for (int j = 0; j < D; j++)
            {
                double z = (x[j] - _mu[k][j]) / _sigma[k][j];
                t += -0.5 * z * z - Math.Log(_sigma[k][j]) - 0.5 * Math.Log(2 * Math.PI);
            }
            terms[k] = t;
            max = Math.Max(max, t);
        }
        double s = 0;
        foreach (double t in terms) s += Math.Exp(t - max);
        return max + Math.Log(s);
    }
}

/// <summary>The image g(z) of z ~ N(0, I) under the diffeomorphism g: log p(x) = log N(z) − log|det Dg(z)|, z = g⁻¹(x).</summary>
public sealed class Pushforward : Density
{
    private readonly Diffeo _g;
    public Pushforward(int d) => _g = new Diffeo(d);
    public override string Name => $"warp{_g.D}";
    public override int D => _g.D;
    public override string Definition => $"g(z), z ~ N(0, I_{_g.D}), g the {_g.D}-D diffeomorphism of the map task";

    private double LogNormal(ReadOnlySpan<double> z)
    {
        double s = 0;
        foreach (double v in z) s += v * v;
        return -0.5 * s - 0.5 * D * Math.Log(2 * Math.PI);
    }

    public override double Sample(Random rng, Span<double> x)
    {
        for (int j = 0; j < D; j++) x[j] = Gaussian(rng);
        double lpz = LogNormal(x);
        return lpz - _g.Forward(x);
    }

    public override double LogDensity(ReadOnlySpan<double> x)
    {
        Span<double> z = stackalloc double[D];
        x.CopyTo(z);
        _g.Inverse(z);
        double lpz = LogNormal(z);
        Span<double> y = stackalloc double[D];
        z.CopyTo(y);
        return lpz - _g.Forward(y);
    }
}
