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
    public static int Run(string[] args)
    {
        double seconds = args.Length > 0 ? double.Parse(args[0], System.Globalization.CultureInfo.InvariantCulture) : 6;
        Measure<R8_float, R8F, float>("R8 float LogProb@65536", 65536, b => b.LogProb(), seconds);
        Measure<R8_float, R8F, float>("R8 float TrainStep@4096", 4096, b => b.TrainStep(), seconds);
        Measure<R8_float, R8F, float>("R8 float Forward@65536", 65536, b => b.Forward(), seconds / 2);
        Measure<R2_float, R2F, float>("R2 float TrainStep@4096", 4096, b => b.TrainStep(), seconds / 2);
        Measure<L64_float, L64F, float>("L64 float TrainStep@4096", 4096, b => b.TrainStep(), seconds / 2);
        return 0;
    }

    private static void Measure<TBench, TOps, T>(string name, int batch, Action<TBench> call, double seconds)
        where TBench : FlowBench<TOps, T>, new()
        where TOps : struct, IModelOps<T>
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
