using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.Linq;

namespace FlowGen.Benchmarks;

/// <summary>
/// `dense-ab [rounds] [microseconds]`: the interleaved A/B comparison of the runtime's dense kernels with the emitted ones,
/// for a shared, noisy machine. Every round times, for every kernel pair, one batch of calls of each side (about
/// <c>microseconds</c> long; the side that goes first alternates between rounds), so that slow and fast phases of the
/// machine fall on both sides alike. Prints, per pair, the minimum batch time of each side per call and two throughput
/// ratios runtime ÷ emitted: of the minima, and the median of the per-round ratios. Not part of the reported table.
/// </summary>
public static class DenseAB
{
    private sealed record Pair(string Precision, string Shape, string Kernel, Action Emitted, Action Runtime);

    /// <summary>Runs the comparison.</summary>
    public static int Run(int rounds, double micros)
    {
        using var f = new DenseKernels_float();
        using var d = new DenseKernels_double();
        Pair[] pairs =
        [
            new("float", "4x64 Tanh", "forward tile", f.Forward_4x64_Tanh_Emitted, f.Forward_4x64_Tanh_Runtime),
            new("float", "4x64 Tanh", "forward one", f.ForwardOne_4x64_Tanh_Emitted, f.ForwardOne_4x64_Tanh_Runtime),
            new("float", "4x64 Tanh", "backward tile", f.Backward_4x64_Tanh_Emitted, f.Backward_4x64_Tanh_Runtime),
            new("float", "64x64 Tanh", "forward tile", f.Forward_64x64_Tanh_Emitted, f.Forward_64x64_Tanh_Runtime),
            new("float", "64x64 Tanh", "forward one", f.ForwardOne_64x64_Tanh_Emitted, f.ForwardOne_64x64_Tanh_Runtime),
            new("float", "64x64 Tanh", "backward tile", f.Backward_64x64_Tanh_Emitted, f.Backward_64x64_Tanh_Runtime),
            new("float", "64x8 Identity", "forward tile", f.Forward_64x8_Identity_Emitted, f.Forward_64x8_Identity_Runtime),
            new("float", "64x8 Identity", "forward one", f.ForwardOne_64x8_Identity_Emitted, f.ForwardOne_64x8_Identity_Runtime),
            new("float", "64x8 Identity", "backward tile", f.Backward_64x8_Identity_Emitted, f.Backward_64x8_Identity_Runtime),
            new("double", "4x64 Tanh", "forward tile", d.Forward_4x64_Tanh_Emitted, d.Forward_4x64_Tanh_Runtime),
            new("double", "4x64 Tanh", "forward one", d.ForwardOne_4x64_Tanh_Emitted, d.ForwardOne_4x64_Tanh_Runtime),
            new("double", "4x64 Tanh", "backward tile", d.Backward_4x64_Tanh_Emitted, d.Backward_4x64_Tanh_Runtime),
            new("double", "64x64 Tanh", "forward tile", d.Forward_64x64_Tanh_Emitted, d.Forward_64x64_Tanh_Runtime),
            new("double", "64x64 Tanh", "forward one", d.ForwardOne_64x64_Tanh_Emitted, d.ForwardOne_64x64_Tanh_Runtime),
            new("double", "64x64 Tanh", "backward tile", d.Backward_64x64_Tanh_Emitted, d.Backward_64x64_Tanh_Runtime),
            new("double", "64x8 Identity", "forward tile", d.Forward_64x8_Identity_Emitted, d.Forward_64x8_Identity_Runtime),
            new("double", "64x8 Identity", "forward one", d.ForwardOne_64x8_Identity_Emitted, d.ForwardOne_64x8_Identity_Runtime),
            new("double", "64x8 Identity", "backward tile", d.Backward_64x8_Identity_Emitted, d.Backward_64x8_Identity_Runtime),
        ];
        // warm-up (tier-1 code) and calibration: calls per batch so that a batch takes about `micros`
        var calls = new int[pairs.Length];
        for (int p = 0; p < pairs.Length; p++)
        {
            for (int i = 0; i < 20000; i++) { pairs[p].Emitted(); pairs[p].Runtime(); }
            System.Threading.Thread.Sleep(1);
            for (int i = 0; i < 20000; i++) { pairs[p].Emitted(); pairs[p].Runtime(); }
            long t0 = Stopwatch.GetTimestamp();
            for (int i = 0; i < 1000; i++) pairs[p].Emitted();
            double per = Stopwatch.GetElapsedTime(t0).TotalSeconds / 1000;
            calls[p] = Math.Max(1, (int)(micros * 1e-6 / per));
        }
        var te = new double[pairs.Length][];
        var tr = new double[pairs.Length][];
        for (int p = 0; p < pairs.Length; p++) { te[p] = new double[rounds]; tr[p] = new double[rounds]; }
        for (int r = 0; r < rounds; r++)
        {
            for (int p = 0; p < pairs.Length; p++)
            {
                if (r % 2 == 0)
                {
                    te[p][r] = Time(pairs[p].Emitted, calls[p]);
                    tr[p][r] = Time(pairs[p].Runtime, calls[p]);
                }
                else
                {
                    tr[p][r] = Time(pairs[p].Runtime, calls[p]);
                    te[p][r] = Time(pairs[p].Emitted, calls[p]);
                }
            }
        }
        Console.WriteLine($"dense-ab: {rounds} rounds, batches of ~{micros} µs, interleaved; ratio = runtime throughput ÷ emitted throughput");
        Console.WriteLine();
        Console.WriteLine("| precision | shape | kernel | emitted ns/call (min) | runtime ns/call (min) | ratio of minima | median per-round ratio |");
        Console.WriteLine("|---|---|---|---:|---:|---:|---:|");
        for (int p = 0; p < pairs.Length; p++)
        {
            double e = te[p].Min() / calls[p] * 1e9, rt = tr[p].Min() / calls[p] * 1e9;
            double median = Median(Enumerable.Range(0, rounds).Select(r => te[p][r] / tr[p][r]));
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"| {pairs[p].Precision} | {pairs[p].Shape} | {pairs[p].Kernel} | {e:F1} | {rt:F1} | {e / rt:F3} | {median:F3} |"));
        }
        return 0;
    }

    private static double Time(Action call, int n)
    {
        long t0 = Stopwatch.GetTimestamp();
        for (int i = 0; i < n; i++) call();
        return Stopwatch.GetElapsedTime(t0).TotalSeconds;
    }

    private static double Median(IEnumerable<double> values)
    {
        var a = values.OrderBy(x => x).ToArray();
        return a.Length % 2 == 1 ? a[a.Length / 2] : (a[a.Length / 2 - 1] + a[a.Length / 2]) / 2;
    }
}
