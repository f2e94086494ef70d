using System;
using System.Linq;
using System.Numerics;
using FlowGen.Tests.Golden;
using FlowGen.Tests.Models;
using Xunit;

namespace FlowGen.Tests;

/// <summary>
/// The conventions every member follows (ICouplingFlow&lt;T&gt;'s remarks, README "API conventions"): the first span fixes
/// the row count and a wrong length names its span; contexts have n rows or one shared row; every output is overwritten;
/// single-sample members return the log-determinant of their map; one generic method works with every model.
/// </summary>
public sealed class ApiConventionTests
{
    private static T[] Gaussian<T>(ulong seed, int count) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var d = new double[count];
        new FlowRandom(seed).FillGaussian(d);
        return d.Select(T.CreateChecked).ToArray();
    }

    private static void Perturb<T>(ICouplingFlow<T> flow, double scale = 0.2) where T : unmanaged, IFloatingPointIeee754<T>
    {
        T[] noise = Gaussian<T>(99, flow.ParameterCount);
        Span<T> p = flow.Parameters;
        for (int i = 0; i < p.Length; i++) p[i] += T.CreateChecked(scale) * noise[i];
    }

    private static ulong Bits<T>(T v) where T : unmanaged => typeof(T) == typeof(float) ? BitConverter.SingleToUInt32Bits((float)(object)v) : BitConverter.DoubleToUInt64Bits((double)(object)v);

    private static void AssertBitEqual<T>(ReadOnlySpan<T> expected, ReadOnlySpan<T> actual, string what) where T : unmanaged
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++) Assert.True(Bits(expected[i]) == Bits(actual[i]), $"{what}[{i}]: {expected[i]} vs {actual[i]}");
    }

    /// <summary>Generic code over ICouplingFlowModel: create, map, invert, for any model.</summary>
    private static (T[] Zs, T[] Back) RoundTrip<TFlow, T>(int n) where TFlow : ICouplingFlowModel<TFlow, T> where T : unmanaged, IFloatingPointIeee754<T>
    {
        TFlow flow = TFlow.Create(5);
        Perturb(flow, 0.05); // well conditioned: the round trip is checked in float
        T[] xs = Gaussian<T>(1, n * flow.Dim), cs = Gaussian<T>(2, n * flow.ContextDim);
        var zs = new T[xs.Length];
        var back = new T[xs.Length];
        flow.Forward(xs, cs, zs, default);
        Assert.Equal(0, flow.Inverse(zs, cs, back, default));
        for (int i = 0; i < xs.Length; i++) Assert.True(T.Abs(back[i] - xs[i]) <= T.CreateChecked(1e-3) * (T.One + T.Abs(xs[i])), $"{typeof(TFlow).Name}: round trip [{i}]");
        return (zs, back);
    }

    [Fact]
    public void OneGenericMethodWorksWithEveryModelThroughTheModelInterface()
    {
        RoundTrip<R8, float>(37);
        RoundTrip<Conditional2D, float>(20);
        RoundTrip<GCondD, double>(11);
        RoundTrip<GActNorm, float>(9);
        // Create(seed) is the seed constructor
        Assert.True(CreateVia<R8, float>(5).Parameters.SequenceEqual(new R8(5).Parameters));
    }

    private static TFlow CreateVia<TFlow, T>(ulong seed) where TFlow : ICouplingFlowModel<TFlow, T> where T : unmanaged => TFlow.Create(seed);

    [Fact]
    public void SingleSampleInverseReturnsTheLogDeterminantOfTheBatchInverse()
    {
        var flow = new GCondD(3);
        Perturb<double>(flow);
        const int n = 13;
        double[] zs = Gaussian<double>(7, n * GCondD.Dim), cs = Gaussian<double>(8, n * GCondD.ContextDim);
        var xs = new double[zs.Length];
        var logDets = new double[n];
        flow.Inverse(zs, cs, xs, logDets);
        for (int i = 0; i < n; i++)
        {
            var x = new double[GCondD.Dim];
            double ld = flow.Inverse(zs.AsSpan(i * GCondD.Dim, GCondD.Dim), cs.AsSpan(i * GCondD.ContextDim, GCondD.ContextDim), x);
            Assert.Equal(Bits(logDets[i]), Bits(ld));
            AssertBitEqual<double>(xs.AsSpan(i * GCondD.Dim, GCondD.Dim), x, $"row {i}");
            // and it is minus the forward log-determinant at the image
            var z = new double[GCondD.Dim];
            double forward = flow.Forward(x, cs.AsSpan(i * GCondD.ContextDim, GCondD.ContextDim), z);
            Assert.True(Math.Abs(ld + forward) <= 1e-10 * (1 + Math.Abs(ld)), $"row {i}: inverse {ld}, forward {forward}");
        }
    }

    [Fact]
    public void TheFirstSpanFixesTheRowCountAndAWrongLengthNamesItsSpan()
    {
        var flow = new Tiny2D(1);
        float[] xs = Gaussian<float>(1, 10 * Tiny2D.Dim);
        ArgumentException Throws(Action a) => Assert.ThrowsAny<ArgumentException>(a);

        Assert.Equal("xs", Throws(() => flow.LogProb(xs.AsSpan(0, 7), new float[3])).ParamName);
        Assert.Equal("logProbs", Throws(() => flow.LogProb(xs, new float[9])).ParamName);
        Assert.Contains("n = 10", Throws(() => flow.LogProb(xs, new float[9])).Message, StringComparison.Ordinal);
        Assert.Equal("zs", Throws(() => flow.Forward(xs, new float[18], new float[10])).ParamName);
        Assert.Equal("logDets", Throws(() => flow.Forward(xs, new float[20], new float[9])).ParamName);
        Assert.Equal("xs", Throws(() => flow.Inverse(xs, new float[18], default)).ParamName);
        Assert.Equal("logProbs", Throws(() => flow.Sample(new float[20], new float[11], new FlowRandom(1))).ParamName);
        Assert.Equal("gradParameters", Throws(() => flow.NllGradient(xs, new float[3], 0.1f)).ParamName);
        Assert.Equal("gradXs", Throws(() => flow.ForwardVjp(xs, default, default, new float[Tiny2D.ParameterCount], new float[4])).ParamName);
        Assert.Equal("gradLogDets", Throws(() => flow.InverseVjp(xs, default, new float[3], default, default)).ParamName);
        Assert.Equal("z", Throws(() => flow.Forward(xs.AsSpan(0, 2), new float[3])).ParamName);
        Assert.Equal("z", Throws(() => flow.Inverse(xs, new float[20])).ParamName); // a batch given to the single-sample member
        // through the interface, an unconditional flow takes an empty context
        Assert.Equal("contexts", Throws(() => ((ICouplingFlow<float>)flow).LogProb(xs, new float[10], new float[10])).ParamName);

        var conditional = new Conditional2D(1);
        Assert.Equal("contexts", Throws(() => conditional.LogProb(xs, new float[3], new float[10])).ParamName);
        Assert.Equal("context", Throws(() => conditional.LogProb(xs.AsSpan(0, 2), new float[2])).ParamName);
    }

    [Fact]
    public void OneSharedContextRowActsAsThatContextRepeatedForEveryRow()
    {
        var flow = new GCond(4);
        Perturb<float>(flow);
        const int n = 37; // tiles and a single-sample remainder
        int d = GCond.Dim, c = GCond.ContextDim;
        float[] xs = Gaussian<float>(3, n * d), context = Gaussian<float>(4, c);
        float[] repeated = Enumerable.Range(0, n).SelectMany(_ => context).ToArray();

        var shared = new float[n];
        var each = new float[n];
        flow.LogProb(xs, context, shared);
        flow.LogProb(xs, repeated, each);
        AssertBitEqual<float>(each, shared, "LogProb");

        var zShared = new float[n * d];
        var zEach = new float[n * d];
        var ldShared = new float[n];
        var ldEach = new float[n];
        flow.Forward(xs, context, zShared, ldShared);
        flow.Forward(xs, repeated, zEach, ldEach);
        AssertBitEqual<float>(zEach, zShared, "Forward z");
        AssertBitEqual<float>(ldEach, ldShared, "Forward log-det");

        // sampling n points for one context
        var sShared = new float[n * d];
        var sEach = new float[n * d];
        var lpShared = new float[n];
        var lpEach = new float[n];
        flow.Sample(sShared, context, lpShared, new FlowRandom(9));
        flow.Sample(sEach, repeated, lpEach, new FlowRandom(9));
        AssertBitEqual<float>(sEach, sShared, "Sample");
        AssertBitEqual<float>(lpEach, lpShared, "Sample log p");

        var gShared = new float[GCond.ParameterCount];
        var gEach = new float[GCond.ParameterCount];
        Assert.Equal(flow.NllGradient(xs, repeated, gEach, 1f / n), flow.NllGradient(xs, context, gShared, 1f / n));
        AssertBitEqual<float>(gEach, gShared, "NllGradient");

        // the context gradient stays per row
        float[] gz = Gaussian<float>(5, n * d);
        var gcShared = new float[n * c];
        var gcEach = new float[n * c];
        flow.ForwardVjp(xs, context, gz, default, default, default, gcShared);
        flow.ForwardVjp(xs, repeated, gz, default, default, default, gcEach);
        AssertBitEqual<float>(gcEach, gcShared, "ForwardVjp gradContexts");
    }

    [Fact]
    public void EveryOutputIsOverwrittenIncludingParameterGradients()
    {
        var flow = new GCondD(6);
        Perturb<double>(flow);
        const int n = 21;
        int d = GCondD.Dim, c = GCondD.ContextDim, p = GCondD.ParameterCount;
        double[] xs = Gaussian<double>(3, n * d), cs = Gaussian<double>(4, n * c), gz = Gaussian<double>(5, n * d), gl = Gaussian<double>(6, n);
        double[] Garbage(int count) => Enumerable.Repeat(1e300, count).ToArray();

        var clean = new double[p];
        var dirty = Garbage(p);
        flow.NllGradient(xs, cs, clean, 1.0 / n);
        flow.NllGradient(xs, cs, dirty, 1.0 / n);
        AssertBitEqual<double>(clean, dirty, "NllGradient");

        double[] gpClean = new double[p], gxClean = new double[n * d], gcClean = new double[n * c];
        double[] gpDirty = Garbage(p), gxDirty = Garbage(n * d), gcDirty = Garbage(n * c);
        flow.ForwardVjp(xs, cs, gz, gl, gpClean, gxClean, gcClean);
        flow.ForwardVjp(xs, cs, gz, gl, gpDirty, gxDirty, gcDirty);
        AssertBitEqual<double>(gpClean, gpDirty, "ForwardVjp gradParameters");
        AssertBitEqual<double>(gxClean, gxDirty, "ForwardVjp gradXs");
        AssertBitEqual<double>(gcClean, gcDirty, "ForwardVjp gradContexts");

        gpDirty = Garbage(p);
        gxDirty = Garbage(n * d);
        flow.InverseVjp(xs, cs, gz, gl, gpClean, gxClean, default);
        flow.InverseVjp(xs, cs, gz, gl, gpDirty, gxDirty, default);
        AssertBitEqual<double>(gpClean, gpDirty, "InverseVjp gradParameters");
        AssertBitEqual<double>(gxClean, gxDirty, "InverseVjp gradZs");
    }

    [Fact]
    public void DataInitialisationStateHasOneName()
    {
        var actNorm = new GActNorm(1);
        ICouplingFlow<float> f = actNorm;
        Assert.False(actNorm.IsDataInitialized);
        f.InitializeFromData(Gaussian<float>(1, 8 * GActNorm.Dim), default);
        Assert.True(actNorm.IsDataInitialized);
        f.IsDataInitialized = false;
        Assert.False(actNorm.IsDataInitialized);
        // a flow without data-dependent layers is always initialised
        ICouplingFlow<float> plain = new Tiny2D(1);
        Assert.True(plain.IsDataInitialized);
        plain.IsDataInitialized = false;
        Assert.True(plain.IsDataInitialized);
    }
}

/// <summary>Context, the former name of [CouplingFlow]'s ContextDim, still declares a conditional flow.</summary>
public sealed class FormerNamesTests
{
    [Fact]
    public void ContextIsStillReadAsContextDim()
    {
        var assembly = FlowGen.Tests.Infrastructure.GeneratorHarness.CompileAndLoad(
            "using FlowGen;\n#pragma warning disable CS0618\nnamespace N; [CouplingFlow(Dim = 3, Layers = 2, Context = 2)] public partial class F;\n");
        var flow = (ICouplingFlow<float>)Activator.CreateInstance(assembly.GetType("N.F")!, 1UL)!;
        Assert.Equal(2, flow.ContextDim);
    }
}
