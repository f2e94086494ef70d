// FlowRandom: the seedable random number generator of FlowGen (sampling, initialisation, shuffles in the trainer), with
// the Gaussian's own platform-independent ln and sin/cos.

#nullable enable

using System;
using System.Numerics;

namespace FlowGen;

/// <summary>
/// A fast seedable pseudo-random number generator: xoshiro256** (Blackman and Vigna) with its 256-bit state seeded
/// from a 64-bit seed by SplitMix64. Every method's output is a fixed function of the seed and the sequence of calls,
/// identical on every platform (it uses no System.Math transcendental functions). Not thread-safe; not cryptographic.
/// </summary>
/// <remarks>
/// <para>Seeding: with z = seed, the state words s0, s1, s2, s3 are four successive SplitMix64 outputs:
/// z += 0x9E3779B97F4A7C15; r = z; r = (r ^ (r &gt;&gt; 30))·0xBF58476D1CE4E5B9; r = (r ^ (r &gt;&gt; 27))·0x94D049BB133111EB; output r ^ (r &gt;&gt; 31).</para>
/// <para>Step (<see cref="NextUInt64"/>): result = rotl(s1·5, 7)·9; t = s1 &lt;&lt; 17; s2 ^= s0; s3 ^= s1; s1 ^= s2; s0 ^= s3; s2 ^= t; s3 = rotl(s3, 45).</para>
/// </remarks>
public sealed class FlowRandom
{
    private ulong _s0, _s1, _s2, _s3;

    /// <summary>A generator whose state is four successive SplitMix64 outputs started from <paramref name="seed"/>.</summary>
    /// <param name="seed">The seed; every seed gives a distinct, valid (non-zero) state.</param>
    public FlowRandom(ulong seed)
    {
        ulong z = seed;
        _s0 = SplitMix64(ref z);
        _s1 = SplitMix64(ref z);
        _s2 = SplitMix64(ref z);
        _s3 = SplitMix64(ref z);
    }

    private FlowRandom(ulong s0, ulong s1, ulong s2, ulong s3)
    {
        _s0 = s0; _s1 = s1; _s2 = s2; _s3 = s3;
    }

