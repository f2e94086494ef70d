using System;
using System.Runtime.ExceptionServices;
using System.Threading;

namespace FlowGen;

/// <summary>Work split into numbered items that may run in any order, on any thread: <see cref="Run"/>(i) for i in [0, count).</summary>
internal interface IParallelWork
{
    /// <summary>Does item <paramref name="index"/>. Items must not depend on each other or on the thread that runs them.</summary>
    void Run(int index);
}

/// <summary>
/// The runtime's persistent worker threads, used by <see cref="FlowParallel"/> and the trainer's per-step shards. A call hands
/// its items to a crew: the crew's parked workers are woken, every thread (the caller included) takes the next item number
/// until none is left, and the caller returns when every item has finished. So a call allocates nothing (no tasks, no
/// delegates), and an item that a late worker never reaches is simply run by the threads already awake.
/// </summary>
/// <remarks>
/// <para>Waiting: an idle worker spins for about <see cref="SpinMicroseconds"/> µs (back-to-back calls, such as training
/// steps, find it awake), then parks on its own semaphore until the next call releases it. The caller waits for the last
/// items by spinning and yielding, never sleeping.</para>
/// <para>A crew serves one call at a time. There are <see cref="MaxCrews"/> crews; a call that finds them all busy (many
/// concurrent callers, or a call made from inside an item) runs its items on the calling thread, in order. Results never
/// depend on which thread ran an item, so that only changes the speed.</para>
/// <para>Workers are background threads, created on first use (at most threads − 1 per crew) and kept for the process's life.</para>
/// </remarks>
internal sealed class ParallelWorkers
{
    /// <summary>Crews that can serve calls at the same time.</summary>
    public const int MaxCrews = 4;

    /// <summary>The largest thread count a call uses (larger requests are clamped).</summary>
    public const int MaxThreads = 64;

    /// <summary>How long an idle worker spins before it parks.</summary>
    public const int SpinMicroseconds = 200;

    private static readonly ParallelWorkers[] s_crews = CreateCrews();
    private static readonly long s_spinTicks = Math.Max(1, System.Diagnostics.Stopwatch.Frequency * SpinMicroseconds / 1_000_000);

    private readonly object _grow = new();
    private Worker[] _workers = Array.Empty<Worker>();
    private int _busy;

    // the current call: its generation (high 32 bits, wrapping) and next item number in one word, so that a claim (CAS) is
    // valid for exactly one call; _generationAndCount (generation, item count) is written before _claim publishes the call
    private long _claim;
    private long _generationAndCount;
    private IParallelWork? _work;
    private int _done;
    private ExceptionDispatchInfo? _error;

    private static ParallelWorkers[] CreateCrews()
    {
        var crews = new ParallelWorkers[MaxCrews];
        for (int i = 0; i < crews.Length; i++) crews[i] = new ParallelWorkers();
        return crews;
    }

    /// <summary>
    /// Runs <paramref name="work"/>'s items 0 … <paramref name="count"/> − 1 on up to <paramref name="threads"/> threads (the
    /// caller is one of them) and returns when all have finished. The first exception an item throws is rethrown here, after
    /// every item has finished. With one thread or one item (or every crew busy) the items run on the caller, in order.
    /// </summary>
    public static void Run(IParallelWork work, int count, int threads)
    {
        threads = Math.Min(Math.Min(threads, count), MaxThreads);
        if (threads <= 1)
        {
            RunInOrder(work, count);
            return;
        }
        foreach (ParallelWorkers crew in s_crews)
        {
            if (Interlocked.CompareExchange(ref crew._busy, 1, 0) != 0) continue;
            try
            {
                crew.Execute(work, count, threads);
            }
            finally
            {
                Volatile.Write(ref crew._busy, 0);
            }
            return;
        }
        RunInOrder(work, count);
    }

    private static void RunInOrder(IParallelWork work, int count)
    {
        for (int i = 0; i < count; i++) work.Run(i);
    }

