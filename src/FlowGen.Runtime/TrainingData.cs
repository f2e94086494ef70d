using System;
using System.Numerics;
using System.Threading;
using System.Threading.Tasks;

namespace FlowGen;

// The trainer's data (training rows, then validation rows, held as arrays so that shards can run in parallel) and the
// objectives it minimises (NLL, or the squared error of a map), computed shard by shard.
public static partial class FlowTrainer
{
    /// <summary>Rows given to the trainer: inputs, their contexts and targets, with the names used in error messages.</summary>
    internal readonly ref struct Rows<T> where T : unmanaged
    {
        public readonly ReadOnlySpan<T> Inputs, Contexts, Targets;
        public readonly string InputsName, InputsParameter, ContextsName, ContextsParameter, TargetsName, TargetsParameter;

        public Rows(ReadOnlySpan<T> inputs, ReadOnlySpan<T> contexts, ReadOnlySpan<T> targets, string inputsName, string inputsParameter, string contextsName, string contextsParameter,
            string? targetsName = null, string? targetsParameter = null)
        {
            Inputs = inputs;
            Contexts = contexts;
            Targets = targets;
            InputsName = inputsName;
            InputsParameter = inputsParameter;
            ContextsName = contextsName;
            ContextsParameter = contextsParameter;
            TargetsName = targetsName ?? "targets";
            TargetsParameter = targetsParameter ?? TargetsName;
        }
    }

    /// <summary>
    /// The rows the trainer uses: [0, TrainRows) train, [TrainRows, TrainRows + ValidationRows) validate. With a random split the
    /// given rows are shuffled once and the last ValidationFraction of them are held out; with an explicit validation set the
    /// training rows are shuffled the same way (so ActNorm's data initialisation sees a random subset) and the validation rows
    /// follow them in their given order. <see cref="Indices"/> keeps every row's index in the data as given. A set without
    /// stored rows (<see cref="Virtual"/>: objectives that draw their own inputs) only counts rows.
    /// </summary>
    internal sealed class DataSet<T> where T : unmanaged, IFloatingPointIeee754<T>
    {
        /// <summary>Widths of an input row (the flow's Dim, or 0 for rows that are contexts only), a context row and a target row.</summary>
        public int Dim, ContextDim, TargetDim, TrainRows, ValidationRows;
        public T[] Inputs = Array.Empty<T>(), Targets = Array.Empty<T>(), Contexts = Array.Empty<T>();
        public int[] Indices = Array.Empty<int>();
        public bool Virtual;

        /// <summary>Rows streamed from an IFlowDataSource (the arrays then hold the current batch only), or null.</summary>
        public StreamedRows<T>? Stream;

        /// <summary>A random split of <paramref name="rows"/>; <paramref name="targetDim"/> −1: inferred from the targets' length (0 when empty).</summary>
        public static DataSet<T> Create(ICouplingFlow<T> flow, TrainingOptions options, Rows<T> rows, bool hasInputs = true, int targetDim = 0)
        {
            options.Validate();
            int dim = hasInputs ? flow.Dim : 0;
            int n = Count(flow, rows, dim, minimumRows: 2);
            targetDim = TargetWidth(rows, n, targetDim);
            Check(flow, rows, n, dim, targetDim);
            int validation = (int)Math.Floor(n * options.ValidationFraction);
            if (options.ValidationFraction > 0 && validation == 0 && n >= 4) validation = 1;
            if (n - validation < 1) validation = n - 1;
            var set = Allocate(flow, n, dim, targetDim);
            set.TrainRows = n - validation;
            set.ValidationRows = validation;
            set.CopyShuffled(rows, n, options.Seed);
            return set;
        }

