using System.Linq;
using FlowGen.Generator.Layers;
using FlowGen.Generator.Model;
using FlowGen.Generator.Planning;

namespace FlowGen.Generator.Emit;

/// <summary>
/// The conditioners' dense layers: calls of the runtime's kernels (FlowGen.Kernels.Dense), which are generic over the layer's
/// shape and activation, so the JIT specialises them per (in, out, activation) as the model's own code: one value type per
/// distinct shape (<c>DenseIxO : IDenseShape</c>) is emitted once per model.
/// </summary>
internal static class DenseEmitter
{
    /// <summary>The shape type of a dense layer.</summary>
    public static string ShapeName(DensePlan d) => $"Dense{d.In}x{d.Out}";

    /// <summary>The activation type of a dense layer (FlowGen.Kernels: Identity for the linear output layer).</summary>
    public static string ActivationName(DensePlan d) => d.Activation is { } a ? a.ToString() : "Identity";

    /// <summary>A forward call (tile or one sample): weights, input row, output row, and the pre-activation row (the output row when not stored).</summary>
    public static string Call(DensePlan d, Flavor f, string weights, string input, string output, string? pre) =>
        $"Dense.Forward{f.Suffix}<{ShapeName(d)}, {ActivationName(d)}{(f.IsTile ? ", " + Flavor.Vector : "")}>({weights}, {input}, {output}, {pre ?? output});";

    /// <summary>A backward call (tile): adds ∂W, ∂b to the gradient weights, writes ∂u; gradOutput becomes the pre-activation gradient.</summary>
    public static string BackwardCall(DensePlan d, string weights, string gradWeights, string input, string output, string pre, string gradOutput, string gradInput, string transpose) =>
        $"Dense.Backward<{ShapeName(d)}, {ActivationName(d)}, {Flavor.Vector}>({weights}, {gradWeights}, {input}, {output}, {pre}, {gradOutput}, {gradInput}, {transpose});";

    /// <summary>Writes the shape types the model's dense layers use.</summary>
    public static void EmitShapes(CodeWriter w, FlowPlan plan)
    {
        var shapes = CouplingLayerKind.DenseLayers(plan).Select(d => (d.In, d.Out)).Distinct().OrderBy(s => s.In).ThenBy(s => s.Out).ToList();
        if (shapes.Count == 0) return;
        w.Line("// the shapes of the conditioners' dense layers (FlowGen.Kernels.Dense is generic over them)");
        foreach (var (din, dout) in shapes)
        {
            w.Line($"private readonly struct Dense{din}x{dout} : IDenseShape {{ public static int In => {din}; public static int Out => {dout}; }}");
        }
        w.Line();
    }
}
