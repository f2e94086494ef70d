using System;
using System.Collections.Generic;
using System.Linq;
using FlowGen.Onnx.Graph;
using OnnxProto = global::Onnx;

namespace FlowGen.Onnx.Tests;

/// <summary>
/// The float graph's copies of FlowGen's own arithmetic (<see cref="KernelOps"/>), run by ONNX Runtime and compared bit for
/// bit with the kernel: <c>Kernel.Exp</c> on every 509th float of [−88, 0] and its special values, and the fused
/// multiply-add of the spline's widths (soft·scale + floor) on random softmax weights.
/// </summary>
public sealed class KernelArithmeticTests
{
    /// <summary>A float graph of one input column and one output column computed by <paramref name="body"/>.</summary>
    private static byte[] Graph(string[] inputs, Func<GraphBuilder, string[], string> body)
    {
        var graph = new OnnxProto.GraphProto { Name = "kernel_arithmetic" };
        var g = new GraphBuilder(graph, isDouble: false);
        string[] names = inputs.Select(n => g.Input(n, 1, n)).ToArray();
        g.Output(OnnxFlowNames.X, body(g, names), new object[] { "batch", 1L }, "result");
        var model = new OnnxProto.ModelProto { IrVersion = FlowOnnx.IrVersion, Graph = graph };
        model.OpsetImport.Add(new OnnxProto.OperatorSetIdProto { Domain = "", Version = FlowOnnx.OpsetVersion });
        return Google.Protobuf.MessageExtensions.ToByteArray(model);
    }

    [Fact]
    public void KernelExpOfTheFloatGraphIsFlowGensToTheBit()
    {
        var xs = new List<float> { 0f, -0f, -87.33654f, MathF.BitIncrement(-87.33654f), MathF.BitDecrement(-87.33654f), -87.4f, -88f, -100f,
            float.NegativeInfinity, float.NaN, -float.Epsilon, -1e-30f, -0.34657359f, -0.34657362f, -0.6931472f };
        for (uint bits = 0x80000000u; bits <= 0xC2B00000u; bits += 509) xs.Add(BitConverter.UInt32BitsToSingle(bits));
        using var session = Ort.Session(Graph(new[] { "v" }, (g, v) => g.KernelExpNonPositive(v[0])));
        float[] onnx = Ort.Run(session, ("v", xs.ToArray(), 1))[OnnxFlowNames.X];
        for (int i = 0; i < xs.Count; i++)
        {
            float expected = Kernel.Exp(xs[i]);
            Assert.True(float.IsNaN(expected) ? float.IsNaN(onnx[i]) : BitConverter.SingleToUInt32Bits(expected) == BitConverter.SingleToUInt32Bits(onnx[i]),
                $"exp({xs[i]:R}): graph {onnx[i]:R}, Kernel.Exp {expected:R}");
        }
        Assert.True(xs.Count > 2_000_000);
    }

    [Fact]
    public void FusedMultiplyAddOfTheFloatGraphIsTheKernelsOnTheSplineWidths()
    {
        Assert.True(Kernel.IsMacFused, "this machine's Kernel.Mac is not fused: the graph's multiply-add follows the fused kernel");
        var rng = new Random(17);
        int n = 200_000;
        var a = new float[n]; var b = new float[n]; var c = new float[n];
        for (int i = 0; i < n; i++)
        {
            // softmax weights of K bins (down to e^−40 / K), the width scale 2B(1 − mK) and floor 2Bm of the spline's options
            int k = rng.Next(2, 65);
            double bound = Math.Exp(rng.NextDouble() * 12 - 6);
            a[i] = (float)(Math.Exp(-40 * rng.NextDouble() * rng.NextDouble()) / k);
            b[i] = (float)(2 * bound * (1 - 1e-3 * k));
            c[i] = (float)(2 * bound * 1e-3);
        }
        using var session = Ort.Session(Graph(new[] { "a", "b", "c" }, (g, v) => g.FusedMultiplyAdd(v[0], v[1], v[2])));
        float[] onnx = Ort.Run(session, ("a", a, 1), ("b", b, 1), ("c", c, 1))[OnnxFlowNames.X];
        for (int i = 0; i < n; i++)
            Assert.True(BitConverter.SingleToUInt32Bits(Kernel.Mac(a[i], b[i], c[i])) == BitConverter.SingleToUInt32Bits(onnx[i]),
                $"Mac({a[i]:R}, {b[i]:R}, {c[i]:R}): graph {onnx[i]:R}, Kernel.Mac {Kernel.Mac(a[i], b[i], c[i]):R}");
    }
}