        /// <summary>All of <paramref name="training"/> for training, <paramref name="validation"/> for validation (no split).</summary>
        public static DataSet<T> Create(ICouplingFlow<T> flow, TrainingOptions options, Rows<T> training, Rows<T> validation, bool hasInputs = true, int targetDim = 0)
        {
            options.Validate();
            int dim = hasInputs ? flow.Dim : 0;
            int n = Count(flow, training, dim, minimumRows: 2);
            int m = Count(flow, validation, dim, minimumRows: 1);
            targetDim = TargetWidth(training, n, targetDim);
            Check(flow, training, n, dim, targetDim);
            Check(flow, validation, m, dim, targetDim);
            var set = Allocate(flow, n + m, dim, targetDim);
            set.TrainRows = n;
            set.ValidationRows = m;
            set.CopyShuffled(training, n, options.Seed);
            validation.Inputs.CopyTo(set.Inputs.AsSpan(n * dim));
            validation.Targets.CopyTo(set.Targets.AsSpan(n * targetDim));
            validation.Contexts.CopyTo(set.Contexts.AsSpan(n * set.ContextDim));
            for (int i = 0; i < m; i++) set.Indices[n + i] = i;
            return set;
        }

        /// <summary>Rows without stored values: <paramref name="trainRows"/> to train on, <paramref name="validationRows"/> to validate.</summary>
        public static DataSet<T> CreateVirtual(ICouplingFlow<T> flow, TrainingOptions options, int trainRows, int validationRows)
        {
            options.Validate();
            return new DataSet<T> { ContextDim = flow.ContextDim, TrainRows = trainRows, ValidationRows = validationRows, Virtual = true };
        }

        private static DataSet<T> Allocate(ICouplingFlow<T> flow, int rows, int dim, int targetDim) => new()
        {
            Dim = dim, ContextDim = flow.ContextDim, TargetDim = targetDim,
            Inputs = new T[rows * dim], Targets = new T[rows * targetDim], Contexts = new T[rows * flow.ContextDim], Indices = new int[rows],
        };

        /// <summary>The number of rows: from the inputs, or (rows of contexts only) from the contexts.</summary>
        private static int Count(ICouplingFlow<T> flow, Rows<T> rows, int dim, int minimumRows)
        {
            int n;
            if (dim > 0)
            {
                if (rows.Inputs.Length % dim != 0)
                {
                    throw new ArgumentException($"{rows.InputsName}.Length must be a multiple of Dim = {dim} (row-major [n, {dim}]); it is {rows.Inputs.Length}.", rows.InputsParameter);
                }
                n = rows.Inputs.Length / dim;
            }
            else
            {
                int cdim = flow.ContextDim;
                if (cdim == 0 || rows.Contexts.Length % cdim != 0)
                {
                    throw new ArgumentException(cdim == 0
                        ? $"{rows.ContextsName} must hold context rows, but the flow is unconditional (ContextDim 0)."
                        : $"{rows.ContextsName}.Length must be a multiple of ContextDim = {cdim} (row-major [n, {cdim}]); it is {rows.Contexts.Length}.", rows.ContextsParameter);
                }
                n = rows.Contexts.Length / cdim;
            }
            if (n < minimumRows) throw new ArgumentException($"{(dim > 0 ? rows.InputsName : rows.ContextsName)} needs at least {minimumRows} row{(minimumRows == 1 ? "" : "s")}; it has {n}.", dim > 0 ? rows.InputsParameter : rows.ContextsParameter);
            return n;
        }

        private static int TargetWidth(Rows<T> rows, int n, int targetDim)
        {
            if (targetDim >= 0) return targetDim;
            if (rows.Targets.Length % n != 0)
            {
                throw new ArgumentException($"{rows.TargetsName}.Length must be a multiple of the {n} rows (row-major [n, TargetDim]); it is {rows.Targets.Length}.", rows.TargetsParameter);
            }
            return rows.Targets.Length / n;
        }

