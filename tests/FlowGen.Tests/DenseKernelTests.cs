using System;
using System.Collections.Generic;
using System.Linq;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using FlowGen.Tests.Reference.EmittedDense;

namespace FlowGen.Tests;

/// <summary>A tile forward kernel: (w, u, y, pre) as <c>FlowGen.Kernels.Dense.Forward</c>.</summary>
public delegate void TileForward<T>(ref T w, ref Vector<T> u, ref Vector<T> y, ref Vector<T> pre);

/// <summary>A single-sample forward kernel: (w, u, y, pre) as <c>FlowGen.Kernels.Dense.ForwardOne</c>.</summary>
public delegate void OneForward<T>(ref T w, ref T u, ref T y, ref T pre);

/// <summary>A tile backward kernel: (w, gw, u, y, pre, gy, gu, transpose) as <c>FlowGen.Kernels.Dense.Backward</c>.</summary>
public delegate void TileBackward<T>(ref T w, ref T gw, ref Vector<T> u, ref Vector<T> y, ref Vector<T> pre, ref Vector<T> gy, ref Vector<T> gu, ref Vector<T> transpose);

/// <summary>One (shape, activation) of the reference: the kernels the generator emitted and the runtime's.</summary>
/// <param name="StoresPre">Whether the emitted kernels take a pre-activation (DensePlan.StoresPre).</param>
/// <param name="NeedsPre">The runtime activation's NeedsPreActivation.</param>
public sealed record DenseCase<T>(int In, int Out, string Activation, bool StoresPre, bool NeedsPre,
    TileForward<T> EmittedTile, TileForward<T> Tile, OneForward<T> EmittedOne, OneForward<T> One,
    TileBackward<T> EmittedBackward, TileBackward<T> Backward)
{
    public override string ToString() => $"{In}x{Out} {Activation}";
}

/// <summary>
/// FlowGen.Kernels.Dense (the runtime's generic dense kernels) against (1) the kernels the generator emitted per model,
/// committed in Reference/EmittedDenseKernels.cs (written by the generator's last version that emitted them), bit for bit,
/// for 44 (shape, activation) pairs in both precisions; and (2) a plain double-precision evaluation of y = φ(b + Wᵀu) and of its
/// gradients by the chain rule, within a tolerance.
/// </summary>
public class DenseKernelTests
{
    private const int Lanes = FlowGen.Kernels.Dense.Lanes;

    public static IEnumerable<object[]> FloatCases => DenseCases.Float.Select((c, i) => new object[] { i, c.ToString() });

    public static IEnumerable<object[]> DoubleCases => DenseCases.Double.Select((c, i) => new object[] { i, c.ToString() });

    [Fact]
    public void EveryShapeAndActivationIsCovered()
    {
        Assert.Equal(44, DenseCases.Float.Length);
        Assert.Equal(DenseCases.Float.Length, DenseCases.Double.Length);
        foreach (var c in DenseCases.Float.Concat<object>(DenseCases.Double))
        {
            var (storesPre, needsPre) = c is DenseCase<float> f ? (f.StoresPre, f.NeedsPre) : (((DenseCase<double>)c).StoresPre, ((DenseCase<double>)c).NeedsPre);
            Assert.Equal(storesPre, needsPre); // the generator stored the pre-activation exactly where the runtime activation needs it
        }
        Assert.Equal(FlowGen.Generator.Planning.FlowPlan.Lanes, Lanes);
    }

    // ------------------------------------------------------------------ (1) bit for bit against the emitted kernels

    [Theory]
    [MemberData(nameof(FloatCases))]
    public void FloatKernelsAreBitIdenticalToTheEmittedOnes(int index, string name)
    {
        _ = name;
        for (ulong seed = 1; seed <= 3; seed++) BitIdentical(DenseCases.Float[index], seed);
    }

    [Theory]
    [MemberData(nameof(DoubleCases))]
    public void DoubleKernelsAreBitIdenticalToTheEmittedOnes(int index, string name)
    {
        _ = name;
        for (ulong seed = 1; seed <= 3; seed++) BitIdentical(DenseCases.Double[index], seed);
    }

    private static void BitIdentical<T>(DenseCase<T> c, ulong seed) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var data = new Data<T>(c, seed);
        int n = Vector<T>.Count, width = Lanes * n;
        int rowsOut = c.Out * width, guard = width;

