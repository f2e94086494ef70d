using System;
using System.Numerics;

namespace FlowGen;

/// <summary>A scalar function of one row (Dim values), for importance-sampling expectations.</summary>
/// <typeparam name="T"><see cref="float"/> or <see cref="double"/>.</typeparam>
/// <param name="x">The row.</param>
/// <returns>f(x).</returns>
public delegate double RowFunction<T>(ReadOnlySpan<T> x);

/// <summary>A self-normalised importance-sampling estimate and its standard error (delta method).</summary>
/// <param name="Value">Σᵢ w̃ᵢ f(xᵢ) with w̃ the normalised weights.</param>
/// <param name="StandardError">√(Σᵢ w̃ᵢ² (f(xᵢ) − Value)²).</param>
public readonly record struct ImportanceExpectation(double Value, double StandardError);

/// <summary>
/// The result of <see cref="FlowImportance.Estimate{T}(ICouplingFlow{T}, IFlowTarget{T}, int, FlowRandom)"/>: n draws xᵢ ~ q (the
/// flow), log-weights log wᵢ = log p̃(xᵢ) − log q(xᵢ), the normaliser Z = ∫ p̃ estimated by the mean weight, and the
/// diagnostics of the weights.
/// </summary>
/// <typeparam name="T"><see cref="float"/> or <see cref="double"/>.</typeparam>
public sealed class ImportanceEstimate<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    internal ImportanceEstimate(int dim, T[] samples, double[] logWeights)
    {
        Dim = dim;
        Samples = samples;
        LogWeights = logWeights;
        int n = logWeights.Length;
        double max = double.NegativeInfinity;
        foreach (double lw in logWeights) if (lw > max) max = lw;
        double sum = 0, sumSq = 0;
        foreach (double lw in logWeights)
        {
            double w = Math.Exp(lw - max);
            sum += w;
            sumSq += w * w;
        }
        double mean = sum / n;
        LogZ = Math.Log(mean) + max;
        // the standard error of the mean weight, relative to it: SE(log Ẑ) ≈ SE(Ẑ)/Ẑ
        double variance = n > 1 ? Math.Max(0, (sumSq - n * mean * mean) / (n - 1)) : double.NaN;
        LogZStandardError = Math.Sqrt(variance / n) / mean;
        EffectiveSampleSize = sum * sum / sumSq;
        ParetoK = FlowImportance.ParetoK(logWeights);
    }

    /// <summary>Number of coordinates of a sample.</summary>
    public int Dim { get; }

    /// <summary>Number of draws n.</summary>
    public int Count => LogWeights.Length;

    /// <summary>The draws xᵢ ~ q, row-major [n, Dim].</summary>
    public T[] Samples { get; }

    /// <summary>log wᵢ = log p̃(xᵢ) − log q(xᵢ) (−∞ where p̃ is zero or the draw was not finite).</summary>
    public double[] LogWeights { get; }

    /// <summary>log Ẑ = log((1/n) Σᵢ wᵢ): the log-normaliser of p̃ (unbiased in Ẑ, not in log Ẑ).</summary>
    public double LogZ { get; }

    /// <summary>Standard error of <see cref="LogZ"/> by the delta method, sd(w)/(√n · mean(w)); trustworthy only when <see cref="ParetoK"/> &lt; 0.7.</summary>
    public double LogZStandardError { get; }

    /// <summary>Kish's effective sample size (Σw)²/Σw².</summary>
    public double EffectiveSampleSize { get; }

    /// <summary><see cref="EffectiveSampleSize"/> / n, in (0, 1]: 1 when q = p.</summary>
    public double EffectiveSampleFraction => EffectiveSampleSize / Count;

    /// <summary>
    /// Pareto k̂ of the weights' right tail (Vehtari, Simpson, Gelman, Yao, Gabry, "Pareto smoothed importance sampling"):
    /// the shape of a generalized Pareto distribution fitted to the M = ⌈min(n/5, 3√n)⌉ largest weights. Reading (as they
    /// give it): k̂ &lt; 0.5 good; k̂ &lt; 0.7 the estimates are reliable (the tail has finite variance, or nearly); k̂ ≥ 0.7 they are
    /// not — the flow misses mass of the target; k̂ ≥ 1: the mean weight itself is unreliable. +∞ with fewer than 5 tail draws;
    /// −∞ when the largest M + 1 weights are equal (no tail).
    /// </summary>
    public double ParetoK { get; }

    /// <summary>True when <see cref="ParetoK"/> &lt; 0.7: the reading of Vehtari et al. under which the estimates can be used.</summary>
    public bool IsReliable => ParetoK < 0.7;

    /// <summary>The self-normalised expectation E_p[f] ≈ Σᵢ w̃ᵢ f(xᵢ) and its standard error.</summary>
    /// <param name="f">The function of one row.</param>
    /// <returns>The estimate and its standard error.</returns>
    public ImportanceExpectation Expectation(RowFunction<T> f)
    {
        ArgumentNullException.ThrowIfNull(f);
        int n = Count;
        double max = double.NegativeInfinity;
        foreach (double lw in LogWeights) if (lw > max) max = lw;
        var w = new double[n];
        var fx = new double[n];
        double sum = 0;
        for (int i = 0; i < n; i++)
        {
            w[i] = Math.Exp(LogWeights[i] - max);
            sum += w[i];
            fx[i] = w[i] > 0 ? f(Samples.AsSpan(i * Dim, Dim)) : 0;
        }
        double value = 0;
        for (int i = 0; i < n; i++) value += w[i] / sum * fx[i];
        double var = 0;
        for (int i = 0; i < n; i++)
        {
            double wn = w[i] / sum, d = fx[i] - value;
            var += wn * wn * d * d;
        }
        return new ImportanceExpectation(value, Math.Sqrt(var));
    }

    /// <summary>One line: log Z ± SE, ESS (and fraction), k̂ with its reading.</summary>
    public override string ToString() => string.Create(System.Globalization.CultureInfo.InvariantCulture,
        $"log Z = {LogZ:F4} ± {LogZStandardError:F4}; ESS {EffectiveSampleSize:F0} of {Count} ({EffectiveSampleFraction:P1}); Pareto k̂ {ParetoK:F3} ({(ParetoK < 0.5 ? "good" : ParetoK < 0.7 ? "reliable" : "unreliable")})");
}

