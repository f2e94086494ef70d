using System;
using System.ComponentModel;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace FlowGen.Kernels;

/// <summary>
/// What a generated model provides to <see cref="FlowDriver{T, TFlow}"/>: its sizes and the layer sequence of each pass, as
/// static members of a value type, so the JIT specialises the driver for the model (every call direct, every size a
/// constant). For generated code; not meant to be implemented by hand.
/// </summary>
/// <typeparam name="T"><see cref="float"/> or <see cref="double"/>.</typeparam>
[EditorBrowsable(EditorBrowsableState.Never)]
public interface IFlowKernels<T> where T : unmanaged
{
    /// <summary>Coordinates of a data point.</summary>
    static abstract int Dim { get; }

    /// <summary>Length of the context vector (0: unconditional).</summary>
    static abstract int ContextDim { get; }

    /// <summary>Number of parameters.</summary>
    static abstract int ParameterCount { get; }

    /// <summary>Rows of the largest layer's slot (the inference passes share one slot).</summary>
    static abstract int MaxSlotRows { get; }

    /// <summary>Rows of every layer's own slot together (the training passes keep each layer's saved values).</summary>
    static abstract int TotalSlotRows { get; }

    /// <summary>Rows of the largest layer's backward scratch.</summary>
    static abstract int MaxBackRows { get; }

    /// <summary>(Dim/2)·log 2π in T, the normaliser of the standard-normal base.</summary>
    static abstract T HalfLogTwoPiTimesDim { get; }

    /// <summary>The physical row of each latent coordinate after the last layer (permutations rename rows).</summary>
    static abstract ReadOnlySpan<int> FinalRows { get; }

    /// <summary>Every layer forward on a tile (rows of Lanes vectors; s is the shared slot).</summary>
    static abstract void ForwardTile<TV>(ref T p, ref TV x, ref TV c, ref TV s, ref TV ld) where TV : unmanaged, ISimd<TV>;

    /// <summary>Every layer inverse on a tile, last layer first.</summary>
    static abstract void InverseTile<TV>(ref T p, ref TV x, ref TV c, ref TV s, ref TV ld) where TV : unmanaged, ISimd<TV>;

    /// <summary>Every layer forward on one sample.</summary>
    static abstract void ForwardOne(ref T p, ref T x, ref T c, ref T s, ref T ld);

    /// <summary>Every layer inverse on one sample, last layer first.</summary>
    static abstract void InverseOne(ref T p, ref T x, ref T c, ref T s, ref T ld);

    /// <summary>Every layer forward on a tile, each saving what its backward pass needs in its own slot (slots holds them all).</summary>
    static abstract void ForwardTrain<TV>(ref T p, ref TV x, ref TV c, ref TV slots, ref TV ld) where TV : unmanaged, ISimd<TV>;

    /// <summary>Every layer's backward pass through the forward map, last layer first.</summary>
    static abstract void ForwardBackward<TV>(ref T p, ref T gp, ref TV c, ref TV slots, ref TV g, ref TV gl, ref TV gc, ref TV t) where TV : unmanaged, ISimd<TV>;

    /// <summary>Every layer inverse on a tile, last layer first, each saving what its backward pass needs.</summary>
    static abstract void InverseTrain<TV>(ref T p, ref TV x, ref TV c, ref TV slots, ref TV ld) where TV : unmanaged, ISimd<TV>;

    /// <summary>Every layer's backward pass through the inverse map, first layer first.</summary>
    static abstract void InverseBackward<TV>(ref T p, ref T gp, ref TV c, ref TV slots, ref TV g, ref TV gl, ref TV gc, ref TV t) where TV : unmanaged, ISimd<TV>;

    /// <summary>True when the model has data-dependent layers (ActNorm).</summary>
    static abstract bool HasDataInitialization { get; }

    /// <summary>Data-dependent initialisation over n rows (contexts: n rows); does nothing without data-dependent layers.</summary>
    static abstract void InitializeFromData(T[] parameters, ReadOnlySpan<T> xs, ReadOnlySpan<T> contexts, int n);

