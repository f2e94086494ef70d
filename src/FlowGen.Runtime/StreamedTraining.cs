using System;
using System.Numerics;
using System.Threading;
using System.Threading.Tasks;

namespace FlowGen;

// Training from an IFlowDataSource: the trainer holds a window of a few chunks at a time (TrainingOptions.ShuffleBufferChunks),
// so memory does not depend on the source's length. Everything after the batch's rows (shards, objective, reduction, Adam,
// schedule, divergence guard, validation tracking, progress) is the in-memory trainer's own code.
public static partial class FlowTrainer
{
    private const int InitializationRows = 4096;

    /// <summary>
    /// Maximum-likelihood training on rows streamed from <paramref name="source"/> (conditional or not), without validation
    /// (pass a held-out source to the overload with <c>validation</c>; <see cref="TrainingOptions.ValidationFraction"/> does not
    /// apply to a stream). See <see cref="Fit{T}(ICouplingFlow{T}, IFlowDataSource{T}, IFlowDataSource{T}?, IFlowObjective{T}, TrainingOptions?, IProgress{TrainingProgress}?, CancellationToken)"/>
    /// for how rows are shuffled and what is held in memory.
    /// </summary>
    /// <param name="flow">The flow; its parameters are trained in place.</param>
    /// <param name="source">Training rows (Dim = flow.Dim, ContextDim = flow.ContextDim).</param>
    /// <param name="options">Options (defaults when null).</param>
    /// <param name="progress">Receives a report every <see cref="TrainingOptions.EvaluateEvery"/> steps and at every event.</param>
    /// <param name="cancellationToken">Stops the run between steps.</param>
    /// <returns>How the run went.</returns>
    public static TrainingResult Train<T>(ICouplingFlow<T> flow, IFlowDataSource<T> source, TrainingOptions? options = null,
        IProgress<TrainingProgress>? progress = null, CancellationToken cancellationToken = default)
        where T : unmanaged, IFloatingPointIeee754<T> =>
        Fit(flow, source, null, MaximumLikelihoodObjective<T>.Instance, options, progress, cancellationToken);

    /// <summary>
    /// Maximum-likelihood training on rows streamed from <paramref name="source"/>, validated on the rows streamed from
    /// <paramref name="validation"/> (read in full at every evaluation: keep it small, or evaluate rarely).
    /// </summary>
    /// <param name="flow">The flow; its parameters are trained in place.</param>
    /// <param name="source">Training rows.</param>
    /// <param name="validation">Held-out rows of the same widths (≥ 1 row), or null for none.</param>
    /// <param name="options">Options (defaults when null).</param>
    /// <param name="progress">Receives a report every <see cref="TrainingOptions.EvaluateEvery"/> steps and at every event.</param>
    /// <param name="cancellationToken">Stops the run between steps.</param>
    /// <returns>How the run went.</returns>
    public static TrainingResult Train<T>(ICouplingFlow<T> flow, IFlowDataSource<T> source, IFlowDataSource<T>? validation, TrainingOptions? options = null,
        IProgress<TrainingProgress>? progress = null, CancellationToken cancellationToken = default)
        where T : unmanaged, IFloatingPointIeee754<T> =>
        Fit(flow, source, validation, MaximumLikelihoodObjective<T>.Instance, options, progress, cancellationToken);

    /// <summary>Minimises any <see cref="IFlowObjective{T}"/> over rows streamed from <paramref name="source"/>, without validation.</summary>
    /// <param name="flow">The flow; its parameters are trained in place.</param>
    /// <param name="source">Training rows.</param>
    /// <param name="objective">The loss (its batches have no targets).</param>
    /// <param name="options">Options (defaults when null).</param>
    /// <param name="progress">Receives a report every <see cref="TrainingOptions.EvaluateEvery"/> steps and at every event.</param>
    /// <param name="cancellationToken">Stops the run between steps.</param>
    /// <returns>How the run went.</returns>
    public static TrainingResult Fit<T>(ICouplingFlow<T> flow, IFlowDataSource<T> source, IFlowObjective<T> objective, TrainingOptions? options = null,
        IProgress<TrainingProgress>? progress = null, CancellationToken cancellationToken = default)
        where T : unmanaged, IFloatingPointIeee754<T> =>
        Fit(flow, source, null, objective, options, progress, cancellationToken);

