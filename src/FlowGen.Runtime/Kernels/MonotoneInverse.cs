using System.ComponentModel;
using System.Numerics;
using System.Runtime.CompilerServices;

namespace FlowGen.Kernels;

/// <summary>
/// For generated code: the strictly increasing map τ of one transformer configuration, as a type (generated
/// implementations are empty structs, one per configuration and flavor), evaluated at the parameters of one coordinate:
/// θ₀ at <c>theta</c>, consecutive parameters <c>stride</c> values apart, and memory of the map's own at <c>state</c> (the
/// deep sigmoidal block's prepared quantities; where an evaluation puts the outputs it does not need, so that the inlined
/// methods declare no local the caller would zero on every evaluation). <typeparamref name="TValue"/> is the scalar type
/// (one sample) or a vector type <see cref="ISimd{TSelf}"/> (one value per lane).
/// </summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public interface IMonotoneMap<TValue>
{
    /// <summary>τ(x).</summary>
    static abstract TValue Value(TValue x, ref TValue theta, int stride, ref TValue state);

    /// <summary>τ(x), and τ′(x) in <paramref name="derivative"/>.</summary>
    static abstract TValue Value(TValue x, ref TValue theta, int stride, ref TValue state, out TValue derivative);
}

/// <summary>
/// For generated code: the safeguarded Newton–bisection inverse of a strictly increasing map (docs/model.md §7), once for
/// every model, generic over the map (<see cref="IMonotoneMap{TValue}"/>, a value type), so that the JIT compiles it for
/// each transformer configuration and flavor, with the map's forwarding methods inlined: the code the per-configuration
/// copies the generator used to emit compiled to.
/// </summary>
/// <remarks>
/// <para>
/// A bracket is grown geometrically around the start point, then Newton steps are taken that fall back to bisection whenever
/// they leave the bracket or stop halving the residual, until the bracket is narrower than 4 ulps of max(|x|, 1) (about 2 ulps
/// on either side of the root) or the residual is exactly zero. Lanes with a non-finite target, or whose bracket cannot be
/// found, get NaN; a lane still open after the iteration limit too (never returned silently). Each lane stops on its own, so
/// a sample's result does not depend on the other samples of its vector.
/// </para>
/// <para>
/// These are the IEEE operations, in the same order and with the same constants, of the inverse the generator used to emit
/// per configuration (the same <see cref="Kernel"/> comparisons and selections), on every path: one sample (scalars, masks
/// are <see cref="bool"/>) and a tile (vectors, masks are all-bits lanes), so the two agree bit for bit.
/// </para>
/// <para>With <see cref="InverseStatistics.IsEnabled"/> each call is counted in <see cref="InverseStatistics"/>.</para>
/// </remarks>
[EditorBrowsable(EditorBrowsableState.Never)]
[SkipLocalsInit] // every local is assigned before use: no zeroing of the frame on each call
public static class MonotoneInverse
{
    /// <summary>x with τ(x) = <paramref name="target"/>, searched from <paramref name="start"/> (0 where that is not finite), lane by lane.</summary>
    /// <typeparam name="TMap">τ.</typeparam>
    /// <typeparam name="TV">The vector type (<see cref="ISimd{TSelf}"/>).</typeparam>
    /// <param name="theta">θ₀ of the coordinate.</param>
    /// <param name="stride">The distance between consecutive parameters of the coordinate.</param>
    /// <param name="state">The map's memory (see <see cref="IMonotoneMap{TValue}"/>).</param>
    /// <param name="target">y.</param>
    /// <param name="start">The first guess.</param>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TV Solve<TMap, TV>(ref TV theta, int stride, ref TV state, TV target, TV start) where TMap : struct, IMonotoneMap<TV> where TV : unmanaged, ISimd<TV> =>
        SolveCore<TV, TV, VectorLanes<TV>, TMap>(ref theta, stride, ref state, target, start);

