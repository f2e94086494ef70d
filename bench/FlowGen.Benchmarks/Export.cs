using System;
using System.Collections.Generic;
using System.IO;
using System.Runtime.InteropServices;
using System.Text.Json;

namespace FlowGen.Benchmarks;

/// <summary>
/// The bench-private weight interchange for the peers (bench/peers/*), one folder per model:
/// <list type="bullet">
/// <item><c>manifest.json</c>: architecture, FLOP counts, benchmark settings and the tensors (name, offset, PyTorch shape,
/// transposed, storage shape) in <c>ParameterTensors</c> order;</item>
/// <item><c>weights.bin</c>: the parameter vector as raw little-endian float32, exactly FlowGen's layout (docs/model.md §5):
/// a tensor with transposed = true is stored input-major, i.e. as its storage shape [in, out] = the transpose of Linear.weight;</item>
/// <item>check data (float32, row-major): <c>check_x.bin</c> [n, dim] inputs and <c>check_logp.bin</c> [n] FlowGen's log p;
/// <c>check_z.bin</c> [n, dim] latents and <c>check_xinv.bin</c> [n, dim] FlowGen's inverse of them; <c>check_grad.bin</c>
/// [parameters] FlowGen's gradient of the mean NLL over the first <c>grad_rows</c> rows of check_x, in the weights.bin layout.</item>
/// </list>
/// Not the project's interchange format (a proper safetensors one comes separately); private to bench/.
/// </summary>
public static class Export
{
    /// <summary>Rows of the check data.</summary>
    public const int CheckRows = 1024;

    /// <summary>Rows of the gradient check.</summary>
    public const int GradRows = 256;

    /// <summary>Exports R8 and R2 (float) into <paramref name="dir"/>/R8 and <paramref name="dir"/>/R2.</summary>
    public static void Run(string dir)
    {
        Write<R8Float>(Path.Combine(dir, "R8"), layers: 12, hidden: [64, 64]);
        Write<R2Float>(Path.Combine(dir, "R2"), layers: 8, hidden: [64, 64]);
        // every layer kind (issue 17): safetensors with the StackSpec, for the peer built from interop/python/flowgen_torch.py
        WriteKind<S8Float>(Path.Combine(dir, "S8"));
        WriteKind<Q8Float>(Path.Combine(dir, "Q8"));
        WriteKind<D8Float>(Path.Combine(dir, "D8"));
        WriteKind<G8Float>(Path.Combine(dir, "G8"));
        WriteTrainer(Path.Combine(dir, "R8"), 8);
    }

    /// <summary>
    /// The FlowTrainer benchmark's data set and settings (<see cref="TrainerBench{TFlow}"/>) for the PyTorch training loop:
    /// train_x.bin [rows, dim] and trainer.json (rows, steps, batches, thread counts, learning rate, Adam constants, and
    /// FlowTrainer's mean training loss over the run at each batch size, which the peer's loop must reproduce within
    /// sampling noise before it is timed).
    /// </summary>
    private static void WriteTrainer(string dir, int dim)
    {
        float[] data = TrainerBench<R8Float>.Data(dim);
        WriteFloats(Path.Combine(dir, "train_x.bin"), data);
        int[] batches = [256, 4096];
        var meanLoss = new Dictionary<string, double>();
        foreach (int batch in batches)
        {
            var flow = BenchSetup.CreateModel<R8Float, float>();
            var result = FlowTrainer.Train<float>(flow, data, TrainerBench<R8Float>.Options(batch, 1));
            meanLoss[batch.ToString(System.Globalization.CultureInfo.InvariantCulture)] = result.FinalTrainLoss; // EvaluateEvery = Steps: the mean over the run
        }
        var o = TrainerBench<R8Float>.Options(256, 1);
        var settings = new
        {
            data = "train_x.bin",
            rows = TrainerBench<R8Float>.Rows,
            dim,
            steps = TrainerBench<R8Float>.Steps,
            batches,
            threads = new[] { 1, 2 },
            learning_rate = o.LearningRate,
            schedule = o.Schedule.ToString().ToLowerInvariant(),
            adam = new { beta1 = o.Beta1, beta2 = o.Beta2, eps = o.Epsilon },
            validation_fraction = o.ValidationFraction,
            flowgen_mean_loss = meanLoss,
        };
        File.WriteAllText(Path.Combine(dir, "trainer.json"), JsonSerializer.Serialize(settings, new JsonSerializerOptions { WriteIndented = true }));
        Console.WriteLine($"exported the FlowTrainer data set: {settings.rows} rows, {settings.steps} steps -> {dir}/train_x.bin, trainer.json");
    }

