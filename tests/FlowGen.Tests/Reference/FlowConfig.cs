// A plain description of a FlowGen flow, written from docs/model.md alone (independent of the generator).
// It renders the attribute source a user would write, expands uniform stacks into explicit layer lists
// (§1), resolves masks and inherited options (§2, §3), and computes the parameter layout (§5).

#nullable enable

using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Text;

namespace FlowGen.Tests.Reference;

/// <summary>One entry of an explicit stack: the attribute a user writes for that layer.</summary>
public abstract record FlowLayer;

/// <summary>
/// A coupling attribute ([AffineCoupling], [AdditiveCoupling], [SumOfSquaresCoupling], [DeepSigmoidalCoupling],
/// [SplineCoupling]). Every option that is null is left unset in the attribute and inherits the [CouplingFlow] value.
/// </summary>
public sealed record CouplingLayer(CouplingKind Kind) : FlowLayer
{
    /// <summary>Mask kind set on the layer (null: inherit).</summary>
    public MaskKind? Mask { get; init; }

    /// <summary>Mask pattern set on the layer, used as written (null: inherit).</summary>
    public string? MaskPattern { get; init; }

    /// <summary>Coordinate for SingleCoordinate masks (null: unset, i.e. c mod D).</summary>
    public int? Coordinate { get; init; }

    /// <summary>Hidden widths (null: inherit).</summary>
    public int[]? Hidden { get; init; }

    /// <summary>Activation (null: inherit).</summary>
    public global::FlowGen.Activation? Activation { get; init; }

    /// <summary>Affine only: soft clamp (null: inherit).</summary>
    public double? Clamp { get; init; }

    /// <summary>Sum of squares only: degree r (null: inherit).</summary>
    public int? Degree { get; init; }

    /// <summary>Sum of squares only: number of squares K (null: inherit).</summary>
    public int? Squares { get; init; }

    /// <summary>Deep sigmoidal only: units per block (null: inherit).</summary>
    public int? SigmoidUnits { get; init; }

    /// <summary>Deep sigmoidal only: number of blocks (null: inherit).</summary>
    public int? SigmoidLayers { get; init; }

    /// <summary>Spline only: number of bins (null: inherit).</summary>
    public int? Bins { get; init; }

    /// <summary>Spline and sum of squares: bound B (null: inherit).</summary>
    public double? Bound { get; init; }
}

/// <summary>[Permute(kind)] or [Permute(order)].</summary>
public sealed record PermuteLayer : FlowLayer
{
    /// <summary>Reverse or Random (None when <see cref="Order"/> is given).</summary>
    public PermutationKind Kind { get; init; }

    /// <summary>Explicit order: output i takes input Order[i].</summary>
    public int[]? Order { get; init; }

    /// <summary>Explicit seed of a Random permutation (null: unset, i.e. flow Seed + stack index).</summary>
    public int? Seed { get; init; }

    public static PermuteLayer Reverse() => new() { Kind = PermutationKind.Reverse };

    public static PermuteLayer Random(int? seed = null) => new() { Kind = PermutationKind.Random, Seed = seed };

    public static PermuteLayer Explicit(params int[] order) => new() { Kind = PermutationKind.None, Order = order };
}

/// <summary>[ActNorm].</summary>
public sealed record ActNormLayer : FlowLayer;

/// <summary>[InvertibleLinear] (Seed null: unset, i.e. flow Seed + stack index; Permute = false: P = identity).</summary>
public sealed record InvertibleLinearLayer : FlowLayer
{
    public int? Seed { get; init; }

    public bool Permute { get; init; } = true;
}

/// <summary>The type of a resolved layer.</summary>
public enum ReferenceLayerType
{
    Coupling,
    Permutation,
    ActNorm,
    InvertibleLinear,
}

/// <summary>A layer of the stack with every inherited option, mask, seed and parameter offset resolved.</summary>
public sealed record ResolvedLayer
{
    public required int StackIndex { get; init; }

    public required ReferenceLayerType Type { get; init; }

    /// <summary>Coupling number c (−1 for non-couplings).</summary>
    public int CouplingNumber { get; init; } = -1;

    public CouplingKind Kind { get; init; }

    /// <summary>Kept coordinates A in increasing order (couplings only).</summary>
    public int[] Kept { get; init; } = [];

    /// <summary>Transformed coordinates B in increasing order (couplings only).</summary>
    public int[] Transformed { get; init; } = [];

    public int[] Hidden { get; init; } = [];

    public global::FlowGen.Activation Activation { get; init; }

    public double Clamp { get; init; }

