using System;
using System.CommandLine;
using System.CommandLine.Invocation;
using System.CommandLine.Parsing;
using System.Globalization;
using System.IO;
using System.Linq;

namespace FlowGen.Demo;

/// <summary>The command line of the demo (System.CommandLine): <see cref="Command"/> parses it into a <see cref="DemoOptions"/>.</summary>
internal sealed class DemoOptions
{
    public string Data { get; private init; } = "moons";
    public string? CsvPath { get; private init; }
    public string Coupling { get; private init; } = "affine";
    public int Steps { get; private init; } = 8000;
    public int BatchSize { get; private init; } = 256;
    /// <summary>The peak learning rate, or null for the chosen flow's own (<see cref="FlowChoice.LearningRate"/>).</summary>
    public double? LearningRate { get; private init; }
    public int Threads { get; private init; } = Environment.ProcessorCount;
    public int Seed { get; private init; } = 1;
    public string OutputPath { get; private init; } = "flowgen-demo.png";

    /// <summary>The checkpoint is written next to the PNG, with the same name.</summary>
    public string CheckpointPath => Path.ChangeExtension(OutputPath, ".flowgen");

    private const string Examples =
        """
        Run it with: dotnet run --project samples/FlowGen.Demo -c Release -- [options]

        Examples:
          dotnet run --project samples/FlowGen.Demo -c Release -- --data rings --coupling spline
          dotnet run --project samples/FlowGen.Demo -c Release -- --csv my-data.csv --out my-data.png
        """;

    /// <summary>
    /// The demo's root command: <c>--name value</c> or <c>--name=value</c> options, <c>--help</c>; an unknown option, a missing
    /// or malformed value or an inconsistent combination is a parse error (System.CommandLine's message, exit code 1).
    /// Numbers are parsed with the invariant culture. <paramref name="run"/> receives the parsed options.
    /// </summary>
    public static RootCommand Command(Func<DemoOptions, int> run)
    {
        string[] dataNames = [.. ToyDensities.All.Keys, "csv"];
        var data = new Option<string>("--data")
        {
            Description = "the toy density to learn, or csv for your own data (--csv)",
            DefaultValueFactory = _ => "moons",
        };
        data.AcceptOnlyFromAmong(StringComparer.OrdinalIgnoreCase, dataNames);
        var csv = new Option<string?>("--csv")
        {
            HelpName = "PATH",
            Description = "train on your own data: numeric columns, optional header row; implies --data csv. " +
                $"Columns are standardised; supported column counts: {string.Join(", ", FlowCatalog.SupportedDimensions)}",
        };
        csv.Validators.Add(result =>
        {
            if (result.GetValueOrDefault<string?>() is "") result.AddError("--csv needs a file path.");
        });
        string[] couplingNames = [.. FlowCatalog.Couplings.Keys];
        var coupling = new Option<string>("--coupling")
        {
            Description = "the coupling of the 2-D flow (data of more columns uses affine couplings)",
            DefaultValueFactory = _ => "affine",
        };
        coupling.AcceptOnlyFromAmong(StringComparer.OrdinalIgnoreCase, couplingNames);
        var steps = Integer("--steps", "optimisation steps", 8000, 1, 10_000_000);
        var batch = Integer("--batch", "samples per step", 256, 1, 1_000_000);
        var learningRate = new Option<double?>("--lr")
        {
            HelpName = "X",
            Description = "peak Adam learning rate, cosine-decayed to 1e-5 " +
                $"(default {FlowCatalog.DefaultLearningRate:G}; {FlowCatalog.Couplings["sos"].LearningRate:G} for sos)",
            CustomParser = result => Real(result, "--lr", 1e-7, 1),
        };
        var threads = Integer("--threads", "worker threads, by default one per core", Environment.ProcessorCount, 1, 1024);
        var seed = Integer("--seed", "seed of the data, the initialisation and the shuffles", 1, 0, int.MaxValue);
        var output = new Option<string>("--out")
        {
            HelpName = "PATH",
            Description = "output PNG; the checkpoint goes to PATH with extension .flowgen",
            DefaultValueFactory = _ => "flowgen-demo.png",
        };
        output.Validators.Add(result =>
        {
            string value = result.GetValueOrDefault<string>();
            if (!value.EndsWith(".png", StringComparison.OrdinalIgnoreCase)) result.AddError($"--out must name a .png file; got '{value}'.");
        });

        var command = new RootCommand(
            "FlowGen demo: trains a coupling normalizing flow on a 2-D toy density (or your CSV data), prints train / validation / " +
            "test NLL, writes a three-panel PNG (data, flow samples, learned density) and a checkpoint next to it.")
        {
            data, csv, coupling, steps, batch, learningRate, threads, seed, output,
        };
        command.Validators.Add(result =>
        {
            // validators run before defaults are filled in: a --data that was not given has no value here
            string? given = result.GetResult(data) is { Implicit: false } dataResult ? dataResult.GetValueOrDefault<string>() : null;
            bool isCsv = string.Equals(given, "csv", StringComparison.OrdinalIgnoreCase);
            if (result.GetResult(csv) is not null)
            {
                if (given is not null && !isCsv) result.AddError($"--csv cannot be combined with --data {given}.");
            }
            else if (isCsv)
            {
                result.AddError("--data csv needs --csv PATH.");
            }
        });
        AppendToHelp(command, Examples);
        command.SetAction(parseResult =>
        {
            string? csvPath = parseResult.GetValue(csv);
            return run(new DemoOptions
            {
                Data = csvPath is not null ? "csv" : Canonical(parseResult.GetValue(data)!, dataNames),
                CsvPath = csvPath,
                Coupling = Canonical(parseResult.GetValue(coupling)!, couplingNames),
                Steps = parseResult.GetValue(steps),
                BatchSize = parseResult.GetValue(batch),
                LearningRate = parseResult.GetValue(learningRate),
                Threads = parseResult.GetValue(threads),
                Seed = parseResult.GetValue(seed),
                OutputPath = parseResult.GetValue(output)!,
            });
        });
        return command;
    }