    /// <summary>
    /// Minimises any <see cref="IFlowObjective{T}"/> over rows streamed from <paramref name="source"/>, validated on
    /// <paramref name="validation"/> (null: no validation).
    /// </summary>
    /// <remarks>
    /// <para>Order of rows. Every epoch visits the chunks in a fresh seeded order (a shuffle of 0 … ChunkCount − 1) and reads
    /// them in windows of <see cref="TrainingOptions.ShuffleBufferChunks"/> consecutive chunks of that order; the rows of a
    /// window are shuffled (a seeded permutation) and cut into batches in that order, a batch straddling two windows or two
    /// epochs as in memory. The row shuffle draws from the same generator, in the same way, as the in-memory trainer's
    /// per-epoch shuffle, so a one-chunk source whose rows are in the order in which the in-memory trainer stores them
    /// (after its one initial shuffle with seed <see cref="TrainingOptions.Seed"/> + 0x5EED) gives bit-identical parameters
    /// to the in-memory <c>Train</c>/<c>Fit</c> with the same seed and validation set; for rows in their given order the two
    /// runs differ by exactly that initial permutation.</para>
    /// <para>Determinism: reading is sequential, the shards and their reduction are the in-memory trainer's, so a given seed
    /// and source give bit-identical parameters for every <see cref="TrainingOptions.Threads"/>.</para>
    /// <para>Memory: the window (ShuffleBufferChunks × MaxChunkRows rows and contexts, plus an int per row), one chunk of
    /// the validation source, and the batch's shards: independent of the source's length.</para>
    /// <para>Data initialisation (ActNorm, for objectives that use it): the first 4096 rows of the first window, in the order
    /// read (the first chunks of epoch 0's chunk order).</para>
    /// <para>Steps: <see cref="TrainingOptions.Epochs"/> × ⌈rows / BatchSize⌉ (a source with unknown RowCount is counted in one
    /// pass first), or <see cref="TrainingOptions.Steps"/>. Validation: the objective's loss summed over all rows of
    /// <paramref name="validation"/> (chunks in order, cut into pieces of 1024 rows, summed in order) divided by their number.</para>
    /// </remarks>
    /// <param name="flow">The flow; its parameters are trained in place.</param>
    /// <param name="source">Training rows (Dim = flow.Dim, ContextDim = flow.ContextDim).</param>
    /// <param name="validation">Held-out rows of the same widths, or null.</param>
    /// <param name="objective">The loss (its batches have no targets; row indices are the rows' indices in the source).</param>
    /// <param name="options">Options (defaults when null).</param>
    /// <param name="progress">Receives a report every <see cref="TrainingOptions.EvaluateEvery"/> steps and at every event.</param>
    /// <param name="cancellationToken">Stops the run between steps.</param>
    /// <returns>How the run went.</returns>
    /// <exception cref="ArgumentException">A source's widths do not fit the flow, it has too few rows, or a value read is NaN or infinite
    /// (the message names the row).</exception>
    /// <exception cref="InvalidOperationException">A source broke its contract (a chunk of more than MaxChunkRows rows).</exception>
    public static TrainingResult Fit<T>(ICouplingFlow<T> flow, IFlowDataSource<T> source, IFlowDataSource<T>? validation, IFlowObjective<T> objective,
        TrainingOptions? options = null, IProgress<TrainingProgress>? progress = null, CancellationToken cancellationToken = default)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(flow);
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(objective);
        options ??= new TrainingOptions();
        options.Validate();
        CheckSource(flow, source, nameof(source));
        if (validation is not null) CheckSource(flow, validation, nameof(validation));
        long n = FlowDataSource.CountRows(source);
        if (n < 2) throw new ArgumentException($"source needs at least 2 rows; it has {n}.", nameof(source));
        if (n > int.MaxValue) throw new ArgumentException($"source has {n} rows; the trainer counts at most {int.MaxValue} rows per epoch (split it into sources of fewer rows).", nameof(source));
        long m = validation is null ? 0 : FlowDataSource.CountRows(validation);
        if (validation is not null && m < 1) throw new ArgumentException("validation needs at least 1 row; it has 0.", nameof(validation));
        if (m > int.MaxValue) throw new ArgumentException($"validation has {m} rows; at most {int.MaxValue}.", nameof(validation));