        /// <summary>Checks the lengths and values of the rows against the flow.</summary>
        private static void Check(ICouplingFlow<T> flow, Rows<T> rows, int n, int dim, int targetDim)
        {
            int cdim = flow.ContextDim;
            if (dim > 0) CheckContextLength(rows.Contexts.Length, n, cdim, rows.ContextsName, rows.ContextsParameter);
            if (rows.Targets.Length != (long)n * targetDim)
            {
                throw new ArgumentException($"{rows.TargetsName}.Length must be {(long)n * targetDim} ({n} rows × {targetDim}); it is {rows.Targets.Length}.", rows.TargetsParameter);
            }
            if (dim > 0) RejectNonFinite(rows.Inputs, dim, rows.InputsName, rows.InputsParameter);
            if (targetDim > 0) RejectNonFinite(rows.Targets, targetDim, rows.TargetsName, rows.TargetsParameter);
            if (cdim > 0) RejectNonFinite(rows.Contexts, cdim, rows.ContextsName, rows.ContextsParameter);
        }

        /// <summary>Copies the first <paramref name="n"/> rows of the set from <paramref name="rows"/> in one seeded shuffle.</summary>
        private void CopyShuffled(Rows<T> rows, int n, ulong seed)
        {
            var perm = new int[n];
            for (int i = 0; i < n; i++) perm[i] = i;
            new FlowRandom(seed + 0x5EEDUL).Shuffle(perm.AsSpan());
            int dim = Dim, cdim = ContextDim, tdim = TargetDim;
            for (int i = 0; i < n; i++)
            {
                int src = perm[i];
                Indices[i] = src;
                if (dim > 0) rows.Inputs.Slice(src * dim, dim).CopyTo(Inputs.AsSpan(i * dim));
                if (tdim > 0) rows.Targets.Slice(src * tdim, tdim).CopyTo(Targets.AsSpan(i * tdim));
                if (cdim > 0) rows.Contexts.Slice(src * cdim, cdim).CopyTo(Contexts.AsSpan(i * cdim));
            }
        }

        private static void RejectNonFinite(ReadOnlySpan<T> values, int width, string name, string parameter)
        {
            int index = IndexOfNonFinite(values);
            if (index >= 0)
            {
                throw new ArgumentException($"Row {index / width} of {name} has a non-finite value ({values[index]}) at column {index % width}; clean or drop that row before training.", parameter);
            }
        }
    }

