using System;
using System.Runtime.CompilerServices;
using System.Threading;

namespace FlowGen;

/// <summary>
/// Multi-core batch calls: <see cref="ICouplingFlow{T}"/>'s batch <c>LogProb</c>, <c>Forward</c>, <c>Inverse</c> and
/// <c>Sample</c> with the rows split across <c>threads</c> threads (the calling thread is one of them), each result
/// bit-identical to the one-thread call on the same flow. Opt-in: the flow's own members stay single-threaded.
/// </summary>
/// <remarks>
/// <para>Arguments and their checks are the flow's (README "API conventions"): the first span fixes the row count n, a span
/// of the wrong length throws <see cref="ArgumentException"/> naming it, contexts hold n rows or one shared row, outputs are
/// overwritten; <c>threads</c> (at least 1) is the last argument.</para>
/// <para>How rows are split: into chunks of a multiple of <see cref="RowAlignment"/> rows (so every SIMD tile of the one-thread
/// call, whatever the vector width, falls inside one chunk and sees the same rows), at least <see cref="MinChunkRows"/> rows
/// each, about four per thread; the threads take chunks in turn. Every row's result depends on its own inputs only, so
/// which thread runs a chunk changes nothing. A batch of fewer than <see cref="MinParallelRows"/> rows, or
/// <c>threads</c> = 1, runs as one call on the calling thread.</para>
/// <para>The threads are the runtime's persistent workers (parked between calls, woken per call; a few calls can be
/// served at the same time, further concurrent callers run on their own thread). A call allocates nothing once each
/// thread has made its first call (the flow's per-thread buffers); calls from many threads at once are allowed, as for
/// the flow's own members. Writing <see cref="ICouplingFlow{T}.Parameters"/> must not overlap a call.</para>
/// <para><see cref="Sample{T}"/> draws from <c>rng</c> exactly the numbers the one-thread call draws, in the same order,
/// and leaves <c>rng</c> in the same state (README "Multi-core batch calls").</para>
/// </remarks>
public static class FlowParallel
{
    /// <summary>Chunk boundaries are multiples of this many rows (a multiple of every tile size: 2 vectors × 16 floats at 512 bits is 32 rows).</summary>
    public const int RowAlignment = 64;

    /// <summary>The fewest rows a chunk holds (a multiple of <see cref="RowAlignment"/>).</summary>
    public const int MinChunkRows = 256;

    /// <summary>Batches with fewer rows run on the calling thread: waking the workers would cost more than it saves.</summary>
    public const int MinParallelRows = 512;

    private const int ChunksPerThread = 4;

    /// <summary>
    /// <see cref="ICouplingFlow{T}.LogProb(ReadOnlySpan{T}, ReadOnlySpan{T}, Span{T})"/> on <paramref name="threads"/> threads:
    /// the log-density of each row of <paramref name="xs"/> into <paramref name="logProbs"/> (n values).
    /// </summary>
    /// <param name="flow">The flow.</param>
    /// <param name="xs">The rows, row-major [n, Dim].</param>
    /// <param name="contexts">n context rows, one shared row, or empty for an unconditional flow.</param>
    /// <param name="logProbs">Receives log p(xᵢ) (n values).</param>
    /// <param name="threads">Threads to use, the caller included (at least 1).</param>
    public static void LogProb<T>(ICouplingFlow<T> flow, ReadOnlySpan<T> xs, ReadOnlySpan<T> contexts, Span<T> logProbs, int threads)
        where T : unmanaged
    {
        int n = Check(flow, xs.Length, contexts.Length, threads, nameof(xs));
        CheckValues(logProbs.Length, n, nameof(logProbs));
        if (!Splits(n, threads))
        {
            flow.LogProb(xs, contexts, logProbs);
            return;
        }
        Run(BatchOp.LogProb, flow, xs, contexts, default, logProbs, n, threads, null);
    }

