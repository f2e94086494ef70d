using System;

namespace FlowGen.Onnx.Graph;

/// <summary>
/// The ONNX operators the exporter uses (opset 17), one method each, and the composite functions built from them. Every
/// operator here has float and double kernels in ONNX Runtime's CPU execution provider (docs/onnx.md lists them); the
/// composites avoid the ones that do not (Softplus, Elu, Gelu are float-only there or newer than opset 17).
/// </summary>
internal static class Ops
{
    public static string Add(this GraphBuilder g, string a, string b, string hint = "add") => g.Node("Add", new[] { a, b }, hint);
    public static string Sub(this GraphBuilder g, string a, string b, string hint = "sub") => g.Node("Sub", new[] { a, b }, hint);
    public static string Mul(this GraphBuilder g, string a, string b, string hint = "mul") => g.Node("Mul", new[] { a, b }, hint);
    public static string Div(this GraphBuilder g, string a, string b, string hint = "div") => g.Node("Div", new[] { a, b }, hint);
    public static string Neg(this GraphBuilder g, string a, string hint = "neg") => g.Node("Neg", new[] { a }, hint);
    public static string Abs(this GraphBuilder g, string a, string hint = "abs") => g.Node("Abs", new[] { a }, hint);
    public static string Exp(this GraphBuilder g, string a, string hint = "exp") => g.Node("Exp", new[] { a }, hint);
    public static string Log(this GraphBuilder g, string a, string hint = "log") => g.Node("Log", new[] { a }, hint);
    public static string Sqrt(this GraphBuilder g, string a, string hint = "sqrt") => g.Node("Sqrt", new[] { a }, hint);
    public static string Tanh(this GraphBuilder g, string a, string hint = "tanh") => g.Node("Tanh", new[] { a }, hint);
    public static string Sigmoid(this GraphBuilder g, string a, string hint = "sigmoid") => g.Node("Sigmoid", new[] { a }, hint);
    public static string Relu(this GraphBuilder g, string a, string hint = "relu") => g.Node("Relu", new[] { a }, hint);
    public static string Max(this GraphBuilder g, string a, string b, string hint = "max") => g.Node("Max", new[] { a, b }, hint);
    public static string Min(this GraphBuilder g, string a, string b, string hint = "min") => g.Node("Min", new[] { a, b }, hint);
    public static string Where(this GraphBuilder g, string condition, string a, string b, string hint = "where") => g.Node("Where", new[] { condition, a, b }, hint);
    public static string Equal(this GraphBuilder g, string a, string b, string hint = "equal") => g.Node("Equal", new[] { a, b }, hint);
    public static string GreaterOrEqual(this GraphBuilder g, string a, string b, string hint = "ge") => g.Node("GreaterOrEqual", new[] { a, b }, hint);
    public static string LessOrEqual(this GraphBuilder g, string a, string b, string hint = "le") => g.Node("LessOrEqual", new[] { a, b }, hint);
    public static string Greater(this GraphBuilder g, string a, string b, string hint = "gt") => g.Node("Greater", new[] { a, b }, hint);
    public static string And(this GraphBuilder g, string a, string b, string hint = "and") => g.Node("And", new[] { a, b }, hint);
    public static string MatMul(this GraphBuilder g, string a, string b, string hint = "matmul") => g.Node("MatMul", new[] { a, b }, hint);

    /// <summary>Gemm: a·b + c for a [N, in], b [in, out], c [out].</summary>
    public static string Gemm(this GraphBuilder g, string a, string b, string c, string hint = "dense") => g.Node("Gemm", new[] { a, b, c }, hint);

    /// <summary>Gather along <paramref name="axis"/> with an int64 index tensor (a rank-0 index drops the axis).</summary>
    public static string Gather(this GraphBuilder g, string data, string indices, int axis, string hint = "gather")
        => g.Node("Gather", new[] { data, indices }, hint, ("axis", (long)axis));

    /// <summary>Columns <paramref name="columns"/> of a [N, D] tensor, in that order: [N, columns.Length].</summary>
    public static string Columns(this GraphBuilder g, string data, int[] columns, string hint = "columns")
    {
        long[] idx = Array.ConvertAll(columns, c => (long)c);
        return g.Gather(data, g.Ints(idx), 1, hint);
    }

    public static string GatherElements(this GraphBuilder g, string data, string indices, int axis, string hint = "select")
        => g.Node("GatherElements", new[] { data, indices }, hint, ("axis", (long)axis));

    public static string Concat(this GraphBuilder g, string[] inputs, int axis, string hint = "concat")
        => g.Node("Concat", inputs, hint, ("axis", (long)axis));