    // ---- the base distribution p_Z (docs/model.md §11). A model without a base attribute keeps every default below: its base is
    // the standard normal, which the driver applies itself (−½‖z‖² − HalfLogTwoPiTimesDim). A model with another base declares
    // HasStandardNormalBase false and implements the members below; z is read from the rows FinalRows names.

    /// <summary>True (the default) when the base is the standard normal, applied by the driver; false when the members below are the model's.</summary>
    static virtual bool HasStandardNormalBase => true;

    /// <summary>Number of mixture components K of a mixture base; 0 for every other base.</summary>
    static virtual int BaseComponents => 0;

    /// <summary>log p_Z(z) on a tile: logDensity[k] (Lanes vectors) for z_i = x[FinalRows[i]·Lanes + k]. p: the whole parameter vector.</summary>
    static virtual void BaseLogDensityTile<TV>(ref T p, ref TV x, ref TV logDensity) where TV : unmanaged, ISimd<TV> => throw new NotSupportedException();

    /// <summary>log p_Z(z) of one sample, z_i = x[FinalRows[i]] (the same operations as the tile, bit for bit).</summary>
    static virtual T BaseLogDensityOne(ref T p, ref T x) => throw new NotSupportedException();

    /// <summary>
    /// −log p_Z(z) (component &lt; 0), or −log(w_c·p_c(z)) for mixture component c ≥ 0, of one sample z_i = z[FinalRows[i]·stride];
    /// writes weight·∂/∂z_i to gz at the same positions and adds weight·∂/∂θ of the base's parameters to gp (the whole gradient vector).
    /// </summary>
    static virtual T BaseNllGradientOne(ref T p, ref T gp, ref T z, ref T gz, int stride, T weight, int component) => throw new NotSupportedException();

    /// <summary>Fills zs (row-major [n, Dim], coordinate order) with draws from p_Z (component &lt; 0) or from mixture component c.</summary>
    static virtual void BaseSample(ref T p, Span<T> zs, int component, FlowRandom rng) => throw new NotSupportedException();

    /// <summary>Mixture bases: log(w_c·p_c(z)) for every component c into joints (K values), z_i = x[FinalRows[i]].</summary>
    static virtual void BaseComponentLogJointsOne(ref T p, ref T x, Span<T> joints) => throw new NotSupportedException();

    /// <summary>Mixture bases: log w_c.</summary>
    static virtual T BaseLogWeight(ref T p, int component) => throw new NotSupportedException();
}

/// <summary>
/// The batch and single-sample drivers of every generated flow, written once: they move a row-major batch through SIMD tiles of
/// <see cref="Lanes"/> × TV.Count samples (one sample per lane; TV the widest vector the hardware accelerates), run the model's layer sequence on each tile, send a
/// short remainder through the single-sample path (bit-identical), and for gradients run a tile forward (or inverse) and then
/// back. The standard-normal base (log N(z) = −½‖z‖² − (Dim/2)·log 2π) is applied here. For generated code.
/// </summary>
[EditorBrowsable(EditorBrowsableState.Never)]
[SkipLocalsInit]
public static partial class FlowDriver<T, TFlow> where T : unmanaged, IFloatingPointIeee754<T> where TFlow : struct, IFlowKernels<T>
{
    /// <summary>Vectors per tile row.</summary>
    public const int Lanes = 2;

    private static int Dim => TFlow.Dim;
    private static int ContextDim => TFlow.ContextDim;

    // inference tile rows: the point [0, Dim), log-det Dim, context [Dim + 1, Dim + 1 + C), the shared slot after
    private static int TileRows => Dim + 1 + ContextDim + TFlow.MaxSlotRows;
    private static int SlotRow => Dim + 1 + ContextDim;

    // single-sample scratch: the point, then the shared slot
    private static int SingleScratch => Dim + TFlow.MaxSlotRows;

    // training tile rows: point, log-det, context, ∂point, ∂log-det, ∂context, every layer's slot, backward scratch
    private static int GradRow => Dim + 1 + ContextDim;
    private static int GradLogDetRow => 2 * Dim + 1 + ContextDim;
    private static int GradContextRow => 2 * Dim + 2 + ContextDim;
    private static int SlotsRow => 2 * Dim + 2 + 2 * ContextDim;
    private static int BackRow => SlotsRow + TFlow.TotalSlotRows;
    private static int TrainRows => BackRow + TFlow.MaxBackRows;

