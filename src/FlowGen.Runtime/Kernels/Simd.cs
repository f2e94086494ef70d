using System;
using System.ComponentModel;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace FlowGen.Kernels;

// The vector width of FlowGen's SIMD code. Generated tile code and the runtime's kernels are written once, generic over a
// vector type TV : ISimd<TV> (one quantity for TV.Count samples, one per lane); the driver instantiates them with the widest
// vector the hardware accelerates: Simd512<T> (AVX-512), Simd256<T> (AVX2) or Simd128<T> (SSE, Arm64 AdvSimd). The JIT and
// NativeAOT compile each instantiation separately, with every member below inlined to one instruction (or a few).
//
// Every sample is computed in its own lane with the same IEEE operations in the same order whatever the width, and every
// reduction over samples (parameter gradients, sums) runs in sample order, so results do not depend on the width: a model
// gives the same bits on 128-, 256- and 512-bit hardware (VectorWidthTests checks it in child processes).
//
// Masks (the results of comparisons) are vectors of the same type whose lanes are all ones (true) or all zeros (false);
// the integer members (…Bits) see each lane as its two's-complement bits: Int32 lanes for float, Int64 lanes for double.

/// <summary>
/// For generated code: a SIMD vector of <see cref="float"/> or <see cref="double"/> lanes, one sample per lane, with the
/// operations FlowGen's element-wise code is written with. Implemented by <see cref="Simd128{T}"/>, <see cref="Simd256{T}"/>
/// and <see cref="Simd512{T}"/> only (the vector forms of <see cref="FlowGen.Kernel"/> choose their float or double code by
/// testing for those types); the driver picks the widest one the hardware accelerates (<see cref="FlowGen.FlowSimd.LaneBits"/>).
/// </summary>
/// <typeparam name="TSelf">The implementing vector type.</typeparam>
[EditorBrowsable(EditorBrowsableState.Never)]
public interface ISimd<TSelf> :
    IAdditionOperators<TSelf, TSelf, TSelf>, ISubtractionOperators<TSelf, TSelf, TSelf>, IMultiplyOperators<TSelf, TSelf, TSelf>,
    IDivisionOperators<TSelf, TSelf, TSelf>, IUnaryNegationOperators<TSelf, TSelf>, IBitwiseOperators<TSelf, TSelf, TSelf>
    where TSelf : unmanaged, ISimd<TSelf>
{
    /// <summary>a + b with b broadcast to every lane (rounded to the lane type).</summary>
    static abstract TSelf operator +(TSelf a, double b);
    /// <summary>a + b with a broadcast to every lane.</summary>
    static abstract TSelf operator +(double a, TSelf b);
    /// <summary>a − b with b broadcast to every lane.</summary>
    static abstract TSelf operator -(TSelf a, double b);
    /// <summary>a − b with a broadcast to every lane.</summary>
    static abstract TSelf operator -(double a, TSelf b);
    /// <summary>a·b with b broadcast to every lane.</summary>
    static abstract TSelf operator *(TSelf a, double b);
    /// <summary>a·b with a broadcast to every lane.</summary>
    static abstract TSelf operator *(double a, TSelf b);
    /// <summary>a / b with b broadcast to every lane.</summary>
    static abstract TSelf operator /(TSelf a, double b);
    /// <summary>a / b with a broadcast to every lane.</summary>
    static abstract TSelf operator /(double a, TSelf b);

    /// <summary>Number of lanes.</summary>
    static abstract int Count { get; }

    /// <summary>True for <see cref="double"/> lanes, false for <see cref="float"/> lanes.</summary>
    static abstract bool IsDouble { get; }

    /// <summary>Every lane 0.</summary>
    static abstract TSelf Zero { get; }

    /// <summary>Every lane 1.</summary>
    static abstract TSelf One { get; }

    /// <summary>Every lane <paramref name="value"/>, rounded to the lane type.</summary>
    static abstract TSelf Create(double value);

    /// <summary>Every lane <paramref name="value"/> (exact in both lane types).</summary>
    static abstract TSelf Create(float value);

    /// <summary>Every lane with the bits <paramref name="bits"/> (the low 32 bits for float lanes).</summary>
    static abstract TSelf CreateBits(long bits);

    /// <summary>a·b + c per lane, rounded once when <see cref="Kernel.IsMacFused"/> (the lanes of <see cref="Kernel.Mac(float, float, float)"/>).</summary>
    static abstract TSelf Mac(TSelf a, TSelf b, TSelf c);

    /// <summary>Mask of a &lt; b.</summary>
    static abstract TSelf LessThan(TSelf a, TSelf b);

    /// <summary>Mask of a ≤ b.</summary>
    static abstract TSelf LessThanOrEqual(TSelf a, TSelf b);

    /// <summary>Mask of a &gt; b.</summary>
    static abstract TSelf GreaterThan(TSelf a, TSelf b);

    /// <summary>Mask of a ≥ b.</summary>
    static abstract TSelf GreaterThanOrEqual(TSelf a, TSelf b);

    /// <summary>Mask of a = b.</summary>
    static abstract TSelf Equal(TSelf a, TSelf b);

    /// <summary>Per lane: a where the mask is set, else b (bitwise: (mask &amp; a) | (~mask &amp; b)).</summary>
    static abstract TSelf Select(TSelf mask, TSelf a, TSelf b);

    /// <summary>a &amp; ~b, bitwise.</summary>
    static abstract TSelf AndNot(TSelf a, TSelf b);

    /// <summary>True when any bit of any lane is set (for a mask: any lane true).</summary>
    static abstract bool Any(TSelf mask);

    /// <summary>|a| per lane.</summary>
    static abstract TSelf Abs(TSelf a);

    /// <summary>√a per lane.</summary>
    static abstract TSelf Sqrt(TSelf a);

    /// <summary>The hardware minimum (x64 minps/minpd: b when either is NaN).</summary>
    static abstract TSelf MinNative(TSelf a, TSelf b);

    /// <summary>The lanes' bits added as integers.</summary>
    static abstract TSelf AddBits(TSelf a, TSelf b);

    /// <summary>The lanes' bits subtracted as integers.</summary>
    static abstract TSelf SubtractBits(TSelf a, TSelf b);

    /// <summary>The lanes' bits shifted left by <paramref name="count"/>.</summary>
    static abstract TSelf ShiftLeftBits(TSelf a, int count);

    /// <summary>The lanes' bits shifted right by <paramref name="count"/>, arithmetically (sign-extending).</summary>
    static abstract TSelf ShiftRightArithmeticBits(TSelf a, int count);

    /// <summary>The lanes' bits shifted right by <paramref name="count"/>, logically (zero-filling).</summary>
    static abstract TSelf ShiftRightLogicalBits(TSelf a, int count);

    /// <summary>Each lane's bits read as a signed integer and converted to the lane's floating-point type.</summary>
    static abstract TSelf ConvertBitsToValue(TSelf a);
}

