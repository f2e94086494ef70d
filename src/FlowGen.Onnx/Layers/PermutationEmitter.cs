using System;
using FlowGen.Onnx.Graph;

namespace FlowGen.Onnx.Layers;

/// <summary>Permutation (docs/model.md §4): y_i = x_{π(i)} (spec field "order"); the inverse gathers with π⁻¹; log|det| = 0.</summary>
internal sealed class PermutationEmitter : ILayerEmitter
{
    public string Kind => "permutation";

    public LayerStep Forward(ExportContext c, LayerSpec layer, string x, string? context)
    {
        using var _ = c.Graph.Scope($"layers.{layer.Index}");
        return new LayerStep(c.Graph.Columns(x, Order(c, layer), "permuted"), null);
    }

    public LayerStep Inverse(ExportContext c, LayerSpec layer, string y, string? context)
    {
        using var _ = c.Graph.Scope($"layers.{layer.Index}.inverse");
        return new LayerStep(c.Graph.Columns(y, Invert(Order(c, layer)), "unpermuted"), null);
    }

    internal static int[] Order(ExportContext c, LayerSpec layer) => CheckPermutation(layer.Ints("order"), c.Spec.Dim, layer);

    internal static int[] CheckPermutation(int[] order, int dim, LayerSpec layer)
    {
        if (order.Length != dim) throw layer.Invalid($"has a permutation of {order.Length} entries for dim {dim}");
        var seen = new bool[dim];
        foreach (int i in order)
        {
            if (i < 0 || i >= dim || seen[i]) throw layer.Invalid("has an order that is not a permutation");
            seen[i] = true;
        }
        return order;
    }

    internal static int[] Invert(int[] order)
    {
        var inverse = new int[order.Length];
        for (int i = 0; i < order.Length; i++) inverse[order[i]] = i;
        return inverse;
    }
}
