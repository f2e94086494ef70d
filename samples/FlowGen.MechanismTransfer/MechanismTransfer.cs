// Few-shot domain adaptation by causal mechanism transfer (Teshima, Sato, Sugiyama, ICML 2020), end to end with FlowGen:
// synthetic domains x = f(s), f⁻¹ estimated by generalised contrastive learning (a custom IFlowObjective), the few target
// points augmented through the estimated independent components, and ridge regression on the augmented set.

using System;
using System.Collections.Generic;
using System.Numerics;

namespace FlowGen.MechanismTransfer;

/// <summary>
/// The estimator of f⁻¹, as in the paper's code (GlowNonExponential): one ActNorm, then invertible-linear + affine-coupling
/// steps. Forward maps an observation z = (x₁, x₂, y) to its estimated independent components ŝ.
/// </summary>
[CouplingFlow<double>(Dim = 3, Hidden = [20])]
[ActNorm]
[InvertibleLinear(Permute = false), AffineCoupling]
[InvertibleLinear(Permute = false), AffineCoupling]
[InvertibleLinear(Permute = false), AffineCoupling]
[InvertibleLinear(Permute = false), AffineCoupling]
public partial class MechanismFlow;

/// <summary>
/// The data-generating process. One invertible mechanism f: R³ → R³ shared by every domain, f(s) = A₂·g(A₁·s + b) with
/// g(u) = u + 0.7·tanh(u) applied per coordinate (strictly increasing, so f is a smooth bijection when A₁, A₂ are
/// invertible). In domain k the independent components are s_d ~ μ_kd + σ_kd·ε with ε standard Laplace (d = 1…3), μ_kd
/// ~ U(−1, 1) and σ_kd ~ U(0.4, 1.2) drawn per domain: this is the paper's assumption — the mechanism is invariant, only
/// the distribution of the independent components changes across domains — and the modulation by the domain label of
/// each component's log-density (location and scale of a non-Gaussian density) is what GCL needs for identifiability
/// (Hyvärinen, Sasaki, Turner 2019; the paper's Theorem). The observation is z = f(s) = (x₁, x₂, y); the task predicts y
/// from x.
/// </summary>
public sealed class DomainGenerator
{
    public const int Dim = 3;
    private readonly double[,] _a1 = new double[Dim, Dim], _a2 = new double[Dim, Dim];
    private readonly double[] _b = new double[Dim];
    private readonly List<(double[] Mu, double[] Sigma)> _domains = new();

    public DomainGenerator(ulong seed, int domains)
    {
        var r = new FlowRandom(seed);
        RandomWellConditioned(r, _a1);
        RandomWellConditioned(r, _a2);
        for (int d = 0; d < Dim; d++) _b[d] = 0.3 * r.NextGaussian();
        for (int k = 0; k < domains; k++)
        {
            var mu = new double[Dim];
            var sigma = new double[Dim];
            for (int d = 0; d < Dim; d++)
            {
                mu[d] = 2 * r.NextDouble() - 1;
                sigma[d] = 0.4 + 0.8 * r.NextDouble();
            }
            _domains.Add((mu, sigma));
        }
    }

    public int Domains => _domains.Count;

    /// <summary>Rows of domain k: observations z = f(s) (row-major [n, 3]) and, when wanted, the true components s.</summary>
    public double[] Sample(int domain, int n, FlowRandom r, double[]? components = null)
    {
        var z = new double[n * Dim];
        Span<double> s = stackalloc double[Dim];
        var (mu, sigma) = _domains[domain];
        for (int i = 0; i < n; i++)
        {
            for (int d = 0; d < Dim; d++)
            {
                double u = r.NextDouble() - 0.5;
                double laplace = -Math.Sign(u) * Math.Log(1 - 2 * Math.Abs(u)) / Math.Sqrt(2); // unit variance
                s[d] = mu[d] + sigma[d] * laplace;
                if (components is not null) components[i * Dim + d] = s[d];
            }
            Mechanism(s, z.AsSpan(i * Dim, Dim));
        }
        return z;
    }

