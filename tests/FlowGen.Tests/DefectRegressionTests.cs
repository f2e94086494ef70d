using System;
using System.Collections.Generic;
using System.Linq;
using System.Numerics;
using FlowGen.Tests.Defects;
using FlowGen.Tests.Reference;
using Xunit.Abstractions;

namespace FlowGen.Tests;

/// <summary>
/// Regression tests of numerical defects (models in DefectModels.cs):
/// <list type="number">
/// <item>Sample(xs, logProbs, rng) returned log N(z) + log|det ∂x/∂z| instead of log N(z) − log|det ∂x/∂z|;</item>
/// <item>the batch Inverse gave NaNs of the opposite sign to the single-sample path on non-finite rows (not bit-identical);</item>
/// </list>
/// </summary>
public sealed class DefectRegressionTests(ITestOutputHelper output)
{
    private delegate int SampleWithLogProbs<T>(ReadOnlySpan<T> contexts, Span<T> xs, Span<T> logProbs, FlowRandom rng);

    private static readonly string[] ModelNames =
    {
        "DAffine", "DAffineD", "DAdditive", "DAdditiveD", "DSos", "DSosD", "DDsf", "DDsfD", "DSpline", "DSplineD",
        "DConditional", "DConditionalD",
    };

    public static TheoryData<string> Models() => new(ModelNames);

    /// <summary>The model with every parameter moved off its identity initialisation, so that every layer has a log-det.</summary>
    private static object Create(string name)
    {
        object flow = name switch
        {
            "DAffine" => new DAffine(1), "DAffineD" => new DAffineD(1), "DAdditive" => new DAdditive(1), "DAdditiveD" => new DAdditiveD(1),
            "DSos" => new DSos(1), "DSosD" => new DSosD(1), "DDsf" => new DDsf(1), "DDsfD" => new DDsfD(1),
            "DSpline" => new DSpline(1), "DSplineD" => new DSplineD(1), "DConditional" => new DConditional(1), "DConditionalD" => new DConditionalD(1),
            _ => throw new ArgumentException(name),
        };
        var rng = new FlowRandom(13);
        if (flow is ICouplingFlow<float> f) { Span<float> p = f.Parameters; for (int i = 0; i < p.Length; i++) p[i] += 0.8f * (rng.NextSingle() - 0.5f); }
        if (flow is ICouplingFlow<double> d) { Span<double> p = d.Parameters; for (int i = 0; i < p.Length; i++) p[i] += 0.8 * (rng.NextDouble() - 0.5); }
        return flow;
    }

    /// <summary>The class's own Sample(xs, logProbs, rng) (or Sample(contexts, xs, logProbs, rng)), which the interface does not have.</summary>
    private static SampleWithLogProbs<float> SamplerF(object flow) => flow switch
    {
        DAffine f => (c, x, l, r) => f.Sample(x, l, r),
        DAdditive f => (c, x, l, r) => f.Sample(x, l, r),
        DSos f => (c, x, l, r) => f.Sample(x, l, r),
        DDsf f => (c, x, l, r) => f.Sample(x, l, r),
        DSpline f => (c, x, l, r) => f.Sample(x, l, r),
        DConditional f => (c, x, l, r) => f.Sample(c, x, l, r),
        _ => throw new ArgumentException(flow.GetType().Name),
    };

    private static SampleWithLogProbs<double> SamplerD(object flow) => flow switch
    {
        DAffineD f => (c, x, l, r) => f.Sample(x, l, r),
        DAdditiveD f => (c, x, l, r) => f.Sample(x, l, r),
        DSosD f => (c, x, l, r) => f.Sample(x, l, r),
        DDsfD f => (c, x, l, r) => f.Sample(x, l, r),
        DSplineD f => (c, x, l, r) => f.Sample(x, l, r),
        DConditionalD f => (c, x, l, r) => f.Sample(c, x, l, r),
        _ => throw new ArgumentException(flow.GetType().Name),
    };

    private static T[] Gaussian<T>(FlowRandom rng, int count, double scale) where T : unmanaged, IFloatingPointIeee754<T>, IMinMaxValue<T>
    {
        var r = new T[count];
        for (int i = 0; i < count; i++) r[i] = T.CreateTruncating(scale * rng.NextGaussian());
        return r;
    }

    private static void FillGaussian<T>(FlowRandom rng, T[] values) where T : unmanaged
    {
        if (values is float[] f) rng.FillGaussian(f);
        else rng.FillGaussian((double[])(object)values);
    }

    private static ulong Bits<T>(T v) where T : unmanaged =>
        typeof(T) == typeof(float) ? BitConverter.SingleToUInt32Bits((float)(object)v) : BitConverter.DoubleToUInt64Bits((double)(object)v);

    private static string Hex<T>(T v) where T : unmanaged => typeof(T) == typeof(float) ? $"0x{Bits(v):X8}" : $"0x{Bits(v):X16}";

    // ------------------------------------------------------------------ 1. Sample's log-densities

