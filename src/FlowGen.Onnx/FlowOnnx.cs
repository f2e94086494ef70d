using System;
using System.Collections.Generic;
using System.IO;
using System.Runtime.CompilerServices;
using FlowGen.Onnx.Graph;
using Google.Protobuf;
using OnnxProto = global::Onnx;

namespace FlowGen.Onnx;

/// <summary>Which map of a flow an exported ONNX graph computes (docs/onnx.md gives every graph's inputs and outputs).</summary>
public enum OnnxFlowGraph
{
    /// <summary>Inputs x [N, D] (and context [N, C]); output log_prob [N] = log p(x), as <c>LogProb</c>.</summary>
    LogProb,

    /// <summary>Inputs x (and context); outputs z [N, D] = f(x) and log_det [N] = log|det ∂z/∂x|, as <c>Forward</c>.</summary>
    Forward,

    /// <summary>Inputs z (and context); outputs x [N, D] = f⁻¹(z) and log_det [N] = log|det ∂x/∂z|, as <c>Inverse</c>.</summary>
    Inverse,

    /// <summary>
    /// Inputs noise [N, D] (standard normal, e.g. from FlowRandom.FillGaussian) (and context, and the base's further draws:
    /// a mixture's uniform [N], a Student-t's chi_square [N, D]; docs/onnx.md); outputs x [N, D], the samples f⁻¹(z) of the base
    /// samples z those draws make, and log_prob [N], their log-densities, as <c>Sample</c> computes them from the same draws.
    /// </summary>
    Sample,

    /// <summary>
    /// Flows with a Gaussian-mixture base only: inputs noise [N, D] (standard normal), context, and component int64 [N]; outputs
    /// x [N, D], the samples of the given components, and log_prob [N], their (mixture) log-densities, as the mixture flow's
    /// <c>Sample(xs, contexts, component, rng)</c> computes them from the same noise.
    /// </summary>
    SampleComponent,
}

/// <summary>The names of the exported graphs' inputs and outputs.</summary>
public static class OnnxFlowNames
{
    /// <summary>Data points [N, D]: the input of LogProb and Forward, the output of Inverse and Sample.</summary>
    public const string X = "x";
    /// <summary>Latent points [N, D]: the output of Forward, the input of Inverse.</summary>
    public const string Z = "z";
    /// <summary>Standard-normal noise [N, D]: the input of Sample.</summary>
    public const string Noise = "noise";
    /// <summary>Contexts [N, C]: the second input of every graph of a conditional flow (absent for an unconditional one).</summary>
    public const string Context = "context";
    /// <summary>Log-densities [N]: the output of LogProb and Sample.</summary>
    public const string LogProb = "log_prob";
    /// <summary>Log-determinants [N] of the map computed: the second output of Forward and Inverse.</summary>
    public const string LogDet = "log_det";
    /// <summary>Mixture base, Sample graph: uniforms u [N] in [0, 1) (DOUBLE in every graph), one per row, choosing the component
    /// as FlowGen's sampler does (the first c with u &lt; w_0 + … + w_c).</summary>
    public const string Uniform = "uniform";
    /// <summary>Mixture base: the component of each row, int64 [N] — the input of SampleComponent.</summary>
    public const string Component = "component";
    /// <summary>Student-t base, Sample graph: the chi-square draws V [N, D], V_ni ~ χ²(ν_i), z = ε/√(V/ν).</summary>
    public const string ChiSquare = "chi_square";
    /// <summary>Mixture base, LogProb graph: log p(c | x) [N, K], as ComponentLogPosteriors.</summary>
    public const string ComponentLogPosteriors = "component_log_posteriors";
    /// <summary>Mixture base, LogProb graph: the component of largest posterior, int64 [N] (the first on ties, −1 where a
    /// component's log joint is NaN), as Classify.</summary>
    public const string Label = "label";

    internal static readonly string[] All = { X, Z, Noise, Context, LogProb, LogDet, Uniform, Component, ChiSquare, ComponentLogPosteriors, Label };
}

/// <summary>
/// Exports a FlowGen flow's current parameters as an ONNX model (ONNX's protobuf schema through Google.Protobuf): the
/// log-density, the forward map, the inverse map or sampling from given noise (<see cref="OnnxFlowGraph"/>), with a
/// dynamic batch dimension, in the flow's precision (float or double). The exporter reads what every flow exposes at run
/// time — <see cref="ICouplingFlow{T}.StackSpec"/>, <see cref="ICouplingFlow{T}.ParameterTensors"/> and
/// <see cref="ICouplingFlow{T}.Parameters"/> — and writes one emitter's nodes per layer (docs/onnx.md).
/// </summary>
public static class FlowOnnx
{
    /// <summary>The ONNX operator set the graphs use (default domain).</summary>
    public const int OpsetVersion = 17;

