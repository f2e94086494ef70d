// Random valid FlowConfigs for differential tests of the generated code against ReferenceFlow: a CsCheck generator
// composed from the parts (so that a failing config shrinks), and a seeded stream of it.

#nullable enable

using System;
using System.Collections.Generic;
using System.Linq;
using CsCheck;
using FlowGen.Tests.Infrastructure;

namespace FlowGen.Tests.Reference;

/// <summary>What <see cref="FlowConfigGen"/> (and <see cref="ConfigGenerator"/>) may produce.</summary>
public sealed record ConfigGeneratorOptions
{
    public static readonly CouplingKind[] AllKinds =
        [CouplingKind.Affine, CouplingKind.Additive, CouplingKind.SumOfSquares, CouplingKind.DeepSigmoidal, CouplingKind.Spline];

    /// <summary>Only affine and additive couplings.</summary>
    public static ConfigGeneratorOptions AffineAdditive { get; } = new() { CouplingKinds = [CouplingKind.Affine, CouplingKind.Additive] };

    /// <summary>Every feature.</summary>
    public static ConfigGeneratorOptions All { get; } = new();

    /// <summary>Coupling kinds to draw from (non-empty).</summary>
    public IReadOnlyList<CouplingKind> CouplingKinds { get; init; } = AllKinds;

    public int MinDim { get; init; } = 2;

    public int MaxDim { get; init; } = 33;

    public int MaxCouplings { get; init; } = 16;

    public int MaxHiddenLayers { get; init; } = 3;

    public int MaxHiddenWidth { get; init; } = 24;

    public int MaxContext { get; init; } = 4;

    /// <summary>Configs with more parameters than this are redrawn.</summary>
    public int MaxParameters { get; init; } = 20000;

    public bool AllowFloat { get; init; } = true;

    public bool AllowDouble { get; init; } = true;

    public bool AllowContext { get; init; } = true;

    public bool AllowActNorm { get; init; } = true;

    public bool AllowInvertibleLinear { get; init; } = true;

    public bool AllowPermutations { get; init; } = true;

    public bool AllowUniform { get; init; } = true;

    public bool AllowExplicit { get; init; } = true;

    /// <summary>Give most configs a non-zero <see cref="FlowConfig.RenderStyle"/> (syntactic variations).</summary>
    public bool VaryRendering { get; init; } = true;

    public string Summary =>
        $"kinds={string.Join("/", CouplingKinds)} dim={MinDim}..{MaxDim} couplings<={MaxCouplings} maxParams={MaxParameters}" +
        (AllowFloat ? "" : " noFloat") + (AllowDouble ? "" : " noDouble") + (AllowContext ? "" : " noContext") +
        (AllowActNorm ? "" : " noActNorm") + (AllowInvertibleLinear ? "" : " noInvLinear") + (AllowPermutations ? "" : " noPerm") +
        (AllowUniform ? "" : " noUniform") + (AllowExplicit ? "" : " noExplicit");
}

/// <summary>
/// A seeded stream of random valid <see cref="FlowConfig"/>s drawn from <see cref="FlowConfigGen.For"/> (a CsCheck
/// generator). Each config records the CsCheck seed it was drawn from (<see cref="FlowConfig.Origin"/>, and
/// <see cref="ConfigOrigins"/> for shrinking), so <see cref="FromSeed(string, ConfigGeneratorOptions?)"/> reproduces a single
/// failing config and <see cref="Shrinking"/> can shrink it.
/// </summary>
public sealed class ConfigGenerator
{
    /// <summary>The PCG stream of config generation (any fixed value: it only has to be the same in every run).</summary>
    private const uint Stream = 20261128;

    private readonly CsCheck.PCG pcg;
    private readonly CsCheck.Gen<FlowConfig> gen;

    public ConfigGenerator(int seed, ConfigGeneratorOptions? options = null)
    {
        Options = options ?? ConfigGeneratorOptions.All;
        if (Options.CouplingKinds.Count == 0) throw new ArgumentException("no coupling kinds allowed");
        pcg = new CsCheck.PCG(Stream, unchecked((ulong)seed));
        gen = FlowConfigGen.For(Options);
    }