    public int Degree { get; init; }

    public int Squares { get; init; }

    public int SigmoidUnits { get; init; }

    public int SigmoidLayers { get; init; }

    public int Bins { get; init; }

    public double Bound { get; init; }

    /// <summary>P, the number of transformer parameters per transformed coordinate.</summary>
    public int TransformerParameters { get; init; }

    /// <summary>Widths of the conditioner: [|A| + C, H₁ … H_m, P·|B|].</summary>
    public int[] DenseWidths { get; init; } = [];

    /// <summary>Permutation layers: Reverse / Random / None (explicit order).</summary>
    public PermutationKind PermutationKind { get; init; }

    /// <summary>Permutation layers with an explicit order.</summary>
    public int[]? Order { get; init; }

    /// <summary>Seed of the SplitMix64 Fisher–Yates shuffle (Random permutations, invertible linear); null when not shuffled.</summary>
    public long? ShuffleSeed { get; init; }

    public int ParameterCount { get; init; }

    public int ParameterOffset { get; init; }
}

/// <summary>
/// A flow as the user declares it: the [CouplingFlow] options plus, for an explicit stack, the list of layer
/// attributes (<see cref="Explicit"/>; null means a uniform stack of <see cref="Layers"/> couplings).
/// Defaults equal the attribute defaults.
/// </summary>
public sealed record FlowConfig
{
    public static readonly int[] DefaultHidden = [64, 64];

    /// <summary>"float" or "double".</summary>
    public string Precision { get; init; } = "double";

    public int Dim { get; init; }

    public int Context { get; init; }

    public int Seed { get; init; }

    /// <summary>Uniform: number of couplings. Explicit: 0 (unset) or the number of coupling layers.</summary>
    public int Layers { get; init; }

    /// <summary>Uniform only.</summary>
    public CouplingKind Coupling { get; init; } = CouplingKind.Affine;

    public MaskKind Mask { get; init; } = MaskKind.Halves;

    public string? MaskPattern { get; init; }

    public int[] Hidden { get; init; } = DefaultHidden;

    public global::FlowGen.Activation Activation { get; init; } = global::FlowGen.Activation.Tanh;

    /// <summary>Uniform only.</summary>
    public PermutationKind Permutation { get; init; } = PermutationKind.None;

    /// <summary>Uniform only.</summary>
    public bool ActNorm { get; init; }

    /// <summary>Uniform only.</summary>
    public bool InvertibleLinear { get; init; }

    /// <summary>Uniform only, with InvertibleLinear: false for P = identity in every linear layer (docs/model.md §1).</summary>
    public bool InvertibleLinearPermute { get; init; } = true;

    public double Clamp { get; init; } = 2.0;

    public int Degree { get; init; } = 2;

    public int Squares { get; init; } = 3;

    public int SigmoidUnits { get; init; } = 8;

    public int SigmoidLayers { get; init; } = 1;

    public int Bins { get; init; } = 8;

    public double Bound { get; init; } = 3.0;

    /// <summary>The base distribution (docs/model.md §7); null for the standard normal (no base attribute).</summary>
    public ReferenceBase? Base { get; init; }

    /// <summary>The explicit stack (layer attributes in declaration order); null for a uniform stack.</summary>
    public IReadOnlyList<FlowLayer>? Explicit { get; init; }

    /// <summary>0: canonical rendering. Otherwise the seed of the syntactic variations used by <see cref="ToAttributeSource"/>.</summary>
    public int RenderStyle { get; init; }

    /// <summary>Free text telling where the config came from (e.g. the generator seed), shown by <see cref="Describe"/>.</summary>
    public string? Origin { get; init; }

    public bool IsUniform => Explicit is null;

    public bool IsFloat => Precision == "float";

    // ------------------------------------------------------------------------------------------------
    // Validation