    /// <summary>
    /// <see cref="ICouplingFlow{T}.Forward(ReadOnlySpan{T}, ReadOnlySpan{T}, Span{T}, Span{T})"/> on <paramref name="threads"/>
    /// threads: zs = f(xs), logDets = log|det ∂z/∂x|.
    /// </summary>
    /// <param name="flow">The flow.</param>
    /// <param name="xs">The rows, row-major [n, Dim].</param>
    /// <param name="contexts">n context rows, one shared row, or empty for an unconditional flow.</param>
    /// <param name="zs">Receives the latent rows (n × Dim values); may be the same memory as xs.</param>
    /// <param name="logDets">Receives log|det ∂z/∂x| (n values), or empty: not computed.</param>
    /// <param name="threads">Threads to use, the caller included (at least 1).</param>
    public static void Forward<T>(ICouplingFlow<T> flow, ReadOnlySpan<T> xs, ReadOnlySpan<T> contexts, Span<T> zs, Span<T> logDets, int threads)
        where T : unmanaged
    {
        int n = Check(flow, xs.Length, contexts.Length, threads, nameof(xs));
        CheckRows(flow, zs.Length, n, nameof(zs));
        CheckOptionalValues(logDets.Length, n, nameof(logDets));
        if (!Splits(n, threads))
        {
            flow.Forward(xs, contexts, zs, logDets);
            return;
        }
        Run(BatchOp.Forward, flow, xs, contexts, zs, logDets, n, threads, null);
    }

    /// <summary>
    /// <see cref="ICouplingFlow{T}.Inverse(ReadOnlySpan{T}, ReadOnlySpan{T}, Span{T}, Span{T})"/> on <paramref name="threads"/>
    /// threads: xs = f⁻¹(zs), logDets = log|det ∂x/∂z|.
    /// </summary>
    /// <param name="flow">The flow.</param>
    /// <param name="zs">The latent rows, row-major [n, Dim].</param>
    /// <param name="contexts">n context rows, one shared row, or empty for an unconditional flow.</param>
    /// <param name="xs">Receives the data rows (n × Dim values); may be the same memory as zs.</param>
    /// <param name="logDets">Receives log|det ∂x/∂z| (n values), or empty: not computed.</param>
    /// <param name="threads">Threads to use, the caller included (at least 1).</param>
    /// <returns>The number of rows of xs holding a NaN or ±∞.</returns>
    public static int Inverse<T>(ICouplingFlow<T> flow, ReadOnlySpan<T> zs, ReadOnlySpan<T> contexts, Span<T> xs, Span<T> logDets, int threads)
        where T : unmanaged
    {
        int n = Check(flow, zs.Length, contexts.Length, threads, nameof(zs));
        CheckRows(flow, xs.Length, n, nameof(xs));
        CheckOptionalValues(logDets.Length, n, nameof(logDets));
        if (!Splits(n, threads)) return flow.Inverse(zs, contexts, xs, logDets);
        return Run(BatchOp.Inverse, flow, zs, contexts, xs, logDets, n, threads, null);
    }

    /// <summary>
    /// <see cref="ICouplingFlow{T}.Sample"/> on <paramref name="threads"/> threads: xs.Length / Dim samples x = f⁻¹(z), z ~ p_Z
    /// from <paramref name="rng"/>, and their log-densities. The draws, the results and <paramref name="rng"/>'s state
    /// afterwards are those of the one-thread call, bit for bit.
    /// </summary>
    /// <remarks>
    /// The calling thread first moves a copy of <paramref name="rng"/> to where each chunk's draws begin (stepping the
    /// generator, which is far cheaper than drawing); each chunk then draws its own rows' noise and inverts them. A base
    /// whose draws per row are not fixed (the Student-t base's rejection sampler), or one this version does not know, is
    /// sampled on the calling thread alone. Should a chunk's draws ever end elsewhere than where the next chunk's begin,
    /// the whole batch is sampled again on the calling thread, so the result is the one-thread result in every case.
    /// </remarks>
    /// <param name="flow">The flow.</param>
    /// <param name="xs">Receives the samples (row-major [n, Dim]); its length fixes n.</param>
    /// <param name="contexts">n context rows, one shared row, or empty for an unconditional flow.</param>
    /// <param name="logProbs">Receives log p(xᵢ) (n values), or empty: not computed.</param>
    /// <param name="rng">The random generator (advanced exactly as by the one-thread call).</param>
    /// <param name="threads">Threads to use, the caller included (at least 1).</param>
    /// <returns>The number of rows of xs holding a NaN or ±∞.</returns>
    public static int Sample<T>(ICouplingFlow<T> flow, Span<T> xs, ReadOnlySpan<T> contexts, Span<T> logProbs, FlowRandom rng, int threads)
        where T : unmanaged
    {
        int n = Check(flow, xs.Length, contexts.Length, threads, nameof(xs));
        CheckOptionalValues(logProbs.Length, n, nameof(logProbs));
        ArgumentNullException.ThrowIfNull(rng);
        int drawsPerRow = DrawsPerRow(flow);
        if (drawsPerRow == 0 || !Splits(n, threads)) return flow.Sample(xs, contexts, logProbs, rng);
        return Run(BatchOp.Sample, flow, xs, contexts, xs, logProbs, n, threads, rng, drawsPerRow);
    }

