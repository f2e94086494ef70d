using System.ComponentModel;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace FlowGen.Kernels;

/// <summary>
/// For generated code: the conditioners' dense layers y = φ(b + Wᵀu), forward (a tile of samples, or one sample) and
/// backward (a tile), specialised by the JIT to each shape (<see cref="IDenseShape"/>) and activation (<see cref="IActivation"/>).
/// </summary>
/// <remarks>
/// <para>
/// Parameters: W is input-major [In, Out] at <c>w</c>, the bias [Out] follows it at <c>w + In·Out</c>. Tile buffers
/// (<c>u</c>, <c>y</c>, <c>pre</c>, gradients) are rows of <see cref="Lanes"/> vectors, one sample per SIMD lane, row i
/// at offset i·<see cref="Lanes"/>; single-sample buffers are rows of one scalar.
/// </para>
/// <para>
/// The pre-activation <c>pre</c> is written by the forward kernels and read by the backward kernel only when
/// <c>TAct.NeedsPreActivation</c>; otherwise callers pass any valid reference (the output row, say), which is not
/// touched. Every output is b[j] followed by one <see cref="Kernel.Mac(float, float, float)"/> per input i = 0 … In − 1
/// in order, on every path (tile, single sample, scalar tail), so the paths agree bit for bit; these are the operations,
/// in the same order and with the same register blocking, of the kernels the generator used to emit per model.
/// </para>
/// </remarks>
[EditorBrowsable(EditorBrowsableState.Never)]
public static partial class Dense
{
    /// <summary>Vectors per tile row: a tile holds <c>Lanes × TV.Count</c> samples (TV: the vector type).</summary>
    public const int Lanes = 2;

    // The public entry points are forwarding shims that inline into the generated caller, leaving a direct call to the
    // generic body. The body is the JIT's compilation root, not an inlinee: its inlining budget is then proportional to
    // its own size, enough for every Mac and activation it contains (a large body force-inlined into a tiny root can
    // exhaust the root's budget and leave calls to Kernel.Mac un-inlined).

    /// <summary>Forward on a tile: y[j] = φ(b[j] + Σᵢ W[i, j]·u[i]) for every sample; pre[j] = b[j] + Σᵢ W[i, j]·u[i] when the activation needs it.</summary>
    /// <param name="w">W (input-major [In, Out]) followed by the bias [Out].</param>
    /// <param name="u">Input rows (In rows of <see cref="Lanes"/> vectors).</param>
    /// <param name="y">Output rows (Out rows).</param>
    /// <param name="pre">Pre-activation rows (Out rows), written only when <c>TAct.NeedsPreActivation</c>.</param>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Forward<TShape, TAct, TV>(ref float w, ref TV u, ref TV y, ref TV pre)
        where TShape : struct, IDenseShape where TAct : struct, IActivation where TV : unmanaged, ISimd<TV> =>
        ForwardTile<float, TV, TShape, TAct>(ref w, ref u, ref y, ref pre);

    /// <inheritdoc cref="Forward{TShape, TAct, TV}(ref float, ref TV, ref TV, ref TV)"/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Forward<TShape, TAct, TV>(ref double w, ref TV u, ref TV y, ref TV pre)
        where TShape : struct, IDenseShape where TAct : struct, IActivation where TV : unmanaged, ISimd<TV> =>
        ForwardTile<double, TV, TShape, TAct>(ref w, ref u, ref y, ref pre);

    /// <summary>Forward on one sample: y[j] = φ(b[j] + Σᵢ W[i, j]·u[i]), vectorised across outputs j; pre[j] as in the tile form.</summary>
    /// <param name="w">W (input-major [In, Out]) followed by the bias [Out].</param>
    /// <param name="u">Inputs (In scalars).</param>
    /// <param name="y">Outputs (Out scalars).</param>
    /// <param name="pre">Pre-activations (Out scalars), written only when <c>TAct.NeedsPreActivation</c>.</param>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void ForwardOne<TShape, TAct>(ref float w, ref float u, ref float y, ref float pre)
        where TShape : struct, IDenseShape where TAct : struct, IActivation =>
        ForwardSingle<float, TShape, TAct>(ref w, ref u, ref y, ref pre);

    /// <inheritdoc cref="ForwardOne{TShape, TAct}(ref float, ref float, ref float, ref float)"/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void ForwardOne<TShape, TAct>(ref double w, ref double u, ref double y, ref double pre)
        where TShape : struct, IDenseShape where TAct : struct, IActivation =>
        ForwardSingle<double, TShape, TAct>(ref w, ref u, ref y, ref pre);