/// <summary>Width-generic loads, stores and lane access on top of <see cref="ISimd{TSelf}"/>.</summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public static class Simd
{
    /// <summary>The vector at <paramref name="source"/> + <paramref name="offset"/> elements (unaligned).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TV Load<T, TV>(ref T source, nuint offset) where T : unmanaged where TV : unmanaged, ISimd<TV> =>
        Unsafe.ReadUnaligned<TV>(ref Unsafe.As<T, byte>(ref Unsafe.Add(ref source, offset)));

    /// <summary>Writes <paramref name="value"/> at <paramref name="destination"/> + <paramref name="offset"/> elements (unaligned).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Store<T, TV>(TV value, ref T destination, nuint offset) where T : unmanaged where TV : unmanaged, ISimd<TV> =>
        Unsafe.WriteUnaligned(ref Unsafe.As<T, byte>(ref Unsafe.Add(ref destination, offset)), value);

    /// <summary>Lane <paramref name="lane"/> of <paramref name="value"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static T Element<T, TV>(TV value, int lane) where T : unmanaged where TV : unmanaged, ISimd<TV> =>
        Unsafe.Add(ref Unsafe.As<TV, T>(ref value), lane);

    /// <summary>The elements of a run of vectors (row-major lanes).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ref T Elements<T, TV>(ref TV vectors) where T : unmanaged where TV : unmanaged, ISimd<TV> => ref Unsafe.As<TV, T>(ref vectors);

    /// <summary>A vector with every lane <paramref name="value"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TV Splat<T, TV>(T value) where T : unmanaged where TV : unmanaged, ISimd<TV> =>
        typeof(T) == typeof(float) ? TV.Create(Unsafe.BitCast<T, float>(value)) : TV.Create(Unsafe.BitCast<T, double>(value));
}
