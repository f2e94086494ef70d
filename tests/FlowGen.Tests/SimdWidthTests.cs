using System;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using FlowGen.Kernels;
using Xunit;

namespace FlowGen.Tests;

/// <summary>
/// The runtime's vector code at every width in one process: each element-wise kernel on Simd128, Simd256 and Simd512
/// (whichever the hardware accelerates; the others run in software with the same IEEE operations) gives in every lane the
/// bits of the scalar kernel; the dense kernels give the same bits at every width. VectorWidthTests runs whole models at
/// each width in child processes.
/// </summary>
public class SimdWidthTests
{
    private static float[] FloatInputs()
    {
        var rng = new FlowRandom(77);
        var xs = new float[4096];
        float[] special = [0f, -0f, 1f, -1f, 1e-30f, -1e-30f, 1e-45f, float.Epsilon, 88.72283f, 88.7229f, -87.33654f, -87.34f, -103.9f, 20f, -20f, 9f, -9f,
            float.MaxValue, float.MinValue, float.PositiveInfinity, float.NegativeInfinity, float.NaN, 1.17549435e-38f, 0.5f, 2f, 1e-7f, -1e-7f, 700f, -700f];
        special.CopyTo(xs, 0);
        for (int i = special.Length; i < xs.Length; i++) xs[i] = (float)(rng.NextGaussian() * Math.Pow(10, rng.NextDouble() * 6 - 3));
        return xs;
    }

    private static double[] DoubleInputs()
    {
        var rng = new FlowRandom(78);
        var xs = new double[4096];
        double[] special = [0, -0.0, 1, -1, 1e-300, -1e-300, 5e-324, 709.782712893384, 709.79, -708.3964185322641, -708.4, -745.2, 40, -40, 20, -20,
            double.MaxValue, double.MinValue, double.PositiveInfinity, double.NegativeInfinity, double.NaN, 2.2250738585072014e-308, 0.5, 2, 1e-16, -1e-16];
        special.CopyTo(xs, 0);
        for (int i = special.Length; i < xs.Length; i++) xs[i] = rng.NextGaussian() * Math.Pow(10, rng.NextDouble() * 8 - 4);
        return xs;
    }

    // KernelTests.Same in the lane type: equal values with equal sign bits (so equal bits), or both NaN
    private static void Same<T>(T expected, T actual, string what) where T : unmanaged
    {
        if (typeof(T) == typeof(float)) KernelTests.Same(Unsafe.BitCast<T, float>(expected), Unsafe.BitCast<T, float>(actual), what);
        else KernelTests.Same(Unsafe.BitCast<T, double>(expected), Unsafe.BitCast<T, double>(actual), what);
    }

    // each lane of F(v) against the scalar F of the same input, with different inputs in the lanes (from a span)
    private static void CheckWidth<T, TV, TOp>(T[] xs, Func<T, T> scalar, string name) where T : unmanaged where TV : unmanaged, ISimd<TV> where TOp : struct, IUnaryKernel
    {
        int n = TV.Count;
        for (int i = 0; i + n <= xs.Length; i += n)
        {
            TV v = Simd.Load<T, TV>(ref xs[i], 0);
            TV r = TOp.Apply(v);
            for (int lane = 0; lane < n; lane++) Same(scalar(xs[i + lane]), Simd.Element<T, TV>(r, lane), $"{name}<{typeof(TV).Name}>({xs[i + lane]})");
        }
    }

    private static void CheckAllWidths<TOp>(Func<float, float> f, Func<double, double> d, string name) where TOp : struct, IUnaryKernel
    {
        float[] fx = FloatInputs();
        double[] dx = DoubleInputs();
        CheckWidth<float, Simd128<float>, TOp>(fx, f, name);
        CheckWidth<float, Simd256<float>, TOp>(fx, f, name);
        CheckWidth<float, Simd512<float>, TOp>(fx, f, name);
        CheckWidth<double, Simd128<double>, TOp>(dx, d, name);
        CheckWidth<double, Simd256<double>, TOp>(dx, d, name);
        CheckWidth<double, Simd512<double>, TOp>(dx, d, name);
    }

    [Fact] public void ExpAtEveryWidth() => CheckAllWidths<ExpKernel>(Kernel.Exp, Kernel.Exp, "Exp");
    [Fact] public void Expm1AtEveryWidth() => CheckAllWidths<Expm1Kernel>(Kernel.Expm1, Kernel.Expm1, "Expm1");
    [Fact] public void LogAtEveryWidth() => CheckAllWidths<LogKernel>(Kernel.Log, Kernel.Log, "Log");
    [Fact] public void TanhAtEveryWidth() => CheckAllWidths<TanhKernel>(Kernel.Tanh, Kernel.Tanh, "Tanh");
    [Fact] public void SigmoidAtEveryWidth() => CheckAllWidths<SigmoidKernel>(Kernel.Sigmoid, Kernel.Sigmoid, "Sigmoid");
    [Fact] public void SoftplusAtEveryWidth() => CheckAllWidths<SoftplusKernel>(Kernel.Softplus, Kernel.Softplus, "Softplus");
    [Fact] public void LogSigmoidAtEveryWidth() => CheckAllWidths<LogSigmoidKernel>(Kernel.LogSigmoid, Kernel.LogSigmoid, "LogSigmoid");
    [Fact] public void LogSoftplusAtEveryWidth() => CheckAllWidths<LogSoftplusKernel>(Kernel.LogSoftplus, Kernel.LogSoftplus, "LogSoftplus");
    [Fact] public void ReluAtEveryWidth() => CheckAllWidths<ReluKernel>(Kernel.Relu, Kernel.Relu, "Relu");

