using System.Numerics;
using System.Runtime.CompilerServices;

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
    public static void Backward<TShape, TAct>(ref float w, ref float gw, ref Vector<float> u, ref Vector<float> y, ref Vector<float> pre, ref Vector<float> gy, ref Vector<float> gu, ref Vector<float> transpose)
        where TShape : struct, IDenseShape where TAct : struct, IActivation =>
        BackwardTile<float, TShape, TAct>(ref w, ref gw, ref u, ref y, ref pre, ref gy, ref gu, ref transpose);

    /// <inheritdoc cref="Backward{TShape, TAct}(ref float, ref float, ref Vector{float}, ref Vector{float}, ref Vector{float}, ref Vector{float}, ref Vector{float}, ref Vector{float})"/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Backward<TShape, TAct>(ref double w, ref double gw, ref Vector<double> u, ref Vector<double> y, ref Vector<double> pre, ref Vector<double> gy, ref Vector<double> gu, ref Vector<double> transpose)
        where TShape : struct, IDenseShape where TAct : struct, IActivation =>
        BackwardTile<double, TShape, TAct>(ref w, ref gw, ref u, ref y, ref pre, ref gy, ref gu, ref transpose);

    private static void BackwardTile<T, TShape, TAct>(ref T w, ref T gw, ref Vector<T> u, ref Vector<T> y, ref Vector<T> pre, ref Vector<T> gy, ref Vector<T> gu, ref Vector<T> tt)
        where T : unmanaged where TShape : struct, IDenseShape where TAct : struct, IActivation
    {
        int n = Vector<T>.Count, width = Lanes * n;
        // (1) through the activation; without a stored pre-activation the gradient gets the output row in its place
        if (typeof(TAct) != typeof(Identity))
        {
            for (int j = 0; j < TShape.Out * Lanes; j++)
                Unsafe.Add(ref gy, j) = Ops.Gradient<T, TAct>(Unsafe.Add(ref gy, j), Unsafe.Add(ref y, j), TAct.NeedsPreActivation ? Unsafe.Add(ref pre, j) : Unsafe.Add(ref y, j));
        }
        // (2) sample-major copy: ts[sample·out + j] = gy[j][sample]
        ref T ts = ref Unsafe.As<Vector<T>, T>(ref tt);
        ref T gs = ref Unsafe.As<Vector<T>, T>(ref gy);
        Ops.Transpose(ref gs, TShape.Out, width, ref ts);
        // (3) ∂W[i, j] += Σ_q u_i[q]·g_j[q], vectorised over j, four inputs at a time; then ∂b[j] += Σ_q g_j[q]
        ref T us = ref Unsafe.As<Vector<T>, T>(ref u);
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
                    Vector<T> a00 = Vector.LoadUnsafe(ref g0, (nuint)j), a01 = Vector.LoadUnsafe(ref g0, (nuint)(j + n));
                    Vector<T> a10 = Vector.LoadUnsafe(ref g1, (nuint)j), a11 = Vector.LoadUnsafe(ref g1, (nuint)(j + n));
                    Vector<T> a20 = Vector.LoadUnsafe(ref g2, (nuint)j), a21 = Vector.LoadUnsafe(ref g2, (nuint)(j + n));
                    Vector<T> a30 = Vector.LoadUnsafe(ref g3, (nuint)j), a31 = Vector.LoadUnsafe(ref g3, (nuint)(j + n));
                    ref T tq = ref Unsafe.Add(ref ts, j);
                    for (int q = 0; q < width; q++)
                    {
                        Vector<T> t0 = Vector.LoadUnsafe(ref tq), t1 = Vector.LoadUnsafe(ref tq, (nuint)n);
                        Vector<T> b = new Vector<T>(Unsafe.Add(ref u0, q)); a00 = Ops.Mac(b, t0, a00); a01 = Ops.Mac(b, t1, a01);
                        b = new Vector<T>(Unsafe.Add(ref u1, q)); a10 = Ops.Mac(b, t0, a10); a11 = Ops.Mac(b, t1, a11);
                        b = new Vector<T>(Unsafe.Add(ref u2, q)); a20 = Ops.Mac(b, t0, a20); a21 = Ops.Mac(b, t1, a21);
                        b = new Vector<T>(Unsafe.Add(ref u3, q)); a30 = Ops.Mac(b, t0, a30); a31 = Ops.Mac(b, t1, a31);
                        tq = ref Unsafe.Add(ref tq, TShape.Out);
                    }
                    a00.StoreUnsafe(ref g0, (nuint)j); a01.StoreUnsafe(ref g0, (nuint)(j + n));
                    a10.StoreUnsafe(ref g1, (nuint)j); a11.StoreUnsafe(ref g1, (nuint)(j + n));
                    a20.StoreUnsafe(ref g2, (nuint)j); a21.StoreUnsafe(ref g2, (nuint)(j + n));
                    a30.StoreUnsafe(ref g3, (nuint)j); a31.StoreUnsafe(ref g3, (nuint)(j + n));
                }
                for (; j <= TShape.Out - n; j += n)
                {
                    Vector<T> a0 = Vector.LoadUnsafe(ref g0, (nuint)j), a1 = Vector.LoadUnsafe(ref g1, (nuint)j), a2 = Vector.LoadUnsafe(ref g2, (nuint)j), a3 = Vector.LoadUnsafe(ref g3, (nuint)j);
                    ref T tq = ref Unsafe.Add(ref ts, j);
                    for (int q = 0; q < width; q++)
                    {
                        Vector<T> t0 = Vector.LoadUnsafe(ref tq);
                        a0 = Ops.Mac(new Vector<T>(Unsafe.Add(ref u0, q)), t0, a0); a1 = Ops.Mac(new Vector<T>(Unsafe.Add(ref u1, q)), t0, a1);
                        a2 = Ops.Mac(new Vector<T>(Unsafe.Add(ref u2, q)), t0, a2); a3 = Ops.Mac(new Vector<T>(Unsafe.Add(ref u3, q)), t0, a3);
                        tq = ref Unsafe.Add(ref tq, TShape.Out);
                    }
                    a0.StoreUnsafe(ref g0, (nuint)j); a1.StoreUnsafe(ref g1, (nuint)j); a2.StoreUnsafe(ref g2, (nuint)j); a3.StoreUnsafe(ref g3, (nuint)j);
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
                    Vector<T> a0 = Vector.LoadUnsafe(ref gwi, (nuint)j);
                    ref T tq = ref Unsafe.Add(ref ts, j);
                    for (int q = 0; q < width; q++)
                    {
                        a0 = Ops.Mac(new Vector<T>(Unsafe.Add(ref ui, q)), Vector.LoadUnsafe(ref tq), a0);
                        tq = ref Unsafe.Add(ref tq, TShape.Out);
                    }
                    a0.StoreUnsafe(ref gwi, (nuint)j);
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
            Vector<T> ones = new Vector<T>(Ops.One<T>());
            int j = 0;
            for (; j <= TShape.Out - 2 * n; j += 2 * n)
            {
                Vector<T> a0 = Vector.LoadUnsafe(ref gb, (nuint)j), a1 = Vector.LoadUnsafe(ref gb, (nuint)(j + n));
                ref T tq = ref Unsafe.Add(ref ts, j);
                for (int q = 0; q < width; q++)
                {
                    a0 = Ops.Mac(ones, Vector.LoadUnsafe(ref tq), a0); a1 = Ops.Mac(ones, Vector.LoadUnsafe(ref tq, (nuint)n), a1);
                    tq = ref Unsafe.Add(ref tq, TShape.Out);
                }
                a0.StoreUnsafe(ref gb, (nuint)j); a1.StoreUnsafe(ref gb, (nuint)(j + n));
            }
            for (; j <= TShape.Out - n; j += n)
            {
                Vector<T> a0 = Vector.LoadUnsafe(ref gb, (nuint)j);
                ref T tq = ref Unsafe.Add(ref ts, j);
                for (int q = 0; q < width; q++)
                {
                    a0 = Ops.Mac(ones, Vector.LoadUnsafe(ref tq), a0);
                    tq = ref Unsafe.Add(ref tq, TShape.Out);
                }
                a0.StoreUnsafe(ref gb, (nuint)j);
            }
            for (; j < TShape.Out; j++)
            {
                T a0 = Unsafe.Add(ref gb, j);
                for (int q = 0; q < width; q++) a0 = Ops.Mac(Ops.One<T>(), Unsafe.Add(ref ts, q * TShape.Out + j), a0);
                Unsafe.Add(ref gb, j) = a0;
            }
        }

        // (4) ∂u_i = Σ_j W[i, j]·g_j for every sample, four inputs at a time
        int i0 = 0;
        if (TShape.In >= 4)
        {
            for (; i0 <= TShape.In - 4; i0 += 4)
            {
                Vector<T> a00 = Vector<T>.Zero, a01 = Vector<T>.Zero, a10 = Vector<T>.Zero, a11 = Vector<T>.Zero, a20 = Vector<T>.Zero, a21 = Vector<T>.Zero, a30 = Vector<T>.Zero, a31 = Vector<T>.Zero;
                ref T wr = ref Unsafe.Add(ref w, i0 * TShape.Out);
                ref Vector<T> gj = ref gy;
                for (int j = 0; j < TShape.Out; j++)
                {
                    Vector<T> g0 = gj, g1 = Unsafe.Add(ref gj, 1);
                    Vector<T> w0 = new Vector<T>(Unsafe.Add(ref wr, j)), w1 = new Vector<T>(Unsafe.Add(ref wr, TShape.Out + j)), w2 = new Vector<T>(Unsafe.Add(ref wr, 2 * TShape.Out + j)), w3 = new Vector<T>(Unsafe.Add(ref wr, 3 * TShape.Out + j));
                    a00 = Ops.Mac(w0, g0, a00); a01 = Ops.Mac(w0, g1, a01);
                    a10 = Ops.Mac(w1, g0, a10); a11 = Ops.Mac(w1, g1, a11);
                    a20 = Ops.Mac(w2, g0, a20); a21 = Ops.Mac(w2, g1, a21);
                    a30 = Ops.Mac(w3, g0, a30); a31 = Ops.Mac(w3, g1, a31);
                    gj = ref Unsafe.Add(ref gj, Lanes);
                }
                ref Vector<T> gi = ref Unsafe.Add(ref gu, i0 * Lanes);
                gi = a00; Unsafe.Add(ref gi, 1) = a01; Unsafe.Add(ref gi, 2) = a10; Unsafe.Add(ref gi, 3) = a11;
                Unsafe.Add(ref gi, 4) = a20; Unsafe.Add(ref gi, 5) = a21; Unsafe.Add(ref gi, 6) = a30; Unsafe.Add(ref gi, 7) = a31;
            }
        }
        if (TShape.In % 4 != 0)
        {
            for (; i0 < TShape.In; i0++)
            {
                Vector<T> a0 = Vector<T>.Zero, a1 = Vector<T>.Zero;
                ref T wr = ref Unsafe.Add(ref w, i0 * TShape.Out);
                ref Vector<T> gj = ref gy;
                for (int j = 0; j < TShape.Out; j++)
                {
                    Vector<T> wv = new Vector<T>(Unsafe.Add(ref wr, j));
                    a0 = Ops.Mac(wv, gj, a0); a1 = Ops.Mac(wv, Unsafe.Add(ref gj, 1), a1);
                    gj = ref Unsafe.Add(ref gj, Lanes);
                }
                Unsafe.Add(ref gu, i0 * Lanes) = a0; Unsafe.Add(ref gu, i0 * Lanes + 1) = a1;
            }
        }
    }
}