    /// <summary>
    /// weights.safetensors (FlowSafetensors: flowgen.spec metadata = the StackSpec) and the same check data as <see cref="Write{TFlow}"/>;
    /// check_grad.bin is in the flat parameter layout, the manifest lists each tensor's offset and whether it is stored transposed.
    /// </summary>
    private static void WriteKind<TFlow>(string dir) where TFlow : class, ICouplingFlowModel<TFlow, float>
    {
        Directory.CreateDirectory(dir);
        var flow = BenchSetup.CreateModel<TFlow, float>();
        int d = flow.Dim;
        string name = BenchSetup.ShortName<TFlow>();
        FlowSafetensors.Save(flow, Path.Combine(dir, "weights.safetensors"));
        float nll = WriteCheckData(flow, dir);
        var tensors = new List<object>();
        foreach (var t in flow.ParameterTensors)
            tensors.Add(new { name = t.Name, offset = t.Offset, length = t.Length, shape = t.Shape, transposed = t.Transposed });
        long macs = BenchSetup.DenseMacsPerSample(flow.ParameterTensors);
        var manifest = new
        {
            model = name,
            dtype = "float32",
            dim = d,
            stack_spec = flow.StackSpec,
            parameter_count = flow.ParameterCount,
            dense_macs_per_sample = macs,
            learning_rate = BenchSetup.LearningRate,
            safetensors = "weights.safetensors",
            check = new { rows = CheckRows, grad_rows = GradRows, nll_mean = nll, x = "check_x.bin", logp = "check_logp.bin", z = "check_z.bin", xinv = "check_xinv.bin", grad = "check_grad.bin" },
            tensors,
        };
        File.WriteAllText(Path.Combine(dir, "manifest.json"), JsonSerializer.Serialize(manifest, new JsonSerializerOptions { WriteIndented = true }));
        Console.WriteLine($"exported {name}: {flow.ParameterCount} parameters, safetensors + StackSpec -> {dir}");
    }

    /// <summary>
    /// The peers' agreement data: CheckRows standard-normal rows and their log p, CheckRows latents and their inverse, and the
    /// NLL gradient over the first GradRows rows, each written to dir as raw little-endian floats; returns the mean NLL.
    /// </summary>
    private static float WriteCheckData(ICouplingFlow<float> flow, string dir)
    {
        int d = flow.Dim;
        float[] x = BenchSetup.Gaussian<float>(CheckRows * d, BenchSetup.DataSeed);
        float[] lp = new float[CheckRows];
        flow.LogProb(x, default, lp);
        float[] z = BenchSetup.Gaussian<float>(CheckRows * d, BenchSetup.DataSeed + 100);
        float[] xi = new float[CheckRows * d];
        flow.Inverse(z, default, xi, default);
        float[] grad = new float[flow.ParameterCount];
        float nll = (float)(flow.NllGradient(x.AsSpan(0, GradRows * d), default, grad, 1f / GradRows) / GradRows);
        WriteFloats(Path.Combine(dir, "check_x.bin"), x);
        WriteFloats(Path.Combine(dir, "check_logp.bin"), lp);
        WriteFloats(Path.Combine(dir, "check_z.bin"), z);
        WriteFloats(Path.Combine(dir, "check_xinv.bin"), xi);
        WriteFloats(Path.Combine(dir, "check_grad.bin"), grad);
        return nll;
    }

    private static void Write<TFlow>(string dir, int layers, int[] hidden) where TFlow : class, ICouplingFlowModel<TFlow, float>
    {
        Directory.CreateDirectory(dir);
        var flow = BenchSetup.CreateModel<TFlow, float>();
        int d = flow.Dim;
        string name = BenchSetup.ShortName<TFlow>();
        WriteFloats(Path.Combine(dir, "weights.bin"), flow.Parameters);

        float nll = WriteCheckData(flow, dir);

        var tensors = new List<object>();
        foreach (var t in flow.ParameterTensors)
        {
            int[] storage = t.Transposed && t.Shape.Count == 2 ? [t.Shape[1], t.Shape[0]] : [.. t.Shape];
            tensors.Add(new { name = t.Name, offset = t.Offset, length = t.Length, shape = t.Shape, transposed = t.Transposed, storage_shape = storage });
        }
        long macs = BenchSetup.DenseMacsPerSample(flow.ParameterTensors);
        var manifest = new
        {
            model = name,
            dtype = "float32",
            dim = d,
            layers,
            hidden,
            coupling = "affine",
            mask = "halves",
            activation = "tanh",
            clamp = 2.0,
            parameter_count = flow.ParameterCount,
            dense_macs_per_sample = macs,
            flop_per_sample = 2 * macs,
            train_flop_per_sample = 6 * macs,
            learning_rate = BenchSetup.LearningRate,
            adam = new { beta1 = 0.9, beta2 = 0.999, eps = 1e-8 },
            weights = "weights.bin",
            check = new { rows = CheckRows, grad_rows = GradRows, nll_mean = nll, x = "check_x.bin", logp = "check_logp.bin", z = "check_z.bin", xinv = "check_xinv.bin", grad = "check_grad.bin" },
            tensors,
        };
        File.WriteAllText(Path.Combine(dir, "manifest.json"), JsonSerializer.Serialize(manifest, new JsonSerializerOptions { WriteIndented = true }));
        Console.WriteLine($"exported {name}: {flow.ParameterCount} parameters, {flow.ParameterTensors.Count} tensors -> {dir}");
    }

    private static void WriteFloats(string path, ReadOnlySpan<float> values)
    {
        if (!BitConverter.IsLittleEndian) throw new PlatformNotSupportedException("big-endian");
        File.WriteAllBytes(path, MemoryMarshal.AsBytes(values).ToArray());
    }
}