    /// <summary>
    /// Sample(xs, logProbs, rng) returns log p(x) of the samples it draws: LogProb(xs) up to the rounding of the round trip, for
    /// every coupling kind, both precisions, unconditional and conditional, and batch sizes that go through full tiles, a
    /// partial tile and the single-sample remainder. The samples themselves are f⁻¹ of the Gaussian draws (as Inverse and the
    /// interface's Sample compute them) and logProbs = log N(z) − log|det ∂x/∂z| with Inverse's log-det.
    /// </summary>
    [Theory]
    [MemberData(nameof(Models))]
    public void SampleReturnsTheLogDensityOfTheSamples(string model)
    {
        object flow = Create(model);
        if (flow is ICouplingFlow<float> f) CheckSample(model, f, SamplerF(flow), 2e-4);
        else CheckSample(model, (ICouplingFlow<double>)flow, SamplerD(flow), 1e-11);
    }

    private void CheckSample<T>(string model, ICouplingFlow<T> flow, SampleWithLogProbs<T> sample, double tolerance) where T : unmanaged, IFloatingPointIeee754<T>, IMinMaxValue<T>
    {
        int d = flow.Dim, c = flow.ContextDim;
        double worst = 0, largestLogDet = 0;
        foreach (int n in new[] { 1, 3, 35, 37, 67 })
        {
            T[] contexts = Gaussian<T>(new FlowRandom((ulong)(50 + n)), n * c, 1);
            var xs = new T[n * d];
            var logProbs = new T[n];
            Assert.Equal(0, sample(contexts, xs, logProbs, new FlowRandom((ulong)(100 + n))));

            // the samples: f⁻¹ of the draws, as Inverse and the interface's Sample compute them
            var zs = new T[n * d];
            FillGaussian(new FlowRandom((ulong)(100 + n)), zs);
            var inverse = new T[n * d];
            var inverseLogDets = new T[n];
            flow.Inverse(zs, contexts, inverse, inverseLogDets);
            var viaInterface = new T[n * d];
            flow.Sample(contexts, viaInterface, new FlowRandom((ulong)(100 + n)));
            for (int i = 0; i < n * d; i++)
            {
                Assert.True(Bits(xs[i]) == Bits(inverse[i]), $"{model} n={n}: Sample's x[{i}] = {xs[i]} but Inverse gives {inverse[i]}");
                Assert.True(Bits(xs[i]) == Bits(viaInterface[i]), $"{model} n={n}: Sample's x[{i}] = {xs[i]} but the interface's Sample gives {viaInterface[i]}");
            }

            var logProb = new T[n];
            flow.LogProb(xs, contexts, logProb);
            for (int i = 0; i < n; i++)
            {
                double expected = double.CreateTruncating(logProb[i]), got = double.CreateTruncating(logProbs[i]);
                double logDet = double.CreateTruncating(inverseLogDets[i]);
                double squares = 0;
                for (int k = 0; k < d; k++) squares += double.CreateTruncating(zs[i * d + k]) * double.CreateTruncating(zs[i * d + k]);
                double formula = -0.5 * squares - 0.5 * d * Math.Log(2 * Math.PI) - logDet; // log N(z) − log|det ∂x/∂z|
                double error = Math.Abs(got - expected) / (1 + Math.Abs(expected));
                worst = Math.Max(worst, error);
                largestLogDet = Math.Max(largestLogDet, Math.Abs(logDet));
                Assert.True(error <= tolerance,
                    $"{model} n={n} row {i}: Sample's log-density {got} but LogProb of the sample is {expected} (difference {got - expected}, log|det ∂x/∂z| = {logDet}, log N(z) − log|det| = {formula})");
                Assert.True(Math.Abs(got - formula) <= tolerance * (1 + Math.Abs(formula)),
                    $"{model} n={n} row {i}: Sample's log-density {got} but log N(z) − log|det ∂x/∂z| = {formula}");
            }
        }
        output.WriteLine($"{model}: worst |Sample log p − LogProb| / (1 + |LogProb|) = {worst:E2}; largest |log det| {largestLogDet:E2}");
        Assert.True(largestLogDet > 0.1, "the model's log-dets are too small for the test to see the sign of the log-det");
    }

    // ------------------------------------------------------------------ 2. non-finite rows: batch vs single sample, bit for bit

    /// <summary>
    /// Inverse of rows with NaN, +∞, −∞ (in one coordinate, every coordinate, mixed, or in the context) and of ±T.MaxValue
    /// (whose deep sigmoidal root does not fit in T: the numerical inverse fails and returns NaN) gives the same bits — values
    /// and log-dets, NaN signs and payloads included — in a batch (full tiles) as the same row computed alone (the single-sample path).
    /// </summary>
    [Theory]
    [MemberData(nameof(Models))]
    public void NonFiniteRowsAreBitIdenticalBetweenBatchAndSingleSample(string model)
    {
        object flow = Create(model);
        List<string> problems = flow is ICouplingFlow<float> f ? CompareNonFinite(f) : CompareNonFinite((ICouplingFlow<double>)flow);
        Assert.True(problems.Count == 0, model + ":\n" + string.Join("\n", problems.Take(20)) + (problems.Count > 20 ? $"\n… {problems.Count} in all" : ""));
    }

