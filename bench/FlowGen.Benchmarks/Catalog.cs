using System;
using System.Collections.Generic;
using System.Numerics;

namespace FlowGen.Benchmarks;

/// <summary>What the report needs to know about a benchmarked model.</summary>
/// <param name="Name">R8, R2 or L64.</param>
/// <param name="Precision">float or double.</param>
/// <param name="Dim">Coordinates per sample.</param>
/// <param name="Parameters">Parameter count.</param>
/// <param name="DenseMacs">Dense multiply-adds per sample (= weight elements).</param>
public sealed record ModelInfo(string Name, string Precision, int Dim, int Parameters, long DenseMacs)
{
    /// <summary>FLOP per sample for log-density, forward, inverse, sampling (2 per multiply-add).</summary>
    public long Flop => 2 * DenseMacs;

    /// <summary>FLOP per sample of a training step (3 × forward).</summary>
    public long TrainFlop => 3 * Flop;

    /// <summary>FLOP per sample of operation <paramref name="op"/> (a training step, alone or in a FlowTrainer run, is <see cref="TrainFlop"/>).</summary>
    public long FlopFor(string op) => op is "TrainStep" or "TrainRun" ? TrainFlop : Flop;
}

/// <summary>The benchmarked models.</summary>
public static class Catalog
{
    /// <summary>Every model in both precisions.</summary>
    public static readonly IReadOnlyList<ModelInfo> All =
    [
        Make<R8Float, float>("float"), Make<R8Double, double>("double"),
        Make<R2Float, float>("float"), Make<R2Double, double>("double"),
        Make<L64Float, float>("float"), Make<L64Double, double>("double"),
        Make<S8Float, float>("float"), Make<Q8Float, float>("float"), Make<D8Float, float>("float"), Make<G8Float, float>("float"),
    ];

    private static ModelInfo Make<TFlow, T>(string precision) where TFlow : class, ICouplingFlowModel<TFlow, T> where T : unmanaged, IFloatingPointIeee754<T>
    {
        TFlow flow = TFlow.Create(0);
        return new(BenchSetup.ShortName<TFlow>(), precision, flow.Dim, flow.ParameterCount, BenchSetup.DenseMacsPerSample(flow.ParameterTensors));
    }

    /// <summary>The model of a benchmark class name (R8_float, Naive_R2_float, Trainer_R8_float, …), or null.</summary>
    public static ModelInfo? ForBenchmarkType(string typeName)
    {
        string n = typeName;
        foreach (string prefix in (string[])["Naive_", "Trainer_"])
            if (n.StartsWith(prefix, StringComparison.Ordinal)) n = n[prefix.Length..];
        foreach (var m in All) if (n == $"{m.Name}_{m.Precision}") return m;
        return null;
    }

    /// <summary>The model by name and precision, or null.</summary>
    public static ModelInfo? Find(string name, string precision)
    {
        foreach (var m in All) if (m.Name == name && m.Precision == precision) return m;
        return null;
    }
}
