// Seeded random generator of FlowConfigs for differential tests of the generated code against ReferenceFlow.

#nullable enable

using System;
using System.Collections.Generic;
using System.Linq;

namespace FlowGen.Tests.Reference;

/// <summary>What <see cref="ConfigGenerator"/> may produce.</summary>
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
/// A seeded stream of random valid <see cref="FlowConfig"/>s. Each config is drawn from its own seed, which its
/// <see cref="FlowConfig.Origin"/> records, so <see cref="FromSeed"/> reproduces a single failing config.
/// </summary>
public sealed class ConfigGenerator
{
    private readonly Random master;

    public ConfigGenerator(int seed, ConfigGeneratorOptions? options = null)
    {
        master = new Random(seed);
        Options = options ?? ConfigGeneratorOptions.All;
        if (Options.CouplingKinds.Count == 0) throw new ArgumentException("no coupling kinds allowed");
    }

    /// <summary>Restricts the coupling kinds (e.g. <c>new ConfigGenerator(1, CouplingKind.Affine, CouplingKind.Additive)</c>).</summary>
    public ConfigGenerator(int seed, params CouplingKind[] kinds)
        : this(seed, new ConfigGeneratorOptions { CouplingKinds = kinds })
    {
    }

    public ConfigGeneratorOptions Options { get; }

    /// <summary>The next config of the stream.</summary>
    public FlowConfig Next() => FromSeed(master.Next(), Options);

    /// <summary>The next <paramref name="count"/> configs.</summary>
    public List<FlowConfig> Take(int count)
    {
        var list = new List<FlowConfig>(count);
        for (int i = 0; i < count; i++) list.Add(Next());
        return list;
    }

    /// <summary>The config drawn from <paramref name="seed"/> (what <see cref="Next"/> yields for that seed).</summary>
    public static FlowConfig FromSeed(int seed, ConfigGeneratorOptions? options = null)
    {
        options ??= ConfigGeneratorOptions.All;
        return Generate(new Random(seed), options) with { Origin = $"ConfigGenerator.FromSeed({seed}) [{options.Summary}]" };
    }

    /// <summary>A CsCheck generator of configs (each from one random seed; shrinking only shrinks the seed).</summary>
    public static CsCheck.Gen<FlowConfig> AsGen(ConfigGeneratorOptions? options = null) =>
        CsCheck.Gen.Select(CsCheck.Gen.Int, seed => FromSeed(seed, options));

    /// <summary>Draws a valid config within the options' limits.</summary>
    public static FlowConfig Generate(Random rng, ConfigGeneratorOptions options)
    {
        if (options.CouplingKinds.Count == 0) throw new ArgumentException("no coupling kinds allowed");
        if (!options.AllowFloat && !options.AllowDouble) throw new ArgumentException("neither float nor double allowed");
        if (!options.AllowUniform && !options.AllowExplicit) throw new ArgumentException("neither uniform nor explicit stacks allowed");
        for (int attempt = 0; ; attempt++)
        {
            FlowConfig config = TryGenerate(rng, options);
            config.Validate();
            if (config.ParameterCount <= options.MaxParameters) return config;
            if (attempt > 1000) throw new InvalidOperationException("could not draw a config within MaxParameters");
        }
    }