    // ------------------------------------------------------------------ checks (the flow's conventions and messages)

    private static int Check<T>(ICouplingFlow<T> flow, int primaryLength, int contextsLength, int threads, string primaryName) where T : unmanaged
    {
        ArgumentNullException.ThrowIfNull(flow);
        if (threads < 1) throw new ArgumentOutOfRangeException(nameof(threads), threads, "threads must be at least 1 (the calling thread).");
        int n = FlowTile.RowCount(primaryLength, flow.Dim, primaryName);
        int cdim = flow.ContextDim;
        if (cdim == 0) FlowTile.CheckLength(contextsLength, 0, "an unconditional flow takes no context", "contexts");
        else if (contextsLength != cdim) FlowTile.CheckLength(contextsLength, n * cdim, $"n × ContextDim for n = {n} rows, or ContextDim for one shared context", "contexts");
        return n;
    }

    private static void CheckRows<T>(ICouplingFlow<T> flow, int length, int n, string name) where T : unmanaged
    {
        if (length != n * flow.Dim) FlowTile.CheckLength(length, n * flow.Dim, $"n × Dim for n = {n} rows", name);
    }

    private static void CheckValues(int length, int n, string name)
    {
        if (length != n) FlowTile.CheckLength(length, n, $"n = {n}, one per row", name);
    }

    private static void CheckOptionalValues(int length, int n, string name)
    {
        if (length != 0 && length != n) FlowTile.CheckLength(length, n, $"n = {n}, one per row, or 0 for none", name);
    }

    private static bool Splits(int n, int threads) => threads > 1 && n >= MinParallelRows;

    /// <summary>Rows per chunk: a multiple of <see cref="RowAlignment"/>, at least <see cref="MinChunkRows"/>, about <see cref="ChunksPerThread"/> chunks per thread.</summary>
    internal static int ChunkRows(int n, int threads)
    {
        long target = ((long)n + (long)threads * ChunksPerThread - 1) / ((long)threads * ChunksPerThread);
        long rows = Math.Max(MinChunkRows, (target + RowAlignment - 1) / RowAlignment * RowAlignment);
        return (int)Math.Min(rows, int.MaxValue / 2);
    }

    /// <summary>
    /// The generator steps (<see cref="FlowRandom.NextUInt64"/>) the flow's base draws per sampled row, or 0 when that is not
    /// fixed or not known: the standard normal and the diagonal Gaussian fill the batch with <see cref="FlowRandom.FillGaussian(Span{float})"/>
    /// (one step per value, in pairs; a chunk of <see cref="RowAlignment"/>-row multiples holds an even count), a Gaussian
    /// mixture draws per row the component (one step) and Dim normals by <see cref="FlowRandom.NextGaussian"/> (two steps each).
    /// </summary>
    private static int DrawsPerRow<T>(ICouplingFlow<T> flow) where T : unmanaged
    {
        string spec = flow.StackSpec;
        const string Key = "\"base\":{\"kind\":\"";
        int at = spec.IndexOf(Key, StringComparison.Ordinal);
        if (at < 0) return 0;
        ReadOnlySpan<char> kind = spec.AsSpan(at + Key.Length);
        int end = kind.IndexOf('"');
        if (end < 0) return 0;
        kind = kind.Slice(0, end);
        return kind switch
        {
            "standard_normal" or "diagonal_gaussian" => flow.Dim,
            "gaussian_mixture" => 1 + 2 * flow.Dim,
            _ => 0,
        };
    }