    internal static double EvaluateNll<T>(ICouplingFlow<T> flow, T[] rows, T[] contexts, int n, int threads)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        const int Chunk = 1024;
        int chunks = (n + Chunk - 1) / Chunk;
        var sums = new double[chunks];
        int dim = flow.Dim, cdim = flow.ContextDim;
        Parallel.For(0, chunks, new ParallelOptions { MaxDegreeOfParallelism = threads }, c =>
        {
            int start = c * Chunk, count = Math.Min(Chunk, n - start);
            var lp = new T[count];
            flow.LogProb(rows.AsSpan(start * dim, count * dim), cdim > 0 ? contexts.AsSpan(start * cdim, count * cdim) : default, lp);
            double s = 0;
            foreach (T v in lp) s -= double.CreateTruncating(v);
            sums[c] = s;
        });
        double total = 0;
        foreach (double s in sums) total += s;
        return total / n;
    }

    /// <summary>
    /// Runs an <see cref="IFlowObjective{T}"/> on the trainer's rows: cuts each batch into shards (a count fixed by the batch
    /// size), gathers each shard's rows into its own buffers, calls the objective for the shards (in parallel) each into its
    /// own gradient buffer, and reduces the shards in a fixed order; validation goes in chunks of 1024 rows, likewise.
    /// </summary>
    internal sealed class ObjectiveRunner<T> : IParallelWork where T : unmanaged, IFloatingPointIeee754<T>
    {
        private const int ValidationChunk = 1024;
        private readonly ICouplingFlow<T> _flow;
        private readonly DataSet<T> _set;
        private readonly ulong _seed;
        private T[][] _shardGradients = Array.Empty<T[]>();
        private double[] _shardLoss = Array.Empty<double>();
        private T[][] _shardInputs = Array.Empty<T[]>(), _shardTargets = Array.Empty<T[]>(), _shardContexts = Array.Empty<T[]>();
        private int[][] _shardIndices = Array.Empty<int[]>();
        private int[] _virtualIndices = Array.Empty<int>();

        private readonly ShardSum _sum = new();

        // the step being computed, read by the shards (IParallelWork.Run)
        private int[] _stepRows = Array.Empty<int>();
        private int _stepPer, _step;
        private T _stepWeight = T.One;

        public ObjectiveRunner(ICouplingFlow<T> flow, DataSet<T> set, IFlowObjective<T> objective, ulong seed)
        {
            _flow = flow;
            _set = set;
            Objective = objective;
            _seed = seed;
        }

        public IFlowObjective<T> Objective { get; }

        /// <summary>The run's seed (of the noise seeds).</summary>
        public ulong Seed => _seed;

        /// <summary>
        /// Mean loss over the batch rows; the gradient of the mean is added to <paramref name="gradient"/>. Each shard's gradient
        /// goes into the shard's own buffer, written by the objective (cleared here only for an empty shard); the shards are then
        /// added to <paramref name="gradient"/> here, in shard order.
        /// </summary>
        public double LossAndGradient(int[] rows, T[] gradient, int threads, int step)
        {
            int b = rows.Length;
            int shards = Math.Max(1, Math.Min(MaxShards, b / MinShardRows));
            int per = (b + shards - 1) / shards;
            int dim = _set.Dim, cdim = _set.ContextDim, tdim = _set.TargetDim;
            if (_shardGradients.Length != shards || _shardIndices[0].Length < per)
            {
                _shardGradients = new T[shards][];
                _shardLoss = new double[shards];
                _shardInputs = new T[shards][];
                _shardTargets = new T[shards][];
                _shardContexts = new T[shards][];
                _shardIndices = new int[shards][];
                for (int s = 0; s < shards; s++)
                {
                    _shardGradients[s] = new T[_flow.ParameterCount + Objective.ObjectiveParameters.Length];
                    _shardInputs[s] = new T[per * dim];
                    _shardTargets[s] = new T[per * tdim];
                    _shardContexts[s] = new T[per * cdim];
                    _shardIndices[s] = new int[per];
                }
            }
            _stepRows = rows;
            _stepPer = per;
            _stepWeight = T.One / T.CreateChecked(b);
            _step = step;
            // the shards on the runtime's persistent workers (the caller runs shards too); with one thread, in order here
            ParallelWorkers.Run(this, shards, threads);
            _stepRows = Array.Empty<int>();
            // fixed-order reduction: the result does not depend on which thread ran which shard. Every gradient element gets
            // the shards added in shard order; the elements are cut into pieces that the workers add up in parallel.
            double loss = 0;
            for (int s = 0; s < shards; s++) loss += _shardLoss[s];
            _sum.Set(gradient, _shardGradients, shards);
            ParallelWorkers.Run(_sum, _sum.Pieces, threads);
            _sum.Set(Array.Empty<T>(), Array.Empty<T[]>(), 0);
            return loss / b;
        }

        /// <summary>Shard <paramref name="s"/> of the current step: gathers its rows into its buffers and calls the objective into its own gradient buffer.</summary>
        void IParallelWork.Run(int s)
        {
            int[] rows = _stepRows;
            int b = rows.Length, per = _stepPer;
            int dim = _set.Dim, cdim = _set.ContextDim, tdim = _set.TargetDim;
            int start = s * per, count = Math.Min(per, b - start);
            if (count <= 0)
            {
                // an empty shard adds nothing to the reduction; a full one's gradient is written by the objective
                Array.Clear(_shardGradients[s]);
                _shardLoss[s] = 0;
                return;
            }
            int[] indices = _shardIndices[s];
            for (int i = 0; i < count; i++)
            {
                int r = rows[start + i];
                if (_set.Virtual)
                {
                    indices[i] = start + i;
                    continue;
                }
                indices[i] = _set.Indices[r];
                if (dim > 0) Array.Copy(_set.Inputs, r * dim, _shardInputs[s], i * dim, dim);
                if (tdim > 0) Array.Copy(_set.Targets, r * tdim, _shardTargets[s], i * tdim, tdim);
                if (cdim > 0) Array.Copy(_set.Contexts, r * cdim, _shardContexts[s], i * cdim, cdim);
            }
            var batch = new FlowBatch<T>(count, _shardInputs[s].AsSpan(0, count * dim), _shardContexts[s].AsSpan(0, count * cdim),
                _shardTargets[s].AsSpan(0, count * tdim), indices.AsSpan(0, count), isValidation: false, _step, s, NoiseSeed(_seed, _step, s));
            _shardLoss[s] = Objective.LossAndGradient(_flow, batch, _shardGradients[s], _stepWeight);
        }

        /// <summary>target[i] += shards[0][i], then shards[1][i], …, in shard order, for the elements of one piece per item.</summary>
        private sealed class ShardSum : IParallelWork
        {
            private const int Piece = 16384;
            private T[] _target = Array.Empty<T>();
            private T[][] _shards = Array.Empty<T[]>();
            private int _count;

            public int Pieces => (_target.Length + Piece - 1) / Piece;

            public void Set(T[] target, T[][] shards, int count)
            {
                _target = target;
                _shards = shards;
                _count = count;
            }

            public void Run(int piece)
            {
                int start = piece * Piece, length = Math.Min(Piece, _target.Length - start);
                Span<T> target = _target.AsSpan(start, length);
                for (int s = 0; s < _count; s++) AddTo<T>(target, _shards[s].AsSpan(start, length));
            }
        }

        /// <summary>Mean loss over the validation rows, in chunks of 1024 rows evaluated in parallel and summed in chunk order.</summary>
        public double ValidationLoss(int threads)
        {
            if (_set.Stream is { } stream) return stream.ValidationLoss(this, threads);
            int n = _set.ValidationRows, first = _set.TrainRows;
            int chunks = (n + ValidationChunk - 1) / ValidationChunk;
            var sums = new double[chunks];
            int dim = _set.Dim, cdim = _set.ContextDim, tdim = _set.TargetDim;
            if (_set.Virtual && _virtualIndices.Length < ValidationChunk)
            {
                _virtualIndices = new int[ValidationChunk];
                for (int i = 0; i < ValidationChunk; i++) _virtualIndices[i] = i;
            }
            Parallel.For(0, chunks, new ParallelOptions { MaxDegreeOfParallelism = threads }, c =>
            {
                int start = c * ValidationChunk, count = Math.Min(ValidationChunk, n - start);
                int row = first + start;
                var batch = _set.Virtual
                    ? new FlowBatch<T>(count, default, default, default, _virtualIndices.AsSpan(0, count), isValidation: true, step: -1, c, NoiseSeed(_seed ^ 0x7A11DA7E5EEDUL, -1, c))
                    : new FlowBatch<T>(count, _set.Inputs.AsSpan(row * dim, count * dim), _set.Contexts.AsSpan(row * cdim, count * cdim),
                        _set.Targets.AsSpan(row * tdim, count * tdim), _set.Indices.AsSpan(row, count), isValidation: true, step: -1, c,
                        NoiseSeed(_seed ^ 0x7A11DA7E5EEDUL, -1, c));
                sums[c] = Objective.Loss(_flow, batch);
            });
            double total = 0;
            foreach (double s in sums) total += s;
            return total / n;
        }

        /// <summary>The seed of a call's noise: SplitMix64-style mixing of the run's seed, the step and the shard.</summary>
        internal static ulong NoiseSeed(ulong seed, int step, int shard)
        {
            ulong z = seed ^ ((ulong)(uint)step * 0x9E3779B97F4A7C15UL) ^ ((ulong)(uint)shard * 0xC2B2AE3D27D4EB4FUL);
            z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
            z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
            return z ^ (z >> 31);
        }
    }
}
