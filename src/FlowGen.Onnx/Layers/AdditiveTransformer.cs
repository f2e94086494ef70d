using FlowGen.Onnx.Graph;

namespace FlowGen.Onnx.Layers;

/// <summary>Additive (P = 1): y = x + t, log τ′ = 0; x = y − t.</summary>
internal sealed class AdditiveTransformer : ITransformerEmitter
{
    public string Name => "additive";
    public bool HasInverse => true;
    public int ParametersPerCoordinate(LayerSpec layer) => 1;

    public TransformStep Forward(ExportContext c, LayerSpec layer, string x, TransformerParameters theta)
        => new(c.Graph.Add(x, theta.At(0, "shift"), "y_transformed"), null);

    public TransformStep Inverse(ExportContext c, LayerSpec layer, string y, TransformerParameters theta)
        => new(c.Graph.Sub(y, theta.At(0, "shift"), "x_transformed"), null);
}
