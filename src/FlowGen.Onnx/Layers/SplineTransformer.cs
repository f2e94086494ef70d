using FlowGen.Onnx.Graph;

namespace FlowGen.Onnx.Layers;

/// <summary>
/// Rational-quadratic spline (P = 3K − 1, docs/model.md §3) on [−B, B], the identity outside. Every tensor of the geometry
/// is [N, K(+1), |B|] with the bins on axis 1. The bin of a value is found with comparisons and a sum — the number of
/// interior knots at or below it — and its knots, widths and derivatives are read with GatherElements: no SearchSorted
/// (which ONNX does not have). The operations follow FlowGen's generated code: knots by running sums from −B, ξ clamped to
/// [0, 1], the inverse's stable root with the discriminant clamped at 0.
/// </summary>
internal sealed class SplineTransformer : ITransformerEmitter
{
    private const double MinBin = 1e-3, MinDerivative = 1e-3;

    public string Name => "spline";
    public bool HasInverse => true;
    public int ParametersPerCoordinate(LayerSpec layer) => 3 * layer.Int("bins") - 1;

    private sealed record Bin(string X0, string Y0, string Width, string Height, string D0, string D1);

    public TransformStep Forward(ExportContext c, LayerSpec layer, string x, TransformerParameters theta)
    {
        GraphBuilder g = c.Graph;
        double bound = layer.Number("bound");
        var (xk, yk, width, height, delta) = Geometry(g, layer, theta);
        string inside = Inside(g, x, bound);
        string xc = g.Unsqueeze(g.Where(inside, x, g.Scalar(0), "x_clipped"), 1, "x_bins");
        Bin bin = Select(g, layer, xc, xk, xk, yk, width, height, delta);
        string s = g.Div(bin.Height, bin.Width, "slope");
        string xi = Clamp01(g, g.Div(g.Sub(xc, bin.X0, "offset"), bin.Width, "xi_raw"), "xi");
        string e = g.Mul(xi, g.Sub(g.Scalar(1), xi, "one_minus_xi"), "xi_1mxi");
        string den = g.Add(g.Mul(g.Sub(g.Add(bin.D1, bin.D0, "d_sum"), g.Add(s, s, "two_s"), "slopes"), e, "den_e"), s, "den");
        string numerator = g.Add(g.Mul(s, g.Mul(xi, xi, "xi2"), "s_xi2"), g.Mul(bin.D0, e, "d0_e"), "numerator");
        string y = g.Add(bin.Y0, g.Div(g.Mul(bin.Height, numerator, "h_num"), den, "ratio"), "y_spline");
        string logDerivative = LogDerivative(g, s, xi, e, den, bin);
        return new TransformStep(
            g.Where(inside, Squeeze(g, y, theta), x, "y_transformed"),
            g.Where(inside, Squeeze(g, logDerivative, theta), g.Scalar(0), "log_derivative"));
    }

    public TransformStep Inverse(ExportContext c, LayerSpec layer, string y, TransformerParameters theta)
    {
        GraphBuilder g = c.Graph;
        double bound = layer.Number("bound");
        var (xk, yk, width, height, delta) = Geometry(g, layer, theta);
        string inside = Inside(g, y, bound);
        string yc = g.Unsqueeze(g.Where(inside, y, g.Scalar(0), "y_clipped"), 1, "y_bins");
        Bin bin = Select(g, layer, yc, yk, xk, yk, width, height, delta);
        string s = g.Div(bin.Height, bin.Width, "slope");
        string dy = g.Sub(yc, bin.Y0, "dy");
        string slopes = g.Sub(g.Add(bin.D1, bin.D0, "d_sum"), g.Add(s, s, "two_s"), "slopes");
        string qa = g.Add(g.Mul(dy, slopes, "dy_slopes"), g.Mul(bin.Height, g.Sub(s, bin.D0, "s_minus_d0"), "h_s_d0"), "qa");
        string qb = g.Sub(g.Mul(bin.Height, bin.D0, "h_d0"), g.Mul(dy, slopes, "dy_slopes2"), "qb");
        string qc = g.Mul(g.Neg(s, "neg_s"), dy, "qc");
        string discriminant = g.Max(g.Sub(g.Mul(qb, qb, "qb2"), g.Mul(g.Mul(g.Scalar(4), qa, "four_qa"), qc, "four_qa_qc"), "disc_raw"), g.Scalar(0), "discriminant");
        string root = g.Div(g.Add(qc, qc, "two_qc"), g.Sub(g.Neg(qb, "neg_qb"), g.Sqrt(discriminant, "sqrt_disc"), "root_den"), "xi_raw");
        string xi = Clamp01(g, root, "xi");
        string e = g.Mul(xi, g.Sub(g.Scalar(1), xi, "one_minus_xi"), "xi_1mxi");
        string den = g.Add(g.Mul(slopes, e, "den_e"), s, "den");
        string logDerivative = LogDerivative(g, s, xi, e, den, bin);
        string x = g.Add(g.Mul(xi, bin.Width, "xi_w"), bin.X0, "x_spline");
        return new TransformStep(
            g.Where(inside, Squeeze(g, x, theta), y, "x_transformed"),
            g.Where(inside, Squeeze(g, logDerivative, theta), g.Scalar(0), "log_derivative"));
    }

    private static string Inside(GraphBuilder g, string v, double bound)
        => g.And(g.GreaterOrEqual(v, g.Scalar(-bound), "above_lower"), g.LessOrEqual(v, g.Scalar(bound), "below_upper"), "inside");

