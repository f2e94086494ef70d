using System;
using System.Collections.Generic;
using System.Linq;
using System.Numerics;
using System.Text;
using FlowGen.Tests.Infrastructure;
using FlowGen.Tests.Models.Extremes;
using Xunit.Abstractions;

namespace FlowGen.Tests;

/// <summary>
/// NaN, ±∞, ±1e30, denormals and −0 through Forward, Inverse and LogProb of every layer kind, in float and double
/// (docs/numerics.md states the contract these tests check):
/// <list type="bullet">
/// <item>no call throws or hangs, whatever the values;</item>
/// <item>a row never affects another row of the same batch (a special row between finite rows leaves them bit-identical to
/// single-row calls);</item>
/// <item>NaN in a row (data or context) gives a NaN log-density, and Forward/Inverse outputs with a non-finite value;</item>
/// <item>finite moderate inputs, denormals and −0 give finite outputs;</item>
/// <item>the int returned by Inverse is the number of rows whose output holds a NaN or ±∞.</item>
/// </list>
/// ±∞ and ±1e30 are recorded in the behaviour table (checked against a snapshot by <see cref="BehaviourTable"/>); the assertions
/// on them are the documented saturations.
/// </summary>
public sealed class NumericExtremesTests
{
    private readonly ITestOutputHelper _output;

    public NumericExtremesTests(ITestOutputHelper output) => _output = output;

    public static TheoryData<string> Models() => new(ModelNames);

    private static readonly string[] ModelNames =
    {
        "XAffine", "XAffineD", "XAdditive", "XAdditiveD", "XSos", "XSosD", "XDsf", "XDsfD", "XSpline", "XSplineD", "XLinear", "XLinearD",
        "XConditional", "XConditionalD",
    };

    internal static object Create(string name)
    {
        object flow = name switch
        {
            "XAffine" => new XAffine(1), "XAffineD" => new XAffineD(1), "XAdditive" => new XAdditive(1), "XAdditiveD" => new XAdditiveD(1),
            "XSos" => new XSos(1), "XSosD" => new XSosD(1), "XDsf" => new XDsf(1), "XDsfD" => new XDsfD(1),
            "XSpline" => new XSpline(1), "XSplineD" => new XSplineD(1), "XLinear" => new XLinear(1), "XLinearD" => new XLinearD(1),
            "XConditional" => new XConditional(1), "XConditionalD" => new XConditionalD(1),
            _ => throw new ArgumentException(name),
        };
        // move every parameter off its identity initialisation so that every layer does something
        var rng = new FlowRandom(7);
        if (flow is ICouplingFlow<float> f) { Span<float> p = f.Parameters; for (int i = 0; i < p.Length; i++) p[i] += 0.6f * (rng.NextSingle() - 0.5f); }
        if (flow is ICouplingFlow<double> d) { Span<double> p = d.Parameters; for (int i = 0; i < p.Length; i++) p[i] += 0.6 * (rng.NextDouble() - 0.5); }
        return flow;
    }

    public enum Kind { Finite, NaN, Inf, Mixed }

    internal static Kind Classify<T>(ReadOnlySpan<T> row) where T : unmanaged, IFloatingPointIeee754<T>
    {
        bool nan = false, inf = false;
        foreach (T v in row) { nan |= T.IsNaN(v); inf |= T.IsInfinity(v); }
        return nan ? (inf ? Kind.Mixed : Kind.NaN) : inf ? Kind.Inf : Kind.Finite;
    }

    private static string Short(Kind k) => k switch { Kind.Finite => "fin", Kind.NaN => "NaN", Kind.Inf => "∞", _ => "NaN+∞" };

