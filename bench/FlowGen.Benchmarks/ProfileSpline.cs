using System;
using System.Diagnostics;

namespace FlowGen.Benchmarks;

/// <summary>
/// `profile spline [rounds] [case]`: the A/B harness of the spline coupling's speed (S8, issue 17). Runs S8 float log-density and
/// inverse at 65 536, the training step at 4 096 (1 thread) and, for scale, R8's log-density and training step (the affine
/// stack of the same shape, whose conditioner costs half of S8's), interleaved round by round, and prints each case's
/// minimum wall time per call (a second argument keeps only the cases whose name contains it, for a profiler such as
/// <c>perf record</c>). Not part of the reported table; run two builds alternately to compare them.
/// </summary>
public static class ProfileSpline
{
    /// <summary>Runs the harness for <paramref name="rounds"/> interleaved rounds, only the cases whose name contains <paramref name="only"/> (all when empty; e.g. "S8 float LogProb" for a profiler).</summary>
    public static int Run(int rounds, string only = "")
    {
        var logProb = new S8_float { Batch = 65536, Threads = 1 }; logProb.Setup();
        var train = new S8_float { Batch = 4096, Threads = 1 }; train.Setup();
        var affine = new R8_float { Batch = 65536, Threads = 1 }; affine.Setup();
        var affineTrain = new R8_float { Batch = 4096, Threads = 1 }; affineTrain.Setup();
        (string Name, int Batch, Action Call)[] cases =
        [
            ("S8 float LogProb@65536", 65536, logProb.LogProb),
            ("S8 float Inverse@65536", 65536, logProb.Inverse),
            ("S8 float TrainStep@4096", 4096, train.TrainStep),
            ("R8 float LogProb@65536", 65536, affine.LogProb),
            ("R8 float TrainStep@4096", 4096, affineTrain.TrainStep),
        ];
        cases = Array.FindAll(cases, c => c.Name.Contains(only, StringComparison.OrdinalIgnoreCase));
        double[] best = new double[cases.Length];
        Array.Fill(best, double.MaxValue);
        foreach (var c in cases) c.Call(); // JIT and tiering warm-up
        for (int round = 0; round < rounds; round++)
            for (int c = 0; c < cases.Length; c++)
            {
                // the small cases get several calls per round so that every case is timed for a similar wall time
                int repeats = cases[c].Batch < 65536 ? 4 : 1;
                for (int r = 0; r < repeats; r++)
                {
                    long t0 = Stopwatch.GetTimestamp();
                    cases[c].Call();
                    best[c] = Math.Min(best[c], Stopwatch.GetElapsedTime(t0).TotalSeconds);
                }
            }
        for (int c = 0; c < cases.Length; c++)
            Console.WriteLine($"{cases[c].Name,-26} min wall {best[c] * 1e3,9:F3} ms ({cases[c].Batch / best[c],10:N0}/s)");
        return 0;
    }
}
