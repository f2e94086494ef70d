using System;
using System.Linq;
using System.Reflection;
using System.Runtime.Intrinsics;
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Diagnosers;
using BenchmarkDotNet.Exporters;
using BenchmarkDotNet.Exporters.Json;
using BenchmarkDotNet.Filters;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;
using BenchmarkDotNet.Toolchains.InProcess.Emit;
using Perfolizer.Horology;

namespace FlowGen.Benchmarks;

/// <summary>The BenchmarkDotNet configuration of the full, quick and disassembly runs.</summary>
public static class BenchConfig
{
    /// <summary>
    /// Full: 3 warm-up and 10 measured iterations of ≥ 250 ms (classes may lower the counts: L64, naive), one process per case.
    /// Quick: a representative subset (<see cref="InQuickSet"/>), 3 warm-up and 5 iterations of ≥ 120 ms, in process.
    /// Disasm: only <see cref="Disasm_R8_float"/>, out of process. Out-of-process builds may take up to 15 minutes (a loaded machine).
    /// Dense: only the dense-kernel comparison (<see cref="DenseKernels_float"/>, <see cref="DenseKernels_double"/>), in process,
    /// 3 warm-up and 40 short iterations of ≥ 25 ms, with the minimum and <see cref="MinRatioColumn"/>: on a loaded machine the
    /// minimum of many short iterations is the closest BenchmarkDotNet gets to an uncontended time.
    /// </summary>
    public static IConfig Create(bool quick, bool disasm, string artifacts, bool dense = false)
    {
        Job job = dense
            ? Job.Default.WithId("Dense").WithLaunchCount(1).WithWarmupCount(3).WithIterationCount(40).WithIterationTime(TimeInterval.FromMilliseconds(25))
                .WithToolchain(InProcessEmitToolchain.Instance)
            : quick
            ? Job.Default.WithId("Quick").WithLaunchCount(1).WithWarmupCount(3).WithIterationCount(5).WithIterationTime(TimeInterval.FromMilliseconds(120))
                .WithToolchain(InProcessEmitToolchain.Instance)
            : Job.Default.WithId("Full").WithLaunchCount(1).WithWarmupCount(3).WithIterationCount(10).WithIterationTime(TimeInterval.FromMilliseconds(250));
        return ManualConfig.CreateEmpty()
            .AddLogger(DefaultConfig.Instance.GetLoggers().ToArray())
            .AddColumnProvider(DefaultColumnProviders.Instance)
            .AddColumn(StatisticColumn.Median, new SamplesPerSecondColumn())
            .AddColumn(dense ? [StatisticColumn.Min, new MinRatioColumn()] : [])
            .AddExporter(MarkdownExporter.GitHub, JsonExporter.Full)
            .AddAnalyser(DefaultConfig.Instance.GetAnalysers().ToArray())
            .AddValidator(DefaultConfig.Instance.GetValidators().ToArray())
            .AddDiagnoser(MemoryDiagnoser.Default)
            .AddJob(job)
            .AddFilter(new SimpleFilter(bc => Keep(bc, quick, disasm, dense)))
            .WithOptions(ConfigOptions.JoinSummary | ConfigOptions.DisableLogFile)
            // the out-of-process runs build a copy of this project first; on the loaded shared machine that took over
            // BenchmarkDotNet's default 2 minutes (2026-12-02: every case failed with "The configured timeout 00:02:00 was reached")
            .WithBuildTimeout(TimeSpan.FromMinutes(15))
            .WithArtifactsPath(artifacts);
    }

    private static bool Keep(BenchmarkCase bc, bool quick, bool disasm, bool dense)
    {
        Type type = bc.Descriptor.Type;
        MethodInfo method = bc.Descriptor.WorkloadMethod;
        if ((type == typeof(Disasm_R8_float)) != disasm) return false;
        if ((type == typeof(DenseKernels_float) || type == typeof(DenseKernels_double)) != dense) return false;
        int batch = IntParameter(bc, "Batch") ?? 0;
        int threads = IntParameter(bc, "Threads") ?? 1;
        if (method.GetCustomAttribute<BatchesAttribute>() is { } batches && batch != 0 && !batches.Values.Contains(batch)) return false;
        if (batch == 1 && threads > 1) return false; // one sample cannot be split
        if (method.Name.EndsWith("512", StringComparison.Ordinal) && !Vector512.IsHardwareAccelerated) return false;
        return !quick || InQuickSet(type.Name, method.Name, batch, threads);
    }