    // scratch on the stack when small, else a per-thread buffer (one per model: this class is generic over it)
    private static bool SingleOnStack => (long)SingleScratch * Unsafe.SizeOf<T>() <= 32 * 1024;
    private static bool TileOnStack => (long)TileRows * Lanes * 64 <= 128 * 1024; // 64 bytes: the widest vector

    [ThreadStatic] private static T[]? t_single;
    [ThreadStatic] private static T[]? t_tile;
    [ThreadStatic] private static T[]? t_train;
    [ThreadStatic] private static T[]? t_unusedGradient;

    /// <summary>A gradient span to write into when the caller asked for none (per thread).</summary>
    public static Span<T> UnusedParameterGradient() => t_unusedGradient ??= new T[TFlow.ParameterCount];

    // ------------------------------------------------------------------ single sample

    /// <summary>One sample, data → latent. Returns the log-det, or the log-density when <paramref name="logProb"/> is set.</summary>
    public static T ForwardOne(ref T p, ReadOnlySpan<T> xIn, ReadOnlySpan<T> context, Span<T> zOut, bool logProb)
    {
        Span<T> buffer = SingleOnStack ? stackalloc T[SingleScratch] : t_single ??= new T[SingleScratch];
        xIn.CopyTo(buffer);
        ref T x = ref MemoryMarshal.GetReference(buffer);
        ref T s = ref Unsafe.Add(ref x, Dim);
        ref T c = ref MemoryMarshal.GetReference(context);
        T ld = default;
        TFlow.ForwardOne(ref p, ref x, ref c, ref s, ref ld);
        // outputs carry one NaN, T.NaN, as the batch path's FlowTile.Store does (which NaN an operation returns depends on operand order)
        if (!zOut.IsEmpty)
        {
            ReadOnlySpan<int> rows = TFlow.FinalRows;
            for (int i = 0; i < Dim; i++) zOut[i] = FlowTile.CanonicalNaN(Unsafe.Add(ref x, rows[i]));
        }
        return FlowTile.CanonicalNaN(logProb ? LatentLogDensityOne(ref p, ref x, ld) : ld);
    }

    /// <summary>One sample, latent → data. Returns log|det ∂x/∂z|, or when <paramref name="logProb"/> is set log p(x) = log N(z) − log|det ∂x/∂z|.</summary>
    public static T InverseOne(ref T p, ReadOnlySpan<T> zIn, ReadOnlySpan<T> context, Span<T> xOut, bool logProb)
    {
        Span<T> buffer = SingleOnStack ? stackalloc T[SingleScratch] : t_single ??= new T[SingleScratch];
        ref T x = ref MemoryMarshal.GetReference(buffer);
        ref T s = ref Unsafe.Add(ref x, Dim);
        ref T c = ref MemoryMarshal.GetReference(context);
        ReadOnlySpan<int> rows = TFlow.FinalRows;
        for (int i = 0; i < Dim; i++) Unsafe.Add(ref x, rows[i]) = zIn[i];
        T logNormal = logProb ? LatentLogDensityOne(ref p, ref x, default) : default;
        T ld = default;
        TFlow.InverseOne(ref p, ref x, ref c, ref s, ref ld);
        // outputs carry one NaN, T.NaN, as the batch path's FlowTile.Store does
        if (!xOut.IsEmpty) FlowTile.CopyCanonicalNaN(buffer.Slice(0, Dim), xOut);
        return FlowTile.CanonicalNaN(logProb ? logNormal - ld : ld);
    }

    /// <summary>
    /// ld + log p_Z(z), with z read from the rows of the final map in coordinate order: for the standard normal
    /// ld − (½‖z‖² + (Dim/2)·log 2π), else the model's base.
    /// </summary>
    private static T LatentLogDensityOne(ref T p, ref T x, T ld)
    {
        if (!TFlow.HasStandardNormalBase) return ld + TFlow.BaseLogDensityOne(ref p, ref x);
        ReadOnlySpan<int> rows = TFlow.FinalRows;
        T sq = default;
        for (int i = 0; i < Dim; i++)
        {
            T z = Unsafe.Add(ref x, rows[i]);
            sq = Ops.Mac(z, z, sq);
        }
        return ld - Ops.Mac(Half, sq, TFlow.HalfLogTwoPiTimesDim);
    }