    /// <summary>Slice [start, end) along one axis.</summary>
    public static string Slice(this GraphBuilder g, string data, long start, long end, int axis, string hint = "slice")
        => g.Node("Slice", new[] { data, g.Ints(start), g.Ints(end), g.Ints(axis) }, hint);

    public static string Reshape(this GraphBuilder g, string data, long[] shape, string hint = "reshape")
        => g.Node("Reshape", new[] { data, g.Ints(shape) }, hint);

    public static string Unsqueeze(this GraphBuilder g, string data, int axis, string hint = "unsqueeze")
        => g.Node("Unsqueeze", new[] { data, g.Ints(axis) }, hint);

    /// <summary>Sum over one axis, which is removed.</summary>
    public static string ReduceSum(this GraphBuilder g, string data, int axis, string hint = "sum")
        => g.Node("ReduceSum", new[] { data, g.Ints(axis) }, hint, ("keepdims", 0L));

    /// <summary>Sum over one axis, kept with length 1.</summary>
    public static string ReduceSumKeep(this GraphBuilder g, string data, int axis, string hint = "sum")
        => g.Node("ReduceSum", new[] { data, g.Ints(axis) }, hint, ("keepdims", 1L));

    /// <summary>The largest value over one axis (opset 17: axes an attribute), kept with length 1.</summary>
    public static string ReduceMaxKeep(this GraphBuilder g, string data, int axis, string hint = "max")
        => g.Node("ReduceMax", new[] { data }, hint, ("axes", new long[] { axis }), ("keepdims", 1L));

    /// <summary>The index (int64) of the largest value over one axis (removed), the first on ties.</summary>
    public static string ArgMax(this GraphBuilder g, string data, int axis, string hint = "argmax")
        => g.Node("ArgMax", new[] { data }, hint, ("axis", (long)axis), ("keepdims", 0L), ("select_last_index", 0L));

    public static string IsNaN(this GraphBuilder g, string data, string hint = "is_nan") => g.Node("IsNaN", new[] { data }, hint);

    /// <summary>log Σ exp over one axis (removed), max-shifted by ONNX Runtime.</summary>
    public static string ReduceLogSumExp(this GraphBuilder g, string data, int axis, string hint = "logsumexp")
        => g.Node("ReduceLogSumExp", new[] { data }, hint, ("axes", new long[] { axis }), ("keepdims", 0L));

    public static string Softmax(this GraphBuilder g, string data, int axis, string hint = "softmax")
        => g.Node("Softmax", new[] { data }, hint, ("axis", (long)axis));

    public static string LogSoftmax(this GraphBuilder g, string data, int axis, string hint = "log_softmax")
        => g.Node("LogSoftmax", new[] { data }, hint, ("axis", (long)axis));

    /// <summary>Running sums along one axis, in order (CumSum, not exclusive, not reversed).</summary>
    public static string CumSum(this GraphBuilder g, string data, int axis, string hint = "cumsum")
        => g.Node("CumSum", new[] { data, g.IntScalar(axis) }, hint);

    public static string CastToInt64(this GraphBuilder g, string data, string hint = "int64")
        => g.Node("Cast", new[] { data }, hint, ("to", (long)global::Onnx.TensorProto.Types.DataType.Int64));

    public static string CastTo(this GraphBuilder g, string data, int elementType, string hint = "cast")
        => g.Node("Cast", new[] { data }, hint, ("to", (long)elementType));

    public static string Less(this GraphBuilder g, string a, string b, string hint = "lt") => g.Node("Less", new[] { a, b }, hint);

    public static string CastToReal(this GraphBuilder g, string data, string hint = "real")
        => g.Node("Cast", new[] { data }, hint, ("to", (long)g.ElementType));

    /// <summary>Zeros of shape [N] for a [N, …] tensor <paramref name="like"/> (a per-sample accumulator).</summary>
    public static string ZerosPerRow(this GraphBuilder g, string like)
    {
        string shape = g.Node("Shape", new[] { like }, "shape");
        string rows = g.Slice(shape, 0, 1, 0, "rows");
        return g.Node("ConstantOfShape", new[] { rows }, "zeros", ("value", g.ValueTensor(0)));
    }

    // ------------------------------------------------------------------ composites (docs/model.md §3)

    /// <summary>log(1 + u) accurate for small u ≥ 0 (Goldberg: u where 1 + u rounds to 1, else log(w)·u/(w − 1), w = 1 + u).</summary>
    public static string Log1p(this GraphBuilder g, string u, string hint = "log1p")
    {
        string w = g.Add(g.Scalar(1), u, hint + "_w");
        string wm1 = g.Sub(w, g.Scalar(1), hint + "_wm1");
        string isOne = g.Equal(wm1, g.Scalar(0), hint + "_tiny");
        string scaled = g.Div(g.Mul(g.Log(w, hint + "_logw"), u, hint + "_num"), g.Where(isOne, g.Scalar(1), wm1, hint + "_den"), hint + "_ratio");
        return g.Where(isOne, u, scaled, hint);
    }