    /// <summary>Throws <see cref="ArgumentException"/> if the config is invalid or relies on something the spec leaves ambiguous.</summary>
    public void Validate()
    {
        if (Precision != "float" && Precision != "double") Fail($"Precision must be \"float\" or \"double\", not \"{Precision}\"");
        if (Dim < 2) Fail("Dim must be at least 2");
        if (Context < 0) Fail("Context must be non-negative");
        CheckHidden(Hidden, "Hidden");
        CheckTransformerOptions(Clamp, Degree, Squares, SigmoidUnits, SigmoidLayers, Bins, Bound, "[CouplingFlow]");
        if (MaskPattern != null)
        {
            CheckPattern(MaskPattern);
            if (Mask != MaskKind.Halves) Fail("ambiguous: [CouplingFlow] sets both Mask and MaskPattern");
        }

        if (IsUniform)
        {
            if (Layers < 1) Fail("a uniform stack needs Layers >= 1");
            return;
        }

        if (!InvertibleLinear && !InvertibleLinearPermute) Fail("InvertibleLinearPermute = false without InvertibleLinear = true has no effect (FG0024)");
        if (Coupling != CouplingKind.Affine || ActNorm || InvertibleLinear || Permutation != PermutationKind.None)
            Fail("an explicit stack must not set the uniform-only options Coupling, ActNorm, InvertibleLinear, Permutation");
        int couplings = Explicit!.Count(l => l is CouplingLayer);
        if (couplings < 1) Fail("an explicit stack needs at least one coupling");
        if (Layers != 0 && Layers != couplings) Fail($"Layers = {Layers} but the explicit stack has {couplings} couplings");
        foreach (FlowLayer layer in Explicit!)
        {
            switch (layer)
            {
                case CouplingLayer cl:
                    if (cl.Hidden != null) CheckHidden(cl.Hidden, "layer Hidden");
                    if (cl.MaskPattern != null)
                    {
                        CheckPattern(cl.MaskPattern);
                        if (cl.Mask != null) Fail("ambiguous: a coupling sets both Mask and MaskPattern");
                    }
                    if (cl.Mask != null && MaskPattern != null)
                        Fail("ambiguous: a coupling sets Mask while [CouplingFlow] sets MaskPattern");
                    if (cl.Coordinate is int k)
                    {
                        if (k < 0 || k >= Dim) Fail($"Coordinate {k} out of range");
                        MaskKind effective = cl.Mask ?? Mask;
                        if (cl.MaskPattern != null || (cl.Mask == null && MaskPattern != null) || effective != MaskKind.SingleCoordinate)
                            Fail("ambiguous: Coordinate set on a coupling whose mask is not SingleCoordinate");
                    }
                    if (cl.Clamp != null && cl.Kind != CouplingKind.Affine) Fail("Clamp exists only on [AffineCoupling]");
                    if ((cl.Degree != null || cl.Squares != null) && cl.Kind != CouplingKind.SumOfSquares) Fail("Degree/Squares exist only on [SumOfSquaresCoupling]");
                    if ((cl.SigmoidUnits != null || cl.SigmoidLayers != null) && cl.Kind != CouplingKind.DeepSigmoidal) Fail("SigmoidUnits/SigmoidLayers exist only on [DeepSigmoidalCoupling]");
                    if (cl.Bins != null && cl.Kind != CouplingKind.Spline) Fail("Bins exists only on [SplineCoupling]");
                    if (cl.Bound != null && cl.Kind != CouplingKind.Spline && cl.Kind != CouplingKind.SumOfSquares) Fail("Bound exists only on [SplineCoupling] and [SumOfSquaresCoupling]");
                    CheckTransformerOptions(cl.Clamp ?? Clamp, cl.Degree ?? Degree, cl.Squares ?? Squares, cl.SigmoidUnits ?? SigmoidUnits,
                        cl.SigmoidLayers ?? SigmoidLayers, cl.Bins ?? Bins, cl.Bound ?? Bound, "coupling");
                    break;
                case PermuteLayer pl:
                    if (pl.Order != null)
                    {
                        if (pl.Kind != PermutationKind.None) Fail("[Permute] with an order has Kind None");
                        if (pl.Seed != null) Fail("[Permute] with an order takes no Seed");
                        if (pl.Order.Length != Dim || pl.Order.OrderBy(v => v).Where((v, i) => v != i).Any())
                            Fail("[Permute] order is not a permutation of 0 … Dim−1");
                    }
                    else
                    {
                        if (pl.Kind != PermutationKind.Reverse && pl.Kind != PermutationKind.Random)
                            Fail("ambiguous: [Permute(PermutationKind.None)] (spec does not define it)");
                        if (pl.Seed != null && pl.Kind != PermutationKind.Random) Fail("Seed only on a Random [Permute]");
                        if (pl.Seed is < 0) Fail("ambiguous: negative explicit [Permute] Seed (−1 is the 'unset' sentinel)");
                    }
                    break;
                case InvertibleLinearLayer il:
                    if (!il.Permute && il.Seed is not null) Fail("[InvertibleLinear] with Permute = false takes no Seed");
                    break;
                case ActNormLayer:
                    break;
                default:
                    Fail("unknown layer type");
                    break;
            }
        }
    }