    /// <summary>Restricts the coupling kinds (e.g. <c>new ConfigGenerator(1, CouplingKind.Affine, CouplingKind.Additive)</c>).</summary>
    public ConfigGenerator(int seed, params CouplingKind[] kinds)
        : this(seed, new ConfigGeneratorOptions { CouplingKinds = kinds })
    {
    }

    public ConfigGeneratorOptions Options { get; }

    /// <summary>The next config of the stream.</summary>
    public FlowConfig Next()
    {
        ulong state = pcg.State;
        FlowConfig config = gen.Generate(pcg, null, out _);
        return Tag(config, pcg.ToString(state), gen, Options, null);
    }

    /// <summary>The next <paramref name="count"/> configs.</summary>
    public List<FlowConfig> Take(int count)
    {
        var list = new List<FlowConfig>(count);
        for (int i = 0; i < count; i++) list.Add(Next());
        return list;
    }

    /// <summary>The first config of the stream of <paramref name="seed"/>.</summary>
    public static FlowConfig FromSeed(int seed, ConfigGeneratorOptions? options = null)
    {
        var generator = new ConfigGenerator(seed, options);
        ulong state = generator.pcg.State;
        FlowConfig config = generator.gen.Generate(generator.pcg, null, out _);
        return Tag(config, generator.pcg.ToString(state), generator.gen, generator.Options, $"ConfigGenerator.FromSeed({seed})");
    }

    /// <summary>The config of a CsCheck seed (as printed in <see cref="FlowConfig.Origin"/> or by a shrunk failure).</summary>
    public static FlowConfig FromSeed(string seed, ConfigGeneratorOptions? options = null)
    {
        options ??= ConfigGeneratorOptions.All;
        CsCheck.Gen<FlowConfig> gen = FlowConfigGen.For(options);
        return Tag(gen.Generate(CsCheck.PCG.Parse(seed), null, out _), seed, gen, options, null);
    }

    /// <summary>The CsCheck generator of configs within the options (see <see cref="FlowConfigGen"/>).</summary>
    public static CsCheck.Gen<FlowConfig> AsGen(ConfigGeneratorOptions? options = null) => FlowConfigGen.For(options);

    private static FlowConfig Tag(FlowConfig config, string seed, CsCheck.Gen<FlowConfig> gen, ConfigGeneratorOptions options, string? name)
    {
        FlowConfig tagged = config with { Origin = $"{(name is null ? "" : name + ", ")}CsCheck seed \"{seed}\" [{options.Summary}]" };
        ConfigOrigins.Register(tagged, gen, seed);
        return tagged;
    }
}

/// <summary>The CsCheck generator and seed each generated config came from (by reference: a <c>with</c> copy has none).</summary>
public static class ConfigOrigins
{
    public sealed record Origin(CsCheck.Gen<FlowConfig> Gen, string Seed);

    private static readonly System.Runtime.CompilerServices.ConditionalWeakTable<FlowConfig, Origin> s_origins = new();

    public static void Register(FlowConfig config, CsCheck.Gen<FlowConfig> gen, string seed) => s_origins.AddOrUpdate(config, new Origin(gen, seed));

    public static Origin? Of(FlowConfig config) => s_origins.TryGetValue(config, out Origin? origin) ? origin : null;
}

/// <summary>
/// A CsCheck generator of valid <see cref="FlowConfig"/>s composed from generators of the parts — couplings, Dim,
/// context, precision, seed, mask, hidden widths, activation, transformer options; then the stack: uniform (kind,
/// permutation, ActNorm, LU) or explicit (per coupling: ActNorm, LU, a coupling with its own mask, hidden widths,
/// activation and kind options, a permutation). Every part has a size that grows with its complexity (see
/// <see cref="Gens"/>), so CsCheck shrinks a failing config towards few couplings, a small Dim, narrow or no hidden
/// layers, no context and default options. The distribution is the one the suite was tuned with.
/// </summary>
public static class FlowConfigGen
{
    private static readonly double[] ClampValues = [0.0, 0.5, 1.0, 1.5, 2.0, 3.0, 5.0];

    private static readonly double[] BoundValues = [1.0, 2.0, 2.5, 3.0, 4.0, 5.0];

