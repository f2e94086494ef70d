using System;
using System.Globalization;
using System.IO;
using System.Linq;

namespace FlowGen.Demo;

/// <summary>The command line of the demo.</summary>
internal sealed class DemoOptions
{
    public string Data { get; private set; } = "moons";
    public string? CsvPath { get; private set; }
    public string Coupling { get; private set; } = "affine";
    public int Steps { get; private set; } = 8000;
    public int BatchSize { get; private set; } = 256;
    /// <summary>The peak learning rate, or null for the chosen flow's own (<see cref="FlowChoice.LearningRate"/>).</summary>
    public double? LearningRate { get; private set; }
    public int Threads { get; private set; } = Environment.ProcessorCount;
    public int Seed { get; private set; } = 1;
    public string OutputPath { get; private set; } = "flowgen-demo.png";
    public bool ShowHelp { get; private set; }

    /// <summary>The checkpoint is written next to the PNG, with the same name.</summary>
    public string CheckpointPath => Path.ChangeExtension(OutputPath, ".flowgen");

    public static string Usage =>
        $"""
        FlowGen demo: trains a coupling normalizing flow on a 2-D toy density (or your CSV data), prints train / validation /
        test NLL, writes a three-panel PNG (data, flow samples, learned density) and a checkpoint next to it.

        Usage: dotnet run --project samples/FlowGen.Demo -c Release -- [options]

          --data NAME      {string.Join(" | ", ToyDensities.All.Keys)} | csv   (default moons)
          --csv PATH       train on your own data: numeric columns, optional header row; implies --data csv.
                           Columns are standardised; supported column counts: {string.Join(", ", FlowCatalog.SupportedDimensions)}
          --coupling KIND  {string.Join(" | ", FlowCatalog.Couplings.Keys)}   (default affine; 2-D data)
          --steps N        optimisation steps (default 8000)
          --batch N        samples per step (default 256)
          --lr X           peak Adam learning rate, cosine-decayed to 1e-5 (default {FlowCatalog.DefaultLearningRate:G}; {FlowCatalog.Couplings["sos"].LearningRate:G} for sos)
          --threads N      worker threads (default: all {Environment.ProcessorCount} cores)
          --seed N         seed of the data, the initialisation and the shuffles (default 1)
          --out PATH       output PNG (default flowgen-demo.png); the checkpoint goes to PATH with extension .flowgen
          --help           this text

        Examples:
          dotnet run --project samples/FlowGen.Demo -c Release -- --data rings --coupling spline
          dotnet run --project samples/FlowGen.Demo -c Release -- --csv my-data.csv --out my-data.png
        """;

    /// <summary>Parses <c>--name value</c> and <c>--name=value</c> arguments.</summary>
    /// <exception cref="DemoException">An unknown option, a missing or malformed value, or an inconsistent combination.</exception>
    public static DemoOptions Parse(string[] args)
    {
        var options = new DemoOptions();
        bool dataGiven = false;
        for (int i = 0; i < args.Length; i++)
        {
            string name = args[i], value = "";
            int equals = name.IndexOf('=');
            if (name.StartsWith("--", StringComparison.Ordinal) && equals > 0)
            {
                value = name[(equals + 1)..];
                name = name[..equals];
            }
            else if (name is not ("--help" or "-h" or "-?"))
            {
                if (i + 1 >= args.Length) throw new DemoException($"{name} needs a value (see --help).");
                value = args[++i];
            }
            switch (name)
            {
                case "--help" or "-h" or "-?":
                    options.ShowHelp = true;
                    break;
                case "--data":
                    options.Data = OneOf(name, value, [.. ToyDensities.All.Keys, "csv"]);
                    dataGiven = true;
                    break;
                case "--csv":
                    options.CsvPath = value.Length > 0 ? value : throw new DemoException("--csv needs a file path.");
                    break;
                case "--coupling":
                    options.Coupling = OneOf(name, value, [.. FlowCatalog.Couplings.Keys]);
                    break;
                case "--steps":
                    options.Steps = Integer(name, value, 1, 10_000_000);
                    break;
                case "--batch":
                    options.BatchSize = Integer(name, value, 1, 1_000_000);
                    break;
                case "--lr":
                    options.LearningRate = Real(name, value, 1e-7, 1);
                    break;
                case "--threads":
                    options.Threads = Integer(name, value, 1, 1024);
                    break;
                case "--seed":
                    options.Seed = Integer(name, value, 0, int.MaxValue);
                    break;
                case "--out":
                    if (!value.EndsWith(".png", StringComparison.OrdinalIgnoreCase)) throw new DemoException($"--out must name a .png file; got '{value}'.");
                    options.OutputPath = value;
                    break;
                default:
                    throw new DemoException($"Unknown option '{name}' (see --help).");
            }
        }
        if (options.CsvPath is not null)
        {
            if (dataGiven && options.Data != "csv") throw new DemoException($"--csv cannot be combined with --data {options.Data}.");
            options.Data = "csv";
        }
        else if (options.Data == "csv")
        {
            throw new DemoException("--data csv needs --csv PATH.");
        }
        return options;
    }

    private static string OneOf(string name, string value, string[] allowed) =>
        allowed.FirstOrDefault(a => string.Equals(a, value, StringComparison.OrdinalIgnoreCase))
        ?? throw new DemoException($"{name} must be one of {string.Join(", ", allowed)}; got '{value}'.");

    private static int Integer(string name, string value, int min, int max)
    {
        if (!int.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out int result) || result < min || result > max)
        {
            throw new DemoException($"{name} must be an integer from {min} to {max}; got '{value}'.");
        }
        return result;
    }

    private static double Real(string name, string value, double min, double max)
    {
        if (!double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out double result) || !(result >= min && result <= max))
        {
            throw new DemoException($"{name} must be a number from {min:G} to {max:G}; got '{value}'.");
        }
        return result;
    }
}
