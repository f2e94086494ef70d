using FlowGen.Onnx.Graph;

namespace FlowGen.Onnx.Layers;

/// <summary>
/// Deep sigmoidal (P = 3·n·L, docs/model.md §3), forward only: L blocks, each v ↦ logit Σⱼ wⱼ σ(aⱼv + bⱼ) computed in log
/// space (a = softplus(ã), log a = log softplus(ã), log w = log softmax(w̃), log-sum-exp over the n units on axis 1 of
/// [N, n, |B|]); log τ′ is the sum of the blocks' log out′. τ⁻¹ has no closed form (FlowGen finds it per block by
/// monotone root finding): the inverse is refused, naming the layer.
/// </summary>
internal sealed class DeepSigmoidalTransformer : ITransformerEmitter
{
    public string Name => "deep_sigmoidal";
    public bool HasInverse => false;
    public int ParametersPerCoordinate(LayerSpec layer) => 3 * layer.Int("units") * layer.Int("blocks");

    public TransformStep Forward(ExportContext c, LayerSpec layer, string x, TransformerParameters theta)
    {
        GraphBuilder g = c.Graph;
        int n = layer.Int("units"), blocks = layer.Int("blocks");
        string v = x;
        string? total = null;
        for (int q = 0; q < blocks; q++)
        {
            int p = 3 * n * q;
            string rawA = theta.Range(p, p + n, $"block{q}_raw_a");
            string b = theta.Range(p + n, p + 2 * n, $"block{q}_b");
            string rawW = theta.Range(p + 2 * n, p + 3 * n, $"block{q}_raw_w");
            string a = g.Softplus(rawA, $"block{q}_a");
            string logA = g.LogSoftplus(rawA, $"block{q}_log_a");
            string logW = g.LogSoftmax(rawW, 1, $"block{q}_log_w");
            string u = g.Add(g.Mul(a, g.Unsqueeze(v, 1, $"block{q}_v"), $"block{q}_av"), b, $"block{q}_u");
            string logSigmoid = g.LogSigmoid(u, $"block{q}_log_sig");
            string logSigmoidNeg = g.LogSigmoid(g.Neg(u, $"block{q}_neg_u"), $"block{q}_log_sig_neg");
            string logH = g.ReduceLogSumExp(g.Add(logW, logSigmoid, $"block{q}_wh"), 1, $"block{q}_log_h");
            string log1mH = g.ReduceLogSumExp(g.Add(logW, logSigmoidNeg, $"block{q}_w1mh"), 1, $"block{q}_log_1mh");
            string output = g.Sub(logH, log1mH, $"block{q}_out");
            string terms = g.Add(g.Add(g.Add(logW, logA, $"block{q}_wa"), logSigmoid, $"block{q}_was"), logSigmoidNeg, $"block{q}_wass");
            string logDerivative = g.Sub(g.Sub(g.ReduceLogSumExp(terms, 1, $"block{q}_lse_d"), logH, $"block{q}_d_h"), log1mH, $"block{q}_log_d");
            total = total is null ? logDerivative : g.Add(total, logDerivative, "log_derivative_sum");
            v = output;
        }
        return new TransformStep(v, total);
    }

    public TransformStep Inverse(ExportContext c, LayerSpec layer, string y, TransformerParameters theta)
        => throw new OnnxExportException($"{layer.Describe()}: the deep-sigmoidal transformer has no closed-form inverse", layer.Index, layer.DisplayKind);
}
