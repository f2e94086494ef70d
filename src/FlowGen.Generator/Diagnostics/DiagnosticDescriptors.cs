using Microsoft.CodeAnalysis;

namespace FlowGen.Generator.Diagnostics;

/// <summary>Every diagnostic FlowGen reports. IDs are stable; AnalyzerReleases.*.md tracks them.</summary>
internal static class DiagnosticDescriptors
{
    private const string Category = "FlowGen";

    private static DiagnosticDescriptor Error(string id, string title, string message) =>
        new(id, title, message, Category, DiagnosticSeverity.Error, isEnabledByDefault: true);

    public static readonly DiagnosticDescriptor NotPartial = Error(
        "FG0001", "Flow class must be partial",
        "'{0}' must be declared partial so that FlowGen can add the generated members of [CouplingFlow]");

    public static readonly DiagnosticDescriptor UnsupportedType = Error(
        "FG0002", "Unsupported type for [CouplingFlow]",
        "[CouplingFlow] needs a non-generic, non-static, non-abstract class that is not a record; '{0}' is {1}");

    public static readonly DiagnosticDescriptor UnsupportedContainer = Error(
        "FG0003", "Unsupported containing type",
        "'{0}' is nested in '{1}', which must be a non-generic partial class or struct for FlowGen to add members to '{0}'");

    /// <summary>Dim out of range ("Dim must be between 2 and 4096; it is 1") or not set ("Dim is required: …").</summary>
    public static readonly DiagnosticDescriptor InvalidDim = Error(
        "FG0004", "Invalid Dim",
        "{0}");

    public static readonly DiagnosticDescriptor InvalidLayers = Error(
        "FG0005", "Invalid number of layers",
        "{0}");

    public static readonly DiagnosticDescriptor InvalidHidden = Error(
        "FG0006", "Invalid hidden layer width",
        "Hidden layer widths must be between 1 and {2}; width {0} of layer {1} is not");

    public static readonly DiagnosticDescriptor MaskLength = Error(
        "FG0007", "Mask pattern of wrong length",
        "MaskPattern \"{0}\" has {1} characters but Dim is {2}");

    public static readonly DiagnosticDescriptor MaskDegenerate = Error(
        "FG0008", "Mask keeps or transforms nothing",
        "MaskPattern \"{0}\" must contain at least one '1' (kept coordinate) and at least one '0' (transformed coordinate){1}");

    public static readonly DiagnosticDescriptor MaskCharacters = Error(
        "FG0009", "Invalid mask pattern",
        "MaskPattern \"{0}\" may contain only the characters '0' (transformed) and '1' (kept)");

    public static readonly DiagnosticDescriptor UnknownEnumValue = Error(
        "FG0010", "Unknown enum value",
        "{0} = {1} is not a value of {2}");

    public static readonly DiagnosticDescriptor ConflictingOptions = Error(
        "FG0011", "Conflicting options",
        "{0}");

    public static readonly DiagnosticDescriptor UnsupportedPrecision = Error(
        "FG0012", "Unsupported precision",
        "CouplingFlow<{0}> is not supported: use float or double");

    public static readonly DiagnosticDescriptor ModelTooLarge = Error(
        "FG0013", "Model too large",
        "The flow is too large for FlowGen: {0}");

    public static readonly DiagnosticDescriptor MemberClash = Error(
        "FG0014", "Member name clashes with a generated member",
        "'{0}' declares '{1}', which FlowGen generates for [CouplingFlow]; rename or remove it");

    public static readonly DiagnosticDescriptor InvalidOption = Error(
        "FG0015", "Invalid option value",
        "{0} must be {1}; it is {2}");

    /// <summary>Two base-distribution attributes on one flow class: {0} the class, {1} the first, {2} this one.</summary>
    public static readonly DiagnosticDescriptor SeveralBases = Error(
        "FG0023", "Several base distributions",
        "'{0}' declares more than one base distribution ([{1}] and [{2}]); keep one");

    public static readonly DiagnosticDescriptor InvalidPermutation = Error(
        "FG0016", "Invalid permutation",
        "Permute order {{{0}}} is not a permutation of 0 … {1}");

    public static readonly DiagnosticDescriptor LayerAttributesSplit = Error(
        "FG0017", "Layer attributes on another declaration",
        "Layer attributes of '{0}' must be on the same partial declaration as its [CouplingFlow] attribute, so that their order is defined");

    public static readonly DiagnosticDescriptor EmptyStack = Error(
        "FG0018", "Empty stack",
        "'{0}' declares no layers: set Layers = n on [CouplingFlow] or list layer attributes");

    public static readonly DiagnosticDescriptor LayerWithoutFlow = new(
        "FG0019", "Layer attribute without [CouplingFlow]",
        "'{0}' has FlowGen layer attributes but no [CouplingFlow] attribute, so nothing is generated for it",
        Category, DiagnosticSeverity.Warning, isEnabledByDefault: true);

    /// <summary>
    /// A coupling-kind option (Clamp; Degree, Squares; SigmoidUnits, SigmoidLayers; Bins, Bound) that no coupling of
    /// its kind uses. {0} the option, {1} the kind it belongs to, {2} what it is set on.
    /// </summary>
    public static readonly DiagnosticDescriptor OptionNotApplicable = new(
        "FG0020", "Option does not apply to the coupling kind",
        "{0} is an option of {1} couplings; it has no effect on {2}",
        Category, DiagnosticSeverity.Warning, isEnabledByDefault: true);

    /// <summary>
    /// An exception inside FlowGen itself (parser or emitter): a bug, not a problem of the declaration.
    /// {0} what FlowGen was doing, {1} the exception type, {2} its message.
    /// </summary>
    public static readonly DiagnosticDescriptor InternalError = Error(
        "FG0021", "Internal FlowGen error",
        "FlowGen failed while {0} ({1}: {2}). This is a bug in FlowGen, not in the declaration: please report it with the declaration.");

    /// <summary>
    /// The referenced FlowGen runtime does not declare what the generator reads from it (an option default, an enum, an enum
    /// member the generator knows): the runtime and the generator come from different FlowGen versions. {0} what is missing.
    /// </summary>
    public static readonly DiagnosticDescriptor RuntimeMismatch = Error(
        "FG0022", "FlowGen runtime and generator do not match",
        "{0}: the FlowGen runtime this project references and the FlowGen source generator must be the same version (reference the FlowGen package only)");

    /// <summary>
    /// An option of a uniform stack that depends on another one which is off (InvertibleLinearPermute without
    /// InvertibleLinear = true). {0} the option, {1} what it needs.
    /// </summary>
    public static readonly DiagnosticDescriptor OptionWithoutEffect = new(
        "FG0024", "Option has no effect",
        "{0} has no effect without {1}",
        Category, DiagnosticSeverity.Warning, isEnabledByDefault: true);
}