        // forward, tile: the runtime kernel gets a null pre-activation when it must not touch it
        T[] yE = Filled<T>(rowsOut + guard), preE = Filled<T>(rowsOut + guard), yR = Filled<T>(rowsOut + guard), preR = Filled<T>(rowsOut + guard);
        c.EmittedTile(ref data.W[0], ref V(data.U), ref V(yE), ref V(preE));
        c.Tile(ref data.W[0], ref V(data.U), ref V(yR), ref (c.NeedsPre ? ref V(preR) : ref Unsafe.NullRef<Vector<T>>()));
        AssertBits(yE, yR, c, "forward tile y");
        if (c.StoresPre) AssertBits(preE, preR, c, "forward tile pre");
        AssertGuard(yR, rowsOut, c, "forward tile y");

        // forward, one sample (every sample of the tile in turn)
        for (int s = 0; s < width; s += Math.Max(1, width / 4))
        {
            T[] u1 = new T[c.In];
            for (int i = 0; i < c.In; i++) u1[i] = data.U[i * width + s];
            T[] y1E = Filled<T>(c.Out + n), pre1E = Filled<T>(c.Out + n), y1R = Filled<T>(c.Out + n), pre1R = Filled<T>(c.Out + n);
            c.EmittedOne(ref data.W[0], ref u1[0], ref y1E[0], ref pre1E[0]);
            c.One(ref data.W[0], ref u1[0], ref y1R[0], ref (c.NeedsPre ? ref pre1R[0] : ref Unsafe.NullRef<T>()));
            AssertBits(y1E, y1R, c, $"forward one y (sample {s})");
            if (c.StoresPre) AssertBits(pre1E, pre1R, c, $"forward one pre (sample {s})");
            AssertGuard(y1R, c.Out, c, "forward one y");
            // and the single-sample path agrees with the tile path
            for (int j = 0; j < c.Out; j++) Assert.True(Bits(y1R[j]) == Bits(yR[j * width + s]), $"{c}: one-sample y[{j}] differs from the tile's sample {s}");
        }

