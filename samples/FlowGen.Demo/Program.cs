using System;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using FlowGen;

namespace FlowGen.Demo;

/// <summary>
/// Trains a FlowGen flow on a toy density or a CSV file, reports train / validation / test NLL, checks a checkpoint round
/// trip and writes a figure. Run with --help for the options.
/// </summary>
internal static class Program
{
    private const int ToyRows = 20_000;     // drawn for training; FlowTrainer holds out 10% of them for validation
    private const int ToyTestRows = 20_000; // drawn afresh, from another seed, for the test NLL
    private const double ValidationFraction = 0.1;

    public static int Main(string[] args)
    {
        CultureInfo.DefaultThreadCurrentCulture = CultureInfo.InvariantCulture;
        CultureInfo.CurrentCulture = CultureInfo.InvariantCulture;
        return DemoOptions.Command(options =>
        {
            try
            {
                return Run(options);
            }
            catch (DemoException e)
            {
                Console.Error.WriteLine($"error: {e.Message}");
                return 2;
            }
        }).Parse(args).Invoke();
    }

    private static int Run(DemoOptions o)
    {
        var clock = Stopwatch.StartNew();
        DataSet data = o.Data == "csv"
            ? CsvData.Load(o.CsvPath!, o.Seed)
            : DataSet.FromToy(ToyDensities.All[o.Data], ToyRows, ToyTestRows, o.Seed);
        FlowChoice choice = FlowCatalog.Resolve(data.Dim, o.Coupling);
        ICouplingFlow<float> flow = choice.Create(o.Seed);
        double learningRate = o.LearningRate ?? choice.LearningRate;

        // The flow models standardised data x' = (x − mean) / std. Its density converts back to the data's units with the
        // log-determinant of the standardisation, LogDet = −Σ log std: log p(x) = log p'(x') + LogDet, so every NLL shifts by
        // −LogDet = Σ log std.
        float[] train = data.Scaler.Apply(data.Train);
        float[] test = data.Scaler.Apply(data.Test);
        double toDataUnits = -data.Scaler.LogDet;

        var training = new TrainingOptions
        {
            Steps = o.Steps,
            BatchSize = o.BatchSize,
            LearningRate = learningRate,
            Schedule = LearningRateSchedule.Cosine,
            WarmupSteps = Math.Min(100, o.Steps / 10),
            ValidationFraction = ValidationFraction,
            EvaluateEvery = Math.Max(10, o.Steps / 100),
            Patience = 25, // evaluations, i.e. a quarter of the run without a better validation NLL
            RestoreBest = true,
            Threads = o.Threads,
            Seed = (ulong)o.Seed,
        };

        Console.WriteLine($"FlowGen demo: {data.Description}");
        Console.WriteLine($"  data      {data.TrainRows:N0} rows ({100 * (1 - ValidationFraction):F0}% train, {100 * ValidationFraction:F0}% validation), standardised; test: {data.TestDescription}");
        Console.WriteLine($"  model     {ShortName(flow)}: {Describe(flow)}");
        Console.WriteLine($"  training  {o.Steps:N0} steps x batch {o.BatchSize}, Adam, lr {learningRate:G3} with cosine decay, {o.Threads} thread{(o.Threads == 1 ? "" : "s")}; NLL in nats per point");

        var progress = new ProgressDisplay(toDataUnits);
        TrainingResult result = FlowTrainer.Train<float>(flow, train, training, progress);
        progress.EndLine();
        if (result.Status == TrainingStatus.Diverged)
        {
            Console.Error.WriteLine($"error: training diverged ({string.Join("; ", result.Events)}); try a smaller --lr.");
            return 1;
        }
        double testNll = FlowTrainer.MeanNll<float>(flow, test, o.Threads);

        Console.WriteLine();
        Console.WriteLine($"NLL in nats per point, in the data's units = NLL of the standardised data + Σ log std ({toDataUnits:+0.0000;-0.0000}):");
        Console.WriteLine("                data   standardised");
        int lastWindow = result.Steps % training.EvaluateEvery == 0 ? training.EvaluateEvery : result.Steps % training.EvaluateEvery;
        Console.WriteLine($"  train       {result.FinalTrainLoss + toDataUnits,8:F4}   {result.FinalTrainLoss,8:F4}   mean over the last {lastWindow} steps");
        Console.WriteLine($"  validation  {result.FinalValidationLoss + toDataUnits,8:F4}   {result.FinalValidationLoss,8:F4}   {result.ValidationRows:N0} rows; parameters of step {result.BestStep:N0}, the best");
        Console.WriteLine($"  test        {testNll + toDataUnits,8:F4}   {testNll,8:F4}   {data.TestDescription}");
        if (o.Data != "csv" && ToyDensities.All[o.Data].LogDensity is { } logDensity)
        {
            // the true entropy on the same test points (exact log-density): test NLL − H estimates KL(p‖q)
            // (a float-rounded checkerboard point can fall a rounding error outside its square: such points are left out)
            double h = 0;
            int counted = 0;
            for (int i = 0; i < data.TestRows; i++)
            {
                double lp = logDensity(data.Test[2 * i], data.Test[2 * i + 1]);
                if (double.IsFinite(lp)) { h -= lp; counted++; }
            }
            h /= Math.Max(1, counted);
            Console.WriteLine($"  entropy     {h,8:F4}   {h - toDataUnits,8:F4}   H(p) on the test points, exact log-density (test NLL − H = {testNll + toDataUnits - h:F4} ≈ KL)");
        }
        string ending = result.Status == TrainingStatus.StoppedEarly ? $", stopped early after {result.Steps:N0} steps" : "";
        Console.WriteLine($"  time        {result.Elapsed.TotalSeconds:F1} s training{ending}, {result.SamplesPerSecond:N0} samples/s");

        if (!CheckpointRoundTrip(flow, choice.Create, test, o)) return 1;

        string dataTitle = $"Data: {(o.Data == "csv" ? Path.GetFileName(o.CsvPath) : o.Data)} ({Math.Min(DemoPlot.ScatterPoints, data.TrainRows):N0} of {data.TrainRows:N0} points)";
        string densityTitle = data.Dim == 2
            ? $"Learned density, test NLL {testNll + toDataUnits:F3} nats"
            : $"Learned density of ({data.ColumnNames[0]}, {data.ColumnNames[1]}), from samples";
        int nonFinite = DemoPlot.Save(o.OutputPath, data, flow, dataTitle, densityTitle, o.Seed);
        if (nonFinite > 0)
        {
            Console.WriteLine($"  warning     {nonFinite:N0} of the flow's samples came out NaN or infinite (Sample reports such rows); they are left out of the plot");
        }
        Console.WriteLine($"  plot        {Path.GetFullPath(o.OutputPath)}");
        Console.WriteLine($"done in {clock.Elapsed.TotalSeconds:F1} s");
        return 0;
    }

