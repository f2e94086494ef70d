using FlowGen.Onnx.Graph;

namespace FlowGen.Onnx.Layers;

/// <summary>
/// Sum of squares (P = 1 + K(r+1), B = bound, docs/model.md §3), forward only: x_c = clamp(x, −B, B), u = x_c·(1/B),
/// τ′(x) = ε + Σₖ qₖ(u)², qₖ(u) = Σₗ a_kl uˡ (Horner), τ(x) = c + x_c·(ε + Σₙ βₙ/(n+1)·uⁿ) + (x − x_c)·τ′(x) (Horner from
/// the top), βₙ = Σₖ Σ_{l+m=n} a_kl a_km — the evaluation order of FlowGen's generated code (linear beyond ±B). τ⁻¹ has no closed form (FlowGen finds it by safeguarded Newton–bisection): the inverse is refused,
/// naming the layer.
/// </summary>
internal sealed class SumOfSquaresTransformer : ITransformerEmitter
{
    private const double Epsilon = 1e-3;

    public string Name => "sum_of_squares";
    public bool HasInverse => false;
    public int ParametersPerCoordinate(LayerSpec layer) => 1 + layer.Int("squares") * (layer.Int("degree") + 1);

    public TransformStep Forward(ExportContext c, LayerSpec layer, string x, TransformerParameters theta)
    {
        GraphBuilder g = c.Graph;
        int r = layer.Int("degree"), squares = layer.Int("squares");
        double bound = layer.Number("bound");
        string constant = theta.At(0, "c");
        // the polynomials see the clamped input, normalised to [−1, 1]
        string clamped = g.Min(g.Max(x, g.Scalar(-bound), "x_above_lower"), g.Scalar(bound), "x_clamped");
        string u = g.Mul(clamped, g.Scalar(1.0 / bound), "u");
        // a_l as [N, K, |B|] for each l: parameters 1 + k(r+1) + l
        // a_kl [N, |B|]: parameter 1 + k(r+1) + l
        var a = new string[squares, r + 1];
        for (int k = 0; k < squares; k++)
            for (int l = 0; l <= r; l++) a[k, l] = theta.At(1 + k * (r + 1) + l, $"a_{k}_{l}");
        string A(int k, int l) => a[k, l];
        // τ′ = ε + Σₖ qₖ², qₖ by Horner, and βₙ accumulated over k, l, m in that order (FlowGen's order: βₙ is a sum of
        // products of both signs, so its rounding depends on the order of the terms)
        string derivative = g.Scalar(Epsilon);
        var beta = new string?[2 * r + 1];
        for (int k = 0; k < squares; k++)
        {
            string q = A(k, r);
            for (int l = r - 1; l >= 0; l--) q = g.Add(g.Mul(q, u, "q_u"), A(k, l), $"q_{k}");
            derivative = g.Add(g.Mul(q, q, $"q_{k}_squared"), derivative, "derivative");
            for (int l = 0; l <= r; l++)
                for (int m = 0; m <= r; m++)
                {
                    string product = g.Mul(A(k, l), A(k, m), $"a_{k}_{l}_{m}");
                    beta[l + m] = beta[l + m] is null ? product : g.Add(product, beta[l + m]!, $"beta_{l + m}");
                }
        }
        string Beta(int n) => beta[n]!;
        string p = g.Mul(Beta(2 * r), g.Scalar(1.0 / (2 * r + 1)), "p");
        for (int m = 2 * r - 1; m >= 0; m--) p = g.Add(g.Mul(p, u, "p_u"), g.Mul(Beta(m), g.Scalar(1.0 / (m + 1)), $"beta_{m}_scaled"), "p");
        // the polynomial inside [−B, B], its tangent beyond: (x − x_c)·τ′ + (x_c·(p + ε) + c)
        string inner = g.Add(g.Mul(clamped, g.Add(p, g.Scalar(Epsilon), "p_eps"), "xc_p"), constant, "y_polynomial");
        string y = g.Add(g.Mul(g.Sub(x, clamped, "x_beyond"), derivative, "tail"), inner, "y_transformed");
        return new TransformStep(y, g.Log(derivative, "log_derivative"));
    }

    public TransformStep Inverse(ExportContext c, LayerSpec layer, string y, TransformerParameters theta)
        => throw new OnnxExportException($"{layer.Describe()}: the sum-of-squares transformer has no closed-form inverse", layer.Index, layer.DisplayKind);
}
