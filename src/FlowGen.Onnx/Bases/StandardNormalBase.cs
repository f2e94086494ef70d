using System;
using FlowGen.Onnx.Graph;

namespace FlowGen.Onnx.Bases;

/// <summary>The standard normal base N(0, I) (docs/model.md §11.1): log p(z) = −½ Σᵢ zᵢ² − (D/2)·log(2π); a base sample is the noise itself.</summary>
internal sealed class StandardNormalBase : IBaseEmitter
{
    public string Kind => "standard_normal";

    public string LogDensity(ExportContext c, string z, bool extraOutputs)
    {
        GraphBuilder g = c.Graph;
        using var _ = g.Scope("base");
        string squares = g.ReduceSum(g.Mul(z, z, "z2"), 1, "sum_z2");
        return g.Sub(g.Mul(g.Scalar(-0.5), squares, "half"), g.Scalar(0.5 * c.Spec.Dim * Math.Log(2 * Math.PI)), "log_density");
    }

    public string Sample(ExportContext c, string noise, OnnxFlowGraph graph)
    {
        BaseCommon.RefuseComponents(c, graph);
        return noise;
    }
}

/// <summary>What the base emitters share.</summary>
internal static class BaseCommon
{
    /// <summary>SampleComponent needs a mixture: any other base refuses it, naming itself.</summary>
    public static void RefuseComponents(ExportContext c, OnnxFlowGraph graph)
    {
        if (graph == OnnxFlowGraph.SampleComponent)
            throw new OnnxExportException($"the {OnnxFlowGraph.SampleComponent} graph needs a Gaussian-mixture base; this flow's base is '{c.Spec.BaseKind}' (export {OnnxFlowGraph.Sample})");
    }

    /// <summary>(D/2)·log 2π rounded to the element type, as the generated code's HalfLogTwoPiTimesDim constant.</summary>
    public static double HalfLogTwoPiTimesDim(ExportContext c) => c.Round(0.5 * c.Spec.Dim * Math.Log(2 * Math.PI));
}
