using System;
using System.IO;
using System.Linq;
using FlowGen.MLNet;
using Microsoft.ML;
using Xunit.Abstractions;

namespace FlowGen.Onnx.Tests;

/// <summary>
/// The ML.NET sample's pipeline (samples/FlowGen.MLNet: seattle-weather.csv as an IDataView, Concatenate, ApplyOnnxModel
/// with the exported log-density) scores every row as FlowGen's own LogProb does, and as ONNX Runtime does on the same graph.
/// </summary>
public sealed class MLNetSampleTests(ITestOutputHelper output)
{
    [Fact]
    public void MLNetScoresEqualFlowGen()
    {
        Ort.EnsureEnvironment();
        string csv = Path.Combine(RepositoryRoot(), "samples", "FlowGen.MLNet", "data", "seattle-weather.csv");
        var ml = new MLContext(seed: 0);
        IDataView data = WeatherAnomalies.Load(ml, csv);
        float[] rows = WeatherAnomalies.Rows(data);
        int n = rows.Length / 4;
        Assert.Equal(1461, n);
        var (flow, result) = WeatherAnomalies.Train(rows, steps: 300, seed: 2);
        Assert.True(double.IsFinite(result.BestValidationLoss), result.ToString());

        string path = Path.Combine(Path.GetTempPath(), $"flowgen-mlnet-test-{Environment.ProcessId}.onnx");
        try
        {
            FlowOnnx.Save(flow, path, OnnxFlowGraph.LogProb);
            float[] scores = WeatherAnomalies.Scores(WeatherAnomalies.Pipeline(ml, data, path).Transform(data));
            Assert.Equal(n, scores.Length);

            // the same graph run by ONNX Runtime directly on the whole batch
            using var session = Ort.Session(File.ReadAllBytes(path));
            float[] direct = Ort.Run(session, (OnnxFlowNames.X, rows, 4))[OnnxFlowNames.LogProb];
            double engine = OnnxExportTests.MaxError(scores, direct, out int e1);
            Assert.True(engine <= 1e-6, $"ML.NET and ONNX Runtime differ by {engine:G3} at row {e1}");

            // FlowGen's own log-densities, within 1e-5 (or no farther from the double reference than FlowGen, or within FlowGen's 1-ulp sensitivity)
            var (flowgen, sensitivity) = OnnxExportTests.WithSensitivity(flow, OnnxFlowGraph.Forward, rows, Array.Empty<float>(), new Random(3));
            // and the flow's double-reference graph (FlowOnnx.ExportDoubleReference) as the oracle where the two differ more
            using var reference = Ort.Session(FlowOnnx.ExportDoubleReference(flow, OnnxFlowGraph.LogProb));
            double[] exact = OrtValues.RunInDouble(reference, OnnxExportTests.Feeds(OnnxFlowNames.X, rows, 4, Array.Empty<float>(), 0))[OnnxFlowNames.LogProb];
            var stat = new OnnxExportTests.Stat();
            string failure = stat.Add(scores, flowgen[OnnxFlowNames.LogProb], sensitivity[OnnxFlowNames.LogProb], 1e-5, reference: exact);
            Assert.True(failure.Length == 0, "ML.NET vs FlowGen: " + failure);
            output.WriteLine($"ML.NET vs FlowGen log_prob over {n} rows: {stat}; ML.NET vs ONNX Runtime {engine:G3}");

            int[] anomalies = WeatherAnomalies.LeastLikely(scores, 5);
            Assert.Equal(scores.Min(), scores[anomalies[0]]);
            Assert.True(anomalies.Zip(anomalies.Skip(1)).All(p => scores[p.First] <= scores[p.Second]));
        }
        finally
        {
            File.Delete(path);
        }
    }

    private static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir != null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "FlowGen.sln"))) return dir.FullName;
        throw new DirectoryNotFoundException("FlowGen.sln not found above " + AppContext.BaseDirectory);
    }
}
