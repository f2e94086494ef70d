using System;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Linq;
using FlowGen;
using FlowGen.Data;

namespace FlowGen.Streaming;

/// <summary>p(delay, distance | time of day) of US flights, a conditional flow trained on rows streamed from Parquet.</summary>
[CouplingFlow(Dim = 2, Layers = 8, Hidden = [64, 64], ContextDim = 2, Coupling = CouplingKind.Spline, Bins = 8, Bound = 5, ActNorm = true, Seed = 1)]
public partial class FlightsFlow;

/// <summary>
/// The streaming sample (README "Training from files larger than memory"):
/// <c>dotnet run -c Release --project samples/FlowGen.Streaming -- [--file F] [--prefix 0.1] [--epochs 1] [--batch 512]</c>
/// trains on flights-3m.parquet (fetch-data.sh) and prints peak memory, throughput and the held-out NLL;
/// <c>-- slice DIR</c> writes the small slice the tests read (tests/FlowGen.Tests/Data).
/// </summary>
public static class Program
{
    public static int Main(string[] args)
    {
        try
        {
            if (args.Length >= 2 && args[0] == "slice")
            {
                Slice.WriteAsync(Option(args, "--file") ?? DefaultFile(), args[1]).GetAwaiter().GetResult();
                return 0;
            }
            return Train(args);
        }
        catch (Exception e) when (e is FileNotFoundException or ArgumentException or InvalidDataException)
        {
            Console.Error.WriteLine(e.Message);
            return 1;
        }
    }

    private static string DefaultFile() => Path.Combine(AppContext.BaseDirectory, "../../../data/flights-3m.parquet");

    private static string? Option(string[] args, string name)
    {
        int i = Array.IndexOf(args, name);
        return i >= 0 && i + 1 < args.Length ? args[i + 1] : null;
    }

    private static int Train(string[] args)
    {
        string file = Option(args, "--file") ?? DefaultFile();
        double prefix = double.Parse(Option(args, "--prefix") ?? "1", CultureInfo.InvariantCulture);
        int epochs = int.Parse(Option(args, "--epochs") ?? "1", CultureInfo.InvariantCulture);
        int batch = int.Parse(Option(args, "--batch") ?? "512", CultureInfo.InvariantCulture);
        if (!File.Exists(file)) throw new FileNotFoundException($"{Path.GetFullPath(file)} not found: run samples/FlowGen.Streaming/fetch-data.sh first.", file);
        var wall = Stopwatch.StartNew();

        // the file: delay and distance as data, the departure time (Unix seconds, read in double) as the context
        using var parquet = new ParquetDataSource<double>(file, ["delay", "distance"], ["date"], NullRows.Skip);
        IFlowDataSource<float> all = new FlightRows(parquet);
        if (prefix < 1) all = FlowDataSource.Prefix(all, (long)Math.Ceiling(prefix * parquet.RowCount));
        // 10 % of the rows held out for the test NLL, by a seeded hash of the row index (the same rows whatever the chunking)
        (IFlowDataSource<float> train, IFlowDataSource<float> test) = FlowDataSource.Split(all, 0.1, seed: 2026);

        // standardisation fitted in a first streaming pass over the training rows (one chunk in memory)
        Standardizer standardizer = FlowDataSource.FitStandardizer(train);
        Console.WriteLine($"file {Path.GetFileName(file)}: {parquet.RowCount:N0} rows in {parquet.ChunkCount} row groups of ≤ {parquet.MaxChunkRows:N0}; using {(prefix < 1 ? $"a {prefix:P0} prefix" : "all of it")}");
        Console.WriteLine($"standardiser (first pass): mean {string.Join(", ", standardizer.Mean.Select(v => v.ToString("F2", CultureInfo.InvariantCulture)))}; sd {string.Join(", ", standardizer.StandardDeviation.Select(v => v.ToString("F2", CultureInfo.InvariantCulture)))}");

        var flow = new FlightsFlow();
        var options = new TrainingOptions
        {
            Epochs = epochs, BatchSize = batch, LearningRate = 2e-3, MinLearningRate = 1e-5, EvaluateEvery = 500, Seed = 7,
            GradientClipNorm = 10, ShuffleBufferChunks = 2,
        };
        var memory = new MemoryProbe();
        var progress = new Progress(p =>
        {
            memory.Sample();
            if (p.Message is null) Console.WriteLine($"  step {p.Step}/{p.TotalSteps} epoch {p.Epoch}: train NLL {p.TrainLoss:F4} (standardised), {p.SamplesPerSecond:F0} rows/s");
            else Console.WriteLine($"  {p.Message}");
        });
        var trainClock = Stopwatch.StartNew();
        TrainingResult result = FlowTrainer.Train(flow, FlowDataSource.Standardize(train, standardizer), options, progress);
        trainClock.Stop();
        memory.Sample();

        IFlowDataSource<float> testStd = FlowDataSource.Standardize(test, standardizer);
        double nll = FlowTrainer.MeanNll(flow, testStd) - standardizer.LogDet;
        double gaussian = GaussianNll(testStd) - standardizer.LogDet;
        memory.Sample();
        Console.WriteLine(result);
        Console.WriteLine($"rows trained: {result.TrainRows:N0} × {epochs} epoch(s) in {trainClock.Elapsed.TotalSeconds:F1} s: {(double)result.TrainRows * epochs / trainClock.Elapsed.TotalSeconds:F0} rows/s for the whole Train call (its row-counting pass, data initialisation and reports included); {result.SamplesPerSecond:F0} rows/s in the training steps (reading and decoding the windows included)");
        Console.WriteLine($"test NLL (held-out rows, nats per flight in minutes × miles, dequantised): {nll:F4}; a Gaussian fitted by the standardiser: {gaussian:F4}");
        Console.WriteLine($"peak working set {Process.GetCurrentProcess().PeakWorkingSet64 / 1048576.0:F1} MiB; peak GC heap {memory.PeakHeap / 1048576.0:F1} MiB (live after a full collection: {memory.PeakLive / 1048576.0:F1} MiB); wall time {wall.Elapsed.TotalSeconds:F1} s");
        return 0;
    }