/// <summary>
/// Importance sampling with a flow as the proposal: the normaliser of an unnormalised target, the effective sample size,
/// the Pareto-k̂ diagnostic of PSIS, and self-normalised expectations.
/// </summary>
public static class FlowImportance
{
    /// <summary>
    /// Draws <paramref name="n"/> samples xᵢ ~ q (the flow, x and log q(x) from one <c>Sample</c> pass) and weighs them by
    /// p̃(xᵢ)/q(xᵢ).
    /// </summary>
    /// <param name="flow">The proposal (unconditional; the base must be the standard normal).</param>
    /// <param name="target">The unnormalised target (its gradient is not used).</param>
    /// <param name="n">Draws, at least 2.</param>
    /// <param name="rng">The latent noise.</param>
    /// <returns>log Z ± SE, ESS, k̂, the draws and weights.</returns>
    public static ImportanceEstimate<T> Estimate<T>(ICouplingFlow<T> flow, IFlowTarget<T> target, int n, FlowRandom rng)
        where T : unmanaged, IFloatingPointIeee754<T> =>
        Estimate(flow, target, default, n, rng);

    /// <summary>
    /// As <see cref="Estimate{T}(ICouplingFlow{T}, IFlowTarget{T}, int, FlowRandom)"/> for a conditional flow and target at one
    /// context (ContextDim values, shared by all draws).
    /// </summary>
    /// <param name="flow">The proposal.</param>
    /// <param name="target">The unnormalised target p̃(x | c).</param>
    /// <param name="context">One context row (ContextDim values; empty for an unconditional flow).</param>
    /// <param name="n">Draws, at least 2.</param>
    /// <param name="rng">The latent noise.</param>
    /// <returns>log Z(c) ± SE, ESS, k̂, the draws and weights.</returns>
    public static ImportanceEstimate<T> Estimate<T>(ICouplingFlow<T> flow, IFlowTarget<T> target, ReadOnlySpan<T> context, int n, FlowRandom rng)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(flow);
        ArgumentNullException.ThrowIfNull(target);
        ArgumentNullException.ThrowIfNull(rng);
        if (n < 2) throw new ArgumentOutOfRangeException(nameof(n), n, "n must be at least 2.");
        if (target.Dim != flow.Dim) throw new ArgumentException($"target.Dim ({target.Dim}) must equal the flow's Dim ({flow.Dim}).", nameof(target));
        if (context.Length != flow.ContextDim) throw new ArgumentException($"context.Length must be {flow.ContextDim} (one context row); it is {context.Length}.", nameof(context));
        int d = flow.Dim;
        var xs = new T[n * d];
        var logQ = new T[n];
        var contexts = new T[flow.ContextDim == 0 ? 0 : n * flow.ContextDim];
        for (int i = 0; i < contexts.Length; i += flow.ContextDim) context.CopyTo(contexts.AsSpan(i));
        flow.Sample(xs, contexts, logQ, rng);
        var logP = new double[n];
        target.Evaluate(xs, contexts, logP, default);
        var lw = new double[n];
        for (int i = 0; i < n; i++)
        {
            double v = logP[i] - double.CreateTruncating(logQ[i]);
            lw[i] = double.IsNaN(v) || double.IsPositiveInfinity(v) && !T.IsFinite(logQ[i]) ? double.NegativeInfinity : v;
        }
        return new ImportanceEstimate<T>(d, xs, lw);
    }

    /// <summary>
    /// Pareto k̂ of log-weights as PSIS computes it: shift by the maximum, take the M = ⌈min(n/5, 3√n)⌉ largest, fit a
    /// generalized Pareto distribution to their exceedances exp(lw) − exp(cutoff) over the largest remaining weight
    /// (<see cref="FitGeneralizedPareto"/>, with the weakly informative prior). +∞ when M &lt; 5, the largest weight is not
    /// finite or the fit is not finite; −∞ when the M + 1 largest weights are equal (no tail).
    /// </summary>
    /// <param name="logWeights">log wᵢ (−∞ allowed).</param>
    /// <returns>k̂.</returns>
    public static double ParetoK(ReadOnlySpan<double> logWeights)
    {
        int n = logWeights.Length;
        int m = (int)Math.Ceiling(Math.Min(0.2 * n, 3 * Math.Sqrt(n)));
        if (m < 5 || n <= m) return double.PositiveInfinity;
        double[] sorted = logWeights.ToArray();
        Array.Sort(sorted);
        double max = sorted[n - 1];
        if (!double.IsFinite(max)) return double.PositiveInfinity;
        double cutoff = Math.Exp(sorted[n - m - 1] - max);
        var exceedances = new double[m];
        for (int i = 0; i < m; i++) exceedances[i] = Math.Exp(sorted[n - m + i] - max) - cutoff;
        if (exceedances[m - 1] <= 0) return double.NegativeInfinity; // the M + 1 largest weights are equal: no tail at all
        double k = FitGeneralizedPareto(exceedances, weaklyInformativePrior: true).Shape;
        return double.IsFinite(k) ? k : double.PositiveInfinity;
    }

    /// <summary>
    /// Fits a generalized Pareto distribution with location 0, F(y) = 1 − (1 + k·y/σ)^(−1/k), to positive exceedances by the
    /// empirical-Bayes estimator of Zhang &amp; Stephens (2009) as PSIS uses it (m = 80 + ⌊√N⌋ grid points, the prior on
    /// θ = −k/σ with scale 3 over the first quartile), optionally followed by the weakly informative prior of PSIS, a
    /// Gaussian on k centred on 0.5 worth 10 observations: k ← (N·k + 10·0.5)/(N + 10).
    /// </summary>
    /// <param name="exceedances">y₁…y_N ≥ 0 (any order), N ≥ 2.</param>
    /// <param name="weaklyInformativePrior">Apply the k-adjustment of PSIS (default true).</param>
    /// <returns>The shape k and scale σ.</returns>
    public static (double Shape, double Scale) FitGeneralizedPareto(ReadOnlySpan<double> exceedances, bool weaklyInformativePrior = true)
    {
        int n = exceedances.Length;
        if (n < 2) throw new ArgumentException($"exceedances needs at least 2 values; it has {n}.", nameof(exceedances));
        double[] x = exceedances.ToArray();
        Array.Sort(x);
        const double Prior = 3;
        int m = 80 + (int)Math.Floor(Math.Sqrt(n));
        double largest = x[n - 1];
        if (!(largest > 0)) throw new ArgumentException("exceedances must hold a positive value.", nameof(exceedances));
        int q = (int)Math.Floor(n / 4.0 + 0.5) - 1;
        while (x[q] <= 0) q++; // the first quartile, or the smallest positive value above it when it is 0 (ties at the threshold)
        double quartile = x[q];
        var b = new double[m];
        var l = new double[m];
        for (int j = 0; j < m; j++)
        {
            b[j] = 1 / largest + (1 - Math.Sqrt(m / (j + 1 - 0.5))) / Prior / quartile;
            // profile log-likelihood: with a = −b, k = mean log(1 + a·x), l = N·(log(a/k) − k − 1)
            double a = -b[j], k = 0;
            foreach (double v in x) k += Math.Log(1 + a * v);
            k /= n;
            l[j] = n * (Math.Log(a / k) - k - 1);
        }
        // posterior weights of the grid points: w_j = 1 / Σ_i exp(l_i − l_j)
        double theta = 0;
        for (int j = 0; j < m; j++)
        {
            double s = 0;
            for (int i = 0; i < m; i++) s += Math.Exp(l[i] - l[j]);
            theta += b[j] / s;
        }
        double shape = 0;
        foreach (double v in x) shape += Math.Log(1 - theta * v);
        shape /= n;
        double scale = -shape / theta;
        if (weaklyInformativePrior) shape = (shape * n + 10 * 0.5) / (n + 10);
        return (shape, scale);
    }
}
