using System;
using System.Collections.Generic;
using System.Linq;
using Microsoft.ML.OnnxRuntime;
using FlowGen.Onnx.Tests.Models;
using OnnxProto = global::Onnx;
using Xunit.Abstractions;
using static FlowGen.Onnx.Tests.OnnxExportTests;

namespace FlowGen.Onnx.Tests;

/// <summary>
/// Where the float differences come from: every float test model's Forward and Inverse graphs, and FlowGen's float code, each
/// against a double-precision reference of the same float parameters (<see cref="FlowOnnx.ExportDoubleReference"/>: the
/// same graph built in double, run by ONNX Runtime on the inputs converted exactly). Prints per output the largest
/// |onnx − flowgen|, |flowgen − ref| and |onnx − ref|, each / max(|ref|, 1) (TRACE lines).
/// </summary>
public sealed class FloatErrorTrace(ITestOutputHelper output)
{
    public static IEnumerable<object[]> FloatModels => AllModels.Where(m => !m.IsDouble).Select(m => new object[] { m.Name });

    [Theory]
    [MemberData(nameof(FloatModels))]
    public void FloatGraphAndFlowGenAgainstDoubleReference(string name)
    {
        TestModel model = Model(name);
        var flow = (ICouplingFlow<float>)model.Create(1);
        var rng = new Random(12345 + name.Length);
        Randomise(flow, rng);
        var layers = OnnxExportTests.Layers(flow);
        int d = flow.Dim, c = flow.ContextDim, n = 4096;
        foreach (OnnxFlowGraph graph in model.Invertible ? new[] { OnnxFlowGraph.Forward, OnnxFlowGraph.Inverse } : new[] { OnnxFlowGraph.Forward })
        {
            float[] input = Inputs(flow, layers, n, rng, latent: graph == OnnxFlowGraph.Inverse);
            float[] contexts = Gaussian<float>(n * c, rng, 1.0);
            using var fs = Ort.Session(FlowOnnx.Export(flow, graph));
            using var ds = Ort.Session(FlowOnnx.ExportDoubleReference(flow, graph));
            string inName = graph == OnnxFlowGraph.Forward ? OnnxFlowNames.Z : OnnxFlowNames.X;
            string inputName = graph == OnnxFlowGraph.Forward ? OnnxFlowNames.X : OnnxFlowNames.Z;
            var fo = Ort.Run(fs, Feed(inputName, input, d, contexts, c));
            double[] din = input.Select(v => (double)v).ToArray(), dctx = contexts.Select(v => (double)v).ToArray();
            var reference = Ort.Run(ds, Feed(inputName, din, d, dctx, c));
            var values = new float[n * d];
            var logDet = new float[n];
            if (graph == OnnxFlowGraph.Forward) flow.Forward(input, contexts, values, logDet);
            else flow.Inverse(input, contexts, values, logDet);
            foreach (var (what, fg) in new[] { (inName, values), (OnnxFlowNames.LogDet, logDet) })
            {
                float[] onnx = fo[what];
                double[] r = reference[what];
                double of = 0, fr = 0, or = 0;
                int worst = -1;
                for (int i = 0; i < r.Length; i++)
                {
                    double s = Math.Max(Math.Abs(r[i]), 1);
                    if (!double.IsFinite(r[i])) continue;
                    double a = Math.Abs(onnx[i] - (double)fg[i]) / s;
                    if (a > of) { of = a; worst = i; }
                    fr = Math.Max(fr, Math.Abs(fg[i] - r[i]) / s);
                    or = Math.Max(or, Math.Abs(onnx[i] - r[i]) / s);
                }
                string at = worst < 0 ? "" : $" [worst at {worst}: onnx {onnx[worst]:R} flowgen {fg[worst]:R} ref {r[worst]:R}]";
                output.WriteLine($"TRACE {model.Kind} {name} {graph} {what}: onnx-flowgen {of:G3} flowgen-ref {fr:G3} onnx-ref {or:G3}{at}");
                // the float graph is of FlowGen's float accuracy: its worst distance to the exact value is at most twice
                // FlowGen's worst plus the tolerance (measured up to 1.4×)
                Assert.True(or <= 2 * fr + 1e-5, $"{name} {graph} {what}: the float graph is {or:G3} from the double reference, FlowGen {fr:G3}");
            }
        }
    }

