using System;
using System.Diagnostics;
using System.Globalization;
using System.IO;

namespace FlowGen.Benchmarks;

/// <summary>
/// The contention gauge of one benchmark case. BenchmarkDotNet runs the cases one after the other, sorted by class, so the
/// FmaPeak rows (the run's first cases) say how free the two cores were in the run's first seconds, not while a 2-thread
/// row minutes later was measured. Every 2-thread case therefore measures the 2-thread FMA scaling itself, right before
/// (GlobalSetup) and right after (GlobalCleanup) its own iterations: <see cref="Rounds"/> rounds of the 1-thread and the
/// 2-thread <see cref="FmaPeak"/> Vector256 float loop, back to back; the gauge is the median over the rounds of
/// 2 × t₁ ÷ t₂ (2.00 on two free cores). The report takes the lower of the two readings and marks the row when it is
/// below 1.8. The readings go, one JSON line per case, to the file named by <see cref="FileVariable"/> (set by
/// <c>Program</c> to the artifacts folder's gauge.jsonl; BenchmarkDotNet's child processes inherit it); without it, nothing
/// is measured. The 2-thread call of a round follows the 1-thread call (≈ 3.5 ms on a free core, more under load), so the
/// reading relies on <see cref="TwoThreads.SpinMilliseconds"/> (10 ms) being longer than that call: a worker that slept
/// through it would start its half late in every round and read the cores as busy.
/// </summary>
public static class Gauge
{
    /// <summary>The environment variable naming the JSON-lines file the readings are appended to.</summary>
    public const string FileVariable = "FLOWGEN_BENCH_GAUGE";

    /// <summary>Rounds of one reading (≈ 3.5 ms each on a free core).</summary>
    public const int Rounds = 15;

    /// <summary>Below this reading a 2-thread row is marked as measured while the cores were not both free.</summary>
    public const double FreeCores = 1.8;

    private static string? FilePath => Environment.GetEnvironmentVariable(FileVariable) is { Length: > 0 } p ? p : null;

    /// <summary>One reading: the median of <see cref="Rounds"/> per-round 2-thread FMA scalings; NaN when no file is set.</summary>
    public static double Read()
    {
        if (FilePath is null) return double.NaN;
        var f1 = new FmaPeak { Threads = 1 };
        var f2 = new FmaPeak { Threads = 2 };
        f1.Setup();
        f2.Setup();
        try
        {
            f1.Float256();
            f2.Float256();
            var ratios = new double[Rounds];
            for (int r = 0; r < Rounds; r++)
            {
                long t0 = Stopwatch.GetTimestamp();
                f1.Float256();
                long t1 = Stopwatch.GetTimestamp();
                f2.Float256();
                long t2 = Stopwatch.GetTimestamp();
                ratios[r] = 2.0 * (t1 - t0) / (t2 - t1);
            }
            Array.Sort(ratios);
            return ratios[Rounds / 2];
        }
        finally
        {
            f2.Cleanup();
        }
    }

    /// <summary>The benchmark class of <paramref name="bench"/> (in process, BenchmarkDotNet runs a subclass it emitted).</summary>
    public static string BenchmarkTypeName(object bench)
    {
        Type t = bench.GetType();
        while (t.Assembly != typeof(Gauge).Assembly && t.BaseType is { } b) t = b;
        return t.Name;
    }

    /// <summary>Appends the case's two readings (before and after its iterations).</summary>
    public static void Write(string type, string method, int batch, int threads, double before, double after)
    {
        if (FilePath is not { } path) return;
        string line = string.Create(CultureInfo.InvariantCulture,
            $"{{\"type\":\"{type}\",\"method\":\"{method}\",\"batch\":{batch},\"threads\":{threads},\"before\":{before:0.000},\"after\":{after:0.000}}}");
        File.AppendAllText(path, line + "\n");
    }
}
