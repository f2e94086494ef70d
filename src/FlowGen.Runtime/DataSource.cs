using System;
using System.Numerics;

namespace FlowGen;

/// <summary>
/// A source of training rows that need not fit in memory: the rows (and, for a conditional flow, their contexts) in
/// <see cref="ChunkCount"/> chunks of at most <see cref="MaxChunkRows"/> rows, each read on demand into the caller's
/// buffers. <see cref="FlowTrainer"/> trains from it (<c>Train(flow, source, …)</c>, <c>Fit(flow, source, objective, …)</c>)
/// holding only a few chunks at a time; the FlowGen.Data package reads Parquet row groups and CSV blocks as chunks.
/// </summary>
/// <remarks>
/// <para>Contract: <see cref="ReadChunk"/> of the same chunk returns the same rows every time (the trainer reads each chunk
/// once per epoch, in a seeded order, and relies on that for reproducible runs); chunks may be read in any order; rows
/// are row-major, [rows, Dim] and [rows, ContextDim]. An implementation needs no thread safety: the trainer reads from one
/// thread at a time.</para>
/// <para>Row indices: <c>firstRow</c> is the index in the whole source of the chunk's first row; the trainer hands
/// <c>firstRow + i</c> to objectives as <see cref="FlowBatch{T}.RowIndices"/> (−1 beyond <see cref="int.MaxValue"/>).</para>
/// </remarks>
/// <typeparam name="T"><see cref="float"/> or <see cref="double"/>.</typeparam>
public interface IFlowDataSource<T> where T : unmanaged
{
    /// <summary>Values per data row (the flow's Dim).</summary>
    int Dim { get; }

    /// <summary>Values per context row (the flow's ContextDim; 0 for an unconditional flow).</summary>
    int ContextDim { get; }

    /// <summary>Number of chunks (≥ 1).</summary>
    int ChunkCount { get; }

    /// <summary>The most rows one chunk holds: the size of the buffers <see cref="ReadChunk"/> gets.</summary>
    int MaxChunkRows { get; }

    /// <summary>Total rows, or −1 when the source does not know it without reading every chunk (the trainer then counts them in one pass).</summary>
    long RowCount { get; }

    /// <summary>Reads chunk <paramref name="chunk"/> into the start of <paramref name="rows"/> and <paramref name="contexts"/>.</summary>
    /// <param name="chunk">0 ≤ chunk &lt; <see cref="ChunkCount"/>.</param>
    /// <param name="rows">[MaxChunkRows, Dim]; the chunk's rows go to its start.</param>
    /// <param name="contexts">[MaxChunkRows, ContextDim] (empty when ContextDim is 0); the chunk's context rows go to its start.</param>
    /// <param name="firstRow">The index in the source of the chunk's first row.</param>
    /// <returns>The chunk's number of rows (0 ≤ it ≤ MaxChunkRows).</returns>
    int ReadChunk(int chunk, Span<T> rows, Span<T> contexts, out long firstRow);
}

/// <summary>
/// Rows held in memory, seen as an <see cref="IFlowDataSource{T}"/> of chunks of <c>chunkRows</c> rows (the last may be
/// shorter): for tests, for a validation set next to a streamed training set, and to train the same way from memory and
/// from files.
/// </summary>
/// <typeparam name="T"><see cref="float"/> or <see cref="double"/>.</typeparam>
public sealed class ArrayDataSource<T> : IFlowDataSource<T> where T : unmanaged
{
    private readonly ReadOnlyMemory<T> _rows, _contexts;
    private readonly long _count;