    private void Execute(IParallelWork work, int count, int threads)
    {
        Worker[] workers = Workers(threads - 1);
        uint generation = Generation(_claim) + 1;
        _work = work;
        _done = 0;
        _error = null;
        Volatile.Write(ref _generationAndCount, (long)((ulong)generation << 32 | (uint)count));
        Volatile.Write(ref _claim, (long)((ulong)generation << 32)); // publishes the call: item 0 is next
        for (int w = 0; w < threads - 1; w++) workers[w].Wake();

        Help(generation);
        var spin = new SpinWait();
        while (Volatile.Read(ref _done) < count) spin.SpinOnce(sleep1Threshold: -1);
        _work = null;
        if (_error is { } error)
        {
            _error = null;
            error.Throw();
        }
    }

    /// <summary>Takes and runs items of call <paramref name="generation"/> until none is left (or a newer call has started).</summary>
    private void Help(uint generation)
    {
        while (true)
        {
            long claim = Volatile.Read(ref _claim);
            if (Generation(claim) != generation) return;
            long gc = Volatile.Read(ref _generationAndCount);
            int index = (int)(uint)claim, count = (int)(uint)gc;
            if (Generation(gc) != generation || index >= count) return;
            if (Interlocked.CompareExchange(ref _claim, claim + 1, claim) != claim) continue;
            // item `index` of this call is ours: the call cannot end (nor _work change) before we count it done
            try
            {
                _work!.Run(index);
            }
            catch (Exception e)
            {
                Interlocked.CompareExchange(ref _error, ExceptionDispatchInfo.Capture(e), null);
            }
            Interlocked.Increment(ref _done);
        }
    }

    private static uint Generation(long word) => (uint)((ulong)word >> 32);

    /// <summary>At least <paramref name="n"/> workers, started on first use.</summary>
    private Worker[] Workers(int n)
    {
        Worker[] workers = _workers;
        if (workers.Length >= n) return workers;
        lock (_grow)
        {
            if (_workers.Length < n)
            {
                var grown = new Worker[n];
                Array.Copy(_workers, grown, _workers.Length);
                for (int i = _workers.Length; i < n; i++) grown[i] = new Worker(this, i);
                _workers = grown;
            }
            return _workers;
        }
    }

    /// <summary>One persistent thread of a crew.</summary>
    private sealed class Worker
    {
        private readonly ParallelWorkers _crew;
        private readonly SemaphoreSlim _wake = new(0);
        private int _parked; // 1 while the thread is about to wait (or waits) on _wake

        public Worker(ParallelWorkers crew, int index)
        {
            _crew = crew;
            new Thread(Loop) { IsBackground = true, Name = $"FlowGen worker {index + 1}" }.Start();
        }

        /// <summary>Releases the thread if it is parked (a spinning thread sees the new call by itself).</summary>
        public void Wake()
        {
            if (Interlocked.Exchange(ref _parked, 0) == 1) _wake.Release();
        }

        private void Loop()
        {
            uint seen = 0;
            while (true)
            {
                uint generation = WaitForCall(seen);
                seen = generation;
                _crew.Help(generation);
            }
        }

        /// <summary>Spins, then parks, until a call newer than <paramref name="seen"/> is published; returns its generation.</summary>
        private uint WaitForCall(uint seen)
        {
            long start = System.Diagnostics.Stopwatch.GetTimestamp();
            var spin = new SpinWait();
            while (true)
            {
                uint generation = Generation(Volatile.Read(ref _crew._claim));
                if (generation != seen) return generation;
                if (System.Diagnostics.Stopwatch.GetTimestamp() - start < s_spinTicks)
                {
                    spin.SpinOnce(sleep1Threshold: -1);
                    continue;
                }
                Interlocked.Exchange(ref _parked, 1); // a full fence: the read below cannot move before it
                if (Generation(Volatile.Read(ref _crew._claim)) != seen)
                {
                    // a call came in meanwhile: un-park ourselves, or consume the release its caller has made
                    if (Interlocked.Exchange(ref _parked, 0) == 0) _wake.Wait();
                    continue;
                }
                _wake.Wait();
                start = System.Diagnostics.Stopwatch.GetTimestamp();
                spin.Reset();
            }
        }
    }
}
