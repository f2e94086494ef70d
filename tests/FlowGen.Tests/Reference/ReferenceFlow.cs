// Scalar double-precision reference implementation of a FlowGen flow, written from docs/model.md alone.
// Deliberately plain: one coordinate at a time, no SIMD, no shared code with the generator. Inverses of the
// sum-of-squares and deep-sigmoidal transformers use plain bisection (not the generator's Newton iteration).

#nullable enable

using System;
using System.Collections.Generic;
using System.Linq;

namespace FlowGen.Tests.Reference;

/// <summary>Knots and derivatives of one rational-quadratic spline (§3).</summary>
/// <param name="Xs">x-knots x₀ = −B … x_K = B (K + 1 values).</param>
/// <param name="Ys">y-knots (K + 1 values).</param>
/// <param name="Widths">bin widths w_k (K values, from the softmax formula).</param>
/// <param name="Heights">bin heights h_k (K values).</param>
/// <param name="Derivatives">δ₀ … δ_K (K + 1 values, δ₀ = δ_K = 1).</param>
public sealed record SplineGeometry(double[] Xs, double[] Ys, double[] Widths, double[] Heights, double[] Derivatives);

/// <summary>The reference flow for one <see cref="FlowConfig"/>. All arithmetic in double.</summary>
public sealed class ReferenceFlow
{
    /// <summary>ε of the sum-of-squares transformer.</summary>
    public const double SumOfSquaresEpsilon = 1e-3;

    /// <summary>Minimum bin width / height fraction m of the spline.</summary>
    public const double SplineMinBin = 1e-3;

    /// <summary>δ_min of the spline.</summary>
    public const double SplineMinDerivative = 1e-3;

    private readonly ResolvedLayer[] layers;
    private readonly int[]?[] permutations;

    public ReferenceFlow(FlowConfig config)
    {
        Config = config;
        layers = config.Resolve().ToArray();
        permutations = new int[]?[layers.Length];
        for (int l = 0; l < layers.Length; l++)
        {
            ResolvedLayer r = layers[l];
            if (r.Type == ReferenceLayerType.Permutation)
            {
                if (r.Order != null) permutations[l] = r.Order.ToArray();
                else if (r.PermutationKind == PermutationKind.Reverse) permutations[l] = Enumerable.Range(0, Dim).Select(i => Dim - 1 - i).ToArray();
                else permutations[l] = RandomPermutation(Dim, r.ShuffleSeed!.Value);
            }
            else if (r.Type == ReferenceLayerType.InvertibleLinear)
            {
                permutations[l] = r.ShuffleSeed is long s ? RandomPermutation(Dim, s) : Enumerable.Range(0, Dim).ToArray();
            }
        }
        LayerParameterCount = layers.Sum(r => r.ParameterCount);
        ParameterCount = LayerParameterCount + (config.Base?.ParameterCount(config.Dim) ?? 0);
    }

    public FlowConfig Config { get; }

    public int Dim => Config.Dim;

    public int Context => Config.Context;

    public int ParameterCount { get; }

    /// <summary>Parameters of the layers; the base's follow (§5, §7).</summary>
    public int LayerParameterCount { get; }

    /// <summary>The base's block of the parameter vector (empty for the standard normal).</summary>
    public double[] BaseParameters(double[] parameters) => parameters.AsSpan(LayerParameterCount).ToArray();

    /// <summary>log p_Z(z): the declared base (§7), or the standard normal.</summary>
    public double BaseLogDensity(double[] parameters, double[] z)
    {
        if (Config.Base is { } b) return b.LogDensity(BaseParameters(parameters), z);
        double sum = 0;
        for (int i = 0; i < Dim; i++) sum += z[i] * z[i];
        return -0.5 * sum - 0.5 * Dim * Math.Log(2 * Math.PI);
    }

    /// <summary>log(w_c·p_c(z)) + log|det ∂z/∂x| of a mixture base (log p(x, c)).</summary>
    public double ComponentLogJoint(double[] parameters, double[] x, double[]? context, int component)
    {
        var z = new double[Dim];
        double logDet = Forward(parameters, x, context, z);
        return Config.Base!.ComponentLogJoint(BaseParameters(parameters), z, component) + logDet;
    }

    /// <summary>The resolved stack (stack index = list index).</summary>
    public IReadOnlyList<ResolvedLayer> Layers => layers;

    /// <summary>
    /// π of a permutation layer (y_i = x_{π(i)}) or of the fixed permutation P of an invertible linear layer
    /// ((P·w)_i = w_{π(i)}). Throws for other layers.
    /// </summary>
    public int[] Permutation(int layerIndex) =>
        permutations[layerIndex]?.ToArray() ?? throw new ArgumentException($"layer {layerIndex} is a {layers[layerIndex].Type}, not a permutation or invertible linear layer");

    /// <summary>Kept coordinates A of a coupling layer (increasing).</summary>
    public int[] Kept(int layerIndex) => CouplingAt(layerIndex).Kept.ToArray();

    /// <summary>Transformed coordinates B of a coupling layer (increasing).</summary>
    public int[] Transformed(int layerIndex) => CouplingAt(layerIndex).Transformed.ToArray();

    private ResolvedLayer CouplingAt(int layerIndex) =>
        layers[layerIndex].Type == ReferenceLayerType.Coupling ? layers[layerIndex] : throw new ArgumentException($"layer {layerIndex} is not a coupling");