    /// <summary>Saves the flow, loads the file into a differently initialised instance and compares log-densities bit for bit.</summary>
    private static bool CheckpointRoundTrip(ICouplingFlow<float> flow, FlowFactory factory, float[] test, DemoOptions o)
    {
        string path = Path.GetFullPath(o.CheckpointPath);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!); // the --output folder (FlowCheckpoint.Save creates no folders)
        FlowCheckpoint.Save(flow, path);
        ICouplingFlow<float> fresh = factory(o.Seed + 1);
        float[] expected = LogProbs(flow, test), before = LogProbs(fresh, test);
        FlowCheckpoint.Load(fresh, path);
        float[] after = LogProbs(fresh, test);
        int mismatches = 0, differedBefore = 0;
        for (int i = 0; i < expected.Length; i++)
        {
            if (BitConverter.SingleToInt32Bits(after[i]) != BitConverter.SingleToInt32Bits(expected[i])) mismatches++;
            if (before[i] != expected[i]) differedBefore++;
        }
        long bytes = new FileInfo(path).Length;
        if (mismatches > 0)
        {
            Console.Error.WriteLine($"error: checkpoint round trip failed: {mismatches:N0} of {expected.Length:N0} log-densities differ after reloading {path}.");
            return false;
        }
        Console.WriteLine($"  checkpoint  {path} ({bytes / 1024.0:F0} KiB): reloaded into a fresh {ShortName(fresh)}, the log-densities of all {expected.Length:N0} test points match bit for bit ({differedBefore:N0} differed before loading)");
        return true;
    }

    private static float[] LogProbs(ICouplingFlow<float> flow, float[] rows)
    {
        var result = new float[rows.Length / flow.Dim];
        flow.LogProb(rows, default, result);
        return result;
    }

    private static string ShortName(ICouplingFlow<float> flow) => flow.ModelName[(flow.ModelName.LastIndexOf('.') + 1)..];

    /// <summary>The first line of the stack description (dimension, precision, parameters) and the number of layers.</summary>
    private static string Describe(ICouplingFlow<float> flow)
    {
        string[] lines = flow.StackDescription.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        return $"{lines[0]}, {lines.Length - 1} layers";
    }
}
