using System;
using System.Diagnostics;
using System.Numerics;

namespace FlowGen.Benchmarks;

/// <summary>
/// `profile [seconds]`: a quick A/B harness for kernel work on a shared, loaded machine. Runs R8 float log-density at 65 536
/// and the training step at 4 096 (1 thread) repeatedly and prints the minimum wall time per call and the process CPU time
/// per call averaged over the run (CPU time is far less sensitive to other tenants than wall time; the process clock
/// ticks in 10 ms steps, so it is read once around all calls). Not part of the reported table.
/// </summary>
public static class Profile
{
    /// <summary>Runs the harness.</summary>
    public static int Run(double seconds)
    {
        Measure<R8_float, R8Float, float>("R8 float LogProb@65536", 65536, b => b.LogProb(), seconds);
        Measure<R8_float, R8Float, float>("R8 float TrainStep@4096", 4096, b => b.TrainStep(), seconds);
        Measure<R8_float, R8Float, float>("R8 float Forward@65536", 65536, b => b.Forward(), seconds / 2);
        Measure<R2_float, R2Float, float>("R2 float TrainStep@4096", 4096, b => b.TrainStep(), seconds / 2);
        Measure<L64_float, L64Float, float>("L64 float TrainStep@4096", 4096, b => b.TrainStep(), seconds / 2);
        Measure<L64_float, L64Float, float>("L64 float LogProb@4096", 4096, b => b.LogProb(), seconds / 2);
        Measure<L64_float, L64Float, float>("L64 float Forward@4096", 4096, b => b.Forward(), seconds / 2);
        return 0;
    }

    /// <summary>
    /// `profile scaling`: minimum wall time of 1- and 2-thread calls over 12 interleaved rounds, with the FMA peak loop as the
    /// gauge of the same rounds: the bench's own split of R8 calls (<see cref="TwoThreads"/>), the library's
    /// <see cref="FlowParallel"/> calls at 65 536 (1 thread: the flow's own call) and <see cref="FlowTrainer"/> end to end at
    /// batch 256 and 4 096 (<see cref="Trainer_R8_float"/>'s runs).
    /// </summary>
    public static int Scaling()
    {
        var f1 = new FmaPeak { Threads = 1 }; f1.Setup();
        var f2 = new FmaPeak { Threads = 2 }; f2.Setup();
        var l1 = new R8_float { Batch = 65536, Threads = 1 }; l1.Setup();
        var l2 = new R8_float { Batch = 65536, Threads = 2 }; l2.Setup();
        var t1 = new R8_float { Batch = 4096, Threads = 1 }; t1.Setup();
        var t2 = new R8_float { Batch = 4096, Threads = 2 }; t2.Setup();
        var s1 = new R8_float { Batch = 4096, Threads = 1 }; s1.Setup();
        var s2 = new R8_float { Batch = 4096, Threads = 2 }; s2.Setup();
        var p1 = new Parallel_R8_float { Batch = 65536, Threads = 1 }; p1.Setup();
        var p2 = new Parallel_R8_float { Batch = 65536, Threads = 2 }; p2.Setup();
        var r1 = new Trainer_R8_float { Batch = 256, Threads = 1 }; r1.Setup();
        var r2 = new Trainer_R8_float { Batch = 256, Threads = 2 }; r2.Setup();
        var q1 = new Trainer_R8_float { Batch = 4096, Threads = 1 }; q1.Setup();
        var q2 = new Trainer_R8_float { Batch = 4096, Threads = 2 }; q2.Setup();
        (string Name, Action One, Action Two)[] cases =
        [
            ("FMA peak loop (2 threads: 2x the work)", () => f1.Float256(), () => f2.Float256()),
            ("R8 float log p @65536 (bench split)", l1.LogProb, l2.LogProb),
            ("R8 float train step @4096 (bench split)", t1.TrainStep, t2.TrainStep),
            ("R8 float log p @4096 (bench split)", s1.LogProb, s2.LogProb),
            ("FlowParallel.LogProb @65536", p1.LogProb, p2.LogProb),
            ("FlowParallel.Forward @65536", p1.Forward, p2.Forward),
            ("FlowParallel.Inverse @65536", p1.Inverse, p2.Inverse),
            ("FlowParallel.Sample @65536", p1.Sample, p2.Sample),
            ("FlowTrainer.Train @256 (100 steps)", () => r1.TrainRun(), () => r2.TrainRun()),
            ("FlowTrainer.Train @4096 (100 steps)", () => q1.TrainRun(), () => q2.TrainRun()),
        ];
        double[] best1 = new double[cases.Length], best2 = new double[cases.Length];
        Array.Fill(best1, double.MaxValue);
        Array.Fill(best2, double.MaxValue);
        static double Time(Action call)
        {
            long t0 = Stopwatch.GetTimestamp();
            call();
            return Stopwatch.GetElapsedTime(t0).TotalSeconds;
        }
        for (int round = 0; round < 12; round++)
            for (int c = 0; c < cases.Length; c++)
            {
                best1[c] = Math.Min(best1[c], Time(cases[c].One));
                best2[c] = Math.Min(best2[c], Time(cases[c].Two));
            }
        double gauge = 2 * best1[0] / best2[0];
        Console.WriteLine($"{cases[0].Name}: 1 thread {best1[0] * 1e3:F2} ms, 2 threads {best2[0] * 1e3:F2} ms -> scaling {gauge:F2}x" +
            (gauge < Gauge.FreeCores ? $"  (below {Gauge.FreeCores}: the two cores were not both free; the ratios below are low bounds)" : ""));
        for (int c = 1; c < cases.Length; c++)
        {
            Console.WriteLine($"{cases[c].Name}: 1 thread {best1[c] * 1e3:F2} ms, 2 threads {best2[c] * 1e3:F2} ms -> {best1[c] / best2[c]:F2}x");
        }
        f2.Cleanup(); l2.Cleanup(); t2.Cleanup(); s2.Cleanup(); p2.Cleanup(); r2.Cleanup(); q2.Cleanup();
        return 0;
    }

