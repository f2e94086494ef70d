using System;
using FlowGen.Onnx.Graph;

namespace FlowGen.Onnx.Bases;

/// <summary>
/// The Gaussian-mixture base (docs/model.md §11.3; [GaussianMixtureBase], FlowGMM's form included). With
/// u_ci = (zᵢ − μ_ci)·e^{−s_ci} the log joint of component c is j_c = log w_c − Σᵢ s_ci − (D/2)·log 2π − ½ Σᵢ u_ci², and
/// log p(z) = m + log Σ_c exp(j_c − m), m = max_c j_c (−∞ when every j_c is). The LogProb graph also outputs
/// component_log_posteriors [N, K] = j_c − log p(z) and label [N] = argmax_c j_c (int64; the first on ties, −1 where a j_c
/// is NaN). Sampling: the Sample graph takes a uniform u [N] (DOUBLE) and picks the first c with u &lt; w_0 + … + w_c (the
/// last if none) by comparisons with the cumulative weights and a sum; SampleComponent takes the component (int64 [N]);
/// then z = μ_c + e^{s_c}·ε. The parameter-only quantities (log w, the components' constants, e^{∓s}, the cumulative
/// weights) are export-time constants computed as the generated code computes them.
/// </summary>
internal sealed class GaussianMixtureBase : IBaseEmitter
{
    public string Kind => "gaussian_mixture";

    private sealed record Parameters(int K, int D, bool FlowGmm, double[] Means, double[] LogScales, double[] LogWeights, double[] Constants);

    private static Parameters Read(ExportContext c)
    {
        int k = c.Spec.BaseField("components").GetInt32(), d = c.Spec.Dim;
        bool flowGmm = c.Spec.BaseField("flow_gmm").GetBoolean();
        if (k < 1) throw new OnnxExportException($"the Gaussian-mixture base of the stack specification has {k} components");
        double[] means = c.Tensor("base.means", k * d).ToArray();
        double[] logScales = c.Tensor("base.log_scales", flowGmm ? 1 : k * d).ToArray();
        var logWeights = new double[k];
        if (flowGmm)
            Array.Fill(logWeights, c.Round(-Math.Log(k)));
        else
        {
            // log Σ exp(a) by the largest logit, in the element type, in FlowGen's order (BaseLogitNormalizer)
            ReadOnlySpan<double> logits = c.Tensor("base.logits", k);
            double max = logits[0];
            for (int j = 1; j < k; j++) if (logits[j] > max) max = logits[j];
            double sum = 0;
            for (int j = 0; j < k; j++) sum = c.Round(sum + c.Exp(c.Round(logits[j] - max)));
            double normalizer = c.Round(max + c.Log(sum));
            for (int j = 0; j < k; j++) logWeights[j] = c.Round(logits[j] - normalizer);
        }
        // log w_c − Σᵢ s_ci − (D/2)·log 2π (BaseComponentConstant)
        var constants = new double[k];
        double half = BaseCommon.HalfLogTwoPiTimesDim(c);
        for (int j = 0; j < k; j++)
        {
            double constant = c.Round(logWeights[j] - half);
            if (flowGmm) constant = c.Round(constant - c.Round(d * logScales[0]));
            else for (int i = 0; i < d; i++) constant = c.Round(constant - logScales[j * d + i]);
            constants[j] = constant;
        }
        return new Parameters(k, d, flowGmm, means, logScales, logWeights, constants);
    }

    private static string ScaleTensor(ExportContext c, Parameters p, string name, double sign)
    {
        var values = new double[p.LogScales.Length];
        for (int i = 0; i < values.Length; i++) values[i] = c.Exp(sign * p.LogScales[i]);
        return p.FlowGmm ? c.Graph.Initializer(name, values, 1) : c.Graph.Initializer(name, values, p.K, p.D);
    }

