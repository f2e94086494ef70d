using System;
using System.Linq;
using FlowGen.Generator.Diagnostics;
using FlowGen.Generator.Emit;
using FlowGen.Generator.Model;
using FlowGen.Generator.Parsing;
using FlowGen.Generator.Planning;
using Microsoft.CodeAnalysis;
using FlowGen.Generator.Spec;

namespace FlowGen.Generator.Layers;

/// <summary>A fixed permutation: output i takes input Order[i].</summary>
internal sealed record PermutationLayer(EquatableArray<int> Order, string Description) : LayerModel
{
    public override LayerKind Kind => PermutationLayerKind.Instance;
}

/// <summary>
/// Permutation layers (docs/model.md §4): y_i = x_Order[i], log-det 0. They cost nothing at run time: the plan renames the
/// rows that hold each coordinate, so later layers read their inputs from the permuted rows and no code is emitted.
/// </summary>
internal sealed class PermutationLayerKind : LayerKind
{
    public static readonly PermutationLayerKind Instance = new();

    public override string SpecName => "permutation";

    public override string AttributeName => "PermuteAttribute";

    /// <summary>
    /// [Permute(kind)] or [Permute(i₀, i₁, …)], and Seed (only with PermutationKind.Random); every problem is reported (the
    /// order or kind, and Seed). With Dim invalid an explicit order cannot be checked and is not.
    /// </summary>
    public override LayerModel? Read(LayerAttributeContext c)
    {
        AttributeReader reader = c.Options;
        LocationInfo? loc = c.Location;
        if (c.ConstructorArguments.Length != 1) return null; // does not bind: the compiler reports it
        TypedConstant arg = c.ConstructorArguments[0];
        int? dim = c.Dim;
        string last = dim is int n ? (n - 1).ToString(System.Globalization.CultureInfo.InvariantCulture) : "Dim − 1";
        bool valid = true;
        if (arg.Kind == TypedConstantKind.Array)
        {
            int[]? order = null;
            if (arg.IsNull)
            {
                c.Report(DiagnosticDescriptors.InvalidPermutation, loc, "null", last);
                valid = false;
            }
            else
            {
                order = arg.Values.Select(v => v.Value is int i ? i : -1).ToArray();
                if (dim is int d && !(order.Length == d && order.OrderBy(i => i).SequenceEqual(Enumerable.Range(0, d))))
                {
                    c.Report(DiagnosticDescriptors.InvalidPermutation, loc, string.Join(", ", order), last);
                    valid = false;
                }
            }
            if (reader.IsSet("Seed"))
            {
                c.Report(DiagnosticDescriptors.ConflictingOptions, reader.Location("Seed"), "Seed applies only to PermutationKind.Random");
                valid = false;
            }
            return valid && dim is not null && order is not null ? new PermutationLayer(order.ToEquatableArray(), "explicit order") : null;
        }
        int kindValue = arg.Value is int k ? k : -1;
        RuntimeEnum kinds = c.Runtime.Enum("PermutationKind");
        if (!kinds.Declares(kindValue))
        {
            // whether Seed applies depends on the kind: not checked for an unknown kind
            c.Report(DiagnosticDescriptors.UnknownEnumValue, loc, "Permute kind", kindValue, kinds.Name);
            return null;
        }
        if (kinds.Meaning<PermutationKind>(kindValue, loc) is not PermutationKind kind) return null; // FG0022
        if (kind == PermutationKind.None)
        {
            c.Report(DiagnosticDescriptors.InvalidOption, loc, "The kind of [Permute]", "Reverse or Random (or give an explicit order)", "None");
            valid = false;
        }
        if (kind != PermutationKind.Random && reader.IsSet("Seed"))
        {
            c.Report(DiagnosticDescriptors.ConflictingOptions, reader.Location("Seed"), "Seed applies only to PermutationKind.Random");
            valid = false;
        }
        if (!valid || dim is not int size) return null;
        return Of(kind, size, reader.IsSet("Seed") ? reader.Int("Seed", 0) : c.DerivedSeed);
    }

    /// <summary>A permutation of a kind other than None (reverse, or random from <paramref name="seed"/>) of <paramref name="dim"/> coordinates.</summary>
    public static PermutationLayer Of(PermutationKind kind, int dim, int seed)
    {
        if (kind == PermutationKind.Reverse)
        {
            return new PermutationLayer(Enumerable.Range(0, dim).Reverse().ToEquatableArray(), "reverse");
        }
        return new PermutationLayer(RandomPermutation(dim, seed).ToEquatableArray(), $"random, seed {seed}");
    }

    /// <summary>The seeded Fisher–Yates shuffle of docs/model.md §4 (SplitMix64).</summary>
    public static int[] RandomPermutation(int dim, int seed)
    {
        ulong state = unchecked((ulong)(long)seed);
        ulong Next()
        {
            unchecked
            {
                state += 0x9E3779B97F4A7C15UL;
                ulong z = state;
                z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
                z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
                return z ^ (z >> 31);
            }
        }
        int[] perm = Enumerable.Range(0, dim).ToArray();
        for (int i = dim - 1; i >= 1; i--)
        {
            int j = (int)(Next() % (ulong)(i + 1));
            (perm[i], perm[j]) = (perm[j], perm[i]);
        }
        return perm;
    }

    public override bool HasCode => false;

    public override int[] MapAfter(LayerModel layer, int[] mapBefore)
    {
        var perm = (PermutationLayer)layer;
        var after = new int[mapBefore.Length];
        for (int i = 0; i < after.Length; i++) after[i] = mapBefore[perm.Order[i]];
        return after;
    }

    public override object Plan(LayerModel layer, LayoutBuilder b) => new object();

    public override string ShapeStem(LayerModel layer) => "Permutation";

    public override string Title(LayerModel layer) => "Permutation";

    public override string Describe(LayerPlan l)
    {
        var p = (PermutationLayer)l.Layer;
        return "permutation [" + Literals.List(p.Order) + "] (" + p.Description + ")";
    }

    public override string Formula(LayerPlan l) => "y_i = x_Order[i], log-det 0: the rows are renamed, no code runs";

    public override void WriteSpec(LayerModel layer, JsonWriter j) => j.Name("order").Ints(((PermutationLayer)layer).Order);

    public override void EmitShape(ShapeContext e, LayerPlan l) => throw new InvalidOperationException("a permutation has no code");
}
