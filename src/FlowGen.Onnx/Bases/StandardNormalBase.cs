using System;
using FlowGen.Onnx.Graph;

namespace FlowGen.Onnx.Bases;

/// <summary>The standard normal base N(0, I): log p(z) = −½ Σᵢ zᵢ² − (D/2)·log(2π); a base sample is the noise itself.</summary>
internal sealed class StandardNormalBase : IBaseEmitter
{
    public string Kind => "standard_normal";

    public string LogDensity(ExportContext c, string z)
    {
        GraphBuilder g = c.Graph;
        using var _ = g.Scope("base");
        string squares = g.ReduceSum(g.Mul(z, z, "z2"), 1, "sum_z2");
        return g.Sub(g.Mul(g.Scalar(-0.5), squares, "half"), g.Scalar(0.5 * c.Spec.Dim * Math.Log(2 * Math.PI)), "log_density");
    }

    public string FromNoise(ExportContext c, string noise) => noise;
}
