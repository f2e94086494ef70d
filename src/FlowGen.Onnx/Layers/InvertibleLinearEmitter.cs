using System;
using FlowGen.Onnx.Graph;

namespace FlowGen.Onnx.Layers;

/// <summary>
/// Invertible linear (Glow's LU layer, docs/model.md §4): W = P·L·(U + diag(exp ℓ)), y = W·x + bias, log|det| = Σ ℓᵢ.
/// Forward: v = x·Uᵀ' (U' = U + diag(exp ℓ)), y = v·(P·L)ᵀ + bias, two MatMuls. Inverse: the closed form
/// x = U'⁻¹·L⁻¹·Pᵀ·(y − bias), with the triangular inverses computed once at export time in double by substitution
/// (so the graph is two MatMuls, not D sequential solves).
/// </summary>
internal sealed class InvertibleLinearEmitter : ILayerEmitter
{
    public string Kind => "invertible_linear";

    public LayerStep Forward(ExportContext c, LayerSpec layer, string x, string? context)
    {
        GraphBuilder g = c.Graph;
        using var _ = g.Scope($"layers.{layer.Index}");
        var m = Matrices(c, layer);
        int d = c.Spec.Dim;
        // row-major batches: v = x·U'ᵀ, w = v·(P·L)ᵀ — the initializers hold the transposes
        string v = g.MatMul(x, g.Initializer("upper_t", Transpose(m.Upper, d), d, d), "v");
        string w = g.MatMul(v, g.Initializer("permuted_lower_t", Transpose(m.PermutedLower, d), d, d), "w");
        string y = g.Add(w, g.Initializer("bias", m.Bias, d), "y");
        return new LayerStep(y, g.Initializer("log_det", new[] { m.LogDet }));
    }

    public LayerStep Inverse(ExportContext c, LayerSpec layer, string y, string? context)
    {
        GraphBuilder g = c.Graph;
        using var _ = g.Scope($"layers.{layer.Index}.inverse");
        var m = Matrices(c, layer);
        int d = c.Spec.Dim;
        double[] lowerInverse = LowerInverse(m.PermutedLower, m.Order, d);      // (P·L)⁻¹ = L⁻¹·Pᵀ
        double[] upperInverse = UpperInverse(m.Upper, d);
        string centred = g.Sub(y, g.Initializer("bias", m.Bias, d), "centred");
        string v = g.MatMul(centred, g.Initializer("lower_inverse_t", Transpose(lowerInverse, d), d, d), "v");
        string x = g.MatMul(v, g.Initializer("upper_inverse_t", Transpose(upperInverse, d), d, d), "x");
        return new LayerStep(x, g.Initializer("log_det", new[] { -m.LogDet }));
    }

    private sealed record Parts(double[] Upper, double[] PermutedLower, double[] Bias, double LogDet, int[] Order);

    /// <summary>U' = U + diag(exp ℓ) and P·L as dense row-major D×D matrices; Σ ℓ.</summary>
    private static Parts Matrices(ExportContext c, LayerSpec layer)
    {
        int d = c.Spec.Dim, tri = d * (d - 1) / 2;
        int[] order = PermutationEmitter.CheckPermutation(layer.Ints("permutation"), d, layer);
        ReadOnlySpan<double> lower = c.Tensor($"layers.{layer.Index}.lower", tri);
        ReadOnlySpan<double> upper = c.Tensor($"layers.{layer.Index}.upper", tri);
        ReadOnlySpan<double> logDiag = c.Tensor($"layers.{layer.Index}.log_diag", d);
        double[] bias = c.Tensor($"layers.{layer.Index}.bias", d).ToArray();
        var u = new double[d * d];
        var l = new double[d * d];
        int k = 0;
        for (int i = 0; i < d - 1; i++)
            for (int j = i + 1; j < d; j++) u[i * d + j] = upper[k++];
        k = 0;
        for (int i = 1; i < d; i++)
            for (int j = 0; j < i; j++) l[i * d + j] = lower[k++];
        double logDet = 0;
        for (int i = 0; i < d; i++)
        {
            u[i * d + i] = c.Exp(logDiag[i]);      // Kernel.Exp in the flow's element type: FlowGen's own e^ℓ
            l[i * d + i] = 1;
            logDet = Round(c, logDet + logDiag[i]);
        }
        // (P·w)_i = w_{π(i)}: row i of P·L is row π(i) of L
        var pl = new double[d * d];
        for (int i = 0; i < d; i++) Array.Copy(l, order[i] * d, pl, i * d, d);
        return new Parts(u, pl, bias, logDet, order);
    }

    private static double Round(ExportContext c, double v) => c.Graph.IsDouble ? v : (float)v;

    private static double[] Transpose(double[] m, int d)
    {
        var t = new double[d * d];
        for (int i = 0; i < d; i++)
            for (int j = 0; j < d; j++) t[j * d + i] = m[i * d + j];
        return t;
    }

    /// <summary>(P·L)⁻¹ = L⁻¹·Pᵀ, with L⁻¹ by forward substitution on the identity's columns.</summary>
    private static double[] LowerInverse(double[] permutedLower, int[] order, int d)
    {
        var l = new double[d * d];
        for (int i = 0; i < d; i++) Array.Copy(permutedLower, i * d, l, order[i] * d, d);   // undo P: L itself
        var inv = new double[d * d];
        for (int col = 0; col < d; col++)
            for (int i = 0; i < d; i++)
            {
                double s = i == col ? 1 : 0;
                for (int j = 0; j < i; j++) s -= l[i * d + j] * inv[j * d + col];
                inv[i * d + col] = s;
            }
        // w = P⁻¹·y' has w_{π(i)} = y'_i, so v_r = Σ_j L⁻¹[r, j]·w_j = Σ_i L⁻¹[r, π(i)]·y'_i
        var result = new double[d * d];
        for (int r = 0; r < d; r++)
            for (int i = 0; i < d; i++) result[r * d + i] = inv[r * d + order[i]];
        return result;
    }

    /// <summary>U'⁻¹ by back substitution on the identity's columns.</summary>
    private static double[] UpperInverse(double[] u, int d)
    {
        var inv = new double[d * d];
        for (int col = 0; col < d; col++)
            for (int i = d - 1; i >= 0; i--)
            {
                double s = i == col ? 1 : 0;
                for (int j = i + 1; j < d; j++) s -= u[i * d + j] * inv[j * d + col];
                inv[i * d + col] = s / u[i * d + i];
            }
        return inv;
    }
}
