using System;
using System.Collections.Generic;
using System.CommandLine;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Numerics;
using System.Text.Json;
using FlowGen;
using FlowGen.InteropCheck;

// export <dir>: for every stack, train a few steps in FlowGen, write <name>.safetensors (weights) and <name>.json (the
//               architecture: StackSpec, StackHash, StackDescription and ParameterTensors; training data, evaluation inputs;
//               FlowGen's latents, log-dets, log-densities, inverses and inverse log-dets, and for a float stack also those of
//               its double twin holding the same parameters).
// verify <dir>: for every stack, load <name>.torch.safetensors (trained in PyTorch by check.py; FlowSafetensors.Load checks
//               its flowgen.spec against the model's StackSpec, its flowgen.stack_hash is checked here) and compare FlowGen's
//               outputs (and its double twin's) with the reference of <name>.torch.json element by element:
//               |FlowGen − reference| ≤ tolerance, where check.py computed the reference (PyTorch in double on the same
//               parameters and inputs) and each element's tolerance from its conditioning (interop/python/rounding.py).
//               Exit code 1 otherwise.
var root = new RootCommand("The C# half of the PyTorch interop check (interop/python/check.py).")
{
    Subcommand("export", "for every stack, train a few steps in FlowGen and write its weights, architecture, inputs and FlowGen's outputs", export: true),
    Subcommand("verify", "for every stack, load the weights trained in PyTorch and compare FlowGen's outputs with PyTorch's reference (exit code 1 on a mismatch)", export: false),
};
return root.Parse(args).Invoke();

static Command Subcommand(string name, string description, bool export)
{
    var directory = new Argument<string>("directory") { Description = "the folder check.py shares with this tool (created if missing)" };
    var command = new Command(name, description) { directory };
    command.SetAction(parseResult =>
    {
        string dir = parseResult.GetValue(directory)!;
        Directory.CreateDirectory(dir);
        bool ok = true;
        foreach (Stack s in Stacks.All)
        {
            ok &= export ? s.Export(dir) : s.Verify(dir);
        }
        return ok ? 0 : 1;
    });
    return command;
}

internal abstract class Stack
{
    public abstract string Name { get; }
    public abstract bool Export(string dir);
    public abstract bool Verify(string dir);
}

