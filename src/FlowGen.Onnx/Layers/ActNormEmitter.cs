using System;
using FlowGen.Onnx.Graph;

namespace FlowGen.Onnx.Layers;

/// <summary>ActNorm (docs/model.md §4): y = x·exp(ℓ) + b, log|det| = Σ ℓᵢ; inverse x = (y − b)·exp(−ℓ).</summary>
internal sealed class ActNormEmitter : ILayerEmitter
{
    public string Kind => "actnorm";

    public LayerStep Forward(ExportContext c, LayerSpec layer, string x, string? context)
    {
        GraphBuilder g = c.Graph;
        using var _ = g.Scope($"layers.{layer.Index}");
        var (logScale, bias, sum) = Parameters(c, layer);
        string y = g.Add(g.Mul(x, g.Exp(logScale, "scale"), "scaled"), bias, "y");
        return new LayerStep(y, sum);
    }

    public LayerStep Inverse(ExportContext c, LayerSpec layer, string y, string? context)
    {
        GraphBuilder g = c.Graph;
        using var _ = g.Scope($"layers.{layer.Index}.inverse");
        var (logScale, bias, sum) = Parameters(c, layer);
        string x = g.Mul(g.Sub(y, bias, "centred"), g.Exp(g.Neg(logScale, "neg_log_scale"), "inverse_scale"), "x");
        return new LayerStep(x, g.Neg(sum, "neg_log_det"));
    }

    private static (string LogScale, string Bias, string Sum) Parameters(ExportContext c, LayerSpec layer)
    {
        int d = c.Spec.Dim;
        GraphBuilder g = c.Graph;
        ReadOnlySpan<double> logScale = c.Tensor($"layers.{layer.Index}.log_scale", d);
        string ls = g.Initializer("log_scale", logScale, d);
        string b = g.Initializer("bias", c.Tensor($"layers.{layer.Index}.bias", d), d);
        // Σ ℓᵢ in the model's precision, in index order (as FlowGen accumulates it)
        string sum = g.ReduceSum(g.Unsqueeze(ls, 0, "log_scale_row"), 1, "log_det");
        return (ls, b, sum);
    }
}