    /// <summary>z = A₂·g(A₁·s + b).</summary>
    public void Mechanism(ReadOnlySpan<double> s, Span<double> z)
    {
        Span<double> h = stackalloc double[Dim];
        for (int i = 0; i < Dim; i++)
        {
            double v = _b[i];
            for (int j = 0; j < Dim; j++) v += _a1[i, j] * s[j];
            h[i] = v + 0.7 * Math.Tanh(v);
        }
        for (int i = 0; i < Dim; i++)
        {
            double v = 0;
            for (int j = 0; j < Dim; j++) v += _a2[i, j] * h[j];
            z[i] = v;
        }
    }

    /// <summary>A random rotation-like matrix: Gram–Schmidt of a Gaussian matrix, columns scaled into [0.7, 1.3].</summary>
    private static void RandomWellConditioned(FlowRandom r, double[,] m)
    {
        var q = new double[Dim, Dim];
        for (int j = 0; j < Dim; j++)
        {
            for (int i = 0; i < Dim; i++) q[i, j] = r.NextGaussian();
            for (int k = 0; k < j; k++)
            {
                double dot = 0;
                for (int i = 0; i < Dim; i++) dot += q[i, j] * q[i, k];
                for (int i = 0; i < Dim; i++) q[i, j] -= dot * q[i, k];
            }
            double norm = 0;
            for (int i = 0; i < Dim; i++) norm += q[i, j] * q[i, j];
            norm = Math.Sqrt(norm);
            for (int i = 0; i < Dim; i++) q[i, j] /= norm;
        }
        for (int j = 0; j < Dim; j++)
        {
            double scale = 0.7 + 0.6 * r.NextDouble();
            for (int i = 0; i < Dim; i++) m[i, j] = q[i, j] * scale;
        }
    }
}

/// <summary>
/// Generalised contrastive learning (Hyvärinen, Sasaki, Turner 2019) as the paper trains f⁻¹: for a row (z, u) with ŝ =
/// flow.Forward(z), a classifier r(ŝ, u) = Σ_d ψ_d(ŝ_d)[u] (ψ_d: 1 → H (ReLU) → K, one network per component, as the
/// paper's ComponentWiseTransformWithAuxSelection) tells the true pair from (z, u′) with a wrong domain u′ drawn uniformly
/// from the others: per-row loss softplus(−r(ŝ, u)) + softplus(r(ŝ, u′)) (the logistic loss, SoftMarginLoss in their code).
/// The classifier's weights are <see cref="ObjectiveParameters"/>, trained with the flow's; ∂L/∂ŝ goes through ForwardVjp.
/// The domain label is the batch's target column (0 … K−1).
/// </summary>
public sealed class ContrastiveObjective : IFlowObjective<double>
{
    private readonly int _dim, _domains, _hidden, _per;
    private readonly double[] _w;

    public ContrastiveObjective(int dim, int domains, int hidden, ulong seed)
    {
        if (domains < 2) throw new ArgumentOutOfRangeException(nameof(domains), domains, "GCL needs at least two domains.");
        _dim = dim;
        _domains = domains;
        _hidden = hidden;
        _per = hidden + hidden + domains * hidden + domains; // W1, b1, W2 [K, H], b2 per component
        _w = new double[dim * _per];
        var r = new FlowRandom(seed);
        for (int d = 0; d < dim; d++)
        {
            int o = d * _per;
            for (int h = 0; h < hidden; h++) _w[o + h] = r.NextGaussian();
            for (int h = 0; h < hidden; h++) _w[o + hidden + h] = 0.5 * r.NextGaussian();
            for (int i = 0; i < domains * hidden; i++) _w[o + 2 * hidden + i] = r.NextGaussian() / Math.Sqrt(hidden);
        }
    }

    public bool UsesDataInitialization => true;

    public Memory<double> ObjectiveParameters => _w;

    public double LossAndGradient(ICouplingFlow<double> flow, FlowBatch<double> batch, Span<double> gradParameters, double weight) =>
        Compute(flow, batch, gradParameters, weight, gradient: true);

    public double Loss(ICouplingFlow<double> flow, FlowBatch<double> batch) => Compute(flow, batch, default, 0, gradient: false);

    private static double Softplus(double v) => v > 0 ? v + Math.Log(1 + Math.Exp(-v)) : Math.Log(1 + Math.Exp(v));

    private static double Sigmoid(double v) => v >= 0 ? 1 / (1 + Math.Exp(-v)) : Math.Exp(v) / (1 + Math.Exp(v));