    private void CheckPattern(string pattern)
    {
        if (pattern.Length != Dim || pattern.Any(ch => ch != '0' && ch != '1') || !pattern.Contains('0') || !pattern.Contains('1'))
            Fail($"invalid mask pattern \"{pattern}\" for Dim {Dim}");
    }

    private static void CheckHidden(int[] hidden, string what)
    {
        if (hidden.Any(h => h < 1)) Fail($"{what} widths must be positive");
    }

    private static void CheckTransformerOptions(double clamp, int degree, int squares, int units, int sigmoidLayers, int bins, double bound, string where)
    {
        if (!(clamp >= 0) || double.IsInfinity(clamp)) Fail($"{where}: Clamp must be finite and >= 0");
        if (degree < 0) Fail($"{where}: Degree must be >= 0");
        if (squares < 1) Fail($"{where}: Squares must be >= 1");
        if (units < 1) Fail($"{where}: SigmoidUnits must be >= 1");
        if (sigmoidLayers < 1) Fail($"{where}: SigmoidLayers must be >= 1");
        if (bins < 1) Fail($"{where}: Bins must be >= 1");
        if (!(bound > 0) || double.IsInfinity(bound)) Fail($"{where}: Bound must be finite and > 0");
    }

    private static void Fail(string message) => throw new ArgumentException("FlowConfig: " + message);

    // ------------------------------------------------------------------------------------------------
    // Stack expansion and resolution

    /// <summary>The stack as an explicit list of layer attributes (§1: a uniform stack is expanded).</summary>
    public IReadOnlyList<FlowLayer> ExpandedLayers()
    {
        if (Explicit != null) return Explicit;
        var list = new List<FlowLayer>();
        for (int c = 0; c < Layers; c++)
        {
            if (ActNorm) list.Add(new ActNormLayer());
            if (InvertibleLinear) list.Add(new InvertibleLinearLayer { Permute = InvertibleLinearPermute });
            list.Add(new CouplingLayer(Coupling));
            if (Permutation != PermutationKind.None && c < Layers - 1) list.Add(new PermuteLayer { Kind = Permutation });
        }
        return list;
    }

    /// <summary>The equivalent explicit-stack config (same maths, rendered with layer attributes).</summary>
    public FlowConfig ToExplicit()
    {
        if (Explicit != null) return this;
        return this with
        {
            Explicit = ExpandedLayers(),
            Layers = 0,
            Coupling = CouplingKind.Affine,
            ActNorm = false,
            InvertibleLinear = false,
            InvertibleLinearPermute = true,
            Permutation = PermutationKind.None,
        };
    }

    /// <summary>Kept (A) and transformed (B) coordinates of coupling number c for the given mask (§2).</summary>
    public static (int[] Kept, int[] Transformed) MaskFor(int dim, int c, MaskKind kind, int? coordinate)
    {
        var kept = new List<int>();
        var transformed = new List<int>();
        int h = dim / 2;
        for (int i = 0; i < dim; i++)
        {
            bool isKept;
            switch (kind)
            {
                case MaskKind.Halves:
                    isKept = c % 2 == 0 ? i < h : i >= h;
                    break;
                case MaskKind.Parity:
                    isKept = c % 2 == 0 ? i % 2 == 0 : i % 2 == 1;
                    break;
                case MaskKind.SingleCoordinate:
                    int k = coordinate ?? c % dim;
                    isKept = i != k;
                    break;
                default:
                    throw new ArgumentException("unknown mask kind " + kind);
            }
            (isKept ? kept : transformed).Add(i);
        }
        return (kept.ToArray(), transformed.ToArray());
    }

    /// <summary>Kept (A) and transformed (B) coordinates from a '1' = kept / '0' = transformed pattern, optionally complemented.</summary>
    public static (int[] Kept, int[] Transformed) MaskFromPattern(string pattern, bool complement)
    {
        var kept = new List<int>();
        var transformed = new List<int>();
        for (int i = 0; i < pattern.Length; i++)
        {
            bool isKept = (pattern[i] == '1') != complement;
            (isKept ? kept : transformed).Add(i);
        }
        return (kept.ToArray(), transformed.ToArray());
    }

    /// <summary>Number of transformer parameters P per transformed coordinate (§3).</summary>
    public static int TransformerParameterCount(CouplingKind kind, int degree, int squares, int sigmoidUnits, int sigmoidLayers, int bins) => kind switch
    {
        CouplingKind.Affine => 2,
        CouplingKind.Additive => 1,
        CouplingKind.SumOfSquares => 1 + squares * (degree + 1),
        CouplingKind.DeepSigmoidal => 3 * sigmoidUnits * sigmoidLayers,
        CouplingKind.Spline => 3 * bins - 1,
        _ => throw new ArgumentException("unknown coupling kind " + kind),
    };

