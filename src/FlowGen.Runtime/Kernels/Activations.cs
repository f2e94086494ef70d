using System.ComponentModel;
using System.Numerics;
using System.Runtime.CompilerServices;

namespace FlowGen.Kernels;

// The activations of the conditioners' dense layers as types, for Dense's kernels. Each performs exactly the IEEE
// operations the generator used to emit in every model (DenseEmitter.Apply and EmitActivationHelpers for the value,
// DenseBackwardEmitter.EmitActivationGradients for the gradient), with the same constants, so the kernels' results are
// unchanged bit for bit. The scalar form of Apply is each lane of the vector form (the single-sample kernel's scalar
// tail relies on it).

/// <summary>
/// For generated code: an element-wise activation φ of a dense layer, as a type argument of the <see cref="Dense"/> kernels.
/// </summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public interface IActivation
{
    /// <summary>
    /// True when <see cref="Gradient{TV}(TV, TV, TV)"/> needs the pre-activation (softplus, GELU,
    /// SiLU): the forward kernels then store it and the backward kernel reads it. Otherwise the gradient is computed from the
    /// output y alone.
    /// </summary>
    static abstract bool NeedsPreActivation { get; }

    /// <summary>φ(x).</summary>
    static abstract float Apply(float x);

    /// <summary>φ(x).</summary>
    static abstract double Apply(double x);

    /// <summary>φ(x) lane-wise; each lane is bit-identical to <see cref="Apply(float)"/> (<see cref="Apply(double)"/> for double lanes).</summary>
    static abstract TV Apply<TV>(TV x) where TV : unmanaged, ISimd<TV>;

    /// <summary>∂L/∂pre from ∂L/∂y (<paramref name="gy"/>), the output y and, where <see cref="NeedsPreActivation"/>, the pre-activation.</summary>
    static abstract TV Gradient<TV>(TV gy, TV y, TV pre) where TV : unmanaged, ISimd<TV>;
}

/// <summary>For generated code: no activation (the conditioner's linear output layer).</summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public readonly struct Identity : IActivation
{
    /// <inheritdoc/>
    public static bool NeedsPreActivation => false;

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Apply(float x) => x;

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static double Apply(double x) => x;

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TV Apply<TV>(TV x) where TV : unmanaged, ISimd<TV> => x;

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TV Gradient<TV>(TV gy, TV y, TV pre) where TV : unmanaged, ISimd<TV> => gy;
}

/// <summary>For generated code: tanh (<see cref="Kernel.Tanh(float)"/>); φ′ = 1 − y².</summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public readonly struct Tanh : IActivation
{
    /// <inheritdoc/>
    public static bool NeedsPreActivation => false;

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Apply(float x) => Kernel.Tanh(x);

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static double Apply(double x) => Kernel.Tanh(x);

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TV Apply<TV>(TV x) where TV : unmanaged, ISimd<TV> => Kernel.Tanh(x);

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TV Gradient<TV>(TV gy, TV y, TV pre) where TV : unmanaged, ISimd<TV> => gy * Kernel.Mac(-y, y, TV.One);
}

/// <summary>For generated code: ReLU (<see cref="Kernel.Relu(float)"/>); the gradient passes where y &gt; 0.</summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public readonly struct Relu : IActivation
{
    /// <inheritdoc/>
    public static bool NeedsPreActivation => false;

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Apply(float x) => Kernel.Relu(x);

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static double Apply(double x) => Kernel.Relu(x);

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TV Apply<TV>(TV x) where TV : unmanaged, ISimd<TV> => Kernel.Relu(x);

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TV Gradient<TV>(TV gy, TV y, TV pre) where TV : unmanaged, ISimd<TV> =>
        TV.Select(TV.GreaterThan(y, TV.Zero), gy, TV.Zero);
}

/// <summary>For generated code: softplus (<see cref="Kernel.Softplus(float)"/>); φ′ = σ(pre).</summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public readonly struct Softplus : IActivation
{
    /// <inheritdoc/>
    public static bool NeedsPreActivation => true;

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Apply(float x) => Kernel.Softplus(x);

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static double Apply(double x) => Kernel.Softplus(x);

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TV Apply<TV>(TV x) where TV : unmanaged, ISimd<TV> => Kernel.Softplus(x);

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TV Gradient<TV>(TV gy, TV y, TV pre) where TV : unmanaged, ISimd<TV> => gy * Kernel.Sigmoid(pre);
}