    private double Compute(ICouplingFlow<double> flow, FlowBatch<double> batch, Span<double> grad, double weight, bool gradient)
    {
        int n = batch.Count, dim = _dim, H = _hidden, K = _domains;
        var s = new double[n * dim];
        flow.Forward(batch.Inputs, batch.Contexts, s, default);
        FlowRandom rng = batch.CreateRandom();
        int p = flow.ParameterCount;
        Span<double> gw = gradient ? grad.Slice(p) : default;
        if (gradient) gw.Clear();
        var gs = gradient ? new double[n * dim] : Array.Empty<double>();
        var pre = new double[dim * H];
        double loss = 0;
        for (int i = 0; i < n; i++)
        {
            int u = (int)batch.Targets[i];
            int wrong = rng.NextInt(K - 1);
            if (wrong >= u) wrong++;
            double rPos = 0, rNeg = 0;
            for (int d = 0; d < dim; d++)
            {
                int o = d * _per;
                double sd = s[i * dim + d];
                for (int h = 0; h < H; h++)
                {
                    double a = _w[o + h] * sd + _w[o + H + h];
                    pre[d * H + h] = a;
                    double act = a > 0 ? a : 0;
                    rPos += _w[o + 2 * H + u * H + h] * act;
                    rNeg += _w[o + 2 * H + wrong * H + h] * act;
                }
                rPos += _w[o + 2 * H + K * H + u];
                rNeg += _w[o + 2 * H + K * H + wrong];
            }
            loss += Softplus(-rPos) + Softplus(rNeg);
            if (!gradient) continue;
            double gPos = -Sigmoid(-rPos) * weight, gNeg = Sigmoid(rNeg) * weight; // ∂L/∂r
            for (int d = 0; d < dim; d++)
            {
                int o = d * _per;
                double sd = s[i * dim + d], gsd = 0;
                for (int h = 0; h < H; h++)
                {
                    double a = pre[d * H + h];
                    double act = a > 0 ? a : 0;
                    gw[o + 2 * H + u * H + h] += gPos * act;
                    gw[o + 2 * H + wrong * H + h] += gNeg * act;
                    if (a <= 0) continue;
                    double gAct = gPos * _w[o + 2 * H + u * H + h] + gNeg * _w[o + 2 * H + wrong * H + h];
                    gw[o + h] += gAct * sd;
                    gw[o + H + h] += gAct;
                    gsd += gAct * _w[o + h];
                }
                gw[o + 2 * H + K * H + u] += gPos;
                gw[o + 2 * H + K * H + wrong] += gNeg;
                gs[i * dim + d] = gsd;
            }
        }
        if (gradient) flow.ForwardVjp(batch.Inputs, batch.Contexts, gs, default, grad.Slice(0, p), default, default);
        return loss;
    }
}

/// <summary>Ridge regression of y on the quadratic features (1, x₁, x₂, x₁², x₁x₂, x₂²) of x, the intercept not penalised.</summary>
public sealed class QuadraticRidge
{
    public const int Features = 6;
    private readonly double[] _beta = new double[Features];

    public static void Featurize(ReadOnlySpan<double> x, Span<double> phi)
    {
        phi[0] = 1; phi[1] = x[0]; phi[2] = x[1]; phi[3] = x[0] * x[0]; phi[4] = x[0] * x[1]; phi[5] = x[1] * x[1];
    }

    /// <summary>Fits on rows z = (x₁, x₂, y) (row-major [n, 3]) with penalty λ·n (λ per row, so it does not fade with n).</summary>
    public static QuadraticRidge Fit(ReadOnlySpan<double> rows, double lambda)
    {
        int n = rows.Length / 3;
        var a = new double[Features, Features];
        var b = new double[Features];
        Span<double> phi = stackalloc double[Features];
        for (int i = 0; i < n; i++)
        {
            Featurize(rows.Slice(3 * i, 2), phi);
            double y = rows[3 * i + 2];
            for (int j = 0; j < Features; j++)
            {
                b[j] += phi[j] * y;
                for (int k = 0; k < Features; k++) a[j, k] += phi[j] * phi[k];
            }
        }
        for (int j = 1; j < Features; j++) a[j, j] += lambda * n;
        var model = new QuadraticRidge();
        Solve(a, b, model._beta);
        return model;
    }