    /// <summary>
    /// Layer by layer: the float graph's and the double reference's intermediate outputs (layers.{i}/y and the running
    /// log-det after each layer) compared on the same inputs, so that the layer where the float error grows is seen (LAYER lines).
    /// </summary>
    [Theory]
    [InlineData("ActnormF2")]
    [InlineData("MixedF0")]
    [InlineData("MixedF2")]
    [InlineData("InvertibleLinearF0")]
    [InlineData("MixtureBaseF4")]
    public void FloatErrorLayerByLayer(string name)
    {
        TestModel model = Model(name);
        var flow = (ICouplingFlow<float>)model.Create(1);
        var rng = new Random(12345 + name.Length);
        Randomise(flow, rng);
        var layers = OnnxExportTests.Layers(flow);
        int d = flow.Dim, c = flow.ContextDim, n = 4096;
        float[] input = Inputs(flow, layers, n, rng, latent: false);
        float[] contexts = Gaussian<float>(n * c, rng, 1.0);
        double[] din = input.Select(v => (double)v).ToArray(), dctx = contexts.Select(v => (double)v).ToArray();
        var names = new List<(string Name, int Width)>();
        for (int i = 0; i < layers.Count; i++) { names.Add(($"layers.{i}/y", d)); names.Add(($"log_det_after_{i}", 1)); }
        byte[] WithOutputs(byte[] bytes, int type)
        {
            var m = OnnxProto.ModelProto.Parser.ParseFrom(bytes);
            var produced = m.Graph.Node.SelectMany(node => node.Output).ToHashSet();
            foreach (var (tensor, width) in names)
            {
                if (!produced.Contains(tensor)) continue;
                var shape = new OnnxProto.TensorShapeProto();
                shape.Dim.Add(new OnnxProto.TensorShapeProto.Types.Dimension { DimParam = "batch" });
                if (width > 1) shape.Dim.Add(new OnnxProto.TensorShapeProto.Types.Dimension { DimValue = width });
                m.Graph.Output.Add(new OnnxProto.ValueInfoProto { Name = tensor, Type = new OnnxProto.TypeProto { TensorType = new OnnxProto.TypeProto.Types.Tensor { ElemType = type, Shape = shape } } });
            }
            return Google.Protobuf.MessageExtensions.ToByteArray(m);
        }
        using var fs = Ort.Session(WithOutputs(FlowOnnx.Export(flow, OnnxFlowGraph.Forward), (int)OnnxProto.TensorProto.Types.DataType.Float));
        using var ds = Ort.Session(WithOutputs(FlowOnnx.ExportDoubleReference(flow, OnnxFlowGraph.Forward), (int)OnnxProto.TensorProto.Types.DataType.Double));
        var fo = Ort.Run(fs, Feed(OnnxFlowNames.X, input, d, contexts, c));
        var r = Ort.Run(ds, Feed(OnnxFlowNames.X, din, d, dctx, c));
        foreach (var (tensor, _) in names)
        {
            if (!fo.ContainsKey(tensor)) continue;
            double worst = 0, magnitude = 0;
            for (int i = 0; i < r[tensor].Length; i++)
            {
                double e = Math.Abs(fo[tensor][i] - r[tensor][i]) / Math.Max(Math.Abs(r[tensor][i]), 1);
                if (e > worst) worst = e;
                magnitude = Math.Max(magnitude, Math.Abs(r[tensor][i]));
            }
            int layer = int.Parse(tensor.Split('/', '_').First(t => t.All(char.IsDigit) && t.Length > 0 || t.StartsWith("layers.")).Replace("layers.", ""));
            output.WriteLine($"LAYER {name} {layer} {layers[layer].Kind}/{layers[layer].Transformer} {tensor}: float graph vs double reference {worst:G3} (max |value| {magnitude:G3})");
            // the first layer sees exact inputs: whatever its kind, its float output is within a few ulps of the reference
            // (measured ≤ 3.8e-7 for ActNorm and LU)
            if (layer == 0) Assert.True(worst <= 1e-6, $"{name}: layer 0 ({layers[0].Kind}) {tensor} is {worst:G3} from the double reference");
        }
    }
}

