using System;
using System.Collections.Generic;
using FlowGen.Onnx.Graph;

namespace FlowGen.Onnx.Layers;

/// <summary>
/// A coupling (docs/model.md §3): the conditioner MLP on u = (x_A, context), its output o reshaped to θ [N, P, |B|]
/// (o[p·|B| + b] is parameter p of the b-th transformed coordinate), the transformer applied to x_B, and y reassembled by
/// one Gather from (x_A, y_B). The transformer is its own emitter (<see cref="ITransformerEmitter"/>), one per kind.
/// </summary>
internal sealed class CouplingEmitter : ILayerEmitter
{
    public string Kind => "coupling";

    public LayerStep Forward(ExportContext c, LayerSpec layer, string x, string? context)
        => Apply(c, layer, x, context, inverse: false);

    public LayerStep Inverse(ExportContext c, LayerSpec layer, string y, string? context)
        => Apply(c, layer, y, context, inverse: true);

    private static LayerStep Apply(ExportContext c, LayerSpec layer, string input, string? context, bool inverse)
    {
        ITransformerEmitter transformer = Emitters.Transformer(layer);
        if (inverse && !transformer.HasInverse)
            throw new OnnxExportException(
                $"{layer.Describe()} is not exportable in the inverse direction: the {layer.String("transformer")} transformer has no closed-form " +
                "inverse (FlowGen inverts it by safeguarded Newton–bisection at run time); export the forward map or the log-density instead",
                layer.Index, layer.DisplayKind);
        GraphBuilder g = c.Graph;
        using var _ = g.Scope(inverse ? $"layers.{layer.Index}.inverse" : $"layers.{layer.Index}");
        int[] kept = layer.Ints("kept"), transformed = layer.Ints("transformed");
        int[] hidden = layer.Ints("hidden");
        string activation = layer.String("activation");
        int perCoordinate = transformer.ParametersPerCoordinate(layer);
        int nb = transformed.Length;

        // the conditioner reads the kept coordinates, which both directions leave unchanged
        string xa = g.Columns(input, kept, "x_kept");
        string u = context is null || c.Spec.Context == 0 ? xa : g.Concat(new[] { xa, context }, 1, "conditioner_input");
        var widths = new List<int> { kept.Length + c.Spec.Context };
        widths.AddRange(hidden);
        widths.Add(perCoordinate * nb);
        string h = u;
        for (int k = 0; k + 1 < widths.Count; k++)
        {
            int fanIn = widths[k], fanOut = widths[k + 1];
            // stored input-major ([in, out], docs/model.md §5): exactly the right operand of h·W
            string w = g.Initializer($"conditioner.{k}.weight", c.Tensor($"layers.{layer.Index}.conditioner.{k}.weight", fanIn * fanOut), fanIn, fanOut);
            string b = g.Initializer($"conditioner.{k}.bias", c.Tensor($"layers.{layer.Index}.conditioner.{k}.bias", fanOut), fanOut);
            h = g.Gemm(h, w, b, $"conditioner.{k}");
            if (k + 2 < widths.Count) h = g.Activation(activation, h, $"conditioner.{k}.{activation}");
        }
        string theta = g.Reshape(h, new long[] { -1, perCoordinate, nb }, "theta");
        var parameters = new TransformerParameters(g, theta, perCoordinate, nb);

        string xb = g.Columns(input, transformed, "x_transformed");
        TransformStep step = inverse ? transformer.Inverse(c, layer, xb, parameters) : transformer.Forward(c, layer, xb, parameters);

        // (x_A, y_B) back into coordinate order: coordinate i is at position pos[i] of the concatenation
        var position = new int[kept.Length + nb];
        for (int i = 0; i < kept.Length; i++) position[kept[i]] = i;
        for (int b = 0; b < nb; b++) position[transformed[b]] = kept.Length + b;
        string output = g.Columns(g.Concat(new[] { xa, step.Output }, 1, "assembled"), position, "y");

        string? logDet = null;
        if (step.LogDerivative is not null)
        {
            logDet = g.ReduceSum(step.LogDerivative, 1, "log_det");
            if (inverse) logDet = g.Neg(logDet, "neg_log_det");
        }
        return new LayerStep(output, logDet);
    }
}

/// <summary>The transformer's parameters θ [N, P, |B|] of one coupling, read by index.</summary>
internal sealed class TransformerParameters(GraphBuilder g, string theta, int perCoordinate, int transformed)
{
    /// <summary>θ as [N, P, |B|].</summary>
    public string All => theta;

    /// <summary>P, the parameters per transformed coordinate.</summary>
    public int PerCoordinate => perCoordinate;

    /// <summary>|B|.</summary>
    public int Transformed => transformed;

    /// <summary>Parameter p of every transformed coordinate: [N, |B|].</summary>
    public string At(int p, string hint) => g.Gather(theta, g.IntScalar(p), 1, hint);

    /// <summary>Parameters p ∈ [start, end): [N, end − start, |B|].</summary>
    public string Range(int start, int end, string hint) => g.Slice(theta, start, end, 1, hint);
}

/// <summary>The transformer's output [N, |B|] and log τ′ at the input (forward) or at the result (inverse), [N, |B|] or null (0).</summary>
internal readonly record struct TransformStep(string Output, string? LogDerivative);

/// <summary>
/// One coupling transformer τ (docs/model.md §3), by its spec name: its parameter count per coordinate and the ONNX nodes of
/// τ and, where it has a closed form, τ⁻¹. A new transformer is one class implementing this, listed in <see cref="Emitters.Transformers"/>.
/// </summary>
internal interface ITransformerEmitter
{
    /// <summary>The transformer's spec name (affine, additive, spline, sum_of_squares, deep_sigmoidal).</summary>
    string Name { get; }

    /// <summary>False when τ⁻¹ has no closed form that this emitter exports: the coupling then refuses the inverse, naming the layer.</summary>
    bool HasInverse { get; }

    /// <summary>P for this layer's options.</summary>
    int ParametersPerCoordinate(LayerSpec layer);

    /// <summary>y = τ(x; θ) for x [N, |B|], and log τ′(x).</summary>
    TransformStep Forward(ExportContext c, LayerSpec layer, string x, TransformerParameters theta);

    /// <summary>x = τ⁻¹(y; θ), and log τ′(x).</summary>
    TransformStep Inverse(ExportContext c, LayerSpec layer, string y, TransformerParameters theta);
}