    /// <summary>x with τ(x) = <paramref name="target"/>, searched from <paramref name="start"/> (0 if that is not finite).</summary>
    /// <typeparam name="TMap">τ.</typeparam>
    /// <param name="theta">θ₀ of the coordinate.</param>
    /// <param name="stride">The distance between consecutive parameters of the coordinate.</param>
    /// <param name="state">The map's memory (see <see cref="IMonotoneMap{TValue}"/>).</param>
    /// <param name="target">y.</param>
    /// <param name="start">The first guess.</param>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Solve<TMap>(ref float theta, int stride, ref float state, float target, float start) where TMap : struct, IMonotoneMap<float> =>
        SolveCore<float, bool, FloatLanes, TMap>(ref theta, stride, ref state, target, start);

    /// <inheritdoc cref="Solve{TMap}(ref float, int, ref float, float, float)"/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static double Solve<TMap>(ref double theta, int stride, ref double state, double target, double start) where TMap : struct, IMonotoneMap<double> =>
        SolveCore<double, bool, DoubleLanes, TMap>(ref theta, stride, ref state, target, start);

    private static TValue SolveCore<TValue, TMask, L, TMap>(ref TValue theta, int stride, ref TValue state, TValue target, TValue start)
        where TValue : struct
        where L : struct, IInverseLanes<TValue, TMask>
        where TMap : struct, IMonotoneMap<TValue>
    {
        // L: the lane operations (TValue's arithmetic included: generic code has no operators on it); the formula of each
        // line is in its comment, the operations are exactly those, in that order.
        var finite = L.IsFinite(target);
        start = L.Select(L.IsFinite(start), start, L.Zero);
        TValue step = L.One;
        TValue lo = L.Subtract(start, step), hi = L.Add(start, step);                                  // start ∓ step
        // grow the bracket geometrically until τ(lo) ≤ y ≤ τ(hi)
        int growth = 0;
        for (; growth < 1100; growth++)
        {
            var lowTooHigh = L.GreaterThan(TMap.Value(lo, ref theta, stride, ref state), target);
            var highTooLow = L.LessThan(TMap.Value(hi, ref theta, stride, ref state), target);
            if (!L.Any(L.And(finite, L.Or(lowTooHigh, highTooLow)))) break;
            step = L.Add(step, step);                                                                   // step += step
            lo = L.Select(lowTooHigh, L.Subtract(lo, step), lo);                                        // lo − step
            hi = L.Select(highTooLow, L.Add(hi, step), hi);                                             // hi + step
        }
        var bracketed = L.And(finite, L.And(L.LessThanOrEqual(TMap.Value(lo, ref theta, stride, ref state), target), L.GreaterThanOrEqual(TMap.Value(hi, ref theta, stride, ref state), target)));
        // Safeguarded Newton: a Newton step when it stays strictly inside the bracket and the last one at least halved
        // |residual|, bisection otherwise. A Newton step shorter than the tolerance is stretched to it, so the next point
        // lands beyond the root and closes the bracket: convergence is decided by the bracket width, never by a short step.
        TValue t = L.Min(L.Max(start, lo), hi);
        TValue previous = L.PositiveInfinity;
        // a lane stops once its bracket is closed, so every lane takes the same steps whatever its neighbours do
        var active = bracketed;
        int iterations = 0;
        while (iterations < L.MaxIterations)
        {
            iterations++;
            TValue residual = L.Subtract(TMap.Value(t, ref theta, stride, ref state, out TValue slope), target);                      // τ(t) − y
            var below = L.LessThan(residual, L.Zero);
            lo = L.Select(below, t, lo);
            hi = L.Select(below, hi, t);
            TValue tolerance = L.Multiply(L.Tolerance, L.Add(L.Abs(t), L.One));                         // ε·(|t| + 1)
            TValue delta = L.Divide(L.Negate(residual), slope);                                         // −residual / slope
            delta = L.Select(L.LessThan(L.Abs(delta), tolerance), L.Select(below, tolerance, L.Negate(tolerance)), delta);
            TValue newton = L.Add(t, delta);                                                            // t + delta
            TValue absResidual = L.Abs(residual);
            var useNewton = L.And(L.And(L.GreaterThan(newton, lo), L.LessThan(newton, hi)), L.LessThanOrEqual(absResidual, L.Multiply(L.Half, previous)));
            TValue next = L.Select(useNewton, newton, L.Add(L.Multiply(L.Half, lo), L.Multiply(L.Half, hi))); // ½·lo + ½·hi
            var closed = L.Or(L.LessThanOrEqual(L.Subtract(hi, lo), L.Add(tolerance, tolerance)), L.LessThanOrEqual(absResidual, L.Zero));
            active = L.And(active, L.Not(closed));
            t = L.Select(active, next, t);
            previous = absResidual;
            if (!L.Any(active)) break;
        }
        // the JIT removes this when the statistics are off (a static readonly field is a constant to it)
        if (InverseStatistics.IsEnabled) InverseStatistics.Record(growth, iterations, L.Any(active));
        // lanes still open after the iteration limit are reported as failures (NaN), never returned silently
        return L.Select(L.And(bracketed, L.Not(active)), t, L.NaN);
    }
}

