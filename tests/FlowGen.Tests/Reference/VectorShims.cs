using System;
using System.Numerics;
using System.Runtime.CompilerServices;
using FlowGen.Kernels;

namespace FlowGen.Tests;

// Vector<T> forms of the runtime's kernels, for the tests written against them (the emitted-dense oracle, KernelTests):
// the runtime's vector code is generic over ISimd (Simd128/256/512); these reinterpret a Vector<T> as the ISimd of the
// same size and call it. Files that use them alias Kernel to VectorKernel.

/// <summary>A unary kernel as a type (for <see cref="VectorKernel"/>'s width dispatch).</summary>
internal interface IUnaryKernel
{
    static abstract TV Apply<TV>(TV x) where TV : unmanaged, ISimd<TV>;
}

internal readonly struct ExpKernel : IUnaryKernel { public static TV Apply<TV>(TV x) where TV : unmanaged, ISimd<TV> => Kernel.Exp(x); }
internal readonly struct Expm1Kernel : IUnaryKernel { public static TV Apply<TV>(TV x) where TV : unmanaged, ISimd<TV> => Kernel.Expm1(x); }
internal readonly struct LogKernel : IUnaryKernel { public static TV Apply<TV>(TV x) where TV : unmanaged, ISimd<TV> => Kernel.Log(x); }
internal readonly struct TanhKernel : IUnaryKernel { public static TV Apply<TV>(TV x) where TV : unmanaged, ISimd<TV> => Kernel.Tanh(x); }
internal readonly struct SigmoidKernel : IUnaryKernel { public static TV Apply<TV>(TV x) where TV : unmanaged, ISimd<TV> => Kernel.Sigmoid(x); }
internal readonly struct SoftplusKernel : IUnaryKernel { public static TV Apply<TV>(TV x) where TV : unmanaged, ISimd<TV> => Kernel.Softplus(x); }
internal readonly struct LogSigmoidKernel : IUnaryKernel { public static TV Apply<TV>(TV x) where TV : unmanaged, ISimd<TV> => Kernel.LogSigmoid(x); }
internal readonly struct LogSoftplusKernel : IUnaryKernel { public static TV Apply<TV>(TV x) where TV : unmanaged, ISimd<TV> => Kernel.LogSoftplus(x); }
internal readonly struct ReluKernel : IUnaryKernel { public static TV Apply<TV>(TV x) where TV : unmanaged, ISimd<TV> => Kernel.Relu(x); }

/// <summary>FlowGen.Kernel with Vector&lt;T&gt; overloads (scalar members forward unchanged).</summary>
internal static class VectorKernel
{
    public static bool IsMacFused => Kernel.IsMacFused;

    public static int IndexOfNonFinite(ReadOnlySpan<float> x) => Kernel.IndexOfNonFinite(x);
    public static int IndexOfNonFinite(ReadOnlySpan<double> x) => Kernel.IndexOfNonFinite(x);
    public static void Transpose(ref float src, int rows, int cols, ref float dst) => Kernel.Transpose(ref src, rows, cols, ref dst);
    public static void Transpose(ref double src, int rows, int cols, ref double dst) => Kernel.Transpose(ref src, rows, cols, ref dst);

    public static float Mac(float a, float b, float c) => Kernel.Mac(a, b, c);
    public static double Mac(double a, double b, double c) => Kernel.Mac(a, b, c);
    public static Vector<float> Mac(Vector<float> a, Vector<float> b, Vector<float> c) => Mac3(a, b, c);
    public static Vector<double> Mac(Vector<double> a, Vector<double> b, Vector<double> c) => Mac3(a, b, c);

