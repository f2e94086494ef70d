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

    /// <summary>`profile scaling`: minimum wall time of 1- and 2-thread calls, interleaved, with the FMA peak loop as the gauge.</summary>
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
        double[] best = new double[8];
        Array.Fill(best, double.MaxValue);
        Action[] calls = [() => f1.Float256(), () => f2.Float256(), l1.LogProb, l2.LogProb, t1.TrainStep, t2.TrainStep, s1.LogProb, s2.LogProb];
        for (int round = 0; round < 12; round++)
            for (int c = 0; c < calls.Length; c++)
            {
                long t0 = Stopwatch.GetTimestamp();
                calls[c]();
                best[c] = Math.Min(best[c], Stopwatch.GetElapsedTime(t0).TotalSeconds);
            }
        Console.WriteLine($"FMA peak loop: 1 thread {best[0] * 1e3:F2} ms, 2 threads (2x the work) {best[1] * 1e3:F2} ms -> scaling {2 * best[0] / best[1]:F2}x");
        Console.WriteLine($"R8 float log p @65536: 1 thread {best[2] * 1e3:F1} ms, 2 threads {best[3] * 1e3:F1} ms -> {best[2] / best[3]:F2}x");
        Console.WriteLine($"R8 float train @4096: 1 thread {best[4] * 1e3:F2} ms, 2 threads {best[5] * 1e3:F2} ms -> {best[4] / best[5]:F2}x");
        Console.WriteLine($"R8 float log p @4096: 1 thread {best[6] * 1e3:F2} ms, 2 threads {best[7] * 1e3:F2} ms -> {best[6] / best[7]:F2}x");
        f2.Cleanup(); l2.Cleanup(); t2.Cleanup(); s2.Cleanup();
        return 0;
    }

    private static void Measure<TBench, TFlow, T>(string name, int batch, Action<TBench> call, double seconds)
        where TBench : FlowBench<TFlow, T>, new()
        where TFlow : class, ICouplingFlowModel<TFlow, T>
        where T : unmanaged, IFloatingPointIeee754<T>
    {
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
