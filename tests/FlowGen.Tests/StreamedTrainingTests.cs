using System;
using System.Collections.Generic;
using System.Linq;
using FlowGen.Tests.Models;

namespace FlowGen.Tests;

/// <summary>
/// Training from an IFlowDataSource (FlowTrainer.Train/Fit/MeanNll with a source; ArrayDataSource; FlowDataSource helpers):
/// a one-chunk source reproduces the in-memory trainer bit for bit, streamed runs are reproducible and independent of the
/// thread count, every epoch visits every row once, bad sources get clear exceptions.
/// </summary>
public class StreamedTrainingTests
{
    private static float[] Gaussian(int count, ulong seed, double scale = 1, double shift = 0)
    {
        var v = new double[count];
        new FlowRandom(seed).FillGaussian(v);
        return v.Select(x => (float)(scale * x + shift)).ToArray();
    }

    /// <summary>The rows in the order the in-memory trainer stores them (its one initial shuffle, seed + 0x5EED).</summary>
    private static float[] InStoredOrder(float[] data, int width, ulong seed)
    {
        int n = data.Length / width;
        var perm = Enumerable.Range(0, n).ToArray();
        new FlowRandom(seed + 0x5EEDUL).Shuffle(perm.AsSpan());
        var result = new float[data.Length];
        for (int i = 0; i < n; i++) Array.Copy(data, perm[i] * width, result, i * width, width);
        return result;
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public void OneChunkSourceInStoredOrderIsInMemoryTrainingBitForBit(int threads)
    {
        // ActNorm (data initialisation), 3 epochs of batches that straddle epochs (700 rows, batches of 96), explicit validation
        const ulong seed = 11;
        float[] data = Gaussian(3 * 700, 1, 0.8, 0.4);
        float[] validation = Gaussian(3 * 150, 2);
        var options = new TrainingOptions { Epochs = 3, BatchSize = 96, EvaluateEvery = 5, Threads = threads, Seed = seed, LearningRate = 3e-3 };
        var a = new WithActNorm3D(seed: 4);
        var b = new WithActNorm3D(seed: 4);
        TrainingResult ra = FlowTrainer.Train<float>(a, new FlowData<float>(data), new FlowData<float>(validation), options);
        TrainingResult rb = FlowTrainer.Train<float>(b, new ArrayDataSource<float>(InStoredOrder(data, 3, seed), 3), new ArrayDataSource<float>(validation, 3), options);
        Assert.Equal(a.Parameters.ToArray(), b.Parameters.ToArray());
        Assert.Equal(ra.Steps, rb.Steps);
        Assert.Equal(ra.FinalTrainLoss, rb.FinalTrainLoss);
        Assert.Equal(ra.BestValidationLoss, rb.BestValidationLoss);
        Assert.Equal(ra.FinalValidationLoss, rb.FinalValidationLoss);
        Assert.Equal((ra.TrainRows, ra.ValidationRows), (rb.TrainRows, rb.ValidationRows));

        // the rows in their given order: the batches differ by the initial permutation, so the parameters differ
        var c = new WithActNorm3D(seed: 4);
        FlowTrainer.Train<float>(c, new ArrayDataSource<float>(data, 3), new ArrayDataSource<float>(validation, 3), options);
        Assert.NotEqual(a.Parameters.ToArray(), c.Parameters.ToArray());
    }

    [Fact]
    public void ConditionalOneChunkSourceThroughFitIsInMemoryFitBitForBit()
    {
        const ulong seed = 3;
        float[] ctx = Gaussian(500, 5);
        float[] data = Gaussian(2 * 500, 6).Select((v, i) => v + ctx[i / 2]).ToArray();
        float[] vctx = Gaussian(80, 7);
        float[] vdata = Gaussian(2 * 80, 8);
        var options = new TrainingOptions { Steps = 30, BatchSize = 64, EvaluateEvery = 10, Threads = 2, Seed = seed };
        var a = new Conditional2D(seed: 1);
        var b = new Conditional2D(seed: 1);
        FlowTrainer.Fit<float>(a, new FlowData<float>(data, ctx), new FlowData<float>(vdata, vctx), MaximumLikelihoodObjective<float>.Instance, options);
        var source = new ArrayDataSource<float>(InStoredOrder(data, 2, seed), 2, InStoredOrder(ctx, 1, seed), 1);
        FlowTrainer.Fit<float>(b, source, new ArrayDataSource<float>(vdata, 2, vctx, 1), MaximumLikelihoodObjective<float>.Instance, options);
        Assert.Equal(a.Parameters.ToArray(), b.Parameters.ToArray());
    }

    /// <summary>A source that hides its row count (the trainer counts it) and records what it was asked for.</summary>
    private sealed class Recording<T>(IFlowDataSource<T> inner, bool hideCount) : IFlowDataSource<T> where T : unmanaged
    {
        public List<int> Reads { get; } = new();
        public int Dim => inner.Dim;
        public int ContextDim => inner.ContextDim;
        public int ChunkCount => inner.ChunkCount;
        public int MaxChunkRows => inner.MaxChunkRows;
        public long RowCount => hideCount ? -1 : inner.RowCount;

        public int ReadChunk(int chunk, Span<T> rows, Span<T> contexts, out long firstRow)
        {
            Reads.Add(chunk);
            Assert.Equal(MaxChunkRows * Dim, rows.Length);
            return inner.ReadChunk(chunk, rows, contexts, out firstRow);
        }
    }

    [Fact]
    public void StreamedRunsAreReproducibleAndIndependentOfThreads()
    {
        float[] data = Gaussian(2 * 1000, 21, 1.3, -0.2);
        float[][] results = new float[4][];
        int k = 0;
        foreach ((int threads, bool hide) in new[] { (1, false), (2, false), (2, true), (1, true) })
        {
            var flow = new Tiny2D(seed: 2);
            var source = new Recording<float>(new ArrayDataSource<float>(data, 2, chunkRows: 97), hide);
            var options = new TrainingOptions { Epochs = 2, BatchSize = 128, Threads = threads, Seed = 8, ShuffleBufferChunks = 3, EvaluateEvery = 4 };
            TrainingResult r = FlowTrainer.Train<float>(flow, source, new ArrayDataSource<float>(data.AsMemory(0, 2 * 200), 2), options);
            Assert.Equal(TrainingStatus.Completed, r.Status);
            Assert.Equal(2 * 8, r.Steps); // ⌈1000 / 128⌉ per epoch
            results[k++] = flow.Parameters.ToArray();
            // each epoch reads every chunk once, in a shuffled order (plus one counting pass when the count is hidden)
            int[] reads = source.Reads.Skip(hide ? source.ChunkCount : 0).ToArray();
            Assert.True(reads.Length >= source.ChunkCount + 1);
            Assert.Equal(Enumerable.Range(0, source.ChunkCount), reads.Take(source.ChunkCount).Order());
            Assert.NotEqual(Enumerable.Range(0, source.ChunkCount), reads.Take(source.ChunkCount));
        }
        foreach (float[] p in results) Assert.Equal(results[0], p);

        var other = new Tiny2D(seed: 2);
        FlowTrainer.Train<float>(other, new ArrayDataSource<float>(data, 2, chunkRows: 97),
            new TrainingOptions { Epochs = 2, BatchSize = 128, Threads = 1, Seed = 9, ShuffleBufferChunks = 3, EvaluateEvery = 4 });
        Assert.NotEqual(results[0], other.Parameters.ToArray());
    }

    /// <summary>Records every training row's index and checks its values against the source.</summary>
    private sealed class RowRecorder(float[] data, float[] contexts) : IFlowObjective<float>
    {
        public List<int[]> Steps { get; } = new();

        public double LossAndGradient(ICouplingFlow<float> flow, FlowBatch<float> batch, Span<float> gradParameters, float weight)
        {
            int d = flow.Dim;
            for (int i = 0; i < batch.Count; i++)
            {
                int r = batch.RowIndices[i];
                Assert.Equal(data.AsSpan(r * d, d).ToArray(), batch.Inputs.Slice(i * d, d).ToArray());
                Assert.Equal(contexts[r], batch.Contexts[i]);
            }
            lock (Steps)
            {
                while (Steps.Count <= batch.Step) Steps.Add(Array.Empty<int>());
                Steps[batch.Step] = Steps[batch.Step].Concat(batch.RowIndices.ToArray()).ToArray();
            }
            gradParameters.Clear();
            return batch.Count;
        }
    }

    [Fact]
    public void EveryEpochVisitsEveryRowOnceWithItsContext()
    {
        const int n = 1200;
        float[] ctx = Gaussian(n, 31);
        float[] data = Gaussian(2 * n, 32);
        var recorder = new RowRecorder(data, ctx);
        var options = new TrainingOptions { Epochs = 3, BatchSize = 100, Threads = 2, Seed = 4, ShuffleBufferChunks = 2, EvaluateEvery = 1000 };
        FlowTrainer.Fit<float>(new Conditional2D(seed: 3), new ArrayDataSource<float>(data, 2, ctx, 1, chunkRows: 250), recorder, options);
        Assert.Equal(36, recorder.Steps.Count);
        for (int epoch = 0; epoch < 3; epoch++)
        {
            int[] rows = recorder.Steps.Skip(12 * epoch).Take(12).SelectMany(s => s).ToArray();
            Assert.Equal(Enumerable.Range(0, n), rows.Order());
            Assert.NotEqual(Enumerable.Range(0, n), rows);
        }
        Assert.NotEqual(recorder.Steps[0], recorder.Steps[12]);
    }

    /// <summary>A source with a defect: a NaN at one row, or a chunk longer than it announced.</summary>
    private sealed class Broken(int nanRow, bool overlong) : IFlowDataSource<float>
    {
        public int Dim => 2;
        public int ContextDim => 0;
        public int ChunkCount => 4;
        public int MaxChunkRows => 50;
        public long RowCount => 200;

        public int ReadChunk(int chunk, Span<float> rows, Span<float> contexts, out long firstRow)
        {
            firstRow = chunk * 50L;
            for (int i = 0; i < 100; i++) rows[i] = 0.01f * i;
            if (nanRow >= firstRow && nanRow < firstRow + 50) rows[(int)(nanRow - firstRow) * 2 + 1] = float.NaN;
            return overlong ? 51 : 50;
        }
    }

    [Fact]
    public void BadSourcesGetClearExceptions()
    {
        var options = new TrainingOptions { Steps = 10, BatchSize = 32, Threads = 1 };
        var e = Assert.Throws<ArgumentException>(() => FlowTrainer.Train<float>(new Tiny2D(seed: 1), new ArrayDataSource<float>(new float[30], 3), options));
        Assert.Equal("source", e.ParamName);
        Assert.Contains("Dim must be the flow's Dim (2); it is 3", e.Message);
        e = Assert.Throws<ArgumentException>(() => FlowTrainer.Train<float>(new Tiny2D(seed: 1), new ArrayDataSource<float>(new float[20], 2), new ArrayDataSource<float>(new float[20], 2, new float[10], 1), options));
        Assert.Equal("validation", e.ParamName);
        Assert.Contains("ContextDim", e.Message);
        e = Assert.Throws<ArgumentException>(() => FlowTrainer.Train<float>(new Tiny2D(seed: 1), new Broken(nanRow: 137, overlong: false), new TrainingOptions { Epochs = 1, BatchSize = 32, Threads = 1, ShuffleBufferChunks = 1 }));
        Assert.Contains("Row 137 of source (chunk 2)", e.Message);
        Assert.Contains("column 1", e.Message);
        Assert.Throws<InvalidOperationException>(() => FlowTrainer.Train<float>(new Tiny2D(seed: 1), new Broken(-1, overlong: true), options));
        Assert.Throws<ArgumentOutOfRangeException>(() => FlowTrainer.Train<float>(new Tiny2D(seed: 1), new ArrayDataSource<float>(new float[20], 2), new TrainingOptions { ShuffleBufferChunks = 0 }));
        Assert.Throws<ArgumentException>(() => new ArrayDataSource<float>(new float[7], 2));
        Assert.Throws<ArgumentException>(() => new ArrayDataSource<float>(new float[8], 2, new float[3], 1));
    }

    [Fact]
    public void StreamedMeanNllMatchesInMemory()
    {
        float[] data = Gaussian(2 * 3000, 41, 0.9);
        var flow = new Tiny2D(seed: 6);
        double inMemory = FlowTrainer.MeanNll<float>(flow, data, threads: 2);
        Assert.Equal(inMemory, FlowTrainer.MeanNll(flow, new ArrayDataSource<float>(data, 2), threads: 1)); // same 1024-row pieces
        double chunked = FlowTrainer.MeanNll(flow, new ArrayDataSource<float>(data, 2, chunkRows: 333), threads: 2);
        Assert.Equal(inMemory, chunked, 1e-9 * Math.Abs(inMemory));
        Assert.Equal(chunked, FlowTrainer.MeanNll(flow, new ArrayDataSource<float>(data, 2, chunkRows: 333), threads: 1));
    }

    [Fact]
    public void StreamedStandardizerMatchesInMemoryFit()
    {
        var r = new FlowRandom(5);
        for (int trial = 0; trial < 5; trial++)
        {
            int n = 50 + r.NextInt(2000), dim = 1 + r.NextInt(4), chunk = 1 + r.NextInt(400);
            var values = new double[n * dim];
            r.FillGaussian(values);
            for (int i = 0; i < values.Length; i++) values[i] = values[i] * (1 + i % dim) * 30 + 1000 * (i % dim);
            Standardizer expected = Standardizer.Fit<double>(values, dim);
            Standardizer streamed = FlowDataSource.FitStandardizer(new ArrayDataSource<double>(values, dim, chunkRows: chunk));
            for (int j = 0; j < dim; j++)
            {
                Assert.Equal(expected.Mean[j], streamed.Mean[j], 1e-10 * (1 + Math.Abs(expected.Mean[j])));
                Assert.Equal(expected.StandardDeviation[j], streamed.StandardDeviation[j], 1e-10 * expected.StandardDeviation[j]);
            }
            // standardised view: the same values as Apply
            var view = FlowDataSource.Standardize(new ArrayDataSource<double>(values, dim, chunkRows: chunk), streamed);
            var buffer = new double[view.MaxChunkRows * dim];
            int got = view.ReadChunk(0, buffer, default, out _);
            Assert.Equal(streamed.Apply<double>(values.AsSpan(0, got * dim)), buffer.AsSpan(0, got * dim).ToArray());
        }
        var constant = new double[20];
        var e = Assert.Throws<ArgumentException>(() => FlowDataSource.FitStandardizer(new ArrayDataSource<double>(constant, 2, chunkRows: 3)));
        Assert.Contains("Column 0", e.Message);
    }

    [Fact]
    public void SplitPartitionsTheRowsAndPrefixCutsThem()
    {
        const int n = 5000;
        double[] values = Enumerable.Range(0, n).Select(i => (double)i).ToArray();
        var source = new ArrayDataSource<double>(values, 1, chunkRows: 777);
        (IFlowDataSource<double> train, IFlowDataSource<double> held) = FlowDataSource.Split(source, 0.2, seed: 3);
        double[] Read(IFlowDataSource<double> s)
        {
            var all = new List<double>();
            var buffer = new double[s.MaxChunkRows];
            for (int c = 0; c < s.ChunkCount; c++) all.AddRange(buffer.AsSpan(0, s.ReadChunk(c, buffer, default, out _)).ToArray());
            return all.ToArray();
        }
        double[] a = Read(train), b = Read(held);
        Assert.Equal(values, a.Concat(b).Order());
        Assert.InRange(b.Length, 0.17 * n, 0.23 * n);
        Assert.Equal(b.Length, FlowDataSource.CountRows(held));
        Assert.Equal(b, Read(FlowDataSource.Split(new ArrayDataSource<double>(values, 1, chunkRows: 100), 0.2, seed: 3).HeldOut)); // chunking does not matter
        Assert.NotEqual(b, Read(FlowDataSource.Split(source, 0.2, seed: 4).HeldOut));

        IFlowDataSource<double> prefix = FlowDataSource.Prefix(source, 1000);
        Assert.Equal(1000, prefix.RowCount);
        Assert.Equal(2, prefix.ChunkCount);
        Assert.Equal(values.Take(1000), Read(prefix));
        Assert.Equal(n, FlowDataSource.Prefix(source, 10 * n).RowCount);
    }
}
