using System.ComponentModel;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace FlowGen.Kernels;

// The three implementations of ISimd (Simd.cs), one per hardware vector width. They differ only in the System.Runtime.Intrinsics
// type they wrap (Vector128/256/512, whose APIs are the same); each member is one hardware operation on it, or two
// reinterpretations and one operation. The float/double tests on T are constants the JIT removes.
//
// Results are rewrapped with Unsafe.BitCast, not a constructor: a constructor is one more inlinee with a struct temp per
// operation, and the JIT stops inlining a method once it has ~512 locals ("too many locals"); the spline and
// deep-sigmoidal backward passes (hundreds of vector operations) then called op_Multiply, Select and Mac as functions,
// 2-3.5x slower (found with the runtime's MethodJitInliningFailed events).

/// <summary>For generated code: a 512-bit vector (AVX-512) of <typeparamref name="T"/> (float or double) lanes; see <see cref="ISimd{TSelf}"/>.</summary>
/// <typeparam name="T"><see cref="float"/> or <see cref="double"/>.</typeparam>
[EditorBrowsable(EditorBrowsableState.Never)]
public readonly struct Simd512<T> : ISimd<Simd512<T>> where T : unmanaged
{
#pragma warning disable CS0649 // written only through Unsafe.BitCast (see the top of this file)
    private readonly Vector512<T> _v;
#pragma warning restore CS0649


    /// <inheritdoc/>
    public static int Count => Vector512<T>.Count;
    /// <inheritdoc/>
    public static bool IsDouble { [MethodImpl(MethodImplOptions.AggressiveInlining)] get => typeof(T) == typeof(double); }
    /// <inheritdoc/>
    public static Simd512<T> Zero => default;
    /// <inheritdoc/>
    public static Simd512<T> One { [MethodImpl(MethodImplOptions.AggressiveInlining)] get => Create(1.0); }

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Simd512<T> Create(double value) => typeof(T) == typeof(float) ? Unsafe.BitCast<Vector512<T>, Simd512<T>>(Vector512.Create((float)value).As<float, T>()) : Unsafe.BitCast<Vector512<T>, Simd512<T>>(Vector512.Create(value).As<double, T>());
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Simd512<T> Create(float value) => typeof(T) == typeof(float) ? Unsafe.BitCast<Vector512<T>, Simd512<T>>(Vector512.Create(value).As<float, T>()) : Unsafe.BitCast<Vector512<T>, Simd512<T>>(Vector512.Create((double)value).As<double, T>());
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Simd512<T> CreateBits(long bits) => typeof(T) == typeof(float) ? Unsafe.BitCast<Vector512<T>, Simd512<T>>(Vector512.Create((int)bits).As<int, T>()) : Unsafe.BitCast<Vector512<T>, Simd512<T>>(Vector512.Create(bits).As<long, T>());

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Simd512<T> Mac(Simd512<T> a, Simd512<T> b, Simd512<T> c)
    {
        if (!(System.Runtime.Intrinsics.X86.Fma.IsSupported || System.Runtime.Intrinsics.Arm.AdvSimd.IsSupported)) return Unsafe.BitCast<Vector512<T>, Simd512<T>>(a._v * b._v + c._v);
        return typeof(T) == typeof(float)
            ? Unsafe.BitCast<Vector512<T>, Simd512<T>>(Vector512.FusedMultiplyAdd(a._v.As<T, float>(), b._v.As<T, float>(), c._v.As<T, float>()).As<float, T>())
            : Unsafe.BitCast<Vector512<T>, Simd512<T>>(Vector512.FusedMultiplyAdd(a._v.As<T, double>(), b._v.As<T, double>(), c._v.As<T, double>()).As<double, T>());
    }

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Simd512<T> LessThan(Simd512<T> a, Simd512<T> b) => Unsafe.BitCast<Vector512<T>, Simd512<T>>(Vector512.LessThan(a._v, b._v));
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Simd512<T> LessThanOrEqual(Simd512<T> a, Simd512<T> b) => Unsafe.BitCast<Vector512<T>, Simd512<T>>(Vector512.LessThanOrEqual(a._v, b._v));
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Simd512<T> GreaterThan(Simd512<T> a, Simd512<T> b) => Unsafe.BitCast<Vector512<T>, Simd512<T>>(Vector512.GreaterThan(a._v, b._v));
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Simd512<T> GreaterThanOrEqual(Simd512<T> a, Simd512<T> b) => Unsafe.BitCast<Vector512<T>, Simd512<T>>(Vector512.GreaterThanOrEqual(a._v, b._v));
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Simd512<T> Equal(Simd512<T> a, Simd512<T> b) => Unsafe.BitCast<Vector512<T>, Simd512<T>>(Vector512.Equals(a._v, b._v));
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Simd512<T> Select(Simd512<T> mask, Simd512<T> a, Simd512<T> b) => Unsafe.BitCast<Vector512<T>, Simd512<T>>(Vector512.ConditionalSelect(mask._v, a._v, b._v));
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Simd512<T> AndNot(Simd512<T> a, Simd512<T> b) => Unsafe.BitCast<Vector512<T>, Simd512<T>>(Vector512.AndNot(a._v, b._v));
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static bool Any(Simd512<T> mask) => mask._v.AsUInt64() != Vector512<ulong>.Zero;
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Simd512<T> Abs(Simd512<T> a) => Unsafe.BitCast<Vector512<T>, Simd512<T>>(Vector512.Abs(a._v));
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Simd512<T> Sqrt(Simd512<T> a) => Unsafe.BitCast<Vector512<T>, Simd512<T>>(Vector512.Sqrt(a._v));
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Simd512<T> MinNative(Simd512<T> a, Simd512<T> b) => Unsafe.BitCast<Vector512<T>, Simd512<T>>(Vector512.MinNative(a._v, b._v));

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Simd512<T> AddBits(Simd512<T> a, Simd512<T> b) => typeof(T) == typeof(float) ? Unsafe.BitCast<Vector512<T>, Simd512<T>>((a._v.AsInt32() + b._v.AsInt32()).As<int, T>()) : Unsafe.BitCast<Vector512<T>, Simd512<T>>((a._v.AsInt64() + b._v.AsInt64()).As<long, T>());
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Simd512<T> SubtractBits(Simd512<T> a, Simd512<T> b) => typeof(T) == typeof(float) ? Unsafe.BitCast<Vector512<T>, Simd512<T>>((a._v.AsInt32() - b._v.AsInt32()).As<int, T>()) : Unsafe.BitCast<Vector512<T>, Simd512<T>>((a._v.AsInt64() - b._v.AsInt64()).As<long, T>());
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Simd512<T> ShiftLeftBits(Simd512<T> a, int count) => typeof(T) == typeof(float) ? Unsafe.BitCast<Vector512<T>, Simd512<T>>(Vector512.ShiftLeft(a._v.AsInt32(), count).As<int, T>()) : Unsafe.BitCast<Vector512<T>, Simd512<T>>(Vector512.ShiftLeft(a._v.AsInt64(), count).As<long, T>());
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Simd512<T> ShiftRightArithmeticBits(Simd512<T> a, int count) => typeof(T) == typeof(float) ? Unsafe.BitCast<Vector512<T>, Simd512<T>>(Vector512.ShiftRightArithmetic(a._v.AsInt32(), count).As<int, T>()) : Unsafe.BitCast<Vector512<T>, Simd512<T>>(Vector512.ShiftRightArithmetic(a._v.AsInt64(), count).As<long, T>());
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Simd512<T> ShiftRightLogicalBits(Simd512<T> a, int count) => typeof(T) == typeof(float) ? Unsafe.BitCast<Vector512<T>, Simd512<T>>(Vector512.ShiftRightLogical(a._v.AsUInt32(), count).As<uint, T>()) : Unsafe.BitCast<Vector512<T>, Simd512<T>>(Vector512.ShiftRightLogical(a._v.AsUInt64(), count).As<ulong, T>());
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Simd512<T> ConvertBitsToValue(Simd512<T> a) => typeof(T) == typeof(float) ? Unsafe.BitCast<Vector512<T>, Simd512<T>>(Vector512.ConvertToSingle(a._v.AsInt32()).As<float, T>()) : Unsafe.BitCast<Vector512<T>, Simd512<T>>(Vector512.ConvertToDouble(a._v.AsInt64()).As<double, T>());

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Simd512<T> operator +(Simd512<T> a, Simd512<T> b) => Unsafe.BitCast<Vector512<T>, Simd512<T>>(a._v + b._v);
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Simd512<T> operator -(Simd512<T> a, Simd512<T> b) => Unsafe.BitCast<Vector512<T>, Simd512<T>>(a._v - b._v);
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Simd512<T> operator *(Simd512<T> a, Simd512<T> b) => Unsafe.BitCast<Vector512<T>, Simd512<T>>(a._v * b._v);
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Simd512<T> operator /(Simd512<T> a, Simd512<T> b) => Unsafe.BitCast<Vector512<T>, Simd512<T>>(a._v / b._v);
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Simd512<T> operator -(Simd512<T> a) => Unsafe.BitCast<Vector512<T>, Simd512<T>>(-a._v);
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Simd512<T> operator &(Simd512<T> a, Simd512<T> b) => Unsafe.BitCast<Vector512<T>, Simd512<T>>(a._v & b._v);
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Simd512<T> operator |(Simd512<T> a, Simd512<T> b) => Unsafe.BitCast<Vector512<T>, Simd512<T>>(a._v | b._v);
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Simd512<T> operator ^(Simd512<T> a, Simd512<T> b) => Unsafe.BitCast<Vector512<T>, Simd512<T>>(a._v ^ b._v);
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Simd512<T> operator ~(Simd512<T> a) => Unsafe.BitCast<Vector512<T>, Simd512<T>>(~a._v);

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Simd512<T> operator +(Simd512<T> a, double b) => Unsafe.BitCast<Vector512<T>, Simd512<T>>(a._v + Create(b)._v);
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Simd512<T> operator +(double a, Simd512<T> b) => Unsafe.BitCast<Vector512<T>, Simd512<T>>(Create(a)._v + b._v);
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Simd512<T> operator -(Simd512<T> a, double b) => Unsafe.BitCast<Vector512<T>, Simd512<T>>(a._v - Create(b)._v);
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Simd512<T> operator -(double a, Simd512<T> b) => Unsafe.BitCast<Vector512<T>, Simd512<T>>(Create(a)._v - b._v);
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Simd512<T> operator *(Simd512<T> a, double b) => Unsafe.BitCast<Vector512<T>, Simd512<T>>(a._v * Create(b)._v);
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Simd512<T> operator *(double a, Simd512<T> b) => Unsafe.BitCast<Vector512<T>, Simd512<T>>(Create(a)._v * b._v);
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Simd512<T> operator /(Simd512<T> a, double b) => Unsafe.BitCast<Vector512<T>, Simd512<T>>(a._v / Create(b)._v);
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Simd512<T> operator /(double a, Simd512<T> b) => Unsafe.BitCast<Vector512<T>, Simd512<T>>(Create(a)._v / b._v);

    /// <summary>The lanes, for tests and debugging.</summary>
    public override string ToString() => _v.ToString();
}