    private static Vector<T> Mac3<T>(Vector<T> a, Vector<T> b, Vector<T> c) where T : unmanaged => Unsafe.SizeOf<Vector<T>>() switch
    {
        16 => Unsafe.BitCast<Simd128<T>, Vector<T>>(Kernel.Mac(Unsafe.BitCast<Vector<T>, Simd128<T>>(a), Unsafe.BitCast<Vector<T>, Simd128<T>>(b), Unsafe.BitCast<Vector<T>, Simd128<T>>(c))),
        32 => Unsafe.BitCast<Simd256<T>, Vector<T>>(Kernel.Mac(Unsafe.BitCast<Vector<T>, Simd256<T>>(a), Unsafe.BitCast<Vector<T>, Simd256<T>>(b), Unsafe.BitCast<Vector<T>, Simd256<T>>(c))),
        _ => Unsafe.BitCast<Simd512<T>, Vector<T>>(Kernel.Mac(Unsafe.BitCast<Vector<T>, Simd512<T>>(a), Unsafe.BitCast<Vector<T>, Simd512<T>>(b), Unsafe.BitCast<Vector<T>, Simd512<T>>(c))),
    };

    /// <summary>op applied at the ISimd width of Vector&lt;T&gt;.</summary>
    public static Vector<T> Unary<TOp, T>(Vector<T> x) where TOp : struct, IUnaryKernel where T : unmanaged => Unsafe.SizeOf<Vector<T>>() switch
    {
        16 => Unsafe.BitCast<Simd128<T>, Vector<T>>(TOp.Apply(Unsafe.BitCast<Vector<T>, Simd128<T>>(x))),
        32 => Unsafe.BitCast<Simd256<T>, Vector<T>>(TOp.Apply(Unsafe.BitCast<Vector<T>, Simd256<T>>(x))),
        _ => Unsafe.BitCast<Simd512<T>, Vector<T>>(TOp.Apply(Unsafe.BitCast<Vector<T>, Simd512<T>>(x))),
    };

    public static float Exp(float x) => Kernel.Exp(x);
    public static double Exp(double x) => Kernel.Exp(x);
    public static Vector<float> Exp(Vector<float> x) => Unary<ExpKernel, float>(x);
    public static Vector<double> Exp(Vector<double> x) => Unary<ExpKernel, double>(x);
    public static float Expm1(float x) => Kernel.Expm1(x);
    public static double Expm1(double x) => Kernel.Expm1(x);
    public static Vector<float> Expm1(Vector<float> x) => Unary<Expm1Kernel, float>(x);
    public static Vector<double> Expm1(Vector<double> x) => Unary<Expm1Kernel, double>(x);
    public static float Log(float x) => Kernel.Log(x);
    public static double Log(double x) => Kernel.Log(x);
    public static Vector<float> Log(Vector<float> x) => Unary<LogKernel, float>(x);
    public static Vector<double> Log(Vector<double> x) => Unary<LogKernel, double>(x);
    public static float Tanh(float x) => Kernel.Tanh(x);
    public static double Tanh(double x) => Kernel.Tanh(x);
    public static Vector<float> Tanh(Vector<float> x) => Unary<TanhKernel, float>(x);
    public static Vector<double> Tanh(Vector<double> x) => Unary<TanhKernel, double>(x);
    public static float Sigmoid(float x) => Kernel.Sigmoid(x);
    public static double Sigmoid(double x) => Kernel.Sigmoid(x);
    public static Vector<float> Sigmoid(Vector<float> x) => Unary<SigmoidKernel, float>(x);
    public static Vector<double> Sigmoid(Vector<double> x) => Unary<SigmoidKernel, double>(x);
    public static float Softplus(float x) => Kernel.Softplus(x);
    public static double Softplus(double x) => Kernel.Softplus(x);
    public static Vector<float> Softplus(Vector<float> x) => Unary<SoftplusKernel, float>(x);
    public static Vector<double> Softplus(Vector<double> x) => Unary<SoftplusKernel, double>(x);
    public static float LogSigmoid(float x) => Kernel.LogSigmoid(x);
    public static double LogSigmoid(double x) => Kernel.LogSigmoid(x);
    public static Vector<float> LogSigmoid(Vector<float> x) => Unary<LogSigmoidKernel, float>(x);
    public static Vector<double> LogSigmoid(Vector<double> x) => Unary<LogSigmoidKernel, double>(x);
    public static float LogSoftplus(float x) => Kernel.LogSoftplus(x);
    public static double LogSoftplus(double x) => Kernel.LogSoftplus(x);
    public static Vector<float> LogSoftplus(Vector<float> x) => Unary<LogSoftplusKernel, float>(x);
    public static Vector<double> LogSoftplus(Vector<double> x) => Unary<LogSoftplusKernel, double>(x);
    public static float Relu(float x) => Kernel.Relu(x);
    public static double Relu(double x) => Kernel.Relu(x);
    public static Vector<float> Relu(Vector<float> x) => Unary<ReluKernel, float>(x);
    public static Vector<double> Relu(Vector<double> x) => Unary<ReluKernel, double>(x);
}

