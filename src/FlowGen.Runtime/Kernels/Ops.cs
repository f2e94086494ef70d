using System.Runtime.CompilerServices;

namespace FlowGen.Kernels;

// Precision dispatch for the generic kernel bodies of Dense: each helper forwards to the float or the double overload
// of Kernel / IActivation. T is a value type in every instantiation, so the JIT compiles each (T, shape, activation)
// separately and removes the typeof tests; the reinterpretations (Unsafe.BitCast) cost nothing. Only float and double
// reach these helpers (Dense's public overloads). Vectors need no dispatch: ISimd's members are the lane type's.
internal static class Ops
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static T Mac<T>(T a, T b, T c) where T : unmanaged
    {
        if (typeof(T) == typeof(float)) return Unsafe.BitCast<float, T>(Kernel.Mac(Unsafe.BitCast<T, float>(a), Unsafe.BitCast<T, float>(b), Unsafe.BitCast<T, float>(c)));
        return Unsafe.BitCast<double, T>(Kernel.Mac(Unsafe.BitCast<T, double>(a), Unsafe.BitCast<T, double>(b), Unsafe.BitCast<T, double>(c)));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static T One<T>() where T : unmanaged =>
        typeof(T) == typeof(float) ? Unsafe.BitCast<float, T>(1f) : Unsafe.BitCast<double, T>(1d);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static T Apply<T, TAct>(T x) where T : unmanaged where TAct : struct, IActivation
    {
        if (typeof(T) == typeof(float)) return Unsafe.BitCast<float, T>(TAct.Apply(Unsafe.BitCast<T, float>(x)));
        return Unsafe.BitCast<double, T>(TAct.Apply(Unsafe.BitCast<T, double>(x)));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Transpose<T>(ref T src, int rows, int cols, ref T dst) where T : unmanaged
    {
        if (typeof(T) == typeof(float)) Kernel.Transpose(ref Unsafe.As<T, float>(ref src), rows, cols, ref Unsafe.As<T, float>(ref dst));
        else Kernel.Transpose(ref Unsafe.As<T, double>(ref src), rows, cols, ref Unsafe.As<T, double>(ref dst));
    }
}
