using System;
using System.Collections.Generic;
using System.Linq;
using FlowGen.Onnx.Tests.Models;
using OnnxProto = global::Onnx;
using Xunit.Abstractions;
using static FlowGen.Onnx.Tests.OnnxExportTests;

namespace FlowGen.Onnx.Tests;

/// <summary>
/// Inputs exactly on the exported graph's own spline knots and one ulp either side of them. A float graph computes its knots
/// with FlowGen's float operations (bit-identical knots); a double graph takes them from ONNX Runtime's Softmax, which may put
/// a knot an ulp from FlowGen's, so that an input between the two falls in different bins (ξ ≈ 1 of the bin below in one, ξ = 0
/// of the bin above in the other). The value and the log-derivative are continuous across a knot, so both must still agree
/// within the tolerance: this test puts every transformed coordinate of the first spline (Forward) or the last spline (Inverse)
/// on the graph's knots, read from the graph itself (its knots tensor exposed as an output), for every model with a spline at
/// that end, float and double, and compares with FlowGen as <see cref="OnnxExportTests"/> does.
/// </summary>
public sealed class SplineKnotTests(ITestOutputHelper output)
{
    public static IEnumerable<object[]> SplineEndModels => AllModels
        .Where(m => m.Invertible && EdgeSplines(m).Any())
        .Select(m => new object[] { m.Name });

    private static IEnumerable<OnnxFlowGraph> EdgeSplines(TestModel model)
    {
        object flow = model.Create(1);
        var layers = flow is ICouplingFlow<double> d ? OnnxExportTests.Layers(d) : OnnxExportTests.Layers((ICouplingFlow<float>)flow);
        if (layers[0].Transformer == "spline") yield return OnnxFlowGraph.Forward;
        if (layers[^1].Transformer == "spline") yield return OnnxFlowGraph.Inverse;
    }

    [Theory]
    [MemberData(nameof(SplineEndModels))]
    public void InputsOnTheGraphsOwnKnotsMatchFlowGen(string name)
    {
        TestModel model = Model(name);
        foreach (OnnxFlowGraph graph in EdgeSplines(model))
        {
            if (model.IsDouble) Check((ICouplingFlow<double>)model.Create(1), model, graph, 1e-12);
            else Check((ICouplingFlow<float>)model.Create(1), model, graph, 1e-5);
        }
    }

    private void Check<T>(ICouplingFlow<T> flow, TestModel model, OnnxFlowGraph graph, double tolerance) where T : unmanaged
    {
        var rng = new Random(4242 + model.Name.Length);
        Randomise(flow, rng);
        var layers = OnnxExportTests.Layers(flow);
        bool inverse = graph == OnnxFlowGraph.Inverse;
        int index = inverse ? layers.Count - 1 : 0;
        Layer spline = layers[index];
        int d = flow.Dim, c = flow.ContextDim, n = 512, k = spline.Bins, nb = spline.Transformed.Length;
        T[] input = Inputs(flow, layers, n, rng, latent: inverse);
        T[] contexts = Gaussian<T>(n * c, rng, 1.0);
        string inputName = inverse ? OnnxFlowNames.Z : OnnxFlowNames.X;
        string knotsName = inverse ? $"layers.{index}.inverse/knots_height" : $"layers.{index}/knots_width";

        // the graph's knots of each row [N, K+1, |B|]: the conditioner reads the kept coordinates and the context only, so
        // moving the transformed coordinates onto them leaves them where they are
        var bytes = FlowOnnx.Export(flow, graph);
        var m = OnnxProto.ModelProto.Parser.ParseFrom(bytes);
        Assert.Contains(m.Graph.Node, node => node.Output.Contains(knotsName));
        var elementType = typeof(T) == typeof(float) ? OnnxProto.TensorProto.Types.DataType.Float : OnnxProto.TensorProto.Types.DataType.Double;
        NodeTrace.AddOutput(m, knotsName, (int)elementType);
        T[] knots;
        using (var probe = Ort.Session(Google.Protobuf.MessageExtensions.ToByteArray(m)))
            knots = Ort.Run(probe, Feed(inputName, input, d, contexts, c))[knotsName];
        Assert.Equal(n * (k + 1) * nb, knots.Length);
        for (int row = 0; row < n; row++)
            for (int j = 0; j < nb; j++)
            {
                // an interior knot, exactly, or one ulp below or above it
                T knot = knots[(row * (k + 1) + rng.Next(1, k)) * nb + j];
                input[row * d + spline.Transformed[j]] = (row % 3) switch { 0 => knot, 1 => Ulp(knot, -1), _ => Ulp(knot, +1) };
            }

        using var session = Ort.Session(bytes);
        using var reference = typeof(T) == typeof(float) ? Ort.Session(FlowOnnx.ExportDoubleReference((ICouplingFlow<float>)flow, graph)) : null;
        var feeds = Feeds(inputName, input, d, contexts, c);
        var onnx = Ort.Run(session, Feed(inputName, input, d, contexts, c));
        var exact = reference is null ? null : OrtValues.RunInDouble(reference, feeds);
        var (fg, sens) = WithSensitivity(flow, graph, input, contexts, rng);
        string mapped = inverse ? OnnxFlowNames.X : OnnxFlowNames.Z;
        var report = new List<string>();
        foreach (string what in new[] { mapped, OnnxFlowNames.LogDet })
        {
            var st = new Stat();
            string failure = st.Add(onnx[what], fg[what], sens[what], tolerance, reference: exact?[what]);
            Assert.True(failure.Length == 0, $"{model.Name} {graph} on the graph's knots: {what} {failure}");
            // a model of splines alone meets the tolerance on its knots, or is no less accurate than FlowGen (float)
            if (model.Kind == "spline") Assert.True(st.Sensitive == 0 && st.Unexplained == 0, $"{model.Name} {graph} on the graph's knots: {what} {st}");
            report.Add($"{what} {st}");
        }
        output.WriteLine($"KNOTS {model.Kind} {(model.IsDouble ? "double" : "float")} {model.Name} {graph}: {n} rows × {nb} coordinates on layer {index}'s knots (exact, −1 ulp, +1 ulp): {string.Join(", ", report)}");
    }
}