/// <summary>
/// The element-wise operations of <see cref="MonotoneInverse"/> for one value type: its arithmetic operators, Kernel's
/// comparisons and selections (which have the same meaning in scalar and vector form), and the constants.
/// </summary>
internal interface IInverseLanes<TValue, TMask>
{
    static abstract TValue Zero { get; }
    static abstract TValue One { get; }
    static abstract TValue Half { get; }
    static abstract TValue PositiveInfinity { get; }
    static abstract TValue NaN { get; }

    /// <summary>ε of the stopping rule: the bracket closes below 2ε·(|t| + 1), and no Newton step is shorter than ε·(|t| + 1).</summary>
    static abstract TValue Tolerance { get; }

    /// <summary>
    /// Enough iterations for pure bisection from the widest finite bracket down to the tolerance (2^128 / 2^-23 in float,
    /// 2^1024 / 2^-52 in double): the loop cannot run out while Newton and bisection still make progress.
    /// </summary>
    static abstract int MaxIterations { get; }

    static abstract TValue Add(TValue a, TValue b);
    static abstract TValue Subtract(TValue a, TValue b);
    static abstract TValue Multiply(TValue a, TValue b);
    static abstract TValue Divide(TValue a, TValue b);
    static abstract TValue Negate(TValue a);
    static abstract TMask IsFinite(TValue a);
    static abstract TMask LessThan(TValue a, TValue b);
    static abstract TMask LessThanOrEqual(TValue a, TValue b);
    static abstract TMask GreaterThan(TValue a, TValue b);
    static abstract TMask GreaterThanOrEqual(TValue a, TValue b);
    static abstract TMask And(TMask a, TMask b);
    static abstract TMask Or(TMask a, TMask b);
    static abstract TMask Not(TMask a);
    static abstract bool Any(TMask a);
    static abstract TValue Select(TMask mask, TValue a, TValue b);
    static abstract TValue Min(TValue a, TValue b);
    static abstract TValue Max(TValue a, TValue b);
    static abstract TValue Abs(TValue a);
}

// The constants are those the generator wrote into the per-model copies: the float ones are the doubles it held, rounded
// to float ((float)2.4e-7, as it computed them).

internal readonly struct FloatLanes : IInverseLanes<float, bool>
{
    public static float Zero => 0f;
    public static float One => 1f;
    public static float Half => 0.5f;
    public static float PositiveInfinity => float.PositiveInfinity;
    public static float NaN => float.NaN;
    public static float Tolerance => (float)2.4e-7;
    public static int MaxIterations => 160;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static float Add(float a, float b) => a + b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static float Subtract(float a, float b) => a - b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static float Multiply(float a, float b) => a * b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static float Divide(float a, float b) => a / b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static float Negate(float a) => -a;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static bool IsFinite(float a) => Kernel.IsFinite(a);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static bool LessThan(float a, float b) => Kernel.LessThan(a, b);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static bool LessThanOrEqual(float a, float b) => Kernel.LessThanOrEqual(a, b);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static bool GreaterThan(float a, float b) => Kernel.GreaterThan(a, b);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static bool GreaterThanOrEqual(float a, float b) => Kernel.GreaterThanOrEqual(a, b);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static bool And(bool a, bool b) => Kernel.And(a, b);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static bool Or(bool a, bool b) => Kernel.Or(a, b);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static bool Not(bool a) => Kernel.Not(a);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static bool Any(bool a) => Kernel.Any(a);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static float Select(bool mask, float a, float b) => Kernel.Select(mask, a, b);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static float Min(float a, float b) => Kernel.Min(a, b);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static float Max(float a, float b) => Kernel.Max(a, b);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static float Abs(float a) => Kernel.Abs(a);
}

