using System;
using System.Collections.Generic;
using System.Linq;
using System.Numerics;
using System.Threading;
using System.Threading.Tasks;
using FlowGen.Tests.Models;

namespace FlowGen.Tests;

/// <summary>
/// One model instance shared by 8 threads at once gives the results of serial use, bit for bit: inference (Forward,
/// LogProb, Inverse, Sample) and the gradient calls (NllGradient, ForwardVjp, InverseVjp), whose tile buffers are
/// thread-static, each thread with its own gradient buffer. Parameters are not written during the test (the documented
/// rule: training mutates Parameters and must not overlap other calls on the instance).
/// </summary>
public sealed class ConcurrencyTests
{
    private const int Threads = 8;
    private const int Rounds = 6;

    public static TheoryData<string> Models() => new() { "R8", "Tiny2DDouble", "Conditional2D", "XSos", "XDsfD", "XSpline", "XLinearD", "XConditional" };

    private static object Create(string name) => name switch
    {
        "R8" => Perturbed(new R8(seed: 3)),
        "Tiny2DDouble" => Perturbed(new Tiny2DDouble(seed: 3)),
        "Conditional2D" => Perturbed(new Conditional2D(seed: 3)),
        _ => NumericExtremesTests.Create(name),
    };

    private static object Perturbed(object flow)
    {
        var rng = new FlowRandom(9);
        if (flow is ICouplingFlow<float> f) { Span<float> p = f.Parameters; for (int i = 0; i < p.Length; i++) p[i] += 0.2f * (rng.NextSingle() - 0.5f); }
        if (flow is ICouplingFlow<double> d) { Span<double> p = d.Parameters; for (int i = 0; i < p.Length; i++) p[i] += 0.2 * (rng.NextDouble() - 0.5); }
        return flow;
    }

    [Theory]
    [Trait("Category", "Slow")]
    [MemberData(nameof(Models))]
    public void EightThreadsOnOneInstanceMatchSerialResults(string model)
    {
        object flow = Create(model);
        if (flow is ICouplingFlow<float> f) Run(f);
        else Run((ICouplingFlow<double>)flow);
    }

    /// <summary>Everything one work item computes, as flat arrays of doubles (bitwise comparison).</summary>
    private static double[] Work<T>(ICouplingFlow<T> flow, int item) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int d = flow.Dim, c = flow.ContextDim;
        int n = 17 + item % 5 * 13; // various batch sizes: partial tiles, several tiles
        var rng = new FlowRandom((ulong)(1000 + item));
        T[] Gauss(int len) { var a = new T[len]; for (int i = 0; i < len; i++) a[i] = T.CreateChecked(rng.NextGaussian()); return a; }
        T[] xs = Gauss(n * d), cs = Gauss(n * c), gz = Gauss(n * d), gld = Gauss(n);
        var result = new List<T>();
        var zs = new T[n * d]; var ld = new T[n];
        flow.Forward(xs, cs, zs, ld); result.AddRange(zs); result.AddRange(ld);
        var lp = new T[n];
        flow.LogProb(xs, cs, lp); result.AddRange(lp);
        var back = new T[n * d]; var ild = new T[n];
        int bad = flow.Inverse(zs, cs, back, ild); result.AddRange(back); result.AddRange(ild); result.Add(T.CreateChecked(bad));
        var sample = new T[n * d];
        bad = flow.Sample(sample, cs, default, new FlowRandom((ulong)item)); result.AddRange(sample); result.Add(T.CreateChecked(bad));
        var grad = new T[flow.ParameterCount];
        double nll = flow.NllGradient(xs, cs, grad, T.One); result.AddRange(grad); result.Add(T.CreateChecked(nll));
        var gp = new T[flow.ParameterCount]; var gx = new T[n * d]; var gc = new T[n * c];
        flow.ForwardVjp(xs, cs, gz, gld, gp, gx, gc); result.AddRange(gp); result.AddRange(gx); result.AddRange(gc);
        Array.Clear(gp);
        var gzOut = new T[n * d]; var gc2 = new T[n * c];
        flow.InverseVjp(zs, cs, gz, gld, gp, gzOut, gc2); result.AddRange(gp); result.AddRange(gzOut); result.AddRange(gc2);
        return result.Select(double.CreateChecked).ToArray();
    }

    private static void Run<T>(ICouplingFlow<T> flow) where T : unmanaged, IFloatingPointIeee754<T>
    {
        T[] parametersBefore = flow.Parameters.ToArray();
        const int items = Threads * 2;
        double[][] serial = Enumerable.Range(0, items).Select(i => Work(flow, i)).ToArray();
        var mismatches = new List<string>();
        using var start = new Barrier(Threads);
        var threads = Enumerable.Range(0, Threads).Select(t => new Thread(() =>
        {
            start.SignalAndWait();
            for (int round = 0; round < Rounds; round++)
            {
                // threads t and t + 8 share items in alternate rounds, so the same inputs also run concurrently
                int item = (t + round * 3) % items;
                double[] got = Work(flow, item);
                if (!got.AsSpan().SequenceEqual(serial[item]))
                {
                    lock (mismatches) mismatches.Add($"thread {t}, round {round}, item {item}: differs from the serial result");
                }
            }
        })).ToList();
        threads.ForEach(th => th.Start());
        threads.ForEach(th => th.Join());
        Assert.Empty(mismatches);
        Assert.True(parametersBefore.AsSpan().SequenceEqual(flow.Parameters), "inference changed the parameters");
    }

    /// <summary>Several trainers' worth of NllGradient on one instance: each thread its own gradient buffer, summed afterwards.</summary>
    [Fact]
    [Trait("Category", "Slow")]
    public void ParallelNllGradientsSumToTheSerialGradient()
    {
        var flow = (R8)Perturbed(new R8(seed: 4));
        var rng = new FlowRandom(2);
        var data = new float[Threads * 64 * R8.Dim];
        rng.FillGaussian(data);
        float[][] serial = Enumerable.Range(0, Threads).Select(t =>
        {
            var g = new float[R8.ParameterCount];
            flow.NllGradient(data.AsSpan(t * 64 * R8.Dim, 64 * R8.Dim), g, 1f / 64);
            return g;
        }).ToArray();
        var parallel = new float[Threads][];
        Parallel.For(0, Threads, new ParallelOptions { MaxDegreeOfParallelism = Threads }, t =>
        {
            var g = new float[R8.ParameterCount];
            for (int k = 0; k < 3; k++) { Array.Clear(g); flow.NllGradient(data.AsSpan(t * 64 * R8.Dim, 64 * R8.Dim), g, 1f / 64); }
            parallel[t] = g;
        });
        for (int t = 0; t < Threads; t++) Assert.True(serial[t].AsSpan().SequenceEqual(parallel[t]), $"thread {t}");
    }
}
