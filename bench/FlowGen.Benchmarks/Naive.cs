using System;
using System.Collections.Generic;
using BenchmarkDotNet.Attributes;

namespace FlowGen.Benchmarks;

/// <summary>
/// The "hand-written" baseline: what a user would write for a float affine-coupling flow with alternating halves, tanh MLP
/// conditioners and a soft clamp (docs/model.md §2, §3) — jagged arrays, one sample at a time, scalar loops, MathF.Tanh and
/// MathF.Exp, no SIMD, no tiling. Weights are kept in PyTorch's [out][in] orientation, so the inner dot product is contiguous.
/// Not thread-safe (it owns its scratch vectors); use one instance per thread.
/// </summary>
public sealed class NaiveFlow
{
    private readonly int _dim, _layers;
    private readonly float _clamp;
    private readonly int[][] _kept, _transformed;
    private readonly float[][][][] _w; // [coupling][dense layer][out][in]
    private readonly float[][][] _b;   // [coupling][dense layer][out]
    private readonly float[][] _act;   // scratch: input of dense layer k (k = 0 is the conditioner input), then the output
    private readonly float[] _x;

    /// <summary>Copies the weights of a uniform affine/halves/tanh flow out of its parameter vector.</summary>
    public NaiveFlow(int dim, int layers, float clamp, ReadOnlySpan<float> parameters, IReadOnlyList<ParameterTensor> tensors)
    {
        _dim = dim;
        _layers = layers;
        _clamp = clamp;
        int h = dim / 2;
        _kept = new int[layers][];
        _transformed = new int[layers][];
        _w = new float[layers][][][];
        _b = new float[layers][][];
        for (int c = 0; c < layers; c++)
        {
            int[] first = new int[h], second = new int[dim - h];
            for (int i = 0; i < h; i++) first[i] = i;
            for (int i = h; i < dim; i++) second[i - h] = i;
            _kept[c] = c % 2 == 0 ? first : second;
            _transformed[c] = c % 2 == 0 ? second : first;
            var ws = new List<float[][]>();
            var bs = new List<float[]>();
            for (int k = 0; ; k++)
            {
                ParameterTensor? wt = Find(tensors, $"layers.{c}.conditioner.{k}.weight");
                ParameterTensor? bt = Find(tensors, $"layers.{c}.conditioner.{k}.bias");
                if (wt is null || bt is null) break;
                int outs = wt.Shape[0], ins = wt.Shape[1];
                var w = new float[outs][];
                for (int j = 0; j < outs; j++)
                {
                    w[j] = new float[ins];
                    for (int i = 0; i < ins; i++)
                        w[j][i] = wt.Transposed ? parameters[wt.Offset + i * outs + j] : parameters[wt.Offset + j * ins + i];
                }
                ws.Add(w);
                bs.Add(parameters.Slice(bt.Offset, outs).ToArray());
            }
            _w[c] = ws.ToArray();
            _b[c] = bs.ToArray();
        }
        int depth = _w[0].Length;
        _act = new float[depth + 1][];
        _act[0] = new float[_w[0][0][0].Length];
        for (int k = 0; k < depth; k++) _act[k + 1] = new float[_w[0][k].Length];
        _x = new float[dim];
    }

    private static ParameterTensor? Find(IReadOnlyList<ParameterTensor> tensors, string name)
    {
        foreach (var t in tensors) if (t.Name == name) return t;
        return null;
    }

    /// <summary>log p(x) of one sample.</summary>
    public float LogProb(ReadOnlySpan<float> x)
    {
        float[] v = _x;
        for (int i = 0; i < _dim; i++) v[i] = x[i];
        float logDet = 0f;
        for (int c = 0; c < _layers; c++)
        {
            int[] kept = _kept[c], tr = _transformed[c];
            float[] u = _act[0];
            for (int i = 0; i < kept.Length; i++) u[i] = v[kept[i]];
            float[][][] w = _w[c];
            float[][] b = _b[c];
            for (int k = 0; k < w.Length; k++)
            {
                float[] input = _act[k], output = _act[k + 1];
                float[][] wk = w[k];
                float[] bk = b[k];
                bool last = k == w.Length - 1;
                for (int j = 0; j < wk.Length; j++)
                {
                    float[] row = wk[j];
                    float sum = bk[j];
                    for (int i = 0; i < row.Length; i++) sum += row[i] * input[i];
                    output[j] = last ? sum : MathF.Tanh(sum);
                }
            }
            float[] o = _act[w.Length];
            int nb = tr.Length;
            for (int q = 0; q < nb; q++)
            {
                float s = _clamp * MathF.Tanh(o[q] / _clamp);
                float t = o[nb + q];
                v[tr[q]] = v[tr[q]] * MathF.Exp(s) + t;
                logDet += s;
            }
        }
        float sq = 0f;
        for (int i = 0; i < _dim; i++) sq += v[i] * v[i];
        return -0.5f * sq - 0.5f * _dim * MathF.Log(2f * MathF.PI) + logDet;
    }