    private static void Measure<TBench, TFlow, T>(string name, int batch, Action<TBench> call, double seconds)
        where TBench : FlowBench<TFlow, T>, new()
        where TFlow : class, ICouplingFlowModel<TFlow, T>
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        // warm-up to Tier 1 first: 60 calls at a small batch run the same methods (the code does not depend on the batch), and
        // the pause lets the background Tier-1 compilations finish; without it, slow cases (L64: 5 calls in the measuring
        // time) were timed in Tier-0/OSR code
        var warm = new TBench { Batch = 64, Threads = 1 };
        warm.Setup();
        for (int i = 0; i < 60; i++) call(warm);
        warm.Cleanup();
        System.Threading.Thread.Sleep(300);
        var bench = new TBench { Batch = batch, Threads = 1 };
        bench.Setup();
        for (int i = 0; i < 3; i++) call(bench);
        var proc = Process.GetCurrentProcess();
        double minWall = double.MaxValue;
        var total = Stopwatch.StartNew();
        int calls = 0;
        proc.Refresh();
        TimeSpan cpu0 = proc.TotalProcessorTime;
        while (total.Elapsed.TotalSeconds < seconds || calls < 5)
        {
            long t0 = Stopwatch.GetTimestamp();
            call(bench);
            minWall = Math.Min(minWall, Stopwatch.GetElapsedTime(t0).TotalSeconds);
            calls++;
        }
        proc.Refresh();
        double cpu = (proc.TotalProcessorTime - cpu0).TotalSeconds / calls;
        bench.Cleanup();
        Console.WriteLine($"{name,-26} calls {calls,4}  min wall {minWall * 1e3,9:F3} ms ({batch / minWall,10:N0}/s)  cpu/call {cpu * 1e3,9:F3} ms ({batch / cpu,10:N0}/s)");
    }
}
