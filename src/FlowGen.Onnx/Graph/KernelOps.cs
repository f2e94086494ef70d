using System;

namespace FlowGen.Onnx.Graph;

/// <summary>
/// FlowGen's own float arithmetic (<c>Kernel.Mac</c>, <c>Kernel.Exp</c>) as ONNX operators, for the few places where an ulp
/// decides something: the spline's knots, where an input on a knot falls in one bin or the next. In a float graph they
/// reproduce FlowGen's results to the bit; in a double graph (a double flow, or the double reference) they are the plain
/// operators.
/// </summary>
internal static class KernelOps
{
    /// <summary>
    /// a·b + c rounded once, as <c>Kernel.Mac</c> computes it where the multiply-add is fused (x64 with FMA, Arm64). ONNX has
    /// no fused multiply-add: a float graph computes it in double — the product of two floats is exact there — and rounds
    /// the sum to float. That is the fused result unless the double sum itself was rounded (a·b and c more than 2⁵ binades
    /// apart) and landed on a float midpoint; for the spline's widths (c = the minimal width, a·b ≥ it) the double sum is exact.
    /// </summary>
    public static string FusedMultiplyAdd(this GraphBuilder g, string a, string b, string c, string hint = "fma")
    {
        if (g.IsDouble) return g.Add(g.Mul(a, b, hint + "_product"), c, hint);
        string product = g.Mul(g.ToDouble(a, hint + "_a"), g.ToDouble(b, hint + "_b"), hint + "_product");
        return g.CastToReal(g.Add(product, g.ToDouble(c, hint + "_c"), hint + "_exact"), hint);
    }

    /// <summary>
    /// e^x for x ≤ 0 (a softmax's x − max), as FlowGen's float <c>Kernel.Exp</c> computes it, step for step: n = round(x·log₂e)
    /// (ties to even; in double, where the product is exact, this is the integer the kernel's 1.5·2²³ shift produces),
    /// r = x − n·ln2_hi − n·ln2_lo (each step exact in double, rounded once to float as the kernel's fused steps are), the
    /// kernel's degree-6 polynomial by Horner (fused steps, <see cref="FusedMultiplyAdd"/>), times 2ⁿ (read from a table: ONNX
    /// cannot set exponent bits), 0 below −87.33654 (the kernel's flush). A double graph uses Exp.
    /// </summary>
    public static string KernelExpNonPositive(this GraphBuilder g, string x, string hint = "kernel_exp")
    {
        if (g.IsDouble) return g.Exp(x, hint);
        string xd = g.ToDouble(x, hint + "_x");
        string n = g.Node("Round", new[] { g.Mul(xd, g.DoubleScalar((double)Log2E), hint + "_scaled") }, hint + "_n");
        string r1 = g.Sub(xd, g.Mul(n, g.DoubleScalar((double)Ln2Hi), hint + "_n_hi"), hint + "_r1");
        string r = g.CastToReal(g.Sub(r1, g.Mul(n, g.DoubleScalar((double)Ln2Lo), hint + "_n_lo"), hint + "_r_exact"), hint + "_r");
        string rd = g.ToDouble(r, hint + "_rd");
        string p = g.Scalar(Coefficients[0]);
        for (int i = 1; i < Coefficients.Length; i++)
        {
            string step = g.Add(g.Mul(g.ToDouble(p, hint + "_p"), rd, hint + "_pr"), g.DoubleScalar((double)Coefficients[i]), hint + "_horner_exact");
            p = g.CastToReal(step, hint + "_horner");
        }
        // 2ⁿ for n = −126 … 0: n outside (x below the flush, NaN) reads 2^−126 and is replaced below
        var powers = new double[127];
        for (int i = 0; i < powers.Length; i++) powers[i] = Math.ScaleB(1.0, i - 126);
        string table = g.Initializer(hint + "_pow2", powers, powers.Length);
        string low = g.DoubleScalar(-126.0);
        string clamped = g.Where(g.GreaterOrEqual(n, low, hint + "_in_range"), n, low, hint + "_n_clamped");
        clamped = g.Where(g.LessOrEqual(clamped, g.DoubleScalar(0.0), hint + "_non_positive"), clamped, low, hint + "_n_index");
        string index = g.CastToInt64(g.Add(clamped, g.DoubleScalar(126.0), hint + "_index_real"), hint + "_index");
        string y = g.Mul(p, g.Gather(table, index, 0, hint + "_two_n"), hint + "_scaled_result");
        return g.Where(g.Less(x, g.Scalar(FlushBelow), hint + "_flushed"), g.Scalar(0), y, hint);
    }

    private static string ToDouble(this GraphBuilder g, string v, string hint) => g.CastTo(v, GraphBuilder.DoubleType, hint + "_double");

    // Kernel.Exp's float constants (src/FlowGen.Runtime/Kernel.cs)
    private const float Log2E = 1.442695f, Ln2Hi = 0.693359375f, Ln2Lo = -2.12194440e-4f, FlushBelow = -87.33654f;
    private static readonly float[] Coefficients = { 0.0013782458f, 0.008368669f, 0.041668963f, 0.16666521f, 0.4999999f, 1f, 1f };
}