    // ------------------------------------------------------------------------------------------------
    // Whole flow

    /// <summary>z = f(x); returns log|det ∂z/∂x|.</summary>
    public double Forward(double[] parameters, double[] x, double[]? context, double[] z)
    {
        CheckArguments(parameters, x, context, z);
        double[] current = (double[])x.Clone();
        double logDet = 0;
        for (int l = 0; l < layers.Length; l++)
        {
            var next = new double[Dim];
            logDet += ForwardLayer(l, parameters, current, context, next);
            current = next;
        }
        Array.Copy(current, z, Dim);
        return logDet;
    }

    /// <summary>x = f⁻¹(z); returns log|det ∂x/∂z| (= −log|det ∂z/∂x| at x).</summary>
    public double Inverse(double[] parameters, double[] z, double[]? context, double[] x)
    {
        CheckArguments(parameters, z, context, x);
        double[] current = (double[])z.Clone();
        double logDet = 0;
        for (int l = layers.Length - 1; l >= 0; l--)
        {
            var previous = new double[Dim];
            logDet += InverseLayer(l, parameters, current, context, previous);
            current = previous;
        }
        Array.Copy(current, x, Dim);
        return logDet;
    }

    /// <summary>log p(x) = −½ Σ zᵢ² − (D/2)·log(2π) + log|det ∂z/∂x|.</summary>
    public double LogProb(double[] parameters, double[] x, double[]? context)
    {
        var z = new double[Dim];
        double logDet = Forward(parameters, x, context, z);
        if (Config.Base is not null) return BaseLogDensity(parameters, z) + logDet;
        double sum = 0;
        for (int i = 0; i < Dim; i++) sum += z[i] * z[i];
        return -0.5 * sum - 0.5 * Dim * Math.Log(2 * Math.PI) + logDet;
    }

    private void CheckArguments(double[] parameters, double[] input, double[]? context, double[] output)
    {
        if (parameters.Length != ParameterCount) throw new ArgumentException($"expected {ParameterCount} parameters, got {parameters.Length}");
        if (input.Length != Dim || output.Length != Dim) throw new ArgumentException($"expected vectors of length {Dim}");
        CheckContext(context);
    }

    private void CheckContext(double[]? context)
    {
        int length = context?.Length ?? 0;
        if (length != Context) throw new ArgumentException($"expected a context of length {Context}, got {length}");
    }

    // ------------------------------------------------------------------------------------------------
    // One layer

    /// <summary>Applies layer <paramref name="layerIndex"/> forward (y from x); returns its log|det|.</summary>
    public double ForwardLayer(int layerIndex, double[] parameters, double[] x, double[]? context, double[] y)
    {
        ResolvedLayer r = layers[layerIndex];
        int D = Dim;
        int off = r.ParameterOffset;
        switch (r.Type)
        {
            case ReferenceLayerType.Permutation:
            {
                int[] pi = permutations[layerIndex]!;
                for (int i = 0; i < D; i++) y[i] = x[pi[i]];
                return 0;
            }
            case ReferenceLayerType.ActNorm:
            {
                double logDet = 0;
                for (int i = 0; i < D; i++)
                {
                    double logScale = parameters[off + i];
                    double bias = parameters[off + D + i];
                    y[i] = x[i] * Math.Exp(logScale) + bias;
                    logDet += logScale;
                }
                return logDet;
            }
            case ReferenceLayerType.InvertibleLinear:
            {
                double[,] lower = LowerMatrix(parameters, off);
                double[,] upper = UpperMatrix(parameters, off);
                int n = D * (D - 1) / 2;
                int logScaleOffset = off + 2 * n, biasOffset = off + 2 * n + D;
                int[] pi = permutations[layerIndex]!;
                var v = new double[D];
                for (int i = 0; i < D; i++)
                {
                    double sum = Math.Exp(parameters[logScaleOffset + i]) * x[i];
                    for (int j = i + 1; j < D; j++) sum += upper[i, j] * x[j];
                    v[i] = sum;
                }
                var w = new double[D];
                for (int i = 0; i < D; i++)
                {
                    double sum = v[i];
                    for (int j = 0; j < i; j++) sum += lower[i, j] * v[j];
                    w[i] = sum;
                }
                double logDet = 0;
                for (int i = 0; i < D; i++)
                {
                    y[i] = w[pi[i]] + parameters[biasOffset + i];
                    logDet += parameters[logScaleOffset + i];
                }
                return logDet;
            }
            case ReferenceLayerType.Coupling:
            {
                double[] o = ConditionerOutput(layerIndex, parameters, x, context);
                Array.Copy(x, y, D);
                int nb = r.Transformed.Length;
                double logDet = 0;
                for (int b = 0; b < nb; b++)
                {
                    double[] theta = TransformerParameters(r, o, b);
                    int i = r.Transformed[b];
                    y[i] = Transform(r, x[i], theta, out double logDerivative);
                    logDet += logDerivative;
                }
                return logDet;
            }
            default:
                throw new InvalidOperationException("unknown layer type");
        }
    }

