using System;

namespace FlowGen.Onnx;

/// <summary>
/// A flow, or one direction of it, that FlowGen.Onnx cannot express as an ONNX graph: a layer kind, transformer or base
/// distribution this version does not know, or the inverse of a layer with no closed-form inverse (sum-of-squares and
/// deep-sigmoidal couplings). The message names the layer (its stack index and kind); <see cref="LayerIndex"/> gives it.
/// </summary>
public sealed class OnnxExportException : NotSupportedException
{
    /// <summary>A failure not tied to one layer.</summary>
    public OnnxExportException(string message) : base(message) { }

    /// <summary>A failure of the layer at stack index <paramref name="layerIndex"/>.</summary>
    public OnnxExportException(string message, int layerIndex, string layerKind) : base(message)
    {
        LayerIndex = layerIndex;
        LayerKind = layerKind;
    }

    /// <summary>The stack index of the layer that cannot be exported (null when the failure is not a layer's).</summary>
    public int? LayerIndex { get; }

    /// <summary>The layer's kind as the stack specification names it (e.g. <c>coupling/sum_of_squares</c>), or null.</summary>
    public string? LayerKind { get; }
}
