using System;
using System.IO;
using FlowGen;

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

string runtimeFrom = typeof(ICouplingFlow<>).Assembly.Location;
Console.WriteLine($"Affine3: {Affine3.ParameterCount} parameters, log p = {lp:R}");
Console.WriteLine($"Spline2: {Spline2.ParameterCount} parameters, log p = {lpd:R}");
Console.WriteLine($"runtime loaded from {Path.GetFileName(Path.GetDirectoryName(runtimeFrom))}/{Path.GetFileName(runtimeFrom)}");
Console.WriteLine("consumer ok");

[CouplingFlow(Dim = 3, Layers = 4, Hidden = [16])]
public partial class Affine3;

[CouplingFlow<double>(Dim = 2, Hidden = [8])]
[SplineCoupling(Bins = 6, Bound = 3)]
[Permute(PermutationKind.Reverse)]
[AdditiveCoupling]
public partial class Spline2;
