using System;
using System.Globalization;
using System.IO;
using System.Linq;
using FlowGen;
using FlowGen.MLNet;
using FlowGen.Onnx;
using Microsoft.ML;
using Microsoft.ML.Data;

// Anomalies in Seattle's daily weather: train a flow on the numeric columns, export its log-density to ONNX, score every row
// of the CSV inside an ML.NET pipeline (IDataView → Concatenate → ApplyOnnxModel) and print the least likely days.
// Usage: dotnet run --project samples/FlowGen.MLNet -c Release [-- --steps N --top K --out DIR --csv PATH]
string csv = Path.Combine(AppContext.BaseDirectory, "data", "seattle-weather.csv");
int steps = 2000, top = 10;
string outDir = Path.Combine(Path.GetTempPath(), "flowgen-mlnet");
for (int i = 0; i + 1 < args.Length; i += 2)
{
    switch (args[i])
    {
        case "--steps": steps = int.Parse(args[i + 1], CultureInfo.InvariantCulture); break;
        case "--top": top = int.Parse(args[i + 1], CultureInfo.InvariantCulture); break;
        case "--out": outDir = args[i + 1]; break;
        case "--csv": csv = args[i + 1]; break;
        default: Console.Error.WriteLine($"unknown option {args[i]}"); return 2;
    }
}
Directory.CreateDirectory(outDir);

var ml = new MLContext(seed: 0);
IDataView data = WeatherAnomalies.Load(ml, csv);
float[] rows = WeatherAnomalies.Rows(data);
int n = rows.Length / 4;
Console.WriteLine($"{n} rows of {string.Join(", ", WeatherAnomalies.Columns)} from {csv}");

var (flow, result) = WeatherAnomalies.Train(rows, steps, seed: 1);
Console.WriteLine(result);

string onnxPath = Path.Combine(outDir, "weather-logprob.onnx");
FlowOnnx.Save(flow, onnxPath, OnnxFlowGraph.LogProb);
Console.WriteLine($"exported the log-density to {onnxPath} ({new FileInfo(onnxPath).Length} bytes, opset {FlowOnnx.OpsetVersion}, IR {FlowOnnx.IrVersion})");

IDataView scored = WeatherAnomalies.Pipeline(ml, data, onnxPath).Transform(data);
float[] scores = WeatherAnomalies.Scores(scored);

// the check: ML.NET's scores are FlowGen's own log-densities
var expected = new float[n];
flow.LogProb(rows, expected);
double worst = 0;
for (int i = 0; i < n; i++) worst = Math.Max(worst, Math.Abs(scores[i] - expected[i]) / Math.Max(Math.Abs(expected[i]), 1));
Console.WriteLine($"ML.NET vs FlowGen log-density: max difference {worst:G3} (relative, or absolute below 1) over {n} rows");
Console.WriteLine($"mean log-density {scores.Average():F3} nats per day");

string[] dates = scored.GetColumn<string>("date").ToArray();
string[] weather = scored.GetColumn<string>("weather").ToArray();
Console.WriteLine($"the {top} least likely days (anomalies):");
Console.WriteLine($"  {"date",-10}  {"precip",6}  {"t_max",6}  {"t_min",6}  {"wind",5}  {"weather",-8}  log p");
foreach (int i in WeatherAnomalies.LeastLikely(scores, top))
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
        $"  {dates[i],-10}  {rows[4 * i],6:F1}  {rows[4 * i + 1],6:F1}  {rows[4 * i + 2],6:F1}  {rows[4 * i + 3],5:F1}  {weather[i],-8}  {scores[i]:F2}"));
if (worst > 1e-4) { Console.Error.WriteLine("ML.NET's scores do not match FlowGen's"); return 1; }
return 0;