/// <summary>For generated code: ELU with α = 1 (x for x &gt; 0, eˣ − 1 otherwise); φ′ = 1 where y &gt; 0, y + 1 elsewhere.</summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public readonly struct Elu : IActivation
{
    /// <inheritdoc/>
    public static bool NeedsPreActivation => false;

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Apply(float x) => x > 0f ? x : Kernel.Expm1(x);

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static double Apply(double x) => x > 0d ? x : Kernel.Expm1(x);

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TV Apply<TV>(TV x) where TV : unmanaged, ISimd<TV> => TV.Select(TV.GreaterThan(x, TV.Zero), x, Kernel.Expm1(x));

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TV Gradient<TV>(TV gy, TV y, TV pre) where TV : unmanaged, ISimd<TV> =>
        TV.Select(TV.GreaterThan(y, TV.Zero), gy, gy * (y + TV.One));
}

/// <summary>For generated code: GELU, tanh form ½x(1 + tanh(√(2/π)·(x + 0.044715x³))).</summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public readonly struct Gelu : IActivation
{
    // The constants as the generator printed them: √(2/π) computed in double (Math.Sqrt(2 / Math.PI), whose round-trip
    // form is this literal), rounded once to float for float models; 3·0.044715 is computed in double, then rounded.
    private const double SqrtTwoOverPiD = 0.7978845608028654, CubicD = 0.044715, CubicDerivativeD = 3 * 0.044715;
    private const float SqrtTwoOverPiF = (float)SqrtTwoOverPiD, CubicF = (float)CubicD, CubicDerivativeF = (float)CubicDerivativeD;

    /// <inheritdoc/>
    public static bool NeedsPreActivation => true;

    // a constant in the lane type: the double value for double lanes, the float one for float lanes
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static TV C<TV>(double d, float f) where TV : unmanaged, ISimd<TV> => TV.Create(TV.IsDouble ? d : f);

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Apply(float x)
    {
        float inner = SqrtTwoOverPiF * Kernel.Mac(CubicF * x * x, x, x);
        return 0.5f * x * (1f + Kernel.Tanh(inner));
    }

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static double Apply(double x)
    {
        double inner = SqrtTwoOverPiD * Kernel.Mac(CubicD * x * x, x, x);
        return 0.5d * x * (1d + Kernel.Tanh(inner));
    }

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TV Apply<TV>(TV x) where TV : unmanaged, ISimd<TV>
    {
        TV inner = C<TV>(SqrtTwoOverPiD, SqrtTwoOverPiF) * Kernel.Mac(C<TV>(CubicD, CubicF) * x * x, x, x);
        return TV.Create(0.5) * x * (TV.One + Kernel.Tanh(inner));
    }

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TV Gradient<TV>(TV gy, TV y, TV pre) where TV : unmanaged, ISimd<TV> => gy * Derivative(pre);

    // d/dx of ½x(1 + tanh(a(x + bx³))) = ½(1 + t) + ½x(1 − t²)·a(1 + 3bx²). Not AggressiveInlining: the emitted
    // GeluDerivative was an ordinary method too.
    private static TV Derivative<TV>(TV x) where TV : unmanaged, ISimd<TV>
    {
        TV x2 = x * x;
        TV t = Kernel.Tanh(C<TV>(SqrtTwoOverPiD, SqrtTwoOverPiF) * Kernel.Mac(C<TV>(CubicD, CubicF) * x2, x, x));
        TV inner = C<TV>(SqrtTwoOverPiD, SqrtTwoOverPiF) * Kernel.Mac(C<TV>(CubicDerivativeD, CubicDerivativeF), x2, TV.One);
        return TV.Create(0.5) * Kernel.Mac(x * Kernel.Mac(-t, t, TV.One), inner, TV.One + t);
    }
}

/// <summary>For generated code: SiLU x·σ(x); φ′ = σ(pre)(1 + pre(1 − σ(pre))).</summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public readonly struct Silu : IActivation
{
    /// <inheritdoc/>
    public static bool NeedsPreActivation => true;

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Apply(float x) => x * Kernel.Sigmoid(x);

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static double Apply(double x) => x * Kernel.Sigmoid(x);

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TV Apply<TV>(TV x) where TV : unmanaged, ISimd<TV> => x * Kernel.Sigmoid(x);

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TV Gradient<TV>(TV gy, TV y, TV pre) where TV : unmanaged, ISimd<TV> => gy * Derivative(pre);

    // d/dx of x·σ(x) = σ(x)(1 + x(1 − σ(x))). Not AggressiveInlining, as the emitted SiluDerivative.
    private static TV Derivative<TV>(TV x) where TV : unmanaged, ISimd<TV>
    {
        TV sig = Kernel.Sigmoid(x);
        return sig * Kernel.Mac(x, TV.One - sig, TV.One);
    }
}
