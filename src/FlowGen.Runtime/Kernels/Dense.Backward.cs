using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace FlowGen.Kernels;

public static partial class Dense
{
    /// <summary>
    /// Backward on a tile: turns <paramref name="gy"/> (∂L/∂y) into ∂L/∂pre in place, adds ∂W and ∂b to <paramref name="gw"/>
    /// and writes ∂L/∂u to <paramref name="gu"/>.
    /// </summary>
    /// <remarks>
    /// Steps: (1) through the activation (skipped for <see cref="Identity"/>); (2) a sample-major copy of the gradient
    /// (<see cref="Kernel.Transpose(ref float, int, int, ref float)"/>) so that (3) ∂W[i, j] += Σ_q u_i[q]·g_j[q] and
    /// ∂b[j] += Σ_q g_j[q] are accumulated with vectors across outputs j, four inputs × two vectors of outputs in registers
    /// over the tile's samples, each ∂W[i, j] receiving its multiply-adds in sample order; (4) ∂u_i = Σ_j W[i, j]·g_j with
    /// one sample per lane, four inputs at a time.
    /// </remarks>
    /// <param name="w">W (input-major [In, Out]) followed by the bias [Out].</param>
    /// <param name="gw">Gradient of the parameters at the same layout; ∂W and ∂b are added to it.</param>
    /// <param name="u">Input rows of the forward pass (In rows of <see cref="Lanes"/> vectors).</param>
    /// <param name="y">Output rows of the forward pass (Out rows): read by activations that do not need the pre-activation.</param>
    /// <param name="pre">Pre-activation rows (Out rows), read only when <c>TAct.NeedsPreActivation</c>.</param>
    /// <param name="gy">∂L/∂y (Out rows); overwritten with ∂L/∂pre.</param>
    /// <param name="gu">Destination of ∂L/∂u (In rows).</param>
    /// <param name="transpose">Scratch of Out rows.</param>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Backward<TShape, TAct, TV>(ref float w, ref float gw, ref TV u, ref TV y, ref TV pre, ref TV gy, ref TV gu, ref TV transpose)
        where TShape : struct, IDenseShape where TAct : struct, IActivation where TV : unmanaged, ISimd<TV> =>
        BackwardTile<float, TV, TShape, TAct>(ref w, ref gw, ref u, ref y, ref pre, ref gy, ref gu, ref transpose);

    /// <inheritdoc cref="Backward{TShape, TAct, TV}(ref float, ref float, ref TV, ref TV, ref TV, ref TV, ref TV, ref TV)"/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Backward<TShape, TAct, TV>(ref double w, ref double gw, ref TV u, ref TV y, ref TV pre, ref TV gy, ref TV gu, ref TV transpose)
        where TShape : struct, IDenseShape where TAct : struct, IActivation where TV : unmanaged, ISimd<TV> =>
        BackwardTile<double, TV, TShape, TAct>(ref w, ref gw, ref u, ref y, ref pre, ref gy, ref gu, ref transpose);

