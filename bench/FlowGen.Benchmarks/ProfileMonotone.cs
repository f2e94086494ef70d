using System;
using System.CommandLine;
using System.Globalization;
using System.Numerics;

namespace FlowGen.Benchmarks;

/// <summary>
/// `profile monotone [seconds]`: the A/B harness of the monotone-transformer work (issue 17's D8 and G8 rows, and Q8, which
/// shares the inverse kernel). Every case runs 1 thread at the report's batch sizes (log-density and inverse at 65 536,
/// training step at 4 096), interleaved round by round by <see cref="Interleaved"/> (minimum and median wall time and thread
/// CPU time per call). Not part of the reported table.
/// </summary>
public static class ProfileMonotone
{
    /// <summary>The `monotone` subcommand of `profile`.</summary>
    public static Command Command()
    {
        var seconds = new Argument<double>("seconds")
        {
            Description = "measuring time in all (rounds of every case, at least 3)",
            DefaultValueFactory = _ => 30,
            CustomParser = result =>
            {
                string value = result.Tokens.Count == 1 ? result.Tokens[0].Value : "";
                if (double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out double s) && s >= 0) return s;
                result.AddError($"seconds must be a number ≥ 0; got '{value}'.");
                return 0;
            },
        };
        var only = new Option<string?>("--only") { HelpName = "TEXT", Description = "only the cases whose name contains TEXT (e.g. 'D8 float Inverse', for perf record)" };
        var command = new Command("monotone", "D8 log-density/inverse/training step, Q8 inverse, G8 training step/log-density/inverse and R8 training step (1 thread), interleaved round by round, minimum wall time per call: the A/B harness of the monotone-transformer work") { seconds, only };
        command.SetAction(parseResult => Run(parseResult.GetValue(seconds), parseResult.GetValue(only)));
        return command;
    }

    /// <summary>Runs the harness (the cases whose name contains <paramref name="only"/>, if given) for about <paramref name="seconds"/> of measuring in all.</summary>
    public static int Run(double seconds, string? only = null)
    {
        var d8Big = Make<D8_float, D8Float, float>(65536);
        var d8Train = Make<D8_float, D8Float, float>(4096);
        var q8Big = Make<Q8_float, Q8Float, float>(65536);
        var g8Train = Make<G8_float, G8Float, float>(4096);
        var r8Train = Make<R8_float, R8Float, float>(4096);
        var g8Big = Make<G8_float, G8Float, float>(65536);
        ProfileCase[] cases =
        [
            new("D8 float LogProb@65536", 65536, d8Big.LogProb),
            new("D8 float Inverse@65536", 65536, d8Big.Inverse),
            new("D8 float TrainStep@4096", 4096, d8Train.TrainStep),
            new("Q8 float Inverse@65536", 65536, q8Big.Inverse),
            new("G8 float TrainStep@4096", 4096, g8Train.TrainStep),
            new("G8 float LogProb@65536", 65536, g8Big.LogProb),
            new("G8 float Inverse@65536", 65536, g8Big.Inverse),
            new("R8 float TrainStep@4096", 4096, r8Train.TrainStep),
        ];
        if (only is not null) cases = Array.FindAll(cases, c => c.Name.Contains(only, StringComparison.Ordinal));
        Interleaved.Print(Interleaved.Run(cases, warmupCalls: 2, seconds, minRounds: 3));
        d8Big.Cleanup(); d8Train.Cleanup(); q8Big.Cleanup(); g8Train.Cleanup(); r8Train.Cleanup(); g8Big.Cleanup();
        return 0;
    }

    private static TBench Make<TBench, TFlow, T>(int batch)
        where TBench : FlowBench<TFlow, T>, new()
        where TFlow : class, ICouplingFlowModel<TFlow, T>
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var bench = new TBench { Batch = batch, Threads = 1 };
        bench.Setup();
        return bench;
    }
}