    [Fact]
    public void LaneBitsIsTheWidestAcceleratedWidth()
    {
        int expected = Vector512.IsHardwareAccelerated ? 512 : Vector256.IsHardwareAccelerated ? 256 : 128;
        Assert.Equal(expected, FlowSimd.LaneBits);
        Assert.Equal(16, Simd512<float>.Count);
        Assert.Equal(8, Simd256<float>.Count);
        Assert.Equal(2, Simd128<double>.Count);
    }

    private readonly struct S7x21 : IDenseShape { public static int In => 7; public static int Out => 21; }
    private readonly struct S64x8 : IDenseShape { public static int In => 64; public static int Out => 8; }
    private readonly struct S5x3 : IDenseShape { public static int In => 5; public static int Out => 3; }

    // The dense tile kernels at one width: forward (tanh) and backward over `samples` samples laid out as the width's tiles;
    // returns the outputs and input gradients per sample and the parameter gradient.
    private static (float[] Y, float[] Gu, float[] Gw) DenseAt<TV, TShape>(float[] w, float[] u, float[] gy, int samples) where TV : unmanaged, ISimd<TV> where TShape : struct, IDenseShape
    {
        int lanes = Dense.Lanes, width = lanes * TV.Count, tiles = (samples + width - 1) / width;
        int inn = TShape.In, outn = TShape.Out;
        var y = new float[samples * outn];
        var gu = new float[samples * inn];
        var gw = new float[w.Length];
        var tu = new TV[inn * lanes];
        var ty = new TV[outn * lanes];
        var tg = new TV[outn * lanes];
        var tgu = new TV[inn * lanes];
        var tt = new TV[outn * lanes];
        for (int t = 0; t < tiles; t++)
        {
            Array.Clear(tu); Array.Clear(tg);
            ref float fu = ref Unsafe.As<TV, float>(ref tu[0]);
            ref float fg = ref Unsafe.As<TV, float>(ref tg[0]);
            for (int q = 0; q < width && t * width + q < samples; q++)
            {
                int s = t * width + q;
                for (int i = 0; i < inn; i++) Unsafe.Add(ref fu, i * width + q) = u[s * inn + i];
                for (int j = 0; j < outn; j++) Unsafe.Add(ref fg, j * width + q) = gy[s * outn + j];
            }
            Dense.Forward<TShape, Tanh, TV>(ref w[0], ref tu[0], ref ty[0], ref ty[0]);
            Dense.Backward<TShape, Tanh, TV>(ref w[0], ref gw[0], ref tu[0], ref ty[0], ref ty[0], ref tg[0], ref tgu[0], ref tt[0]);
            ref float fy = ref Unsafe.As<TV, float>(ref ty[0]);
            ref float fgu = ref Unsafe.As<TV, float>(ref tgu[0]);
            for (int q = 0; q < width && t * width + q < samples; q++)
            {
                int s = t * width + q;
                for (int j = 0; j < outn; j++) y[s * outn + j] = Unsafe.Add(ref fy, j * width + q);
                for (int i = 0; i < inn; i++) gu[s * inn + i] = Unsafe.Add(ref fgu, i * width + q);
            }
        }
        return (y, gu, gw);
    }

    private static void DenseSameAtEveryWidth<TShape>() where TShape : struct, IDenseShape
    {
        var rng = new FlowRandom(5);
        int samples = 96; // whole tiles at every width (8, 16 and 32 float samples per tile)
        var w = new float[(TShape.In + 1) * TShape.Out];
        var u = new float[samples * TShape.In];
        var gy = new float[samples * TShape.Out];
        rng.FillGaussian(w); rng.FillGaussian(u); rng.FillGaussian(gy);
        var a = DenseAt<Simd128<float>, TShape>(w, u, gy, samples);
        foreach (var b in new[] { DenseAt<Simd256<float>, TShape>(w, u, gy, samples), DenseAt<Simd512<float>, TShape>(w, u, gy, samples) })
        {
            Assert.Equal(a.Y, b.Y);
            Assert.Equal(a.Gu, b.Gu);
            Assert.Equal(a.Gw, b.Gw);
        }
        // and the single-sample kernel gives each sample's outputs bit for bit
        var one = new float[TShape.Out];
        for (int s = 0; s < samples; s++)
        {
            Dense.ForwardOne<TShape, Tanh>(ref w[0], ref u[s * TShape.In], ref one[0], ref one[0]);
            for (int j = 0; j < TShape.Out; j++) Same(a.Y[s * TShape.Out + j], one[j], $"sample {s} output {j}");
        }
    }

    [Fact] public void DenseKernelsAreTheSameAtEveryWidth7x21() => DenseSameAtEveryWidth<S7x21>();
    [Fact] public void DenseKernelsAreTheSameAtEveryWidth64x8() => DenseSameAtEveryWidth<S64x8>();
    [Fact] public void DenseKernelsAreTheSameAtEveryWidth5x3() => DenseSameAtEveryWidth<S5x3>();
}