    /// <summary>exp(x) − 1 accurate near 0 (Kahan: x where eˣ rounds to 1, −1 where it underflows, else (u − 1)·x/log u).</summary>
    public static string Expm1(this GraphBuilder g, string x, string hint = "expm1")
    {
        string u = g.Exp(x, hint + "_u");
        string um1 = g.Sub(u, g.Scalar(1), hint + "_um1");
        string logU = g.Log(u, hint + "_logu");
        string isOne = g.Equal(um1, g.Scalar(0), hint + "_tiny");
        string isZero = g.Equal(u, g.Scalar(0), hint + "_under");
        string safeLog = g.Where(g.Node("Or", new[] { isOne, isZero }, hint + "_special"), g.Scalar(1), logU, hint + "_safelog");
        string ratio = g.Div(g.Mul(um1, x, hint + "_num"), safeLog, hint + "_ratio");
        return g.Where(isOne, x, g.Where(isZero, g.Scalar(-1), ratio, hint + "_or_minus1"), hint);
    }

    /// <summary>log(1 + e^−|x|), the shared part of softplus and log σ.</summary>
    public static string Log1pExpNegAbs(this GraphBuilder g, string x, string hint = "log1p_exp")
        => g.Log1p(g.Exp(g.Neg(g.Abs(x, hint + "_abs"), hint + "_neg"), hint + "_e"), hint);

    /// <summary>softplus(x) = max(x, 0) + log(1 + e^−|x|).</summary>
    public static string Softplus(this GraphBuilder g, string x, string hint = "softplus")
        => g.Add(g.Relu(x, hint + "_pos"), g.Log1pExpNegAbs(x, hint + "_tail"), hint);

    /// <summary>log σ(x) = min(x, 0) − log(1 + e^−|x|).</summary>
    public static string LogSigmoid(this GraphBuilder g, string x, string hint = "log_sigmoid")
        => g.Sub(g.Min(x, g.Scalar(0), hint + "_neg"), g.Log1pExpNegAbs(x, hint + "_tail"), hint);

    /// <summary>
    /// log softplus(x): log of softplus where it is a normal number, x below (docs/model.md §3). FlowGen's Kernel.Exp flushes
    /// results below the smallest normal to 0, so that its LogSoftplus returns x there; ONNX Runtime's Exp returns the
    /// subnormal, whose log has lost most of its digits (e^−100.3 has 4 significant bits in float: log off by 0.013).
    /// </summary>
    public static string LogSoftplus(this GraphBuilder g, string x, string hint = "log_softplus")
    {
        string s = g.Softplus(x, hint + "_sp");
        string positive = g.GreaterOrEqual(s, g.Scalar(g.IsDouble ? Math.ScaleB(1.0, -1022) : Math.ScaleB(1.0, -126)), hint + "_normal");
        string safe = g.Where(positive, s, g.Scalar(1), hint + "_safe");
        return g.Where(positive, g.Log(safe, hint + "_log"), x, hint);
    }

    /// <summary>The conditioner's activation φ (docs/model.md §3) by its spec name.</summary>
    public static string Activation(this GraphBuilder g, string name, string x, string hint = "act")
    {
        switch (name)
        {
            case "tanh": return g.Tanh(x, hint);
            case "relu": return g.Relu(x, hint);
            case "softplus": return g.Softplus(x, hint);
            case "elu":
                return g.Where(g.Greater(x, g.Scalar(0), hint + "_pos"), x, g.Expm1(g.Min(x, g.Scalar(0), hint + "_neg"), hint + "_em1"), hint);
            case "gelu":
            {
                // ½x(1 + tanh(√(2/π)(x + 0.044715x³)))
                string x3 = g.Mul(g.Mul(x, x, hint + "_x2"), x, hint + "_x3");
                string inner = g.Mul(g.Scalar(Math.Sqrt(2.0 / Math.PI)), g.Add(x, g.Mul(g.Scalar(0.044715), x3, hint + "_cx3"), hint + "_poly"), hint + "_inner");
                string t = g.Add(g.Scalar(1), g.Tanh(inner, hint + "_tanh"), hint + "_1pt");
                return g.Mul(g.Mul(g.Scalar(0.5), x, hint + "_half"), t, hint);
            }
            case "silu": return g.Mul(x, g.Sigmoid(x, hint + "_sig"), hint);
            default: throw new OnnxExportException($"activation '{name}' is not known to this FlowGen.Onnx");
        }
    }
}