    public double Predict(ReadOnlySpan<double> x)
    {
        Span<double> phi = stackalloc double[Features];
        Featurize(x, phi);
        double v = 0;
        for (int j = 0; j < Features; j++) v += _beta[j] * phi[j];
        return v;
    }

    /// <summary>Mean squared error of y on rows z = (x₁, x₂, y).</summary>
    public double Mse(ReadOnlySpan<double> rows)
    {
        int n = rows.Length / 3;
        double s = 0;
        for (int i = 0; i < n; i++)
        {
            double e = Predict(rows.Slice(3 * i, 2)) - rows[3 * i + 2];
            s += e * e;
        }
        return s / n;
    }

    /// <summary>Gaussian elimination with partial pivoting (the system is small and, with the ridge, well posed).</summary>
    private static void Solve(double[,] a, double[] b, double[] x)
    {
        int n = b.Length;
        for (int c = 0; c < n; c++)
        {
            int best = c;
            for (int r = c + 1; r < n; r++) if (Math.Abs(a[r, c]) > Math.Abs(a[best, c])) best = r;
            if (best != c)
            {
                for (int k = 0; k < n; k++) (a[c, k], a[best, k]) = (a[best, k], a[c, k]);
                (b[c], b[best]) = (b[best], b[c]);
            }
            for (int r = c + 1; r < n; r++)
            {
                double f = a[r, c] / a[c, c];
                for (int k = c; k < n; k++) a[r, k] -= f * a[c, k];
                b[r] -= f * b[c];
            }
        }
        for (int r = n - 1; r >= 0; r--)
        {
            double v = b[r];
            for (int k = r + 1; k < n; k++) v -= a[r, k] * x[k];
            x[r] = v / a[r, r];
        }
    }
}

/// <summary>The whole experiment for one seed: data, GCL, augmentation, the three regressions.</summary>
public static class Experiment
{
    public const int SourceDomains = 10, RowsPerSource = 600, TestRows = 2000;
    public const double Lambda = 0.05;
    /// <summary>Hidden width of each component's classifier ψ_d, and the learning rate of GCL.</summary>
    public const int Hidden = 32;
    public const double Rate = 3e-3;
    public const int DefaultSteps = 6000;

    /// <summary>Source data (rows, domain labels) of a generator.</summary>
    public static (double[] Rows, double[] Labels) Sources(DomainGenerator g, FlowRandom r)
    {
        var rows = new double[SourceDomains * RowsPerSource * 3];
        var labels = new double[SourceDomains * RowsPerSource];
        for (int k = 0; k < SourceDomains; k++)
        {
            g.Sample(k, RowsPerSource, r).CopyTo(rows, k * RowsPerSource * 3);
            for (int i = 0; i < RowsPerSource; i++) labels[k * RowsPerSource + i] = k;
        }
        return (rows, labels);
    }

    /// <summary>Trains the flow by GCL on the sources.</summary>
    public static TrainingResult TrainGcl(MechanismFlow flow, double[] rows, double[] labels, ulong seed, int steps = DefaultSteps)
    {
        var objective = new ContrastiveObjective(3, SourceDomains, Hidden, seed);
        return FlowTrainer.Fit<double>(flow, new FlowData<double>(rows, default, labels), objective,
            new TrainingOptions { Steps = steps, BatchSize = 256, LearningRate = Rate, MinLearningRate = 1e-4, EvaluateEvery = 250, GradientClipNorm = 10, Seed = seed, ValidationFraction = 0.1 });
    }

