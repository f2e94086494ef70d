using System;
using System.Diagnostics;
using System.Runtime.InteropServices;

namespace FlowGen.Tests.Infrastructure;

/// <summary>
/// CPU time of the calling thread (CLOCK_THREAD_CPUTIME_ID on Linux): what a call itself costs, unlike wall time, which a
/// shared machine stretches. Used by the tests' runaway guards and by the benchmarks' interleaved profiles (linked into
/// bench/FlowGen.Benchmarks).
/// </summary>
internal static class ThreadCpuClock
{
    [StructLayout(LayoutKind.Sequential)]
    private struct TimeSpec
    {
        public long Seconds, Nanoseconds;
    }

    private const int ClockThreadCpuTimeId = 3;

    [DllImport("libc", EntryPoint = "clock_gettime")]
    private static extern int ClockGetTime(int clock, out TimeSpec time);

    /// <summary>True where <see cref="Seconds"/> reads the thread's CPU clock (Linux).</summary>
    public static bool IsAvailable => OperatingSystem.IsLinux();

    /// <summary>The calling thread's CPU time in seconds; NaN where that clock is not available.</summary>
    public static double Seconds()
    {
        if (!IsAvailable) return double.NaN;
        return ClockGetTime(ClockThreadCpuTimeId, out TimeSpec t) == 0 ? t.Seconds + t.Nanoseconds * 1e-9 : double.NaN;
    }

    /// <summary>
    /// Runs <paramref name="action"/> and returns what it cost the calling thread: its CPU time where the clock is available,
    /// its wall time elsewhere.
    /// </summary>
    public static TimeSpan Measure(Action action)
    {
        double c0 = Seconds();
        long t0 = Stopwatch.GetTimestamp();
        action();
        double cpu = Seconds() - c0;
        return double.IsNaN(cpu) ? Stopwatch.GetElapsedTime(t0) : TimeSpan.FromSeconds(cpu);
    }
}
