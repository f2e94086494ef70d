using System;
using System.IO;
using System.Linq;
using BenchmarkDotNet.Running;

namespace FlowGen.Benchmarks;

/// <summary>
/// Entry point. Commands (bench/README.md has the details):
/// <list type="bullet">
/// <item><c>[--quick] [--disasm] [--dense] [--artifacts DIR] [BenchmarkDotNet options, e.g. --filter '*R8_float*']</c>: run benchmarks
/// (<c>--dense</c>: only the dense-kernel comparison, <see cref="DenseKernels_float"/> and <see cref="DenseKernels_double"/>);</item>
/// <item><c>dense-ab [rounds] [microseconds]</c>: the same comparison interleaved (<see cref="DenseAB"/>);</item>
/// <item><c>export DIR</c>: write the R8/R2 weights and check data for the peers;</item>
/// <item><c>validate</c>: FLOP counts, naive-vs-FlowGen check, split-batch check, allocation check;</item>
/// <item><c>profile [seconds]</c>: minimum wall and CPU time per call of a few R8/R2/L64 cases (A/B checks of kernel changes);</item>
/// <item><c>allocs [calls]</c>: how often each R8 call shows a non-zero allocation delta (background-noise probe);</item>
/// <item><c>info</c>: the instruction sets and vector widths the JIT uses in this process;</item>
/// <item><c>report --bdn DIR [--peers FILE]... [--out FILE] [--title TEXT]</c>: the side-by-side table.</item>
/// </list>
/// </summary>
public static class Program
{
    /// <summary>Dispatches the command.</summary>
    public static int Main(string[] args)
    {
        if (args.Length > 0 && args[0] == "export")
        {
            Export.Run(args.Length > 1 ? args[1] : "weights");
            return 0;
        }
        if (args.Length > 0 && args[0] == "validate") return Validate.Run() == 0 ? 0 : 1;
        if (args.Length > 0 && args[0] == "info")
        {
            Console.WriteLine(Validate.IsaLine());
            return 0;
        }
        if (args.Length > 0 && args[0] == "report") return Report.Run(args[1..]);
        if (args.Length > 0 && args[0] == "profile") return Profile.Run(args[1..]);
        if (args.Length > 0 && args[0] == "allocs") return Allocs.Run(args[1..]);
        if (args.Length > 0 && args[0] == "dense-ab") return DenseAB.Run(args[1..]);

        bool quick = args.Contains("--quick");
        bool disasm = args.Contains("--disasm");
        bool dense = args.Contains("--dense");
        string artifacts = Path.GetFullPath("BenchmarkDotNet.Artifacts");
        var rest = new System.Collections.Generic.List<string>();
        for (int i = 0; i < args.Length; i++)
        {
            if (args[i] is "--quick" or "--disasm" or "--dense") continue;
            if (args[i] == "--artifacts") { artifacts = Path.GetFullPath(args[++i]); continue; }
            rest.Add(args[i]);
        }
        // no --filter: run everything the configuration keeps
        if (!rest.Contains("--filter") && !rest.Contains("-f")) rest.AddRange(["--filter", "*"]);
        var config = BenchConfig.Create(quick, disasm, artifacts, dense);
        var summaries = BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(rest.ToArray(), config);
        int failed = summaries.Sum(s => s.Reports.Count(r => !r.Success));
        return failed == 0 ? 0 : 1;
    }
}