    /// <summary>Applies layer <paramref name="layerIndex"/> inversely (x from y); returns log|det ∂x/∂y|.</summary>
    public double InverseLayer(int layerIndex, double[] parameters, double[] y, double[]? context, double[] x)
    {
        ResolvedLayer r = layers[layerIndex];
        int D = Dim;
        int off = r.ParameterOffset;
        switch (r.Type)
        {
            case ReferenceLayerType.Permutation:
            {
                int[] pi = permutations[layerIndex]!;
                for (int i = 0; i < D; i++) x[pi[i]] = y[i];
                return 0;
            }
            case ReferenceLayerType.ActNorm:
            {
                double logDet = 0;
                for (int i = 0; i < D; i++)
                {
                    double logScale = parameters[off + i];
                    double bias = parameters[off + D + i];
                    x[i] = (y[i] - bias) * Math.Exp(-logScale);
                    logDet -= logScale;
                }
                return logDet;
            }
            case ReferenceLayerType.InvertibleLinear:
            {
                double[,] lower = LowerMatrix(parameters, off);
                double[,] upper = UpperMatrix(parameters, off);
                int n = D * (D - 1) / 2;
                int logScaleOffset = off + 2 * n, biasOffset = off + 2 * n + D;
                int[] pi = permutations[layerIndex]!;
                // y_i = w_{π(i)} + bias_i  ⇒  w_{π(i)} = y_i − bias_i
                var w = new double[D];
                for (int i = 0; i < D; i++) w[pi[i]] = y[i] - parameters[biasOffset + i];
                // w = L v, L unit lower triangular: forward substitution
                var v = new double[D];
                for (int i = 0; i < D; i++)
                {
                    double sum = w[i];
                    for (int j = 0; j < i; j++) sum -= lower[i, j] * v[j];
                    v[i] = sum;
                }
                // v = (U + diag(exp ℓ)) x: back substitution
                for (int i = D - 1; i >= 0; i--)
                {
                    double sum = v[i];
                    for (int j = i + 1; j < D; j++) sum -= upper[i, j] * x[j];
                    x[i] = sum * Math.Exp(-parameters[logScaleOffset + i]);
                }
                double logDet = 0;
                for (int i = 0; i < D; i++) logDet -= parameters[logScaleOffset + i];
                return logDet;
            }
            case ReferenceLayerType.Coupling:
            {
                // The kept coordinates pass through, so the conditioner sees the same input as in the forward pass.
                double[] o = ConditionerOutput(layerIndex, parameters, y, context);
                Array.Copy(y, x, D);
                int nb = r.Transformed.Length;
                double logDet = 0;
                for (int b = 0; b < nb; b++)
                {
                    double[] theta = TransformerParameters(r, o, b);
                    int i = r.Transformed[b];
                    x[i] = TransformInverse(r, y[i], theta, out double logDerivative);
                    logDet -= logDerivative;
                }
                return logDet;
            }
            default:
                throw new InvalidOperationException("unknown layer type");
        }
    }

    /// <summary>The strict lower part of L of an invertible linear layer as a D×D matrix (zero elsewhere).</summary>
    private double[,] LowerMatrix(double[] parameters, int offset)
    {
        var m = new double[Dim, Dim];
        int k = offset;
        for (int i = 1; i < Dim; i++)
            for (int j = 0; j < i; j++)
                m[i, j] = parameters[k++];
        return m;
    }

    /// <summary>The strictly upper triangular U of an invertible linear layer as a D×D matrix.</summary>
    private double[,] UpperMatrix(double[] parameters, int offset)
    {
        var m = new double[Dim, Dim];
        int k = offset + Dim * (Dim - 1) / 2;
        for (int i = 0; i < Dim - 1; i++)
            for (int j = i + 1; j < Dim; j++)
                m[i, j] = parameters[k++];
        return m;
    }

    /// <summary>The dense matrix W = P·L·(U + diag(exp ℓ)) of an invertible linear layer (for tests).</summary>
    public double[,] InvertibleLinearMatrix(int layerIndex, double[] parameters)
    {
        ResolvedLayer r = layers[layerIndex];
        if (r.Type != ReferenceLayerType.InvertibleLinear) throw new ArgumentException($"layer {layerIndex} is not an invertible linear layer");
        int D = Dim;
        double[,] lower = LowerMatrix(parameters, r.ParameterOffset);
        double[,] upper = UpperMatrix(parameters, r.ParameterOffset);
        int logScaleOffset = r.ParameterOffset + D * (D - 1);
        for (int i = 0; i < D; i++)
        {
            lower[i, i] = 1;
            upper[i, i] = Math.Exp(parameters[logScaleOffset + i]);
        }
        var lu = new double[D, D];
        for (int i = 0; i < D; i++)
            for (int j = 0; j < D; j++)
            {
                double sum = 0;
                for (int k = 0; k < D; k++) sum += lower[i, k] * upper[k, j];
                lu[i, j] = sum;
            }
        int[] pi = permutations[layerIndex]!;
        var w = new double[D, D];
        for (int i = 0; i < D; i++)
            for (int j = 0; j < D; j++)
                w[i, j] = lu[pi[i], j];
        return w;
    }

    // ------------------------------------------------------------------------------------------------
    // Conditioner and transformers