    private static List<string> CompareNonFinite<T>(ICouplingFlow<T> flow) where T : unmanaged, IFloatingPointIeee754<T>, IMinMaxValue<T>
    {
        int d = flow.Dim, c = flow.ContextDim;
        var rng = new FlowRandom(21);
        var rows = new List<(string Label, T[] Z, T[] C)>();
        void Add(string label, T[] z, T[] ctx)
        {
            rows.Add((label, z, ctx));
            rows.Add(("finite", Gaussian<T>(rng, d, 1), Gaussian<T>(rng, c, 1)));
        }
        var specials = new (string Label, T Value)[]
        {
            ("NaN", T.NaN), ("−NaN", -T.NaN), ("+∞", T.PositiveInfinity), ("−∞", T.NegativeInfinity), ("+max", T.MaxValue), ("−max", T.MinValue),
        };
        foreach (var (label, value) in specials)
        {
            for (int k = 0; k < d; k++)
            {
                T[] z = Gaussian<T>(rng, d, 1);
                z[k] = value;
                Add($"{label} at z{k}", z, Gaussian<T>(rng, c, 1));
            }
            Add($"{label} everywhere", Enumerable.Repeat(value, d).ToArray(), Gaussian<T>(rng, c, 1));
            if (c > 0) Add($"{label} in the context", Gaussian<T>(rng, d, 1), Enumerable.Repeat(value, c).ToArray());
        }
        Add("NaN, +∞, −∞", new[] { T.NaN, T.PositiveInfinity, T.NegativeInfinity }.Concat(Gaussian<T>(rng, d - 3, 1)).ToArray(), Gaussian<T>(rng, c, 1));
        Add("+∞, −∞, NaN", new[] { T.PositiveInfinity, T.NegativeInfinity, T.NaN }.Concat(Gaussian<T>(rng, d - 3, 1)).ToArray(), Gaussian<T>(rng, c, 1));
        // a multiple of 64 rows: every row is in a full tile whatever the SIMD width
        while (rows.Count % 64 != 0) rows.Add(("finite", Gaussian<T>(rng, d, 1), Gaussian<T>(rng, c, 1)));

        int n = rows.Count;
        T[] zs = rows.SelectMany(r => r.Z).ToArray(), cs = rows.SelectMany(r => r.C).ToArray();
        var xs = new T[n * d];
        var logDets = new T[n];
        flow.Inverse(zs, cs, xs, logDets);
        var forward = new T[n * d];
        var forwardLogDets = new T[n];
        var logProbs = new T[n];
        flow.Forward(zs, cs, forward, forwardLogDets);
        flow.LogProb(zs, cs, logProbs);

        var problems = new List<string>();
        for (int i = 0; i < n; i++)
        {
            var x1 = new T[d];
            var ld1 = new T[1];
            flow.Inverse(rows[i].Z, rows[i].C, x1, ld1);
            var differences = new List<string>();
            for (int k = 0; k < d; k++)
            {
                if (Bits(x1[k]) != Bits(xs[i * d + k])) differences.Add($"x{k} batch {xs[i * d + k]} ({Hex(xs[i * d + k])}) single {x1[k]} ({Hex(x1[k])})");
            }
            if (Bits(ld1[0]) != Bits(logDets[i])) differences.Add($"log-det batch {logDets[i]} ({Hex(logDets[i])}) single {ld1[0]} ({Hex(ld1[0])})");
            // the same row as a data point through Forward and LogProb
            var z1 = new T[d];
            var fld1 = new T[1];
            var lp1 = new T[1];
            flow.Forward(rows[i].Z, rows[i].C, z1, fld1);
            flow.LogProb(rows[i].Z, rows[i].C, lp1);
            for (int k = 0; k < d; k++)
            {
                if (Bits(z1[k]) != Bits(forward[i * d + k])) differences.Add($"Forward z{k} batch {forward[i * d + k]} ({Hex(forward[i * d + k])}) single {z1[k]} ({Hex(z1[k])})");
            }
            if (Bits(fld1[0]) != Bits(forwardLogDets[i])) differences.Add($"Forward log-det batch {forwardLogDets[i]} ({Hex(forwardLogDets[i])}) single {fld1[0]} ({Hex(fld1[0])})");
            if (Bits(lp1[0]) != Bits(logProbs[i])) differences.Add($"LogProb batch {logProbs[i]} ({Hex(logProbs[i])}) single {lp1[0]} ({Hex(lp1[0])})");
            if (differences.Count > 0) problems.Add($"row {i} ({rows[i].Label}): " + string.Join("; ", differences));
        }
        return problems;
    }
}