    private static readonly global::FlowGen.Activation[] Activations =
    [
        global::FlowGen.Activation.Tanh, global::FlowGen.Activation.Relu, global::FlowGen.Activation.Softplus,
        global::FlowGen.Activation.Elu, global::FlowGen.Activation.Gelu, global::FlowGen.Activation.Silu,
    ];

    /// <summary>Mask choice of [CouplingFlow]: Halves, Parity, SingleCoordinate or a MaskPattern.</summary>
    private enum FlowMask { Halves, Parity, SingleCoordinate, Pattern }

    private sealed record Head(string Precision, int Dim, int Couplings, int Context, int Seed, FlowMask Mask, int[] Hidden, global::FlowGen.Activation Activation);

    private sealed record Transformer(double Clamp, int Degree, int Squares, int SigmoidUnits, int SigmoidLayers, int Bins, double Bound, int RenderStyle);

    /// <summary>Configs within <paramref name="options"/> (default: every feature).</summary>
    public static Gen<FlowConfig> For(ConfigGeneratorOptions? options = null)
    {
        ConfigGeneratorOptions o = options ?? ConfigGeneratorOptions.All;
        if (o.CouplingKinds.Count == 0) throw new ArgumentException("no coupling kinds allowed");
        if (!o.AllowFloat && !o.AllowDouble) throw new ArgumentException("neither float nor double allowed");
        if (!o.AllowUniform && !o.AllowExplicit) throw new ArgumentException("neither uniform nor explicit stacks allowed");

        int maxDim = Math.Max(o.MinDim, o.MaxDim);
        Gen<string> precision = !o.AllowFloat ? Gens.Const("double") : !o.AllowDouble ? Gens.Const("float") : Gens.Usually(0.65, "double", ["float"]);
        Gen<int> dim = Gens.Weighted((0.5, o.MinDim, Math.Max(o.MinDim, Math.Min(8, maxDim))), (0.5, o.MinDim, maxDim));
        Gen<int> couplings = Gens.Weighted((0.5, 1, 4), (0.35, 5, 8), (0.15, 9, 16)).Select(c => Math.Max(1, Math.Min(c, o.MaxCouplings)));
        Gen<int> context = o.AllowContext && o.MaxContext > 0
            ? Gens.Maybe(0.3, Gens.Int(1, o.MaxContext)).Select(m => m.Has ? m.Value : 0)
            : Gens.Const(0);
        // Negative seeds stay far below −2 so that Seed + stack index never hits the attributes' sentinels −1 / −2; any seed is as simple as another.
        Gen<int> seed = Gens.Frequency(
            (0.45, Gens.Const(0)),
            (0.40, Gens.WithSize(Gens.Int(1, 999_999), 1)),
            (0.15, Gens.WithSize(Gens.Int(1000, 999_999).Select(v => -v), 1)));
        Gen<FlowMask> mask = Gens.Frequency(
            (0.30, Gens.Const(FlowMask.Halves)), (0.25, Gens.Const(FlowMask.Parity, 1)),
            (0.20, Gens.Const(FlowMask.SingleCoordinate, 1)), (0.25, Gens.Const(FlowMask.Pattern, 2)));
        Gen<int[]> hidden = Gens.Frequency((0.97, Hidden(o)), (0.03, Gens.Const(FlowConfig.DefaultHidden, 200)));
        Gen<global::FlowGen.Activation> activation = Gens.OneOf(Activations);

        Gen<Head> head = Gen.Select(precision, dim, couplings, context, seed, mask, hidden, activation,
            (p, d, c, ctx, s, m, h, a) => new Head(p, d, c, ctx, s, m, h, a));
        Gen<Transformer> transformer = Gen.Select(
            Gens.Usually(0.4, 2.0, ClampValues),
            Gens.Usually(0.4, 2, Gens.Int(1, 3)),
            Gens.Usually(0.4, 3, Gens.Int(1, 4)),
            Gens.Usually(0.1, 8, Gens.Int(1, 6)),
            Gens.Usually(0.5, 1, Gens.Int(1, 3)),
            Gens.Usually(0.2, 8, Gens.Int(2, 10)),
            Gens.Usually(0.4, 3.0, BoundValues),
            o.VaryRendering ? Gens.Maybe(0.7, Gens.WithSize(Gens.Int(1, int.MaxValue - 1), 0)).Select(m => m.Has ? m.Value : 0) : Gens.Const(0),
            (clamp, degree, squares, units, blocks, bins, bound, style) => new Transformer(clamp, degree, squares, units, blocks, bins, bound, style));

        Gen<FlowConfig> configs =
            from h in head
            from t in transformer
            from pattern in h.Mask == FlowMask.Pattern ? Pattern(h.Dim).Select(p => (string?)p) : Gens.Const<string?>(null)
            let flow = new FlowConfig
            {
                Precision = h.Precision,
                Dim = h.Dim,
                Context = h.Context,
                Seed = h.Seed,
                Mask = h.Mask switch { FlowMask.Parity => MaskKind.Parity, FlowMask.SingleCoordinate => MaskKind.SingleCoordinate, _ => MaskKind.Halves },
                MaskPattern = pattern,
                Hidden = h.Hidden,
                Activation = h.Activation,
                Clamp = t.Clamp,
                Degree = t.Degree,
                Squares = t.Squares,
                SigmoidUnits = t.SigmoidUnits,
                SigmoidLayers = t.SigmoidLayers,
                Bins = t.Bins,
                Bound = t.Bound,
                RenderStyle = t.RenderStyle,
            }
            from stacked in Stack(o, flow, h.Couplings)
            select stacked;
        return configs.Where(c =>
        {
            c.Validate();
            return c.ParameterCount <= o.MaxParameters;
        });
    }