    private static FlowConfig TryGenerate(Random rng, ConfigGeneratorOptions o)
    {
        bool Chance(double p) => rng.NextDouble() < p;
        T Pick<T>(IReadOnlyList<T> items) => items[rng.Next(items.Count)];

        string precision = o.AllowFloat && (!o.AllowDouble || Chance(0.35)) ? "float" : "double";
        int maxDim = Math.Max(o.MinDim, o.MaxDim);
        int dim = Chance(0.5) ? rng.Next(o.MinDim, Math.Min(8, maxDim) + 1) : rng.Next(o.MinDim, maxDim + 1);
        double u = rng.NextDouble();
        int couplings = u < 0.5 ? rng.Next(1, 5) : u < 0.85 ? rng.Next(5, 9) : rng.Next(9, 17);
        couplings = Math.Max(1, Math.Min(couplings, o.MaxCouplings));
        int context = o.AllowContext && o.MaxContext > 0 && Chance(0.3) ? rng.Next(1, o.MaxContext + 1) : 0;
        u = rng.NextDouble();
        // Negative seeds stay far below −2 so that Seed + stack index never hits the attributes' sentinels −1 / −2.
        int seed = u < 0.45 ? 0 : u < 0.85 ? rng.Next(1, 1_000_000) : -rng.Next(1000, 1_000_000);

        MaskKind mask = MaskKind.Halves;
        string? pattern = null;
        u = rng.NextDouble();
        if (u < 0.25) mask = MaskKind.Parity;
        else if (u < 0.45) mask = MaskKind.SingleCoordinate;
        else if (u < 0.7) pattern = RandomPattern(rng, dim);

        var config = new FlowConfig
        {
            Precision = precision,
            Dim = dim,
            Context = context,
            Seed = seed,
            Mask = mask,
            MaskPattern = pattern,
            Hidden = Chance(0.03) ? FlowConfig.DefaultHidden : RandomHidden(rng, o),
            Activation = RandomActivation(rng),
            Clamp = Chance(0.4) ? 2.0 : Pick(ClampValues),
            Degree = Chance(0.4) ? 2 : rng.Next(1, 4),
            Squares = Chance(0.4) ? 3 : rng.Next(1, 5),
            SigmoidUnits = Chance(0.1) ? 8 : rng.Next(1, 7),
            SigmoidLayers = Chance(0.5) ? 1 : rng.Next(1, 4),
            Bins = Chance(0.2) ? 8 : rng.Next(2, 11),
            Bound = Chance(0.4) ? 3.0 : Pick(BoundValues),
            RenderStyle = o.VaryRendering && Chance(0.7) ? rng.Next(1, int.MaxValue) : 0,
        };

        bool uniform = o.AllowUniform && (!o.AllowExplicit || Chance(0.4));
        if (uniform)
        {
            PermutationKind permutation = PermutationKind.None;
            if (o.AllowPermutations)
            {
                u = rng.NextDouble();
                permutation = u < 0.4 ? PermutationKind.None : u < 0.7 ? PermutationKind.Reverse : PermutationKind.Random;
            }
            return config with
            {
                Layers = couplings,
                Coupling = Pick(o.CouplingKinds),
                Permutation = permutation,
                ActNorm = o.AllowActNorm && Chance(0.2),
                InvertibleLinear = o.AllowInvertibleLinear && Chance(0.2),
            };
        }

        // Explicit stack. Sometimes every coupling inherits everything (the uniform options through the explicit path).
        bool plain = Chance(0.15);
        CouplingKind plainKind = Pick(o.CouplingKinds);
        var layers = new List<FlowLayer>();
        if (o.AllowPermutations && Chance(0.1)) layers.Add(RandomPermute(rng, dim));
        for (int c = 0; c < couplings; c++)
        {
            if (o.AllowActNorm && Chance(0.15)) layers.Add(new ActNormLayer());
            if (o.AllowInvertibleLinear && Chance(0.15))
            {
                u = rng.NextDouble();
                layers.Add(u < 0.9 ? new InvertibleLinearLayer { Seed = u < 0.6 ? null : rng.Next(0, 100_000) } : new InvertibleLinearLayer { Permute = false });
            }
            layers.Add(plain ? new CouplingLayer(plainKind) : RandomCoupling(rng, o, config));
            if (o.AllowPermutations && Chance(0.4)) layers.Add(RandomPermute(rng, dim));
        }
        if (o.AllowActNorm && Chance(0.05)) layers.Add(new ActNormLayer());
        return config with { Explicit = layers, Layers = Chance(0.3) ? couplings : 0 };
    }

    private static readonly double[] ClampValues = [0.0, 0.5, 1.0, 1.5, 2.0, 3.0, 5.0];

    private static readonly double[] BoundValues = [1.0, 2.0, 2.5, 3.0, 4.0, 5.0];

    private static readonly global::FlowGen.Activation[] Activations =
    [
        global::FlowGen.Activation.Tanh, global::FlowGen.Activation.Relu, global::FlowGen.Activation.Softplus,
        global::FlowGen.Activation.Elu, global::FlowGen.Activation.Gelu, global::FlowGen.Activation.Silu,
    ];

