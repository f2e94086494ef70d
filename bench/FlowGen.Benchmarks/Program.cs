using System;
using System.CommandLine;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Numerics;
using BenchmarkDotNet.Running;

namespace FlowGen.Benchmarks;

/// <summary>
/// Entry point; the command line is System.CommandLine's (<c>--help</c> on every command). Commands (bench/README.md has the details):
/// <list type="bullet">
/// <item><c>[--quick] [--disasm] [--dense] [--artifacts DIR] [BenchmarkDotNet options, e.g. --filter '*R8_float*']</c>: run benchmarks
/// (<c>--dense</c>: only the dense-kernel comparison, <see cref="DenseKernels_float"/> and <see cref="DenseKernels_double"/>);</item>
/// <item><c>dense-ab [rounds] [microseconds]</c>: the same comparison interleaved (<see cref="DenseAB"/>);</item>
/// <item><c>export DIR</c>: write the weights and check data for the peers (R8/R2, and S8/Q8/D8/G8 as safetensors) and the FlowTrainer benchmark's data set;</item>
/// <item><c>validate</c>: FLOP counts, naive-vs-FlowGen check, split-batch check, allocation check;</item>
/// <item><c>profile [seconds]</c>: minimum wall and CPU time per call of a few R8/R2/L64 cases (A/B checks of kernel changes);</item>
/// <item><c>inlining [calls]</c>: calls the JIT refused to inline in FlowGen's code, with its reasons (<see cref="Inlining"/>);</item>
/// <item><c>allocs [calls]</c>: how often each R8 call shows a non-zero allocation delta (background-noise probe);</item>
/// <item><c>info</c>: the instruction sets and vector widths the JIT uses in this process;</item>
/// <item><c>report --bdn DIR [--peers FILE]... [--out FILE] [--title TEXT]</c>: the side-by-side table.</item>
/// </list>
/// </summary>
public static class Program
{
    /// <summary>Parses the command line and runs the command.</summary>
    public static int Main(string[] args) => Command().Parse(args).Invoke();