    /// <summary>Mean NLL of a standard normal on the standardised rows (the baseline the flow must beat).</summary>
    private static double GaussianNll(IFlowDataSource<float> source)
    {
        var rows = new float[source.MaxChunkRows * source.Dim];
        var ctx = new float[source.MaxChunkRows * source.ContextDim];
        double sum = 0;
        long n = 0;
        for (int c = 0; c < source.ChunkCount; c++)
        {
            int count = source.ReadChunk(c, rows, ctx, out _);
            for (int i = 0; i < count * source.Dim; i++) sum += 0.5 * rows[i] * rows[i] + 0.5 * Math.Log(2 * Math.PI);
            n += count;
        }
        return sum / n;
    }

    private sealed class Progress(Action<TrainingProgress> report) : IProgress<TrainingProgress>
    {
        public void Report(TrainingProgress value) => report(value);
    }

    /// <summary>
    /// The largest GC heap seen (its size at the last collection, garbage included) and the largest live heap (after a full
    /// collection), sampled at every report (every 500 steps) and after each phase.
    /// </summary>
    private sealed class MemoryProbe
    {
        public long PeakHeap { get; private set; }

        public long PeakLive { get; private set; }

        public void Sample()
        {
            PeakHeap = Math.Max(PeakHeap, GC.GetGCMemoryInfo().HeapSizeBytes);
            PeakLive = Math.Max(PeakLive, GC.GetTotalMemory(forceFullCollection: true));
        }
    }
}

/// <summary>
/// The flights as the flow sees them: data row (delay in minutes, distance in miles), each dequantised by a uniform offset in
/// (−½, ½) drawn from a hash of the row (both are integers: a continuous density on integers would grow spikes, and the
/// dequantised NLL bounds the discrete one); context (sin, cos) of 2π·(time of day)/24 h, so that midnight wraps around.
/// </summary>
public sealed class FlightRows(IFlowDataSource<double> inner) : IFlowDataSource<float>
{
    private double[] _rows = [], _contexts = [];

    public int Dim => 2;
    public int ContextDim => 2;
    public int ChunkCount => inner.ChunkCount;
    public int MaxChunkRows => inner.MaxChunkRows;
    public long RowCount => inner.RowCount;

    public int ReadChunk(int chunk, Span<float> rows, Span<float> contexts, out long firstRow)
    {
        if (_rows.Length < inner.MaxChunkRows * 2)
        {
            _rows = new double[inner.MaxChunkRows * 2];
            _contexts = new double[inner.MaxChunkRows];
        }
        int n = inner.ReadChunk(chunk, _rows, _contexts, out firstRow);
        for (int i = 0; i < n; i++)
        {
            ulong h = Mix((ulong)(firstRow + i));
            rows[2 * i] = (float)(_rows[2 * i] + ((h >> 11) * (1.0 / 9007199254740992.0) - 0.5));
            rows[2 * i + 1] = (float)(_rows[2 * i + 1] + ((Mix(h) >> 11) * (1.0 / 9007199254740992.0) - 0.5));
            double hours = (_contexts[i] % 86400 + 86400) % 86400 / 3600.0;
            contexts[2 * i] = (float)Math.Sin(2 * Math.PI * hours / 24);
            contexts[2 * i + 1] = (float)Math.Cos(2 * Math.PI * hours / 24);
        }
        return n;
    }

    private static ulong Mix(ulong z)
    {
        z = (z ^ 0x5DEECE66DUL) * 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }
}
