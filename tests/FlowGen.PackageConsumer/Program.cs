using System;
using System.IO;
using System.Linq;
using System.Text;
using FlowGen;
using FlowGen.Data;
using FlowGen.Onnx;

// args: the flights slice as CSV and as Parquet (.ci/pack-check copies tests/FlowGen.Tests/Data's next to the project)
string csvPath = args.Length > 0 ? args[0] : "flights-slice.csv";
string parquetPath = args.Length > 1 ? args[1] : "flights-slice.parquet";

// Two models declared with the package's attributes: the package's analyzer must generate them.
var flow = new Affine3(seed: 7);
float lp = flow.LogProb(new[] { 0.5f, -1.0f, 2.0f });
var spline = new Spline2(seed: 3);
double lpd = spline.LogProb(new[] { 0.25, -0.75 });

// the runtime API from the package: safetensors round trip
var bytes = FlowSafetensors.Serialize(flow);
var copy = new Affine3(seed: 99);
FlowSafetensors.Deserialize(copy, bytes);
if (copy.LogProb(new[] { 0.5f, -1.0f, 2.0f }) != lp) throw new InvalidOperationException("safetensors round trip changed the model");

// FlowGen.Onnx from its package: the log-density graph of Affine3, written to a file; deterministic, and carrying the
// stack specification in its metadata
string onnxPath = Path.Combine(Path.GetTempPath(), $"flowgen-consumer-{Environment.ProcessId}.onnx");
FlowOnnx.Save(flow, onnxPath);
byte[] onnx = File.ReadAllBytes(onnxPath);
File.Delete(onnxPath);
if (!onnx.AsSpan().SequenceEqual(FlowOnnx.Export(flow))) throw new InvalidOperationException("Save and Export wrote different bytes");
if (!Encoding.UTF8.GetString(onnx).Contains(Affine3.StackSpec, StringComparison.Ordinal)) throw new InvalidOperationException("the ONNX model lacks flowgen.spec");
if (FlowOnnx.CanExport(flow, OnnxFlowGraph.Inverse, out string? why) is false) throw new InvalidOperationException($"affine inverse refused: {why}");
Console.WriteLine($"ONNX: Affine3 log-density graph, opset {FlowOnnx.OpsetVersion}, IR {FlowOnnx.IrVersion}, {onnx.Length} bytes");

// FlowGen.Data from its package: the same rows (delay, distance) read from the CSV slice and from the Parquet slice
var csv = new CsvDataSource<float>(csvPath, new[] { "delay", "distance" });
using var parquet = new ParquetDataSource<float>(parquetPath, new[] { "delay", "distance" });
float[] fromCsv = ReadAll(csv), fromParquet = ReadAll(parquet);
if (fromCsv.Length == 0 || !fromCsv.SequenceEqual(fromParquet)) throw new InvalidOperationException($"CSV ({fromCsv.Length / 2} rows) and Parquet ({fromParquet.Length / 2} rows) slices differ");
Console.WriteLine($"Data: {fromCsv.Length / 2} rows of (delay, distance) from CSV and Parquet, equal; first row ({fromCsv[0]}, {fromCsv[1]})");

string runtimeFrom = typeof(ICouplingFlow<>).Assembly.Location;
Console.WriteLine($"Affine3: {Affine3.ParameterCount} parameters, log p = {lp:R}");
Console.WriteLine($"Spline2: {Spline2.ParameterCount} parameters, log p = {lpd:R}");
Console.WriteLine($"runtime loaded from {Path.GetFileName(Path.GetDirectoryName(runtimeFrom))}/{Path.GetFileName(runtimeFrom)}");
Console.WriteLine("consumer ok");

static float[] ReadAll(IFlowDataSource<float> source)
{
    var all = new System.Collections.Generic.List<float>();
    var rows = new float[source.MaxChunkRows * source.Dim];
    for (int chunk = 0; chunk < source.ChunkCount; chunk++)
    {
        int n = source.ReadChunk(chunk, rows, Span<float>.Empty, out _);
        all.AddRange(rows.AsSpan(0, n * source.Dim).ToArray());
    }
    return all.ToArray();
}

[CouplingFlow(Dim = 3, Layers = 4, Hidden = [16])]
public partial class Affine3;

[CouplingFlow<double>(Dim = 2, Hidden = [8])]
[SplineCoupling(Bins = 6, Bound = 3)]
[Permute(PermutationKind.Reverse)]
[AdditiveCoupling]
public partial class Spline2;
