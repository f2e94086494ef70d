using System;
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
/// sporadic allocation on this machine, which MemoryDiagnoser reports. The idle worker backs off to Sleep(1) so that
/// the runtime's finalizer thread can finish its post-GC work (≈ 336 B, allocated after the full collection that
/// MemoryDiagnoser forces) before the measured call starts instead of inside it.
/// </summary>
public sealed class TwoThreads : IDisposable
{
    private readonly Thread _worker;
    private IHalfWork? _work;
    private Exception? _error;
    private volatile int _posted, _finished;
    private volatile bool _stop;

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
            // spins, then yields, then sleeps 1 ms at a time (SpinWait's default): back-to-back calls find the worker
            // still spinning, while an idle worker leaves the core to the runtime's own threads (finalizer, tiering)
            while (_posted == seen && !_stop) spin.SpinOnce();
            if (_stop) return;
            seen = _posted;
            try
            {
                _work!.RunHalf(1);
            }
            catch (Exception e)
            {
                _error = e;
            }
            _finished = seen;
        }
    }

    /// <summary>Runs both halves of <paramref name="work"/>, half 1 on the worker, and returns when both are done.</summary>
    public void Run(IHalfWork work)
    {
        _work = work;
        int ticket = _posted + 1;
        _posted = ticket;
        work.RunHalf(0);
        var spin = new SpinWait();
        while (_finished != ticket) spin.SpinOnce(sleep1Threshold: -1);
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
    }

    /// <summary>The row range [start, start + count) of half <paramref name="half"/> of <paramref name="n"/> rows (the first half gets ⌊n/2⌋).</summary>
    public static (int Start, int Count) Half(int n, int half) => half == 0 ? (0, n / 2) : (n / 2, n - n / 2);
}