/// <summary>
/// One row traced node by node: every real-valued intermediate tensor of a float graph and of its double reference added to
/// the graphs' outputs and compared (docs/onnx.md, "Where the float differences come from"). <see cref="OnnxExportTests"/>
/// calls <see cref="RoundTripRow"/> for every round-trip element it cannot explain, so that such an element is printed with
/// the node where its error arises (NODE lines) and the layers it passes (ROW lines).
/// </summary>
internal static class NodeTrace
{
    private const int FloatType = (int)OnnxProto.TensorProto.Types.DataType.Float;
    private const int DoubleType = (int)OnnxProto.TensorProto.Types.DataType.Double;
    private const int BoolType = (int)OnnxProto.TensorProto.Types.DataType.Bool;
    private const int Int64Type = (int)OnnxProto.TensorProto.Types.DataType.Int64;

    /// <summary>A node's error is printed where it is above this (relative, floor 1) ...</summary>
    private const double ReportedError = 1e-6;

    /// <summary>... and this many times the largest error of the node's inputs: where the error is made or amplified.</summary>
    private const double Growth = 4;

    /// <summary>
    /// The graph with every intermediate tensor of the real element type (<paramref name="type"/>) as an extra output, and the
    /// producing node's inputs of each (element types by a forward pass over the nodes: Cast's target, bool for comparisons,
    /// int64 for Shape and ArgMax, Where's branches, otherwise the first input's type).
    /// </summary>
    internal static (byte[] Model, List<(string Tensor, string[] Inputs)> Nodes) WithEveryIntermediate(byte[] bytes, int type)
    {
        var m = OnnxProto.ModelProto.Parser.ParseFrom(bytes);
        var types = new Dictionary<string, int>();
        foreach (var input in m.Graph.Input) types[input.Name] = input.Type.TensorType.ElemType;
        foreach (var init in m.Graph.Initializer) types[init.Name] = init.DataType;
        var outputs = m.Graph.Output.Select(o => o.Name).ToHashSet();
        var nodes = new List<(string, string[])>();
        foreach (var node in m.Graph.Node)
        {
            int t = node.OpType switch
            {
                "Cast" => (int)node.Attribute.Single(a => a.Name == "to").I,
                "Less" or "LessOrEqual" or "Greater" or "GreaterOrEqual" or "Equal" or "Or" or "And" or "Not" or "IsNaN" or "IsInf" => BoolType,
                "Shape" or "ArgMax" or "ArgMin" or "Size" => Int64Type,
                "Where" => types.GetValueOrDefault(node.Input[1], type),
                "ConstantOfShape" => node.Attribute.FirstOrDefault(a => a.Name == "value")?.T.DataType ?? FloatType,
                _ => types.GetValueOrDefault(node.Input[0], type),
            };
            foreach (string o in node.Output)
            {
                types[o] = t;
                if (t != type || outputs.Contains(o)) continue;
                nodes.Add((o, node.Input.ToArray()));
                AddOutput(m, o, t);
            }
        }
        return (Google.Protobuf.MessageExtensions.ToByteArray(m), nodes);
    }

    /// <summary>Declares the intermediate tensor <paramref name="name"/> (element type <paramref name="type"/>, shape left to
    /// type inference) as an output of <paramref name="m"/>'s graph, so that ONNX Runtime returns it.</summary>
    internal static void AddOutput(OnnxProto.ModelProto m, string name, int type)
        => m.Graph.Output.Add(new OnnxProto.ValueInfoProto { Name = name, Type = new OnnxProto.TypeProto { TensorType = new OnnxProto.TypeProto.Types.Tensor { ElemType = type } } });

    /// <summary>|a − r| / max(|r|, 1), the largest over the tensor's elements.</summary>
    private static double Error(float[] a, double[] r)
    {
        double e = 0;
        for (int i = 0; i < Math.Min(a.Length, r.Length); i++) e = Math.Max(e, Math.Abs(a[i] - r[i]) / Math.Max(Math.Abs(r[i]), 1));
        return e;
    }

    private static string Show(float[] a, double[] r) => a.Length > 8 ? $"{a.Length} elements" : $"float [{string.Join(", ", a.Select(v => v.ToString("R")))}] ref [{string.Join(", ", r.Select(v => v.ToString("R")))}]";

