using System;
using FlowGen.Generator.Emit;
using FlowGen.Generator.Model;
using FlowGen.Generator.Planning;
using FlowGen.Generator.Spec;

namespace FlowGen.Generator.Layers;

/// <summary>A fixed permutation: output i takes input Order[i].</summary>
internal sealed record PermutationLayer(EquatableArray<int> Order, string Description) : LayerModel
{
    public override LayerKind Kind => PermutationLayerKind.Instance;
}

/// <summary>
/// Permutation layers (docs/model.md §4): y_i = x_Order[i], log-det 0. They cost nothing at run time: the plan renames the
/// rows that hold each coordinate, so later layers read their inputs from the permuted rows and no code is emitted.
/// </summary>
internal sealed class PermutationLayerKind : LayerKind
{
    public static readonly PermutationLayerKind Instance = new();

    public override string SpecName => "permutation";

    public override bool HasCode => false;

    public override int[] MapAfter(LayerModel layer, int[] mapBefore)
    {
        var perm = (PermutationLayer)layer;
        var after = new int[mapBefore.Length];
        for (int i = 0; i < after.Length; i++) after[i] = mapBefore[perm.Order[i]];
        return after;
    }

    public override object Plan(LayerModel layer, LayoutBuilder b) => new object();

    public override string ShapeStem(LayerModel layer) => "Permutation";

    public override string Title(LayerModel layer) => "Permutation";

    public override string Describe(LayerPlan l)
    {
        var p = (PermutationLayer)l.Layer;
        return "permutation [" + Literals.List(p.Order) + "] (" + p.Description + ")";
    }

    public override string Formula(LayerPlan l) => "y_i = x_Order[i], log-det 0: the rows are renamed, no code runs";

    public override void WriteSpec(LayerModel layer, JsonWriter j) => j.Name("order").Ints(((PermutationLayer)layer).Order);

    public override void EmitShape(ShapeContext e, LayerPlan l) => throw new InvalidOperationException("a permutation has no code");
}
