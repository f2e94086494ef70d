using System;
using System.Collections.Generic;
using System.Linq;
using System.Numerics;
using System.Reflection;
using System.Text;
using System.Threading.Tasks;
using FlowGen.Tests.Reference;

namespace FlowGen.Tests.Infrastructure;

/// <summary>
/// The strongly named single-sample API of a generated model, reached through an adapter class compiled next to it
/// (the interface <see cref="ICouplingFlow{T}"/> covers the batch API only). Unconditional models ignore the context.
/// </summary>
public interface IFlowUnderTest<T> where T : unmanaged
{
    ICouplingFlow<T> Flow { get; }

    T Forward(ReadOnlySpan<T> x, ReadOnlySpan<T> context, Span<T> z);

    T LogProb(ReadOnlySpan<T> x, ReadOnlySpan<T> context);

    void Inverse(ReadOnlySpan<T> z, ReadOnlySpan<T> context, Span<T> x);

    T NllGradient(ReadOnlySpan<T> xs, ReadOnlySpan<T> contexts, Span<T> gradient);
}

/// <summary>A generated model with the configuration it was generated from.</summary>
public sealed record ModelUnderTest(FlowConfig Config, object Adapter)
{
    public IFlowUnderTest<float> Float => (IFlowUnderTest<float>)Adapter;

    public IFlowUnderTest<double> Double => (IFlowUnderTest<double>)Adapter;

    public bool IsFloat => Config.IsFloat;
}

/// <summary>Compiles many configurations at once (in groups, in parallel) and instantiates their adapters.</summary>
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
                source.AppendLine(Adapter(config, name));
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
                Type type = assembly.GetType($"Oracle.{prefix}{index}Adapter", throwOnError: true)!;
                results[index] = new ModelUnderTest(config, Activator.CreateInstance(type)!);
            }
        });
        return results;
    }

    private static string Adapter(FlowConfig config, string name)
    {
        string t = config.IsFloat ? "float" : "double";
        bool cond = config.Context > 0;
        string c = cond ? "context, " : "";
        string cs = cond ? "contexts, " : "";
        return $$"""
            public sealed class {{name}}Adapter : FlowGen.Tests.Infrastructure.IFlowUnderTest<{{t}}>
            {
                private readonly {{name}} _flow = new {{name}}(seed: 7);
                public ICouplingFlow<{{t}}> Flow => _flow;
                public {{t}} Forward(ReadOnlySpan<{{t}}> x, ReadOnlySpan<{{t}}> context, Span<{{t}}> z) => _flow.Forward(x, {{c}}z);
                public {{t}} LogProb(ReadOnlySpan<{{t}}> x, ReadOnlySpan<{{t}}> context) => _flow.LogProb(x{{(cond ? ", context" : "")}});
                public void Inverse(ReadOnlySpan<{{t}}> z, ReadOnlySpan<{{t}}> context, Span<{{t}}> x) => _flow.Inverse(z, {{c}}x);
                public {{t}} NllGradient(ReadOnlySpan<{{t}}> xs, ReadOnlySpan<{{t}}> contexts, Span<{{t}}> gradient) => _flow.NllGradient(xs, {{cs}}gradient);
            }
            """;
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