    /// <summary>Tile version of <see cref="LatentLogDensityOne"/>: ld ← ld + log p_Z(z) when add is set, else log p_Z(z) (standard normal: −(½‖z‖² + c)).</summary>
    private static void LatentLogDensity<TV>(ref T p, ref TV x, ref TV ld, bool add) where TV : unmanaged, ISimd<TV>
    {
        if (!TFlow.HasStandardNormalBase)
        {
            Span<TV> logBase = stackalloc TV[Lanes];
            TFlow.BaseLogDensityTile<TV>(ref p, ref x, ref MemoryMarshal.GetReference(logBase));
            for (int k = 0; k < Lanes; k++) Unsafe.Add(ref ld, k) = add ? Unsafe.Add(ref ld, k) + logBase[k] : logBase[k];
            return;
        }
        ReadOnlySpan<int> rows = TFlow.FinalRows;
        for (int k = 0; k < Lanes; k++)
        {
            TV sq = TV.Zero;
            for (int i = 0; i < Dim; i++)
            {
                TV z = Unsafe.Add(ref x, rows[i] * Lanes + k);
                sq = Kernel.Mac(z, z, sq);
            }
            TV logNormal = Kernel.Mac(Simd.Splat<T, TV>(Half), sq, Simd.Splat<T, TV>(TFlow.HalfLogTwoPiTimesDim));
            Unsafe.Add(ref ld, k) = add ? Unsafe.Add(ref ld, k) - logNormal : -logNormal;
        }
    }

    // ------------------------------------------------------------------ batches

    /// <summary>Batch data → latent at the widest accelerated vector width (see the generic overload).</summary>
    public static void ForwardBatch(ref T p, ReadOnlySpan<T> xs, ReadOnlySpan<T> contexts, Span<T> zs, Span<T> outs, int n, bool logProb)
    {
        if (Vector512.IsHardwareAccelerated) ForwardBatch<Simd512<T>>(ref p, xs, contexts, zs, outs, n, logProb);
        else if (Vector256.IsHardwareAccelerated) ForwardBatch<Simd256<T>>(ref p, xs, contexts, zs, outs, n, logProb);
        else ForwardBatch<Simd128<T>>(ref p, xs, contexts, zs, outs, n, logProb);
    }

    /// <summary>Batch data → latent, tile by tile; outs receives log|det ∂z/∂x| (or log p(x) when logProb is set) unless empty. In-place safe.</summary>
    public static void ForwardBatch<TV>(ref T p, ReadOnlySpan<T> xs, ReadOnlySpan<T> contexts, Span<T> zs, Span<T> outs, int n, bool logProb) where TV : unmanaged, ISimd<TV>
    {
        int width = Lanes * TV.Count;
        int start = 0;
        if (n >= width / 2)
        {
            Span<TV> tile = TileOnStack ? stackalloc TV[TileRows * Lanes] : Buffer<TV>(ref t_tile, TileRows * Lanes);
            ref TV x = ref MemoryMarshal.GetReference(tile);
            ref TV ld = ref Unsafe.Add(ref x, Dim * Lanes);
            ref TV c = ref Unsafe.Add(ref x, (Dim + 1) * Lanes);
            ref TV s = ref Unsafe.Add(ref x, SlotRow * Lanes);
            for (; n - start >= width / 2; start += width)
            {
                int count = Math.Min(width, n - start);
                FlowTile.Load(xs, start, count, Dim, Lanes, Identity(Dim), ref x);
                if (ContextDim > 0) LoadContexts(contexts, start, count, ref c);
                for (int k = 0; k < Lanes; k++) Unsafe.Add(ref ld, k) = TV.Zero;
                TFlow.ForwardTile<TV>(ref p, ref x, ref c, ref s, ref ld);
                if (logProb) LatentLogDensity(ref p, ref x, ref ld, add: true);
                if (!zs.IsEmpty) FlowTile.Store(ref x, TFlow.FinalRows, Lanes, zs, start, count);
                if (!outs.IsEmpty) FlowTile.StoreRow(ref ld, outs, start, count);
            }
        }
        // a short remainder goes through the single-sample path (bit-identical, and faster than a mostly empty tile)
        for (; start < n; start++)
        {
            T r = ForwardOne(ref p, xs.Slice(start * Dim, Dim), ContextRow(contexts, start), zs.IsEmpty ? default : zs.Slice(start * Dim, Dim), logProb);
            if (!outs.IsEmpty) outs[start] = r;
        }
    }