    private static ulong SplitMix64(ref ulong state)
    {
        state += 0x9E3779B97F4A7C15UL;
        ulong z = state;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    /// <summary>The next 64 random bits (one xoshiro256** step).</summary>
    /// <returns>A uniformly distributed 64-bit value.</returns>
    public ulong NextUInt64()
    {
        ulong s0 = _s0, s1 = _s1, s2 = _s2, s3 = _s3;
        ulong result = BitOperations.RotateLeft(s1 * 5, 7) * 9;
        ulong t = s1 << 17;
        s2 ^= s0;
        s3 ^= s1;
        s1 ^= s2;
        s0 ^= s3;
        s2 ^= t;
        s3 = BitOperations.RotateLeft(s3, 45);
        _s0 = s0; _s1 = s1; _s2 = s2; _s3 = s3;
        return result;
    }

    /// <summary>The upper 32 bits of <see cref="NextUInt64"/>.</summary>
    /// <returns>A uniformly distributed 32-bit value.</returns>
    public uint NextUInt32() => (uint)(NextUInt64() >> 32);

    /// <summary>A double in [0, 1): (NextUInt64() &gt;&gt; 11)·2^−53 (53 random bits).</summary>
    /// <returns>A uniform value in [0, 1).</returns>
    public double NextDouble() => (NextUInt64() >> 11) * (1.0 / 9007199254740992.0);

    /// <summary>A float in [0, 1): (NextUInt64() &gt;&gt; 40)·2^−24 (24 random bits).</summary>
    /// <returns>A uniform value in [0, 1).</returns>
    public float NextSingle() => (NextUInt64() >> 40) * (1.0f / 16777216.0f);

    /// <summary>
    /// An unbiased integer in [0, <paramref name="maxExclusive"/>) by Lemire's multiply-and-reject method on
    /// <see cref="NextUInt32"/>: m = x·max (64-bit); if the low 32 bits of m are below 2^32 mod max, draw again; result m &gt;&gt; 32.
    /// </summary>
    /// <param name="maxExclusive">Exclusive upper bound, at least 1.</param>
    /// <returns>A uniform integer in [0, maxExclusive).</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="maxExclusive"/> is less than 1.</exception>
    public int NextInt(int maxExclusive)
    {
        if (maxExclusive <= 0) throw new ArgumentOutOfRangeException(nameof(maxExclusive), "Must be positive.");
        uint max = (uint)maxExclusive;
        ulong m = (ulong)NextUInt32() * max;
        uint low = (uint)m;
        if (low < max)
        {
            uint threshold = (0u - max) % max;
            while (low < threshold)
            {
                m = (ulong)NextUInt32() * max;
                low = (uint)m;
            }
        }
        return (int)(m >> 32);
    }

    // Box-Muller: u1 = 1 - NextDouble() in (0, 1], u2 = NextDouble(); r = sqrt(-2 ln u1); (r cos 2 pi u2, r sin 2 pi u2).
    private void NextGaussianPair(out double z0, out double z1)
    {
        double u1 = 1.0 - NextDouble();
        double u2 = NextDouble();
        double r = Math.Sqrt(-2.0 * LogUnitInterval(u1));
        // 2 pi u2 = (pi/2) q + 2 pi f with q = round(4 u2) and f = u2 - q/4 in [-1/8, 1/8] (both exact)
        double q = Math.Round(4.0 * u2, MidpointRounding.ToEven);
        double f = u2 - 0.25 * q;
        SinCos2PiReduced(f, out double sin, out double cos);
        double c, s;
        switch ((int)q & 3)
        {
            case 0: c = cos; s = sin; break;
            case 1: c = -sin; s = cos; break;
            case 2: c = -cos; s = -sin; break;
            default: c = sin; s = -cos; break;
        }
        z0 = r * c;
        z1 = r * s;
    }

    /// <summary>
    /// A standard normal deviate by the Box–Muller transform: draws u1 = 1 − <see cref="NextDouble"/>() (in (0, 1]) and then
    /// u2 = <see cref="NextDouble"/>(), and returns √(−2 ln u1)·cos(2π u2). The sine value of the pair is discarded, so
    /// <c>NextGaussian()</c> equals the first value written by <see cref="FillGaussian(Span{double})"/> from the same state.
    /// ln, cos and sin are FlowGen's own (an fdlibm-style log and minimax polynomials after an exact quadrant reduction of u2),
    /// always with fused multiply-adds, so the sequence is the same on every platform.
    /// </summary>
    /// <returns>A sample of N(0, 1).</returns>
    public double NextGaussian()
    {
        NextGaussianPair(out double z0, out _);
        return z0;
    }

    /// <summary>
    /// Fills <paramref name="destination"/> with standard normal deviates: pairs (√(−2 ln u1)·cos 2πu2, √(−2 ln u1)·sin 2πu2)
    /// from successive uniform pairs (as in <see cref="NextGaussian"/>) are written in order; for an odd length the
    /// second value of the last pair is discarded.
    /// </summary>
    /// <param name="destination">The span to fill.</param>
    public void FillGaussian(Span<double> destination)
    {
        int n = destination.Length, i = 0;
        for (; i + 1 < n; i += 2)
        {
            NextGaussianPair(out destination[i], out destination[i + 1]);
        }
        if (i < n)
        {
            NextGaussianPair(out double z0, out _);
            destination[i] = z0;
        }
    }

    /// <summary>
    /// Fills <paramref name="destination"/> with standard normal deviates: the values of <see cref="FillGaussian(Span{double})"/>
    /// (computed in double) rounded to float. Same pairing and odd-length rule.
    /// </summary>
    /// <param name="destination">The span to fill.</param>
    public void FillGaussian(Span<float> destination)
    {
        int n = destination.Length, i = 0;
        for (; i + 1 < n; i += 2)
        {
            NextGaussianPair(out double z0, out double z1);
            destination[i] = (float)z0;
            destination[i + 1] = (float)z1;
        }
        if (i < n)
        {
            NextGaussianPair(out double z0, out _);
            destination[i] = (float)z0;
        }
    }

    /// <summary>
    /// Fills <paramref name="destination"/> with lo + (hi − lo)·u, u = <see cref="NextSingle"/>, computed in float
    /// (a multiplication then an addition). The values lie in [lo, hi) up to that rounding (hi itself can occur through rounding).
    /// </summary>
    /// <param name="destination">The span to fill.</param>
    /// <param name="lo">Lower bound.</param>
    /// <param name="hi">Upper bound.</param>
    public void FillUniform(Span<float> destination, float lo, float hi)
    {
        float width = hi - lo;
        for (int i = 0; i < destination.Length; i++)
            destination[i] = lo + width * NextSingle();
    }

    /// <summary>
    /// Fills <paramref name="destination"/> with lo + (hi − lo)·u, u = <see cref="NextDouble"/>, computed in double
    /// (a multiplication then an addition). The values lie in [lo, hi) up to that rounding.
    /// </summary>
    /// <param name="destination">The span to fill.</param>
    /// <param name="lo">Lower bound.</param>
    /// <param name="hi">Upper bound.</param>
    public void FillUniform(Span<double> destination, double lo, double hi)
    {
        double width = hi - lo;
        for (int i = 0; i < destination.Length; i++)
            destination[i] = lo + width * NextDouble();
    }

    /// <summary>Fisher–Yates shuffle: for i = n − 1 down to 1, swap element i with element <see cref="NextInt"/>(i + 1).</summary>
    /// <typeparam name="T">Element type.</typeparam>
    /// <param name="values">The span to permute in place.</param>
    public void Shuffle<T>(Span<T> values)
    {
        for (int i = values.Length - 1; i >= 1; i--)
        {
            int j = NextInt(i + 1);
            (values[i], values[j]) = (values[j], values[i]);
        }
    }

    /// <summary>Advances the state by 2^128 steps (the xoshiro256 jump function): equivalent to 2^128 calls of <see cref="NextUInt64"/>.</summary>
    public void Jump()
    {
        ReadOnlySpan<ulong> jump = [0x180EC6D33CFD0ABAUL, 0xD5A61266F0C9392CUL, 0xA9582618E03FC9AAUL, 0x39ABDC4529B1661CUL];
        ulong s0 = 0, s1 = 0, s2 = 0, s3 = 0;
        foreach (ulong word in jump)
        {
            for (int b = 0; b < 64; b++)
            {
                if ((word & (1UL << b)) != 0)
                {
                    s0 ^= _s0; s1 ^= _s1; s2 ^= _s2; s3 ^= _s3;
                }
                NextUInt64();
            }
        }
        _s0 = s0; _s1 = s1; _s2 = s2; _s3 = s3;
    }

    /// <summary>
    /// An independent generator for a parallel stream: returns a copy of this generator advanced by one <see cref="Jump"/>
    /// (2^128 steps), and advances this generator by two jumps. So this generator's past and future draws, the returned
    /// generator's first 2^128 draws, and the generators of later Fork calls never overlap, and the whole tree of
    /// streams is a deterministic function of the seed and the order of calls.
    /// </summary>
    /// <returns>The forked generator.</returns>
    public FlowRandom Fork()
    {
        FlowRandom child = Clone();
        child.Jump();
        Jump();
        Jump();
        return child;
    }

    /// <summary>An independent copy with the same state (it produces the same sequence as this generator).</summary>
    /// <returns>The copy.</returns>
    public FlowRandom Clone() => new FlowRandom(_s0, _s1, _s2, _s3);

    // ------------------------------------------------------------------------------------------------------------
    // The Gaussian's own ln and sin/cos.
    //
    // Why a second log next to Kernel.Log: the Gaussian stream is documented as a fixed function of the seed on every
    // machine (FlowRandomTests pins it bit for bit), but Kernel.Log uses Kernel.Mac, which is a fused multiply-add only
    // where the hardware has one (x64 with FMA, Arm64) and a multiplication then an addition elsewhere; System.Math's
    // Log/Sin/Cos are whatever the C runtime provides and differ between platforms. These helpers always use
    // Math.FusedMultiplyAdd, which is correctly rounded everywhere (in software where there is no FMA instruction), and
    // hold their own copy of the constants, so retuning the kernel's Log can never change anybody's random numbers.
    // LogUnitInterval is the algorithm of Kernel.Log(double) (fdlibm's reduction and polynomial) restricted to (0, 1]:
    // on hardware with FMA it returns the same bits as Kernel.Log.
    // ------------------------------------------------------------------------------------------------------------

    // Kernel.Log(double)'s constants (see there): log1p(f) = f - hfsq + s (hfsq + R(z)), s = f / (2 + f), z = s^2.
    private const double LogR1D = 0.666666666666667, LogR2D = 0.39999999999899866, LogR3D = 0.28571428625918166,
        LogR4D = 0.2222221113775807, LogR5D = 0.18182889126128715, LogR6D = 0.15331717820052002, LogR7D = 0.14616521976758415;
    private const double Ln2HiD = 6.93147180369123816490e-01; // 0x3FE62E42FEE00000, 32 significant bits
    private const double Ln2LoD = 1.90821492927058770002e-10; // ln 2 - Ln2HiD
    private const double DoubleMinNormal = 2.2250738585072014e-308;
    private const long SqrtHalfBitsD = 0x3FE6A09E667F3BCD;     // bits of sqrt(1/2): mantissas are reduced to [sqrt(1/2), sqrt(2))
    private const ulong MantissaMaskD = 0x000FFFFFFFFFFFFFUL;
    private const long ExponentOffsetD = 1024L << 52;
    private const ulong TwoP52Bits = 0x4330000000000000UL;      // bits of 2^52
    private const double TwoP52Plus1024 = 4503599627370496.0 + 1024.0;

    // sin(2 pi f) and cos(2 pi f) for |f| <= 1/8, degree 13 / 14 minimax polynomials.
    private static void SinCos2PiReduced(double f, out double sin, out double cos)
    {
        double z = f * f;
        double s = Math.FusedMultiplyAdd(3.7761210919908, z, -15.093562599270248);
        s = Math.FusedMultiplyAdd(s, z, 42.058680289090525);
        s = Math.FusedMultiplyAdd(s, z, -76.70585965977858);
        s = Math.FusedMultiplyAdd(s, z, 81.60524927574441);
        s = Math.FusedMultiplyAdd(s, z, -41.341702240399236);
        s = Math.FusedMultiplyAdd(s, z, 6.283185307179586);
        sin = s * f;
        double c = Math.FusedMultiplyAdd(-1.6929816626426644, z, 7.902869416918028);
        c = Math.FusedMultiplyAdd(c, z, -26.426245843951058);
        c = Math.FusedMultiplyAdd(c, z, 60.24464127097987);
        c = Math.FusedMultiplyAdd(c, z, -85.45681720617853);
        c = Math.FusedMultiplyAdd(c, z, 64.93939402266697);
        c = Math.FusedMultiplyAdd(c, z, -19.739208802178716);
        cos = Math.FusedMultiplyAdd(c, z, 1.0);
    }

    // ln x for x in (0, 1], the algorithm of Kernel.Log(double) with an always-fused multiply-add.
    private static double LogUnitInterval(double x)
    {
        bool sub = x < DoubleMinNormal;
        double xs = sub ? x * 4503599627370496.0 : x;
        double kadj = sub ? 52.0 : 0.0;
        long d = BitConverter.DoubleToInt64Bits(xs) - SqrtHalfBitsD;
        double k = BitConverter.Int64BitsToDouble((long)((ulong)(d + ExponentOffsetD) >> 52) | (long)TwoP52Bits) - TwoP52Plus1024 - kadj;
        double f = BitConverter.Int64BitsToDouble((d & (long)MantissaMaskD) + SqrtHalfBitsD) - 1.0;
        double hfsq = 0.5 * f * f;
        double s = f / (2.0 + f);
        double z = s * s;
        double p = Math.FusedMultiplyAdd(LogR7D, z, LogR6D);
        p = Math.FusedMultiplyAdd(p, z, LogR5D);
        p = Math.FusedMultiplyAdd(p, z, LogR4D);
        p = Math.FusedMultiplyAdd(p, z, LogR3D);
        p = Math.FusedMultiplyAdd(p, z, LogR2D);
        p = Math.FusedMultiplyAdd(p, z, LogR1D);
        double rz = p * z;
        double y = f + Math.FusedMultiplyAdd(s, hfsq + rz, -hfsq);
        y = Math.FusedMultiplyAdd(k, Ln2LoD, y);
        return Math.FusedMultiplyAdd(k, Ln2HiD, y);
    }
}
