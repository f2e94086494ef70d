using System;
using System.Collections.Generic;
using System.Globalization;
using System.Numerics;
using System.Runtime.InteropServices;

namespace FlowGen.Benchmarks;

/// <summary>Weights, data and FLOP counts shared by the benchmarks, the exporter and the report.</summary>
public static class BenchSetup
{
    /// <summary>Seed of the models (docs/model.md §6 initialisation) before <see cref="Perturb{T}"/>.</summary>
    public const int ModelSeed = 1;

    /// <summary>Seed of the perturbation of the output layers.</summary>
    public const ulong PerturbSeed = 2;

    /// <summary>Seed of the benchmark inputs.</summary>
    public const ulong DataSeed = 3;

    /// <summary>Adam learning rate of the training-step benchmarks (small, so that thousands of steps on one batch stay tame).</summary>
    public const double LearningRate = 1e-4;

    /// <summary>
    /// A freshly initialised flow is the identity (output layers are zero, docs/model.md §6), which would make the log-density
    /// trivial and the cross-system check meaningless. This fills every conditioner's output layer with U(−1/√in, 1/√in)
    /// weights and U(−0.1, 0.1) biases from a fixed seed, so every coupling does real work.
    /// </summary>
    public static void Perturb<T>(Span<T> parameters, IReadOnlyList<ParameterTensor> tensors) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var lastDense = new Dictionary<string, int>();
        foreach (var t in tensors)
        {
            if (!TryParseDense(t.Name, out string layer, out int k)) continue;
            lastDense[layer] = Math.Max(lastDense.TryGetValue(layer, out int m) ? m : -1, k);
        }
        var rng = new FlowRandom(PerturbSeed);
        foreach (var t in tensors)
        {
            // ActNorm (log_scale, bias) and LU (lower, upper, log_diag, bias) layers start at the identity: U(−0.1, 0.1)
            if (!t.Name.Contains(".conditioner.", StringComparison.Ordinal) && t.Name.StartsWith("layers.", StringComparison.Ordinal))
            {
                Span<T> p = parameters.Slice(t.Offset, t.Length);
                for (int i = 0; i < p.Length; i++) p[i] = T.CreateChecked(-0.1 + 0.2 * rng.NextDouble());
                continue;
            }
            if (!TryParseDense(t.Name, out string layer, out int k) || k != lastDense[layer]) continue;
            Span<T> block = parameters.Slice(t.Offset, t.Length);
            if (t.Name.EndsWith(".weight", StringComparison.Ordinal))
            {
                double a = 1.0 / Math.Sqrt(t.Shape[1]); // torch shape [out, in]
                for (int i = 0; i < block.Length; i++) block[i] = T.CreateChecked(-a + 2 * a * rng.NextDouble());
            }
            else
            {
                for (int i = 0; i < block.Length; i++) block[i] = T.CreateChecked(-0.1 + 0.2 * rng.NextDouble());
            }
        }
    }

    private static bool TryParseDense(string name, out string layer, out int k)
    {
        // layers.{l}.conditioner.{k}.weight|bias
        layer = "";
        k = -1;
        string[] parts = name.Split('.');
        if (parts.Length != 5 || parts[0] != "layers" || parts[2] != "conditioner") return false;
        layer = parts[1];
        return int.TryParse(parts[3], NumberStyles.Integer, CultureInfo.InvariantCulture, out k);
    }

    /// <summary>A model of type <typeparamref name="TFlow"/> with the benchmark weights.</summary>
    public static TFlow CreateModel<TFlow, T>() where TFlow : class, ICouplingFlowModel<TFlow, T> where T : unmanaged, IFloatingPointIeee754<T>
    {
        TFlow flow = TFlow.Create(ModelSeed);
        Perturb(flow.Parameters, flow.ParameterTensors);
        return flow;
    }

    /// <summary>The benchmark name of a model class: R8Float → R8.</summary>
    public static string ShortName<TFlow>() => typeof(TFlow).Name.Replace("Float", "", StringComparison.Ordinal).Replace("Double", "", StringComparison.Ordinal);

    /// <summary>Standard-normal values from <see cref="FlowRandom.FillGaussian(Span{float})"/> (or the double overload).</summary>
    public static T[] Gaussian<T>(int count, ulong seed) where T : unmanaged
    {
        var a = new T[count];
        var rng = new FlowRandom(seed);
        if (typeof(T) == typeof(float)) rng.FillGaussian(MemoryMarshal.Cast<T, float>(a.AsSpan()));
        else if (typeof(T) == typeof(double)) rng.FillGaussian(MemoryMarshal.Cast<T, double>(a.AsSpan()));
        else throw new NotSupportedException(typeof(T).Name);
        return a;
    }

    /// <summary>
    /// Multiply-adds per sample in the dense layers of the conditioners = the number of weight elements, since a forward pass
    /// uses every weight once per sample (biases, activations, the affine transformer and the base density are not counted).
    /// </summary>
    public static long DenseMacsPerSample(IReadOnlyList<ParameterTensor> tensors)
    {
        long macs = 0;
        foreach (var t in tensors)
            if (t.Name.EndsWith(".weight", StringComparison.Ordinal) && t.Shape.Count == 2) macs += (long)t.Shape[0] * t.Shape[1];
        return macs;
    }

    /// <summary>FLOP per sample of log-density, forward, inverse and sampling: 2 per dense multiply-add.</summary>
    public static long FlopPerSample(IReadOnlyList<ParameterTensor> tensors) => 2 * DenseMacsPerSample(tensors);

    /// <summary>
    /// FLOP per sample of a training step: 3 × the forward count (forward, ∂/∂input and ∂/∂weights of every dense layer; the
    /// input gradient of the first dense layer is needed too, since the kept coordinates feed later couplings). The Adam update
    /// (≈ 10 FLOP per parameter per step, independent of the batch) is not counted.
    /// </summary>
    public static long TrainFlopPerSample(IReadOnlyList<ParameterTensor> tensors) => 3 * FlopPerSample(tensors);
}