    /// <summary>A source over <paramref name="rows"/> (and <paramref name="contexts"/>), without copying them.</summary>
    /// <param name="rows">Row-major [n, dim], n ≥ 1.</param>
    /// <param name="dim">Values per row (≥ 1).</param>
    /// <param name="contexts">Row-major [n, contextDim]; empty for an unconditional flow.</param>
    /// <param name="contextDim">Values per context row (0 for none).</param>
    /// <param name="chunkRows">Rows per chunk (≥ 1; default: all rows in one chunk).</param>
    /// <exception cref="ArgumentOutOfRangeException">dim, contextDim or chunkRows is out of range.</exception>
    /// <exception cref="ArgumentException">A length does not fit.</exception>
    public ArrayDataSource(ReadOnlyMemory<T> rows, int dim, ReadOnlyMemory<T> contexts = default, int contextDim = 0, int chunkRows = int.MaxValue)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(dim, 1);
        ArgumentOutOfRangeException.ThrowIfNegative(contextDim);
        ArgumentOutOfRangeException.ThrowIfLessThan(chunkRows, 1);
        if (rows.Length % dim != 0 || rows.Length == 0)
        {
            throw new ArgumentException($"rows.Length must be a positive multiple of dim = {dim} (row-major [n, {dim}]); it is {rows.Length}.", nameof(rows));
        }
        _count = rows.Length / dim;
        if (contexts.Length != _count * contextDim)
        {
            throw new ArgumentException(contextDim == 0
                ? $"contexts.Length must be 0 when contextDim is 0; it is {contexts.Length}."
                : $"contexts.Length must be {_count * contextDim} ({_count} rows × contextDim {contextDim}); it is {contexts.Length}.", nameof(contexts));
        }
        _rows = rows;
        _contexts = contexts;
        Dim = dim;
        ContextDim = contextDim;
        MaxChunkRows = (int)Math.Min(chunkRows, _count);
        ChunkCount = (int)((_count + MaxChunkRows - 1) / MaxChunkRows);
    }

    /// <inheritdoc/>
    public int Dim { get; }

    /// <inheritdoc/>
    public int ContextDim { get; }

    /// <inheritdoc/>
    public int ChunkCount { get; }

    /// <inheritdoc/>
    public int MaxChunkRows { get; }

    /// <inheritdoc/>
    public long RowCount => _count;

    /// <inheritdoc/>
    public int ReadChunk(int chunk, Span<T> rows, Span<T> contexts, out long firstRow)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(chunk);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(chunk, ChunkCount);
        firstRow = (long)chunk * MaxChunkRows;
        int count = (int)Math.Min(MaxChunkRows, _count - firstRow);
        _rows.Span.Slice((int)firstRow * Dim, count * Dim).CopyTo(rows);
        if (ContextDim > 0) _contexts.Span.Slice((int)firstRow * ContextDim, count * ContextDim).CopyTo(contexts);
        return count;
    }
}