    /// <summary>The conditioner output o (length P·|B|) of coupling layer <paramref name="layerIndex"/> for input vector x.</summary>
    public double[] ConditionerOutput(int layerIndex, double[] parameters, double[] x, double[]? context)
    {
        ResolvedLayer r = CouplingAt(layerIndex);
        CheckContext(context);
        var input = new double[r.Kept.Length + Context];
        for (int a = 0; a < r.Kept.Length; a++) input[a] = x[r.Kept[a]];
        for (int k = 0; k < Context; k++) input[r.Kept.Length + k] = context![k];

        int off = r.ParameterOffset;
        int[] widths = r.DenseWidths;
        double[] current = input;
        for (int k = 0; k + 1 < widths.Length; k++)
        {
            int nIn = widths[k], nOut = widths[k + 1];
            var next = new double[nOut];
            for (int j = 0; j < nOut; j++)
            {
                double sum = parameters[off + nIn * nOut + j]; // bias
                for (int i = 0; i < nIn; i++) sum += current[i] * parameters[off + i * nOut + j];
                next[j] = sum;
            }
            off += nIn * nOut + nOut;
            bool hidden = k + 2 < widths.Length;
            if (hidden)
                for (int j = 0; j < nOut; j++) next[j] = Activate(r.Activation, next[j]);
            current = next;
        }
        return current;
    }

    /// <summary>θ_b: parameter p of transformed coordinate b is o[p·|B| + b].</summary>
    private static double[] TransformerParameters(ResolvedLayer r, double[] o, int b)
    {
        int nb = r.Transformed.Length;
        var theta = new double[r.TransformerParameters];
        for (int p = 0; p < theta.Length; p++) theta[p] = o[p * nb + b];
        return theta;
    }

    private static double Transform(ResolvedLayer r, double x, double[] theta, out double logDerivative) => r.Kind switch
    {
        CouplingKind.Affine => Affine(x, theta[0], theta[1], r.Clamp, out logDerivative),
        CouplingKind.Additive => Additive(x, theta[0], out logDerivative),
        CouplingKind.SumOfSquares => SumOfSquares(x, theta, r.Degree, r.Squares, r.Bound, out logDerivative),
        CouplingKind.DeepSigmoidal => DeepSigmoidal(x, theta, r.SigmoidUnits, r.SigmoidLayers, out logDerivative),
        CouplingKind.Spline => Spline(x, theta, r.Bins, r.Bound, out logDerivative),
        _ => throw new InvalidOperationException("unknown coupling kind"),
    };

    private static double TransformInverse(ResolvedLayer r, double y, double[] theta, out double logDerivative) => r.Kind switch
    {
        CouplingKind.Affine => AffineInverse(y, theta[0], theta[1], r.Clamp, out logDerivative),
        CouplingKind.Additive => AdditiveInverse(y, theta[0], out logDerivative),
        CouplingKind.SumOfSquares => SumOfSquaresInverse(y, theta, r.Degree, r.Squares, r.Bound, out logDerivative),
        CouplingKind.DeepSigmoidal => DeepSigmoidalInverse(y, theta, r.SigmoidUnits, r.SigmoidLayers, out logDerivative),
        CouplingKind.Spline => SplineInverse(y, theta, r.Bins, r.Bound, out logDerivative),
        _ => throw new InvalidOperationException("unknown coupling kind"),
    };

    // --- Affine

    /// <summary>s̃ = K·tanh(s/K), or s when K = 0.</summary>
    public static double ClampedLogScale(double s, double clamp) => clamp == 0 ? s : clamp * Math.Tanh(s / clamp);

    /// <summary>y = x·exp(s̃) + t; log τ′ = s̃.</summary>
    public static double Affine(double x, double s, double t, double clamp, out double logDerivative)
    {
        double sc = ClampedLogScale(s, clamp);
        logDerivative = sc;
        return x * Math.Exp(sc) + t;
    }

    /// <summary>x = (y − t)·exp(−s̃); <paramref name="logDerivative"/> is the forward log τ′ = s̃.</summary>
    public static double AffineInverse(double y, double s, double t, double clamp, out double logDerivative)
    {
        double sc = ClampedLogScale(s, clamp);
        logDerivative = sc;
        return (y - t) * Math.Exp(-sc);
    }

    // --- Additive

    public static double Additive(double x, double t, out double logDerivative)
    {
        logDerivative = 0;
        return x + t;
    }

    public static double AdditiveInverse(double y, double t, out double logDerivative)
    {
        logDerivative = 0;
        return y - t;
    }

    // --- Sum of squares

    /// <summary>
    /// docs/model.md §3, with u = x/B: inside [−B, B], τ(x) = c + ε·x + B·Σₙ βₙ uⁿ⁺¹/(n+1) and τ′ = ε + Σₖ (Σₗ a_kl uˡ)²;
    /// beyond ±B, τ(x) = τ(±B) + τ′(±B)·(x ∓ B) and τ′ = τ′(±B). θ = (c, a₀₀ … a_{K−1,r}).
    /// </summary>
    public static double SumOfSquares(double x, double[] theta, int degree, int squares, double bound, out double logDerivative)
    {
        if (double.IsNaN(x))
        {
            logDerivative = double.NaN;
            return double.NaN;
        }
        if (x > bound || x < -bound)
        {
            double edge = x > bound ? bound : -bound;
            double atEdge = SumOfSquares(edge, theta, degree, squares, bound, out logDerivative);
            return atEdge + Math.Exp(logDerivative) * (x - edge);
        }
        int r = degree, K = squares;
        double c = theta[0], u = x / bound;
        double A(int k, int l) => theta[1 + k * (r + 1) + l];

        double derivative = SumOfSquaresEpsilon;
        for (int k = 0; k < K; k++)
        {
            double poly = 0;
            for (int l = 0; l <= r; l++) poly += A(k, l) * Power(u, l);
            derivative += poly * poly;
        }
        logDerivative = Math.Log(derivative);

        double polynomial = 0;
        for (int n = 0; n <= 2 * r; n++)
        {
            double beta = 0;
            for (int k = 0; k < K; k++)
                for (int l = 0; l <= r; l++)
                {
                    int m = n - l;
                    if (m >= 0 && m <= r) beta += A(k, l) * A(k, m);
                }
            polynomial += beta * Power(u, n + 1) / (n + 1);
        }
        return c + SumOfSquaresEpsilon * x + bound * polynomial;
    }

