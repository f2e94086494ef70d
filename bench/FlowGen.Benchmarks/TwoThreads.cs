using System;
using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Threading;

namespace FlowGen.Benchmarks;

/// <summary>One half of a batch-parallel call: <see cref="RunHalf"/>(0) runs on the caller's thread, (1) on the worker.</summary>
public interface IHalfWork
{
    /// <summary>Does half <paramref name="half"/> (0 or 1) of the current work.</summary>
    void RunHalf(int half);
}

/// <summary>
/// The 2-thread helper of the benchmarks: one persistent worker thread, so that a split call allocates nothing (no tasks, no
/// closures) and every thread-static buffer of the library is allocated once, during warm-up. <see cref="Run"/> hands half 1
/// to the worker, runs half 0 on the calling thread and waits for the worker. The hand-off is two volatile counters and
/// <see cref="SpinWait"/>, never a blocking primitive: ManualResetEventSlim's fallback to Monitor.Wait showed 24–48 B of
/// sporadic allocation on this machine, which MemoryDiagnoser reports.
/// <para>An idle worker spins and yields for <see cref="SpinMilliseconds"/> after its last half, and only then backs off to
/// Sleep(1) (so that the runtime's finalizer thread can finish its post-GC work, ≈ 336 B allocated after the full collection
/// that MemoryDiagnoser forces, before the measured call starts instead of inside it). The budget is a time, not
/// SpinWait's default count: that count reached Sleep(1) after ≈ 20 spins, tens of microseconds, so a worker that finished
/// its half before the caller finished its own (and the serial part of a call, e.g. the training step's Adam update) slept,
/// and the next call's half 1 started up to a millisecond late. That put BenchmarkDotNet's 2-thread rows and the contention
/// gauge at 1.0–1.6× where <c>profile scaling</c>, which keeps each call's minimum, measured 1.9× (2026-12-02).</para>
/// </summary>
public sealed class TwoThreads : IDisposable
{
    private readonly Thread _worker;
    private IHalfWork? _work;
    private Exception? _error;
    private volatile int _posted, _finished;
    private volatile bool _stop;

    /// <summary>How long an idle worker spins and yields before it sleeps between calls.</summary>
    public const int SpinMilliseconds = 10;

    private static readonly long SpinTicks = Stopwatch.Frequency * SpinMilliseconds / 1000;

    // FLOWGEN_BENCH_TRACE=1: per call, when each half started and ended (Stopwatch ticks) and the CPU it ran on, printed by Dispose
    private static readonly bool Trace = Environment.GetEnvironmentVariable("FLOWGEN_BENCH_TRACE") == "1";
    private const int TraceCalls = 4096;
    private readonly long[] _t = new long[Trace ? TraceCalls * 5 : 0];
    private readonly int[] _cpu = new int[Trace ? TraceCalls * 2 : 0];
    private int _calls;

    private int _niceMain = int.MinValue, _niceWorker = int.MinValue;

    [DllImport("libc", EntryPoint = "sched_getcpu")]
    private static extern int SchedGetCpu();

    // Linux: PRIO_PROCESS (0) with who = 0 is the calling thread
    [DllImport("libc", EntryPoint = "getpriority", SetLastError = true)]
    private static extern int GetPriority(int which, int who);

    /// <summary>Starts the worker thread.</summary>
    public TwoThreads()
    {
        _worker = new Thread(Loop) { IsBackground = true, Name = "bench-half-1" };
        _worker.Start();
    }

    private void Loop()
    {
        int seen = 0;
        while (true)
        {
            var spin = new SpinWait();
            long idleSince = Stopwatch.GetTimestamp();
            // spins and yields for SpinMilliseconds, then sleeps 1 ms at a time: back-to-back calls find the worker awake,
            // while a worker idle for longer (between BenchmarkDotNet's iterations) leaves the core to the runtime's own
            // threads (finalizer, tiering)
            while (_posted == seen && !_stop)
            {
                if (Stopwatch.GetTimestamp() - idleSince < SpinTicks) spin.SpinOnce(sleep1Threshold: -1);
                else Thread.Sleep(1);
            }
            if (_stop) return;
            seen = _posted;
            int slot = (seen - 1) % TraceCalls;
            if (Trace) { _t[slot * 5 + 2] = Stopwatch.GetTimestamp(); _cpu[slot * 2 + 1] = SchedGetCpu(); _niceWorker = GetPriority(0, 0); }
            try
            {
                _work!.RunHalf(1);
            }
            catch (Exception e)
            {
                _error = e;
            }
            if (Trace) _t[slot * 5 + 3] = Stopwatch.GetTimestamp();
            _finished = seen;
        }
    }

    /// <summary>Runs both halves of <paramref name="work"/>, half 1 on the worker, and returns when both are done.</summary>
    public void Run(IHalfWork work)
    {
        _work = work;
        int ticket = _posted + 1;
        int slot = (ticket - 1) % TraceCalls;
        if (Trace) { _t[slot * 5] = Stopwatch.GetTimestamp(); _cpu[slot * 2] = SchedGetCpu(); _niceMain = GetPriority(0, 0); }
        _posted = ticket;
        work.RunHalf(0);
        if (Trace) _t[slot * 5 + 1] = Stopwatch.GetTimestamp();
        var spin = new SpinWait();
        while (_finished != ticket) spin.SpinOnce(sleep1Threshold: -1);
        if (Trace) { _t[slot * 5 + 4] = Stopwatch.GetTimestamp(); _calls = ticket; }
        if (_error is { } e)
        {
            _error = null;
            throw new InvalidOperationException("The worker half failed.", e);
        }
    }

    /// <summary>Stops the worker thread.</summary>
    public void Dispose()
    {
        _stop = true;
        _worker.Join();
        if (Trace) PrintTrace();
    }

    private void PrintTrace()
    {
        int n = Math.Min(_calls, TraceCalls);
        if (n == 0) return;
        double ms(long a, long b) => (b - a) * 1e3 / Stopwatch.Frequency;
        var starts = new double[n]; var h0 = new double[n]; var h1 = new double[n]; var total = new double[n];
        int sameCpu = 0;
        for (int i = 0; i < n; i++)
        {
            long[] t = _t;
            starts[i] = ms(t[i * 5], t[i * 5 + 2]);
            h0[i] = ms(t[i * 5], t[i * 5 + 1]);
            h1[i] = ms(t[i * 5 + 2], t[i * 5 + 3]);
            total[i] = ms(t[i * 5], t[i * 5 + 4]);
            if (_cpu[i * 2] == _cpu[i * 2 + 1]) sameCpu++;
        }
        static double Median(double[] a) { var c = (double[])a.Clone(); Array.Sort(c); return c[c.Length / 2]; }
        Console.WriteLine($"// TwoThreads trace ({n} calls): median ms: worker start delay {Median(starts):F3}, half 0 {Median(h0):F3}, " +
            $"half 1 {Median(h1):F3}, call {Median(total):F3}; halves started on the same CPU in {sameCpu} calls; nice: calling thread {_niceMain}, worker {_niceWorker}; " +
            $"process affinity mask {(OperatingSystem.IsLinux() || OperatingSystem.IsWindows() ? Process.GetCurrentProcess().ProcessorAffinity : -1):X}");
    }

    /// <summary>The row range [start, start + count) of half <paramref name="half"/> of <paramref name="n"/> rows (the first half gets ⌊n/2⌋).</summary>
    public static (int Start, int Count) Half(int n, int half) => half == 0 ? (0, n / 2) : (n / 2, n - n / 2);
}
