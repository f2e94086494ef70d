using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Text;
using System.Text.Json;

namespace FlowGen.Benchmarks;

/// <summary>
/// `report`: joins BenchmarkDotNet's JSON results (FlowGen, naive C#, FMA peak) with the peers' JSON-lines results into one
/// Markdown table, plus the FMA peak and the targets of issue 5.
/// </summary>
public static class Report
{
    // Seconds: the median time per call; MinSeconds: BenchmarkDotNet's fastest iteration (NaN for the peers, which report medians)
    private sealed record Row(string System, string Model, string Precision, string Op, int Batch, int Threads, double Seconds, long? Bytes, string Note, double MinSeconds = double.NaN);

    // the lowest contention gauge (Gauge.cs) of each 2-thread case: (model, precision, batch, threads) -> 2-thread FMA scaling
    private static readonly Dictionary<(string, string, int, int), double> Gauges = new();

    private static readonly string[] OpOrder = ["LogProb", "Forward", "Inverse", "Sample", "TrainStep", "TrainRun"];
    private static readonly string[] ModelOrder = ["R8", "R2", "L64", "S8", "Q8", "D8", "G8"];

    /// <summary>report --bdn DIR [--peers FILE]... [--out FILE] [--title TEXT]</summary>
    public static int Run(string? bdn, IReadOnlyList<string> peers, string? output, string? title)
    {
        var rows = new List<Row>();
        var peaks = new Dictionary<(string Precision, int Threads, int Width), double>();
        if (bdn is not null) ReadBdn(bdn, rows, peaks);
        foreach (var p in peers) if (File.Exists(p)) ReadPeers(p, rows); else Console.Error.WriteLine($"report: no peer results at {p}");
        string text = Render(rows, peaks, title);
        Console.WriteLine(text);
        if (output is not null) File.WriteAllText(output, text);
        return 0;
    }

    private static void ReadBdn(string dir, List<Row> rows, Dictionary<(string, int, int), double> peaks)
    {
        var files = Directory.Exists(dir) ? Directory.GetFiles(dir, "*-report-full.json", SearchOption.AllDirectories) : [];
        if (files.Length == 0) Console.Error.WriteLine($"report: no BenchmarkDotNet *-report-full.json under {dir}");
        foreach (var gaugeFile in Directory.Exists(dir) ? Directory.GetFiles(dir, "gauge.jsonl", SearchOption.AllDirectories) : [])
            foreach (var line in File.ReadAllLines(gaugeFile))
            {
                if (string.IsNullOrWhiteSpace(line)) continue;
                using var g = JsonDocument.Parse(line);
                var e = g.RootElement;
                var m = Catalog.ForBenchmarkType(e.GetProperty("type").GetString() ?? "");
                if (m is null) continue;
                var key = (m.Name, m.Precision, e.GetProperty("batch").GetInt32(), e.GetProperty("threads").GetInt32());
                double low = Math.Min(e.GetProperty("before").GetDouble(), e.GetProperty("after").GetDouble());
                Gauges[key] = Gauges.TryGetValue(key, out double old) ? Math.Min(old, low) : low;
            }
        foreach (var file in files)
        {
            using var doc = JsonDocument.Parse(File.ReadAllText(file));
            foreach (var b in doc.RootElement.GetProperty("Benchmarks").EnumerateArray())
            {
                string type = b.GetProperty("Type").GetString() ?? "";
                string method = b.GetProperty("Method").GetString() ?? "";
                var pars = ParseParameters(b.TryGetProperty("Parameters", out var pe) ? pe.GetString() ?? "" : "");
                if (!b.TryGetProperty("Statistics", out var st) || st.ValueKind != JsonValueKind.Object) continue;
                double medianNs = st.GetProperty("Median").GetDouble();
                double minNs = st.TryGetProperty("Min", out var mn) && mn.ValueKind == JsonValueKind.Number ? mn.GetDouble() : double.NaN;
                long? bytes = b.TryGetProperty("Memory", out var mem) && mem.ValueKind == JsonValueKind.Object
                    && mem.TryGetProperty("BytesAllocatedPerOperation", out var ba) && ba.ValueKind == JsonValueKind.Number ? ba.GetInt64() : null;
                int threads = pars.TryGetValue("Threads", out int t) ? t : 1;
                if (type == "FmaPeak")
                {
                    int width = method.EndsWith("512", StringComparison.Ordinal) ? 512 : 256;
                    string prec = method.StartsWith("Float", StringComparison.Ordinal) ? "float" : "double";
                    int lanes = width / (prec == "float" ? 32 : 64);
                    peaks[(prec, threads, width)] = FmaPeak.Flop(lanes) * threads / (medianNs * 1e-9);
                    continue;
                }
                var model = Catalog.ForBenchmarkType(type);
                if (model is null || !pars.TryGetValue("Batch", out int batch)) continue;
                string system = type.StartsWith("Naive_", StringComparison.Ordinal) ? "naive C#" : "FlowGen";
                rows.Add(new Row(system, model.Name, model.Precision, method, batch, threads, medianNs * 1e-9, bytes, "", minNs * 1e-9));
            }
        }
    }

