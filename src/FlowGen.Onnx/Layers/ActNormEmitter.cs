using System;
using FlowGen.Onnx.Graph;

namespace FlowGen.Onnx.Layers;

/// <summary>ActNorm (docs/model.md §4): y = x·exp(ℓ) + b, log|det| = Σ ℓᵢ; inverse x = (y − b)·exp(−ℓ). e^{±ℓ} and Σ ℓ are
/// constants of the parameters, computed at export time as FlowGen computes them.</summary>
internal sealed class ActNormEmitter : ILayerEmitter
{
    public string Kind => "actnorm";

    public LayerStep Forward(ExportContext c, LayerSpec layer, string x, string? context)
    {
        GraphBuilder g = c.Graph;
        using var _ = g.Scope($"layers.{layer.Index}");
        var (logScale, bias, sum) = Parameters(c, layer);
        string y = g.Add(g.Mul(x, g.Initializer("scale", Exps(c, logScale, 1), c.Spec.Dim), "scaled"), bias, "y");
        return new LayerStep(y, g.Initializer("log_det", new[] { sum }));
    }

    public LayerStep Inverse(ExportContext c, LayerSpec layer, string y, string? context)
    {
        GraphBuilder g = c.Graph;
        using var _ = g.Scope($"layers.{layer.Index}.inverse");
        var (logScale, bias, sum) = Parameters(c, layer);
        string x = g.Mul(g.Sub(y, bias, "centred"), g.Initializer("inverse_scale", Exps(c, logScale, -1), c.Spec.Dim), "x");
        return new LayerStep(x, g.Initializer("log_det", new[] { -sum }));
    }

    /// <summary>e^{±ℓᵢ} as FlowGen's generated code computes it: <c>Kernel.Exp</c> of ±ℓᵢ in the flow's element type (so the
    /// scale is bit-identical to FlowGen's, where ONNX Runtime's Exp may differ from it by an ulp).</summary>
    private static double[] Exps(ExportContext c, ReadOnlySpan<double> logScale, int sign)
    {
        var e = new double[logScale.Length];
        for (int i = 0; i < e.Length; i++) e[i] = c.Exp(sign * logScale[i]);
        return e;
    }

    private static (double[] LogScale, string Bias, double Sum) Parameters(ExportContext c, LayerSpec layer)
    {
        int d = c.Spec.Dim;
        double[] logScale = c.Tensor($"layers.{layer.Index}.log_scale", d).ToArray();
        string b = c.Graph.Initializer("bias", c.Tensor($"layers.{layer.Index}.bias", d), d);
        // Σ ℓᵢ in the model's precision, in index order, computed at export time (a constant of the parameters)
        double sum = 0;
        foreach (double l in logScale) sum = c.Round(sum + l);
        return (logScale, b, sum);
    }
}
