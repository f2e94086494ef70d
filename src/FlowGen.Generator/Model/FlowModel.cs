using System;

namespace FlowGen.Generator.Model;

// The equatable model of one declared flow: everything the emitter needs, nothing from Roslyn
// (no symbols, syntax nodes or locations), so the incremental pipeline can cache on value equality.
// Attribute parsing fills it; FlowPlan derives the parameter layout and buffer sizes from it.

/// <summary>Mirror of FlowGen.CouplingKind (the generator does not reference the runtime assembly).</summary>
internal enum CouplingKind
{
    Affine = 0,
    Additive = 1,
    SumOfSquares = 2,
    DeepSigmoidal = 3,
    Spline = 4,
}

/// <summary>Mirror of FlowGen.MaskKind.</summary>
internal enum MaskKind
{
    Halves = 0,
    Parity = 1,
    SingleCoordinate = 2,
}

/// <summary>Mirror of FlowGen.Activation.</summary>
internal enum ActivationKind
{
    Tanh = 0,
    Relu = 1,
    Softplus = 2,
    Elu = 3,
    Gelu = 4,
    Silu = 5,
}

/// <summary>Mirror of FlowGen.PermutationKind.</summary>
internal enum PermutationKind
{
    None = 0,
    Reverse = 1,
    Random = 2,
}

/// <summary>A type that contains the flow class (for nested declarations), outermost first.</summary>
internal sealed record ContainingType(string Keyword, string Name);

/// <summary>
/// One declared flow. <paramref name="HintSuffix"/>: null, or a suffix that makes the hint name unique when another flow's
/// full name differs from this one only in case (Roslyn compares hint names ignoring case).
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
    string? HintSuffix = null)
{
    public string FullName => (Namespace is null ? "" : Namespace + ".") + string.Join(".", Containers.ToArray().ConvertAll(c => c.Name)) + (Containers.Count > 0 ? "." : "") + TypeName;
}

/// <summary>A layer of the stack. Subtypes are records, so equality is structural.</summary>
internal abstract record LayerModel;

/// <summary>A coupling layer: kept coordinates feed the conditioner, transformed ones go through the transformer.</summary>
internal sealed record CouplingLayer(
    CouplingKind Kind,
    int Ordinal,
    EquatableArray<int> Kept,
    EquatableArray<int> Transformed,
    string MaskDescription,
    EquatableArray<int> Hidden,
    ActivationKind Activation,
    double Clamp,
    int Degree,
    int Squares,
    int SigmoidUnits,
    int SigmoidLayers,
    int Bins,
    double Bound) : LayerModel;

/// <summary>A fixed permutation: output i takes input Order[i].</summary>
internal sealed record PermutationLayer(EquatableArray<int> Order, string Description) : LayerModel;

/// <summary>Per-coordinate scale and shift with data-dependent initialisation.</summary>
internal sealed record ActNormLayer() : LayerModel;

/// <summary>LU-decomposed invertible linear layer with fixed permutation P (identity when not <paramref name="Permuted"/>).</summary>
internal sealed record LinearLayer(EquatableArray<int> Permutation, bool Permuted, int Seed) : LayerModel;

internal static class ArrayExtensions
{
    public static TOut[] ConvertAll<TIn, TOut>(this TIn[] items, Func<TIn, TOut> f)
    {
        var result = new TOut[items.Length];
        for (int i = 0; i < items.Length; i++) result[i] = f(items[i]);
        return result;
    }
}