/// <summary>FlowGen.Kernels.Dense with the Vector&lt;T&gt; signatures of the emitted kernels it replaced.</summary>
internal static class VectorDense
{
    public static void Forward<TShape, TAct>(ref float w, ref Vector<float> u, ref Vector<float> y, ref Vector<float> pre) where TShape : struct, IDenseShape where TAct : struct, IActivation
    {
        switch (Unsafe.SizeOf<Vector<float>>())
        {
            case 16: Dense.Forward<TShape, TAct, Simd128<float>>(ref w, ref Unsafe.As<Vector<float>, Simd128<float>>(ref u), ref Unsafe.As<Vector<float>, Simd128<float>>(ref y), ref Unsafe.As<Vector<float>, Simd128<float>>(ref pre)); break;
            case 32: Dense.Forward<TShape, TAct, Simd256<float>>(ref w, ref Unsafe.As<Vector<float>, Simd256<float>>(ref u), ref Unsafe.As<Vector<float>, Simd256<float>>(ref y), ref Unsafe.As<Vector<float>, Simd256<float>>(ref pre)); break;
            default: Dense.Forward<TShape, TAct, Simd512<float>>(ref w, ref Unsafe.As<Vector<float>, Simd512<float>>(ref u), ref Unsafe.As<Vector<float>, Simd512<float>>(ref y), ref Unsafe.As<Vector<float>, Simd512<float>>(ref pre)); break;
        }
    }

    public static void ForwardOne<TShape, TAct>(ref float w, ref float u, ref float y, ref float pre) where TShape : struct, IDenseShape where TAct : struct, IActivation =>
        Dense.ForwardOne<TShape, TAct>(ref w, ref u, ref y, ref pre);

    public static void Backward<TShape, TAct>(ref float w, ref float gw, ref Vector<float> u, ref Vector<float> y, ref Vector<float> pre, ref Vector<float> gy, ref Vector<float> gu, ref Vector<float> transpose) where TShape : struct, IDenseShape where TAct : struct, IActivation
    {
        switch (Unsafe.SizeOf<Vector<float>>())
        {
            case 16: Dense.Backward<TShape, TAct, Simd128<float>>(ref w, ref gw, ref Unsafe.As<Vector<float>, Simd128<float>>(ref u), ref Unsafe.As<Vector<float>, Simd128<float>>(ref y), ref Unsafe.As<Vector<float>, Simd128<float>>(ref pre), ref Unsafe.As<Vector<float>, Simd128<float>>(ref gy), ref Unsafe.As<Vector<float>, Simd128<float>>(ref gu), ref Unsafe.As<Vector<float>, Simd128<float>>(ref transpose)); break;
            case 32: Dense.Backward<TShape, TAct, Simd256<float>>(ref w, ref gw, ref Unsafe.As<Vector<float>, Simd256<float>>(ref u), ref Unsafe.As<Vector<float>, Simd256<float>>(ref y), ref Unsafe.As<Vector<float>, Simd256<float>>(ref pre), ref Unsafe.As<Vector<float>, Simd256<float>>(ref gy), ref Unsafe.As<Vector<float>, Simd256<float>>(ref gu), ref Unsafe.As<Vector<float>, Simd256<float>>(ref transpose)); break;
            default: Dense.Backward<TShape, TAct, Simd512<float>>(ref w, ref gw, ref Unsafe.As<Vector<float>, Simd512<float>>(ref u), ref Unsafe.As<Vector<float>, Simd512<float>>(ref y), ref Unsafe.As<Vector<float>, Simd512<float>>(ref pre), ref Unsafe.As<Vector<float>, Simd512<float>>(ref gy), ref Unsafe.As<Vector<float>, Simd512<float>>(ref gu), ref Unsafe.As<Vector<float>, Simd512<float>>(ref transpose)); break;
        }
    }