/// <summary>Helpers for <see cref="IFlowDataSource{T}"/>: streamed standardisation and a seeded row split.</summary>
public static class FlowDataSource
{
    /// <summary>
    /// Fits a <see cref="Standardizer"/> to the data rows (or, with <paramref name="contexts"/>, the context rows) of a source
    /// in one streaming pass over its chunks (in chunk order), holding one chunk. Mean and population standard deviation are
    /// accumulated in double per chunk and merged in chunk order (Chan et al.'s pairwise update), so the result is
    /// deterministic; it equals <see cref="Standardizer.Fit{T}"/> on the same rows up to rounding.
    /// </summary>
    /// <param name="source">The rows.</param>
    /// <param name="contexts">False: standardise the data rows; true: the context rows.</param>
    /// <returns>The fitted standardiser.</returns>
    /// <exception cref="ArgumentException">Fewer than 2 rows, a non-finite value, or a constant column (named).</exception>
    public static Standardizer FitStandardizer<T>(IFlowDataSource<T> source, bool contexts = false) where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(source);
        int width = contexts ? source.ContextDim : source.Dim;
        if (width < 1) throw new ArgumentException("The source has no context columns to standardise.", nameof(contexts));
        var rows = new T[checked(source.MaxChunkRows * source.Dim)];
        var ctx = new T[checked(source.MaxChunkRows * source.ContextDim)];
        var mean = new double[width];
        var m2 = new double[width];
        var chunkMean = new double[width];
        var first = new double[width];
        var varies = new bool[width];
        long n = 0;
        for (int c = 0; c < source.ChunkCount; c++)
        {
            int count = source.ReadChunk(c, rows, ctx, out long firstRow);
            if (count <= 0) continue;
            ReadOnlySpan<T> values = contexts ? ctx.AsSpan(0, count * width) : rows.AsSpan(0, count * width);
            Array.Clear(chunkMean);
            for (int i = 0; i < count; i++)
            {
                for (int j = 0; j < width; j++)
                {
                    T v = values[i * width + j];
                    if (!T.IsFinite(v)) throw new ArgumentException($"Row {firstRow + i} of the source has a non-finite value ({v}) at column {j}.", nameof(source));
                    double d = double.CreateTruncating(v);
                    chunkMean[j] += d;
                    if (n == 0 && i == 0) first[j] = d;
                    else if (d != first[j]) varies[j] = true;
                }
            }
            for (int j = 0; j < width; j++) chunkMean[j] /= count;
            long total = n + count;
            for (int j = 0; j < width; j++)
            {
                double s = 0;
                for (int i = 0; i < count; i++)
                {
                    double d = double.CreateTruncating(values[i * width + j]) - chunkMean[j];
                    s += d * d;
                }
                double delta = chunkMean[j] - mean[j];
                m2[j] += s + delta * delta * ((double)n * count / total);
                mean[j] += delta * count / total;
            }
            n = total;
        }
        if (n < 2) throw new ArgumentException($"The source needs at least 2 rows to fit a standard deviation; it has {n}.", nameof(source));
        var std = new double[width];
        for (int j = 0; j < width; j++)
        {
            if (!varies[j]) throw new ArgumentException($"Column {j} of the source is constant ({first[j]}): its standard deviation is 0, so it cannot be standardised; drop the column.", nameof(source));
            std[j] = Math.Sqrt(m2[j] / n);
        }
        return new Standardizer(mean, std);
    }

    /// <summary>
    /// The source with its data rows (and, when given, its context rows) standardised as each chunk is read: what the flow
    /// trains on when the standardiser was fitted on the raw rows (e.g. by <see cref="FitStandardizer{T}"/>).
    /// </summary>
    /// <param name="source">The raw rows.</param>
    /// <param name="rows">The standardiser of the data rows (Dim columns), or null to pass them through.</param>
    /// <param name="contexts">The standardiser of the context rows (ContextDim columns), or null to pass them through.</param>
    /// <returns>A view of <paramref name="source"/> (nothing is copied ahead).</returns>
    public static IFlowDataSource<T> Standardize<T>(IFlowDataSource<T> source, Standardizer? rows, Standardizer? contexts = null)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(source);
        if (rows is not null && rows.Dim != source.Dim) throw new ArgumentException($"rows.Dim must be the source's Dim ({source.Dim}); it is {rows.Dim}.", nameof(rows));
        if (contexts is not null && contexts.Dim != source.ContextDim)
        {
            throw new ArgumentException($"contexts.Dim must be the source's ContextDim ({source.ContextDim}); it is {contexts.Dim}.", nameof(contexts));
        }
        return new StandardizedSource<T>(source, rows, contexts);
    }

    /// <summary>
    /// Splits a source's rows at random but reproducibly: row r (its index in the source) belongs to the held-out part when a
    /// hash of (<paramref name="seed"/>, r) falls below <paramref name="fraction"/>, else to the training part. The split
    /// does not depend on chunk sizes or reading order, so the two parts never share a row. Both are views over the same
    /// chunks: each reads every chunk and keeps its own rows (their RowCount is unknown, −1, until counted). A view reports a
    /// chunk's first row as the source does, so the row indices objectives see (first row + position) count the kept rows
    /// from there: they are not the rows' indices in the source.
    /// </summary>
    /// <param name="source">The rows.</param>
    /// <param name="fraction">The held-out fraction, in (0, 1).</param>
    /// <param name="seed">Seed of the hash.</param>
    /// <returns>The training rows and the held-out rows.</returns>
    public static (IFlowDataSource<T> Train, IFlowDataSource<T> HeldOut) Split<T>(IFlowDataSource<T> source, double fraction, ulong seed = 0)
        where T : unmanaged
    {
        ArgumentNullException.ThrowIfNull(source);
        if (!(fraction > 0 && fraction < 1)) throw new ArgumentOutOfRangeException(nameof(fraction), fraction, "fraction must be in (0, 1).");
        return (new SplitSource<T>(source, fraction, seed, heldOut: false), new SplitSource<T>(source, fraction, seed, heldOut: true));
    }

    /// <summary>
    /// The first rows of a source, up to <paramref name="rows"/> of them (e.g. a 10 % prefix of a large file): the chunks that
    /// hold them, the last one cut short.
    /// </summary>
    /// <param name="source">The rows.</param>
    /// <param name="rows">Rows kept (≥ 1).</param>
    /// <returns>A view of the prefix.</returns>
    public static IFlowDataSource<T> Prefix<T>(IFlowDataSource<T> source, long rows) where T : unmanaged
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentOutOfRangeException.ThrowIfLessThan(rows, 1L);
        return new PrefixSource<T>(source, rows);
    }

    /// <summary>Rows in the source: <see cref="IFlowDataSource{T}.RowCount"/>, or one pass over its chunks when that is −1.</summary>
    /// <param name="source">The rows.</param>
    /// <returns>The number of rows.</returns>
    public static long CountRows<T>(IFlowDataSource<T> source) where T : unmanaged
    {
        ArgumentNullException.ThrowIfNull(source);
        if (source.RowCount >= 0) return source.RowCount;
        var rows = new T[checked(source.MaxChunkRows * source.Dim)];
        var ctx = new T[checked(source.MaxChunkRows * source.ContextDim)];
        long n = 0;
        for (int c = 0; c < source.ChunkCount; c++) n += source.ReadChunk(c, rows, ctx, out _);
        return n;
    }

    private sealed class StandardizedSource<T>(IFlowDataSource<T> inner, Standardizer? rows, Standardizer? contexts) : IFlowDataSource<T>
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        public int Dim => inner.Dim;
        public int ContextDim => inner.ContextDim;
        public int ChunkCount => inner.ChunkCount;
        public int MaxChunkRows => inner.MaxChunkRows;
        public long RowCount => inner.RowCount;

        public int ReadChunk(int chunk, Span<T> rowValues, Span<T> contextValues, out long firstRow)
        {
            int count = inner.ReadChunk(chunk, rowValues, contextValues, out firstRow);
            rows?.ApplyInPlace(rowValues[..(count * Dim)]);
            contexts?.ApplyInPlace(contextValues[..(count * ContextDim)]);
            return count;
        }
    }

    private sealed class PrefixSource<T>(IFlowDataSource<T> inner, long keep) : IFlowDataSource<T> where T : unmanaged
    {
        private int _chunks = -1;
        private long _rows = -1;

        public int Dim => inner.Dim;
        public int ContextDim => inner.ContextDim;
        public int MaxChunkRows => inner.MaxChunkRows;

        public int ChunkCount
        {
            get
            {
                if (_chunks < 0) Measure();
                return _chunks;
            }
        }

        public long RowCount
        {
            get
            {
                if (_rows < 0) Measure();
                return _rows;
            }
        }

        // which chunks hold the first `keep` rows: read the chunks' first rows (inner chunks are numbered in row order)
        private void Measure()
        {
            if (inner.RowCount >= 0 && inner.RowCount <= keep)
            {
                (_chunks, _rows) = (inner.ChunkCount, inner.RowCount);
                return;
            }
            var rows = new T[checked(inner.MaxChunkRows * inner.Dim)];
            var ctx = new T[checked(inner.MaxChunkRows * inner.ContextDim)];
            long n = 0;
            int c = 0;
            while (c < inner.ChunkCount && n < keep)
            {
                n += inner.ReadChunk(c, rows, ctx, out _);
                c++;
            }
            (_chunks, _rows) = (Math.Max(1, c), Math.Min(n, keep));
        }

        public int ReadChunk(int chunk, Span<T> rows, Span<T> contexts, out long firstRow)
        {
            ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(chunk, ChunkCount);
            int count = inner.ReadChunk(chunk, rows, contexts, out firstRow);
            return (int)Math.Clamp(keep - firstRow, 0, count);
        }
    }

    private sealed class SplitSource<T>(IFlowDataSource<T> inner, double fraction, ulong seed, bool heldOut) : IFlowDataSource<T> where T : unmanaged
    {
        private readonly ulong _threshold = (ulong)(fraction * 18446744073709551616.0);

        public int Dim => inner.Dim;
        public int ContextDim => inner.ContextDim;
        public int ChunkCount => inner.ChunkCount;
        public int MaxChunkRows => inner.MaxChunkRows;
        public long RowCount => -1;

        public int ReadChunk(int chunk, Span<T> rows, Span<T> contexts, out long firstRow)
        {
            int count = inner.ReadChunk(chunk, rows, contexts, out firstRow);
            int dim = Dim, cdim = ContextDim, kept = 0;
            for (int i = 0; i < count; i++)
            {
                if ((Hash(seed, firstRow + i) < _threshold) != heldOut) continue;
                if (kept != i)
                {
                    rows.Slice(i * dim, dim).CopyTo(rows.Slice(kept * dim));
                    if (cdim > 0) contexts.Slice(i * cdim, cdim).CopyTo(contexts.Slice(kept * cdim));
                }
                kept++;
            }
            return kept; // firstRow stays the chunk's: the kept rows' source indices are not consecutive (see Split)
        }

        private static ulong Hash(ulong seed, long row)
        {
            ulong z = seed ^ ((ulong)row * 0x9E3779B97F4A7C15UL) ^ 0xD1B54A32D192ED03UL;
            z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
            z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
            return z ^ (z >> 31);
        }
    }
}