    /// <summary>Every layer with options, masks, seeds and parameter offsets resolved. Validates first.</summary>
    public IReadOnlyList<ResolvedLayer> Resolve()
    {
        Validate();
        IReadOnlyList<FlowLayer> layers = ExpandedLayers();
        var result = new List<ResolvedLayer>();
        int offset = 0;
        int c = 0;
        for (int l = 0; l < layers.Count; l++)
        {
            ResolvedLayer r;
            long defaultSeed = (long)Seed + l;
            switch (layers[l])
            {
                case CouplingLayer cl:
                {
                    (int[] kept, int[] transformed) mask;
                    if (cl.MaskPattern != null) mask = MaskFromPattern(cl.MaskPattern, complement: false);
                    else if (cl.Mask is MaskKind layerMask) mask = MaskFor(Dim, c, layerMask, cl.Coordinate);
                    else if (MaskPattern != null) mask = MaskFromPattern(MaskPattern, complement: c % 2 == 1);
                    else mask = MaskFor(Dim, c, Mask, cl.Coordinate);
                    int degree = cl.Degree ?? Degree, squares = cl.Squares ?? Squares;
                    int units = cl.SigmoidUnits ?? SigmoidUnits, blocks = cl.SigmoidLayers ?? SigmoidLayers;
                    int bins = cl.Bins ?? Bins;
                    int p = TransformerParameterCount(cl.Kind, degree, squares, units, blocks, bins);
                    int[] hidden = (cl.Hidden ?? Hidden).ToArray();
                    var widths = new List<int> { mask.kept.Length + Context };
                    widths.AddRange(hidden);
                    widths.Add(p * mask.transformed.Length);
                    int count = 0;
                    for (int k = 0; k + 1 < widths.Count; k++) count += widths[k] * widths[k + 1] + widths[k + 1];
                    r = new ResolvedLayer
                    {
                        StackIndex = l,
                        Type = ReferenceLayerType.Coupling,
                        CouplingNumber = c,
                        Kind = cl.Kind,
                        Kept = mask.kept,
                        Transformed = mask.transformed,
                        Hidden = hidden,
                        Activation = cl.Activation ?? Activation,
                        Clamp = cl.Clamp ?? Clamp,
                        Degree = degree,
                        Squares = squares,
                        SigmoidUnits = units,
                        SigmoidLayers = blocks,
                        Bins = bins,
                        Bound = cl.Bound ?? Bound,
                        TransformerParameters = p,
                        DenseWidths = widths.ToArray(),
                        ParameterCount = count,
                        ParameterOffset = offset,
                    };
                    c++;
                    break;
                }
                case PermuteLayer pl:
                    r = new ResolvedLayer
                    {
                        StackIndex = l,
                        Type = ReferenceLayerType.Permutation,
                        PermutationKind = pl.Order != null ? PermutationKind.None : pl.Kind,
                        Order = pl.Order?.ToArray(),
                        ShuffleSeed = pl.Order == null && pl.Kind == PermutationKind.Random ? (pl.Seed ?? defaultSeed) : null,
                        ParameterCount = 0,
                        ParameterOffset = offset,
                    };
                    break;
                case ActNormLayer:
                    r = new ResolvedLayer { StackIndex = l, Type = ReferenceLayerType.ActNorm, ParameterCount = 2 * Dim, ParameterOffset = offset };
                    break;
                case InvertibleLinearLayer il:
                    r = new ResolvedLayer
                    {
                        StackIndex = l,
                        Type = ReferenceLayerType.InvertibleLinear,
                        ShuffleSeed = !il.Permute ? null : (il.Seed ?? defaultSeed),
                        ParameterCount = Dim * (Dim - 1) + 2 * Dim,
                        ParameterOffset = offset,
                    };
                    break;
                default:
                    throw new ArgumentException("unknown layer type");
            }
            offset += r.ParameterCount;
            result.Add(r);
        }
        return result;
    }

    /// <summary>Total length of the parameter vector (§5).</summary>
    public int ParameterCount => Resolve().Sum(r => r.ParameterCount) + (Base?.ParameterCount(Dim) ?? 0);

    /// <summary>Offset of each layer's parameter block, indexed by stack index (permutations own an empty block).</summary>
    public int[] LayerParameterOffsets => Resolve().Select(r => r.ParameterOffset).ToArray();