internal sealed class Stack<T>(string name, Func<ICouplingFlow<T>> create, Func<ICouplingFlow<double>>? twin = null) : Stack
    where T : unmanaged, IFloatingPointIeee754<T>
{
    public override string Name => name;
    private const int TrainRows = 512, EvalRows = 64;
    private static string Precision => typeof(T) == typeof(float) ? "float" : "double";

    public override bool Export(string dir)
    {
        ICouplingFlow<T> flow = create();
        int d = flow.Dim, c = flow.ContextDim;
        var rng = new FlowRandom(2024);
        T[] train = Data(rng, TrainRows, d), trainContext = Gaussian(rng, TrainRows * c, 1.0);
        var options = new TrainingOptions { Steps = 30, BatchSize = 128, LearningRate = 5e-3, ValidationFraction = 0, Threads = 1, Seed = 3, EvaluateEvery = 1000 };
        FlowTrainer.Train(flow, train, trainContext, options);
        FlowSafetensors.Save(flow, Path.Combine(dir, name + ".safetensors"));

        T[] x = Data(rng, EvalRows, d), context = Gaussian(rng, EvalRows * c, 1.0), zSamples = Gaussian(rng, EvalRows * d, 1.0);
        using var stream = File.Create(Path.Combine(dir, name + ".json"));
        using var w = new Utf8JsonWriter(stream);
        w.WriteStartObject();
        w.WriteString("name", name);
        w.WriteString("spec", flow.StackSpec);
        w.WriteString("stack_hash", flow.StackHash.ToString("X16", CultureInfo.InvariantCulture));
        w.WriteString("stack", flow.StackDescription);
        w.WriteNumber("parameter_count", flow.ParameterCount);
        w.WriteStartArray("tensors");
        foreach (ParameterTensor t in flow.ParameterTensors)
        {
            w.WriteStartObject();
            w.WriteString("name", t.Name);
            w.WriteNumber("offset", t.Offset);
            w.WriteStartArray("shape");
            foreach (int s in t.Shape) w.WriteNumberValue(s);
            w.WriteEndArray();
            w.WriteEndObject();
        }
        w.WriteEndArray();
        Io.Write(w, "train_x", train);
        Io.Write(w, "train_context", trainContext);
        Io.Write(w, "x", x);
        Io.Write(w, "context", context);
        Io.Write(w, "z_samples", zSamples);
        w.WriteStartObject("flowgen");
        foreach (var (key, values) in Io.Evaluate(flow, x, context, zSamples)) Io.Write(w, key, values);
        w.WriteEndObject();
        if (twin is not null)
        {
            w.WriteStartObject("flowgen_double");
            foreach (var (key, values) in Io.Evaluate(Twin(flow), Io.Up(x), Io.Up(context), Io.Up(zSamples))) Io.Write(w, key, values);
            w.WriteEndObject();
        }
        w.WriteEndObject();
        Console.WriteLine($"exported {name}: {flow.ParameterCount} parameters{(twin is null ? "" : ", and its double twin")}");
        return true;
    }

    public override bool Verify(string dir)
    {
        ICouplingFlow<T> flow = create();
        string path = Path.Combine(dir, name + ".torch.safetensors");
        try
        {
            FlowSafetensors.Load(flow, path);   // refuses a flowgen.spec other than flow.StackSpec
        }
        catch (FlowFormatException e)
        {
            Console.WriteLine($"  {name}: FlowSafetensors.Load refused the PyTorch file: {e.Message}");
            return false;
        }
        IReadOnlyDictionary<string, string> metadata = FlowSafetensors.ReadMetadata(path);
        bool ok = true;
        string hash = flow.StackHash.ToString("X16", CultureInfo.InvariantCulture);
        if (!metadata.TryGetValue(FlowSafetensors.SpecMetadataKey, out string? spec) || spec != flow.StackSpec)
        {
            Console.WriteLine($"  {name}: the PyTorch file carries no flowgen.spec equal to the model's StackSpec");
            ok = false;
        }
        if (!metadata.TryGetValue(FlowSafetensors.StackHashMetadataKey, out string? fileHash) || fileHash != hash)
        {
            Console.WriteLine($"  {name}: flowgen.stack_hash is {fileHash ?? "missing"}, the model's StackHash is {hash}");
            ok = false;
        }
        using JsonDocument doc = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(dir, name + ".torch.json")));
        JsonElement root = doc.RootElement;
        T[] x = Io.Read<T>(root, "x"), context = Io.Read<T>(root, "context"), zSamples = Io.Read<T>(root, "z_samples");
        ok &= Compare(Precision, Io.Evaluate(flow, x, context, zSamples), root, "tolerance");
        if (twin is not null)
            ok &= Compare("double twin", Io.Evaluate(Twin(flow), Io.Up(x), Io.Up(context), Io.Up(zSamples)), root, "tolerance_double");
        return ok;
    }

    /// <summary>
    /// Compares outputs with check.py's reference (PyTorch in double on the same parameters and inputs) element by element:
    /// |FlowGen − reference| ≤ tolerance, the tolerance derived by check.py from each element's conditioning
    /// (interop/python/rounding.py). Prints per output the largest ratio |FlowGen − reference| / tolerance (≤ 1 passes).
    /// </summary>
    private bool Compare<U>(string label, List<(string, U[])> outputs, JsonElement root, string toleranceKey) where U : unmanaged, IFloatingPointIeee754<U>
    {
        bool ok = true;
        var parts = new List<string>();
        foreach (var (key, values) in outputs)
        {
            double[] reference = Io.Read<double>(root.GetProperty("reference"), key), tolerance = Io.Read<double>(root.GetProperty(toleranceKey), key);
            if (reference.Length != values.Length || tolerance.Length != values.Length)
                throw new InvalidDataException($"{name}.torch.json: {key} has {reference.Length} reference values and {tolerance.Length} tolerances for {values.Length} outputs");
            double worst = 0;
            for (int i = 0; i < values.Length; i++)
            {
                double ratio = Ratio(double.CreateTruncating(values[i]), reference[i], tolerance[i]);
                if (!(ratio <= worst)) worst = double.IsNaN(ratio) ? double.PositiveInfinity : ratio;
            }
            ok &= worst <= 1;
            parts.Add($"{key} {worst:0.000}");
        }
        Console.WriteLine($"  {name + " (" + label + ")",-36} {string.Join(", ", parts)}  {(ok ? "ok" : "FAILED")}");
        return ok;
    }

    /// <summary>|a − r| / tolerance; 0 when both are the same non-finite value, +∞ when only one is finite.</summary>
    private static double Ratio(double a, double r, double tolerance)
    {
        if (!double.IsFinite(a) || !double.IsFinite(r)) return a.Equals(r) ? 0 : double.PositiveInfinity;
        double d = Math.Abs(a - r);
        return d == 0 ? 0 : d / tolerance;
    }

    /// <summary>The double twin holding <paramref name="flow"/>'s parameters (exactly: every float is a double).</summary>
    private ICouplingFlow<double> Twin(ICouplingFlow<T> flow)
    {
        ICouplingFlow<double> t = twin!();
        string expected = flow.StackSpec.Replace("\"dtype\":\"float32\"", "\"dtype\":\"float64\"", StringComparison.Ordinal);
        if (t.StackSpec != expected)
            throw new InvalidOperationException($"{name}'s double twin is not its architecture in double:\n{t.StackSpec}\n{expected}");
        ReadOnlySpan<T> source = flow.Parameters;
        Span<double> target = t.Parameters;
        for (int i = 0; i < source.Length; i++) target[i] = double.CreateTruncating(source[i]);
        t.IsDataInitialized = true;
        return t;
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
}

