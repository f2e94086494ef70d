using System.Collections.Generic;
using System.Linq;

namespace FlowGen.Generator.Layers;

/// <summary>
/// The one list of layer kinds and transformer kinds. A new coupling kind is a folder under Layers/ with its options record
/// and its <see cref="TransformerKind"/>, plus one entry in <see cref="Transformers"/>; a new layer kind of another sort is
/// a folder with its record and <see cref="LayerKind"/> (which reads its own attribute), plus one entry in
/// <see cref="AttributeKinds"/>. (Each also needs its attribute class in FlowGen.Runtime's Attributes.cs.)
/// </summary>
internal static class LayerRegistry
{
    /// <summary>The transformer kinds (the order of their helpers in the generated code), each named as its member of FlowGen.CouplingKind.</summary>
    public static readonly IReadOnlyList<TransformerKind> Transformers = new TransformerKind[]
    {
        AffineTransformer.Instance,
        AdditiveTransformer.Instance,
        SumOfSquaresTransformer.Instance,
        DeepSigmoidalTransformer.Instance,
        SplineTransformer.Instance,
    };

    /// <summary>The layer kinds other than couplings: each is listed by an attribute of its own and reads it (<see cref="LayerKind.Read"/>).</summary>
    public static readonly IReadOnlyList<LayerKind> AttributeKinds = new LayerKind[]
    {
        PermutationLayerKind.Instance,
        ActNormLayerKind.Instance,
        InvertibleLinearLayerKind.Instance,
    };

    /// <summary>Every per-layer attribute, by class name.</summary>
    public static readonly IReadOnlyList<string> LayerAttributeNames =
        Transformers.Select(t => t.AttributeName).Concat(AttributeKinds.Select(k => k.AttributeName!)).ToArray();

    /// <summary>The non-coupling kind listed by an attribute's class name, or null (a coupling attribute, or none of FlowGen's).</summary>
    public static LayerKind? KindByAttribute(string attributeName) => AttributeKinds.FirstOrDefault(k => k.AttributeName == attributeName);

    /// <summary>The transformer of a member of FlowGen.CouplingKind, by its name (the runtime declares the values), or null.</summary>
    public static TransformerKind? TransformerByName(string member) => Transformers.FirstOrDefault(t => t.Name == member);

    /// <summary>The position of a transformer kind in <see cref="Transformers"/>.</summary>
    public static int Order(TransformerKind kind)
    {
        for (int i = 0; i < Transformers.Count; i++)
        {
            if (Transformers[i] == kind) return i;
        }
        return Transformers.Count;
    }

    /// <summary>The transformer of a coupling attribute's class name, or null.</summary>
    public static TransformerKind? TransformerByAttribute(string attributeName) => Transformers.FirstOrDefault(t => t.AttributeName == attributeName);

    /// <summary>The kind an option of a transformer belongs to, or null when it belongs to none (a common coupling option).</summary>
    public static TransformerKind? OwnerOfOption(string option) => Transformers.FirstOrDefault(t => t.OptionNames.Contains(option));
}
