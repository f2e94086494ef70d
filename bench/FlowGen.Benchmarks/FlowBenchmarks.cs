using System;
using System.Numerics;
using BenchmarkDotNet.Attributes;

namespace FlowGen.Benchmarks;

/// <summary>The batch sizes a benchmark method runs at; <see cref="BenchConfig"/> drops every other combination.</summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class BatchesAttribute(params int[] values) : Attribute
{
    /// <summary>The batch sizes.</summary>
    public int[] Values { get; } = values;
}

/// <summary>
/// FlowGen's batch operations on one model. One derived class per model and scalar type (R8_float, …) so that names in the
/// results read plainly. Threads = 2 splits the batch into two halves run on two threads (<see cref="TwoThreads"/>);
/// the training step at 2 threads computes the two halves' gradients into separate buffers and averages them.
/// </summary>
public abstract class FlowBench<TFlow, T> : IHalfWork
    where TFlow : class, ICouplingFlowModel<TFlow, T>
    where T : unmanaged, IFloatingPointIeee754<T>
{
    private enum Op { LogProb, Forward, Inverse, Sample, Gradient }

    /// <summary>Samples per call.</summary>
    [Params(1, 256, 4096, 65536)]
    public int Batch { get; set; }

    /// <summary>Threads the batch is split over.</summary>
    [Params(1, 2)]
    public int Threads { get; set; }

    private TFlow _flow = null!;
    private int _dim;
    private T _weight = T.One;
    private T[] _xs = [], _zs = [], _out = [], _grad = [], _grad1 = [];
    private AdamOptimizer<T> _adam = null!;
    private FlowRandom _rng0 = null!, _rng1 = null!;
    private TwoThreads? _pool;
    private Op _op;
    private double _gaugeBefore = double.NaN;

    /// <summary>Builds the model with the benchmark weights and the buffers of this batch size.</summary>
    [GlobalSetup]
    public void Setup()
    {
        _flow = BenchSetup.CreateModel<TFlow, T>();
        int d = _dim = _flow.Dim;
        _xs = BenchSetup.Gaussian<T>(Batch * d, BenchSetup.DataSeed);
        _zs = new T[Batch * d];
        _out = new T[Batch];
        _grad = new T[_flow.ParameterCount];
        _grad1 = new T[_flow.ParameterCount];
        _adam = new AdamOptimizer<T>(_flow.ParameterCount);
        _weight = T.One / T.CreateChecked(Batch);
        _rng0 = new FlowRandom(11);
        _rng1 = new FlowRandom(12);
        if (Threads == 2) _pool = new TwoThreads();
        else if (Threads != 1) throw new NotSupportedException("Threads must be 1 or 2.");
        if (Threads == 2) _gaugeBefore = Gauge.Read();
    }

    /// <summary>Stops the worker thread; a 2-thread case records its contention gauge (<see cref="Gauge"/>).</summary>
    [GlobalCleanup]
    public void Cleanup()
    {
        _pool?.Dispose();
        if (Threads == 2 && !double.IsNaN(_gaugeBefore)) Gauge.Write(Gauge.BenchmarkTypeName(this), "*", Batch, Threads, _gaugeBefore, Gauge.Read());
    }

    /// <summary>log p(x) for the batch.</summary>
    [Benchmark, Batches(1, 256, 65536)]
    public void LogProb()
    {
        if (_pool is null) _flow.LogProb(_xs, default, _out);
        else Split(Op.LogProb);
    }

    /// <summary>z = f(x) and log|det ∂z/∂x| for the batch.</summary>
    [Benchmark, Batches(1, 256, 65536)]
    public void Forward()
    {
        if (_pool is null) _flow.Forward(_xs, default, _zs, _out);
        else Split(Op.Forward);
    }

    /// <summary>x = f⁻¹(z) for the batch (z = the standard-normal input buffer).</summary>
    [Benchmark, Batches(65536)]
    public void Inverse()
    {
        if (_pool is null) _flow.Inverse(_xs, default, _zs, default);
        else Split(Op.Inverse);
    }

    /// <summary>Batch samples: Gaussian draws (FlowRandom.FillGaussian) then the inverse, in place.</summary>
    [Benchmark, Batches(65536)]
    public void Sample()
    {
        if (_pool is null) _flow.Sample(_zs, default, default, _rng0);
        else Split(Op.Sample);
    }

    /// <summary>One training step: NllGradient over the batch (the gradient of the mean NLL, written over the buffer), one Adam update of the parameters.</summary>
    [Benchmark, Batches(256, 4096)]
    public void TrainStep()
    {
        if (_pool is null)
        {
            _flow.NllGradient(_xs, default, _grad, _weight);
        }
        else
        {
            Split(Op.Gradient);
            // each half wrote the gradient of its own mean; the batch mean is their average
            AverageInto(_grad, _grad1);
        }
        _adam.Step(_flow.Parameters, _grad, BenchSetup.LearningRate);
    }

    private void Split(Op op)
    {
        _op = op;
        _pool!.Run(this);
    }

    /// <inheritdoc/>
    public void RunHalf(int half)
    {
        int d = _dim;
        (int start, int count) = TwoThreads.Half(Batch, half);
        var xs = _xs.AsSpan(start * d, count * d);
        var zs = _zs.AsSpan(start * d, count * d);
        switch (_op)
        {
            case Op.LogProb: _flow.LogProb(xs, default, _out.AsSpan(start, count)); break;
            case Op.Forward: _flow.Forward(xs, default, zs, _out.AsSpan(start, count)); break;
            case Op.Inverse: _flow.Inverse(xs, default, zs, default); break;
            case Op.Sample: _flow.Sample(zs, default, default, half == 0 ? _rng0 : _rng1); break;
            case Op.Gradient:
                T[] g = half == 0 ? _grad : _grad1;
                _flow.NllGradient(xs, default, g, T.One / T.CreateChecked(count));
                break;
        }
    }

    private static void AverageInto(T[] a, T[] b)
    {
        T half = T.CreateChecked(0.5);
        var vh = new Vector<T>(half);
        int i = 0;
        for (; i <= a.Length - Vector<T>.Count; i += Vector<T>.Count)
            ((new Vector<T>(a, i) + new Vector<T>(b, i)) * vh).CopyTo(a, i);
        for (; i < a.Length; i++) a[i] = (a[i] + b[i]) * half;
    }
}

#pragma warning disable CS1591
public class R8_float : FlowBench<R8Float, float>;
public class R8_double : FlowBench<R8Double, double>;
public class R2_float : FlowBench<R2Float, float>;
public class R2_double : FlowBench<R2Double, double>;
// L64 at batch 65 536 takes seconds per call: fewer iterations keep the full run reasonable.
[WarmupCount(2), IterationCount(6)]
public class L64_float : FlowBench<L64Float, float>;
[WarmupCount(2), IterationCount(6)]
public class L64_double : FlowBench<L64Double, double>;
// every layer kind (issue 17): Dim 8, R8-sized, float
public class S8_float : FlowBench<S8Float, float>;
public class Q8_float : FlowBench<Q8Float, float>;
public class D8_float : FlowBench<D8Float, float>;
public class G8_float : FlowBench<G8Float, float>;
#pragma warning restore CS1591