    /// <summary>The special values, by label.</summary>
    internal static (string Label, double Value)[] Specials<T>() where T : unmanaged, IFloatingPointIeee754<T> =>
        new[]
        {
            ("NaN", double.NaN), ("+∞", double.PositiveInfinity), ("−∞", double.NegativeInfinity), ("+1e30", 1e30), ("−1e30", -1e30),
            ("+max", typeof(T) == typeof(float) ? float.MaxValue : double.MaxValue), ("−max", typeof(T) == typeof(float) ? -float.MaxValue : -double.MaxValue),
            ("denormal", typeof(T) == typeof(float) ? (double)float.Epsilon * 3 : double.Epsilon * 3), ("−0", -0.0),
        };

    /// <summary>One probe: a batch of finite rows with special rows between them; everything the calls return.</summary>
    private sealed class Probe<T> where T : unmanaged, IFloatingPointIeee754<T>
    {
        public readonly List<string> Problems = new();
        public readonly Dictionary<(string Value, string Where), string> Table = new();
        public TimeSpan Slowest;

        public void Run(ICouplingFlow<T> flow)
        {
            int d = flow.Dim, c = flow.ContextDim;
            var rng = new FlowRandom(11);
            var specials = Specials<T>();
            // rows: 0 finite, then per special value: [value in coordinate 0] [finite] [value in last coordinate] [finite] [value everywhere] [finite]
            // and, for conditional flows, [value in the context] [finite]
            var rows = new List<(string Value, string Where, T[] X, T[] C)>();
            T[] FiniteRow(int n) { var r = new T[n]; for (int i = 0; i < n; i++) r[i] = T.CreateChecked(rng.NextGaussian() * 0.8); return r; }
            rows.Add(("finite", "-", FiniteRow(d), FiniteRow(c)));
            foreach (var (label, value) in specials)
            {
                T v = T.CreateChecked(value);
                var places = new List<string> { "x0", "xlast", "all" };
                if (c > 0) places.Add("ctx");
                foreach (string where in places)
                {
                    T[] x = FiniteRow(d), ctx = FiniteRow(c);
                    if (where == "x0") x[0] = v;
                    else if (where == "xlast") x[d - 1] = v;
                    else if (where == "all") Array.Fill(x, v);
                    else Array.Fill(ctx, v);
                    rows.Add((label, where, x, ctx));
                    rows.Add(("finite", "-", FiniteRow(d), FiniteRow(c)));
                }
            }
            int n = rows.Count;
            T[] xs = rows.SelectMany(r => r.X).ToArray();
            T[] cs = rows.SelectMany(r => r.C).ToArray();

            // batch calls (vectorised tile path) and single-row calls; the same values through LogProb, Forward and Inverse
            var zs = new T[n * d]; var lds = new T[n]; var lps = new T[n]; var xsBack = new T[n * d]; var ildBack = new T[n];
            var inv = new T[n * d]; var invLd = new T[n];
            int count = 0, countBack = 0;
            Timed(() => flow.Forward(xs, cs, zs, lds));
            Timed(() => flow.LogProb(xs, cs, lps));
            Timed(() => count = flow.Inverse(xs, cs, inv, invLd));       // the same values taken as latent points
            Timed(() => countBack = flow.Inverse(zs, cs, xsBack, ildBack));

            int expectedCount = Enumerable.Range(0, n).Count(i => Classify<T>(inv.AsSpan(i * d, d)) != Kind.Finite);
            if (count != expectedCount) Problems.Add($"Inverse returned {count} but {expectedCount} rows are non-finite");
            int expectedBack = Enumerable.Range(0, n).Count(i => Classify<T>(xsBack.AsSpan(i * d, d)) != Kind.Finite);
            if (countBack != expectedBack) Problems.Add($"Inverse (round trip) returned {countBack} but {expectedBack} rows are non-finite");

            for (int i = 0; i < n; i++)
            {
                var (label, where, x, ctx) = rows[i];
                // a single-row call must agree bit for bit with the row of the batch: no lane leaks into another
                var z1 = new T[d]; var ld1 = new T[1]; var lp1 = new T[1]; var inv1 = new T[d]; var invLd1 = new T[1];
                flow.Forward(x, ctx, z1, ld1);
                flow.LogProb(x, ctx, lp1);
                int c1 = flow.Inverse(x, ctx, inv1, invLd1);
                string at = $"row {i} ({label} at {where})";
                if (!Same(z1, zs.AsSpan(i * d, d)) || !Same(ld1, lds.AsSpan(i, 1))) Problems.Add($"{at}: Forward batch row differs from the single-row call");
                if (!Same(lp1, lps.AsSpan(i, 1))) Problems.Add($"{at}: LogProb batch row differs from the single-row call");
                if (!Same(inv1, inv.AsSpan(i * d, d)) || !Same(invLd1, invLd.AsSpan(i, 1))) Problems.Add($"{at}: Inverse batch row differs from the single-row call");
                if (c1 != (Classify<T>(inv1) == Kind.Finite ? 0 : 1)) Problems.Add($"{at}: single-row Inverse returned {c1}");

                Kind fz = Classify<T>(zs.AsSpan(i * d, d)), fld = Classify<T>(lds.AsSpan(i, 1)), flp = Classify<T>(lps.AsSpan(i, 1));
                Kind ix = Classify<T>(inv.AsSpan(i * d, d)), ild = Classify<T>(invLd.AsSpan(i, 1));
                if (label == "finite" || label is "denormal" or "−0")
                {
                    if (fz != Kind.Finite || fld != Kind.Finite || flp != Kind.Finite || ix != Kind.Finite || ild != Kind.Finite)
                        Problems.Add($"{at}: finite input gave z {fz}, logDet {fld}, logProb {flp}, inverse {ix}/{ild}");
                    if (label == "finite" && Classify<T>(xsBack.AsSpan(i * d, d)) != Kind.Finite) Problems.Add($"{at}: round trip not finite");
                }
                if (label == "NaN")
                {
                    if (!T.IsNaN(lps[i])) Problems.Add($"{at}: NaN input gave logProb {lps[i]}");
                    if (fz == Kind.Finite && fld == Kind.Finite) Problems.Add($"{at}: NaN input gave a finite Forward");
                    if (ix == Kind.Finite && ild == Kind.Finite) Problems.Add($"{at}: NaN input gave a finite Inverse");
                }
                if (label is "+∞" or "−∞")
                {
                    if (!T.IsNaN(lps[i]) && !T.IsNegativeInfinity(lps[i])) Problems.Add($"{at}: infinite input gave logProb {lps[i]} (must be NaN or −∞)");
                    if (fz == Kind.Finite && fld == Kind.Finite) Problems.Add($"{at}: infinite input gave a finite Forward");
                    if (ix == Kind.Finite && ild == Kind.Finite) Problems.Add($"{at}: infinite input gave a finite Inverse");
                }
                if (T.IsPositiveInfinity(lps[i])) Problems.Add($"{at}: logProb +∞");
                if (label != "finite")
                {
                    Table[(label, where)] = $"z {Short(fz)}, ld {Short(fld)}, lp {(T.IsNaN(lps[i]) ? "NaN" : T.IsNegativeInfinity(lps[i]) ? "−∞" : T.IsPositiveInfinity(lps[i]) ? "+∞" : "fin")}, inv {Short(ix)}/{Short(ild)}";
                }
            }
        }