    /// <summary>Root of τ(x) = y by bisection; <paramref name="logDerivative"/> is the forward log τ′ at the root.</summary>
    public static double SumOfSquaresInverse(double y, double[] theta, int degree, int squares, double bound, out double logDerivative)
    {
        double x = SolveIncreasing(v => SumOfSquares(v, theta, degree, squares, bound, out _), y);
        if (double.IsNaN(x))
        {
            logDerivative = double.NaN;
            return double.NaN;
        }
        SumOfSquares(x, theta, degree, squares, bound, out logDerivative);
        return x;
    }

    private static double Power(double x, int n)
    {
        double result = 1;
        for (int i = 0; i < n; i++) result *= x;
        return result;
    }

    // --- Deep sigmoidal

    /// <summary>One DSF block with θ_q = (ã[n], b[n], w̃[n]) starting at <paramref name="offset"/> in <paramref name="theta"/>.</summary>
    public static double DeepSigmoidalBlock(double v, double[] theta, int offset, int units, out double logDerivative)
    {
        int n = units;
        var logW = new double[n];
        var wTilde = new double[n];
        for (int j = 0; j < n; j++) wTilde[j] = theta[offset + 2 * n + j];
        double lse = LogSumExp(wTilde);
        for (int j = 0; j < n; j++) logW[j] = wTilde[j] - lse;

        var termH = new double[n];
        var termOneMinusH = new double[n];
        var termDerivative = new double[n];
        for (int j = 0; j < n; j++)
        {
            double a = Softplus(theta[offset + j]);
            double b = theta[offset + n + j];
            double u = a * v + b;
            double logSigU = LogSigmoid(u);
            double logSigMinusU = LogSigmoid(-u);
            termH[j] = logW[j] + logSigU;
            termOneMinusH[j] = logW[j] + logSigMinusU;
            termDerivative[j] = logW[j] + Math.Log(a) + logSigU + logSigMinusU;
        }
        double logH = LogSumExp(termH);
        double logOneMinusH = LogSumExp(termOneMinusH);
        logDerivative = LogSumExp(termDerivative) - logH - logOneMinusH;
        return logH - logOneMinusH;
    }

    /// <summary>L DSF blocks in order; log τ′ is the sum of the blocks' log out′. θ has 3·n·L values.</summary>
    public static double DeepSigmoidal(double x, double[] theta, int units, int blocks, out double logDerivative)
    {
        double v = x;
        logDerivative = 0;
        for (int q = 0; q < blocks; q++)
        {
            v = DeepSigmoidalBlock(v, theta, 3 * units * q, units, out double ld);
            logDerivative += ld;
        }
        return v;
    }

    /// <summary>Inverse by bisection, block by block in reverse order; <paramref name="logDerivative"/> is the forward log τ′ at the result.</summary>
    public static double DeepSigmoidalInverse(double y, double[] theta, int units, int blocks, out double logDerivative)
    {
        double v = y;
        for (int q = blocks - 1; q >= 0; q--)
        {
            int offset = 3 * units * q;
            v = SolveIncreasing(t => DeepSigmoidalBlock(t, theta, offset, units, out _), v);
        }
        if (double.IsNaN(v))
        {
            logDerivative = double.NaN;
            return double.NaN;
        }
        DeepSigmoidal(v, theta, units, blocks, out logDerivative);
        return v;
    }

    // --- Rational-quadratic spline

    /// <summary>Knots, widths, heights and derivatives of the spline with θ = (w̃[K], h̃[K], d̃[K−1]).</summary>
    public static SplineGeometry Geometry(double[] theta, int bins, double bound)
    {
        int K = bins;
        double B = bound;
        var wTilde = new double[K];
        var hTilde = new double[K];
        for (int k = 0; k < K; k++)
        {
            wTilde[k] = theta[k];
            hTilde[k] = theta[K + k];
        }
        double[] softW = Softmax(wTilde), softH = Softmax(hTilde);
        var widths = new double[K];
        var heights = new double[K];
        for (int k = 0; k < K; k++)
        {
            widths[k] = 2 * B * (SplineMinBin + (1 - SplineMinBin * K) * softW[k]);
            heights[k] = 2 * B * (SplineMinBin + (1 - SplineMinBin * K) * softH[k]);
        }
        var xs = new double[K + 1];
        var ys = new double[K + 1];
        xs[0] = -B;
        ys[0] = -B;
        for (int k = 1; k < K; k++)
        {
            xs[k] = xs[k - 1] + widths[k - 1];
            ys[k] = ys[k - 1] + heights[k - 1];
        }
        xs[K] = B;
        ys[K] = B;
        var derivatives = new double[K + 1];
        derivatives[0] = 1;
        derivatives[K] = 1;
        for (int k = 1; k < K; k++) derivatives[k] = SplineMinDerivative + Softplus(theta[2 * K + k - 1]);
        return new SplineGeometry(xs, ys, widths, heights, derivatives);
    }

