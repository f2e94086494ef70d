using System;
using System.ComponentModel;

namespace FlowGen.Kernels;

/// <summary>
/// Scalar helpers of the generated base distributions (docs/model.md §11): log Γ and ψ for the Student-t base, and the draws
/// of its sampler. In double, deterministic. For generated code.
/// </summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public static class BaseFunctions
{
    private static readonly double[] Lanczos =
    {
        0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059,
        12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7,
    };

    /// <summary>log Γ(x) for x &gt; 0 (Lanczos, g = 7, nine terms; reflection below ½); relative error about 1e-15.</summary>
    public static double LogGamma(double x)
    {
        if (x < 0.5) return Math.Log(Math.PI / Math.Sin(Math.PI * x)) - LogGamma(1 - x);
        x -= 1;
        double a = Lanczos[0], t = x + 7.5;
        for (int i = 1; i < Lanczos.Length; i++) a += Lanczos[i] / (x + i);
        return 0.5 * Math.Log(2 * Math.PI) + (x + 0.5) * Math.Log(t) - t + Math.Log(a);
    }

    /// <summary>ψ(x) = d/dx log Γ(x) for x &gt; 0: the recurrence ψ(x) = ψ(x + 1) − 1/x up to x ≥ 6, then the asymptotic series.</summary>
    public static double Digamma(double x)
    {
        double result = 0;
        while (x < 6)
        {
            result -= 1 / x;
            x += 1;
        }
        double f = 1 / (x * x);
        double series = f * (-1.0 / 12 + f * (1.0 / 120 + f * (-1.0 / 252 + f * (1.0 / 240 + f * (-1.0 / 132)))));
        return result + Math.Log(x) - 0.5 / x + series;
    }

    /// <summary>The log-normaliser of the standard Student-t with ν degrees of freedom: log Γ((ν+1)/2) − log Γ(ν/2) − ½ log(νπ).</summary>
    public static double StudentTLogNormalizer(double nu) => LogGamma(0.5 * (nu + 1)) - LogGamma(0.5 * nu) - 0.5 * Math.Log(nu * Math.PI);

    /// <summary>d/dν of <see cref="StudentTLogNormalizer"/>: ½ψ((ν+1)/2) − ½ψ(ν/2) − 1/(2ν).</summary>
    public static double StudentTLogNormalizerDerivative(double nu) => 0.5 * Digamma(0.5 * (nu + 1)) - 0.5 * Digamma(0.5 * nu) - 0.5 / nu;

    /// <summary>
    /// A Gamma(shape, 1) deviate (Marsaglia and Tsang 2000; for shape &lt; 1 boosted: Gamma(shape + 1)·U^{1/shape}). Each attempt
    /// draws one normal deviate (<see cref="FlowRandom.NextGaussian"/>) and one uniform.
    /// </summary>
    public static double Gamma(FlowRandom rng, double shape)
    {
        if (shape < 1)
        {
            double g = Gamma(rng, shape + 1);
            double u = 1 - rng.NextDouble(); // (0, 1]
            return g * Math.Pow(u, 1 / shape);
        }
        double d = shape - 1.0 / 3, c = 1 / Math.Sqrt(9 * d);
        while (true)
        {
            double x = rng.NextGaussian(), v = 1 + c * x;
            if (v <= 0) continue;
            v = v * v * v;
            double u = 1 - rng.NextDouble();
            if (Math.Log(u) < 0.5 * x * x + d - d * v + d * Math.Log(v)) return d * v;
        }
    }

    /// <summary>A standard Student-t deviate with ν degrees of freedom: ε / √(V/ν), ε ~ N(0, 1), V = 2·Gamma(ν/2) ~ χ²_ν.</summary>
    public static double StudentT(FlowRandom rng, double nu)
    {
        double e = rng.NextGaussian();
        double v = 2 * Gamma(rng, 0.5 * nu);
        return e / Math.Sqrt(v / nu);
    }

    /// <summary>The component drawn for u = <see cref="FlowRandom.NextDouble"/>: the first c with u &lt; Σ_{j≤c} w_j (the last when rounding leaves none).</summary>
    public static int Categorical(FlowRandom rng, ReadOnlySpan<double> weights)
    {
        double u = rng.NextDouble(), cumulative = 0;
        for (int c = 0; c < weights.Length - 1; c++)
        {
            cumulative += weights[c];
            if (u < cumulative) return c;
        }
        return weights.Length - 1;
    }
}