        private static bool Same(ReadOnlySpan<T> a, ReadOnlySpan<T> b)
        {
            for (int i = 0; i < a.Length; i++)
            {
                if (T.IsNaN(a[i]) && T.IsNaN(b[i])) continue;
                if (!a[i].Equals(b[i])) return false;
            }
            return true;
        }

        private void Timed(Action a)
        {
            TimeSpan cost = ThreadCpuClock.Measure(a);
            if (cost > Slowest) Slowest = cost;
        }
    }

    private static (List<string> Problems, Dictionary<(string, string), string> Table, TimeSpan Slowest) RunProbe(string name)
    {
        object flow = Create(name);
        if (flow is ICouplingFlow<float> f) { var p = new Probe<float>(); p.Run(f); return (p.Problems, p.Table, p.Slowest); }
        var q = new Probe<double>(); q.Run((ICouplingFlow<double>)flow); return (q.Problems, q.Table, q.Slowest);
    }

    /// <summary>The longest a probe call may take: CPU time of the calling thread (wall time where that clock is not available),
    /// so that a machine shared with parallel test classes and other work does not stretch it.</summary>
    private const double SlowestCallSeconds = 5;

    [Theory]
    [MemberData(nameof(Models))]
    public void SpecialValuesNeverThrowHangOrLeakAndFollowTheContract(string model)
    {
        var (problems, _, slowest) = RunProbe(model);
        Assert.True(problems.Count == 0, model + ":\n" + string.Join("\n", problems.Take(30)));
        // a guard against runaway iterations on special values (a call takes milliseconds of CPU), not a timing test
        Assert.True(slowest < TimeSpan.FromSeconds(SlowestCallSeconds), $"{model}: a call took {slowest}");
    }

