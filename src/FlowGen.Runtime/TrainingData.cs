using System;
using System.Numerics;
using System.Threading;
using System.Threading.Tasks;

namespace FlowGen;

// The trainer's data (training rows, then validation rows, held as arrays so that shards can run in parallel) and the
// objectives it minimises (NLL, or the squared error of a map), computed shard by shard.
public static partial class FlowTrainer
{
    /// <summary>Rows given to the trainer: inputs, their contexts and (map fitting) targets, with the names used in error messages.</summary>
    internal readonly ref struct Rows<T> where T : unmanaged
    {
        public readonly ReadOnlySpan<T> Inputs, Contexts, Targets;
        public readonly string InputsName, InputsParameter, ContextsName, ContextsParameter;

        public Rows(ReadOnlySpan<T> inputs, ReadOnlySpan<T> contexts, ReadOnlySpan<T> targets, string inputsName, string inputsParameter, string contextsName, string contextsParameter)
        {
            Inputs = inputs;
            Contexts = contexts;
            Targets = targets;
            InputsName = inputsName;
            InputsParameter = inputsParameter;
            ContextsName = contextsName;
            ContextsParameter = contextsParameter;
        }
    }

    /// <summary>
    /// The rows the trainer uses: [0, TrainRows) train, [TrainRows, TrainRows + ValidationRows) validate. With a random split the
    /// given rows are shuffled once and the last ValidationFraction of them are held out; with an explicit validation set the
    /// training rows are shuffled the same way (so ActNorm's data initialisation sees a random subset) and the validation rows
    /// follow them in their given order.
    /// </summary>
    internal sealed class DataSet<T> where T : unmanaged, IFloatingPointIeee754<T>
    {
        public int Dim, ContextDim, TrainRows, ValidationRows;
        public T[] Inputs = Array.Empty<T>(), Targets = Array.Empty<T>(), Contexts = Array.Empty<T>();

        /// <summary>A random split of <paramref name="rows"/>.</summary>
        public static DataSet<T> Create(ICouplingFlow<T> flow, TrainingOptions options, Rows<T> rows, string? targetsName)
        {
            options.Validate();
            int n = Check(flow, rows, targetsName, minimumRows: 2);
            int validation = (int)Math.Floor(n * options.ValidationFraction);
            if (options.ValidationFraction > 0 && validation == 0 && n >= 4) validation = 1;
            if (n - validation < 1) validation = n - 1;
            var set = Allocate(flow, n, targetsName is not null);
            set.TrainRows = n - validation;
            set.ValidationRows = validation;
            set.CopyShuffled(rows, n, options.Seed);
            return set;
        }

        /// <summary>All of <paramref name="training"/> for training, <paramref name="validation"/> for validation (no split).</summary>
        public static DataSet<T> Create(ICouplingFlow<T> flow, TrainingOptions options, Rows<T> training, string? targetsName, Rows<T> validation)
        {
            options.Validate();
            int n = Check(flow, training, targetsName, minimumRows: 2);
            int m = Check(flow, validation, targetsName, minimumRows: 1);
            var set = Allocate(flow, n + m, targetsName is not null);
            set.TrainRows = n;
            set.ValidationRows = m;
            set.CopyShuffled(training, n, options.Seed);
            validation.Inputs.CopyTo(set.Inputs.AsSpan(n * set.Dim));
            if (targetsName is not null) validation.Targets.CopyTo(set.Targets.AsSpan(n * set.Dim));
            validation.Contexts.CopyTo(set.Contexts.AsSpan(n * set.ContextDim));
            return set;
        }

        private static DataSet<T> Allocate(ICouplingFlow<T> flow, int rows, bool targets) => new()
        {
            Dim = flow.Dim, ContextDim = flow.ContextDim,
            Inputs = new T[rows * flow.Dim], Targets = targets ? new T[rows * flow.Dim] : Array.Empty<T>(), Contexts = new T[rows * flow.ContextDim],
        };

        /// <summary>Checks the lengths and values of the rows against the flow; returns the number of rows.</summary>
        private static int Check(ICouplingFlow<T> flow, Rows<T> rows, string? targetsName, int minimumRows)
        {
            int dim = flow.Dim, cdim = flow.ContextDim;
            if (rows.Inputs.Length % dim != 0)
            {
                throw new ArgumentException($"{rows.InputsName}.Length must be a multiple of Dim = {dim} (row-major [n, {dim}]); it is {rows.Inputs.Length}.", rows.InputsParameter);
            }
            int n = rows.Inputs.Length / dim;
            if (n < minimumRows) throw new ArgumentException($"{rows.InputsName} needs at least {minimumRows} row{(minimumRows == 1 ? "" : "s")}; it has {n}.", rows.InputsParameter);
            CheckContextLength(rows.Contexts.Length, n, cdim, rows.ContextsName, rows.ContextsParameter);
            RejectNonFinite(rows.Inputs, dim, rows.InputsName, rows.InputsParameter);
            if (targetsName is not null) RejectNonFinite(rows.Targets, dim, targetsName, targetsName);
            if (cdim > 0) RejectNonFinite(rows.Contexts, cdim, rows.ContextsName, rows.ContextsParameter);
            return n;
        }

