using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Linq;
using System.Threading;
using FlowGen.Tests.Infrastructure;

namespace FlowGen.Benchmarks;

/// <summary>
/// One case of an interleaved profile: its name, the samples one call processes (for the rate; 0 for a latency case, printed
/// in ns per call), the call, how many calls one timing covers (a block, for calls too short to time one by one) and how many
/// timings a round holds (so that short cases are timed for about as long as long ones).
/// </summary>
internal readonly record struct ProfileCase(string Name, int Items, Action Call, int CallsPerTiming = 1, int TimingsPerRound = 1);

/// <summary>
/// The runner of the `profile` A/B harnesses (spline, monotone, latency): the cases interleaved round by round, so that a burst
/// of load from another tenant hits all of them alike, and per case the minimum and median wall time and CPU time of the
/// calling thread per call over all timings (<see cref="ThreadCpuClock"/>, Linux; the thread's CPU clock hardly depends on how
/// many other processes share the cores, the wall clock does). Not part of the reported table.
/// </summary>
internal static class Interleaved
{
    /// <summary>Longer than the tiered JIT's call-counting delay (100 ms) plus a tier-1 compilation.</summary>
    private const int WarmupPauseMilliseconds = 300;

    /// <summary>A case's minimum and median wall and thread-CPU time per call over its timings, and how many calls were
    /// timed. Where the median wall time is far above the minimum and the median CPU time is not, the thread was waiting
    /// (preempted); where both are, the calls themselves ran slower.</summary>
    internal readonly record struct Result(ProfileCase Case, double MinWallSeconds, double MinCpuSeconds, long Calls, double MedianWallSeconds = double.NaN, double MedianCpuSeconds = double.NaN);

    /// <summary>
    /// Calls every case <paramref name="warmupCalls"/> times, twice, with a pause between (the tiered JIT promotes a method on a
    /// background thread after a delay; a short run measured with no pause once timed a case at tier 0, 20× slow), then runs
    /// rounds until at least
    /// <paramref name="minRounds"/> have run and either <paramref name="seconds"/> of measuring have passed or
    /// <paramref name="maxRounds"/> rounds have run.
    /// </summary>
    public static Result[] Run(ProfileCase[] cases, int warmupCalls, double seconds, int minRounds, int maxRounds = int.MaxValue)
    {
        for (int pass = 0; pass < 2; pass++)
        {
            foreach (ProfileCase c in cases)
                for (int i = 0; i < warmupCalls; i++) c.Call();
            Thread.Sleep(WarmupPauseMilliseconds);
        }
        var wall = cases.Select(_ => new List<double>()).ToArray();
        var cpu = cases.Select(_ => new List<double>()).ToArray();
        long[] calls = new long[cases.Length];
        var total = Stopwatch.StartNew();
        for (int round = 0; round < minRounds || (total.Elapsed.TotalSeconds < seconds && round < maxRounds); round++)
            for (int k = 0; k < cases.Length; k++)
            {
                ProfileCase c = cases[k];
                Action call = c.Call;
                for (int timing = 0; timing < c.TimingsPerRound; timing++)
                {
                    double c0 = ThreadCpuClock.Seconds();
                    long t0 = Stopwatch.GetTimestamp();
                    for (int i = 0; i < c.CallsPerTiming; i++) call();
                    double elapsed = Stopwatch.GetElapsedTime(t0).TotalSeconds;
                    double used = ThreadCpuClock.Seconds() - c0;
                    wall[k].Add(elapsed / c.CallsPerTiming);
                    if (!double.IsNaN(used)) cpu[k].Add(used / c.CallsPerTiming);
                    calls[k] += c.CallsPerTiming;
                }
            }
        static double Min(List<double> v) => v.Count == 0 ? double.NaN : v.Min();
        static double Median(List<double> v) { if (v.Count == 0) return double.NaN; var c = v.Order().ToArray(); return c[c.Length / 2]; }
        return cases.Select((c, k) => new Result(c, Min(wall[k]), Min(cpu[k]), calls[k], Median(wall[k]), Median(cpu[k]))).ToArray();
    }

    /// <summary>One line per case: calls, minimum wall time and minimum thread CPU time per call (ms and samples/s, or ns for a
    /// latency case), then the medians of both.</summary>
    public static void Print(Result[] results)
    {
        int width = results.Max(r => r.Case.Name.Length);
        foreach (Result r in results)
        {
            string Time(double s) => double.IsNaN(s) ? "n/a" : r.Case.Items > 0 ? $"{s * 1e3,9:F3} ms ({r.Case.Items / s,10:N0}/s)" : $"{s * 1e9,7:F0} ns";
            string Short(double s) => double.IsNaN(s) ? "n/a" : r.Case.Items > 0 ? $"{s * 1e3:F3} ms" : $"{s * 1e9:F0} ns";
            Console.WriteLine($"  {r.Case.Name.PadRight(width)}  calls {r.Calls,7}  min wall {Time(r.MinWallSeconds)}  min thread cpu {Time(r.MinCpuSeconds)}  median wall {Short(r.MedianWallSeconds)}, cpu {Short(r.MedianCpuSeconds)}");
        }
    }
}
