using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Numerics;
using System.Text.Json;
using FlowGen;
using FlowGen.InteropCheck;

// export <dir>: for every stack, train a few steps in FlowGen, write <name>.safetensors (weights) and <name>.json (training
//               data, evaluation inputs, and FlowGen's latents, log-dets, log-densities and inverses).
// verify <dir>: for every stack, load <name>.torch.safetensors (trained in PyTorch by check.py) and compare FlowGen's outputs
//               with PyTorch's in <name>.torch.json. Exit code 1 beyond tolerance (float 1e-5, double 1e-9, relative to max(1, |a|)).
if (args.Length != 2 || args[0] is not ("export" or "verify"))
{
    Console.Error.WriteLine("usage: FlowGen.InteropCheck export|verify <directory>");
    return 2;
}
string dir = args[1];
Directory.CreateDirectory(dir);
bool ok = true;
foreach (Stack s in Stacks.All)
{
    ok &= args[0] == "export" ? s.Export(dir) : s.Verify(dir);
}
return ok ? 0 : 1;

internal abstract class Stack
{
    public abstract string Name { get; }
    public abstract bool Export(string dir);
    public abstract bool Verify(string dir);
}

internal sealed class Stack<T>(string name, Func<ICouplingFlow<T>> create) : Stack where T : unmanaged, IFloatingPointIeee754<T>
{
    public override string Name => name;
    private const int TrainRows = 512, EvalRows = 64;
    private static bool IsFloat => typeof(T) == typeof(float);
    private static double Tolerance => IsFloat ? 1e-5 : 1e-9;

    public override bool Export(string dir)
    {
        ICouplingFlow<T> flow = create();
        int d = flow.Dim, c = flow.ContextDim;
        var rng = new FlowRandom(2024);
        T[] train = Data(rng, TrainRows, d), trainContext = Gaussian(rng, TrainRows * c, 1.0);
        var options = new TrainingOptions { Steps = 30, BatchSize = 128, LearningRate = 5e-3, ValidationFraction = 0, Threads = 1, Seed = 3, EvaluateEvery = 1000 };
        FlowTrainer.Train(flow, train, options, contexts: trainContext);
        FlowSafetensors.Save(flow, Path.Combine(dir, name + ".safetensors"));

        T[] x = Data(rng, EvalRows, d), context = Gaussian(rng, EvalRows * c, 1.0), zSamples = Gaussian(rng, EvalRows * d, 1.0);
        var outputs = Evaluate(flow, x, context, zSamples);
        using var stream = File.Create(Path.Combine(dir, name + ".json"));
        using var w = new Utf8JsonWriter(stream);
        w.WriteStartObject();
        w.WriteString("name", name);
        w.WriteString("stack", flow.StackDescription);
        Write(w, "train_x", train);
        Write(w, "train_context", trainContext);
        Write(w, "x", x);
        Write(w, "context", context);
        Write(w, "z_samples", zSamples);
        foreach (var (key, values) in outputs) Write(w, key, values);
        w.WriteEndObject();
        Console.WriteLine($"exported {name}: {flow.ParameterCount} parameters");
        return true;
    }

    public override bool Verify(string dir)
    {
        ICouplingFlow<T> flow = create();
        FlowSafetensors.Load(flow, Path.Combine(dir, name + ".torch.safetensors"));
        using JsonDocument doc = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(dir, name + ".torch.json")));
        JsonElement root = doc.RootElement;
        T[] x = Read(root, "x"), context = Read(root, "context"), zSamples = Read(root, "z_samples");
        var outputs = Evaluate(flow, x, context, zSamples);
        bool ok = true;
        var parts = new List<string>();
        foreach (var (key, values) in outputs)
        {
            T[] expected = Read(root, key);
            double max = 0;
            for (int i = 0; i < values.Length; i++)
            {
                double a = double.CreateTruncating(expected[i]), b = double.CreateTruncating(values[i]);
                double diff = Math.Abs(a - b) / Math.Max(1, Math.Abs(a));
                if (!(diff <= max)) max = double.IsNaN(diff) ? double.PositiveInfinity : diff;
            }
            ok &= max <= Tolerance;
            parts.Add($"{key} {max:0.0e+0}");
        }
        Console.WriteLine($"PyTorch-trained {name,-15} loaded in FlowGen: max rel. diff {string.Join(", ", parts)} {(ok ? "ok" : "FAILED (tolerance " + Tolerance + ")")}");
        return ok;
    }

    private static List<(string, T[])> Evaluate(ICouplingFlow<T> flow, T[] x, T[] context, T[] zSamples)
    {
        int n = x.Length / flow.Dim;
        var z = new T[x.Length];
        var logDet = new T[n];
        var logProb = new T[n];
        var xInverse = new T[zSamples.Length];
        var inverseLogDet = new T[n];
        flow.Forward(x, context, z, logDet);
        flow.LogProb(x, context, logProb);
        flow.Inverse(zSamples, context, xInverse, inverseLogDet);
        return [("z", z), ("log_det", logDet), ("log_prob", logProb), ("x_inverse", xInverse), ("inverse_log_det", inverseLogDet)];
    }

    // a skewed, correlated 2-scale distribution, so trained couplings are far from the identity
    private static T[] Data(FlowRandom rng, int rows, int d)
    {
        var x = new T[rows * d];
        for (int r = 0; r < rows; r++)
        {
            double previous = 0;
            for (int i = 0; i < d; i++)
            {
                double g = rng.NextGaussian();
                double v = 0.8 * g + 0.6 * Math.Sin(2 * previous) + 0.3 * previous * previous - 0.3;
                x[r * d + i] = T.CreateTruncating(1.3 * v);
                previous = v;
            }
        }
        return x;
    }

    private static T[] Gaussian(FlowRandom rng, int count, double scale)
    {
        var x = new T[count];
        for (int i = 0; i < count; i++) x[i] = T.CreateTruncating(scale * rng.NextGaussian());
        return x;
    }

    private static void Write(Utf8JsonWriter w, string key, T[] values)
    {
        w.WriteStartArray(key);
        foreach (T v in values)
        {
            double d = double.CreateTruncating(v);
            if (double.IsFinite(d)) w.WriteNumberValue(d); else w.WriteNullValue();
        }
        w.WriteEndArray();
    }

    private static T[] Read(JsonElement root, string key) =>
        root.GetProperty(key).EnumerateArray().Select(e => e.ValueKind == JsonValueKind.Null ? T.NaN : T.CreateTruncating(e.GetDouble())).ToArray();
}

internal static class Stacks
{
    public static readonly Stack[] All =
    [
        new Stack<float>("AffineFloat", () => new AffineFloat(seed: 1)),
        new Stack<double>("AdditiveDouble", () => new AdditiveDouble(seed: 2)),
        new Stack<float>("GlowFloat", () => new GlowFloat(seed: 3)),
        new Stack<double>("SplineDouble", () => new SplineDouble(seed: 4)),
        new Stack<float>("SplineFloat", () => new SplineFloat(seed: 5)),
        new Stack<float>("SosDsfFloat", () => new SosDsfFloat(seed: 6)),
        new Stack<double>("MixedDouble", () => new MixedDouble(seed: 7)),
    ];
}