    /// <summary>Hidden widths: 0–3 layers (at most MaxHiddenLayers), each 1–8 or 1–MaxHiddenWidth wide.</summary>
    private static Gen<int[]> Hidden(ConfigGeneratorOptions o)
    {
        int layers = Math.Max(0, o.MaxHiddenLayers);
        Gen<int> count = Gens.Weighted((0.15, 0, 0), (0.35, 1, 1), (0.35, 2, 2), (0.15, 3, 3)).Select(n => Math.Min(n, layers));
        Gen<int> width = Gens.Weighted((0.5, 1, Math.Min(8, o.MaxHiddenWidth)), (0.5, 1, o.MaxHiddenWidth));
        return Gens.ArrayOf(width, count);
    }

    private sealed class PatternGen(int dim) : Gen<string>
    {
        public override string Generate(PCG pcg, Size? min, out Size size)
        {
            while (true)
            {
                var chars = new char[dim];
                for (int i = 0; i < dim; i++) chars[i] = (pcg.Next() & 1) == 0 ? '0' : '1';
                if (chars.Contains('0') && chars.Contains('1'))
                {
                    size = new Size(0);
                    return new string(chars);
                }
            }
        }
    }

    /// <summary>A random valid mask pattern of length <paramref name="dim"/> (at least one '0' and one '1').</summary>
    public static Gen<string> Pattern(int dim) => new PatternGen(dim);

    /// <summary>The stack: uniform (size 0) or explicit (size 1).</summary>
    private static Gen<FlowConfig> Stack(ConfigGeneratorOptions o, FlowConfig flow, int couplings)
    {
        Gen<bool> isExplicit = !o.AllowUniform ? Gens.Const(true) : !o.AllowExplicit ? Gens.Const(false) : Gens.Chance(0.6);
        return isExplicit.SelectMany(e => e ? Explicit(o, flow, couplings) : Uniform(o, flow, couplings));
    }

    private static Gen<FlowConfig> Uniform(ConfigGeneratorOptions o, FlowConfig flow, int couplings) =>
        Gen.Select(
            o.AllowPermutations
                ? Gens.Frequency((0.4, Gens.Const(PermutationKind.None)), (0.3, Gens.Const(PermutationKind.Reverse, 1)), (0.3, Gens.Const(PermutationKind.Random, 1)))
                : Gens.Const(PermutationKind.None),
            Gens.OneOf(o.CouplingKinds),
            o.AllowActNorm ? Gens.Chance(0.2) : Gens.Const(false),
            o.AllowInvertibleLinear ? Gens.Frequency((0.8, Gens.Const(0)), (0.1, Gens.Const(1)), (0.1, Gens.Const(2))) : Gens.Const(0),
            (permutation, kind, actNorm, lu) => flow with
            {
                Layers = couplings, Coupling = kind, Permutation = permutation, ActNorm = actNorm,
                InvertibleLinear = lu != 0, InvertibleLinearPermute = lu != 2, // 1: P seeded, 2: P = identity
            });