    /// <summary>The ONNX IR version written (IR 8, the version of opset 17: ONNX 1.12 and ONNX Runtime 1.12 or newer read it).</summary>
    public const long IrVersion = 8;

    /// <summary>The ONNX model of one map of <paramref name="flow"/>, serialised (the bytes of an .onnx file).</summary>
    /// <exception cref="OnnxExportException">A layer, transformer or base distribution that cannot be exported in that
    /// direction (the inverse and sampling of sum-of-squares and deep-sigmoidal couplings); the message names the layer.</exception>
    public static byte[] Export<T>(ICouplingFlow<T> flow, OnnxFlowGraph graph = OnnxFlowGraph.LogProb) where T : unmanaged
        => Build(flow, graph).ToByteArray();

    /// <summary>Writes the ONNX model of one map of <paramref name="flow"/> to <paramref name="path"/> (replacing the file).</summary>
    /// <exception cref="OnnxExportException">As <see cref="Export{T}(ICouplingFlow{T}, OnnxFlowGraph)"/>; the file is then not written.</exception>
    public static void Save<T>(ICouplingFlow<T> flow, string path, OnnxFlowGraph graph = OnnxFlowGraph.LogProb) where T : unmanaged
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        byte[] bytes = Export(flow, graph);
        File.WriteAllBytes(path, bytes);
    }

    /// <summary>
    /// Whether <paramref name="graph"/> can be exported for <paramref name="flow"/>; when not, <paramref name="reason"/> says why,
    /// naming the layer (the message <see cref="Export{T}(ICouplingFlow{T}, OnnxFlowGraph)"/> would throw).
    /// </summary>
    public static bool CanExport<T>(ICouplingFlow<T> flow, OnnxFlowGraph graph, out string? reason) where T : unmanaged
    {
        try { Build(flow, graph); reason = null; return true; }
        catch (OnnxExportException e) { reason = e.Message; return false; }
    }

    /// <summary>
    /// Tests only: the graph of a float flow built in double (its float parameters converted exactly, every export-time
    /// constant and every operator in double) — a double-precision reference of the float flow's maps, against which the
    /// rounding of the float graph and of FlowGen's float code can each be measured.
    /// </summary>
    internal static byte[] ExportDoubleReference(ICouplingFlow<float> flow, OnnxFlowGraph graph)
        => Build(flow, graph, doubleReference: true).ToByteArray();

    private static OnnxProto.ModelProto Build<T>(ICouplingFlow<T> flow, OnnxFlowGraph graph, bool doubleReference = false) where T : unmanaged
    {
        ArgumentNullException.ThrowIfNull(flow);
        if (!Enum.IsDefined(graph)) throw new ArgumentOutOfRangeException(nameof(graph), graph, "not an OnnxFlowGraph");
        bool isDouble = typeof(T) == typeof(double);
        if (!isDouble && typeof(T) != typeof(float)) throw new OnnxExportException($"a flow of {typeof(T).Name} cannot be exported (float or double)");
        FlowSpec spec = FlowSpec.Parse(flow.StackSpec);
        string expectedDtype = isDouble ? "float64" : "float32";
        isDouble |= doubleReference;
        if (spec.Dtype != expectedDtype) throw new OnnxExportException($"the flow's StackSpec says {spec.Dtype}, the flow computes in {typeof(T).Name}");
        if (spec.Dim != flow.Dim || spec.Context != flow.ContextDim)
            throw new OnnxExportException($"the flow's StackSpec ({spec}) does not match its Dim {flow.Dim} and ContextDim {flow.ContextDim}");

        var parameters = new double[flow.ParameterCount];
        ReadOnlySpan<T> values = flow.Parameters;
        if (values.Length != parameters.Length) throw new OnnxExportException($"the flow has {values.Length} parameters, ParameterCount says {parameters.Length}");
        for (int i = 0; i < parameters.Length; i++)
        {
            T v = values[i];
            parameters[i] = typeof(T) == typeof(double) ? Unsafe.As<T, double>(ref v) : Unsafe.As<T, float>(ref v);
        }

        var graphProto = new OnnxProto.GraphProto
        {
            Name = GraphName(flow.ModelName, graph),
            DocString = $"FlowGen flow {flow.ModelName}: {Describe(graph)}. Stack: {flow.StackSpec}",
        };
        var g = new GraphBuilder(graphProto, isDouble);
        var c = new ExportContext(g, spec, parameters, flow.ParameterTensors);
        IBaseEmitter baseDistribution = Emitters.Base(spec);
        var layers = new List<(ILayerEmitter Emitter, LayerSpec Spec)>();
        foreach (LayerSpec layer in spec.Layers) layers.Add((Emitters.Layer(layer), layer));

        int d = spec.Dim;
        bool sampling = graph is OnnxFlowGraph.Sample or OnnxFlowGraph.SampleComponent;
        string inputName = graph switch { OnnxFlowGraph.Inverse => OnnxFlowNames.Z, _ when sampling => OnnxFlowNames.Noise, _ => OnnxFlowNames.X };
        string input = g.Input(inputName, d, graph switch
        {
            OnnxFlowGraph.Inverse => "latent points, one row per sample",
            _ when sampling => "standard-normal noise, one row per sample",
            _ => "data points, one row per sample",
        });
        string? context = spec.Context > 0 ? g.Input(OnnxFlowNames.Context, spec.Context, "the context of each row") : null;
        object[] rows = { "batch" }, matrix = { "batch", (long)d };

        if (graph is OnnxFlowGraph.LogProb or OnnxFlowGraph.Forward)
        {
            string v = input;
            string logDet = g.ZerosPerRow(input);
            foreach (var (emitter, layer) in layers)
            {
                LayerStep step = emitter.Forward(c, layer, v, context);
                v = step.Output;
                if (step.LogDet is not null) logDet = g.Add(logDet, step.LogDet, $"log_det_after_{layer.Index}");
            }
            if (graph == OnnxFlowGraph.Forward)
            {
                g.Output(OnnxFlowNames.Z, v, matrix, "z = f(x)");
                g.Output(OnnxFlowNames.LogDet, logDet, rows, "log|det ∂z/∂x|");
            }
            else
            {
                string logProb = g.Add(baseDistribution.LogDensity(c, v, extraOutputs: true), logDet, "log_prob");
                g.Output(OnnxFlowNames.LogProb, logProb, rows, "log p(x) = log p_Z(f(x)) + log|det ∂z/∂x|");
            }
        }
        else
        {
            string z = sampling ? baseDistribution.Sample(c, input, graph) : input;
            string v = z;
            string logDet = g.ZerosPerRow(input);
            for (int i = layers.Count - 1; i >= 0; i--)
            {
                var (emitter, layer) = layers[i];
                LayerStep step = emitter.Inverse(c, layer, v, context);
                v = step.Output;
                if (step.LogDet is not null) logDet = g.Add(logDet, step.LogDet, $"log_det_after_inverse_{layer.Index}");
            }
            g.Output(OnnxFlowNames.X, v, matrix, sampling ? "samples x = f⁻¹(z), z the base sample of the given draws" : "x = f⁻¹(z)");
            if (graph == OnnxFlowGraph.Inverse) g.Output(OnnxFlowNames.LogDet, logDet, rows, "log|det ∂x/∂z|");
            else g.Output(OnnxFlowNames.LogProb, g.Sub(baseDistribution.LogDensity(c, z, extraOutputs: false), logDet, "log_prob"), rows, "log p(x) = log p_Z(z) − log|det ∂x/∂z|");
        }

        var model = new OnnxProto.ModelProto
        {
            IrVersion = IrVersion,
            ProducerName = "FlowGen.Onnx",
            ProducerVersion = typeof(FlowOnnx).Assembly.GetName().Version?.ToString() ?? "",
            Domain = "flowgen",
            ModelVersion = 1,
            DocString = graphProto.DocString,
            Graph = graphProto,
        };
        model.OpsetImport.Add(new OnnxProto.OperatorSetIdProto { Domain = "", Version = OpsetVersion });
        model.MetadataProps.Add(new OnnxProto.StringStringEntryProto { Key = "flowgen.spec", Value = flow.StackSpec });
        model.MetadataProps.Add(new OnnxProto.StringStringEntryProto { Key = "flowgen.model", Value = flow.ModelName });
        model.MetadataProps.Add(new OnnxProto.StringStringEntryProto { Key = "flowgen.graph", Value = graph.ToString() });
        return model;
    }

    private static string GraphName(string model, OnnxFlowGraph graph) => (model.Length == 0 ? "flow" : model) + "." + graph;

    private static string Describe(OnnxFlowGraph graph) => graph switch
    {
        OnnxFlowGraph.LogProb => "log-density log p(x)",
        OnnxFlowGraph.Forward => "forward map z = f(x) and log|det ∂z/∂x|",
        OnnxFlowGraph.Inverse => "inverse map x = f⁻¹(z) and log|det ∂x/∂z|",
        OnnxFlowGraph.SampleComponent => "samples of given mixture components and their log-densities",
        _ => "samples x = f⁻¹(z) of base samples z from given draws, and their log-densities",
    };
}