    private static global::FlowGen.Activation RandomActivation(Random rng) => Activations[rng.Next(Activations.Length)];

    /// <summary>A random valid mask pattern of length <paramref name="dim"/> (at least one '0' and one '1').</summary>
    public static string RandomPattern(Random rng, int dim)
    {
        while (true)
        {
            var chars = new char[dim];
            for (int i = 0; i < dim; i++) chars[i] = rng.Next(2) == 0 ? '0' : '1';
            if (chars.Contains('0') && chars.Contains('1')) return new string(chars);
        }
    }

    private static int[] RandomHidden(Random rng, ConfigGeneratorOptions o)
    {
        double u = rng.NextDouble();
        int count = u < 0.15 ? 0 : u < 0.5 ? 1 : u < 0.85 ? 2 : 3;
        count = Math.Min(count, o.MaxHiddenLayers);
        var widths = new int[count];
        for (int i = 0; i < count; i++)
            widths[i] = rng.NextDouble() < 0.5 ? rng.Next(1, Math.Min(8, o.MaxHiddenWidth) + 1) : rng.Next(1, o.MaxHiddenWidth + 1);
        return widths;
    }

    private static PermuteLayer RandomPermute(Random rng, int dim)
    {
        double u = rng.NextDouble();
        if (u < 0.4) return PermuteLayer.Reverse();
        if (u < 0.75) return PermuteLayer.Random(rng.NextDouble() < 0.5 ? null : rng.Next(0, 100_000));
        int[] order = Enumerable.Range(0, dim).ToArray();
        for (int i = dim - 1; i > 0; i--)
        {
            int j = rng.Next(i + 1);
            (order[i], order[j]) = (order[j], order[i]);
        }
        return PermuteLayer.Explicit(order);
    }

    private static CouplingLayer RandomCoupling(Random rng, ConfigGeneratorOptions o, FlowConfig flow)
    {
        bool Chance(double p) => rng.NextDouble() < p;
        CouplingKind kind = o.CouplingKinds[rng.Next(o.CouplingKinds.Count)];
        var layer = new CouplingLayer(kind);
        if (Chance(0.25))
        {
            // The layer sets its own mask. With a flow-level pattern only a layer pattern is unambiguous.
            if (flow.MaskPattern != null || Chance(0.5))
            {
                layer = layer with { MaskPattern = RandomPattern(rng, flow.Dim) };
            }
            else
            {
                var maskKind = (MaskKind)rng.Next(3);
                layer = layer with { Mask = maskKind };
                if (maskKind == MaskKind.SingleCoordinate && Chance(0.5)) layer = layer with { Coordinate = rng.Next(flow.Dim) };
            }
        }
        else if (flow.MaskPattern == null && flow.Mask == MaskKind.SingleCoordinate && Chance(0.3))
        {
            layer = layer with { Coordinate = rng.Next(flow.Dim) };
        }
        if (Chance(0.25)) layer = layer with { Hidden = RandomHidden(rng, o) };
        if (Chance(0.25)) layer = layer with { Activation = RandomActivation(rng) };
        switch (kind)
        {
            case CouplingKind.Affine:
                if (Chance(0.3)) layer = layer with { Clamp = ClampValues[rng.Next(ClampValues.Length)] };
                break;
            case CouplingKind.SumOfSquares:
                if (Chance(0.3)) layer = layer with { Degree = rng.Next(1, 4) };
                if (Chance(0.3)) layer = layer with { Squares = rng.Next(1, 5) };
                break;
            case CouplingKind.DeepSigmoidal:
                if (Chance(0.3)) layer = layer with { SigmoidUnits = rng.Next(1, 7) };
                if (Chance(0.3)) layer = layer with { SigmoidLayers = rng.Next(1, 4) };
                break;
            case CouplingKind.Spline:
                if (Chance(0.3)) layer = layer with { Bins = rng.Next(2, 11) };
                if (Chance(0.3)) layer = layer with { Bound = BoundValues[rng.Next(BoundValues.Length)] };
                break;
        }
        return layer;
    }
}
