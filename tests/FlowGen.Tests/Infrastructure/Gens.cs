using System;
using System.Collections.Generic;
using System.Linq;
using CsCheck;

namespace FlowGen.Tests.Infrastructure;

/// <summary>
/// CsCheck generator primitives whose <see cref="Size"/> says how complex a value is: 0 for the simplest choice (false,
/// the lowest value of a range, the first of a list, a default), growing with the value. CsCheck shrinks a failing case by
/// looking for failing cases of smaller size, so these sizes are what make a failure shrink towards a small model (few
/// couplings, small Dim, no hidden layers, default options). Sizes are flat (one number), so that
/// <see cref="Gen.Select{T1, T2, R}(Gen{T1}, Gen{T2}, Func{T1, T2, R})"/> adds them up; <c>SelectMany</c> (query syntax)
/// appends the size of the dependent part after the size of what it depends on.
/// </summary>
public static class Gens
{
    /// <summary>A uniform number in [0, 1) from the generator (32 bits).</summary>
    private static double Unit(PCG pcg) => pcg.Next() * (1.0 / 4294967296.0);

    private sealed class ChanceGen(double p) : Gen<bool>
    {
        public override bool Generate(PCG pcg, Size? min, out Size size)
        {
            bool v = Unit(pcg) < p;
            size = new Size(v ? 1UL : 0UL);
            return v;
        }
    }

    /// <summary>True with probability <paramref name="p"/>; size 1 for true, 0 for false.</summary>
    public static Gen<bool> Chance(double p) => new ChanceGen(p);

    private sealed class WeightedGen((double Weight, int Lo, int Hi)[] ranges, int lowest) : Gen<int>
    {
        private readonly double _total = ranges.Sum(r => r.Weight);

        public override int Generate(PCG pcg, Size? min, out Size size)
        {
            double u = Unit(pcg) * _total;
            var (_, lo, hi) = ranges[^1];
            foreach (var r in ranges)
            {
                if (u < r.Weight) { (lo, hi) = (r.Lo, r.Hi); break; }
                u -= r.Weight;
            }
            int v = lo + (int)pcg.Next((uint)((long)hi - lo + 1));
            size = new Size((ulong)((long)v - lowest));
            return v;
        }
    }

    /// <summary>An int in [<paramref name="lo"/>, <paramref name="hi"/>], uniform; size = value − lo.</summary>
    public static Gen<int> Int(int lo, int hi) => Weighted((1, lo, hi));

    /// <summary>An int uniform in one of the ranges, chosen by weight; size = value − the lowest value of all ranges.</summary>
    public static Gen<int> Weighted(params (double Weight, int Lo, int Hi)[] ranges)
    {
        if (ranges.Length == 0 || ranges.Any(r => r.Hi < r.Lo || !(r.Weight > 0))) throw new ArgumentException("empty or invalid ranges");
        return new WeightedGen(ranges, ranges.Min(r => r.Lo));
    }

    private sealed class OneOfGen<T>(T[] items) : Gen<T>
    {
        public override T Generate(PCG pcg, Size? min, out Size size)
        {
            uint i = pcg.Next((uint)items.Length);
            size = new Size(i);
            return items[i];
        }
    }

    /// <summary>One of the items, uniform; size = its index (list the simplest first).</summary>
    public static Gen<T> OneOf<T>(IReadOnlyList<T> items)
    {
        if (items.Count == 0) throw new ArgumentException("no items");
        return new OneOfGen<T>(items.ToArray());
    }

    private sealed class ConstGen<T>(T value, ulong weight) : Gen<T>
    {
        public override T Generate(PCG pcg, Size? min, out Size size)
        {
            size = new Size(weight);
            return value;
        }
    }

    /// <summary>Always <paramref name="value"/>, with the given size.</summary>
    public static Gen<T> Const<T>(T value, ulong size = 0) => new ConstGen<T>(value, size);

    private sealed class FrequencyGen<T>((double Weight, Gen<T> Gen)[] gens) : Gen<T>
    {
        private readonly double _total = gens.Sum(g => g.Weight);