    private static RootCommand Command()
    {
        var quick = Flag("--quick", "representative subset (R8 float, in process, 5 iterations of ≥ 120 ms)");
        var disasm = Flag("--disasm", "only the DisassemblyDiagnoser run (JIT output of the R8 log-density), out of process");
        var dense = Flag("--dense", "only the dense-kernel comparison (DenseKernels.cs); start it in bench/FlowGen.Benchmarks");
        var artifacts = new Option<string>("--artifacts")
        {
            HelpName = "DIR",
            Description = "BenchmarkDotNet's artifacts folder",
            DefaultValueFactory = _ => "BenchmarkDotNet.Artifacts",
        };
        // everything else goes to BenchmarkDotNet (which checks it), e.g. --filter '*R8_float*' '*FmaPeak*'
        var benchmarkDotNet = new Argument<string[]>("BenchmarkDotNet arguments") { Arity = ArgumentArity.ZeroOrMore, Hidden = true };
        var root = new RootCommand(
            "FlowGen's benchmarks (bench/README.md; bench/run.sh runs them all). Without a command: runs the benchmarks with BenchmarkDotNet " +
            "(all of them unless a --filter is given); every argument other than the options below goes to BenchmarkDotNet, e.g. --filter '*R8_float*' '*FmaPeak*'.")
        {
            quick, disasm, dense, artifacts, benchmarkDotNet,
        };
        // a word that is not an option is a mistyped command here, not a BenchmarkDotNet argument (those start with an option)
        root.Validators.Add(result =>
        {
            if (result.GetValue(benchmarkDotNet) is [string first, ..] && !first.StartsWith('-')) result.AddError($"Unrecognized command or argument '{first}'.");
        });
        root.SetAction(parseResult =>
            RunBenchmarks(parseResult.GetValue(quick), parseResult.GetValue(disasm), parseResult.GetValue(dense), Path.GetFullPath(parseResult.GetValue(artifacts)!),
                parseResult.GetValue(benchmarkDotNet) ?? []));

        var exportDir = new Argument<string>("DIR") { Description = "output folder (one sub-folder per model)", DefaultValueFactory = _ => "weights" };
        var export = new Command("export", "write the R8/R2 weights and the S8/Q8/D8/G8 safetensors, inputs and FlowGen's log p / z / inverse / NLL gradient for the peers' agreement checks, and the FlowTrainer benchmark's data set and settings (R8/train_x.bin, R8/trainer.json)") { exportDir };
        export.SetAction(parseResult =>
        {
            Export.Run(parseResult.GetValue(exportDir)!);
            return 0;
        });

        var validate = new Command("validate", "FLOP counts; naive C# vs FlowGen log-densities; split-batch results equal to whole-batch results; bytes allocated per call (must be 0)");
        validate.SetAction(_ => Validate.Run() == 0 ? 0 : 1);

        var info = new Command("info", "the vector widths and instruction sets the JIT uses in this process");
        info.SetAction(_ =>
        {
            Console.WriteLine(Validate.IsaLine());
            return 0;
        });

        var bdn = new Option<string?>("--bdn") { HelpName = "DIR", Description = "BenchmarkDotNet's results (its *-report-full.json files, searched recursively)" };
        var peers = new Option<string[]>("--peers") { HelpName = "FILE", Description = "a peer's JSON-lines results (repeatable)" };
        var reportOut = new Option<string?>("--out") { HelpName = "FILE", Description = "also write the table to this file" };
        var title = new Option<string?>("--title") { HelpName = "TEXT", Description = "the table's heading (default: FlowGen benchmarks)" };
        var report = new Command("report", "the side-by-side Markdown table from BenchmarkDotNet's JSON and the peers' JSON lines, printed") { bdn, peers, reportOut, title };
        report.SetAction(parseResult =>
            Report.Run(parseResult.GetValue(bdn), parseResult.GetValue(peers) ?? [], parseResult.GetValue(reportOut), parseResult.GetValue(title)));

        var seconds = Number<double>("seconds", "measuring time of each of the first two cases (half of it for the others); at least 5 calls each", 6, s => s >= 0, "a number ≥ 0");
        var profile = new Command("profile", "minimum wall time and process CPU time per call for R8/R2/L64 hot cases (1 thread): the A/B harness for kernel work on a loaded machine") { seconds };
        profile.SetAction(parseResult => Profile.Run(parseResult.GetValue(seconds)));
        var scaling = new Command("scaling", "1- and 2-thread calls interleaved (FMA loop; the bench's split of R8 log p at 4 096 and 65 536 and of the training step at 4 096; FlowParallel LogProb/Forward/Inverse/Sample at 65 536; FlowTrainer.Train at batch 256 and 4 096), minimum wall time of 12 rounds");
        scaling.SetAction(_ => Profile.Scaling());
        profile.Add(scaling);
        profile.Add(ProfileLatency.Command());
        var splineRounds = Number<int>("rounds", "interleaved rounds (each times every case once, the 4 096 cases four times)", 10, n => n >= 1, "an integer ≥ 1");
        var splineOnly = new Argument<string>("case") { Description = "only the cases whose name contains this text", DefaultValueFactory = _ => "" };
        var spline = new Command("spline", "S8 (spline couplings) log p and inverse at 65 536 and training step at 4 096, with R8's for scale, interleaved, minimum wall time") { splineRounds, splineOnly };
        spline.SetAction(parseResult => ProfileSpline.Run(parseResult.GetValue(splineRounds), parseResult.GetValue(splineOnly)!));
        profile.Add(spline);
        profile.Add(ProfileMonotone.Command());

        var calls = Number<int>("calls", "measured calls per case (an eighth of them, at least 4, at batch 65 536)", 40, n => n >= 1, "an integer ≥ 1");
        var collect = Flag("--gc", "a full collection before each measured call, as BenchmarkDotNet's MemoryDiagnoser does");
        var noWait = Flag("--no-wait", "with --gc: no GC.WaitForPendingFinalizers() after the collection");
        var allocs = new Command("allocs", "how many calls of each R8 case show a non-zero GC.GetTotalAllocatedBytes(precise: true) delta") { calls, collect, noWait };
        allocs.SetAction(parseResult => Allocs.Run(parseResult.GetValue(calls), parseResult.GetValue(collect), wait: !parseResult.GetValue(noWait)));

        var inliningCalls = Number<int>("calls", "calls of each case before the report (enough to reach Tier 1)", 60, n => n >= 1, "an integer ≥ 1");
        var inlining = new Command("inlining", "calls the JIT refused to inline in FlowGen's code while every benchmarked model ran (MethodJitInliningFailed events); exit code 1 if a vector operation is among them") { inliningCalls };
        inlining.SetAction(parseResult => Inlining.Run(parseResult.GetValue(inliningCalls)));

        var rounds = Number<int>("rounds", "rounds; each times one batch of calls of either side of every kernel pair", 200, n => n >= 1, "an integer ≥ 1");
        var micros = Number<double>("microseconds", "the length of one batch of calls, in µs", 200, m => m >= 0, "a number ≥ 0");
        var denseAB = new Command("dense-ab", "the runtime's dense kernels against the ones the generator emitted, interleaved (minimum per side, median of the per-round ratios)") { rounds, micros };
        denseAB.SetAction(parseResult => DenseAB.Run(parseResult.GetValue(rounds), parseResult.GetValue(micros)));

        root.Add(export);
        root.Add(validate);
        root.Add(info);
        root.Add(report);
        root.Add(profile);
        root.Add(allocs);
        root.Add(inlining);
        root.Add(denseAB);
        return root;
    }

    private static int RunBenchmarks(bool quick, bool disasm, bool dense, string artifacts, string[] benchmarkDotNetArgs)
    {
        var rest = benchmarkDotNetArgs.ToList();
        // no --filter: run everything the configuration keeps
        if (!rest.Contains("--filter") && !rest.Contains("-f")) rest.AddRange(["--filter", "*"]);
        var config = BenchConfig.Create(quick, disasm, artifacts, dense);
        // every 2-thread case appends its contention gauge here (Gauge.cs); BenchmarkDotNet's child processes inherit it
        Directory.CreateDirectory(artifacts);
        Environment.SetEnvironmentVariable(Gauge.FileVariable, Path.Combine(artifacts, "gauge.jsonl"));
        var summaries = BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(rest.ToArray(), config);
        int failed = summaries.Sum(s => s.Reports.Count(r => !r.Success));
        return failed == 0 ? 0 : 1;
    }

    private static Option<bool> Flag(string name, string description) => new(name) { Description = description, Arity = ArgumentArity.Zero };

    /// <summary>An optional positional number, parsed with the invariant culture.</summary>
    private static Argument<T> Number<T>(string name, string description, T defaultValue, Func<T, bool> valid, string requirement)
        where T : struct, INumber<T> => new(name)
    {
        Description = description,
        DefaultValueFactory = _ => defaultValue,
        CustomParser = result =>
        {
            string value = result.Tokens.Count == 1 ? result.Tokens[0].Value : "";
            NumberStyles styles = typeof(T) == typeof(int) ? NumberStyles.Integer : NumberStyles.Float;
            if (T.TryParse(value, styles, CultureInfo.InvariantCulture, out T parsed) && valid(parsed)) return parsed;
            result.AddError($"{name} must be {requirement}; got '{value}'.");
            return defaultValue;
        },
    };
}