    /// <summary>
    /// The paper's augmentation: ŝ = f̂⁻¹(z) of the n target rows, all nᴰ combinations (ŝ₁[i₁], ŝ₂[i₂], ŝ₃[i₃]), mapped back by
    /// f̂; rows that are not finite or fall outside the source data's bounding box (widened by 10 % per side; the paper uses a
    /// one-class SVM on the source data for this) are dropped; the original rows are kept.
    /// </summary>
    public static double[] Augment(ICouplingFlow<double> flow, ReadOnlySpan<double> target, ReadOnlySpan<double> sourceRows)
    {
        int n = target.Length / 3;
        var s = new double[n * 3];
        flow.Forward(target, default, s, default);
        int m = n * n * n;
        var combos = new double[m * 3];
        int c = 0;
        for (int i = 0; i < n; i++)
            for (int j = 0; j < n; j++)
                for (int k = 0; k < n; k++)
                {
                    combos[c++] = s[3 * i];
                    combos[c++] = s[3 * j + 1];
                    combos[c++] = s[3 * k + 2];
                }
        var x = new double[m * 3];
        flow.Inverse(combos, default, x, default);
        Span<double> lo = stackalloc double[3], hi = stackalloc double[3];
        lo.Fill(double.PositiveInfinity);
        hi.Fill(double.NegativeInfinity);
        for (int i = 0; i < sourceRows.Length; i++)
        {
            lo[i % 3] = Math.Min(lo[i % 3], sourceRows[i]);
            hi[i % 3] = Math.Max(hi[i % 3], sourceRows[i]);
        }
        var kept = new List<double>(target.ToArray());
        for (int i = 0; i < m; i++)
        {
            bool ok = true;
            for (int d = 0; d < 3; d++)
            {
                double v = x[3 * i + d], pad = 0.1 * (hi[d] - lo[d]);
                if (!double.IsFinite(v) || v < lo[d] - pad || v > hi[d] + pad) ok = false;
            }
            if (ok) for (int d = 0; d < 3; d++) kept.Add(x[3 * i + d]);
        }
        return kept.ToArray();
    }

    /// <summary>Mean over domains and component pairs of |corr(ŝ_a, ŝ_b)| on held-out rows of every source domain.</summary>
    public static double MeanAbsoluteCorrelation(ICouplingFlow<double> flow, DomainGenerator g, int rowsPerDomain, FlowRandom r, bool mapped = true)
    {
        double total = 0;
        int count = 0;
        for (int k = 0; k < SourceDomains; k++)
        {
            double[] z = g.Sample(k, rowsPerDomain, r);
            double[] s = z;
            if (mapped)
            {
                s = new double[z.Length];
                flow.Forward(z, default, s, default);
            }
            for (int a = 0; a < 3; a++)
                for (int b = a + 1; b < 3; b++)
                {
                    total += Math.Abs(Correlation(s, a, b));
                    count++;
                }
        }
        return total / count;
    }

    private static double Correlation(double[] rows, int a, int b)
    {
        int n = rows.Length / 3;
        double ma = 0, mb = 0;
        for (int i = 0; i < n; i++) { ma += rows[3 * i + a]; mb += rows[3 * i + b]; }
        ma /= n; mb /= n;
        double sab = 0, saa = 0, sbb = 0;
        for (int i = 0; i < n; i++)
        {
            double da = rows[3 * i + a] - ma, db = rows[3 * i + b] - mb;
            sab += da * db; saa += da * da; sbb += db * db;
        }
        return sab / Math.Sqrt(saa * sbb);
    }

    /// <summary>Target test MSE of target only, source + target, augmented, for each target size, for one seed.</summary>
    public static (int Size, double TargetOnly, double SourceAndTarget, double Augmented)[] Run(ulong seed, int[] sizes, int steps = DefaultSteps, Action<string>? log = null)
    {
        var g = new DomainGenerator(seed, SourceDomains + 1);
        var r = new FlowRandom(seed * 7919 + 1);
        var (rows, labels) = Sources(g, r);
        var flow = new MechanismFlow(seed);
        TrainingResult result = TrainGcl(flow, rows, labels, seed, steps);
        log?.Invoke($"seed {seed}: GCL {result}; held-out mean |corr| of ŝ {MeanAbsoluteCorrelation(flow, g, 1000, new FlowRandom(seed + 5)):F3} (of z {MeanAbsoluteCorrelation(flow, g, 1000, new FlowRandom(seed + 5), mapped: false):F3})");
        double[] test = g.Sample(SourceDomains, TestRows, r);
        var results = new List<(int, double, double, double)>();
        foreach (int n in sizes)
        {
            double[] target = g.Sample(SourceDomains, n, r);
            double targetOnly = QuadraticRidge.Fit(target, Lambda).Mse(test);
            var pooled = new double[rows.Length + target.Length];
            rows.CopyTo(pooled, 0);
            target.CopyTo(pooled, rows.Length);
            double sourceAndTarget = QuadraticRidge.Fit(pooled, Lambda).Mse(test);
            double[] augmented = Augment(flow, target, rows);
            double aug = QuadraticRidge.Fit(augmented, Lambda).Mse(test);
            results.Add((n, targetOnly, sourceAndTarget, aug));
        }
        return results.ToArray();
    }
}