    private static string Clamp01(GraphBuilder g, string v, string hint) => g.Min(g.Max(v, g.Scalar(0), hint + "_lo"), g.Scalar(1), hint);

    private static string Squeeze(GraphBuilder g, string v, TransformerParameters theta) => g.Reshape(v, new long[] { -1, theta.Transformed }, "squeezed");

    /// <summary>log(s²·q / den²), q = δ₁ξ² + 2s·ξ(1 − ξ) + δ₀(1 − ξ)².</summary>
    private static string LogDerivative(GraphBuilder g, string s, string xi, string e, string den, Bin bin)
    {
        string oneMinus = g.Sub(g.Scalar(1), xi, "one_minus");
        string q = g.Add(g.Mul(bin.D1, g.Mul(xi, xi, "xi2_q"), "d1_xi2"),
            g.Add(g.Mul(g.Add(s, s, "two_s_q"), e, "two_s_e"), g.Mul(g.Mul(bin.D0, oneMinus, "d0_om"), oneMinus, "d0_om2"), "q_tail"), "q");
        return g.Log(g.Div(g.Mul(g.Mul(s, s, "s2"), q, "s2_q"), g.Mul(den, den, "den2"), "derivative"), "log_spline_derivative");
    }

    /// <summary>x- and y-knots [N, K+1, |B|], widths and heights [N, K, |B|], derivatives δ₀ … δ_K [N, K+1, |B|].</summary>
    private static (string Xk, string Yk, string Width, string Height, string Delta) Geometry(GraphBuilder g, LayerSpec layer, TransformerParameters theta)
    {
        int k = layer.Int("bins");
        double bound = layer.Number("bound");
        double scale = 2 * bound * (1 - MinBin * k), floor = 2 * bound * MinBin;
        string Side(int offset, string name, out string knots)
        {
            string raw = theta.Range(offset, offset + k, "raw_" + name);
            string size;
            if (g.IsDouble)
                size = g.Add(g.Mul(g.Softmax(raw, 1, "soft_" + name), g.Scalar(scale), "scaled_" + name), g.Scalar(floor), name);
            else
            {
                // FlowGen's float operations, so that the knots are FlowGen's to the bit and an input on a knot falls in the
                // same bin (ONNX Runtime's Softmax and a separate multiply and add put knots an ulp or two away): e_i =
                // Kernel.Exp(θ_i − max), their sum in index order, one reciprocal, soft_i = e_i·(1/Σ), w_i = Mac(soft_i, scale, floor)
                string e = g.KernelExpNonPositive(g.Sub(raw, g.ReduceMaxKeep(raw, 1, "max_" + name), "shifted_" + name), "exp_" + name);
                string sum = g.Slice(g.CumSum(e, 1, "running_" + name), k - 1, k, 1, "sum_" + name);
                string soft = g.Mul(e, g.Div(g.Scalar(1), sum, "inverse_sum_" + name), "soft_" + name);
                size = g.FusedMultiplyAdd(soft, g.Scalar(scale), g.Scalar(floor), name);
            }
            // x₀ = −B, x_{i+1} = x_i + w_i: running sums of (−B, w₀, …, w_{K−1}), in order
            string start = g.Add(g.Mul(g.Slice(size, 0, 1, 1, "first_" + name), g.Scalar(0), "zero_" + name), g.Scalar(-bound), "start_" + name);
            knots = g.CumSum(g.Concat(new[] { start, size }, 1, "steps_" + name), 1, "knots_" + name);
            return size;
        }
        string width = Side(0, "width", out string xk);
        string height = Side(k, "height", out string yk);
        string inner = g.Add(g.Scalar(MinDerivative), g.Softplus(theta.Range(2 * k, 3 * k - 1, "raw_derivative"), "softplus_derivative"), "inner_derivative");
        string one = g.Add(g.Mul(g.Slice(width, 0, 1, 1, "first_for_one"), g.Scalar(0), "zero_for_one"), g.Scalar(1), "edge_derivative");
        string delta = g.Concat(new[] { one, inner, one }, 1, "derivatives");
        return (xk, yk, width, height, delta);
    }

    /// <summary>
    /// The bin of v [N, 1, |B|] among <paramref name="knots"/>: the count of interior knots x₁ … x_{K−1} with v ≥ x_i (comparisons
    /// and a sum), then each quantity of that bin by GatherElements along the bins axis.
    /// </summary>
    private static Bin Select(GraphBuilder g, LayerSpec layer, string v, string knots, string xk, string yk, string width, string height, string delta)
    {
        int k = layer.Int("bins");
        string interior = g.Slice(knots, 1, k, 1, "interior_knots");
        string past = g.CastToInt64(g.GreaterOrEqual(v, interior, "past_knot"), "past_count");
        string bin = g.Node("ReduceSum", new[] { past, g.Ints(1) }, "bin", ("keepdims", 1L));
        string next = g.Add(bin, g.Int64s("one_index", new long[] { 1 }), "bin_next");
        return new Bin(
            g.GatherElements(xk, bin, 1, "x0"), g.GatherElements(yk, bin, 1, "y0"),
            g.GatherElements(width, bin, 1, "w0"), g.GatherElements(height, bin, 1, "h0"),
            g.GatherElements(delta, bin, 1, "d0"), g.GatherElements(delta, next, 1, "d1"));
    }
}