    /// <summary>
    /// The values as the model's scalar type T holds them: rounded to float for a float model (so the reference can be
    /// fed exactly the parameters / inputs a float model sees), unchanged for a double model.
    /// </summary>
    public double[] ToModelPrecision(double[] values) => IsFloat ? values.Select(v => (double)(float)v).ToArray() : values.ToArray();

    /// <summary>Number of coupling layers.</summary>
    public int CouplingCount => ExpandedLayers().Count(l => l is CouplingLayer);

    // ------------------------------------------------------------------------------------------------
    // Rendering

    /// <summary>
    /// The C# declaration a user would write for this flow. <see cref="RenderStyle"/> 0 renders canonically (only
    /// non-default options, one attribute per section); any other value seeds syntactic variations (default values
    /// written out, argument order, array syntax, attribute-name suffix, Parity/Checkerboard, grouped sections).
    /// </summary>
    public string ToAttributeSource(string className)
    {
        Validate();
        Random? style = RenderStyle == 0 ? null : new Random(RenderStyle);
        var sb = new StringBuilder();
        var flowArgs = new List<string> { "Dim = " + Int(Dim) };
        void Opt(bool nonDefault, string text)
        {
            if (nonDefault || Coin(style, 0.2)) flowArgs.Add(text);
        }

        if (IsUniform || Layers != 0) flowArgs.Add("Layers = " + Int(Layers));
        Opt(Context != 0, "ContextDim = " + Int(Context));
        Opt(Seed != 0, "Seed = " + Int(Seed));
        if (IsUniform)
        {
            Opt(Coupling != CouplingKind.Affine, "Coupling = " + Enum(Coupling));
            Opt(Permutation != PermutationKind.None, "Permutation = " + Enum(Permutation));
            Opt(ActNorm, "ActNorm = " + Bool(ActNorm));
            Opt(InvertibleLinear, "InvertibleLinear = " + Bool(InvertibleLinear));
            // only with InvertibleLinear: without it the option is warning FG0024
            if (InvertibleLinear) Opt(!InvertibleLinearPermute, "InvertibleLinearPermute = " + Bool(InvertibleLinearPermute));
        }
        if (Mask != MaskKind.Halves || (MaskPattern == null && Coin(style, 0.2))) flowArgs.Add("Mask = " + MaskText(Mask, style));
        if (MaskPattern != null) flowArgs.Add("MaskPattern = " + Str(MaskPattern));
        Opt(!Hidden.SequenceEqual(DefaultHidden), "Hidden = " + IntArray(Hidden, style));
        Opt(Activation != global::FlowGen.Activation.Tanh, "Activation = " + Enum(Activation));
        // A kind option is written only where a coupling reads it: elsewhere it has no effect (docs/model.md §1), and
        // FlowGen warns (FG0020). The style draws are the same either way.
        void KindOpt(CouplingKind kind, Func<CouplingLayer, object?> ownValue, bool nonDefault, string text, CouplingKind? alsoKind = null)
        {
            bool written = nonDefault || Coin(style, 0.2);
            bool Of(CouplingKind k) => k == kind || k == alsoKind;
            bool used = IsUniform ? Of(Coupling) : Explicit!.OfType<CouplingLayer>().Any(c => Of(c.Kind) && ownValue(c) is null);
            if (written && used) flowArgs.Add(text);
        }
        KindOpt(CouplingKind.Affine, c => c.Clamp, Clamp != 2.0, "Clamp = " + Dbl(Clamp, style));
        KindOpt(CouplingKind.SumOfSquares, c => c.Degree, Degree != 2, "Degree = " + Int(Degree));
        KindOpt(CouplingKind.SumOfSquares, c => c.Squares, Squares != 3, "Squares = " + Int(Squares));
        KindOpt(CouplingKind.DeepSigmoidal, c => c.SigmoidUnits, SigmoidUnits != 8, "SigmoidUnits = " + Int(SigmoidUnits));
        KindOpt(CouplingKind.DeepSigmoidal, c => c.SigmoidLayers, SigmoidLayers != 1, "SigmoidLayers = " + Int(SigmoidLayers));
        KindOpt(CouplingKind.Spline, c => c.Bins, Bins != 8, "Bins = " + Int(Bins));
        KindOpt(CouplingKind.Spline, c => c.Bound, Bound != 3.0, "Bound = " + Dbl(Bound, style), CouplingKind.SumOfSquares);
        if (style != null) Shuffle(flowArgs, style);

        string flowName = IsFloat ? "global::FlowGen.CouplingFlow" : "global::FlowGen.CouplingFlow<double>";
        if (Coin(style, 0.3)) flowName = IsFloat ? "global::FlowGen.CouplingFlowAttribute" : "global::FlowGen.CouplingFlowAttribute<double>";
        sb.Append('[').Append(flowName).Append('(').Append(string.Join(", ", flowArgs)).Append(")]\n");

        if (!IsUniform)
        {
            var rendered = Explicit!.Select(layer => RenderLayer(layer, style)).ToList();
            int i = 0;
            while (i < rendered.Count)
            {
                int group = 1;
                if (style != null && style.NextDouble() < 0.3) group = Math.Min(rendered.Count - i, 1 + style.Next(3));
                sb.Append('[').Append(string.Join(", ", rendered.Skip(i).Take(group))).Append("]\n");
                i += group;
            }
        }
        if (Base is not null) sb.Append('[').Append(Base.Attribute()).Append("]\n");
        sb.Append("public partial class ").Append(className).Append(" { }\n");
        return sb.ToString();
    }

