// Tests of FlowGen.FlowRandom: pinned outputs (reproducibility is part of the contract), the derived
// distributions (uniform, bounded integers, Gaussian), and the stream-splitting operations.

using System;
using System.Linq;
using FlowGen;

namespace FlowGen.Tests;

public class FlowRandomTests
{
    // Values from an independent implementation of SplitMix64 seeding + xoshiro256** (Blackman & Vigna's reference
    // algorithm, written separately in Python).
    [Fact]
    public void Seed42FirstOutputsArePinned()
    {
        var r = new FlowRandom(42);
        Assert.Equal(0x15780B2E0C2EC716UL, r.NextUInt64());
        Assert.Equal(0x6104D9866D113A7EUL, r.NextUInt64());
        Assert.Equal(0xAE17533239E499A1UL, r.NextUInt64());
        Assert.Equal(0xECB8AD4703B360A1UL, r.NextUInt64());

        var z = new FlowRandom(0);
        Assert.Equal(0x99EC5F36CB75F2B4UL, z.NextUInt64());
        Assert.Equal(0xBF6E1F784956452AUL, z.NextUInt64());
    }

    [Fact]
    public void DerivedValuesArePinned()
    {
        var r = new FlowRandom(42);
        Assert.Equal(360188718u, r.NextUInt32());
        Assert.Equal(1627707782u, r.NextUInt32());

        r = new FlowRandom(42);
        Assert.Equal(0.08386297105988216, r.NextDouble());
        Assert.Equal(0.3789802506626686, r.NextDouble());

        r = new FlowRandom(42);
        Assert.Equal(0.08386296033859253f, r.NextSingle());
        Assert.Equal(0.37898021936416626f, r.NextSingle());
    }

    [Fact]
    public void GaussiansArePinned()
    {
        // Exact bits of FlowGen's Box–Muller (its own log, sin and cos, so identical on every platform). They are within
        // 1 ulp of Box–Muller evaluated in 40-digit arithmetic on the same uniforms (values below, from mpmath).
        var r = new FlowRandom(42);
        var g = new double[4];
        r.FillGaussian(g);
        double[] exact = [-0.30326306467873802371, 0.28846173882942377932, 1.3438117634372808989, -0.68797517989774931905];
        for (int i = 0; i < 4; i++)
            Assert.True(Math.Abs(g[i] - exact[i]) <= Math.BitIncrement(Math.Abs(exact[i])) - Math.Abs(exact[i]), $"{i}: {g[i]:R}");
        Assert.Equal(PinnedGaussians, g.Select(BitConverter.DoubleToInt64Bits).ToArray());
        Assert.Equal(BitConverter.Int64BitsToDouble(PinnedGaussians[0]), new FlowRandom(42).NextGaussian());
    }

    private static readonly long[] PinnedGaussians =
    [
        unchecked((long)0xBFD368A97C38507DUL), // -0.30326306467873804
        0x3FD27628399ADBD9L,                   //  0.2884617388294238
        0x3FF58040C37F1763L,                   //  1.3438117634372808
        unchecked((long)0xBFE603E48643DB8BUL), // -0.6879751798977493
    ];

    [Fact]
    public void SameSeedSameSequenceDifferentSeedDifferentSequence()
    {
        var a = new FlowRandom(123456789);
        var b = new FlowRandom(123456789);
        var c = new FlowRandom(123456790);
        int equalToC = 0;
        for (int i = 0; i < 1000; i++)
        {
            ulong x = a.NextUInt64();
            Assert.Equal(x, b.NextUInt64());
            if (x == c.NextUInt64()) equalToC++;
        }
        Assert.Equal(0, equalToC);
    }

    [Fact]
    public void UniformsAreInRange()
    {
        var r = new FlowRandom(1);
        double sum = 0;
        for (int i = 0; i < 100_000; i++)
        {
            double d = r.NextDouble();
            Assert.InRange(d, 0.0, 0.9999999999999999);
            float f = r.NextSingle();
            Assert.InRange(f, 0f, 0.99999994f);
            sum += d;
        }
        Assert.InRange(sum / 100_000, 0.497, 0.503);

        var buf = new float[1001];
        r.FillUniform(buf, -2f, 3f);
        Assert.All(buf, v => Assert.InRange(v, -2f, 3f));
        Assert.InRange(buf.Average(), 0.3, 0.7);
        var dbuf = new double[1001];
        r.FillUniform(dbuf, 10.0, 11.0);
        Assert.All(dbuf, v => Assert.InRange(v, 10.0, 11.0));
    }