    /// <summary>
    /// An explicit stack: sometimes every coupling inherits everything (the uniform options through the explicit path);
    /// a leading permutation; per coupling an optional ActNorm and LU before it and a permutation after it; a trailing ActNorm.
    /// </summary>
    private static Gen<FlowConfig> Explicit(ConfigGeneratorOptions o, FlowConfig flow, int couplings) =>
        from own in Gens.Chance(0.85) // false: every coupling is plain (simplest)
        from plainKind in Gens.OneOf(o.CouplingKinds)
        from lead in o.AllowPermutations ? Gens.Maybe(0.1, Permute(flow.Dim)) : Gens.Const<(bool Has, PermuteLayer Value)>((false, null!))
        from blocks in Gens.ArrayOf(Block(o, flow, own ? null : plainKind), couplings)
        from trailing in o.AllowActNorm ? Gens.Chance(0.05) : Gens.Const(false)
        from stated in Gens.Chance(0.3)
        select flow with
        {
            Explicit = (lead.Has ? [lead.Value] : Array.Empty<FlowLayer>()).Concat(blocks.SelectMany(b => b)).Concat(trailing ? [new ActNormLayer()] : Array.Empty<FlowLayer>()).ToList(),
            Layers = stated ? couplings : 0,
        };

    /// <summary>One coupling with what may surround it: [ActNorm] [InvertibleLinear] coupling [Permute].</summary>
    private static Gen<FlowLayer[]> Block(ConfigGeneratorOptions o, FlowConfig flow, CouplingKind? plainKind) =>
        Gen.Select(
            o.AllowActNorm ? Gens.Chance(0.15) : Gens.Const(false),
            o.AllowInvertibleLinear ? Gens.Maybe(0.15, InvertibleLinear()) : Gens.Const<(bool Has, InvertibleLinearLayer Value)>((false, null!)),
            plainKind is CouplingKind kind ? Gens.Const(new CouplingLayer(kind)) : Coupling(o, flow),
            o.AllowPermutations ? Gens.Maybe(0.4, Permute(flow.Dim)) : Gens.Const<(bool Has, PermuteLayer Value)>((false, null!)),
            (actNorm, lu, coupling, permute) =>
            {
                var layers = new List<FlowLayer>(4);
                if (actNorm) layers.Add(new ActNormLayer());
                if (lu.Has) layers.Add(lu.Value);
                layers.Add(coupling);
                if (permute.Has) layers.Add(permute.Value);
                return layers.ToArray();
            });

    private static Gen<InvertibleLinearLayer> InvertibleLinear() => Gens.Frequency(
        (0.6, Gens.Const(new InvertibleLinearLayer())),
        (0.3, Gens.WithSize(Gens.Int(0, 99_999).Select(s => new InvertibleLinearLayer { Seed = s }), 1)),
        (0.1, Gens.Const(new InvertibleLinearLayer { Permute = false }, 1)));

    /// <summary>[Permute]: Reverse, Random (with or without a seed) or an explicit order of 0 … dim−1.</summary>
    public static Gen<PermuteLayer> Permute(int dim) => Gens.Frequency(
        (0.4, Gens.Const(PermuteLayer.Reverse())),
        (0.175, Gens.Const(PermuteLayer.Random(), 1)),
        (0.175, Gens.WithSize(Gens.Int(0, 99_999).Select(s => PermuteLayer.Random(s)), 1)),
        (0.25, Gens.WithSize(Gen.Shuffle(Enumerable.Range(0, dim).ToArray()).Select(order => PermuteLayer.Explicit(order)), 2)));