    /// <summary>The spline τ(x) with identity outside [−B, B].</summary>
    public static double Spline(double x, double[] theta, int bins, double bound, out double logDerivative)
    {
        if (double.IsNaN(x))
        {
            logDerivative = double.NaN;
            return double.NaN;
        }
        if (x < -bound || x > bound)
        {
            logDerivative = 0;
            return x;
        }
        SplineGeometry g = Geometry(theta, bins, bound);
        int k = 0;
        while (k < bins - 1 && x >= g.Xs[k + 1]) k++;
        double w = g.Widths[k], h = g.Heights[k];
        double s = h / w;
        double xi = (x - g.Xs[k]) / w;
        double dk = g.Derivatives[k], dk1 = g.Derivatives[k + 1];
        double denominator = s + (dk1 + dk - 2 * s) * xi * (1 - xi);
        double numerator = h * (s * xi * xi + dk * xi * (1 - xi));
        double derivative = s * s * (dk1 * xi * xi + 2 * s * xi * (1 - xi) + dk * (1 - xi) * (1 - xi)) / (denominator * denominator);
        logDerivative = Math.Log(derivative);
        return g.Ys[k] + numerator / denominator;
    }

    /// <summary>Spline inverse by the stable quadratic root; <paramref name="logDerivative"/> is the forward log τ′ at the result.</summary>
    public static double SplineInverse(double y, double[] theta, int bins, double bound, out double logDerivative)
    {
        if (double.IsNaN(y))
        {
            logDerivative = double.NaN;
            return double.NaN;
        }
        if (y < -bound || y > bound)
        {
            logDerivative = 0;
            return y;
        }
        SplineGeometry g = Geometry(theta, bins, bound);
        int k = 0;
        while (k < bins - 1 && y >= g.Ys[k + 1]) k++;
        double w = g.Widths[k], h = g.Heights[k];
        double s = h / w;
        double dk = g.Derivatives[k], dk1 = g.Derivatives[k + 1];
        double dy = y - g.Ys[k];
        double delta = dk1 + dk - 2 * s;
        double a = h * (s - dk) + dy * delta;
        double b = h * dk - dy * delta;
        double c = -s * dy;
        double discriminant = Math.Max(0, b * b - 4 * a * c);
        double xi = 2 * c / (-b - Math.Sqrt(discriminant));
        double x = g.Xs[k] + xi * w;
        double denominator = s + delta * xi * (1 - xi);
        double derivative = s * s * (dk1 * xi * xi + 2 * s * xi * (1 - xi) + dk * (1 - xi) * (1 - xi)) / (denominator * denominator);
        logDerivative = Math.Log(derivative);
        return x;
    }

    // ------------------------------------------------------------------------------------------------
    // Root finding: plain bisection

    /// <summary>
    /// The x with f(x) = y for an increasing f: grow a bracket [−2ᵏ, 2ᵏ] until f(lo) ≤ y ≤ f(hi), then bisect
    /// (at most 200 steps, stopping when the bracket is two adjacent doubles). Non-finite y, or no bracket, gives NaN.
    /// </summary>
    public static double SolveIncreasing(Func<double, double> f, double y)
    {
        if (!double.IsFinite(y)) return double.NaN;
        double lo = -1, hi = 1;
        double fLo = f(lo), fHi = f(hi);
        for (int grow = 0; !(fLo <= y); grow++)
        {
            if (grow > 1100) return double.NaN;
            lo *= 2;
            if (double.IsInfinity(lo)) return double.NaN;
            fLo = f(lo);
        }
        for (int grow = 0; !(fHi >= y); grow++)
        {
            if (grow > 1100) return double.NaN;
            hi *= 2;
            if (double.IsInfinity(hi)) return double.NaN;
            fHi = f(hi);
        }
        for (int step = 0; step < 200; step++)
        {
            double mid = lo + 0.5 * (hi - lo);
            if (mid <= lo || mid >= hi) break;
            double fMid = f(mid);
            if (fMid == y) return mid;
            if (fMid < y)
            {
                lo = mid;
                fLo = fMid;
            }
            else
            {
                hi = mid;
                fHi = fMid;
            }
        }
        return Math.Abs(fLo - y) <= Math.Abs(fHi - y) ? lo : hi;
    }

    // ------------------------------------------------------------------------------------------------
    // Scalar helpers

    /// <summary>The conditioner activation φ.</summary>
    public static double Activate(global::FlowGen.Activation activation, double x) => activation switch
    {
        global::FlowGen.Activation.Tanh => Math.Tanh(x),
        global::FlowGen.Activation.Relu => x > 0 ? x : 0,
        global::FlowGen.Activation.Softplus => Softplus(x),
        global::FlowGen.Activation.Elu => x > 0 ? x : Math.Exp(x) - 1,
        global::FlowGen.Activation.Gelu => 0.5 * x * (1 + Math.Tanh(Math.Sqrt(2 / Math.PI) * (x + 0.044715 * x * x * x))),
        global::FlowGen.Activation.Silu => x / (1 + Math.Exp(-x)),
        _ => throw new ArgumentException("unknown activation " + activation),
    };

