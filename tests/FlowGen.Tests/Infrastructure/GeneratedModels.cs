using System;
using System.Collections.Generic;
using System.Linq;
using System.Numerics;
using System.Reflection;
using System.Text;
using System.Threading.Tasks;
using FlowGen.Tests.Reference;

namespace FlowGen.Tests.Infrastructure;

/// <summary>A generated model (created with seed 7) with the configuration it was generated from.</summary>
public sealed record ModelUnderTest(FlowConfig Config, object Flow)
{
    public ICouplingFlow<float> Float => (ICouplingFlow<float>)Flow;

    public ICouplingFlow<double> Double => (ICouplingFlow<double>)Flow;

    public bool IsFloat => Config.IsFloat;
}

/// <summary>Test conveniences over <see cref="ICouplingFlow{T}"/>.</summary>
public static class FlowTestExtensions
{
    /// <summary>The mean NLL of the rows of xs, with the gradient of the mean written to gradient (NllGradient with weight 1/n).</summary>
    public static double MeanNllGradient<T>(this ICouplingFlow<T> flow, ReadOnlySpan<T> xs, ReadOnlySpan<T> contexts, Span<T> gradient)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int n = xs.Length / flow.Dim;
        return flow.NllGradient(xs, contexts, gradient, T.One / T.CreateChecked(n)) / n;
    }
}

/// <summary>Compiles many configurations at once (in groups, in parallel) and instantiates them.</summary>
public static class GeneratedModels
{
    private const int GroupSize = 40;

    public static IReadOnlyList<ModelUnderTest> Build(IReadOnlyList<FlowConfig> configs, string prefix = "Flow")
    {
        var groups = configs.Select((c, i) => (c, i)).GroupBy(t => t.i / GroupSize).Select(g => g.ToList()).ToList();
        var results = new ModelUnderTest[configs.Count];
        Parallel.ForEach(groups, new ParallelOptions { MaxDegreeOfParallelism = Environment.ProcessorCount }, group =>
        {
            var source = new StringBuilder("using System;\nusing FlowGen;\nnamespace Oracle;\n");
            foreach (var (config, index) in group)
            {
                string name = $"{prefix}{index}";
                source.AppendLine(config.ToAttributeSource(name));
            }
            Assembly assembly;
            try
            {
                assembly = GeneratorHarness.CompileAndLoad(source.ToString());
            }
            catch (Exception ex)
            {
                throw new InvalidOperationException("Compiling the configurations " + string.Join("; ", group.Select(g => g.c.Describe())) + " failed: " + ex.Message, ex);
            }
            foreach (var (config, index) in group)
            {
                Type type = assembly.GetType($"Oracle.{prefix}{index}", throwOnError: true)!;
                results[index] = new ModelUnderTest(config, Activator.CreateInstance(type, 7UL)!);
            }
        });
        return results;
    }

    // ------------------------------------------------------------------ conversions

    public static T[] To<T>(double[] values) where T : unmanaged, INumberBase<T> => values.Select(T.CreateTruncating).ToArray();

    public static double[] ToDouble<T>(ReadOnlySpan<T> values) where T : unmanaged, INumberBase<T>
    {
        var r = new double[values.Length];
        for (int i = 0; i < r.Length; i++) r[i] = double.CreateTruncating(values[i]);
        return r;
    }

    /// <summary>
    /// A seed derived from the configuration's description without its origin (so that a config gets the same seed however it
    /// was drawn, e.g. again by CsCheck while shrinking), stable across processes (unlike GetHashCode).
    /// </summary>
    public static int StableSeed(FlowConfig config)
    {
        uint hash = 2166136261;
        foreach (char ch in (config with { Origin = null }).Describe()) hash = (hash ^ ch) * 16777619;
        return (int)(hash & 0x7FFFFFFF);
    }

    /// <summary>Gaussian inputs, row-major [n, dim], scaled.</summary>
    public static double[] Gaussians(Random rng, int count, double scale)
    {
        var r = new double[count];
        for (int i = 0; i < count; i++)
        {
            double u1 = 1 - rng.NextDouble(), u2 = rng.NextDouble();
            r[i] = scale * Math.Sqrt(-2 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2);
        }
        return r;
    }
}