    /// <summary>Batch latent → data at the widest accelerated vector width (see the generic overload).</summary>
    public static void InverseBatch(ref T p, ReadOnlySpan<T> zs, ReadOnlySpan<T> contexts, Span<T> xs, Span<T> outs, int n, bool logProb)
    {
        if (Vector512.IsHardwareAccelerated) InverseBatch<Simd512<T>>(ref p, zs, contexts, xs, outs, n, logProb);
        else if (Vector256.IsHardwareAccelerated) InverseBatch<Simd256<T>>(ref p, zs, contexts, xs, outs, n, logProb);
        else InverseBatch<Simd128<T>>(ref p, zs, contexts, xs, outs, n, logProb);
    }

    /// <summary>Batch latent → data, tile by tile; outs receives log|det ∂x/∂z| (or log p(x) = log N(z) − log|det ∂x/∂z| when logProb is set) unless empty. In-place safe.</summary>
    public static void InverseBatch<TV>(ref T p, ReadOnlySpan<T> zs, ReadOnlySpan<T> contexts, Span<T> xs, Span<T> outs, int n, bool logProb) where TV : unmanaged, ISimd<TV>
    {
        int width = Lanes * TV.Count;
        int start = 0;
        if (n >= width / 2)
        {
            Span<TV> tile = TileOnStack ? stackalloc TV[TileRows * Lanes] : Buffer<TV>(ref t_tile, TileRows * Lanes);
            ref TV x = ref MemoryMarshal.GetReference(tile);
            ref TV ld = ref Unsafe.Add(ref x, Dim * Lanes);
            ref TV c = ref Unsafe.Add(ref x, (Dim + 1) * Lanes);
            ref TV s = ref Unsafe.Add(ref x, SlotRow * Lanes);
            Span<TV> logNormal = stackalloc TV[Lanes];
            for (; n - start >= width / 2; start += width)
            {
                int count = Math.Min(width, n - start);
                FlowTile.Load(zs, start, count, Dim, Lanes, TFlow.FinalRows, ref x);
                if (ContextDim > 0) LoadContexts(contexts, start, count, ref c);
                if (logProb) LatentLogDensity(ref p, ref x, ref MemoryMarshal.GetReference(logNormal), add: false);
                for (int k = 0; k < Lanes; k++) Unsafe.Add(ref ld, k) = TV.Zero;
                TFlow.InverseTile<TV>(ref p, ref x, ref c, ref s, ref ld);
                if (logProb) for (int k = 0; k < Lanes; k++) Unsafe.Add(ref ld, k) = logNormal[k] - Unsafe.Add(ref ld, k);
                if (!xs.IsEmpty) FlowTile.Store(ref x, Identity(Dim), Lanes, xs, start, count);
                if (!outs.IsEmpty) FlowTile.StoreRow(ref ld, outs, start, count);
            }
        }
        for (; start < n; start++)
        {
            T r = InverseOne(ref p, zs.Slice(start * Dim, Dim), ContextRow(contexts, start), xs.IsEmpty ? default : xs.Slice(start * Dim, Dim), logProb);
            if (!outs.IsEmpty) outs[start] = r;
        }
    }

    // ------------------------------------------------------------------ gradients