    /// <summary>
    /// The quick subset: R8 float log-density at batch 1, 256 and 65 536 (1 and 2 threads), its training step at 4 096 (1 and 2
    /// threads), the float FMA peak at 256 bits and at the widest width (1 and 2 threads), the naive R8 baseline at batch 256,
    /// S8/Q8/D8/G8's log-density and inverse at 65 536 and training step at 4 096, and the FlowTrainer run at 256 and 4 096
    /// (1 thread), the library's multi-core LogProb and Sample at 65 536: every target of issue 5 is readable.
    /// </summary>
    public static bool InQuickSet(string type, string method, int batch, int threads) => (type, method) switch
    {
        ("R8_float", "LogProb") => true,
        ("R8_float", "TrainStep") => batch == 4096,
        ("FmaPeak", "Float256" or "Float512") => true,
        ("Naive_R8_float", "LogProb") => batch == 256 && threads == 1,
        ("Parallel_R8_float", "LogProb" or "Sample") => true,
        ("S8_float" or "Q8_float" or "D8_float" or "G8_float", "LogProb" or "Inverse") => batch == 65536 && threads == 1,
        ("S8_float" or "Q8_float" or "D8_float" or "G8_float", "TrainStep") => batch == 4096 && threads == 1,
        ("Trainer_R8_float", "TrainRun") => threads == 1,
        _ => false,
    };

    /// <summary>The value of an integer [Params] of a case, or null.</summary>
    public static int? IntParameter(BenchmarkCase bc, string name)
    {
        foreach (var p in bc.Parameters.Items)
            if (p.Name == name && p.Value is int v) return v;
        return null;
    }
}

/// <summary>Summary column: Batch / median time (samples per second), for the classes with a Batch parameter.</summary>
public sealed class SamplesPerSecondColumn : IColumn
{
    /// <inheritdoc/>
    public string Id => "SamplesPerSecond";
    /// <inheritdoc/>
    public string ColumnName => "Samples/s";
    /// <inheritdoc/>
    public bool AlwaysShow => true;
    /// <inheritdoc/>
    public ColumnCategory Category => ColumnCategory.Custom;
    /// <inheritdoc/>
    public int PriorityInCategory => 0;
    /// <inheritdoc/>
    public bool IsNumeric => true;
    /// <inheritdoc/>
    public UnitType UnitType => UnitType.Dimensionless;
    /// <inheritdoc/>
    public string Legend => "Samples per second: Batch / Median";
    /// <inheritdoc/>
    public bool IsAvailable(Summary summary) => true;
    /// <inheritdoc/>
    public bool IsDefault(Summary summary, BenchmarkCase benchmarkCase) => false;
    /// <inheritdoc/>
    public string GetValue(Summary summary, BenchmarkCase benchmarkCase) => GetValue(summary, benchmarkCase, SummaryStyle.Default);

    /// <inheritdoc/>
    public string GetValue(Summary summary, BenchmarkCase benchmarkCase, SummaryStyle style)
    {
        int? batch = BenchConfig.IntParameter(benchmarkCase, "Batch");
        var stats = summary[benchmarkCase]?.ResultStatistics;
        if (batch is null || stats is null || stats.Median <= 0) return "-";
        return (batch.Value * 1e9 / stats.Median).ToString("N0", System.Globalization.CultureInfo.InvariantCulture);
    }
}

/// <summary>
/// Summary column for baseline comparisons: the baseline's minimum time ÷ this case's minimum time, i.e. this case's
/// throughput relative to the baseline of its group (&gt; 1: faster), from the minima rather than the means.
/// </summary>
public sealed class MinRatioColumn : IColumn
{
    /// <inheritdoc/>
    public string Id => "MinRatio";
    /// <inheritdoc/>
    public string ColumnName => "Speed vs baseline (min)";
    /// <inheritdoc/>
    public bool AlwaysShow => true;
    /// <inheritdoc/>
    public ColumnCategory Category => ColumnCategory.Baseline;
    /// <inheritdoc/>
    public int PriorityInCategory => 10;
    /// <inheritdoc/>
    public bool IsNumeric => true;
    /// <inheritdoc/>
    public UnitType UnitType => UnitType.Dimensionless;
    /// <inheritdoc/>
    public string Legend => "Throughput relative to the baseline of the group: baseline Min / Min";
    /// <inheritdoc/>
    public bool IsAvailable(Summary summary) => true;
    /// <inheritdoc/>
    public bool IsDefault(Summary summary, BenchmarkCase benchmarkCase) => false;
    /// <inheritdoc/>
    public string GetValue(Summary summary, BenchmarkCase benchmarkCase) => GetValue(summary, benchmarkCase, SummaryStyle.Default);

    /// <inheritdoc/>
    public string GetValue(Summary summary, BenchmarkCase benchmarkCase, SummaryStyle style)
    {
        string? key = summary.GetLogicalGroupKey(benchmarkCase);
        BenchmarkCase? baseline = key is null ? null : summary.GetBaseline(key);
        var own = summary[benchmarkCase]?.ResultStatistics;
        var reference = baseline is null ? null : summary[baseline]?.ResultStatistics;
        if (own is null || reference is null || own.Min <= 0) return "-";
        return (reference.Min / own.Min).ToString("F3", System.Globalization.CultureInfo.InvariantCulture);
    }
}
