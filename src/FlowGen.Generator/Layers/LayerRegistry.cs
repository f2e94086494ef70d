using System.Collections.Generic;
using System.Linq;

namespace FlowGen.Generator.Layers;

/// <summary>
/// The one list of layer kinds and transformer kinds. A new coupling kind is a folder under Layers/ with its options record
/// and its <see cref="TransformerKind"/>, plus one entry here; a new layer kind is a folder with its record and
/// <see cref="LayerKind"/>, plus its attribute here and its reading in the parser.
/// </summary>
internal static class LayerRegistry
{
    /// <summary>The transformer kinds, in the order of FlowGen.CouplingKind.</summary>
    public static readonly IReadOnlyList<TransformerKind> Transformers = new TransformerKind[]
    {
        AffineTransformer.Instance,
        AdditiveTransformer.Instance,
        SumOfSquaresTransformer.Instance,
        DeepSigmoidalTransformer.Instance,
        SplineTransformer.Instance,
    };

    public const string PermuteAttribute = "PermuteAttribute";
    public const string ActNormAttribute = "ActNormAttribute";
    public const string InvertibleLinearAttribute = "InvertibleLinearAttribute";

    /// <summary>Every per-layer attribute, by class name.</summary>
    public static readonly IReadOnlyList<string> LayerAttributeNames =
        Transformers.Select(t => t.AttributeName).Concat(new[] { PermuteAttribute, ActNormAttribute, InvertibleLinearAttribute }).ToArray();

    /// <summary>The transformer selected by a value of FlowGen.CouplingKind, or null.</summary>
    public static TransformerKind? TransformerByValue(int value) => Transformers.FirstOrDefault(t => t.CouplingKindValue == value);

    /// <summary>The transformer of a coupling attribute's class name, or null.</summary>
    public static TransformerKind? TransformerByAttribute(string attributeName) => Transformers.FirstOrDefault(t => t.AttributeName == attributeName);

    /// <summary>The kind an option of a transformer belongs to, or null when it belongs to none (a common coupling option).</summary>
    public static TransformerKind? OwnerOfOption(string option) => Transformers.FirstOrDefault(t => t.OptionNames.Contains(option));
}