/// <summary>For generated code: a 256-bit vector (AVX2) of <typeparamref name="T"/> (float or double) lanes; see <see cref="ISimd{TSelf}"/>.</summary>
/// <typeparam name="T"><see cref="float"/> or <see cref="double"/>.</typeparam>
[EditorBrowsable(EditorBrowsableState.Never)]
public readonly struct Simd256<T> : ISimd<Simd256<T>> where T : unmanaged
{
#pragma warning disable CS0649 // written only through Unsafe.BitCast (see the top of this file)
    private readonly Vector256<T> _v;
#pragma warning restore CS0649


    /// <inheritdoc/>
    public static int Count => Vector256<T>.Count;
    /// <inheritdoc/>
    public static bool IsDouble { [MethodImpl(MethodImplOptions.AggressiveInlining)] get => typeof(T) == typeof(double); }
    /// <inheritdoc/>
    public static Simd256<T> Zero => default;
    /// <inheritdoc/>
    public static Simd256<T> One { [MethodImpl(MethodImplOptions.AggressiveInlining)] get => Create(1.0); }

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Simd256<T> Create(double value) => typeof(T) == typeof(float) ? Unsafe.BitCast<Vector256<T>, Simd256<T>>(Vector256.Create((float)value).As<float, T>()) : Unsafe.BitCast<Vector256<T>, Simd256<T>>(Vector256.Create(value).As<double, T>());
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Simd256<T> Create(float value) => typeof(T) == typeof(float) ? Unsafe.BitCast<Vector256<T>, Simd256<T>>(Vector256.Create(value).As<float, T>()) : Unsafe.BitCast<Vector256<T>, Simd256<T>>(Vector256.Create((double)value).As<double, T>());
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Simd256<T> CreateBits(long bits) => typeof(T) == typeof(float) ? Unsafe.BitCast<Vector256<T>, Simd256<T>>(Vector256.Create((int)bits).As<int, T>()) : Unsafe.BitCast<Vector256<T>, Simd256<T>>(Vector256.Create(bits).As<long, T>());

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Simd256<T> Mac(Simd256<T> a, Simd256<T> b, Simd256<T> c)
    {
        if (!(System.Runtime.Intrinsics.X86.Fma.IsSupported || System.Runtime.Intrinsics.Arm.AdvSimd.IsSupported)) return Unsafe.BitCast<Vector256<T>, Simd256<T>>(a._v * b._v + c._v);
        return typeof(T) == typeof(float)
            ? Unsafe.BitCast<Vector256<T>, Simd256<T>>(Vector256.FusedMultiplyAdd(a._v.As<T, float>(), b._v.As<T, float>(), c._v.As<T, float>()).As<float, T>())
            : Unsafe.BitCast<Vector256<T>, Simd256<T>>(Vector256.FusedMultiplyAdd(a._v.As<T, double>(), b._v.As<T, double>(), c._v.As<T, double>()).As<double, T>());
    }

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Simd256<T> LessThan(Simd256<T> a, Simd256<T> b) => Unsafe.BitCast<Vector256<T>, Simd256<T>>(Vector256.LessThan(a._v, b._v));
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Simd256<T> LessThanOrEqual(Simd256<T> a, Simd256<T> b) => Unsafe.BitCast<Vector256<T>, Simd256<T>>(Vector256.LessThanOrEqual(a._v, b._v));
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Simd256<T> GreaterThan(Simd256<T> a, Simd256<T> b) => Unsafe.BitCast<Vector256<T>, Simd256<T>>(Vector256.GreaterThan(a._v, b._v));
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Simd256<T> GreaterThanOrEqual(Simd256<T> a, Simd256<T> b) => Unsafe.BitCast<Vector256<T>, Simd256<T>>(Vector256.GreaterThanOrEqual(a._v, b._v));
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Simd256<T> Equal(Simd256<T> a, Simd256<T> b) => Unsafe.BitCast<Vector256<T>, Simd256<T>>(Vector256.Equals(a._v, b._v));
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Simd256<T> Select(Simd256<T> mask, Simd256<T> a, Simd256<T> b) => Unsafe.BitCast<Vector256<T>, Simd256<T>>(Vector256.ConditionalSelect(mask._v, a._v, b._v));
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Simd256<T> AndNot(Simd256<T> a, Simd256<T> b) => Unsafe.BitCast<Vector256<T>, Simd256<T>>(Vector256.AndNot(a._v, b._v));
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static bool Any(Simd256<T> mask) => mask._v.AsUInt64() != Vector256<ulong>.Zero;
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Simd256<T> Abs(Simd256<T> a) => Unsafe.BitCast<Vector256<T>, Simd256<T>>(Vector256.Abs(a._v));
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Simd256<T> Sqrt(Simd256<T> a) => Unsafe.BitCast<Vector256<T>, Simd256<T>>(Vector256.Sqrt(a._v));
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Simd256<T> MinNative(Simd256<T> a, Simd256<T> b) => Unsafe.BitCast<Vector256<T>, Simd256<T>>(Vector256.MinNative(a._v, b._v));

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Simd256<T> AddBits(Simd256<T> a, Simd256<T> b) => typeof(T) == typeof(float) ? Unsafe.BitCast<Vector256<T>, Simd256<T>>((a._v.AsInt32() + b._v.AsInt32()).As<int, T>()) : Unsafe.BitCast<Vector256<T>, Simd256<T>>((a._v.AsInt64() + b._v.AsInt64()).As<long, T>());
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Simd256<T> SubtractBits(Simd256<T> a, Simd256<T> b) => typeof(T) == typeof(float) ? Unsafe.BitCast<Vector256<T>, Simd256<T>>((a._v.AsInt32() - b._v.AsInt32()).As<int, T>()) : Unsafe.BitCast<Vector256<T>, Simd256<T>>((a._v.AsInt64() - b._v.AsInt64()).As<long, T>());
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Simd256<T> ShiftLeftBits(Simd256<T> a, int count) => typeof(T) == typeof(float) ? Unsafe.BitCast<Vector256<T>, Simd256<T>>(Vector256.ShiftLeft(a._v.AsInt32(), count).As<int, T>()) : Unsafe.BitCast<Vector256<T>, Simd256<T>>(Vector256.ShiftLeft(a._v.AsInt64(), count).As<long, T>());
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Simd256<T> ShiftRightArithmeticBits(Simd256<T> a, int count) => typeof(T) == typeof(float) ? Unsafe.BitCast<Vector256<T>, Simd256<T>>(Vector256.ShiftRightArithmetic(a._v.AsInt32(), count).As<int, T>()) : Unsafe.BitCast<Vector256<T>, Simd256<T>>(Vector256.ShiftRightArithmetic(a._v.AsInt64(), count).As<long, T>());
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Simd256<T> ShiftRightLogicalBits(Simd256<T> a, int count) => typeof(T) == typeof(float) ? Unsafe.BitCast<Vector256<T>, Simd256<T>>(Vector256.ShiftRightLogical(a._v.AsUInt32(), count).As<uint, T>()) : Unsafe.BitCast<Vector256<T>, Simd256<T>>(Vector256.ShiftRightLogical(a._v.AsUInt64(), count).As<ulong, T>());
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Simd256<T> ConvertBitsToValue(Simd256<T> a) => typeof(T) == typeof(float) ? Unsafe.BitCast<Vector256<T>, Simd256<T>>(Vector256.ConvertToSingle(a._v.AsInt32()).As<float, T>()) : Unsafe.BitCast<Vector256<T>, Simd256<T>>(Vector256.ConvertToDouble(a._v.AsInt64()).As<double, T>());

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Simd256<T> operator +(Simd256<T> a, Simd256<T> b) => Unsafe.BitCast<Vector256<T>, Simd256<T>>(a._v + b._v);
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Simd256<T> operator -(Simd256<T> a, Simd256<T> b) => Unsafe.BitCast<Vector256<T>, Simd256<T>>(a._v - b._v);
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Simd256<T> operator *(Simd256<T> a, Simd256<T> b) => Unsafe.BitCast<Vector256<T>, Simd256<T>>(a._v * b._v);
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Simd256<T> operator /(Simd256<T> a, Simd256<T> b) => Unsafe.BitCast<Vector256<T>, Simd256<T>>(a._v / b._v);
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Simd256<T> operator -(Simd256<T> a) => Unsafe.BitCast<Vector256<T>, Simd256<T>>(-a._v);
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Simd256<T> operator &(Simd256<T> a, Simd256<T> b) => Unsafe.BitCast<Vector256<T>, Simd256<T>>(a._v & b._v);
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Simd256<T> operator |(Simd256<T> a, Simd256<T> b) => Unsafe.BitCast<Vector256<T>, Simd256<T>>(a._v | b._v);
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Simd256<T> operator ^(Simd256<T> a, Simd256<T> b) => Unsafe.BitCast<Vector256<T>, Simd256<T>>(a._v ^ b._v);
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Simd256<T> operator ~(Simd256<T> a) => Unsafe.BitCast<Vector256<T>, Simd256<T>>(~a._v);

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Simd256<T> operator +(Simd256<T> a, double b) => Unsafe.BitCast<Vector256<T>, Simd256<T>>(a._v + Create(b)._v);
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Simd256<T> operator +(double a, Simd256<T> b) => Unsafe.BitCast<Vector256<T>, Simd256<T>>(Create(a)._v + b._v);
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Simd256<T> operator -(Simd256<T> a, double b) => Unsafe.BitCast<Vector256<T>, Simd256<T>>(a._v - Create(b)._v);
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Simd256<T> operator -(double a, Simd256<T> b) => Unsafe.BitCast<Vector256<T>, Simd256<T>>(Create(a)._v - b._v);
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Simd256<T> operator *(Simd256<T> a, double b) => Unsafe.BitCast<Vector256<T>, Simd256<T>>(a._v * Create(b)._v);
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Simd256<T> operator *(double a, Simd256<T> b) => Unsafe.BitCast<Vector256<T>, Simd256<T>>(Create(a)._v * b._v);
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Simd256<T> operator /(Simd256<T> a, double b) => Unsafe.BitCast<Vector256<T>, Simd256<T>>(a._v / Create(b)._v);
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Simd256<T> operator /(double a, Simd256<T> b) => Unsafe.BitCast<Vector256<T>, Simd256<T>>(Create(a)._v / b._v);

    /// <summary>The lanes, for tests and debugging.</summary>
    public override string ToString() => _v.ToString();
}