        // backward: a nonzero parameter gradient to add to, the forward's outputs, a random output gradient
        T[] gwE = data.Gw.ToArray(), gwR = data.Gw.ToArray();
        T[] gyE = data.Gy.ToArray(), gyR = data.Gy.ToArray();
        T[] guE = Filled<T>(c.In * width + guard), guR = Filled<T>(c.In * width + guard);
        T[] ttE = Filled<T>(rowsOut + guard), ttR = Filled<T>(rowsOut + guard);
        // as the generator called them: without a stored pre-activation the emitted kernel gets the output row
        c.EmittedBackward(ref data.W[0], ref gwE[0], ref V(data.U), ref V(yR), ref (c.StoresPre ? ref V(preR) : ref V(yR)), ref V(gyE), ref V(guE), ref V(ttE));
        c.Backward(ref data.W[0], ref gwR[0], ref V(data.U), ref V(yR), ref (c.NeedsPre ? ref V(preR) : ref Unsafe.NullRef<Vector<T>>()), ref V(gyR), ref V(guR), ref V(ttR));
        AssertBits(gwE, gwR, c, "backward ∂W, ∂b");
        AssertBits(gyE, gyR, c, "backward ∂pre");
        AssertBits(guE, guR, c, "backward ∂u");
        AssertGuard(guR, c.In * width, c, "backward ∂u");
    }

    // ------------------------------------------------------------------ (2) against a plain double evaluation

    [Theory]
    [MemberData(nameof(FloatCases))]
    public void FloatKernelsMatchThePlainDefinition(int index, string name)
    {
        _ = name;
        MatchesDefinition(DenseCases.Float[index], 7);
    }

    [Theory]
    [MemberData(nameof(DoubleCases))]
    public void DoubleKernelsMatchThePlainDefinition(int index, string name)
    {
        _ = name;
        MatchesDefinition(DenseCases.Double[index], 7);
    }

    /// <summary>
    /// |kernel − exact| ≤ ε·(terms + 8)·(scale + 1) for every output (ε = 2⁻²³ or 2⁻⁵², terms = the length of the sum),
    /// where scale is the sum of the absolute values of the terms (|b| + Σ|W·u| for the forward, the same for each gradient)
    /// and exact is evaluated in double from the kernel's inputs.
    /// The backward reference takes the forward kernel's y and pre as given (they are inputs of the backward kernel), so
    /// branches of ReLU and ELU at y = 0 are decided alike.
    /// </summary>
    private static void MatchesDefinition<T>(DenseCase<T> c, ulong seed) where T : unmanaged, IFloatingPointIeee754<T>
    {
        double eps = typeof(T) == typeof(float) ? Math.Pow(2, -23) : Math.Pow(2, -52);
        var data = new Data<T>(c, seed);
        int width = Lanes * Vector<T>.Count, din = c.In, dout = c.Out;
        double W(int i, int j) => double.CreateTruncating(data.W[i * dout + j]);
        double B(int j) => double.CreateTruncating(data.W[din * dout + j]);
        double U(int i, int s) => double.CreateTruncating(data.U[i * width + s]);
        Func<double, double> phi = Phi(c.Activation);

        T[] y = new T[dout * width], pre = new T[dout * width];
        c.Tile(ref data.W[0], ref V(data.U), ref V(y), ref V(pre));
        var exactPre = new double[dout * width];
        for (int j = 0; j < dout; j++)
        {
            for (int s = 0; s < width; s++)
            {
                double a = B(j), scale = Math.Abs(a);
                for (int i = 0; i < din; i++) { a += W(i, j) * U(i, s); scale += Math.Abs(W(i, j) * U(i, s)); }
                exactPre[j * width + s] = a;
                double bound = eps * (din + 8) * (scale + 1);
                Near(phi(a), y[j * width + s], 1.2 * bound, c, $"y[{j}][{s}]"); // |φ′| ≤ 1.13 (GELU)
                if (c.NeedsPre) Near(a, pre[j * width + s], bound, c, $"pre[{j}][{s}]");
            }
        }

        T[] gw = data.Gw.ToArray(), gy = data.Gy.ToArray(), gu = new T[din * width], tt = new T[dout * width];
        c.Backward(ref data.W[0], ref gw[0], ref V(data.U), ref V(y), ref V(pre), ref V(gy), ref V(gu), ref V(tt));
        // ∂L/∂pre from the kernel's own y / pre
        var g = new double[dout * width];
        for (int k = 0; k < g.Length; k++)
        {
            double gyk = double.CreateTruncating(data.Gy[k]), yk = double.CreateTruncating(y[k]), pk = double.CreateTruncating(pre[k]);
            g[k] = gyk * Derivative(c.Activation, yk, pk);
            // the derivatives are sums of terms up to |gy|·(1 + |p| + |p|³) (GELU's x(1 − t²)·a(1 + 3bx²)) that cancel
            Near(g[k], gy[k], eps * 16 * (Math.Abs(g[k]) + Math.Abs(gyk) * (1 + Math.Abs(pk) + Math.Abs(pk * pk * pk)) + 1), c, $"∂pre[{k / width}][{k % width}]");
            // the linear part below starts from the kernel's own ∂pre, so that its error is not counted twice
            g[k] = double.CreateTruncating(gy[k]);
        }
        for (int i = 0; i <= din; i++) // row din is the bias
        {
            for (int j = 0; j < dout; j++)
            {
                double a = double.CreateTruncating(data.Gw[i * dout + j]), scale = Math.Abs(a);
                for (int s = 0; s < width; s++)
                {
                    double t = (i < din ? U(i, s) : 1) * g[j * width + s];
                    a += t;
                    scale += Math.Abs(t);
                }
                Near(a, gw[i * dout + j], eps * 2 * (width + 8) * (scale + 1), c, i < din ? $"∂W[{i}, {j}]" : $"∂b[{j}]");
            }
        }
        for (int i = 0; i < din; i++)
        {
            for (int s = 0; s < width; s++)
            {
                double a = 0, scale = 0;
                for (int j = 0; j < dout; j++) { a += W(i, j) * g[j * width + s]; scale += Math.Abs(W(i, j) * g[j * width + s]); }
                Near(a, gu[i * width + s], eps * 2 * (dout + 8) * (scale + 1), c, $"∂u[{i}][{s}]");
            }
        }
    }

    private static double Sigma(double x) => 1 / (1 + Math.Exp(-x));

    private const double GeluA = 0.7978845608028654, GeluB = 0.044715;

    private static Func<double, double> Phi(string activation) => activation switch
    {
        "Identity" => x => x,
        "Tanh" => Math.Tanh,
        "Relu" => x => x > 0 ? x : 0,
        "Softplus" => x => Math.Max(x, 0) + Math.Log(1 + Math.Exp(-Math.Abs(x))),
        "Elu" => x => x > 0 ? x : Math.Exp(x) - 1,
        "Gelu" => x => 0.5 * x * (1 + Math.Tanh(GeluA * (x + GeluB * x * x * x))),
        "Silu" => x => x * Sigma(x),
        _ => throw new ArgumentException(activation),
    };

    /// <summary>φ′ expressed as the kernels do: from the output y (tanh, ReLU, ELU) or from the pre-activation p.</summary>
    private static double Derivative(string activation, double y, double p) => activation switch
    {
        "Identity" => 1,
        "Tanh" => 1 - y * y,
        "Relu" => y > 0 ? 1 : 0,
        "Softplus" => Sigma(p),
        "Elu" => y > 0 ? 1 : y + 1,
        "Gelu" => GeluDerivative(p),
        "Silu" => Sigma(p) * (1 + p * (1 - Sigma(p))),
        _ => throw new ArgumentException(activation),
    };

    private static double GeluDerivative(double x)
    {
        double t = Math.Tanh(GeluA * (x + GeluB * x * x * x));
        return 0.5 * (1 + t) + 0.5 * x * (1 - t * t) * GeluA * (1 + 3 * GeluB * x * x);
    }

    [Fact]
    public void GeluConstantIsSqrtTwoOverPi() => Assert.Equal(GeluA, Math.Sqrt(2 / Math.PI));

    // ------------------------------------------------------------------ data and helpers

    /// <summary>Random weights (≈ N(0, 1/In)), bias, inputs, a nonzero parameter gradient and an output gradient for one case.</summary>
    private sealed class Data<T> where T : unmanaged, IFloatingPointIeee754<T>
    {
        public readonly T[] W, U, Gw, Gy;

        public Data(DenseCase<T> c, ulong seed)
        {
            var rng = new FlowRandom(seed * 1000 + (ulong)(c.In * 131 + c.Out));
            int width = Lanes * Vector<T>.Count;
            double ws = 1.5 / Math.Sqrt(c.In);
            W = Gaussian(rng, c.In * c.Out + c.Out, ws);
            for (int j = 0; j < c.Out; j++) W[c.In * c.Out + j] = T.CreateTruncating(0.5 * rng.NextGaussian());
            U = Gaussian(rng, c.In * width, 1.5);
            // a few exact zeros and a large value among the inputs
            U[0] = T.Zero;
            if (U.Length > 3) U[3] = T.CreateTruncating(9.0);
            Gw = Gaussian(rng, c.In * c.Out + c.Out, 0.3);
            Gy = Gaussian(rng, c.Out * width, 1.0);
        }

        private static T[] Gaussian(FlowRandom rng, int length, double scale)
        {
            var a = new T[length];
            for (int i = 0; i < length; i++) a[i] = T.CreateTruncating(scale * rng.NextGaussian());
            return a;
        }
    }

    private static ref Vector<T> V<T>(T[] a) where T : unmanaged => ref Unsafe.As<T, Vector<T>>(ref a[0]);

    private static readonly double Sentinel = -12345.678;

    private static T[] Filled<T>(int length) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var a = new T[length];
        a.AsSpan().Fill(T.CreateTruncating(Sentinel));
        return a;
    }

    private static ulong Bits<T>(T x) where T : unmanaged =>
        Unsafe.SizeOf<T>() == 4 ? Unsafe.As<T, uint>(ref x) : Unsafe.As<T, ulong>(ref x);

    private static void AssertBits<T>(T[] expected, T[] actual, DenseCase<T> c, string what) where T : unmanaged
    {
        Assert.Equal(expected.Length, actual.Length);
        if (MemoryMarshal.AsBytes(expected.AsSpan()).SequenceEqual(MemoryMarshal.AsBytes(actual.AsSpan()))) return;
        int k = 0;
        while (Bits(expected[k]) == Bits(actual[k])) k++;
        Assert.Fail($"{c} ({typeof(T).Name}): {what} differs at element {k}: emitted {expected[k]} (0x{Bits(expected[k]):X}), runtime {actual[k]} (0x{Bits(actual[k]):X})");
    }

    private static void AssertGuard<T>(T[] a, int written, DenseCase<T> c, string what) where T : unmanaged, IFloatingPointIeee754<T>
    {
        for (int k = written; k < a.Length; k++) Assert.True(a[k] == T.CreateTruncating(Sentinel), $"{c}: {what} written past its end at {k}");
    }

    private static void Near<T>(double expected, T actual, double bound, DenseCase<T> c, string what) where T : unmanaged, IFloatingPointIeee754<T>
    {
        double a = double.CreateTruncating(actual);
        Assert.True(Math.Abs(a - expected) <= bound, $"{c} ({typeof(T).Name}): {what} = {a:R}, expected {expected:R} (|error| {Math.Abs(a - expected):E3} > {bound:E3})");
    }
}
