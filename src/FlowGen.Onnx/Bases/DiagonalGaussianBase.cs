using System;
using FlowGen.Onnx.Graph;

namespace FlowGen.Onnx.Bases;

/// <summary>
/// The diagonal Gaussian base N(μ, diag σ²) (docs/model.md §11.2; [GaussianBase]): with uᵢ = (zᵢ − μᵢ)·e^{−sᵢ},
/// log p(z) = −½ Σᵢ uᵢ² − Σᵢ sᵢ − (D/2)·log 2π. Sampling from noise ε: z = μ + e^{s}·ε (FlowGen's Sample draws ε by FillGaussian).
/// The parameter-only quantities (e^{−s}, e^{s}, the normaliser) are constants computed at export time the way the generated
/// code computes them (FlowGen's Exp, the same summation order, in the flow's element type).
/// </summary>
internal sealed class DiagonalGaussianBase : IBaseEmitter
{
    public string Kind => "diagonal_gaussian";

    public string LogDensity(ExportContext c, string z, bool extraOutputs)
    {
        GraphBuilder g = c.Graph;
        int d = c.Spec.Dim;
        ReadOnlySpan<double> means = c.Tensor("base.means", d), logScales = c.Tensor("base.log_scales", d);
        var inverseScales = new double[d];
        double normalizer = -BaseCommon.HalfLogTwoPiTimesDim(c);
        for (int i = 0; i < d; i++)
        {
            inverseScales[i] = c.Exp(-logScales[i]);
            normalizer = c.Round(normalizer - logScales[i]);
        }
        using var _ = g.Scope("base");
        string u = g.Mul(g.Sub(z, g.Initializer("means", means, d), "centred"), g.Initializer("inverse_scales", inverseScales, d), "u");
        string squares = g.ReduceSum(g.Mul(u, u, "u2"), 1, "sum_u2");
        return g.Add(g.Mul(g.Scalar(-0.5), squares, "half"), g.Scalar(normalizer), "log_density");
    }

    public string Sample(ExportContext c, string noise, OnnxFlowGraph graph)
    {
        BaseCommon.RefuseComponents(c, graph);
        GraphBuilder g = c.Graph;
        int d = c.Spec.Dim;
        ReadOnlySpan<double> means = c.Tensor("base.means", d), logScales = c.Tensor("base.log_scales", d);
        var scales = new double[d];
        for (int i = 0; i < d; i++) scales[i] = c.Exp(logScales[i]);
        using var _ = g.Scope("base.sample");
        return g.Add(g.Mul(noise, g.Initializer("scales", scales, d), "scaled"), g.Initializer("means", means, d), "z");
    }
}