    /// <summary>Runs the float graph and its double reference on one row, every intermediate exposed, and prints the nodes where
    /// the float graph's error against the reference is made or amplified (NODE lines) and the output of each layer (LAYER
    /// lines). Returns the float graph's declared outputs.</summary>
    private static Dictionary<string, float[]> Trace(ITestOutputHelper output, string label, ICouplingFlow<float> flow, OnnxFlowGraph graph, string inputName, float[] row, float[] context)
    {
        int d = flow.Dim, c = flow.ContextDim;
        var (floatModel, floatNodes) = WithEveryIntermediate(FlowOnnx.Export(flow, graph), FloatType);
        var (doubleModel, _) = WithEveryIntermediate(FlowOnnx.ExportDoubleReference(flow, graph), DoubleType);
        using var fs = Ort.Session(floatModel);
        using var ds = Ort.Session(doubleModel);
        var f = Ort.Run(fs, Feed(inputName, row, d, context, c));
        double[] drow = row.Select(v => (double)v).ToArray(), dctx = context.Select(v => (double)v).ToArray();
        var r = Ort.Run(ds, Feed(inputName, drow, d, dctx, c));
        var error = new Dictionary<string, double> { [inputName] = 0 };
        if (c > 0) error[OnnxFlowNames.Context] = 0;
        foreach (var (tensor, inputs) in floatNodes)
        {
            if (!r.TryGetValue(tensor, out double[]? reference) || !f.TryGetValue(tensor, out float[]? value)) continue;
            double e = Error(value, reference);
            error[tensor] = e;
            double incoming = inputs.Select(i => error.GetValueOrDefault(i, 0)).DefaultIfEmpty(0).Max();
            bool layerOutput = tensor.EndsWith("/y", StringComparison.Ordinal) || tensor.EndsWith("/x", StringComparison.Ordinal);
            if (layerOutput) output.WriteLine($"LAYER {label} {graph} {tensor}: {e:G3} from the double reference ({Show(value, reference)})");
            else if (e > ReportedError && e > Growth * incoming)
                output.WriteLine($"NODE {label} {graph} {tensor} <- {string.Join(", ", inputs)}: {e:G3} (inputs ≤ {incoming:G3}) {Show(value, reference)}");
        }
        foreach (var (name, value) in f.Where(kv => !error.ContainsKey(kv.Key) && r.ContainsKey(kv.Key)))
            output.WriteLine($"OUTPUT {label} {graph} {name}: {Error(value, r[name]):G3} from the double reference ({Show(value, r[name])})");
        return f;
    }

    /// <summary>
    /// A round-trip row (x, its context) through the forward graph and the inverse graph at the forward graph's own z, each
    /// against its double reference node by node, and FlowGen's own forward and inverse at the same points (ROW lines).
    /// <paramref name="batchZ"/> and <paramref name="batchBack"/> are the row's values when the whole batch ran: the trace says
    /// whether the single row reproduces them (ONNX Runtime may take other kernel paths for one row).
    /// </summary>
    internal static void RoundTripRow(ITestOutputHelper output, string label, ICouplingFlow<float> flow, float[] x, float[] context, float[] batchZ, float[] batchBack)
    {
        int d = flow.Dim;
        var forward = Trace(output, label, flow, OnnxFlowGraph.Forward, OnnxFlowNames.X, x, context);
        float[] z = forward[OnnxFlowNames.Z];
        var inverse = Trace(output, label, flow, OnnxFlowGraph.Inverse, OnnxFlowNames.Z, z, context);
        float[] back = inverse[OnnxFlowNames.X];
        var (fz, fl, fx, fxl) = (new float[d], new float[1], new float[d], new float[1]);
        flow.Forward(x, context, fz, fl);
        flow.Inverse(z, context, fx, fxl);
        static string V(float[] v) => "[" + string.Join(", ", v.Select(e => e.ToString("R"))) + "]";
        output.WriteLine($"ROW {label}: x {V(x)}; forward graph z {V(z)} (batch {V(batchZ)}), FlowGen z {V(fz)}; " +
            $"inverse graph at that z {V(back)} (batch {V(batchBack)}), FlowGen's inverse there {V(fx)}; " +
            $"log-dets: forward graph {forward[OnnxFlowNames.LogDet][0]:R}, FlowGen {fl[0]:R}; inverse graph {inverse[OnnxFlowNames.LogDet][0]:R}, FlowGen {fxl[0]:R}");
    }
}