        /// <summary>Copies the first <paramref name="n"/> rows of the set from <paramref name="rows"/> in one seeded shuffle.</summary>
        private void CopyShuffled(Rows<T> rows, int n, ulong seed)
        {
            var perm = new int[n];
            for (int i = 0; i < n; i++) perm[i] = i;
            new FlowRandom(seed + 0x5EEDUL).Shuffle(perm.AsSpan());
            int dim = Dim, cdim = ContextDim;
            bool targets = Targets.Length > 0;
            for (int i = 0; i < n; i++)
            {
                int src = perm[i];
                rows.Inputs.Slice(src * dim, dim).CopyTo(Inputs.AsSpan(i * dim));
                if (targets) rows.Targets.Slice(src * dim, dim).CopyTo(Targets.AsSpan(i * dim));
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

    internal abstract class Objective<T> where T : unmanaged, IFloatingPointIeee754<T>
    {
        protected readonly ICouplingFlow<T> Flow;
        protected readonly DataSet<T> Set;
        private T[][] _shardGradients = Array.Empty<T[]>();
        private double[] _shardLoss = Array.Empty<double>();
        private T[][] _shardInputs = Array.Empty<T[]>(), _shardTargets = Array.Empty<T[]>(), _shardContexts = Array.Empty<T[]>();

        protected Objective(ICouplingFlow<T> flow, DataSet<T> set)
        {
            Flow = flow;
            Set = set;
        }

        public virtual bool UsesDataInitialization => true;

        /// <summary>
        /// Mean loss over the batch rows; the gradient of the mean is added to <paramref name="gradient"/>. Each shard's gradient
        /// goes into the shard's own buffer, zeroed just before the shard's one call into the flow, so the result is the same
        /// whether the flow overwrites its gradient output or adds into it; the shards are then added to
        /// <paramref name="gradient"/> here, in shard order.
        /// </summary>
        public double LossAndGradient(int[] rows, T[] gradient, int threads)
        {
            int b = rows.Length;
            int shards = Math.Max(1, Math.Min(MaxShards, b / MinShardRows));
            int per = (b + shards - 1) / shards;
            if (_shardGradients.Length != shards || _shardInputs[0].Length < per * Set.Dim)
            {
                _shardGradients = new T[shards][];
                _shardLoss = new double[shards];
                _shardInputs = new T[shards][];
                _shardTargets = new T[shards][];
                _shardContexts = new T[shards][];
                for (int s = 0; s < shards; s++)
                {
                    _shardGradients[s] = new T[Flow.ParameterCount];
                    _shardInputs[s] = new T[per * Set.Dim];
                    _shardTargets[s] = new T[Set.Targets.Length > 0 ? per * Set.Dim : 0];
                    _shardContexts[s] = new T[per * Set.ContextDim];
                }
            }
            T weight = T.One / T.CreateChecked(b);
            void Shard(int s)
            {
                int start = s * per, count = Math.Min(per, b - start);
                if (count <= 0)
                {
                    // an empty shard adds nothing to the reduction; a full one's gradient is written by ShardLoss
                    Array.Clear(_shardGradients[s]);
                    _shardLoss[s] = 0;
                    return;
                }
                int dim = Set.Dim, cdim = Set.ContextDim;
                for (int i = 0; i < count; i++)
                {
                    int r = rows[start + i];
                    Array.Copy(Set.Inputs, r * dim, _shardInputs[s], i * dim, dim);
                    if (Set.Targets.Length > 0) Array.Copy(Set.Targets, r * dim, _shardTargets[s], i * dim, dim);
                    if (cdim > 0) Array.Copy(Set.Contexts, r * cdim, _shardContexts[s], i * cdim, cdim);
                }
                _shardLoss[s] = ShardLoss(_shardInputs[s].AsSpan(0, count * dim), _shardTargets[s].AsSpan(0, Set.Targets.Length > 0 ? count * dim : 0),
                    _shardContexts[s].AsSpan(0, count * cdim), _shardGradients[s], weight, count);
            }
            if (threads <= 1 || shards == 1)
            {
                for (int s = 0; s < shards; s++) Shard(s);
            }
            else
            {
                Parallel.For(0, shards, new ParallelOptions { MaxDegreeOfParallelism = threads }, Shard);
            }
            // fixed-order reduction: the result does not depend on which thread ran which shard
            double loss = 0;
            for (int s = 0; s < shards; s++)
            {
                loss += _shardLoss[s];
                AddTo<T>(gradient, _shardGradients[s]);
            }
            return loss / b;
        }

        /// <summary>Sum of the per-row losses of a shard; writes weight·Σ ∂loss/∂θ to gradient (one call into the flow, whose gradient members overwrite their output).</summary>
        protected abstract double ShardLoss(ReadOnlySpan<T> inputs, ReadOnlySpan<T> targets, ReadOnlySpan<T> contexts, T[] gradient, T weight, int count);

        public abstract double ValidationLoss(int threads);
    }

    private sealed class NllObjective<T> : Objective<T> where T : unmanaged, IFloatingPointIeee754<T>
    {
        public NllObjective(ICouplingFlow<T> flow, DataSet<T> set) : base(flow, set) { }

        protected override double ShardLoss(ReadOnlySpan<T> inputs, ReadOnlySpan<T> targets, ReadOnlySpan<T> contexts, T[] gradient, T weight, int count) =>
            Flow.NllGradient(inputs, contexts, gradient, weight);

        public override double ValidationLoss(int threads)
        {
            int start = Set.TrainRows;
            T[] rows = Set.Inputs.AsSpan(start * Set.Dim).ToArray();
            T[] ctx = Set.ContextDim > 0 ? Set.Contexts.AsSpan(start * Set.ContextDim).ToArray() : Array.Empty<T>();
            return EvaluateNll(Flow, rows, ctx, Set.ValidationRows, threads);
        }
    }

    private sealed class MapObjective<T> : Objective<T> where T : unmanaged, IFloatingPointIeee754<T>
    {
        private readonly MapDirection _direction;
        private readonly ThreadLocal<T[]> _outputs = new(() => Array.Empty<T>());

        public MapObjective(ICouplingFlow<T> flow, DataSet<T> set, MapDirection direction) : base(flow, set) => _direction = direction;

        public override bool UsesDataInitialization => false;

        private Span<T> Map(ReadOnlySpan<T> inputs, ReadOnlySpan<T> contexts, ReadOnlySpan<T> targets)
        {
            T[] buffer = _outputs.Value!;
            if (buffer.Length < inputs.Length) _outputs.Value = buffer = new T[inputs.Length];
            Span<T> outputs = buffer.AsSpan(0, inputs.Length);
            // Forward: inputs are x, the map's output is compared with y. Inverse: inputs (y) go through Inverse, compared with x.
            if (_direction == MapDirection.Forward) Flow.Forward(inputs, contexts, outputs, default);
            else Flow.Inverse(targets, contexts, outputs, default);
            return outputs;
        }

        protected override double ShardLoss(ReadOnlySpan<T> inputs, ReadOnlySpan<T> targets, ReadOnlySpan<T> contexts, T[] gradient, T weight, int count)
        {
            // Forward: minimise |f(x) − y|²; Inverse: minimise |f⁻¹(y) − x|² (the data set's inputs are x, targets y).
            ReadOnlySpan<T> wanted = _direction == MapDirection.Forward ? targets : inputs;
            Span<T> outputs = Map(inputs, contexts, targets);
            double loss = 0;
            T scale = T.CreateChecked(2) * weight / T.CreateChecked(Set.Dim);
            for (int i = 0; i < outputs.Length; i++)
            {
                T diff = outputs[i] - wanted[i];
                double d = double.CreateTruncating(diff);
                loss += d * d;
                outputs[i] = scale * diff;
            }
            if (_direction == MapDirection.Forward) Flow.ForwardVjp(inputs, contexts, outputs, default, gradient, default, default);
            else Flow.InverseVjp(targets, contexts, outputs, default, gradient, default, default);
            return loss / Set.Dim;
        }

        public override double ValidationLoss(int threads)
        {
            int start = Set.TrainRows * Set.Dim, length = Set.ValidationRows * Set.Dim;
            ReadOnlySpan<T> inputs = Set.Inputs.AsSpan(start, length), targets = Set.Targets.AsSpan(start, length);
            ReadOnlySpan<T> contexts = Set.ContextDim > 0 ? Set.Contexts.AsSpan(Set.TrainRows * Set.ContextDim) : default;
            Span<T> outputs = Map(inputs, contexts, targets);
            ReadOnlySpan<T> wanted = _direction == MapDirection.Forward ? targets : inputs;
            double loss = 0;
            for (int i = 0; i < outputs.Length; i++)
            {
                double d = double.CreateTruncating(outputs[i] - wanted[i]);
                loss += d * d;
            }
            return loss / length;
        }
    }
}
