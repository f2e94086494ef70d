using System;

namespace FlowGen.Benchmarks;

/// <summary>
/// `profile spline [rounds] [case]`: the A/B harness of the spline coupling's speed (S8, issue 17). Runs S8 float log-density and
/// inverse at 65 536, the training step at 4 096 (1 thread) and, for scale, R8's log-density and training step (the affine
/// stack of the same shape, whose conditioner costs half of S8's), interleaved round by round by <see cref="Interleaved"/>, and prints each case's
/// minimum wall time and thread CPU time per call (a second argument keeps only the cases whose name contains it, for a profiler such as
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
        ProfileCase[] cases =
        [
            // the training steps (4 096) get four timings per round so that every case is timed for a similar wall time
            new("S8 float LogProb@65536", 65536, logProb.LogProb),
            new("S8 float Inverse@65536", 65536, logProb.Inverse),
            new("S8 float TrainStep@4096", 4096, train.TrainStep, TimingsPerRound: 4),
            new("R8 float LogProb@65536", 65536, affine.LogProb),
            new("R8 float TrainStep@4096", 4096, affineTrain.TrainStep, TimingsPerRound: 4),
        ];
        cases = Array.FindAll(cases, c => c.Name.Contains(only, StringComparison.OrdinalIgnoreCase));
        Interleaved.Print(Interleaved.Run(cases, warmupCalls: 1, seconds: 0, minRounds: rounds));
        return 0;
    }
}