internal readonly struct DoubleLanes : IInverseLanes<double, bool>
{
    public static double Zero => 0d;
    public static double One => 1d;
    public static double Half => 0.5d;
    public static double PositiveInfinity => double.PositiveInfinity;
    public static double NaN => double.NaN;
    public static double Tolerance => 4.5e-16;
    public static int MaxIterations => 1100;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static double Add(double a, double b) => a + b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static double Subtract(double a, double b) => a - b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static double Multiply(double a, double b) => a * b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static double Divide(double a, double b) => a / b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static double Negate(double a) => -a;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static bool IsFinite(double a) => Kernel.IsFinite(a);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static bool LessThan(double a, double b) => Kernel.LessThan(a, b);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static bool LessThanOrEqual(double a, double b) => Kernel.LessThanOrEqual(a, b);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static bool GreaterThan(double a, double b) => Kernel.GreaterThan(a, b);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static bool GreaterThanOrEqual(double a, double b) => Kernel.GreaterThanOrEqual(a, b);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static bool And(bool a, bool b) => Kernel.And(a, b);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static bool Or(bool a, bool b) => Kernel.Or(a, b);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static bool Not(bool a) => Kernel.Not(a);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static bool Any(bool a) => Kernel.Any(a);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static double Select(bool mask, double a, double b) => Kernel.Select(mask, a, b);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static double Min(double a, double b) => Kernel.Min(a, b);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static double Max(double a, double b) => Kernel.Max(a, b);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static double Abs(double a) => Kernel.Abs(a);
}

internal readonly struct VectorLanes<TV> : IInverseLanes<TV, TV> where TV : unmanaged, ISimd<TV>
{
    public static TV Zero => TV.Zero;
    public static TV One => TV.One;
    public static TV Half => TV.Create(0.5);
    public static TV PositiveInfinity => TV.Create(double.PositiveInfinity);
    public static TV NaN => TV.Create(double.NaN);
    public static TV Tolerance => TV.IsDouble ? TV.Create(DoubleLanes.Tolerance) : TV.Create(FloatLanes.Tolerance);
    public static int MaxIterations => TV.IsDouble ? DoubleLanes.MaxIterations : FloatLanes.MaxIterations;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static TV Add(TV a, TV b) => a + b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static TV Subtract(TV a, TV b) => a - b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static TV Multiply(TV a, TV b) => a * b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static TV Divide(TV a, TV b) => a / b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static TV Negate(TV a) => -a;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static TV IsFinite(TV a) => Kernel.IsFinite(a);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static TV LessThan(TV a, TV b) => Kernel.LessThan(a, b);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static TV LessThanOrEqual(TV a, TV b) => Kernel.LessThanOrEqual(a, b);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static TV GreaterThan(TV a, TV b) => Kernel.GreaterThan(a, b);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static TV GreaterThanOrEqual(TV a, TV b) => Kernel.GreaterThanOrEqual(a, b);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static TV And(TV a, TV b) => Kernel.And(a, b);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static TV Or(TV a, TV b) => Kernel.Or(a, b);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static TV Not(TV a) => Kernel.Not(a);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static bool Any(TV a) => Kernel.Any(a);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static TV Select(TV mask, TV a, TV b) => Kernel.Select(mask, a, b);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static TV Min(TV a, TV b) => Kernel.Min(a, b);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static TV Max(TV a, TV b) => Kernel.Max(a, b);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static TV Abs(TV a) => Kernel.Abs(a);
}
