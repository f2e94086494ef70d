using System;
using System.Collections.Generic;
using FlowGen.Onnx.Graph;

namespace FlowGen.Onnx;

/// <summary>
/// What a layer or base emitter is given: the graph being built, the parsed stack specification, and the flow's current
/// parameters (as double: a float model's values convert exactly, and the initializers are written back in float).
/// </summary>
internal sealed class ExportContext
{
    private readonly double[] parameters;
    private readonly Dictionary<string, ParameterTensor> tensors = new(StringComparer.Ordinal);

    public ExportContext(GraphBuilder graph, FlowSpec spec, double[] parameters, IReadOnlyList<ParameterTensor> parameterTensors)
    {
        Graph = graph;
        Spec = spec;
        this.parameters = parameters;
        foreach (ParameterTensor t in parameterTensors) tensors[t.Name] = t;
    }

    public GraphBuilder Graph { get; }
    public FlowSpec Spec { get; }

    /// <summary>The values of the named parameter tensor, in the parameter vector's storage order (docs/model.md §5).</summary>
    public ReadOnlySpan<double> Tensor(string name, int expectedLength)
    {
        if (!tensors.TryGetValue(name, out ParameterTensor? t))
            throw new OnnxExportException($"the flow has no parameter tensor '{name}' (ParameterTensors does not match its StackSpec)");
        if (t.Length != expectedLength)
            throw new OnnxExportException($"parameter tensor '{name}' holds {t.Length} values; its layer's specification makes {expectedLength}");
        return parameters.AsSpan(t.Offset, t.Length);
    }

    /// <summary>True for a double flow (and graph), false for a float one.</summary>
    public bool IsDouble => Graph.IsDouble;

    /// <summary><paramref name="value"/> rounded to the flow's element type (identity for double).</summary>
    public double Round(double value) => IsDouble ? value : (float)value;

    /// <summary>FlowGen's own e^x in the flow's element type (<see cref="Kernel.Exp(float)"/>): export-time constants equal
    /// the values the generated code computes from the same parameters, bit for bit.</summary>
    public double Exp(double x) => IsDouble ? Kernel.Exp(x) : Kernel.Exp((float)x);

    /// <summary>FlowGen's own log x in the flow's element type (<see cref="Kernel.Log(float)"/>).</summary>
    public double Log(double x) => IsDouble ? Kernel.Log(x) : Kernel.Log((float)x);

    /// <summary>The values of a layer's whole parameter block.</summary>
    public ReadOnlySpan<double> Block(LayerSpec layer) => parameters.AsSpan(layer.ParameterOffset, layer.ParameterCount);
}

/// <summary>A layer's output and the log-determinant it adds: [N] or a scalar (a constant); null when it adds nothing.</summary>
internal readonly record struct LayerStep(string Output, string? LogDet);

/// <summary>
/// Everything about one layer kind of the stack specification (its "kind" field): the ONNX nodes of its forward map and of
/// its inverse. A new layer kind is one class implementing this, listed in <see cref="Emitters.Layers"/>.
/// </summary>
internal interface ILayerEmitter
{
    /// <summary>The layer kind as docs/model.md §8 names it.</summary>
    string Kind { get; }

    /// <summary>y = f(x) for x [N, D] (context [N, C] or null); log|det ∂y/∂x|.</summary>
    LayerStep Forward(ExportContext c, LayerSpec layer, string x, string? context);

    /// <summary>x = f⁻¹(y); log|det ∂x/∂y|. Throws <see cref="OnnxExportException"/> naming the layer where there is no inverse to export.</summary>
    LayerStep Inverse(ExportContext c, LayerSpec layer, string y, string? context);
}

/// <summary>
/// The base distribution of the latent space (the stack specification's "base"): its log-density and, for sampling, the
/// map from standard-normal noise to a base sample. A new base is one class implementing this, listed in <see cref="Emitters.Bases"/>.
/// </summary>
internal interface IBaseEmitter
{
    /// <summary>The base kind as the specification's "base" object names it (e.g. standard_normal).</summary>
    string Kind { get; }

    /// <summary>
    /// log p_Z(z) for z [N, D]: [N]. With <paramref name="extraOutputs"/> (the LogProb graph) a base may declare graph outputs
    /// of its own (the mixture: component_log_posteriors and label).
    /// </summary>
    string LogDensity(ExportContext c, string z, bool extraOutputs);

    /// <summary>
    /// The base sample z [N, D] for the Sample (or SampleComponent) graph from the standard-normal noise [N, D] (the graph's
    /// first input) and the further inputs the base declares here (docs/onnx.md: the mixture's uniform or component, the
    /// Student-t's chi_square). Throws <see cref="OnnxExportException"/> for a graph the base cannot serve.
    /// </summary>
    string Sample(ExportContext c, string noise, OnnxFlowGraph graph);
}

/// <summary>The registries: one emitter per layer kind, per coupling transformer and per base distribution.</summary>
internal static class Emitters
{
    public static readonly IReadOnlyList<ILayerEmitter> Layers = new ILayerEmitter[]
    {
        new Layers.CouplingEmitter(),
        new Layers.PermutationEmitter(),
        new Layers.ActNormEmitter(),
        new Layers.InvertibleLinearEmitter(),
    };

    public static readonly IReadOnlyList<Layers.ITransformerEmitter> Transformers = new Layers.ITransformerEmitter[]
    {
        new Layers.AffineTransformer(),
        new Layers.AdditiveTransformer(),
        new Layers.SplineTransformer(),
        new Layers.SumOfSquaresTransformer(),
        new Layers.DeepSigmoidalTransformer(),
    };

    public static readonly IReadOnlyList<IBaseEmitter> Bases = new IBaseEmitter[]
    {
        new Bases.StandardNormalBase(),
        new Bases.DiagonalGaussianBase(),
        new Bases.GaussianMixtureBase(),
        new Bases.StudentTBase(),
    };

    public static ILayerEmitter Layer(LayerSpec layer)
    {
        foreach (ILayerEmitter e in Layers) if (e.Kind == layer.Kind) return e;
        throw new OnnxExportException($"{layer.Describe()}: this FlowGen.Onnx cannot export layers of kind '{layer.Kind}'", layer.Index, layer.Kind);
    }

    public static Layers.ITransformerEmitter Transformer(LayerSpec layer)
    {
        string name = layer.String("transformer");
        foreach (Layers.ITransformerEmitter e in Transformers) if (e.Name == name) return e;
        throw new OnnxExportException($"{layer.Describe()}: this FlowGen.Onnx cannot export the '{name}' transformer", layer.Index, layer.DisplayKind);
    }

    public static IBaseEmitter Base(FlowSpec spec)
    {
        foreach (IBaseEmitter e in Bases) if (e.Kind == spec.BaseKind) return e;
        throw new OnnxExportException($"this FlowGen.Onnx cannot export the base distribution '{spec.BaseKind}'");
    }
}