    private static void BackwardTile<T, TV, TShape, TAct>(ref T w, ref T gw, ref TV u, ref TV y, ref TV pre, ref TV gy, ref TV gu, ref TV tt)
        where T : unmanaged where TV : unmanaged, ISimd<TV> where TShape : struct, IDenseShape where TAct : struct, IActivation
    {
        int n = TV.Count, width = Lanes * n;
        // (1) through the activation; without a stored pre-activation the gradient gets the output row in its place
        if (typeof(TAct) != typeof(Identity))
        {
            for (int j = 0; j < TShape.Out * Lanes; j++)
                Unsafe.Add(ref gy, j) = TAct.Gradient(Unsafe.Add(ref gy, j), Unsafe.Add(ref y, j), TAct.NeedsPreActivation ? Unsafe.Add(ref pre, j) : Unsafe.Add(ref y, j));
        }
        // (2) sample-major copy: ts[sample·out + j] = gy[j][sample]
        ref T ts = ref Unsafe.As<TV, T>(ref tt);
        ref T gs = ref Unsafe.As<TV, T>(ref gy);
        Ops.Transpose(ref gs, TShape.Out, width, ref ts);
        // (3) ∂W[i, j] += Σ_q u_i[q]·g_j[q] and ∂b[j] += Σ_q g_j[q], vectorised over the outputs j with the widest vector
        // that Out fills (each ∂W[i, j] is its own chain of multiply-adds in sample order, so the width does not change it)
        ref T us = ref Unsafe.As<TV, T>(ref u);
        if (Vector512.IsHardwareAccelerated && TShape.Out >= Vector512<T>.Count) AccumulateParameterGradients<T, Simd512<T>, TShape>(ref gw, ref us, ref ts, width);
        else if (Vector256.IsHardwareAccelerated && TShape.Out >= Vector256<T>.Count) AccumulateParameterGradients<T, Simd256<T>, TShape>(ref gw, ref us, ref ts, width);
        else AccumulateParameterGradients<T, Simd128<T>, TShape>(ref gw, ref us, ref ts, width);

        // (4) ∂u_i = Σ_j W[i, j]·g_j for every sample, four inputs at a time
        int i0 = 0;
        if (TShape.In >= 4)
        {
            for (; i0 <= TShape.In - 4; i0 += 4)
            {
                TV a00 = TV.Zero, a01 = TV.Zero, a10 = TV.Zero, a11 = TV.Zero, a20 = TV.Zero, a21 = TV.Zero, a30 = TV.Zero, a31 = TV.Zero;
                ref T wr = ref Unsafe.Add(ref w, i0 * TShape.Out);
                ref TV gj = ref gy;
                for (int j = 0; j < TShape.Out; j++)
                {
                    TV g0 = gj, g1 = Unsafe.Add(ref gj, 1);
                    TV w0 = Simd.Splat<T, TV>(Unsafe.Add(ref wr, j)), w1 = Simd.Splat<T, TV>(Unsafe.Add(ref wr, TShape.Out + j)), w2 = Simd.Splat<T, TV>(Unsafe.Add(ref wr, 2 * TShape.Out + j)), w3 = Simd.Splat<T, TV>(Unsafe.Add(ref wr, 3 * TShape.Out + j));
                    a00 = Kernel.Mac(w0, g0, a00); a01 = Kernel.Mac(w0, g1, a01);
                    a10 = Kernel.Mac(w1, g0, a10); a11 = Kernel.Mac(w1, g1, a11);
                    a20 = Kernel.Mac(w2, g0, a20); a21 = Kernel.Mac(w2, g1, a21);
                    a30 = Kernel.Mac(w3, g0, a30); a31 = Kernel.Mac(w3, g1, a31);
                    gj = ref Unsafe.Add(ref gj, Lanes);
                }
                ref TV gi = ref Unsafe.Add(ref gu, i0 * Lanes);
                gi = a00; Unsafe.Add(ref gi, 1) = a01; Unsafe.Add(ref gi, 2) = a10; Unsafe.Add(ref gi, 3) = a11;
                Unsafe.Add(ref gi, 4) = a20; Unsafe.Add(ref gi, 5) = a21; Unsafe.Add(ref gi, 6) = a30; Unsafe.Add(ref gi, 7) = a31;
            }
        }
        if (TShape.In % 4 != 0)
        {
            for (; i0 < TShape.In; i0++)
            {
                TV a0 = TV.Zero, a1 = TV.Zero;
                ref T wr = ref Unsafe.Add(ref w, i0 * TShape.Out);
                ref TV gj = ref gy;
                for (int j = 0; j < TShape.Out; j++)
                {
                    TV wv = Simd.Splat<T, TV>(Unsafe.Add(ref wr, j));
                    a0 = Kernel.Mac(wv, gj, a0); a1 = Kernel.Mac(wv, Unsafe.Add(ref gj, 1), a1);
                    gj = ref Unsafe.Add(ref gj, Lanes);
                }
                Unsafe.Add(ref gu, i0 * Lanes) = a0; Unsafe.Add(ref gu, i0 * Lanes + 1) = a1;
            }
        }
    }