    [Fact]
    public void NextIntIsUnbiased()
    {
        var r = new FlowRandom(7);
        Assert.Throws<ArgumentOutOfRangeException>(() => r.NextInt(0));
        Assert.Throws<ArgumentOutOfRangeException>(() => r.NextInt(-5));
        for (int i = 0; i < 100; i++) Assert.Equal(0, r.NextInt(1));

        // chi-square for small ranges (critical values at p = 0.001)
        foreach (var (k, crit) in new[] { (2, 10.83), (3, 13.82), (7, 22.46), (10, 27.88), (100, 148.2) })
        {
            var counts = new int[k];
            const int n = 200_000;
            for (int i = 0; i < n; i++) counts[r.NextInt(k)]++;
            double expected = (double)n / k, chi = counts.Sum(c => (c - expected) * (c - expected) / expected);
            Assert.True(chi < crit, $"k={k}: chi-square {chi:F1} >= {crit}");
        }

        // a range where the naive modulo method is visibly biased: max = 3·2^29, 2^32 mod max = 2^30
        int max = 3 << 29;
        int low = 0;
        const int m = 300_000;
        for (int i = 0; i < m; i++)
        {
            int v = r.NextInt(max);
            Assert.InRange(v, 0, max - 1);
            if (v < max / 3) low++;
        }
        // unbiased: P(v < max/3) = 1/3; naive (x mod max) would give 3/8
        Assert.InRange((double)low / m, 0.33, 0.337);

        int top = 0;
        for (int i = 0; i < 100_000; i++) if (r.NextInt(int.MaxValue) > int.MaxValue / 2) top++;
        Assert.InRange(top / 100_000.0, 0.49, 0.51);
    }

    // erf by Abramowitz–Stegun 7.1.26 is too coarse for a KS test at n = 1e5; use the series / continued fraction.
    private static double Erf(double x)
    {
        double ax = Math.Abs(x);
        double r;
        if (ax < 2.5)
        {
            // Maclaurin series: erf x = 2/√π Σ (-1)^n x^(2n+1) / (n! (2n+1))
            double term = ax, sum = ax, x2 = ax * ax;
            for (int n = 1; n < 60; n++)
            {
                term *= -x2 / n;
                double add = term / (2 * n + 1);
                sum += add;
                if (Math.Abs(add) < 1e-17 * Math.Abs(sum)) break;
            }
            r = 2 / Math.Sqrt(Math.PI) * sum;
        }
        else
        {
            // erfc x = exp(-x²)/√π · 1/(x + 1/2/(x + 1/(x + 3/2/(x + ...)))) (continued fraction, evaluated backwards)
            double f = ax;
            for (int k = 60; k >= 1; k--) f = ax + k / 2.0 / f;
            r = 1 - Math.Exp(-ax * ax) / Math.Sqrt(Math.PI) / f;
        }
        return x < 0 ? -r : r;
    }

    private static double NormalCdf(double x) => 0.5 * (1 + Erf(x / Math.Sqrt(2)));

    [Fact]
    public void ErfIsAccurate()
    {
        Assert.Equal(0.8427007929497149, Erf(1), 1e-15);
        Assert.Equal(0.9953222650189527, Erf(2), 1e-15);
        Assert.Equal(0.9999779095030014, Erf(3), 1e-15);
        Assert.Equal(-0.5204998778130465, Erf(-0.5), 1e-15);
        Assert.Equal(0.9999999845827421, Erf(4), 1e-15);
        Assert.Equal(0.15865525393145707, NormalCdf(-1), 1e-15);
    }

    [Fact]
    public void GaussianMomentsAndKolmogorovSmirnov()
    {
        var r = new FlowRandom(2024);
        const int n = 100_000;
        var z = new double[n];
        r.FillGaussian(z);
        double mean = z.Average();
        double variance = z.Sum(v => (v - mean) * (v - mean)) / (n - 1);
        Assert.InRange(mean, -0.012, 0.012);           // 4 standard errors
        Assert.InRange(variance, 0.982, 1.018);        // 4 standard errors (sd of s² ≈ √(2/n))
        double skew = z.Sum(v => Math.Pow(v - mean, 3)) / n;
        Assert.InRange(skew, -0.032, 0.032);
        double kurt = z.Sum(v => Math.Pow(v - mean, 4)) / n;
        Assert.InRange(kurt, 2.94, 3.06);

        Array.Sort(z);
        double d = 0;
        for (int i = 0; i < n; i++)
        {
            double c = NormalCdf(z[i]);
            d = Math.Max(d, Math.Max(c - (double)i / n, (i + 1.0) / n - c));
        }
        // KS critical value at p = 0.001: 1.95 / √n
        Assert.True(d < 1.95 / Math.Sqrt(n), $"KS statistic {d:F5}");

        // the float fill and NextGaussian are the same stream, rounded
        var rf = new FlowRandom(2024);
        var zf = new float[1001];
        rf.FillGaussian(zf);
        var rd = new FlowRandom(2024);
        var zd = new double[1001];
        rd.FillGaussian(zd);
        for (int i = 0; i < zf.Length; i++) Assert.Equal((float)zd[i], zf[i]);
        Assert.All(zd, v => Assert.True(double.IsFinite(v)));
    }