    /// <summary>The spelling of <paramref name="value"/> in <paramref name="names"/> (the options accept any letter case).</summary>
    private static string Canonical(string value, string[] names) => names.First(n => string.Equals(n, value, StringComparison.OrdinalIgnoreCase));

    private static Option<int> Integer(string name, string description, int defaultValue, int min, int max) => new(name)
    {
        HelpName = "N",
        Description = description,
        DefaultValueFactory = _ => defaultValue,
        CustomParser = result =>
        {
            string value = result.Tokens.Count == 1 ? result.Tokens[0].Value : "";
            if (int.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out int parsed) && parsed >= min && parsed <= max) return parsed;
            result.AddError($"{name} must be an integer from {min} to {max}; got '{value}'.");
            return defaultValue;
        },
    };

    private static double? Real(ArgumentResult result, string name, double min, double max)
    {
        string value = result.Tokens.Count == 1 ? result.Tokens[0].Value : "";
        if (double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out double parsed) && parsed >= min && parsed <= max) return parsed;
        result.AddError($"{name} must be a number from {min:G} to {max:G}; got '{value}'.");
        return null;
    }

    /// <summary>Prints <paramref name="text"/> after System.CommandLine's help of <paramref name="command"/>.</summary>
    private static void AppendToHelp(Command command, string text)
    {
        var help = command.Options.OfType<System.CommandLine.Help.HelpOption>().Single();
        help.Action = new HelpWithText((SynchronousCommandLineAction)help.Action!, text);
    }

    private sealed class HelpWithText(SynchronousCommandLineAction help, string text) : SynchronousCommandLineAction
    {
        public override int Invoke(ParseResult parseResult)
        {
            int exitCode = help.Invoke(parseResult);
            parseResult.InvocationConfiguration.Output.WriteLine(text);
            return exitCode;
        }
    }
}