internal static class Io
{
    public static List<(string, T[])> Evaluate<T>(ICouplingFlow<T> flow, T[] x, T[] context, T[] zSamples) where T : unmanaged
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

    public static double[] Up<T>(T[] values) where T : unmanaged, INumberBase<T> => values.Select(double.CreateTruncating).ToArray();

    public static void Write<T>(Utf8JsonWriter w, string key, T[] values) where T : unmanaged, INumberBase<T>
    {
        w.WriteStartArray(key);
        foreach (T v in values)
        {
            double d = double.CreateTruncating(v);
            if (double.IsFinite(d)) w.WriteNumberValue(d); else w.WriteNullValue();
        }
        w.WriteEndArray();
    }

    public static T[] Read<T>(JsonElement root, string key) where T : unmanaged, IFloatingPointIeee754<T> =>
        root.GetProperty(key).EnumerateArray().Select(e => e.ValueKind == JsonValueKind.Null ? T.NaN : T.CreateTruncating(e.GetDouble())).ToArray();
}

internal static class Stacks
{
    public static readonly Stack[] All =
    [
        new Stack<float>("AffineFloat", () => new AffineFloat(seed: 1), () => new AffineFloatTwin()),
        new Stack<double>("AdditiveDouble", () => new AdditiveDouble(seed: 2)),
        new Stack<float>("GlowFloat", () => new GlowFloat(seed: 3), () => new GlowFloatTwin()),
        new Stack<double>("SplineDouble", () => new SplineDouble(seed: 4)),
        new Stack<float>("SplineFloat", () => new SplineFloat(seed: 5), () => new SplineFloatTwin()),
        new Stack<float>("SosDsfFloat", () => new SosDsfFloat(seed: 6), () => new SosDsfFloatTwin()),
        new Stack<double>("MixedDouble", () => new MixedDouble(seed: 7)),
        new Stack<float>("FlowGmmFloat", () => new FlowGmmFloat(seed: 8), () => new FlowGmmFloatTwin()),
        new Stack<double>("MixtureDouble", () => new MixtureDouble(seed: 9)),
        new Stack<double>("DiagonalGaussianDouble", () => new DiagonalGaussianDouble(seed: 10)),
    ];
}