    [Fact]
    public void KolmogorovSmirnovDetectsAWrongDistribution()
    {
        // The KS check above must be able to fail: uniform(-√3, √3) has variance 1 but is not normal.
        var r = new FlowRandom(5);
        const int n = 100_000;
        var z = new double[n];
        r.FillUniform(z, -Math.Sqrt(3), Math.Sqrt(3));
        Array.Sort(z);
        double d = 0;
        for (int i = 0; i < n; i++)
        {
            double c = NormalCdf(z[i]);
            d = Math.Max(d, Math.Max(c - (double)i / n, (i + 1.0) / n - c));
        }
        Assert.True(d > 1.95 / Math.Sqrt(n));
    }

    [Fact]
    public void FillGaussianOddLengthDiscardsTheLastPairsSecondValue()
    {
        var a = new FlowRandom(99);
        var b = new FlowRandom(99);
        var odd = new double[5];
        var even = new double[6];
        a.FillGaussian(odd);
        b.FillGaussian(even);
        Assert.Equal(even.Take(5), odd);
        // both consumed three pairs (six uniforms)
        Assert.Equal(b.NextUInt64(), a.NextUInt64());

        // NextGaussian is the first value of a pair, consuming the whole pair
        var c = new FlowRandom(99);
        var d = new FlowRandom(99);
        var one = new double[1];
        d.FillGaussian(one);
        Assert.Equal(one[0], c.NextGaussian());
        Assert.Equal(even[0], one[0]);
        Assert.Equal(d.NextUInt64(), c.NextUInt64());

        var e = new FlowRandom(99);
        var f = new FlowRandom(99);
        var oddF = new float[3];
        e.FillGaussian(oddF);
        Assert.Equal((float)even[2], oddF[2]);
        f.NextUInt64(); f.NextUInt64(); f.NextUInt64(); f.NextUInt64();
        Assert.Equal(f.NextUInt64(), e.NextUInt64());

        new FlowRandom(1).FillGaussian(Span<double>.Empty);
    }

    [Fact]
    public void JumpIsPinnedAndForkGivesIndependentStreams()
    {
        var r = new FlowRandom(42);
        r.Jump();
        Assert.Equal(0x50086EF83CBF4F4AUL, r.NextUInt64());
        Assert.Equal(0xBA285EC21347D703UL, r.NextUInt64());

        var parent = new FlowRandom(42);
        var reference = new FlowRandom(42);
        var child = parent.Fork();
        var jumped = new FlowRandom(42);
        jumped.Jump();
        Assert.Equal(jumped.NextUInt64(), child.NextUInt64()); // the child is the parent's state advanced by one jump

        var child2 = parent.Fork();
        var first = Enumerable.Range(0, 100).Select(_ => child.NextUInt64()).ToHashSet();
        var second = Enumerable.Range(0, 100).Select(_ => child2.NextUInt64()).ToList();
        var own = Enumerable.Range(0, 100).Select(_ => parent.NextUInt64()).ToList();
        var original = Enumerable.Range(0, 100).Select(_ => reference.NextUInt64()).ToList();
        Assert.DoesNotContain(second, first.Contains);
        Assert.DoesNotContain(own, first.Contains);
        Assert.DoesNotContain(own, second.Contains);
        Assert.DoesNotContain(original, first.Contains);

        // Fork is deterministic
        var p2 = new FlowRandom(42);
        var c2 = p2.Fork();
        var c2b = p2.Fork();
        Assert.Equal(new FlowRandom(42).Fork().NextUInt64(), c2.NextUInt64());
        Assert.NotEqual(c2.NextUInt64(), c2b.NextUInt64());
    }

    [Fact]
    public void CloneReplaysTheSameSequence()
    {
        var r = new FlowRandom(77);
        r.NextUInt64();
        var c = r.Clone();
        for (int i = 0; i < 50; i++) Assert.Equal(r.NextUInt64(), c.NextUInt64());
        var g1 = new double[7];
        var g2 = new double[7];
        r.FillGaussian(g1);
        c.FillGaussian(g2);
        Assert.Equal(g1, g2);
    }

    [Fact]
    public void ShuffleIsADeterministicFisherYatesPermutation()
    {
        var values = Enumerable.Range(0, 50).ToArray();
        new FlowRandom(3).Shuffle<int>(values);
        Assert.Equal(Enumerable.Range(0, 50), values.OrderBy(v => v));
        Assert.NotEqual(Enumerable.Range(0, 50), values);

        // same as the explicit algorithm
        var expected = Enumerable.Range(0, 50).ToArray();
        var r = new FlowRandom(3);
        for (int i = expected.Length - 1; i >= 1; i--)
        {
            int j = r.NextInt(i + 1);
            (expected[i], expected[j]) = (expected[j], expected[i]);
        }
        Assert.Equal(expected, values);

        // every permutation of 3 elements is about equally likely
        var counts = new int[6];
        var rr = new FlowRandom(4);
        for (int t = 0; t < 60_000; t++)
        {
            Span<int> p = [0, 1, 2];
            rr.Shuffle(p);
            counts[p[0] * 2 + (p[1] > p[2] ? 1 : 0)]++;
        }
        Assert.All(counts, c => Assert.InRange(c, 9_500, 10_500));
        new FlowRandom(1).Shuffle(Span<int>.Empty);
    }
}