/// <summary>For generated code: a 128-bit vector (SSE2, Arm64 AdvSimd) of <typeparamref name="T"/> (float or double) lanes; see <see cref="ISimd{TSelf}"/>.</summary>
/// <typeparam name="T"><see cref="float"/> or <see cref="double"/>.</typeparam>
[EditorBrowsable(EditorBrowsableState.Never)]
public readonly struct Simd128<T> : ISimd<Simd128<T>> where T : unmanaged
{
#pragma warning disable CS0649 // written only through Unsafe.BitCast (see the top of this file)
    private readonly Vector128<T> _v;
#pragma warning restore CS0649


    /// <inheritdoc/>
    public static int Count => Vector128<T>.Count;
    /// <inheritdoc/>
    public static bool IsDouble { [MethodImpl(MethodImplOptions.AggressiveInlining)] get => typeof(T) == typeof(double); }
    /// <inheritdoc/>
    public static Simd128<T> Zero => default;
    /// <inheritdoc/>
    public static Simd128<T> One { [MethodImpl(MethodImplOptions.AggressiveInlining)] get => Create(1.0); }

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Simd128<T> Create(double value) => typeof(T) == typeof(float) ? Unsafe.BitCast<Vector128<T>, Simd128<T>>(Vector128.Create((float)value).As<float, T>()) : Unsafe.BitCast<Vector128<T>, Simd128<T>>(Vector128.Create(value).As<double, T>());
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Simd128<T> Create(float value) => typeof(T) == typeof(float) ? Unsafe.BitCast<Vector128<T>, Simd128<T>>(Vector128.Create(value).As<float, T>()) : Unsafe.BitCast<Vector128<T>, Simd128<T>>(Vector128.Create((double)value).As<double, T>());
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Simd128<T> CreateBits(long bits) => typeof(T) == typeof(float) ? Unsafe.BitCast<Vector128<T>, Simd128<T>>(Vector128.Create((int)bits).As<int, T>()) : Unsafe.BitCast<Vector128<T>, Simd128<T>>(Vector128.Create(bits).As<long, T>());

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Simd128<T> Mac(Simd128<T> a, Simd128<T> b, Simd128<T> c)
    {
        if (!(System.Runtime.Intrinsics.X86.Fma.IsSupported || System.Runtime.Intrinsics.Arm.AdvSimd.IsSupported)) return Unsafe.BitCast<Vector128<T>, Simd128<T>>(a._v * b._v + c._v);
        return typeof(T) == typeof(float)
            ? Unsafe.BitCast<Vector128<T>, Simd128<T>>(Vector128.FusedMultiplyAdd(a._v.As<T, float>(), b._v.As<T, float>(), c._v.As<T, float>()).As<float, T>())
            : Unsafe.BitCast<Vector128<T>, Simd128<T>>(Vector128.FusedMultiplyAdd(a._v.As<T, double>(), b._v.As<T, double>(), c._v.As<T, double>()).As<double, T>());
    }

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Simd128<T> LessThan(Simd128<T> a, Simd128<T> b) => Unsafe.BitCast<Vector128<T>, Simd128<T>>(Vector128.LessThan(a._v, b._v));
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Simd128<T> LessThanOrEqual(Simd128<T> a, Simd128<T> b) => Unsafe.BitCast<Vector128<T>, Simd128<T>>(Vector128.LessThanOrEqual(a._v, b._v));
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Simd128<T> GreaterThan(Simd128<T> a, Simd128<T> b) => Unsafe.BitCast<Vector128<T>, Simd128<T>>(Vector128.GreaterThan(a._v, b._v));
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Simd128<T> GreaterThanOrEqual(Simd128<T> a, Simd128<T> b) => Unsafe.BitCast<Vector128<T>, Simd128<T>>(Vector128.GreaterThanOrEqual(a._v, b._v));
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Simd128<T> Equal(Simd128<T> a, Simd128<T> b) => Unsafe.BitCast<Vector128<T>, Simd128<T>>(Vector128.Equals(a._v, b._v));
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Simd128<T> Select(Simd128<T> mask, Simd128<T> a, Simd128<T> b) => Unsafe.BitCast<Vector128<T>, Simd128<T>>(Vector128.ConditionalSelect(mask._v, a._v, b._v));
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Simd128<T> AndNot(Simd128<T> a, Simd128<T> b) => Unsafe.BitCast<Vector128<T>, Simd128<T>>(Vector128.AndNot(a._v, b._v));
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static bool Any(Simd128<T> mask) => mask._v.AsUInt64() != Vector128<ulong>.Zero;
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Simd128<T> Abs(Simd128<T> a) => Unsafe.BitCast<Vector128<T>, Simd128<T>>(Vector128.Abs(a._v));
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Simd128<T> Sqrt(Simd128<T> a) => Unsafe.BitCast<Vector128<T>, Simd128<T>>(Vector128.Sqrt(a._v));
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Simd128<T> MinNative(Simd128<T> a, Simd128<T> b) => Unsafe.BitCast<Vector128<T>, Simd128<T>>(Vector128.MinNative(a._v, b._v));

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Simd128<T> AddBits(Simd128<T> a, Simd128<T> b) => typeof(T) == typeof(float) ? Unsafe.BitCast<Vector128<T>, Simd128<T>>((a._v.AsInt32() + b._v.AsInt32()).As<int, T>()) : Unsafe.BitCast<Vector128<T>, Simd128<T>>((a._v.AsInt64() + b._v.AsInt64()).As<long, T>());
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Simd128<T> SubtractBits(Simd128<T> a, Simd128<T> b) => typeof(T) == typeof(float) ? Unsafe.BitCast<Vector128<T>, Simd128<T>>((a._v.AsInt32() - b._v.AsInt32()).As<int, T>()) : Unsafe.BitCast<Vector128<T>, Simd128<T>>((a._v.AsInt64() - b._v.AsInt64()).As<long, T>());
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Simd128<T> ShiftLeftBits(Simd128<T> a, int count) => typeof(T) == typeof(float) ? Unsafe.BitCast<Vector128<T>, Simd128<T>>(Vector128.ShiftLeft(a._v.AsInt32(), count).As<int, T>()) : Unsafe.BitCast<Vector128<T>, Simd128<T>>(Vector128.ShiftLeft(a._v.AsInt64(), count).As<long, T>());
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Simd128<T> ShiftRightArithmeticBits(Simd128<T> a, int count) => typeof(T) == typeof(float) ? Unsafe.BitCast<Vector128<T>, Simd128<T>>(Vector128.ShiftRightArithmetic(a._v.AsInt32(), count).As<int, T>()) : Unsafe.BitCast<Vector128<T>, Simd128<T>>(Vector128.ShiftRightArithmetic(a._v.AsInt64(), count).As<long, T>());
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Simd128<T> ShiftRightLogicalBits(Simd128<T> a, int count) => typeof(T) == typeof(float) ? Unsafe.BitCast<Vector128<T>, Simd128<T>>(Vector128.ShiftRightLogical(a._v.AsUInt32(), count).As<uint, T>()) : Unsafe.BitCast<Vector128<T>, Simd128<T>>(Vector128.ShiftRightLogical(a._v.AsUInt64(), count).As<ulong, T>());
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Simd128<T> ConvertBitsToValue(Simd128<T> a) => typeof(T) == typeof(float) ? Unsafe.BitCast<Vector128<T>, Simd128<T>>(Vector128.ConvertToSingle(a._v.AsInt32()).As<float, T>()) : Unsafe.BitCast<Vector128<T>, Simd128<T>>(Vector128.ConvertToDouble(a._v.AsInt64()).As<double, T>());

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Simd128<T> operator +(Simd128<T> a, Simd128<T> b) => Unsafe.BitCast<Vector128<T>, Simd128<T>>(a._v + b._v);
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Simd128<T> operator -(Simd128<T> a, Simd128<T> b) => Unsafe.BitCast<Vector128<T>, Simd128<T>>(a._v - b._v);
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Simd128<T> operator *(Simd128<T> a, Simd128<T> b) => Unsafe.BitCast<Vector128<T>, Simd128<T>>(a._v * b._v);
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Simd128<T> operator /(Simd128<T> a, Simd128<T> b) => Unsafe.BitCast<Vector128<T>, Simd128<T>>(a._v / b._v);
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Simd128<T> operator -(Simd128<T> a) => Unsafe.BitCast<Vector128<T>, Simd128<T>>(-a._v);
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Simd128<T> operator &(Simd128<T> a, Simd128<T> b) => Unsafe.BitCast<Vector128<T>, Simd128<T>>(a._v & b._v);
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Simd128<T> operator |(Simd128<T> a, Simd128<T> b) => Unsafe.BitCast<Vector128<T>, Simd128<T>>(a._v | b._v);
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Simd128<T> operator ^(Simd128<T> a, Simd128<T> b) => Unsafe.BitCast<Vector128<T>, Simd128<T>>(a._v ^ b._v);
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Simd128<T> operator ~(Simd128<T> a) => Unsafe.BitCast<Vector128<T>, Simd128<T>>(~a._v);

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Simd128<T> operator +(Simd128<T> a, double b) => Unsafe.BitCast<Vector128<T>, Simd128<T>>(a._v + Create(b)._v);
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Simd128<T> operator +(double a, Simd128<T> b) => Unsafe.BitCast<Vector128<T>, Simd128<T>>(Create(a)._v + b._v);
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Simd128<T> operator -(Simd128<T> a, double b) => Unsafe.BitCast<Vector128<T>, Simd128<T>>(a._v - Create(b)._v);
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Simd128<T> operator -(double a, Simd128<T> b) => Unsafe.BitCast<Vector128<T>, Simd128<T>>(Create(a)._v - b._v);
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Simd128<T> operator *(Simd128<T> a, double b) => Unsafe.BitCast<Vector128<T>, Simd128<T>>(a._v * Create(b)._v);
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Simd128<T> operator *(double a, Simd128<T> b) => Unsafe.BitCast<Vector128<T>, Simd128<T>>(Create(a)._v * b._v);
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Simd128<T> operator /(Simd128<T> a, double b) => Unsafe.BitCast<Vector128<T>, Simd128<T>>(a._v / Create(b)._v);
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Simd128<T> operator /(double a, Simd128<T> b) => Unsafe.BitCast<Vector128<T>, Simd128<T>>(Create(a)._v / b._v);

    /// <summary>The lanes, for tests and debugging.</summary>
    public override string ToString() => _v.ToString();
}