    // Tile forward: blocks of 4 outputs × Lanes vectors of samples stay in registers over the inputs (6 loads and
    // broadcasts per 8 multiply-adds), then single outputs.
    private static void ForwardTile<T, TV, TShape, TAct>(ref T w, ref TV u, ref TV y, ref TV pre)
        where T : unmanaged where TV : unmanaged, ISimd<TV> where TShape : struct, IDenseShape where TAct : struct, IActivation
    {
        ref T b = ref Unsafe.Add(ref w, TShape.In * TShape.Out);
        int j = 0;
        if (TShape.Out >= 4)
        {
            for (; j <= TShape.Out - 4; j += 4)
            {
                TV a00 = Simd.Splat<T, TV>(Unsafe.Add(ref b, j)), a01 = a00;
                TV a10 = Simd.Splat<T, TV>(Unsafe.Add(ref b, j + 1)), a11 = a10;
                TV a20 = Simd.Splat<T, TV>(Unsafe.Add(ref b, j + 2)), a21 = a20;
                TV a30 = Simd.Splat<T, TV>(Unsafe.Add(ref b, j + 3)), a31 = a30;
                ref T wi = ref Unsafe.Add(ref w, j);
                ref TV ui = ref u;
                for (int i = 0; i < TShape.In; i++)
                {
                    TV u0 = ui, u1 = Unsafe.Add(ref ui, 1);
                    TV w0 = Simd.Splat<T, TV>(wi), w1 = Simd.Splat<T, TV>(Unsafe.Add(ref wi, 1)), w2 = Simd.Splat<T, TV>(Unsafe.Add(ref wi, 2)), w3 = Simd.Splat<T, TV>(Unsafe.Add(ref wi, 3));
                    a00 = Kernel.Mac(w0, u0, a00); a01 = Kernel.Mac(w0, u1, a01);
                    a10 = Kernel.Mac(w1, u0, a10); a11 = Kernel.Mac(w1, u1, a11);
                    a20 = Kernel.Mac(w2, u0, a20); a21 = Kernel.Mac(w2, u1, a21);
                    a30 = Kernel.Mac(w3, u0, a30); a31 = Kernel.Mac(w3, u1, a31);
                    wi = ref Unsafe.Add(ref wi, TShape.Out);
                    ui = ref Unsafe.Add(ref ui, Lanes);
                }
                if (TAct.NeedsPreActivation)
                {
                    ref TV pj = ref Unsafe.Add(ref pre, j * Lanes);
                    Unsafe.Add(ref pj, 0) = a00; Unsafe.Add(ref pj, 1) = a01;
                    Unsafe.Add(ref pj, 2) = a10; Unsafe.Add(ref pj, 3) = a11;
                    Unsafe.Add(ref pj, 4) = a20; Unsafe.Add(ref pj, 5) = a21;
                    Unsafe.Add(ref pj, 6) = a30; Unsafe.Add(ref pj, 7) = a31;
                }
                ref TV yj = ref Unsafe.Add(ref y, j * Lanes);
                Unsafe.Add(ref yj, 0) = a00; Unsafe.Add(ref yj, 1) = a01;
                Unsafe.Add(ref yj, 2) = a10; Unsafe.Add(ref yj, 3) = a11;
                Unsafe.Add(ref yj, 4) = a20; Unsafe.Add(ref yj, 5) = a21;
                Unsafe.Add(ref yj, 6) = a30; Unsafe.Add(ref yj, 7) = a31;
            }
        }
        if (TShape.Out % 4 != 0)
        {
            for (; j < TShape.Out; j++)
            {
                TV a0 = Simd.Splat<T, TV>(Unsafe.Add(ref b, j)), a1 = a0;
                ref T wi = ref Unsafe.Add(ref w, j);
                ref TV ui = ref u;
                for (int i = 0; i < TShape.In; i++)
                {
                    TV wv = Simd.Splat<T, TV>(wi);
                    a0 = Kernel.Mac(wv, ui, a0); a1 = Kernel.Mac(wv, Unsafe.Add(ref ui, 1), a1);
                    wi = ref Unsafe.Add(ref wi, TShape.Out);
                    ui = ref Unsafe.Add(ref ui, Lanes);
                }
                if (TAct.NeedsPreActivation) { Unsafe.Add(ref pre, j * Lanes) = a0; Unsafe.Add(ref pre, j * Lanes + 1) = a1; }
                Unsafe.Add(ref y, j * Lanes) = a0; Unsafe.Add(ref y, j * Lanes + 1) = a1;
            }
        }
        // the activation, in one loop: one inlined copy of it rather than one per register of the blocks above (the JIT's
        // inlining budget of this method is then enough for every multiply-add)
        if (typeof(TAct) != typeof(Identity))
        {
            for (int r = 0; r < TShape.Out * Lanes; r++) Unsafe.Add(ref y, r) = TAct.Apply(Unsafe.Add(ref y, r));
        }
    }