    /// <summary>
    /// A coupling of one of the kinds, with (each sometimes) its own mask — a pattern, or a mask kind and coordinate; with a
    /// flow-level pattern only a layer pattern is unambiguous —, hidden widths, activation and options of its kind.
    /// </summary>
    private static Gen<CouplingLayer> Coupling(ConfigGeneratorOptions o, FlowConfig flow)
    {
        int dim = flow.Dim;
        Gen<Func<CouplingLayer, CouplingLayer>> none = Gens.Const<Func<CouplingLayer, CouplingLayer>>(l => l);
        Gen<Func<CouplingLayer, CouplingLayer>> ownPattern = Sized(Pattern(dim).Select<string, Func<CouplingLayer, CouplingLayer>>(p => l => l with { MaskPattern = p }), 2);
        Gen<Func<CouplingLayer, CouplingLayer>> ownKind =
            from kind in Gens.OneOf([MaskKind.Halves, MaskKind.Parity, MaskKind.SingleCoordinate])
            from coordinate in kind == MaskKind.SingleCoordinate ? Gens.Maybe(0.5, Gens.Int(0, dim - 1)) : Gens.Const<(bool Has, int Value)>((false, 0))
            select (Func<CouplingLayer, CouplingLayer>)(l => l with { Mask = kind, Coordinate = coordinate.Has ? coordinate.Value : null });
        Gen<Func<CouplingLayer, CouplingLayer>> inherited = flow.MaskPattern == null && flow.Mask == MaskKind.SingleCoordinate
            ? Gens.Maybe(0.3, Gens.Int(0, dim - 1)).Select<(bool Has, int Value), Func<CouplingLayer, CouplingLayer>>(c => l => c.Has ? l with { Coordinate = c.Value } : l)
            : none;
        Gen<Func<CouplingLayer, CouplingLayer>> mask = Gens.Frequency(
            (0.75, inherited),
            (0.25, Sized(flow.MaskPattern != null ? ownPattern : Gens.Frequency((0.5, ownPattern), (0.5, ownKind)), 1)));

        return
            from kind in Gens.OneOf(o.CouplingKinds)
            from m in mask
            from hidden in Gens.Maybe(0.25, Hidden(o))
            from activation in Gens.Maybe(0.25, Gens.OneOf(Activations))
            from options in KindOptions(kind)
            select options(m(new CouplingLayer(kind)) with
            {
                Hidden = hidden.Has ? hidden.Value : null,
                Activation = activation.Has ? activation.Value : null,
            });
    }

    private static Gen<T> Sized<T>(Gen<T> gen, ulong add) => Gens.Sized(gen, add);

    /// <summary>Options of the coupling's own kind, each set with probability 0.3.</summary>
    private static Gen<Func<CouplingLayer, CouplingLayer>> KindOptions(CouplingKind kind) => kind switch
    {
        CouplingKind.Affine => Gens.Maybe(0.3, Gens.OneOf(ClampValues))
            .Select<(bool Has, double Value), Func<CouplingLayer, CouplingLayer>>(c => l => c.Has ? l with { Clamp = c.Value } : l),
        CouplingKind.SumOfSquares => Gen.Select(Gens.Maybe(0.3, Gens.Int(1, 3)), Gens.Maybe(0.3, Gens.Int(1, 4)), Gens.Maybe(0.3, Gens.OneOf(BoundValues)),
            (degree, squares, bound) => (Func<CouplingLayer, CouplingLayer>)(l => l with { Degree = degree.Has ? degree.Value : null, Squares = squares.Has ? squares.Value : null, Bound = bound.Has ? bound.Value : null })),
        CouplingKind.DeepSigmoidal => Gen.Select(Gens.Maybe(0.3, Gens.Int(1, 6)), Gens.Maybe(0.3, Gens.Int(1, 3)),
            (units, blocks) => (Func<CouplingLayer, CouplingLayer>)(l => l with { SigmoidUnits = units.Has ? units.Value : null, SigmoidLayers = blocks.Has ? blocks.Value : null })),
        CouplingKind.Spline => Gen.Select(Gens.Maybe(0.3, Gens.Int(2, 10)), Gens.Maybe(0.3, Gens.OneOf(BoundValues)),
            (bins, bound) => (Func<CouplingLayer, CouplingLayer>)(l => l with { Bins = bins.Has ? bins.Value : null, Bound = bound.Has ? bound.Value : null })),
        _ => Gens.Const<Func<CouplingLayer, CouplingLayer>>(l => l),
    };
}