    /// <summary>log(1 + x), accurate for small x.</summary>
    public static double Log1P(double x)
    {
        double u = 1 + x;
        if (u == 1) return x;
        return Math.Log(u) * (x / (u - 1));
    }

    /// <summary>log(1 + eˣ) without overflow.</summary>
    public static double Softplus(double x) => x > 0 ? x + Log1P(Math.Exp(-x)) : Log1P(Math.Exp(x));

    /// <summary>log σ(x) = −softplus(−x).</summary>
    public static double LogSigmoid(double x) => -Softplus(-x);

    public static double LogSumExp(double[] values)
    {
        double max = double.NegativeInfinity;
        foreach (double v in values) max = Math.Max(max, v);
        if (double.IsNegativeInfinity(max)) return double.NegativeInfinity;
        double sum = 0;
        foreach (double v in values) sum += Math.Exp(v - max);
        return max + Math.Log(sum);
    }

    public static double[] Softmax(double[] values)
    {
        double lse = LogSumExp(values);
        return values.Select(v => Math.Exp(v - lse)).ToArray();
    }

    /// <summary>SplitMix64 step as in §4.</summary>
    public static ulong SplitMix64Next(ref ulong state)
    {
        unchecked
        {
            state += 0x9E3779B97F4A7C15UL;
            ulong z = state;
            z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
            z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
            return z ^ (z >> 31);
        }
    }

    /// <summary>The seeded Fisher–Yates shuffle of §4: π = [0 … D−1]; for i = D−1 … 1: j = next() mod (i+1), swap.</summary>
    public static int[] RandomPermutation(int dim, long seed)
    {
        ulong state = unchecked((ulong)seed);
        int[] pi = Enumerable.Range(0, dim).ToArray();
        for (int i = dim - 1; i >= 1; i--)
        {
            int j = (int)(SplitMix64Next(ref state) % (ulong)(i + 1));
            (pi[i], pi[j]) = (pi[j], pi[i]);
        }
        return pi;
    }

    // ------------------------------------------------------------------------------------------------
    // Parameter vectors

    /// <summary>A standard normal draw (Box–Muller).</summary>
    public static double NextGaussian(Random rng)
    {
        double u1 = 1.0 - rng.NextDouble();
        double u2 = rng.NextDouble();
        return Math.Sqrt(-2 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2);
    }

    /// <summary>n independent N(0, std²) values.</summary>
    public static double[] Gaussians(Random rng, int n, double std = 1)
    {
        var v = new double[n];
        for (int i = 0; i < n; i++) v[i] = std * NextGaussian(rng);
        return v;
    }

    /// <summary>
    /// Identity value and relative noise size of transformer parameter p. <paramref name="depthFactor"/> (1/√(number
    /// of couplings)) damps the sum-of-squares coefficients a_kl, whose composition over many layers explodes.
    /// </summary>
    private static (double Identity, double Noise) TransformerParameterPrior(ResolvedLayer r, int p, double depthFactor)
    {
        switch (r.Kind)
        {
            case CouplingKind.Affine:
                return (0, 0.3);
            case CouplingKind.Additive:
                return (0, 0.5);
            case CouplingKind.SumOfSquares:
            {
                if (p == 0) return (0, 0.3);
                int l = (p - 1) % (r.Degree + 1);
                if (l == 0) return (Math.Sqrt((1 - SumOfSquaresEpsilon) / r.Squares), 0.2 * depthFactor);
                return (0, 0.04 * Math.Pow(0.15, l - 1) * depthFactor);
            }
            case CouplingKind.DeepSigmoidal:
            {
                int n = r.SigmoidUnits;
                int within = p % (3 * n);
                if (within < n) return (Math.Log(Math.E - 1), 0.3); // ã (a = 1 at identity)
                return (0, 0.5); // b and w̃
            }
            case CouplingKind.Spline:
            {
                int K = r.Bins;
                if (p < 2 * K) return (0, 0.5);
                return (Math.Log(Math.Exp(1 - SplineMinDerivative) - 1), 0.5);
            }
            default:
                throw new InvalidOperationException("unknown coupling kind");
        }
    }