    /// <summary>
    /// Vector-Jacobian product of z = f(x) for a batch: runs the flow tile by tile (saving activations), then back. With nll set, the upstream
    /// gradient is that of weight·NLL (∂/∂z = weight·z, ∂/∂log-det = −weight) and the sum of the NLLs is returned; otherwise it is read
    /// from gradZ (row-major) and gradLogDet. Adds ∂L/∂θ to gp; writes ∂L/∂x to gradX and ∂L/∂context to gradContexts unless empty.
    /// </summary>
    public static double ForwardBackwardBatch(ref T p, ReadOnlySpan<T> xs, ReadOnlySpan<T> contexts, ReadOnlySpan<T> gradZ, ReadOnlySpan<T> gradLogDet, ref T gp, Span<T> gradX, Span<T> gradContexts, int n, T weight, bool nll) =>
        ForwardBackwardCore(ref p, xs, contexts, gradZ, gradLogDet, ref gp, gradX, gradContexts, n, weight, nll, default, default, out _);

    private static double ForwardBackwardCore(ref T p, ReadOnlySpan<T> xs, ReadOnlySpan<T> contexts, ReadOnlySpan<T> gradZ, ReadOnlySpan<T> gradLogDet, ref T gp, Span<T> gradX, Span<T> gradContexts, int n, T weight, bool nll, ReadOnlySpan<int> labels, T labeledWeight, out double labeledLoss)
    {
        if (Vector512.IsHardwareAccelerated) return ForwardBackwardCore<Simd512<T>>(ref p, xs, contexts, gradZ, gradLogDet, ref gp, gradX, gradContexts, n, weight, nll, labels, labeledWeight, out labeledLoss);
        if (Vector256.IsHardwareAccelerated) return ForwardBackwardCore<Simd256<T>>(ref p, xs, contexts, gradZ, gradLogDet, ref gp, gradX, gradContexts, n, weight, nll, labels, labeledWeight, out labeledLoss);
        return ForwardBackwardCore<Simd128<T>>(ref p, xs, contexts, gradZ, gradLogDet, ref gp, gradX, gradContexts, n, weight, nll, labels, labeledWeight, out labeledLoss);
    }

