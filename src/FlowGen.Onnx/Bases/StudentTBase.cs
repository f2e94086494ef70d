using System;
using FlowGen.Kernels;
using FlowGen.Onnx.Graph;

namespace FlowGen.Onnx.Bases;

/// <summary>
/// The Student-t base (docs/model.md §11.4; [StudentTBase]): independent coordinates, νᵢ = exp ηᵢ (base.log_dof), tᵢ = 1 + zᵢ²/νᵢ,
/// log p(z) = Σᵢ [log Γ((νᵢ+1)/2) − log Γ(νᵢ/2) − ½ log(νᵢ π) − (νᵢ+1)/2 · log tᵢ]. ONNX has no Lgamma operator: the
/// per-coordinate constants (1/ν, (ν+1)/2 and the log-normaliser with its log Γ terms) are computed at export time from the
/// current parameters, exactly as the generated code computes them (in double by BaseFunctions, then rounded) — they are
/// parameters, not inputs, so a learnt ν is exported as its current value. Sampling takes FlowGen's two standard draws per
/// coordinate as inputs, ε ~ N(0, 1) (noise) and V ~ χ²(νᵢ) (chi_square), and forms z = ε/√(V/ν) as BaseFunctions.StudentT.
/// </summary>
internal sealed class StudentTBase : IBaseEmitter
{
    public string Kind => "student_t";

    public string LogDensity(ExportContext c, string z, bool extraOutputs)
    {
        GraphBuilder g = c.Graph;
        int d = c.Spec.Dim;
        ReadOnlySpan<double> logDof = c.Tensor("base.log_dof", d);
        double[] inverseNu = new double[d], halfNuPlusOne = new double[d], logNormalizer = new double[d];
        for (int i = 0; i < d; i++)
        {
            double nu = Math.Exp(logDof[i]);
            inverseNu[i] = c.Round(1 / nu);
            halfNuPlusOne[i] = c.Round(0.5 * (nu + 1));
            logNormalizer[i] = c.Round(BaseFunctions.StudentTLogNormalizer(nu));
        }
        using var _ = g.Scope("base");
        string t = g.Add(g.Mul(g.Mul(z, z, "z2"), g.Initializer("inverse_dof", inverseNu, d), "z2_over_nu"), g.Scalar(1), "t");
        string terms = g.Add(g.Mul(g.Initializer("minus_half_dof_plus_one", Array.ConvertAll(halfNuPlusOne, v => -v), d), g.Log(t, "log_t"), "scaled_log_t"),
            g.Initializer("log_normalizers", logNormalizer, d), "coordinate_log_density");
        return g.ReduceSum(terms, 1, "log_density");
    }

    public string Sample(ExportContext c, string noise, OnnxFlowGraph graph)
    {
        BaseCommon.RefuseComponents(c, graph);
        GraphBuilder g = c.Graph;
        int d = c.Spec.Dim;
        string chiSquare = g.Input(OnnxFlowNames.ChiSquare, d, "chi-square draws V, V_ni ~ χ²(ν_i) (= 2·Gamma(ν_i/2, 1)), one row per sample");
        ReadOnlySpan<double> logDof = c.Tensor("base.log_dof", d);
        var nu = new double[d];
        for (int i = 0; i < d; i++) nu[i] = Math.Exp(logDof[i]);
        using var _ = g.Scope("base.sample");
        return g.Div(noise, g.Sqrt(g.Div(chiSquare, g.Initializer("dof", nu, d), "v_over_nu"), "scale"), "z");
    }
}