    private string RenderLayer(FlowLayer layer, Random? style)
    {
        string Name(string n) => "global::FlowGen." + n + (Coin(style, 0.25) ? "Attribute" : "");
        switch (layer)
        {
            case CouplingLayer cl:
            {
                string name = cl.Kind switch
                {
                    CouplingKind.Affine => "AffineCoupling",
                    CouplingKind.Additive => "AdditiveCoupling",
                    CouplingKind.SumOfSquares => "SumOfSquaresCoupling",
                    CouplingKind.DeepSigmoidal => "DeepSigmoidalCoupling",
                    CouplingKind.Spline => "SplineCoupling",
                    _ => throw new ArgumentException("unknown coupling kind"),
                };
                var args = new List<string>();
                if (cl.Mask is MaskKind m) args.Add("Mask = " + MaskText(m, style));
                if (cl.MaskPattern != null) args.Add("MaskPattern = " + Str(cl.MaskPattern));
                if (cl.Coordinate is int k) args.Add("Coordinate = " + Int(k));
                if (cl.Hidden != null) args.Add("Hidden = " + IntArray(cl.Hidden, style));
                if (cl.Activation is global::FlowGen.Activation a) args.Add("Activation = " + Enum(a));
                if (cl.Clamp is double clamp) args.Add("Clamp = " + Dbl(clamp, style));
                if (cl.Degree is int degree) args.Add("Degree = " + Int(degree));
                if (cl.Squares is int squares) args.Add("Squares = " + Int(squares));
                if (cl.SigmoidUnits is int units) args.Add("SigmoidUnits = " + Int(units));
                if (cl.SigmoidLayers is int blocks) args.Add("SigmoidLayers = " + Int(blocks));
                if (cl.Bins is int bins) args.Add("Bins = " + Int(bins));
                if (cl.Bound is double bound) args.Add("Bound = " + Dbl(bound, style));
                if (style != null) Shuffle(args, style);
                string n = Name(name);
                return args.Count == 0 ? (Coin(style, 0.3) ? n + "()" : n) : n + "(" + string.Join(", ", args) + ")";
            }
            case PermuteLayer pl:
            {
                string n = Name("Permute");
                if (pl.Order != null)
                {
                    int form = style?.Next(3) ?? 0;
                    string list = string.Join(", ", pl.Order.Select(Int));
                    return form switch
                    {
                        0 => n + "(" + list + ")",
                        1 => n + "(new int[] { " + list + " })",
                        _ => n + "([" + list + "])",
                    };
                }
                string text = n + "(" + Enum(pl.Kind);
                if (pl.Seed is int seed) text += ", Seed = " + Int(seed);
                return text + ")";
            }
            case ActNormLayer:
            {
                string n = Name("ActNorm");
                return Coin(style, 0.3) ? n + "()" : n;
            }
            case InvertibleLinearLayer il:
            {
                string n = Name("InvertibleLinear");
                if (!il.Permute) return n + "(Permute = false)";
                if (il.Seed is int seed) return n + "(Seed = " + Int(seed) + ")";
                return Coin(style, 0.3) ? n + "()" : n;
            }
            default:
                throw new ArgumentException("unknown layer type");
        }
    }

    private static bool Coin(Random? style, double p) => style != null && style.NextDouble() < p;

    private static void Shuffle<T>(List<T> list, Random rng)
    {
        for (int i = list.Count - 1; i > 0; i--)
        {
            int j = rng.Next(i + 1);
            (list[i], list[j]) = (list[j], list[i]);
        }
    }

    private static string Int(int v) => v.ToString(CultureInfo.InvariantCulture);

    private static string Bool(bool v) => v ? "true" : "false";

