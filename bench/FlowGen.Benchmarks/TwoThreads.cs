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
/// to the worker, runs half 0 on the calling thread and waits for the worker. Both sides spin briefly before blocking, so a
/// hand-off costs a few microseconds, not a scheduler wake-up, while the worker is idle.
/// </summary>
public sealed class TwoThreads : IDisposable
{
    private const int SpinCount = 2047; // ManualResetEventSlim's maximum
    private readonly Thread _worker;
    private readonly ManualResetEventSlim _go = new(false, SpinCount);
    private readonly ManualResetEventSlim _done = new(false, SpinCount);
    private IHalfWork? _work;
    private Exception? _error;
    private volatile bool _stop;

    /// <summary>Starts the worker thread.</summary>
    public TwoThreads()
    {
        _worker = new Thread(Loop) { IsBackground = true, Name = "bench-half-1" };
        _worker.Start();
    }

    private void Loop()
    {
        while (true)
        {
            _go.Wait();
            _go.Reset();
            if (_stop) return;
            try
            {
                _work!.RunHalf(1);
            }
            catch (Exception e)
            {
                _error = e;
            }
            _done.Set();
        }
    }

    /// <summary>Runs both halves of <paramref name="work"/>, half 1 on the worker, and returns when both are done.</summary>
    public void Run(IHalfWork work)
    {
        _work = work;
        _done.Reset();
        _go.Set();
        work.RunHalf(0);
        _done.Wait();
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
        _go.Set();
        _worker.Join();
        _go.Dispose();
        _done.Dispose();
    }

    /// <summary>The row range [start, start + count) of half <paramref name="half"/> of <paramref name="n"/> rows (the first half gets ⌊n/2⌋).</summary>
    public static (int Start, int Count) Half(int n, int half) => half == 0 ? (0, n / 2) : (n / 2, n - n / 2);
}
