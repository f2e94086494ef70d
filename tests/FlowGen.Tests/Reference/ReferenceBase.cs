using System;
using System.Globalization;
using System.Linq;

namespace FlowGen.Tests.Reference;

/// <summary>
/// The base distributions of docs/model.md §11, written plainly in double from the document (independently of the generator):
/// log-densities, the mixture's component joints, and random parameters. θ is the base's own block of the parameter vector
/// (after every layer's), in the order of §11's tensors.
/// </summary>
public abstract record ReferenceBase
{
    public abstract int ParameterCount(int dim);

    /// <summary>The attribute as the user writes it (without brackets).</summary>
    public abstract string Attribute();

    public abstract double LogDensity(double[] theta, double[] z);

    /// <summary>Mixture components (0 for other bases).</summary>
    public virtual int Components => 0;

    /// <summary>log(w_c·N(z; μ_c, Σ_c)) of a mixture base.</summary>
    public virtual double ComponentLogJoint(double[] theta, double[] z, int c) => throw new NotSupportedException();

    /// <summary>Random base parameters of moderate size (the ranges of §11's parameterisation a trained model reaches).</summary>
    public abstract double[] RandomParameters(Random rng, int dim);

    protected static double Gaussian(Random rng) => Math.Sqrt(-2 * Math.Log(1 - rng.NextDouble())) * Math.Cos(2 * Math.PI * rng.NextDouble());

    protected static string Dbl(double v) => v.ToString("R", CultureInfo.InvariantCulture);

    /// <summary>log Γ(x), x &gt; 0, by shifting x above 10 and Stirling's series (not the runtime's Lanczos).</summary>
    public static double LogGamma(double x)
    {
        double shift = 0;
        while (x < 10)
        {
            shift -= Math.Log(x);
            x += 1;
        }
        double inv = 1 / x, inv2 = inv * inv;
        double series = inv * (1.0 / 12 - inv2 * (1.0 / 360 - inv2 * (1.0 / 1260 - inv2 * (1.0 / 1680))));
        return shift + (x - 0.5) * Math.Log(x) - x + 0.5 * Math.Log(2 * Math.PI) + series;
    }
}

/// <summary>§11.2: θ = (μ [D], log σ [D]); log p = Σ −½((z−μ)/σ)² − log σ − ½ log 2π.</summary>
public sealed record GaussianReferenceBase : ReferenceBase
{
    public override int ParameterCount(int dim) => 2 * dim;

    public override string Attribute() => "global::FlowGen.GaussianBase";

    public override double LogDensity(double[] theta, double[] z)
    {
        int d = z.Length;
        double s = 0;
        for (int i = 0; i < d; i++)
        {
            double sigma = Math.Exp(theta[d + i]), u = (z[i] - theta[i]) / sigma;
            s += -0.5 * u * u - Math.Log(sigma) - 0.5 * Math.Log(2 * Math.PI);
        }
        return s;
    }

    public override double[] RandomParameters(Random rng, int dim) =>
        Enumerable.Range(0, 2 * dim).Select(j => j < dim ? 0.5 * Gaussian(rng) : 0.3 * Gaussian(rng)).ToArray();
}

/// <summary>
/// §11.3: θ = (a [K] unless FlowGMM, μ [K, D], log σ [K, D] or [1] for FlowGMM); w = softmax(a) or 1/K;
/// p(z) = Σ_c w_c Π_i N(z_i; μ_ci, σ_ci²).
/// </summary>
public sealed record MixtureReferenceBase(int K, bool FlowGmm = false, bool LearnableMeans = true, bool LearnableScales = true) : ReferenceBase
{
    public override int Components => K;

    public override int ParameterCount(int dim) => (FlowGmm ? 0 : K) + K * dim + (FlowGmm ? 1 : K * dim);

    public override string Attribute()
    {
        string s = "global::FlowGen.GaussianMixtureBase(Components = " + K;
        if (FlowGmm) s += ", FlowGmm = true";
        if (!LearnableMeans) s += ", LearnableMeans = false";
        if (!LearnableScales) s += ", LearnableScales = false";
        return s + ")";
    }

    public override double ComponentLogJoint(double[] theta, double[] z, int c)
    {
        int d = z.Length, means = FlowGmm ? 0 : K, scales = means + K * d;
        double logWeight;
        if (FlowGmm) logWeight = -Math.Log(K);
        else
        {
            double total = 0;
            for (int j = 0; j < K; j++) total += Math.Exp(theta[j]);
            logWeight = theta[c] - Math.Log(total);
        }
        double s = logWeight;
        for (int i = 0; i < d; i++)
        {
            double logSigma = FlowGmm ? theta[scales] : theta[scales + c * d + i];
            double u = (z[i] - theta[means + c * d + i]) / Math.Exp(logSigma);
            s += -0.5 * u * u - logSigma - 0.5 * Math.Log(2 * Math.PI);
        }
        return s;
    }

    public override double LogDensity(double[] theta, double[] z)
    {
        double[] joints = Enumerable.Range(0, K).Select(c => ComponentLogJoint(theta, z, c)).ToArray();
        double max = joints.Max();
        return max + Math.Log(joints.Sum(j => Math.Exp(j - max)));
    }

    public override double[] RandomParameters(Random rng, int dim)
    {
        var theta = new double[ParameterCount(dim)];
        int means = FlowGmm ? 0 : K, scales = means + K * dim;
        for (int j = 0; j < means; j++) theta[j] = 0.5 * Gaussian(rng);
        for (int j = 0; j < K * dim; j++) theta[means + j] = 1.5 * Gaussian(rng);
        for (int j = scales; j < theta.Length; j++) theta[j] = 0.3 * Gaussian(rng);
        return theta;
    }
}

/// <summary>§11.4: θ = η [D], ν = exp η; log p = Σ log Γ((ν+1)/2) − log Γ(ν/2) − ½ log(νπ) − (ν+1)/2 · log(1 + z²/ν).</summary>
public sealed record StudentTReferenceBase(double Nu = 5, bool Learnable = true) : ReferenceBase
{
    public override int ParameterCount(int dim) => dim;

    public override string Attribute() => $"global::FlowGen.StudentTBase(DegreesOfFreedom = {Dbl(Nu)}{(Learnable ? "" : ", LearnableDegreesOfFreedom = false")})";

    public override double LogDensity(double[] theta, double[] z)
    {
        double s = 0;
        for (int i = 0; i < z.Length; i++)
        {
            double nu = Math.Exp(theta[i]);
            s += LogGamma((nu + 1) / 2) - LogGamma(nu / 2) - 0.5 * Math.Log(nu * Math.PI) - (nu + 1) / 2 * Math.Log(1 + z[i] * z[i] / nu);
        }
        return s;
    }

    public override double[] RandomParameters(Random rng, int dim) =>
        Enumerable.Range(0, dim).Select(_ => Math.Log(2 + 8 * rng.NextDouble())).ToArray();
}