        public override T Generate(PCG pcg, Size? min, out Size size)
        {
            double u = Unit(pcg) * _total;
            Gen<T> chosen = gens[^1].Gen;
            foreach (var (weight, gen) in gens)
            {
                if (u < weight) { chosen = gen; break; }
                u -= weight;
            }
            return chosen.Generate(pcg, null, out size);
        }
    }

    /// <summary>A value from one of the generators, chosen by weight; its size is that generator's (not the choice's).</summary>
    public static Gen<T> Frequency<T>(params (double Weight, Gen<T> Gen)[] gens)
    {
        if (gens.Length == 0 || gens.Any(g => !(g.Weight > 0))) throw new ArgumentException("no generators or a weight that is not positive");
        return new FrequencyGen<T>(gens);
    }

    /// <summary><paramref name="usual"/> (size 0) with probability <paramref name="p"/>, otherwise a value of <paramref name="other"/> (size 1 + its size).</summary>
    public static Gen<T> Usually<T>(double p, T usual, Gen<T> other) => Frequency((p, Const(usual)), (1 - p, Sized(other, 1)));

    /// <summary><paramref name="usual"/> (size 0) with probability <paramref name="p"/>, otherwise one of <paramref name="others"/> (size 1 + index).</summary>
    public static Gen<T> Usually<T>(double p, T usual, IReadOnlyList<T> others) => Usually(p, usual, OneOf(others));

    private sealed class SizedGen<T>(Gen<T> gen, ulong add, bool replace) : Gen<T>
    {
        public override T Generate(PCG pcg, Size? min, out Size size)
        {
            T v = gen.Generate(pcg, null, out Size s);
            size = new Size(replace ? add : Flat(s) + add);
            return v;
        }
    }

    /// <summary>The values of <paramref name="gen"/> with <paramref name="add"/> added to their (flattened) size.</summary>
    public static Gen<T> Sized<T>(Gen<T> gen, ulong add) => new SizedGen<T>(gen, add, replace: false);

    /// <summary>The values of <paramref name="gen"/>, all of size <paramref name="size"/> (e.g. a seed: any value is as simple as another).</summary>
    public static Gen<T> WithSize<T>(Gen<T> gen, ulong size) => new SizedGen<T>(gen, size, replace: true);

    /// <summary>(true, a value) with probability <paramref name="p"/> (size 1 + the value's), else (false, default) (size 0).</summary>
    public static Gen<(bool Has, T Value)> Maybe<T>(double p, Gen<T> gen) =>
        Frequency((1 - p, Const((false, default(T)!))), (p, Sized(gen.Select(v => (true, v)), 1)));

    private sealed class ArrayGen<T>(Gen<T> item, Gen<int> count) : Gen<T[]>
    {
        public override T[] Generate(PCG pcg, Size? min, out Size size)
        {
            int n = count.Generate(pcg, null, out Size sn);
            ulong total = Flat(sn);
            var items = new T[n];
            for (int i = 0; i < n; i++)
            {
                items[i] = item.Generate(pcg, null, out Size si);
                total = Saturate(total, Flat(si));
            }
            size = new Size(total);
            return items;
        }
    }

    /// <summary>An array of <paramref name="count"/> items; size = the count's size plus the items' sizes.</summary>
    public static Gen<T[]> ArrayOf<T>(Gen<T> item, Gen<int> count) => new ArrayGen<T>(item, count);

    /// <summary>An array of exactly <paramref name="count"/> items; size = the items' sizes.</summary>
    public static Gen<T[]> ArrayOf<T>(Gen<T> item, int count) => new ArrayGen<T>(item, Const(count));

    /// <summary>A size as one number: the sum of its chain (saturating).</summary>
    public static ulong Flat(Size s)
    {
        ulong total = 0;
        for (Size? p = s; p is not null; p = p.Next) total = Saturate(total, p.I);
        return total;
    }

    private static ulong Saturate(ulong a, ulong b) => a + b < a ? ulong.MaxValue : a + b;
}
