using System;
using System.Collections.Generic;
using System.Linq;
using FlowGen;
using FlowGen.Onnx;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace FlowGen.MLNet;

/// <summary>
/// The density of a day's weather (precipitation, temp_max, temp_min, wind): ActNorm standardises inside the flow (set from
/// the data), so the exported graph scores raw rows; rational-quadratic spline couplings, a random permutation after each.
/// </summary>
[CouplingFlow(Dim = 4, Layers = 6, Coupling = CouplingKind.Spline, Bins = 8, Bound = 4, ActNorm = true,
    Permutation = PermutationKind.Random, Hidden = [32, 32], Seed = 3)]
public partial class WeatherFlow;

/// <summary>Everything the sample does, as methods the tests call too.</summary>
public static class WeatherAnomalies
{
    /// <summary>The numeric columns modelled, in the flow's coordinate order.</summary>
    public static readonly string[] Columns = { "precipitation", "temp_max", "temp_min", "wind" };

    /// <summary>The name of the ML.NET column the ONNX model writes.</summary>
    public const string ScoreColumn = OnnxFlowNames.LogProb;

    /// <summary>Loads the CSV as an IDataView (TextLoader: header, comma-separated; the numeric columns as Single).</summary>
    public static IDataView Load(MLContext ml, string csvPath)
    {
        var loader = ml.Data.CreateTextLoader(new TextLoader.Options
        {
            HasHeader = true,
            Separators = new[] { ',' },
            Columns = new[]
            {
                new TextLoader.Column("date", DataKind.String, 0),
                new TextLoader.Column("precipitation", DataKind.Single, 1),
                new TextLoader.Column("temp_max", DataKind.Single, 2),
                new TextLoader.Column("temp_min", DataKind.Single, 3),
                new TextLoader.Column("wind", DataKind.Single, 4),
                new TextLoader.Column("weather", DataKind.String, 5),
            },
        });
        return loader.Load(csvPath);
    }

    /// <summary>The numeric columns of every row, row-major (rows × 4), as ML.NET read them.</summary>
    public static float[] Rows(IDataView data)
    {
        float[][] columns = Columns.Select(c => data.GetColumn<float>(c).ToArray()).ToArray();
        int n = columns[0].Length;
        var rows = new float[n * Columns.Length];
        for (int i = 0; i < n; i++)
            for (int j = 0; j < Columns.Length; j++) rows[i * Columns.Length + j] = columns[j][i];
        return rows;
    }

    /// <summary>
    /// Trains the flow on the rows. The values are recorded to 0.1 (mm, °C, m/s), so each training copy is dequantised with
    /// uniform noise of that width (a density on a grid of points is otherwise unbounded); 8 noisy copies of the rows.
    /// </summary>
    public static (WeatherFlow Flow, TrainingResult Result) Train(float[] rows, int steps, ulong seed)
    {
        const int copies = 8;
        var rng = new FlowRandom(seed);
        var train = new float[rows.Length * copies];
        for (int i = 0; i < train.Length; i++) train[i] = rows[i % rows.Length] + (float)(0.1 * (rng.NextDouble() - 0.5));
        var flow = new WeatherFlow(seed);
        flow.InitializeFromData(train);
        TrainingResult result = FlowTrainer.Train(flow, train,
            new TrainingOptions { Steps = steps, BatchSize = 256, LearningRate = 3e-3, EvaluateEvery = 100, Seed = seed });
        return (flow, result);
    }

    /// <summary>The ML.NET pipeline: the four columns concatenated into the vector "x", then ApplyOnnxModel with the exported
    /// log-density graph, which writes "log_prob".</summary>
    public static ITransformer Pipeline(MLContext ml, IDataView data, string onnxPath)
    {
        var pipeline = ml.Transforms.Concatenate(OnnxFlowNames.X, Columns)
            .Append(ml.Transforms.ApplyOnnxModel(new[] { ScoreColumn }, new[] { OnnxFlowNames.X }, onnxPath));
        return pipeline.Fit(data);
    }

    /// <summary>The log-density ML.NET computed for each row.</summary>
    public static float[] Scores(IDataView scored)
        => scored.GetColumn<float[]>(ScoreColumn).Select(v => v.Length == 1 ? v[0] : throw new InvalidOperationException($"{ScoreColumn} has {v.Length} values per row")).ToArray();

    /// <summary>The indices of the <paramref name="count"/> least likely rows, least likely first.</summary>
    public static int[] LeastLikely(float[] scores, int count)
        => Enumerable.Range(0, scores.Length).OrderBy(i => scores[i]).ThenBy(i => i).Take(count).ToArray();
}