    /// <summary>
    /// <see cref="ForwardBackwardBatch"/>, and with labels (mixture bases; nll set) the class-conditional NLL: row i with labels[i] = c ≥ 0
    /// contributes −log(w_c·p_c(z)) − log|det| with weight labeledWeight (its sum into labeledLoss), a row with labels[i] &lt; 0 the
    /// marginal NLL with weight (its sum returned).
    /// </summary>
    private static double ForwardBackwardCore<TV>(ref T p, ReadOnlySpan<T> xs, ReadOnlySpan<T> contexts, ReadOnlySpan<T> gradZ, ReadOnlySpan<T> gradLogDet, ref T gp, Span<T> gradX, Span<T> gradContexts, int n, T weight, bool nll,
        ReadOnlySpan<int> labels, T labeledWeight, out double labeledLoss) where TV : unmanaged, ISimd<TV>
    {
        labeledLoss = 0;
        ref TV x = ref MemoryMarshal.GetReference(Buffer<TV>(ref t_train, TrainRows * Lanes));
        ref TV ld = ref Unsafe.Add(ref x, Dim * Lanes);
        ref TV c = ref Unsafe.Add(ref x, (Dim + 1) * Lanes);
        ref TV g = ref Unsafe.Add(ref x, GradRow * Lanes);
        ref TV gl = ref Unsafe.Add(ref x, GradLogDetRow * Lanes);
        ref TV gc = ref Unsafe.Add(ref x, GradContextRow * Lanes);
        ref TV slots = ref Unsafe.Add(ref x, SlotsRow * Lanes);
        ref TV t = ref Unsafe.Add(ref x, BackRow * Lanes);
        int width = Lanes * TV.Count;
        double loss = 0;
        for (int start = 0; start < n; start += width)
        {
            int count = Math.Min(width, n - start);
            FlowTile.Load(xs, start, count, Dim, Lanes, Identity(Dim), ref x);
            if (ContextDim > 0) LoadContexts(contexts, start, count, ref c);
            for (int k = 0; k < Lanes; k++) Unsafe.Add(ref ld, k) = TV.Zero;
            TFlow.ForwardTrain<TV>(ref p, ref x, ref c, ref slots, ref ld);
            // upstream gradients; lanes past count stay zero, so padding contributes nothing
            if (nll)
            {
                ref T lds = ref Unsafe.As<TV, T>(ref ld);
                ref T gls = ref Unsafe.As<TV, T>(ref gl);
                ref T xsT = ref Unsafe.As<TV, T>(ref x);
                ref T gsT = ref Unsafe.As<TV, T>(ref g);
                ReadOnlySpan<int> rows = TFlow.FinalRows;
                for (int q = 0; q < count && !TFlow.HasStandardNormalBase; q++)
                {
                    // the model's base: −log p_Z(z) (or of one labelled component) and its gradients, one sample at a time in sample order
                    int component = labels.IsEmpty ? -1 : labels[start + q];
                    T w = component >= 0 ? labeledWeight : weight;
                    double nllRow = double.CreateTruncating(TFlow.BaseNllGradientOne(ref p, ref gp, ref Unsafe.Add(ref xsT, q), ref Unsafe.Add(ref gsT, q), width, w, component))
                        - double.CreateTruncating(Unsafe.Add(ref lds, q));
                    if (component >= 0) labeledLoss += nllRow;
                    else loss += nllRow;
                    Unsafe.Add(ref gls, q) = -w;
                }
                for (int q = 0; q < count && TFlow.HasStandardNormalBase; q++)
                {
                    T sq = default;
                    for (int i = 0; i < Dim; i++)
                    {
                        T z = Unsafe.Add(ref xsT, rows[i] * width + q);
                        sq = Ops.Mac(z, z, sq);
                        Unsafe.Add(ref gsT, rows[i] * width + q) = weight * z;
                    }
                    loss += double.CreateTruncating(Ops.Mac(Half, sq, TFlow.HalfLogTwoPiTimesDim)) - double.CreateTruncating(Unsafe.Add(ref lds, q));
                    Unsafe.Add(ref gls, q) = -weight;
                }
                for (int q = count; q < width; q++) { Unsafe.Add(ref gls, q) = default; for (int i = 0; i < Dim; i++) Unsafe.Add(ref gsT, i * width + q) = default; }
            }
            else
            {
                FlowTile.Load(gradZ, start, count, Dim, Lanes, TFlow.FinalRows, ref g);
                FlowTile.LoadRow(gradLogDet, start, count, Lanes, ref gl);
            }
            if (ContextDim > 0) for (int r = 0; r < ContextDim * Lanes; r++) Unsafe.Add(ref gc, r) = TV.Zero;
            TFlow.ForwardBackward<TV>(ref p, ref gp, ref c, ref slots, ref g, ref gl, ref gc, ref t);
            if (!gradX.IsEmpty) FlowTile.Store(ref g, Identity(Dim), Lanes, gradX, start, count);
            if (ContextDim > 0 && !gradContexts.IsEmpty) FlowTile.Store(ref gc, Identity(ContextDim), Lanes, gradContexts, start, count);
        }
        return loss;
    }

    /// <summary>
    /// Vector-Jacobian product of the inverse map x = f⁻¹(z) for a batch: runs the inverse tile by tile (saving activations), loads
    /// ∂L/∂x (gradX, row-major) and ∂L/∂log|det ∂x/∂z| (gradLogDet), and propagates back: adds ∂L/∂θ to gp, writes ∂L/∂z to gradZ
    /// and ∂L/∂context to gradContexts (each unless empty).
    /// </summary>
    public static void InverseBackwardBatch(ref T p, ReadOnlySpan<T> zs, ReadOnlySpan<T> contexts, ReadOnlySpan<T> gradX, ReadOnlySpan<T> gradLogDet, ref T gp, Span<T> gradZ, Span<T> gradContexts, int n)
    {
        if (Vector512.IsHardwareAccelerated) InverseBackwardBatch<Simd512<T>>(ref p, zs, contexts, gradX, gradLogDet, ref gp, gradZ, gradContexts, n);
        else if (Vector256.IsHardwareAccelerated) InverseBackwardBatch<Simd256<T>>(ref p, zs, contexts, gradX, gradLogDet, ref gp, gradZ, gradContexts, n);
        else InverseBackwardBatch<Simd128<T>>(ref p, zs, contexts, gradX, gradLogDet, ref gp, gradZ, gradContexts, n);
    }