    /// <summary>Sample and Inverse return the number of rows whose output holds a NaN or ±∞: made to happen by an ActNorm scale of e^88.</summary>
    [Fact]
    public void SampleAndInverseCountTheNonFiniteRows()
    {
        var flow = (XLinear)Create("XLinear");
        ParameterTensor logScale = XLinear.ParameterTensors.Single(t => t.Name == "layers.0.log_scale");
        flow.Parameters[logScale.Offset] = -88f; // x0 = (y0 − b0)·e^88 overflows float when |y0 − b0| > ~2
        const int n = 1000;
        var xs = new float[n * XLinear.Dim];
        int count = flow.Sample(xs, new FlowRandom(3));
        int expected = Enumerable.Range(0, n).Count(i => Classify<float>(xs.AsSpan(i * XLinear.Dim, XLinear.Dim)) != Kind.Finite);
        Assert.Equal(expected, count);
        Assert.InRange(count, 1, n - 1); // some rows overflow, most do not
        var lps = new float[n];
        int count2 = flow.Sample(xs, lps, new FlowRandom(3));
        Assert.Equal(count, count2);

        var zs = new float[n * XLinear.Dim];
        new FlowRandom(5).FillGaussian(zs);
        int inverseCount = flow.Inverse(zs, xs, default);
        Assert.Equal(Enumerable.Range(0, n).Count(i => Classify<float>(xs.AsSpan(i * XLinear.Dim, XLinear.Dim)) != Kind.Finite), inverseCount);
        Assert.InRange(inverseCount, 1, n - 1);

        // and nothing non-finite at all: 0
        var tame = (XLinear)Create("XLinear");
        Assert.Equal(0, tame.Sample(xs, new FlowRandom(3)));
    }

    /// <summary>
    /// The behaviour table behind docs/numerics.md (one line per model, special value and position: the class of every output)
    /// equals the committed Snapshots/BehaviourTable.verified.md, so any change of behaviour on special values shows up as a
    /// diff to review (accept an intended one with FLOWGEN_ACCEPT=1). Every model, value and position has its line.
    /// </summary>
    [Fact]
    public void BehaviourTable()
    {
        var sb = new StringBuilder("| model | value | where | Forward z, log-det; log-density; Inverse x / log-det |\n|---|---|---|---|\n");
        foreach (string model in ModelNames)
        {
            var (_, table, _) = RunProbe(model);
            object flow = Create(model);
            int context = flow is ICouplingFlow<float> f ? f.ContextDim : ((ICouplingFlow<double>)flow).ContextDim;
            Assert.Equal(Specials<double>().Length * (context > 0 ? 4 : 3), table.Count);
            foreach (var ((value, where), what) in table) sb.Append($"| {model} | {value} | {where} | {what} |\n");
        }
        string text = sb.ToString();
        _output.WriteLine(text);
        Snapshot.Verify(text, "BehaviourTable", extension: ".md");
    }
}