    // Step (3) of BackwardTile with vectors TJ across the outputs j: four inputs × two vectors of outputs in registers over
    // the tile's samples, each ∂W[i, j] receiving its multiply-adds in sample order; then the bias row.
    private static void AccumulateParameterGradients<T, TJ, TShape>(ref T gw, ref T us, ref T ts, int width)
        where T : unmanaged where TJ : unmanaged, ISimd<TJ> where TShape : struct, IDenseShape
    {
        int n = TJ.Count;
        int i = 0;
        if (TShape.In >= 4)
        {
            for (; i <= TShape.In - 4; i += 4)
            {
                ref T u0 = ref Unsafe.Add(ref us, i * width), u1 = ref Unsafe.Add(ref u0, width), u2 = ref Unsafe.Add(ref u0, 2 * width), u3 = ref Unsafe.Add(ref u0, 3 * width);
                ref T g0 = ref Unsafe.Add(ref gw, i * TShape.Out), g1 = ref Unsafe.Add(ref g0, TShape.Out), g2 = ref Unsafe.Add(ref g0, 2 * TShape.Out), g3 = ref Unsafe.Add(ref g0, 3 * TShape.Out);
                int j = 0;
                for (; j <= TShape.Out - 2 * n; j += 2 * n)
                {
                    TJ a00 = Simd.Load<T, TJ>(ref g0, (nuint)j), a01 = Simd.Load<T, TJ>(ref g0, (nuint)(j + n));
                    TJ a10 = Simd.Load<T, TJ>(ref g1, (nuint)j), a11 = Simd.Load<T, TJ>(ref g1, (nuint)(j + n));
                    TJ a20 = Simd.Load<T, TJ>(ref g2, (nuint)j), a21 = Simd.Load<T, TJ>(ref g2, (nuint)(j + n));
                    TJ a30 = Simd.Load<T, TJ>(ref g3, (nuint)j), a31 = Simd.Load<T, TJ>(ref g3, (nuint)(j + n));
                    ref T tq = ref Unsafe.Add(ref ts, j);
                    for (int q = 0; q < width; q++)
                    {
                        TJ t0 = Simd.Load<T, TJ>(ref tq, 0), t1 = Simd.Load<T, TJ>(ref tq, (nuint)n);
                        TJ b = Simd.Splat<T, TJ>(Unsafe.Add(ref u0, q)); a00 = Kernel.Mac(b, t0, a00); a01 = Kernel.Mac(b, t1, a01);
                        b = Simd.Splat<T, TJ>(Unsafe.Add(ref u1, q)); a10 = Kernel.Mac(b, t0, a10); a11 = Kernel.Mac(b, t1, a11);
                        b = Simd.Splat<T, TJ>(Unsafe.Add(ref u2, q)); a20 = Kernel.Mac(b, t0, a20); a21 = Kernel.Mac(b, t1, a21);
                        b = Simd.Splat<T, TJ>(Unsafe.Add(ref u3, q)); a30 = Kernel.Mac(b, t0, a30); a31 = Kernel.Mac(b, t1, a31);
                        tq = ref Unsafe.Add(ref tq, TShape.Out);
                    }
                    Simd.Store(a00, ref g0, (nuint)j); Simd.Store(a01, ref g0, (nuint)(j + n));
                    Simd.Store(a10, ref g1, (nuint)j); Simd.Store(a11, ref g1, (nuint)(j + n));
                    Simd.Store(a20, ref g2, (nuint)j); Simd.Store(a21, ref g2, (nuint)(j + n));
                    Simd.Store(a30, ref g3, (nuint)j); Simd.Store(a31, ref g3, (nuint)(j + n));
                }
                for (; j <= TShape.Out - n; j += n)
                {
                    TJ a0 = Simd.Load<T, TJ>(ref g0, (nuint)j), a1 = Simd.Load<T, TJ>(ref g1, (nuint)j), a2 = Simd.Load<T, TJ>(ref g2, (nuint)j), a3 = Simd.Load<T, TJ>(ref g3, (nuint)j);
                    ref T tq = ref Unsafe.Add(ref ts, j);
                    for (int q = 0; q < width; q++)
                    {
                        TJ t0 = Simd.Load<T, TJ>(ref tq, 0);
                        a0 = Kernel.Mac(Simd.Splat<T, TJ>(Unsafe.Add(ref u0, q)), t0, a0); a1 = Kernel.Mac(Simd.Splat<T, TJ>(Unsafe.Add(ref u1, q)), t0, a1);
                        a2 = Kernel.Mac(Simd.Splat<T, TJ>(Unsafe.Add(ref u2, q)), t0, a2); a3 = Kernel.Mac(Simd.Splat<T, TJ>(Unsafe.Add(ref u3, q)), t0, a3);
                        tq = ref Unsafe.Add(ref tq, TShape.Out);
                    }
                    Simd.Store(a0, ref g0, (nuint)j); Simd.Store(a1, ref g1, (nuint)j); Simd.Store(a2, ref g2, (nuint)j); Simd.Store(a3, ref g3, (nuint)j);
                }
                for (; j < TShape.Out; j++)
                {
                    T a0 = Unsafe.Add(ref g0, j), a1 = Unsafe.Add(ref g1, j), a2 = Unsafe.Add(ref g2, j), a3 = Unsafe.Add(ref g3, j);
                    for (int q = 0; q < width; q++)
                    {
                        T t0 = Unsafe.Add(ref ts, q * TShape.Out + j);
                        a0 = Ops.Mac(Unsafe.Add(ref u0, q), t0, a0); a1 = Ops.Mac(Unsafe.Add(ref u1, q), t0, a1);
                        a2 = Ops.Mac(Unsafe.Add(ref u2, q), t0, a2); a3 = Ops.Mac(Unsafe.Add(ref u3, q), t0, a3);
                    }
                    Unsafe.Add(ref g0, j) = a0; Unsafe.Add(ref g1, j) = a1; Unsafe.Add(ref g2, j) = a2; Unsafe.Add(ref g3, j) = a3;
                }
            }
        }
        if (TShape.In % 4 != 0)
        {
            for (; i < TShape.In; i++)
            {
                ref T gwi = ref Unsafe.Add(ref gw, i * TShape.Out);
                ref T ui = ref Unsafe.Add(ref us, i * width);
                int j = 0;
                for (; j <= TShape.Out - n; j += n)
                {
                    TJ a0 = Simd.Load<T, TJ>(ref gwi, (nuint)j);
                    ref T tq = ref Unsafe.Add(ref ts, j);
                    for (int q = 0; q < width; q++)
                    {
                        a0 = Kernel.Mac(Simd.Splat<T, TJ>(Unsafe.Add(ref ui, q)), Simd.Load<T, TJ>(ref tq, 0), a0);
                        tq = ref Unsafe.Add(ref tq, TShape.Out);
                    }
                    Simd.Store(a0, ref gwi, (nuint)j);
                }
                for (; j < TShape.Out; j++)
                {
                    T a0 = Unsafe.Add(ref gwi, j);
                    for (int q = 0; q < width; q++) a0 = Ops.Mac(Unsafe.Add(ref ui, q), Unsafe.Add(ref ts, q * TShape.Out + j), a0);
                    Unsafe.Add(ref gwi, j) = a0;
                }
            }
        }
        {
            // the bias row (input 1): ∂b[j] += Σ_q 1·g_j[q], as multiply-adds by one like the weights
            ref T gb = ref Unsafe.Add(ref gw, TShape.In * TShape.Out);
            TJ ones = Simd.Splat<T, TJ>(Ops.One<T>());
            int j = 0;
            for (; j <= TShape.Out - 2 * n; j += 2 * n)
            {
                TJ a0 = Simd.Load<T, TJ>(ref gb, (nuint)j), a1 = Simd.Load<T, TJ>(ref gb, (nuint)(j + n));
                ref T tq = ref Unsafe.Add(ref ts, j);
                for (int q = 0; q < width; q++)
                {
                    a0 = Kernel.Mac(ones, Simd.Load<T, TJ>(ref tq, 0), a0); a1 = Kernel.Mac(ones, Simd.Load<T, TJ>(ref tq, (nuint)n), a1);
                    tq = ref Unsafe.Add(ref tq, TShape.Out);
                }
                Simd.Store(a0, ref gb, (nuint)j); Simd.Store(a1, ref gb, (nuint)(j + n));
            }
            for (; j <= TShape.Out - n; j += n)
            {
                TJ a0 = Simd.Load<T, TJ>(ref gb, (nuint)j);
                ref T tq = ref Unsafe.Add(ref ts, j);
                for (int q = 0; q < width; q++)
                {
                    a0 = Kernel.Mac(ones, Simd.Load<T, TJ>(ref tq, 0), a0);
                    tq = ref Unsafe.Add(ref tq, TShape.Out);
                }
                Simd.Store(a0, ref gb, (nuint)j);
            }
            for (; j < TShape.Out; j++)
            {
                T a0 = Unsafe.Add(ref gb, j);
                for (int q = 0; q < width; q++) a0 = Ops.Mac(Ops.One<T>(), Unsafe.Add(ref ts, q * TShape.Out + j), a0);
                Unsafe.Add(ref gb, j) = a0;
            }
        }

    }
}