    // Single-sample forward: lanes are outputs, so the vector is the widest one that Out fills (each output is its own
    // chain of multiply-adds over the inputs, whatever the width).
    private static void ForwardSingle<T, TShape, TAct>(ref T w, ref T u, ref T y, ref T pre)
        where T : unmanaged where TShape : struct, IDenseShape where TAct : struct, IActivation
    {
        if (Vector512.IsHardwareAccelerated && TShape.Out >= Vector512<T>.Count) ForwardSingle<T, Simd512<T>, TShape, TAct>(ref w, ref u, ref y, ref pre);
        else if (Vector256.IsHardwareAccelerated && TShape.Out >= Vector256<T>.Count) ForwardSingle<T, Simd256<T>, TShape, TAct>(ref w, ref u, ref y, ref pre);
        else ForwardSingle<T, Simd128<T>, TShape, TAct>(ref w, ref u, ref y, ref pre);
    }

    // Single-sample forward: lanes are outputs. Four vectors of outputs at a time, then one vector, then a scalar tail.
    private static void ForwardSingle<T, TV, TShape, TAct>(ref T w, ref T u, ref T y, ref T pre)
        where T : unmanaged where TV : unmanaged, ISimd<TV> where TShape : struct, IDenseShape where TAct : struct, IActivation
    {
        ref T b = ref Unsafe.Add(ref w, TShape.In * TShape.Out);
        int n = TV.Count;
        int j = 0;
        for (; j <= TShape.Out - 4 * n; j += 4 * n)
        {
            TV a0 = Simd.Load<T, TV>(ref b, (nuint)j), a1 = Simd.Load<T, TV>(ref b, (nuint)(j + n)), a2 = Simd.Load<T, TV>(ref b, (nuint)(j + 2 * n)), a3 = Simd.Load<T, TV>(ref b, (nuint)(j + 3 * n));
            ref T wi = ref Unsafe.Add(ref w, j);
            for (int i = 0; i < TShape.In; i++)
            {
                TV ui = Simd.Splat<T, TV>(Unsafe.Add(ref u, i));
                a0 = Kernel.Mac(Simd.Load<T, TV>(ref wi, 0), ui, a0);
                a1 = Kernel.Mac(Simd.Load<T, TV>(ref wi, (nuint)n), ui, a1);
                a2 = Kernel.Mac(Simd.Load<T, TV>(ref wi, (nuint)(2 * n)), ui, a2);
                a3 = Kernel.Mac(Simd.Load<T, TV>(ref wi, (nuint)(3 * n)), ui, a3);
                wi = ref Unsafe.Add(ref wi, TShape.Out);
            }
            if (TAct.NeedsPreActivation)
            {
                Simd.Store(a0, ref pre, (nuint)j); Simd.Store(a1, ref pre, (nuint)(j + n)); Simd.Store(a2, ref pre, (nuint)(j + 2 * n)); Simd.Store(a3, ref pre, (nuint)(j + 3 * n));
            }
            Simd.Store(a0, ref y, (nuint)j);
            Simd.Store(a1, ref y, (nuint)(j + n));
            Simd.Store(a2, ref y, (nuint)(j + 2 * n));
            Simd.Store(a3, ref y, (nuint)(j + 3 * n));
        }
        for (; j <= TShape.Out - n; j += n)
        {
            TV a0 = Simd.Load<T, TV>(ref b, (nuint)j);
            ref T wi = ref Unsafe.Add(ref w, j);
            for (int i = 0; i < TShape.In; i++)
            {
                a0 = Kernel.Mac(Simd.Load<T, TV>(ref wi, 0), Simd.Splat<T, TV>(Unsafe.Add(ref u, i)), a0);
                wi = ref Unsafe.Add(ref wi, TShape.Out);
            }
            if (TAct.NeedsPreActivation) Simd.Store(a0, ref pre, (nuint)j);
            Simd.Store(a0, ref y, (nuint)j);
        }
        for (; j < TShape.Out; j++)
        {
            T a0 = Unsafe.Add(ref b, j);
            ref T wi = ref Unsafe.Add(ref w, j);
            for (int i = 0; i < TShape.In; i++)
            {
                a0 = Ops.Mac(wi, Unsafe.Add(ref u, i), a0);
                wi = ref Unsafe.Add(ref wi, TShape.Out);
            }
            if (TAct.NeedsPreActivation) Unsafe.Add(ref pre, j) = a0;
            Unsafe.Add(ref y, j) = a0;
        }
        // the activation, in one loop (one inlined copy: see ForwardTile), vectors then a scalar tail
        if (typeof(TAct) != typeof(Identity))
        {
            int k = 0;
            for (; k <= TShape.Out - n; k += n) Simd.Store(TAct.Apply(Simd.Load<T, TV>(ref y, (nuint)k)), ref y, (nuint)k);
            for (; k < TShape.Out; k++) Unsafe.Add(ref y, k) = Ops.Apply<T, TAct>(Unsafe.Add(ref y, k));
        }
    }
}
