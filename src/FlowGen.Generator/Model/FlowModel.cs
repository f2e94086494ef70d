using System;
using FlowGen.Generator.Bases;
using FlowGen.Generator.Layers;

namespace FlowGen.Generator.Model;

// The equatable model of one declared flow: everything the emitter needs, nothing from Roslyn (no symbols, syntax
// nodes or locations), so the incremental pipeline can cache on value equality. Attribute parsing fills it; FlowPlan
// derives the parameter layout and buffer sizes from it. Each layer record belongs to one layer kind (Layers/…), which
// knows its options, its parameters and its code; a coupling layer's transformer options belong to one transformer kind.

// The generator's meanings of the runtime's option enums. They mirror no values: an attribute's value is matched to the
// runtime enum's declared member (Parsing/RuntimeSymbols), and that member to the one here of the same name.

/// <summary>The masks of FlowGen.MaskKind (by member name; the alias Checkerboard is Parity).</summary>
internal enum MaskKind
{
    Halves,
    Parity,
    SingleCoordinate,
}

/// <summary>The activations of FlowGen.Activation (by member name).</summary>
internal enum ActivationKind
{
    Tanh,
    Relu,
    Softplus,
    Elu,
    Gelu,
    Silu,
}

/// <summary>The kinds of FlowGen.PermutationKind (by member name).</summary>
internal enum PermutationKind
{
    None,
    Reverse,
    Random,
}

/// <summary>A type that contains the flow class (for nested declarations), outermost first.</summary>
internal sealed record ContainingType(string Keyword, string Name);

/// <summary>
/// One declared flow. <paramref name="HintSuffix"/>: null, or a suffix that makes the hint name unique when another flow's
/// full name differs from this one only in case (Roslyn compares hint names ignoring case). <paramref name="Base"/>: the declared
/// base distribution, or null for the standard normal.
/// </summary>
internal sealed record FlowModel(
    string? Namespace,
    string TypeName,
    string Accessibility,
    EquatableArray<ContainingType> Containers,
    bool IsDouble,
    int Dim,
    int Context,
    EquatableArray<LayerModel> Layers,
    bool HasParameterlessConstructor,
    bool HasSeedConstructor,
    bool GeneratesToString = true,
    string? HintSuffix = null,
    string? CannotCreateReason = null,
    BaseModel? Base = null)
{
    public string FullName => (Namespace is null ? "" : Namespace + ".") + string.Join(".", Containers.ToArray().ConvertAll(c => c.Name)) + (Containers.Count > 0 ? "." : "") + TypeName;
}

/// <summary>A layer of the stack: the options of one layer kind. Subtypes are records, so equality is structural.</summary>
internal abstract record LayerModel
{
    /// <summary>The kind that owns this layer's layout and code.</summary>
    public abstract LayerKind Kind { get; }
}

/// <summary>
/// A coupling layer: the kept coordinates (and the context) feed the conditioner MLP, whose output parameterises the
/// transformer applied to the transformed coordinates. <paramref name="Transformer"/> holds the transformer kind's own options.
/// </summary>
internal sealed record CouplingLayer(
    int Ordinal,
    EquatableArray<int> Kept,
    EquatableArray<int> Transformed,
    string MaskDescription,
    EquatableArray<int> Hidden,
    ActivationKind Activation,
    TransformerOptions Transformer) : LayerModel
{
    public override LayerKind Kind => CouplingLayerKind.Instance;
}

/// <summary>The options of one transformer kind (one record type per kind, holding only that kind's options).</summary>
internal abstract record TransformerOptions
{
    public abstract TransformerKind Kind { get; }
}

internal static class ArrayExtensions
{
    public static TOut[] ConvertAll<TIn, TOut>(this TIn[] items, Func<TIn, TOut> f)
    {
        var result = new TOut[items.Length];
        for (int i = 0; i < items.Length; i++) result[i] = f(items[i]);
        return result;
    }
}