    /// <summary>The inverse VJP at vector type TV.</summary>
    public static void InverseBackwardBatch<TV>(ref T p, ReadOnlySpan<T> zs, ReadOnlySpan<T> contexts, ReadOnlySpan<T> gradX, ReadOnlySpan<T> gradLogDet, ref T gp, Span<T> gradZ, Span<T> gradContexts, int n) where TV : unmanaged, ISimd<TV>
    {
        ref TV x = ref MemoryMarshal.GetReference(Buffer<TV>(ref t_train, TrainRows * Lanes));
        ref TV ld = ref Unsafe.Add(ref x, Dim * Lanes);
        ref TV c = ref Unsafe.Add(ref x, (Dim + 1) * Lanes);
        ref TV g = ref Unsafe.Add(ref x, GradRow * Lanes);
        ref TV gl = ref Unsafe.Add(ref x, GradLogDetRow * Lanes);
        ref TV gc = ref Unsafe.Add(ref x, GradContextRow * Lanes);
        ref TV slots = ref Unsafe.Add(ref x, SlotsRow * Lanes);
        ref TV t = ref Unsafe.Add(ref x, BackRow * Lanes);
        int width = Lanes * TV.Count;
        for (int start = 0; start < n; start += width)
        {
            int count = Math.Min(width, n - start);
            FlowTile.Load(zs, start, count, Dim, Lanes, TFlow.FinalRows, ref x);
            if (ContextDim > 0) LoadContexts(contexts, start, count, ref c);
            for (int k = 0; k < Lanes; k++) Unsafe.Add(ref ld, k) = TV.Zero;
            TFlow.InverseTrain<TV>(ref p, ref x, ref c, ref slots, ref ld);
            // upstream gradients; lanes past count stay zero, so padding contributes nothing
            FlowTile.Load(gradX, start, count, Dim, Lanes, Identity(Dim), ref g);
            FlowTile.LoadRow(gradLogDet, start, count, Lanes, ref gl);
            if (ContextDim > 0) for (int r = 0; r < ContextDim * Lanes; r++) Unsafe.Add(ref gc, r) = TV.Zero;
            TFlow.InverseBackward<TV>(ref p, ref gp, ref c, ref slots, ref g, ref gl, ref gc, ref t);
            if (!gradZ.IsEmpty) FlowTile.Store(ref g, TFlow.FinalRows, Lanes, gradZ, start, count);
            if (ContextDim > 0 && !gradContexts.IsEmpty) FlowTile.Store(ref gc, Identity(ContextDim), Lanes, gradContexts, start, count);
        }
    }

    // ------------------------------------------------------------------ helpers

    // a per-thread buffer of at least count vectors TV (the width is fixed per process, so it is allocated once)
    private static Span<TV> Buffer<TV>(ref T[]? buffer, int count) where TV : unmanaged, ISimd<TV>
    {
        int length = count * TV.Count;
        if (buffer is null || buffer.Length < length) buffer = new T[length];
        return MemoryMarshal.Cast<T, TV>(buffer.AsSpan(0, length));
    }

    private static ReadOnlySpan<int> Identity(int n) => FlowDriverTables.Identity.AsSpan(0, n);

    // contexts hold one row per sample, or one row that every sample shares (ContextDim values)
    private static ReadOnlySpan<T> ContextRow(ReadOnlySpan<T> contexts, int row) =>
        ContextDim == 0 ? default : contexts.Length == ContextDim ? contexts : contexts.Slice(row * ContextDim, ContextDim);

    private static void LoadContexts<TV>(ReadOnlySpan<T> contexts, int start, int count, ref TV c) where TV : unmanaged, ISimd<TV>
    {
        if (contexts.Length == ContextDim) FlowTile.LoadShared(contexts, count, Lanes, ref c);
        else FlowTile.Load(contexts, start, count, ContextDim, Lanes, Identity(ContextDim), ref c);
    }

    private static T Half => T.CreateTruncating(0.5);
}

/// <summary>Tables shared by every model's driver.</summary>
internal static class FlowDriverTables
{
    /// <summary>0, 1, 2, … (the identity row map), as long as the largest Dim or context the generator allows.</summary>
    public static readonly int[] Identity = CreateIdentity(4096);

    private static int[] CreateIdentity(int n)
    {
        var rows = new int[n];
        for (int i = 0; i < n; i++) rows[i] = i;
        return rows;
    }
}