    private static string Str(string v) => "\"" + v + "\"";

    private static string Enum<TEnum>(TEnum v) where TEnum : struct, System.Enum => "global::FlowGen." + typeof(TEnum).Name + "." + v.ToString();

    private static string MaskText(MaskKind m, Random? style) => m switch
    {
        MaskKind.Halves => "global::FlowGen.MaskKind.Halves",
        MaskKind.Parity => Coin(style, 0.5) ? "global::FlowGen.MaskKind.Checkerboard" : "global::FlowGen.MaskKind.Parity",
        MaskKind.SingleCoordinate => "global::FlowGen.MaskKind.SingleCoordinate",
        _ => throw new ArgumentException("unknown mask kind"),
    };

    private static string Dbl(double v, Random? style)
    {
        string s = v.ToString("R", CultureInfo.InvariantCulture);
        bool integral = s.IndexOfAny(['.', 'E', 'e']) < 0;
        int form = style?.Next(3) ?? 0;
        return form switch
        {
            0 => integral ? s + ".0" : s,
            1 => s + "d",
            _ => s,
        };
    }

    private static string IntArray(int[] values, Random? style)
    {
        string list = string.Join(", ", values.Select(Int));
        int form = style?.Next(3) ?? 0;
        if (values.Length == 0)
            return form switch { 0 => "new int[] { }", 1 => "new int[0]", _ => "[]" };
        return form switch
        {
            0 => "new int[] { " + list + " }",
            1 => "new[] { " + list + " }",
            _ => "[" + list + "]",
        };
    }

    // ------------------------------------------------------------------------------------------------
    // Description

    /// <summary>One-line human-readable description (for failure messages).</summary>
    public string Describe()
    {
        var sb = new StringBuilder();
        sb.Append(Precision).Append(" D=").Append(Dim);
        if (Context != 0) sb.Append(" C=").Append(Context);
        sb.Append(" Seed=").Append(Seed);
        sb.Append(IsUniform ? $" uniform(L={Layers})" : " explicit");
        if (RenderStyle != 0) sb.Append(" style=").Append(RenderStyle);
        IReadOnlyList<ResolvedLayer> layers;
        try
        {
            layers = Resolve();
        }
        catch (ArgumentException e)
        {
            return sb.Append(" INVALID: ").Append(e.Message).ToString();
        }
        sb.Append(" P=").Append(layers.Sum(r => r.ParameterCount)).Append(" :");
        foreach (ResolvedLayer r in layers)
        {
            sb.Append(' ').Append(r.StackIndex).Append(':');
            switch (r.Type)
            {
                case ReferenceLayerType.Coupling:
                    sb.Append(r.Kind).Append("#").Append(r.CouplingNumber)
                      .Append("(A=").Append(Join(r.Kept)).Append(" B=").Append(Join(r.Transformed))
                      .Append(" H=").Append(Join(r.Hidden)).Append(' ').Append(r.Activation);
                    switch (r.Kind)
                    {
                        case CouplingKind.Affine: sb.Append(" clamp=").Append(r.Clamp.ToString("R", CultureInfo.InvariantCulture)); break;
                        case CouplingKind.SumOfSquares: sb.Append(" r=").Append(r.Degree).Append(" K=").Append(r.Squares).Append(" B=").Append(r.Bound.ToString("R", CultureInfo.InvariantCulture)); break;
                        case CouplingKind.DeepSigmoidal: sb.Append(" n=").Append(r.SigmoidUnits).Append(" L=").Append(r.SigmoidLayers); break;
                        case CouplingKind.Spline: sb.Append(" bins=").Append(r.Bins).Append(" B=").Append(r.Bound.ToString("R", CultureInfo.InvariantCulture)); break;
                    }
                    sb.Append(')');
                    break;
                case ReferenceLayerType.Permutation:
                    sb.Append(r.Order != null ? "Perm" + Join(r.Order) : r.PermutationKind == PermutationKind.Random ? $"Perm(Random s={r.ShuffleSeed})" : "Perm(" + r.PermutationKind + ")");
                    break;
                case ReferenceLayerType.ActNorm:
                    sb.Append("ActNorm");
                    break;
                case ReferenceLayerType.InvertibleLinear:
                    sb.Append(r.ShuffleSeed is long s ? $"InvLinear(s={s})" : "InvLinear(P=I)");
                    break;
            }
        }
        if (Origin != null) sb.Append(" | ").Append(Origin);
        return sb.ToString();
    }

    private static string Join(int[] values) => "[" + string.Join(",", values) + "]";

    public override string ToString() => Describe();
}