    /// <summary>log p(x) for every row of a row-major batch.</summary>
    public void LogProb(ReadOnlySpan<float> xs, Span<float> logProbs)
    {
        for (int s = 0; s < logProbs.Length; s++) logProbs[s] = LogProb(xs.Slice(s * _dim, _dim));
    }

    /// <summary>A naive twin of a generated float model with the benchmark weights.</summary>
    public static NaiveFlow For(ICouplingFlow<float> flow)
    {
        int layers = 0;
        foreach (var t in flow.ParameterTensors) if (t.Name.EndsWith(".conditioner.0.weight", StringComparison.Ordinal)) layers++;
        return new NaiveFlow(flow.Dim, layers, 2f, flow.Parameters, flow.ParameterTensors);
    }

    /// <summary>
    /// Checks the naive log-densities of <paramref name="n"/> inputs against FlowGen's LogProb; throws unless
    /// |Δ| ≤ 1e-5·max(1, |log p|) everywhere. Returns the largest |Δ|.
    /// </summary>
    public static double Check(ICouplingFlow<float> flow, NaiveFlow naive, int n = 4096)
    {
        float[] xs = BenchSetup.Gaussian<float>(n * flow.Dim, BenchSetup.DataSeed);
        float[] a = new float[n], b = new float[n];
        flow.LogProb(xs, default, a);
        naive.LogProb(xs, b);
        double worst = 0;
        for (int i = 0; i < n; i++)
        {
            double diff = Math.Abs((double)a[i] - b[i]);
            worst = Math.Max(worst, diff);
            if (!(diff <= 1e-5 * Math.Max(1, Math.Abs(a[i]))))
                throw new InvalidOperationException($"naive {flow.ModelName} disagrees with FlowGen at row {i}: {b[i]} vs {a[i]}");
        }
        return worst;
    }
}

/// <summary>The naive baseline's log-density (checked against FlowGen in the setup), 1 or 2 threads.</summary>
[WarmupCount(1), IterationCount(5)]
public abstract class NaiveBench<TFlow> : IHalfWork where TFlow : class, ICouplingFlowModel<TFlow, float>
{
    /// <summary>Samples per call.</summary>
    [Params(1, 256, 65536)]
    public int Batch { get; set; }

    /// <summary>Threads the batch is split over.</summary>
    [Params(1, 2)]
    public int Threads { get; set; }

    private NaiveFlow _n0 = null!, _n1 = null!;
    private float[] _xs = [], _out = [];
    private int _dim;
    private TwoThreads? _pool;

    /// <summary>Builds the naive twin, checks it against FlowGen, allocates the buffers.</summary>
    [GlobalSetup]
    public void Setup()
    {
        var flow = BenchSetup.CreateModel<TFlow, float>();
        _dim = flow.Dim;
        _n0 = NaiveFlow.For(flow);
        _n1 = NaiveFlow.For(flow);
        double worst = NaiveFlow.Check(flow, _n0);
        Console.WriteLine($"// naive {BenchSetup.ShortName<TFlow>()}: max |log p naive − log p FlowGen| = {worst:E2} over 4096 samples");
        _xs = BenchSetup.Gaussian<float>(Batch * _dim, BenchSetup.DataSeed);
        _out = new float[Batch];
        if (Threads == 2) _pool = new TwoThreads();
    }

    /// <summary>Stops the worker thread.</summary>
    [GlobalCleanup]
    public void Cleanup() => _pool?.Dispose();

    /// <summary>log p(x) for the batch.</summary>
    [Benchmark, Batches(1, 256, 65536)]
    public void LogProb()
    {
        if (_pool is null) _n0.LogProb(_xs, _out);
        else _pool.Run(this);
    }

    /// <inheritdoc/>
    public void RunHalf(int half)
    {
        (int start, int count) = TwoThreads.Half(Batch, half);
        (half == 0 ? _n0 : _n1).LogProb(_xs.AsSpan(start * _dim, count * _dim), _out.AsSpan(start, count));
    }
}

#pragma warning disable CS1591
public class Naive_R8_float : NaiveBench<R8Float>;
public class Naive_R2_float : NaiveBench<R2Float>;
#pragma warning restore CS1591