    private static Dictionary<string, int> ParseParameters(string s)
    {
        var d = new Dictionary<string, int>();
        foreach (var part in s.Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            var kv = part.Split('=');
            if (kv.Length == 2 && int.TryParse(kv[1], NumberStyles.Integer, CultureInfo.InvariantCulture, out int v)) d[kv[0]] = v;
        }
        return d;
    }

    private static void ReadPeers(string file, List<Row> rows)
    {
        foreach (var line in File.ReadAllLines(file))
        {
            if (string.IsNullOrWhiteSpace(line)) continue;
            using var doc = JsonDocument.Parse(line);
            var e = doc.RootElement;
            if (!e.TryGetProperty("median_s", out var m)) continue;
            rows.Add(new Row(
                e.GetProperty("system").GetString() ?? "?",
                e.GetProperty("model").GetString() ?? "?",
                e.TryGetProperty("precision", out var p) ? p.GetString() ?? "float" : "float",
                e.GetProperty("op").GetString() ?? "?",
                e.GetProperty("batch").GetInt32(),
                e.GetProperty("threads").GetInt32(),
                m.GetDouble(), null,
                e.TryGetProperty("note", out var n) ? n.GetString() ?? "" : ""));
        }
    }

    private static string Render(List<Row> rows, Dictionary<(string, int, int), double> peaks, string? title)
    {
        var sb = new StringBuilder();
        sb.AppendLine($"## {title ?? "FlowGen benchmarks"}");
        sb.AppendLine();
        sb.AppendLine($"Generated {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC on {Machine()}; .NET {Environment.Version}, {Environment.ProcessorCount} logical CPUs.");
        sb.AppendLine();

        // ---- FMA peak
        sb.AppendLine("### FMA peak (FmaPeak benchmark: 12 independent vector FMA chains per thread, at 256 bits and at the widest accelerated width)");
        sb.AppendLine();
        sb.AppendLine("| precision | vector | 1 thread GFLOP/s | 2 threads GFLOP/s | 2 threads ÷ 1 thread |");
        sb.AppendLine("|---|---|---:|---:|---:|");
        foreach (string prec in new[] { "float", "double" })
            foreach (int width in new[] { 256, 512 })
                if (peaks.ContainsKey((prec, 1, width)) || peaks.ContainsKey((prec, 2, width)))
                {
                    string scaling = peaks.TryGetValue((prec, 1, width), out double p1) && peaks.TryGetValue((prec, 2, width), out double p2) ? $"{p2 / p1:0.00}×" : "–";
                    sb.AppendLine($"| {prec} | Vector{width} | {Giga(peaks, prec, 1, width)} | {Giga(peaks, prec, 2, width)} | {scaling} |");
                }
        sb.AppendLine();
        sb.AppendLine("The 2-thread FMA scaling is this run's contention gauge: 2.00× on two idle cores; lower means another tenant took CPU time, and every 2-thread number of the run is depressed alike.");
        sb.AppendLine();

        // ---- main table
        var systems = rows.Select(r => r.System).Distinct().ToList();
        string[] peerOrder = ["naive C#", "TorchSharp", "PyTorch"];
        var peersPresent = peerOrder.Where(systems.Contains).ToList();
        var byKey = rows.GroupBy(r => (r.System, r.Model, r.Precision, r.Op, r.Batch, r.Threads)).ToDictionary(g => g.Key, g => g.Last());
        var keys = rows.Select(r => (r.Model, r.Precision, r.Op, r.Batch, r.Threads)).Distinct()
            .OrderBy(k => Index(ModelOrder, k.Model)).ThenBy(k => k.Precision == "float" ? 0 : 1).ThenBy(k => Index(OpOrder, k.Op))
            .ThenBy(k => k.Batch).ThenBy(k => k.Threads).ToList();
        sb.AppendLine("### Throughput: samples per second (higher is better); ratios are FlowGen ÷ peer (> 1: FlowGen faster)");
        sb.AppendLine();
        int widest = WidestWidth(peaks);
        var header = new StringBuilder($"| model | type | operation | batch | threads | gauge | FlowGen samples/s | FlowGen time/call | 2 ÷ 1 thread (median / min) | % FMA peak ({widest}-bit) | % of 256-bit peak | alloc/call |");
        var rule = new StringBuilder("|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
        foreach (var p in peersPresent) { header.Append($" {p} samples/s |"); rule.Append("---:|"); }
        foreach (var p in peersPresent) { header.Append($" ×{p} |"); rule.Append("---:|"); }
        sb.AppendLine(header.ToString());
        sb.AppendLine(rule.ToString());
        foreach (var k in keys)
        {
            byKey.TryGetValue(("FlowGen", k.Model, k.Precision, k.Op, k.Batch, k.Threads), out var fg);
            var line = new StringBuilder($"| {k.Model} | {k.Precision} | {OpName(k.Op)} | {k.Batch:N0} | {k.Threads} | {GaugeText(k.Model, k.Precision, k.Batch, k.Threads)} | ");
            byKey.TryGetValue(("FlowGen", k.Model, k.Precision, k.Op, k.Batch, 1), out var one);
            line.Append(fg is null ? "– | – | – | – | – | – |" : $"{Rate(fg):N0} | {Time(fg.Seconds)} | {Scaling(fg, one)} | {PercentOfPeak(fg, peaks, widest)} | {PercentOfPeak(fg, peaks, 256)} | {Bytes(fg.Bytes)} |");
            foreach (var p in peersPresent)
                line.Append(byKey.TryGetValue((p, k.Model, k.Precision, k.Op, k.Batch, k.Threads), out var pr) ? $" {Rate(pr):N0} |" : " – |");
            foreach (var p in peersPresent)
                line.Append(fg is not null && byKey.TryGetValue((p, k.Model, k.Precision, k.Op, k.Batch, k.Threads), out var pr) ? $" {(fg.Seconds > 0 ? pr.Seconds / fg.Seconds : 0):0.00}× |" : " – |");
            sb.AppendLine(line.ToString());
        }
        sb.AppendLine();
        sb.AppendLine($"time/call = median wall time of one call over the whole batch; samples/s = batch ÷ time/call. 2 ÷ 1 thread (2-thread rows) = the 1-thread row's time ÷ this row's, by the medians and by the fastest iterations (BenchmarkDotNet's Min): the minimum is what `profile scaling` compares, the time both calls take when nothing else runs, and is the figure to read where other work came and went during the iterations. % FMA peak = samples/s × FLOP/sample ÷ (threads × the measured 1-thread FMA peak of the same precision at the widest accelerated width, here {widest} bits); the next column divides by the 256-bit peak instead (FLOP/sample: 2 per dense multiply-add; ×3 for a training step). training run = FlowTrainer.Train for the whole run against the PyTorch peer's plain Adam loop (bench/peers/pytorch/trainer.py) on the same data, steps and batch, timed per step (TrainerBench.cs). alloc/call = BenchmarkDotNet's MemoryDiagnoser (bytes allocated per call, all threads).");
        sb.AppendLine();
        sb.AppendLine($"gauge (2-thread rows) = the lowest of the 2-thread FMA scalings that the case measured right before and right after its own iterations (Gauge.cs; 2.00 = both cores free). † = below {Gauge.FreeCores:0.0}: another process held CPU time while this row was measured, so its 2-thread figure (and its 2 ÷ 1 ratio) understates the code; re-run on an idle machine or read `profile scaling`.");
        sb.AppendLine();

        // ---- targets
        sb.AppendLine("### Targets of issue 5 (R8, float)");
        sb.AppendLine();
        sb.AppendLine("| target | measured | goal | met |");
        sb.AppendLine("|---|---:|---:|:---:|");
        Row? Get(string sys, string op, int batch, int threads) =>
            byKey.TryGetValue((sys, "R8", "float", op, batch, threads), out var r) ? r : null;
        var lp = Get("FlowGen", "LogProb", 65536, 1);
        double? pct = lp is null ? null : PercentValue(lp, peaks, WidestWidth(peaks));
        Target(sb, $"log-density, batch 65 536, 1 thread: % of the {WidestWidth(peaks)}-bit FMA peak", pct, 60, "%");
        Target(sb, "log-density, batch 65 536, 1 thread: × TorchSharp", Ratio(lp, Get("TorchSharp", "LogProb", 65536, 1)), 3, "×");
        Target(sb, "log-density, batch 1 (latency), 1 thread: × TorchSharp", Ratio(Get("FlowGen", "LogProb", 1, 1), Get("TorchSharp", "LogProb", 1, 1)), 100, "×");
        Target(sb, "training step, batch 4 096, 1 thread: × TorchSharp", Ratio(Get("FlowGen", "TrainStep", 4096, 1), Get("TorchSharp", "TrainStep", 4096, 1)), 3, "×");
        foreach (var (op, batch) in new[] { ("LogProb", 65536), ("Forward", 65536), ("Inverse", 65536), ("Sample", 65536), ("TrainStep", 4096) })
            Target(sb, $"2 threads ÷ 1 thread: {OpName(op)}, batch {batch:N0} (gauge {GaugeText("R8", "float", batch, 2)}; fastest iterations {MinRatio(Get("FlowGen", op, batch, 2), Get("FlowGen", op, batch, 1))})", Ratio(Get("FlowGen", op, batch, 2), Get("FlowGen", op, batch, 1)), 1.8, "×");
        // issue 17: FlowTrainer end to end (TrainerBench.cs); its rows against PyTorch are in the table above
        foreach (var (batch, goal) in new[] { (4096, 1.7), (256, 1.5) })
            Target(sb, $"FlowTrainer run, 2 threads ÷ 1 thread, batch {batch:N0} (gauge {GaugeText("R8", "float", batch, 2)}; fastest iterations {MinRatio(Get("FlowGen", "TrainRun", batch, 2), Get("FlowGen", "TrainRun", batch, 1))})", Ratio(Get("FlowGen", "TrainRun", batch, 2), Get("FlowGen", "TrainRun", batch, 1)), goal, "×");
        sb.AppendLine();
        return sb.ToString();
    }

    private static void Target(StringBuilder sb, string what, double? value, double goal, string unit)
    {
        string v = value is null ? "not measured" : unit == "%" ? $"{value:0.0} %" : $"{value:0.00}×";
        string g = unit == "%" ? $"≥ {goal:0} %" : $"≥ {goal:0.##}×";
        string met = value is null ? "?" : value >= goal ? "yes" : "**no**";
        sb.AppendLine($"| {what} | {v} | {g} | {met} |");
    }

    /// <summary>A 2-thread row's speed-up over its 1-thread row, by the medians and by the fastest iterations.</summary>
    private static string Scaling(Row two, Row? one) =>
        two.Threads < 2 || one is null || two.Seconds <= 0 ? "" : $"{one.Seconds / two.Seconds:0.00}× / {MinRatio(two, one)}";

    /// <summary>A 2-thread row's speed-up by the fastest iterations ("–" where either row has none).</summary>
    private static string MinRatio(Row? two, Row? one) =>
        two is null || one is null || double.IsNaN(two.MinSeconds) || double.IsNaN(one.MinSeconds) ? "–" : $"{one.MinSeconds / two.MinSeconds:0.00}×";

    private static double? Ratio(Row? fast, Row? slow) => fast is null || slow is null || fast.Seconds <= 0 ? null : slow.Seconds / fast.Seconds;

    private static double Rate(Row r) => r.Batch / r.Seconds;

    // The hardware limit of t threads: t × the measured 1-thread Vector256 peak (t cores). The measured 2-thread peak is shown
    // separately: on this shared machine it falls below 2× whenever another tenant is busy, and would flatter 2-thread results.
    private static double? PercentValue(Row r, Dictionary<(string, int, int), double> peaks, int width)
    {
        var m = Catalog.Find(r.Model, r.Precision);
        if (m is null || !peaks.TryGetValue((r.Precision, 1, width), out double peak)) return null;
        return 100.0 * Rate(r) * m.FlopFor(r.Op) / (peak * r.Threads);
    }

    private static string PercentOfPeak(Row r, Dictionary<(string, int, int), double> peaks, int width) =>
        PercentValue(r, peaks, width) is { } p ? $"{p:0.0} %" : "–";

    /// <summary>The widest vector width with a measured 1-thread float peak (512 where Vector512 is accelerated), else 256.</summary>
    private static int WidestWidth(Dictionary<(string, int, int), double> peaks) => peaks.ContainsKey(("float", 1, 512)) ? 512 : 256;

    private static string GaugeText(string model, string precision, int batch, int threads) =>
        threads < 2 ? "" : Gauges.TryGetValue((model, precision, batch, threads), out double g) ? $"{g:0.00}{(g < Gauge.FreeCores ? " †" : "")}" : "?";

    private static string Giga(Dictionary<(string, int, int), double> peaks, string prec, int threads, int width) =>
        peaks.TryGetValue((prec, threads, width), out double v) ? $"{v / 1e9:0.0}" : "–";

    private static string Bytes(long? b) => b is null ? "?" : $"{b} B";

    private static string Time(double s) => s >= 1 ? $"{s:0.00} s" : s >= 1e-3 ? $"{s * 1e3:0.00} ms" : $"{s * 1e6:0.00} µs";

    private static string OpName(string op) => op switch
    {
        "LogProb" => "log-density",
        "Forward" => "forward",
        "Inverse" => "inverse",
        "Sample" => "sample",
        "TrainStep" => "train step",
        "TrainRun" => $"training run ({TrainerBench<R8Float>.Steps} steps, per step)",
        _ => op,
    };

    private static int Index(string[] order, string s) { int i = Array.IndexOf(order, s); return i < 0 ? order.Length : i; }

    private static string Machine()
    {
        try
        {
            string? name = null, family = null, model = null;
            foreach (var line in File.ReadLines("/proc/cpuinfo"))
            {
                var kv = line.Split(':', 2);
                if (kv.Length != 2) continue;
                string key = kv[0].Trim(), value = kv[1].Trim();
                if (key == "model name") name ??= value;
                else if (key == "cpu family") family ??= value;
                else if (key == "model") model ??= value;
            }
            return $"{name} (family {family}, model {model})";
        }
        catch (IOException)
        {
            return Environment.OSVersion.ToString();
        }
    }
}