    public string LogDensity(ExportContext c, string z, bool extraOutputs)
    {
        GraphBuilder g = c.Graph;
        Parameters p = Read(c);
        using var _ = g.Scope("base");
        // the log joints j [N, K]
        string centred = g.Sub(g.Unsqueeze(z, 1, "z_rows"), g.Initializer("means", p.Means, p.K, p.D), "centred");   // [N, K, D]
        string u = g.Mul(centred, ScaleTensor(c, p, "inverse_scales", -1), "u");
        string squares = g.ReduceSum(g.Mul(u, u, "u2"), 2, "sum_u2");                                                   // [N, K]
        string joints = g.Add(g.Mul(g.Scalar(-0.5), squares, "half"), g.Initializer("constants", p.Constants, p.K), "log_joints");
        // log-sum-exp by the largest joint; −∞ where every joint is
        string maxKept = g.ReduceMaxKeep(joints, 1, "max_joint");                                                     // [N, 1]
        string sum = g.ReduceSum(g.Exp(g.Sub(joints, maxKept, "shifted"), "exp_shifted"), 1, "sum_exp");                // [N]
        string max = g.Reshape(maxKept, new long[] { -1 }, "max_row");
        string allInfinite = g.Equal(max, g.Scalar(double.NegativeInfinity), "all_minus_infinity");
        string logDensity = g.Where(allInfinite, max, g.Add(max, g.Log(sum, "log_sum"), "lse"), "log_density");
        if (extraOutputs)
        {
            object[] shape = { "batch", (long)p.K };
            string posteriors = g.Sub(joints, g.Unsqueeze(logDensity, 1, "log_density_column"), "log_posteriors");
            g.Output(OnnxFlowNames.ComponentLogPosteriors, posteriors, shape, "log p(c | x) = j_c(z) − log p(z), one column per component");
            string nanCount = g.ReduceSum(g.CastTo(g.IsNaN(joints, "nan_joint"), GraphBuilder.Int64Type, "nan_joint_int"), 1, "nan_joints");
            string label = g.Where(g.Greater(nanCount, g.IntScalar(0), "has_nan"), g.IntScalar(-1), g.ArgMax(joints, 1, "best"), "label");
            g.Output(OnnxFlowNames.Label, label, new object[] { "batch" }, "argmax_c j_c(z): the component of largest posterior (the first on ties, −1 where a j_c is NaN)", GraphBuilder.Int64Type);
        }
        return logDensity;
    }

    public string Sample(ExportContext c, string noise, OnnxFlowGraph graph)
    {
        GraphBuilder g = c.Graph;
        Parameters p = Read(c);
        string component;
        string? valid = null;
        if (graph == OnnxFlowGraph.SampleComponent)
        {
            string given = g.Input(OnnxFlowNames.Component, GraphBuilder.Int64Type, new object[] { "batch" }, $"the component of each row, 0 … {p.K - 1}");
            using var s = g.Scope("base.sample");
            // 0 ≤ c < K; any other row becomes NaN (ONNX's Gather would read a negative index from the end)
            valid = g.And(g.GreaterOrEqual(given, g.IntScalar(0), "component_ge_0"), g.Less(given, g.IntScalar(p.K), "component_lt_k"), "component_valid");
            component = g.Where(valid, given, g.IntScalar(0), "component_index");
        }
        else
        {
            string uniform = g.Input(OnnxFlowNames.Uniform, GraphBuilder.DoubleType, new object[] { "batch" }, "a uniform draw in [0, 1) per row (DOUBLE), choosing the component");
            using var s = g.Scope("base.sample");
            if (p.K == 1) component = g.CastTo(g.ZerosPerRow(uniform), GraphBuilder.Int64Type, "component");   // one component: always 0
            else
            {
                // the weights and their running sums in double as FlowGen's sampler forms them (BaseFunctions.Categorical):
                // the component is the number of c < K − 1 with u ≥ w_0 + … + w_c
                var cumulative = new double[p.K - 1];
                double running = 0;
                for (int j = 0; j < p.K - 1; j++) cumulative[j] = running += Math.Exp(p.LogWeights[j]);
                string above = g.GreaterOrEqual(g.Unsqueeze(uniform, 1, "uniform_column"), g.Doubles("cumulative_weights", cumulative, p.K - 1), "passed");
                component = g.ReduceSum(g.CastTo(above, GraphBuilder.Int64Type, "passed_int"), 1, "component");
            }
        }
        using var _ = g.Scope("base.sample");
        string means = g.Gather(g.Initializer("means", p.Means, p.K, p.D), component, 0, "row_means");                // [N, D]
        string scales = ScaleTensor(c, p, "scales", 1);
        if (!p.FlowGmm) scales = g.Gather(scales, component, 0, "row_scales");
        string z = g.Add(g.Mul(noise, scales, "scaled"), means, "z");
        if (valid is not null) z = g.Where(g.Unsqueeze(valid, 1, "valid_column"), z, g.Scalar(double.NaN), "z_checked");
        return z;
    }
}
