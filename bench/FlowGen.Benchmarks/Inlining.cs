using System;
using System.Collections.Concurrent;
using System.Diagnostics.Tracing;
using System.Linq;
using System.Text.RegularExpressions;
using System.Threading;

namespace FlowGen.Benchmarks;

/// <summary>
/// `inlining`: which calls the JIT refused to inline in FlowGen's code while every benchmarked model (R8, R2, L64, S8, Q8, D8,
/// G8) ran its batch calls long enough to reach Tier 1, with the JIT's reason (the runtime's MethodJitInliningFailed events,
/// read in process by an <see cref="EventListener"/>). A vector operation (an ISimd member or a Kernel function) listed here
/// runs as a function call with its operands in memory: in a tile loop that costs 2-4x (the spline and deep-sigmoidal
/// backward passes did before the kernels rewrapped results with Unsafe.BitCast). Calls that are meant to stay calls
/// (methods marked NoInlining, throw helpers, too-large bodies) are not listed. Exit code 1 when a vector operation is listed.
/// </summary>
public static class Inlining
{
    private static readonly Regex GeneratedPrefix = new(@"<FlowGen_Benchmarks_([A-Za-z0-9]+)_g>F[0-9A-F]{40,}__", RegexOptions.Compiled);

    /// <summary>Runs every model's calls, then prints the refused inlines grouped by caller, callee and reason.</summary>
    public static int Run(int calls)
    {
        using var listener = new Listener();
        void Exercise<TB>(TB bench, params Action[] actions) { foreach (var a in actions) for (int i = 0; i < calls; i++) a(); }
        var r8 = new R8_float { Batch = 256, Threads = 1 }; r8.Setup(); Exercise(r8, r8.LogProb, r8.Inverse, r8.TrainStep);
        var r2 = new R2_float { Batch = 256, Threads = 1 }; r2.Setup(); Exercise(r2, r2.LogProb, r2.Inverse, r2.TrainStep);
        var l64 = new L64_float { Batch = 64, Threads = 1 }; l64.Setup(); Exercise(l64, l64.LogProb, l64.Inverse, l64.TrainStep);
        var r8d = new R8_double { Batch = 256, Threads = 1 }; r8d.Setup(); Exercise(r8d, r8d.LogProb, r8d.Inverse, r8d.TrainStep);
        var s8 = new S8_float { Batch = 256, Threads = 1 }; s8.Setup(); Exercise(s8, s8.LogProb, s8.Inverse, s8.TrainStep);
        var q8 = new Q8_float { Batch = 256, Threads = 1 }; q8.Setup(); Exercise(q8, q8.LogProb, q8.Inverse, q8.TrainStep);
        var d8 = new D8_float { Batch = 256, Threads = 1 }; d8.Setup(); Exercise(d8, d8.LogProb, d8.Inverse, d8.TrainStep);
        var g8 = new G8_float { Batch = 256, Threads = 1 }; g8.Setup(); Exercise(g8, g8.LogProb, g8.Inverse, g8.TrainStep);
        Thread.Sleep(1000); // Tier-1 compilations finish on a background thread
        var rows = listener.Failures.OrderByDescending(kv => kv.Value).ToArray();
        int vectorOps = 0;
        Console.WriteLine($"refused inlines in FlowGen code ({calls} calls of each case; {FlowSimd.LaneBits}-bit lanes):");
        foreach (var (key, count) in rows)
        {
            // element-wise operations: ISimd members and Kernel's functions (Kernel.Transpose is a whole-buffer routine)
            bool vector = key.Callee.StartsWith("Simd", StringComparison.Ordinal)
                || (key.Callee.StartsWith("Kernel.", StringComparison.Ordinal) && key.Callee != "Kernel.Transpose");
            if (vector) vectorOps += count;
            Console.WriteLine($"{count,6}  {(vector ? "VECTOR OP " : "")}{key.Caller} <- {key.Callee}: {key.Reason}");
        }
        Console.WriteLine(vectorOps == 0 ? "every vector operation was inlined" : $"{vectorOps} refused inlines of vector operations");
        return vectorOps == 0 ? 0 : 1;
    }

    private sealed class Listener : EventListener
    {
        public readonly ConcurrentDictionary<(string Caller, string Callee, string Reason), int> Failures = new();

        protected override void OnEventSourceCreated(EventSource source)
        {
            const EventKeywords JitTracing = (EventKeywords)0x1000;
            if (source.Name == "Microsoft-Windows-DotNETRuntime") EnableEvents(source, EventLevel.Verbose, JitTracing);
        }

        protected override void OnEventWritten(EventWrittenEventArgs e)
        {
            if (e.EventName is not ("MethodJitInliningFailed" or "MethodJitInliningFailedAnsi") || e.PayloadNames is null || e.Payload is null) return;
            string Get(string name) { int i = e.PayloadNames.IndexOf(name); return i < 0 ? "" : e.Payload[i]?.ToString() ?? ""; }
            string callerNs = Get("InlinerNamespace"), reason = Get("FailReason");
            if (!callerNs.Contains("FlowGen", StringComparison.Ordinal)) return;
            // meant to stay calls: NoInlining helpers, throw helpers, bodies over the IL size limit
            if (reason.Contains("noinline per IL", StringComparison.Ordinal) || reason.Contains("does not return", StringComparison.Ordinal)
                || reason.Contains("too many il bytes", StringComparison.Ordinal)) return;
            // "FlowGen.Kernels.Simd512`1[System.Single]" -> "Simd512`1"; generated types -> "Model:Type"
            string Short(string ns, string name)
            {
                ns = GeneratedPrefix.Replace(ns, "$1:");
                int bracket = ns.IndexOf('[');
                return (bracket < 0 ? ns : ns[..bracket]).Split('.').Last() + "." + GeneratedPrefix.Replace(name, "$1:");
            }
            var key = (Short(callerNs, Get("InlinerName")), Short(Get("InlineeNamespace"), Get("InlineeName")), reason);
            Failures.AddOrUpdate(key, 1, (_, c) => c + 1);
        }
    }
}