    // ------------------------------------------------------------------ the split call

    private enum BatchOp { LogProb, Forward, Inverse, Sample }

    private static unsafe int Run<T>(BatchOp op, ICouplingFlow<T> flow, ReadOnlySpan<T> input, ReadOnlySpan<T> contexts, Span<T> output, Span<T> values,
        int n, int threads, FlowRandom? rng, int drawsPerRow = 0) where T : unmanaged
    {
        BatchJob<T> job = BatchJob<T>.Rent();
        try
        {
            fixed (T* pIn = input)
            fixed (T* pContexts = contexts)
            fixed (T* pOut = output)
            fixed (T* pValues = values)
            {
                int chunkRows = ChunkRows(n, threads);
                int chunks = (n + chunkRows - 1) / chunkRows;
                job.Set(op, flow, pIn, pContexts, contexts.Length, pOut, pValues, values.Length, n, chunkRows);
                if (op != BatchOp.Sample)
                {
                    ParallelWorkers.Run(job, chunks, threads);
                    return job.NonFinite;
                }
                job.PositionGenerators(rng!, chunks, drawsPerRow);
                ParallelWorkers.Run(job, chunks, threads);
                if (job.GeneratorsMet(rng!, chunks)) return job.NonFinite;
            }
            // a chunk's draws did not end where the next one's began: the one-thread call, from the original state
            job.RestoreStart(rng!);
            return flow.Sample(output, contexts, values, rng!);
        }
        finally
        {
            job.Return();
        }
    }

    /// <summary>
    /// One split call: the flow, the spans as pinned pointers (the caller keeps them pinned and waits for every chunk), and for
    /// Sample one generator per chunk. One instance per calling thread is kept for reuse, so a call allocates nothing.
    /// </summary>
    private sealed unsafe class BatchJob<T> : IParallelWork where T : unmanaged
    {
        [ThreadStatic] private static BatchJob<T>? t_spare;

        private BatchOp _op;
        private ICouplingFlow<T>? _flow;
        private T* _input, _contexts, _output, _values;
        private int _dim, _cdim, _rows, _chunkRows, _valuesLength;
        private bool _sharedContext;
        private int _nonFinite;
        private FlowRandom[] _generators = Array.Empty<FlowRandom>();
        private ulong[] _starts = Array.Empty<ulong>();

        /// <summary>This thread's spare job (taken out while in use, so a nested call gets its own).</summary>
        public static BatchJob<T> Rent()
        {
            BatchJob<T> job = t_spare ?? new BatchJob<T>();
            t_spare = null;
            return job;
        }

        public void Return()
        {
            _flow = null;
            _input = _contexts = _output = _values = null;
            t_spare = this;
        }

        public int NonFinite => Volatile.Read(ref _nonFinite);

        public void Set(BatchOp op, ICouplingFlow<T> flow, T* input, T* contexts, int contextsLength, T* output, T* values, int valuesLength, int rows, int chunkRows)
        {
            _op = op;
            _flow = flow;
            _input = input;
            _contexts = contexts;
            _output = output;
            _values = values;
            _valuesLength = valuesLength;
            _dim = flow.Dim;
            _cdim = flow.ContextDim;
            _rows = rows;
            _chunkRows = chunkRows;
            _sharedContext = _cdim > 0 && contextsLength == _cdim;
            _nonFinite = 0;
        }

        /// <summary>Sample: generator c starts where the one-thread call's draws for chunk c begin (rng's state stepped past the chunks before).</summary>
        public void PositionGenerators(FlowRandom rng, int chunks, int drawsPerRow)
        {
            if (_generators.Length < chunks)
            {
                var grown = new FlowRandom[chunks];
                Array.Copy(_generators, grown, _generators.Length);
                for (int c = _generators.Length; c < chunks; c++) grown[c] = new FlowRandom(0);
                _generators = grown;
                _starts = new ulong[4 * chunks];
            }
            RandomState.Copy(rng, _generators[0]);
            RandomState.Save(rng, _starts, 0);
            long steps = (long)_chunkRows * drawsPerRow;
            for (int c = 1; c < chunks; c++)
            {
                FlowRandom g = _generators[c];
                RandomState.Copy(_generators[c - 1], g);
                for (long s = 0; s < steps; s++) g.NextUInt64();
                RandomState.Save(g, _starts, c);
            }
        }

