using FlowGen.Onnx.Graph;

namespace FlowGen.Onnx.Layers;

/// <summary>Affine (P = 2): s̃ = K·tanh(s/K) (s when K = 0), y = x·exp(s̃) + t, log τ′ = s̃; x = (y − t)·exp(−s̃).</summary>
internal sealed class AffineTransformer : ITransformerEmitter
{
    public string Name => "affine";
    public bool HasInverse => true;
    public int ParametersPerCoordinate(LayerSpec layer) => 2;

    public TransformStep Forward(ExportContext c, LayerSpec layer, string x, TransformerParameters theta)
    {
        GraphBuilder g = c.Graph;
        string s = Scale(g, layer, theta), t = theta.At(1, "shift");
        return new TransformStep(g.Add(g.Mul(x, g.Exp(s, "exp_scale"), "scaled"), t, "y_transformed"), s);
    }

    public TransformStep Inverse(ExportContext c, LayerSpec layer, string y, TransformerParameters theta)
    {
        GraphBuilder g = c.Graph;
        string s = Scale(g, layer, theta), t = theta.At(1, "shift");
        return new TransformStep(g.Mul(g.Sub(y, t, "unshifted"), g.Exp(g.Neg(s, "neg_scale"), "exp_neg_scale"), "x_transformed"), s);
    }

    private static string Scale(GraphBuilder g, LayerSpec layer, TransformerParameters theta)
    {
        string s = theta.At(0, "raw_log_scale");
        double clamp = layer.Number("clamp");
        if (clamp == 0) return s;
        // s̃ = K·tanh(s·(1/K)), the reciprocal rounded once to the model's precision as FlowGen does
        return g.Mul(g.Scalar(clamp), g.Tanh(g.Mul(s, g.Scalar(1 / clamp), "scaled_log_scale"), "tanh"), "log_scale");
    }
}