        int batch = (int)Math.Min(options.BatchSize, n);
        var set = new DataSet<T>
        {
            Dim = flow.Dim, ContextDim = flow.ContextDim, TargetDim = 0, TrainRows = (int)n, ValidationRows = (int)m,
            Inputs = new T[batch * flow.Dim], Contexts = new T[batch * flow.ContextDim], Indices = new int[batch],
        };
        var stream = new StreamedRows<T>(flow, source, validation, set, options);
        set.Stream = stream;
        if (!flow.IsDataInitialized && objective.UsesDataInitialization) stream.InitializeFlow();
        return Run(flow, set, objective, options, progress, cancellationToken);
    }

    /// <summary>Mean negative log-likelihood (nats per row, in double) of the rows streamed from a source, holding one chunk at a time.</summary>
    /// <param name="flow">The flow.</param>
    /// <param name="source">The rows (and contexts).</param>
    /// <param name="threads">Worker threads (0: all cores). The result does not depend on it.</param>
    /// <returns>The mean NLL, or NaN for no rows.</returns>
    /// <remarks>The chunks are read in order and cut into pieces of 1024 rows whose sums are added in order; for a flow trained on
    /// standardised rows, the NLL in data units is this value (on the standardised source) minus <see cref="Standardizer.LogDet"/>.</remarks>
    public static double MeanNll<T>(ICouplingFlow<T> flow, IFlowDataSource<T> source, int threads = 0)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(flow);
        ArgumentNullException.ThrowIfNull(source);
        CheckSource(flow, source, nameof(source));
        (double sum, long n) = StreamedRows<T>.SumOverSource(flow, source, MaximumLikelihoodObjective<T>.Instance, 0, threads <= 0 ? Environment.ProcessorCount : threads, nameof(source));
        return n == 0 ? double.NaN : sum / n;
    }

    private static void CheckSource<T>(ICouplingFlow<T> flow, IFlowDataSource<T> source, string name) where T : unmanaged
    {
        if (source.Dim != flow.Dim) throw new ArgumentException($"{name}.Dim must be the flow's Dim ({flow.Dim}); it is {source.Dim}.", name);
        if (source.ContextDim != flow.ContextDim)
        {
            throw new ArgumentException($"{name}.ContextDim must be the flow's ContextDim ({flow.ContextDim}); it is {source.ContextDim}.", name);
        }
        if (source.ChunkCount < 1) throw new ArgumentException($"{name}.ChunkCount must be at least 1; it is {source.ChunkCount}.", name);
        if (source.MaxChunkRows < 1) throw new ArgumentException($"{name}.MaxChunkRows must be at least 1; it is {source.MaxChunkRows}.", name);
    }

    /// <summary>Where a row feed for the trainer comes from: a shuffled array of row indices, or a stream.</summary>
    internal interface IRowFeed
    {
        /// <summary>The epoch (0-based) of the last row handed out; −1 before the first batch.</summary>
        int Epoch { get; }

        /// <summary>The rows of the next batch, as indices into the run's <see cref="DataSet{T}"/>.</summary>
        int[] Next();
    }

    /// <summary>
    /// The streamed rows of a run: the window of chunks, the batch it fills (the run's <see cref="DataSet{T}"/> holds exactly
    /// the current batch, rows 0 … B − 1), and the streamed validation.
    /// </summary>
    internal sealed class StreamedRows<T> where T : unmanaged, IFloatingPointIeee754<T>
    {
        private const int Piece = 1024;
        private readonly ICouplingFlow<T> _flow;
        private readonly IFlowDataSource<T> _source;
        private readonly IFlowDataSource<T>? _validation;
        private readonly DataSet<T> _set;
        private readonly int _windowChunks;
        private readonly T[] _rows, _contexts;
        private readonly int[] _indices;
        private readonly int[] _chunkOrder;
        private readonly FlowRandom _chunkShuffle, _rowShuffle;
        private int[] _order = Array.Empty<int>();
        private int _windowRows, _cursor, _nextChunk;
        private bool _shuffled; // whether the current window's order has been drawn (lazily, at its first row, as in memory)

        public StreamedRows(ICouplingFlow<T> flow, IFlowDataSource<T> source, IFlowDataSource<T>? validation, DataSet<T> set, TrainingOptions options)
        {
            _flow = flow;
            _source = source;
            _validation = validation;
            _set = set;
            _windowChunks = Math.Min(options.ShuffleBufferChunks, source.ChunkCount);
            long capacity = (long)_windowChunks * source.MaxChunkRows;
            _rows = new T[checked((int)(capacity * source.Dim))];
            _contexts = new T[checked((int)(capacity * source.ContextDim))];
            _indices = new int[checked((int)capacity)];
            _chunkOrder = new int[source.ChunkCount];
            for (int i = 0; i < _chunkOrder.Length; i++) _chunkOrder[i] = i;
            // the row shuffle is the in-memory BatchSampler's generator; the chunk order has its own
            _rowShuffle = new FlowRandom(options.Seed ^ 0x9E3779B97F4A7C15UL);
            _chunkShuffle = new FlowRandom(options.Seed ^ 0xC4C1E5D0A7B3F219UL);
            _nextChunk = _chunkOrder.Length; // the first window starts epoch 0
        }

        /// <summary>The epoch (0-based) of the window being read; −1 before the first.</summary>
        public int Epoch { get; private set; } = -1;

        /// <summary>ActNorm's data initialisation from the first rows of the first window, in the order read.</summary>
        public void InitializeFlow()
        {
            if (_windowRows == 0) LoadWindow();
            int rows = Math.Min(_windowRows, InitializationRows);
            _flow.InitializeFromData(_rows.AsSpan(0, rows * _source.Dim), _source.ContextDim > 0 ? _contexts.AsSpan(0, rows * _source.ContextDim) : default);
        }

        /// <summary>The feed the training loop draws batches from.</summary>
        public IRowFeed CreateFeed(int batch) => new Feed(this, batch);

        /// <summary>Reads the next window of chunks (starting an epoch, with a new chunk order, when the last one is used up).</summary>
        private void LoadWindow()
        {
            int dim = _source.Dim, cdim = _source.ContextDim, max = _source.MaxChunkRows;
            for (int attempt = 0; ; attempt++)
            {
                if (_nextChunk >= _chunkOrder.Length)
                {
                    if (attempt > _chunkOrder.Length) throw new ArgumentException("source returned no rows in a whole pass over its chunks.", "source");
                    _chunkShuffle.Shuffle(_chunkOrder.AsSpan());
                    _nextChunk = 0;
                    Epoch++;
                }
                int filled = 0;
                for (int k = 0; k < _windowChunks && _nextChunk < _chunkOrder.Length; k++)
                {
                    int chunk = _chunkOrder[_nextChunk++];
                    filled += ReadChecked(_source, chunk, _rows.AsSpan(filled * dim, max * dim), _contexts.AsSpan(filled * cdim, max * cdim),
                        _indices.AsSpan(filled, max), "source");
                }
                if (filled == 0) continue;
                _windowRows = filled;
                _cursor = 0;
                if (_order.Length != filled)
                {
                    // a window of a new size starts from the identity; one of the same size is re-shuffled in place, as in memory
                    _order = new int[filled];
                    for (int i = 0; i < filled; i++) _order[i] = i;
                }
                _shuffled = false;
                return;
            }
        }

        /// <summary>The window position of the next row handed out.</summary>
        private int NextRow()
        {
            if (_cursor >= _windowRows) LoadWindow();
            if (!_shuffled)
            {
                _rowShuffle.Shuffle(_order.AsSpan());
                _shuffled = true;
            }
            return _order[_cursor++];
        }

        /// <summary>Reads a chunk, checks the count and the values, and writes its rows' indices (−1 beyond int.MaxValue).</summary>
        internal static int ReadChecked(IFlowDataSource<T> source, int chunk, Span<T> rows, Span<T> contexts, Span<int> indices, string name)
        {
            int count = source.ReadChunk(chunk, rows, contexts, out long firstRow);
            if (count < 0 || count > source.MaxChunkRows)
            {
                throw new InvalidOperationException($"{name}.ReadChunk({chunk}) returned {count} rows; a chunk holds 0 to MaxChunkRows = {source.MaxChunkRows}.");
            }
            int dim = source.Dim, cdim = source.ContextDim;
            int bad = IndexOfNonFinite<T>(rows[..(count * dim)]);
            if (bad >= 0)
            {
                throw new ArgumentException($"Row {firstRow + bad / dim} of {name} (chunk {chunk}) has a non-finite value ({rows[bad]}) at column {bad % dim}; clean or drop that row before training.", name);
            }
            if (cdim > 0 && (bad = IndexOfNonFinite<T>(contexts[..(count * cdim)])) >= 0)
            {
                throw new ArgumentException($"Row {firstRow + bad / cdim} of {name} (chunk {chunk}) has a non-finite context value ({contexts[bad]}) at column {bad % cdim}.", name);
            }
            for (int i = 0; i < count; i++)
            {
                long r = firstRow + i;
                indices[i] = r <= int.MaxValue ? (int)r : -1;
            }
            return count;
        }

        /// <summary>The objective's mean loss over the validation source.</summary>
        public double ValidationLoss(ObjectiveRunner<T> runner, int threads)
        {
            (double sum, long n) = SumOverSource(_flow, _validation!, runner.Objective, runner.Seed, threads, "validation");
            return sum / n;
        }

        /// <summary>
        /// Σ of the objective's loss over every row of a source: chunks in order, each cut into pieces of 1024 rows evaluated in
        /// parallel; the pieces' sums are added in order (as the in-memory validation adds its chunks), with the same noise seeds.
        /// </summary>
        internal static (double Sum, long Rows) SumOverSource(ICouplingFlow<T> flow, IFlowDataSource<T> source, IFlowObjective<T> objective, ulong seed, int threads, string name)
        {
            int dim = source.Dim, cdim = source.ContextDim, max = source.MaxChunkRows;
            var rows = new T[checked(max * dim)];
            var contexts = new T[checked(max * cdim)];
            var indices = new int[max];
            var sums = new double[(max + Piece - 1) / Piece];
            double total = 0;
            long n = 0;
            int piece = 0;
            for (int c = 0; c < source.ChunkCount; c++)
            {
                int count = ReadChecked(source, c, rows, contexts, indices, name);
                int pieces = (count + Piece - 1) / Piece, first = piece;
                Parallel.For(0, pieces, new ParallelOptions { MaxDegreeOfParallelism = threads }, p =>
                {
                    int start = p * Piece, k = Math.Min(Piece, count - start);
                    var batch = new FlowBatch<T>(k, rows.AsSpan(start * dim, k * dim), contexts.AsSpan(start * cdim, k * cdim), default,
                        indices.AsSpan(start, k), isValidation: true, step: -1, first + p, ObjectiveRunner<T>.NoiseSeed(seed ^ 0x7A11DA7E5EEDUL, -1, first + p));
                    sums[p] = objective.Loss(flow, batch);
                });
                for (int p = 0; p < pieces; p++) total += sums[p];
                piece += pieces;
                n += count;
            }
            return (total, n);
        }

        /// <summary>Fills the run's batch (rows 0 … B − 1 of its DataSet) from the window, and hands out 0 … B − 1.</summary>
        private sealed class Feed : IRowFeed
        {
            private readonly StreamedRows<T> _rows;
            private readonly int[] _identity;

            public Feed(StreamedRows<T> rows, int batch)
            {
                _rows = rows;
                _identity = new int[batch];
                for (int i = 0; i < batch; i++) _identity[i] = i;
            }

            public int Epoch => _rows.Epoch;

            public int[] Next()
            {
                var s = _rows;
                DataSet<T> set = s._set;
                int dim = set.Dim, cdim = set.ContextDim;
                for (int i = 0; i < _identity.Length; i++)
                {
                    int r = s.NextRow();
                    Array.Copy(s._rows, r * dim, set.Inputs, i * dim, dim);
                    if (cdim > 0) Array.Copy(s._contexts, r * cdim, set.Contexts, i * cdim, cdim);
                    set.Indices[i] = s._indices[r];
                }
                return _identity;
            }
        }
    }
}