        /// <summary>Sample, after the chunks: true when each chunk's draws ended where the next began; then rng takes the last chunk's end state.</summary>
        public bool GeneratorsMet(FlowRandom rng, int chunks)
        {
            for (int c = 0; c + 1 < chunks; c++)
            {
                if (!RandomState.Equals(_generators[c], _starts, c + 1)) return false;
            }
            RandomState.Copy(_generators[chunks - 1], rng);
            return true;
        }

        /// <summary>Sample: rng back to its state at the call.</summary>
        public void RestoreStart(FlowRandom rng) => RandomState.Load(_starts, 0, rng);

        public void Run(int index)
        {
            int start = index * _chunkRows, count = Math.Min(_chunkRows, _rows - start);
            int dim = _dim, cdim = _cdim;
            var input = new ReadOnlySpan<T>(_input + (long)start * dim, count * dim);
            var output = new Span<T>(_output + (long)start * dim, count * dim);
            ReadOnlySpan<T> contexts = cdim == 0 ? default
                : _sharedContext ? new ReadOnlySpan<T>(_contexts, cdim)
                : new ReadOnlySpan<T>(_contexts + (long)start * cdim, count * cdim);
            Span<T> values = _valuesLength == 0 ? default : new Span<T>(_values + start, count);
            ICouplingFlow<T> flow = _flow!;
            int nonFinite = 0;
            switch (_op)
            {
                case BatchOp.LogProb: flow.LogProb(input, contexts, values); break;
                case BatchOp.Forward: flow.Forward(input, contexts, output, values); break;
                case BatchOp.Inverse: nonFinite = flow.Inverse(input, contexts, output, values); break;
                case BatchOp.Sample: nonFinite = flow.Sample(output, contexts, values, _generators[index]); break;
            }
            if (nonFinite != 0) Interlocked.Add(ref _nonFinite, nonFinite);
        }
    }

    /// <summary>A <see cref="FlowRandom"/>'s four state words, read and written without allocating a clone.</summary>
    private static class RandomState
    {
        [UnsafeAccessor(UnsafeAccessorKind.Field, Name = "_s0")] private static extern ref ulong S0(FlowRandom rng);
        [UnsafeAccessor(UnsafeAccessorKind.Field, Name = "_s1")] private static extern ref ulong S1(FlowRandom rng);
        [UnsafeAccessor(UnsafeAccessorKind.Field, Name = "_s2")] private static extern ref ulong S2(FlowRandom rng);
        [UnsafeAccessor(UnsafeAccessorKind.Field, Name = "_s3")] private static extern ref ulong S3(FlowRandom rng);

        public static void Copy(FlowRandom from, FlowRandom to)
        {
            S0(to) = S0(from);
            S1(to) = S1(from);
            S2(to) = S2(from);
            S3(to) = S3(from);
        }

        public static void Save(FlowRandom rng, ulong[] states, int slot)
        {
            states[4 * slot] = S0(rng);
            states[4 * slot + 1] = S1(rng);
            states[4 * slot + 2] = S2(rng);
            states[4 * slot + 3] = S3(rng);
        }

        public static void Load(ulong[] states, int slot, FlowRandom rng)
        {
            S0(rng) = states[4 * slot];
            S1(rng) = states[4 * slot + 1];
            S2(rng) = states[4 * slot + 2];
            S3(rng) = states[4 * slot + 3];
        }

        public static bool Equals(FlowRandom rng, ulong[] states, int slot) =>
            S0(rng) == states[4 * slot] && S1(rng) == states[4 * slot + 1] && S2(rng) == states[4 * slot + 2] && S3(rng) == states[4 * slot + 3];
    }
}