    /// <summary>
    /// A random parameter vector that keeps the flow well conditioned for scale ≲ 1 (0.5–1 recommended; at 1.5 deep
    /// spline / sum-of-squares stacks start to lose digits in round trips): hidden weights ~ N(0, scale²/fan_in), hidden
    /// biases ~ N(0, (0.3·scale)²), output layer = the transformer's identity bias plus noise (small output weights,
    /// damped higher-order sum-of-squares coefficients), ActNorm and invertible linear parameters close to the identity.
    /// The noise of sum-of-squares coefficients, ActNorm and invertible linear layers shrinks like 1/√(number of
    /// couplings), so that the accumulated drift of deep stacks stays bounded.
    /// </summary>
    public double[] RandomParameters(Random rng, double scale)
    {
        var parameters = new double[ParameterCount];
        int D = Dim;
        double depthFactor = 1 / Math.Sqrt(layers.Count(r => r.Type == ReferenceLayerType.Coupling));
        foreach (ResolvedLayer r in layers)
        {
            int off = r.ParameterOffset;
            switch (r.Type)
            {
                case ReferenceLayerType.Coupling:
                {
                    int[] widths = r.DenseWidths;
                    int nb = r.Transformed.Length;
                    for (int k = 0; k + 1 < widths.Length; k++)
                    {
                        int nIn = widths[k], nOut = widths[k + 1];
                        bool output = k + 2 == widths.Length;
                        for (int i = 0; i < nIn; i++)
                            for (int j = 0; j < nOut; j++)
                            {
                                double std = output
                                    ? 0.25 * TransformerParameterPrior(r, j / nb, depthFactor).Noise * scale / Math.Sqrt(nIn)
                                    : scale / Math.Sqrt(nIn);
                                parameters[off + i * nOut + j] = std * NextGaussian(rng);
                            }
                        for (int j = 0; j < nOut; j++)
                        {
                            if (output)
                            {
                                (double identity, double noise) = TransformerParameterPrior(r, j / nb, depthFactor);
                                parameters[off + nIn * nOut + j] = identity + noise * scale * NextGaussian(rng);
                            }
                            else
                            {
                                parameters[off + nIn * nOut + j] = 0.3 * scale * NextGaussian(rng);
                            }
                        }
                        off += nIn * nOut + nOut;
                    }
                    break;
                }
                case ReferenceLayerType.ActNorm:
                    for (int i = 0; i < D; i++)
                    {
                        parameters[off + i] = 0.2 * depthFactor * scale * NextGaussian(rng);
                        parameters[off + D + i] = 0.3 * depthFactor * scale * NextGaussian(rng);
                    }
                    break;
                case ReferenceLayerType.InvertibleLinear:
                {
                    int n = D * (D - 1) / 2;
                    for (int i = 0; i < 2 * n; i++) parameters[off + i] = 0.3 * depthFactor * scale / Math.Sqrt(D) * NextGaussian(rng);
                    for (int i = 0; i < D; i++)
                    {
                        parameters[off + 2 * n + i] = 0.2 * depthFactor * scale * NextGaussian(rng);
                        parameters[off + 2 * n + D + i] = 0.3 * depthFactor * scale * NextGaussian(rng);
                    }
                    break;
                }
            }
        }
        return parameters;
    }

    /// <summary>
    /// Parameters that make every layer the identity: output layers of the conditioners zero with the identity bias of
    /// §6, ActNorm and invertible linear zero. Hidden layers are random U(−1/√in, 1/√in) if <paramref name="rng"/> is given, else zero.
    /// (Not the generator's initialisation stream; only the resulting map is the same.)
    /// </summary>
    public double[] IdentityParameters(Random? rng = null)
    {
        var parameters = new double[ParameterCount];
        foreach (ResolvedLayer r in layers)
        {
            if (r.Type != ReferenceLayerType.Coupling) continue;
            int off = r.ParameterOffset;
            int[] widths = r.DenseWidths;
            int nb = r.Transformed.Length;
            for (int k = 0; k + 1 < widths.Length; k++)
            {
                int nIn = widths[k], nOut = widths[k + 1];
                bool output = k + 2 == widths.Length;
                double bound = 1 / Math.Sqrt(nIn);
                for (int i = 0; i < nIn * nOut; i++)
                    parameters[off + i] = output || rng == null ? 0 : bound * (2 * rng.NextDouble() - 1);
                for (int j = 0; j < nOut; j++)
                    parameters[off + nIn * nOut + j] = output ? TransformerParameterPrior(r, j / nb, 1).Identity : rng == null ? 0 : bound * (2 * rng.NextDouble() - 1);
                off += nIn * nOut + nOut;
            }
        }
        return parameters;
    }
}

/// <summary>Small dense linear algebra for tests: numerical Jacobians and log|det| by LU with partial pivoting.</summary>
public static class ReferenceMath
{
    /// <summary>log|det A| by Gaussian elimination with partial pivoting (−∞ for a singular matrix).</summary>
    public static double LogAbsDeterminant(double[,] matrix)
    {
        int n = matrix.GetLength(0);
        var a = (double[,])matrix.Clone();
        double logDet = 0;
        for (int col = 0; col < n; col++)
        {
            int pivot = col;
            for (int row = col + 1; row < n; row++)
                if (Math.Abs(a[row, col]) > Math.Abs(a[pivot, col])) pivot = row;
            if (a[pivot, col] == 0) return double.NegativeInfinity;
            if (pivot != col)
                for (int j = 0; j < n; j++) (a[col, j], a[pivot, j]) = (a[pivot, j], a[col, j]);
            logDet += Math.Log(Math.Abs(a[col, col]));
            for (int row = col + 1; row < n; row++)
            {
                double factor = a[row, col] / a[col, col];
                for (int j = col; j < n; j++) a[row, j] -= factor * a[col, j];
            }
        }
        return logDet;
    }

    /// <summary>Central-difference Jacobian J[i, j] = ∂f_i/∂x_j with step h.</summary>
    public static double[,] NumericalJacobian(Func<double[], double[]> f, double[] x, double h)
    {
        int n = x.Length;
        double[,] jacobian = new double[n, n];
        for (int j = 0; j < n; j++)
        {
            double[] plus = (double[])x.Clone(), minus = (double[])x.Clone();
            plus[j] += h;
            minus[j] -= h;
            double[] fPlus = f(plus), fMinus = f(minus);
            for (int i = 0; i < fPlus.Length; i++) jacobian[i, j] = (fPlus[i] - fMinus[i]) / (2 * h);
        }
        return jacobian;
    }
}