    public static void Forward<TShape, TAct>(ref double w, ref Vector<double> u, ref Vector<double> y, ref Vector<double> pre) where TShape : struct, IDenseShape where TAct : struct, IActivation
    {
        switch (Unsafe.SizeOf<Vector<double>>())
        {
            case 16: Dense.Forward<TShape, TAct, Simd128<double>>(ref w, ref Unsafe.As<Vector<double>, Simd128<double>>(ref u), ref Unsafe.As<Vector<double>, Simd128<double>>(ref y), ref Unsafe.As<Vector<double>, Simd128<double>>(ref pre)); break;
            case 32: Dense.Forward<TShape, TAct, Simd256<double>>(ref w, ref Unsafe.As<Vector<double>, Simd256<double>>(ref u), ref Unsafe.As<Vector<double>, Simd256<double>>(ref y), ref Unsafe.As<Vector<double>, Simd256<double>>(ref pre)); break;
            default: Dense.Forward<TShape, TAct, Simd512<double>>(ref w, ref Unsafe.As<Vector<double>, Simd512<double>>(ref u), ref Unsafe.As<Vector<double>, Simd512<double>>(ref y), ref Unsafe.As<Vector<double>, Simd512<double>>(ref pre)); break;
        }
    }

    public static void ForwardOne<TShape, TAct>(ref double w, ref double u, ref double y, ref double pre) where TShape : struct, IDenseShape where TAct : struct, IActivation =>
        Dense.ForwardOne<TShape, TAct>(ref w, ref u, ref y, ref pre);

    public static void Backward<TShape, TAct>(ref double w, ref double gw, ref Vector<double> u, ref Vector<double> y, ref Vector<double> pre, ref Vector<double> gy, ref Vector<double> gu, ref Vector<double> transpose) where TShape : struct, IDenseShape where TAct : struct, IActivation
    {
        switch (Unsafe.SizeOf<Vector<double>>())
        {
            case 16: Dense.Backward<TShape, TAct, Simd128<double>>(ref w, ref gw, ref Unsafe.As<Vector<double>, Simd128<double>>(ref u), ref Unsafe.As<Vector<double>, Simd128<double>>(ref y), ref Unsafe.As<Vector<double>, Simd128<double>>(ref pre), ref Unsafe.As<Vector<double>, Simd128<double>>(ref gy), ref Unsafe.As<Vector<double>, Simd128<double>>(ref gu), ref Unsafe.As<Vector<double>, Simd128<double>>(ref transpose)); break;
            case 32: Dense.Backward<TShape, TAct, Simd256<double>>(ref w, ref gw, ref Unsafe.As<Vector<double>, Simd256<double>>(ref u), ref Unsafe.As<Vector<double>, Simd256<double>>(ref y), ref Unsafe.As<Vector<double>, Simd256<double>>(ref pre), ref Unsafe.As<Vector<double>, Simd256<double>>(ref gy), ref Unsafe.As<Vector<double>, Simd256<double>>(ref gu), ref Unsafe.As<Vector<double>, Simd256<double>>(ref transpose)); break;
            default: Dense.Backward<TShape, TAct, Simd512<double>>(ref w, ref gw, ref Unsafe.As<Vector<double>, Simd512<double>>(ref u), ref Unsafe.As<Vector<double>, Simd512<double>>(ref y), ref Unsafe.As<Vector<double>, Simd512<double>>(ref pre), ref Unsafe.As<Vector<double>, Simd512<double>>(ref gy), ref Unsafe.As<Vector<double>, Simd512<double>>(ref gu), ref Unsafe.As<Vector<double>, Simd512<double>>(ref transpose)); break;
        }
    }

}
