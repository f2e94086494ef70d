using System;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.Linq;
using System.Threading;
using FlowGen.Generator.Bases;
using FlowGen.Generator.Diagnostics;
using FlowGen.Generator.Layers;
using FlowGen.Generator.Model;
using FlowGen.Generator.Planning;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace FlowGen.Generator.Parsing;

/// <summary>
/// The outcome of reading one [CouplingFlow] declaration: a model (when it is valid), diagnostics, and the location of the
/// class name (kept out of the model; used to report an emitter failure, FG0021).
/// </summary>
internal sealed record ParseResult(FlowModel? Model, EquatableArray<DiagnosticInfo> Diagnostics, LocationInfo? TypeLocation);

/// <summary>
/// Stage 1 of the generator: reads the attributes of a [CouplingFlow] class into an equatable <see cref="FlowModel"/>,
/// validating every option. Never throws on user input: everything invalid becomes a diagnostic.
/// </summary>
internal static class FlowParser
{
    public const string Namespace = "FlowGen";
    public const string FlowAttributeName = "FlowGen.CouplingFlowAttribute";
    public const string GenericFlowAttributeName = "FlowGen.CouplingFlowAttribute`1";

    // Limits that bound the size of the emitted code and of the model (documented in README, "Limits").
    public const int MaxDim = 4096;
    public const int MaxStackLayers = 256;
    public const int MaxHiddenLayers = 16;
    public const int MaxWidth = 65536;
    public const int MaxContext = 4096;
    public const long MaxParameters = 100_000_000;

    /// <summary>Names of the members FlowGen generates; a user member with one of these names is a clash.</summary>
    public static readonly ImmutableHashSet<string> GeneratedMemberNames = ImmutableHashSet.Create(
        "Dim", "ContextDim", "ParameterCount", "StackHash", "StackDescription", "StackSpec", "ParameterTensors", "Parameters",
        "Forward", "Inverse", "LogProb", "Sample", "ResetParameters", "InitializeFromData", "IsDataInitialized",
        "NllGradient", "ForwardVjp", "InverseVjp", "_parameters", "_dataInitialized");

    /// <summary>The members FlowGen generates in addition for a flow with a Gaussian-mixture base.</summary>
    public static readonly ImmutableHashSet<string> MixtureMemberNames = ImmutableHashSet.Create(
        "Components", "ComponentLogPosteriors", "Classify", "LabeledNllGradient");

    /// <summary>
    /// Test hook (null in production): called with the class name at the start of every parse, so that tests can throw
    /// from it to exercise the internal-error path (FG0021). A test throws only for its own class name, as tests run in parallel.
    /// </summary>
    internal static Action<string>? TestFault;

    public static readonly string[] LayerAttributeMetadataNames = LayerRegistry.LayerAttributeNames.Select(n => Namespace + "." + n).ToArray();

    /// <summary>FG0019 for a class with layer attributes but no [CouplingFlow]; reported from its first layer attribute only.</summary>
    public static DiagnosticInfo? CheckOrphanLayers(GeneratorAttributeSyntaxContext context, CancellationToken ct)
    {
        if (context.TargetSymbol is not INamedTypeSymbol type || context.Attributes.Length == 0) return null;
        var all = type.GetAttributes();
        if (all.Any(a => a.AttributeClass is { } c && c.ContainingNamespace?.ToDisplayString() == Namespace && c.Name == "CouplingFlowAttribute")) return null;
        AttributeData? first = all.Where(a => IsLayerAttribute(a.AttributeClass) && a.ApplicationSyntaxReference is not null)
            .OrderBy(a => a.ApplicationSyntaxReference!.SyntaxTree.FilePath, StringComparer.Ordinal)
            .ThenBy(a => a.ApplicationSyntaxReference!.Span.Start)
            .FirstOrDefault();
        if (first is null || !SymbolEqualityComparer.Default.Equals(first.AttributeClass, context.Attributes[0].AttributeClass)) return null;
        return DiagnosticInfo.Create(DiagnosticDescriptors.LayerWithoutFlow, LocationInfo.From(first.ApplicationSyntaxReference!.GetSyntax(ct)), type.Name);
    }

    /// <summary>[CouplingFlow] or [CouplingFlow&lt;T&gt;] (any T).</summary>
    private static bool IsFlowAttribute(INamedTypeSymbol? type) =>
        type is not null && type.ContainingNamespace?.ToDisplayString() == Namespace && type.Name == "CouplingFlowAttribute";

    /// <summary>Whether two attribute data are the same application in source (same tree and span).</summary>
    private static bool SameApplication(AttributeData a, AttributeData b) =>
        a.ApplicationSyntaxReference is { } x && b.ApplicationSyntaxReference is { } y && x.SyntaxTree == y.SyntaxTree && x.Span == y.Span;

    public static bool IsLayerAttribute(INamedTypeSymbol? type) =>
        type is not null && type.ContainingNamespace?.ToDisplayString() == Namespace && LayerRegistry.LayerAttributeNames.Contains(type.Name);

    public static ParseResult Parse(GeneratorAttributeSyntaxContext context, bool generic, CancellationToken cancellationToken)
    {
        var diagnostics = new List<DiagnosticInfo>();
        LocationInfo? typeLocation = null;
        try
        {
            typeLocation = LocationInfo.From(context.TargetNode is TypeDeclarationSyntax tds ? tds.Identifier.GetLocation() : context.TargetNode.GetLocation());
            FlowModel? model = ParseCore(context, generic, typeLocation, diagnostics, cancellationToken);
            // a flow-level option that several couplings inherit is read (and checked) by each of them: reported once
            return new ParseResult(diagnostics.Any(d => d.IsError) ? null : model, diagnostics.Distinct().ToEquatableArray(), typeLocation);
        }
        catch (OperationCanceledException)
        {
            throw;
        }
        catch (Exception ex)
        {
            // A bug in the parser must never crash the user's build: report it as an internal error (FG0021) instead.
            diagnostics.Add(DiagnosticInfo.InternalError(typeLocation, $"reading the declaration of '{context.TargetSymbol.Name}'", ex));
            return new ParseResult(null, diagnostics.ToEquatableArray(), typeLocation);
        }
    }

    private static FlowModel? ParseCore(GeneratorAttributeSyntaxContext context, bool generic, LocationInfo? typeLocation, List<DiagnosticInfo> diags, CancellationToken ct)
    {
        if (context.TargetSymbol is not INamedTypeSymbol type || context.Attributes.Length == 0) return null;
        TestFault?.Invoke(type.Name);
        AttributeData flowAttribute = context.Attributes.OrderBy(a => a.ApplicationSyntaxReference?.Span.Start ?? 0).First();
        LocationInfo? attributeLocation = LocationInfo.From(flowAttribute.ApplicationSyntaxReference?.GetSyntax(ct));

        // ---- several flow attributes on one class ----
        // This runs once per declaration that carries a flow attribute (and per pipeline, plain and generic), but the
        // attributes of all partial declarations belong to the one class: exactly one run may build its model, or the
        // class is generated twice (same hint name: CS8785). Order: file path, then position.
        var flowAttributes = type.GetAttributes()
            .Where(a => IsFlowAttribute(a.AttributeClass) && a.ApplicationSyntaxReference is not null)
            .OrderBy(a => a.ApplicationSyntaxReference!.SyntaxTree.FilePath, StringComparer.Ordinal)
            .ThenBy(a => a.ApplicationSyntaxReference!.Span.Start)
            .ToList();
        if (flowAttributes.Count > 1)
        {
            AttributeData first = flowAttributes[0];
            AttributeData? otherKind = flowAttributes.FirstOrDefault(a => a.AttributeClass!.IsGenericType != first.AttributeClass!.IsGenericType);
            if (otherKind is not null)
            {
                // [CouplingFlow] and [CouplingFlow<T>] are different attribute types: the compiler accepts both. FG0011 at
                // the second one, reported by the run whose attributes include it (so once); no run builds a model.
                if (context.Attributes.Any(a => SameApplication(a, otherKind)))
                {
                    diags.Add(DiagnosticInfo.Create(DiagnosticDescriptors.ConflictingOptions, LocationInfo.From(otherKind.ApplicationSyntaxReference!.GetSyntax(ct)),
                        $"'{type.Name}' has both [CouplingFlow] and [CouplingFlow<T>]; use one"));
                }
                return null;
            }
            // The same attribute again (also CouplingFlow<float> with CouplingFlow<double>): the compiler reports CS0579 at
            // each duplicate. Nothing to add: the first attribute defines the flow, the runs of the others build nothing.
            if (!SameApplication(flowAttribute, first)) return null;
        }

        // Every problem of the declaration is reported in the same build, each at its own argument: the checks below
        // go on after a failed one wherever they do not depend on it (a dependency is stated where a check is skipped),
        // and the model is dropped at the end if any error was reported. One argument gets at most one diagnostic.

        // ---- the type itself ----
        string? kindProblem = type switch
        {
            { TypeKind: not TypeKind.Class } => type.TypeKind == TypeKind.Struct ? (type.IsRecord ? "a record struct" : "a struct") : "a " + type.TypeKind.ToString().ToLowerInvariant(),
            { IsRecord: true } => "a record",
            { IsStatic: true } => "static",
            { IsAbstract: true } => "abstract",
            { TypeParameters.Length: > 0 } => "generic",
            // a file-local class cannot be extended from the generated file: the generated part would be another type
            { IsFileLocal: true } => "file-local",
            _ => BaseFlow(type) is { } baseFlow ? $"derived from the flow '{baseFlow.Name}' (its generated members would be hidden)" : null,
        };
        if (kindProblem is not null)
        {
            diags.Add(DiagnosticInfo.Create(DiagnosticDescriptors.UnsupportedType, typeLocation, type.Name, kindProblem));
        }

        bool isPartial = type.DeclaringSyntaxReferences.All(r => r.GetSyntax(ct) is TypeDeclarationSyntax d && d.Modifiers.Any(SyntaxKind.PartialKeyword));
        if (!isPartial)
        {
            diags.Add(DiagnosticInfo.Create(DiagnosticDescriptors.NotPartial, typeLocation, type.Name));
        }

        var containers = new List<ContainingType>();
        for (INamedTypeSymbol? outer = type.ContainingType; outer is not null; outer = outer.ContainingType)
        {
            string? keyword = ContainerKeyword(outer, ct);
            if (keyword is null)
            {
                diags.Add(DiagnosticInfo.Create(DiagnosticDescriptors.UnsupportedContainer, typeLocation, type.Name, outer.Name));
                continue;
            }
            containers.Insert(0, new ContainingType(keyword, outer.Name));
        }

        // ---- precision ----
        bool isDouble = false;
        if (generic)
        {
            ITypeSymbol? t = flowAttribute.AttributeClass?.TypeArguments.FirstOrDefault();
            if (t?.SpecialType == SpecialType.System_Double) isDouble = true;
            else if (t?.SpecialType != SpecialType.System_Single)
            {
                diags.Add(DiagnosticInfo.Create(DiagnosticDescriptors.UnsupportedPrecision, attributeLocation, t?.ToDisplayString() ?? "?"));
            }
        }

        // ---- flow options ----
        var flow = new AttributeReader(flowAttribute, "CouplingFlow", diags, ct);
        int dim = flow.Int("Dim", 0);
        int layers = flow.Int("Layers", 0);
        string contextName = flow.IsSet("ContextDim") || !flow.IsSet("Context") ? "ContextDim" : "Context"; // Context: the former name
        int contextDim = flow.Int(contextName, 0);
        int seed = flow.Int("Seed", 0);
        // The defaults of the flow's options and the members of its enums are the runtime's (Attributes.cs), read from the
        // compilation: a value that is not a member of its enum is FG0010, and the option's default is then assumed.
        var runtime = new RuntimeSymbols(flowAttribute.AttributeClass, diags, attributeLocation);
        RuntimeEnum couplingKinds = runtime.Enum("CouplingKind"), maskKinds = runtime.Enum("MaskKind"),
            activations = runtime.Enum("Activation"), permutationKinds = runtime.Enum("PermutationKind");
        // the stack's kind for a uniform stack (an unknown one is not checked for FG0020)
        TransformerKind? couplingSet = EnumOption(flow, "Coupling", couplingKinds, LayerRegistry.TransformerByName);
        bool uniformKindKnown = !flow.IsSet("Coupling") || couplingSet is not null;
        TransformerKind uniformKind = couplingSet ?? Default(runtime, couplingKinds, "DefaultCoupling", LayerRegistry.TransformerByName) ?? LayerRegistry.Transformers[0];
        MaskKind? maskSet = EnumOption<MaskKind>(flow, "Mask", maskKinds);
        var defaults = new CouplingOptions
        {
            Mask = maskSet ?? Default<MaskKind>(runtime, maskKinds, "DefaultMask"),
            MaskPattern = flow.String("MaskPattern"),
            Hidden = flow.IntArray("Hidden") ?? Enumerable.Repeat(runtime.Constant(FlowAttributeClass, "DefaultHiddenWidth", 0), runtime.Constant(FlowAttributeClass, "DefaultHiddenLayers", 0)).ToArray(),
            Activation = EnumOption<ActivationKind>(flow, "Activation", activations) ?? Default<ActivationKind>(runtime, activations, "DefaultActivation"),
        };
        // an unknown Mask value (FG0010) leaves the mask unknown: checks that depend on it are skipped
        bool flowMaskKnown = !flow.IsSet("Mask") || maskSet is not null;
        PermutationKind permutation = EnumOption<PermutationKind>(flow, "Permutation", permutationKinds) ?? Default<PermutationKind>(runtime, permutationKinds, "DefaultPermutation");
        bool actNorm = flow.Bool("ActNorm");
        bool linear = flow.Bool("InvertibleLinear");
        bool linearPermute = flow.IsSet("InvertibleLinearPermute") ? flow.Bool("InvertibleLinearPermute") : runtime.Constant("InvertibleLinearAttribute", "DefaultPermute", true);
        if (flow.IsSet("Hidden") && flow.IntArray("Hidden") is null)
        {
            diags.Add(DiagnosticInfo.Create(DiagnosticDescriptors.InvalidOption, flow.Location("Hidden"), "Hidden", "an array of widths (use an empty array for no hidden layer)", "null"));
        }

        bool dimValid = dim >= 2 && dim <= MaxDim;
        if (!flow.IsSet("Dim"))
        {
            diags.Add(DiagnosticInfo.Create(DiagnosticDescriptors.InvalidDim, attributeLocation, $"Dim is required: set Dim = n (2 to {MaxDim}) on [CouplingFlow]"));
        }
        else if (!dimValid)
        {
            diags.Add(DiagnosticInfo.Create(DiagnosticDescriptors.InvalidDim, flow.Location("Dim"), $"Dim must be between 2 and {MaxDim}; it is {dim}"));
        }
        // From here on, checks that need Dim (mask length, Coordinate's range, explicit permutation orders) and the
        // construction of the layers are skipped when it is invalid; everything else is still checked.
        int? knownDim = dimValid ? dim : null;
        if (contextDim < 0 || contextDim > MaxContext)
        {
            diags.Add(DiagnosticInfo.Create(DiagnosticDescriptors.InvalidOption, flow.Location(contextName), contextName, $"between 0 and {MaxContext}", contextDim));
        }
        ValidateCouplingOptions(defaults, flow, diags);
        // each coupling kind's own options set on [CouplingFlow] are checked by that kind, whether or not a layer uses them
        foreach (TransformerKind kind in LayerRegistry.Transformers)
        {
            if (kind.OptionNames.Any(flow.IsSet)) kind.Read(new OptionReader(null, flow, diags, runtime, kind.AttributeName));
        }
        if (flow.IsSet("Mask") && flow.IsSet("MaskPattern"))
        {
            diags.Add(DiagnosticInfo.Create(DiagnosticDescriptors.ConflictingOptions, flow.Location("MaskPattern"), "Set either Mask or MaskPattern on [CouplingFlow], not both"));
        }
        // checked once here, not at every coupling that inherits it
        bool flowPatternValid = defaults.MaskPattern is null || ValidateMaskPattern(defaults.MaskPattern, flow.Location("MaskPattern"), knownDim, diags);

        // ---- layer attributes (explicit stack) ----
        var layerAttributes = type.GetAttributes().Where(a => IsLayerAttribute(a.AttributeClass)).ToList();
        SyntaxNode? flowSyntax = flowAttribute.ApplicationSyntaxReference?.GetSyntax(ct);
        TypeDeclarationSyntax? flowDeclaration = flowSyntax?.FirstAncestorOrSelf<TypeDeclarationSyntax>();
        foreach (AttributeData a in layerAttributes)
        {
            SyntaxNode? s = a.ApplicationSyntaxReference?.GetSyntax(ct);
            if (s is null || flowDeclaration is null || s.FirstAncestorOrSelf<TypeDeclarationSyntax>() != flowDeclaration)
            {
                // the order of the stack is undefined; the layers' own arguments are still checked below
                diags.Add(DiagnosticInfo.Create(DiagnosticDescriptors.LayerAttributesSplit, LocationInfo.From(s) ?? typeLocation, type.Name));
            }
        }
        layerAttributes = layerAttributes
            .OrderBy(a => a.ApplicationSyntaxReference?.SyntaxTree.FilePath ?? "", StringComparer.Ordinal)
            .ThenBy(a => a.ApplicationSyntaxReference?.Span.Start ?? 0)
            .ToList();

        var stack = new List<LayerModel>();
        if (layerAttributes.Count == 0)
        {
            bool layersValid = layers >= 1 && layers <= MaxStackLayers;
            if (!layersValid)
            {
                if (flow.IsSet("Layers"))
                    diags.Add(DiagnosticInfo.Create(DiagnosticDescriptors.InvalidLayers, flow.Location("Layers"), $"Layers must be between 1 and {MaxStackLayers}; it is {layers}"));
                else
                    diags.Add(DiagnosticInfo.Create(DiagnosticDescriptors.EmptyStack, attributeLocation, type.Name));
            }
            // FG0020: a kind option of another kind than the stack's (unknown kind after FG0010: not checked)
            if (uniformKindKnown)
            {
                ReportOptionsOfOtherKinds(flow, (option, kind) => kind == uniformKind ? null : $"a uniform stack of {uniformKind.Name} couplings", diags);
            }
            if (!linear && flow.IsSet("InvertibleLinearPermute"))
            {
                diags.Add(DiagnosticInfo.Create(DiagnosticDescriptors.OptionWithoutEffect, flow.Location("InvertibleLinearPermute"), "InvertibleLinearPermute", "InvertibleLinear = true"));
            }
            // the stack is built only from valid sizes and a valid mask; with any other error it would be dropped anyway
            if (layersValid && dimValid && flowPatternValid && !diags.Any(d => d.IsError))
            {
                // every coupling of a uniform stack has the same options: read (and checked) once
                TransformerOptions transformer = uniformKind.Read(new OptionReader(null, flow, diags, runtime, uniformKind.AttributeName));
                for (int c = 0; c < layers; c++)
                {
                    if (actNorm) stack.Add(new ActNormLayer());
                    if (linear) stack.Add(linearPermute ? InvertibleLinearLayerKind.Permuted(dim, seed + stack.Count) : InvertibleLinearLayerKind.Unpermuted(dim));
                    stack.Add(BuildCoupling(defaults, transformer, c, dim, null, alternatePattern: true));
                    if (permutation != PermutationKind.None && c < layers - 1)
                    {
                        stack.Add(PermutationLayerKind.Of(permutation, dim, seed + stack.Count));
                    }
                }
            }
        }
        else
        {
            foreach (string option in new[] { "Coupling", "ActNorm", "InvertibleLinear", "InvertibleLinearPermute", "Permutation" })
            {
                if (flow.IsSet(option))
                {
                    diags.Add(DiagnosticInfo.Create(DiagnosticDescriptors.ConflictingOptions, flow.Location(option),
                        $"{option} on [CouplingFlow] applies only to a uniform stack; with layer attributes, list the layer explicitly instead"));
                }
            }
            int couplingCount = layerAttributes.Count(a => LayerRegistry.TransformerByAttribute(a.AttributeClass!.Name) is not null);
            if (flow.IsSet("Layers") && layers != couplingCount)
            {
                diags.Add(DiagnosticInfo.Create(DiagnosticDescriptors.InvalidLayers, flow.Location("Layers"),
                    $"Layers = {layers} but {couplingCount} coupling layer attribute(s) are listed; remove Layers or make it match"));
            }
            bool tooManyLayers = layerAttributes.Count > MaxStackLayers;
            if (tooManyLayers)
            {
                diags.Add(DiagnosticInfo.Create(DiagnosticDescriptors.ModelTooLarge, attributeLocation, $"{layerAttributes.Count} layers (at most {MaxStackLayers})"));
            }
            // every layer attribute's arguments are checked; the layers themselves are built only when Dim is valid
            bool build = dimValid && !tooManyLayers;
            int ordinal = 0;
            var couplings = new List<(TransformerKind Kind, AttributeReader Reader)>();
            foreach (AttributeData a in layerAttributes)
            {
                ct.ThrowIfCancellationRequested();
                var reader = new AttributeReader(a, a.AttributeClass!.Name.Substring(0, a.AttributeClass.Name.Length - "Attribute".Length), diags, ct);
                // a layer of another kind than a coupling reads its own attribute
                if (LayerRegistry.KindByAttribute(a.AttributeClass.Name) is { } layerKind)
                {
                    LayerModel? layer = layerKind.Read(new LayerAttributeContext(a, reader, knownDim, seed + stack.Count, runtime, diags, ct));
                    if (build && layer is not null) stack.Add(layer);
                    continue;
                }
                // a coupling: the options common to every kind, then its transformer kind's own
                TransformerKind kind = LayerRegistry.TransformerByAttribute(a.AttributeClass.Name)!;
                var options = defaults.Clone();
                bool inheritsMask = !reader.IsSet("Mask") && !reader.IsSet("MaskPattern");
                MaskKind? layerMask = EnumOption<MaskKind>(reader, "Mask", maskKinds);
                bool maskKnown = inheritsMask ? flowMaskKnown : !reader.IsSet("Mask") || layerMask is not null;
                if (reader.IsSet("Mask")) { options.Mask = layerMask ?? options.Mask; options.MaskPattern = null; }
                if (reader.IsSet("MaskPattern")) options.MaskPattern = reader.String("MaskPattern");
                if (reader.IsSet("Mask") && reader.IsSet("MaskPattern"))
                {
                    diags.Add(DiagnosticInfo.Create(DiagnosticDescriptors.ConflictingOptions, reader.Location("MaskPattern"), "Set either Mask or MaskPattern on a layer, not both"));
                }
                if (reader.IsSet("Hidden"))
                {
                    int[]? h = reader.IntArray("Hidden");
                    if (h is not null) options.Hidden = h;
                }
                if (reader.IsSet("Activation")) options.Activation = EnumOption<ActivationKind>(reader, "Activation", activations) ?? options.Activation;
                // only what this attribute sets: inherited values were checked once, on [CouplingFlow]
                ValidateCouplingOptions(options, reader, diags);
                // the kind's own options: this attribute's, else the flow's defaults (checked there), else the kind's defaults
                TransformerOptions transformer = kind.Read(new OptionReader(reader, flow, diags, runtime, kind.AttributeName));
                // FG0020 on the layer itself: unreachable while each coupling attribute exposes only its own kind's
                // options (Attributes.cs; another kind's option does not compile), kept for attribute types that share them
                ReportOptionsOfOtherKinds(reader, (option, k) => k == kind ? null : $"this {kind.Name} coupling", diags);
                couplings.Add((kind, reader));

                bool maskValid = inheritsMask
                    ? flowPatternValid
                    : !reader.IsSet("MaskPattern") || options.MaskPattern is null || ValidateMaskPattern(options.MaskPattern, reader.Location("MaskPattern"), knownDim, diags);
                int? coordinate = reader.IsSet("Coordinate") ? reader.Int("Coordinate", -1) : null;
                bool coordinateValid = true;
                if (coordinate is int chosen)
                {
                    // whether Coordinate applies depends on the mask: not checked when the mask is unknown (FG0010)
                    if (maskKnown && (options.MaskPattern is not null || options.Mask != MaskKind.SingleCoordinate))
                    {
                        diags.Add(DiagnosticInfo.Create(DiagnosticDescriptors.ConflictingOptions, reader.Location("Coordinate"),
                            "Coordinate applies only to Mask = MaskKind.SingleCoordinate"));
                        coordinateValid = false;
                    }
                    // its range needs a valid Dim
                    else if (dimValid && (chosen < 0 || chosen >= dim))
                    {
                        diags.Add(DiagnosticInfo.Create(DiagnosticDescriptors.InvalidOption, reader.Location("Coordinate"), "Coordinate", $"between 0 and {dim - 1}", chosen));
                        coordinateValid = false;
                    }
                }
                if (build && maskValid && coordinateValid && maskKnown)
                {
                    stack.Add(BuildCoupling(options, transformer, ordinal, dim, coordinate, alternatePattern: inheritsMask));
                }
                ordinal++;
            }
            // FG0020: the kind options on [CouplingFlow] are defaults for the listed couplings; unused when no coupling of
            // that kind is listed, or when each of them sets its own value
            ReportOptionsOfOtherKinds(flow, (option, kind) =>
            {
                var ofKind = couplings.Where(c => c.Kind == kind).ToList();
                if (ofKind.Count == 0)
                {
                    return $"an explicit stack without {kind.Name} couplings " + (couplings.Count == 0
                        ? "(it lists no coupling)"
                        : $"(its couplings: {string.Join(", ", couplings.Select(c => c.Kind.Name).Distinct())})");
                }
                return ofKind.All(c => c.Reader.IsSet(option)) ? $"an explicit stack whose {kind.Name} couplings all set their own {option}" : null;
            }, diags);
        }

        // ---- the base distribution ---- (at most one base attribute; without one, the standard normal)
        BaseModel? baseModel = null;
        foreach (BaseKind kind in BaseRegistry.Kinds) kind.CheckDefaults(runtime);
        var baseAttributes = type.GetAttributes()
            .Where(a => a.AttributeClass is { } c && c.ContainingNamespace?.ToDisplayString() == Namespace && BaseRegistry.KindByAttribute(c.Name) is not null)
            .OrderBy(a => a.ApplicationSyntaxReference?.SyntaxTree.FilePath ?? "", StringComparer.Ordinal)
            .ThenBy(a => a.ApplicationSyntaxReference?.Span.Start ?? 0)
            .ToList();
        for (int b = 0; b < baseAttributes.Count; b++)
        {
            AttributeData a = baseAttributes[b];
            string name = a.AttributeClass!.Name.Substring(0, a.AttributeClass.Name.Length - "Attribute".Length);
            BaseKind kind = BaseRegistry.KindByAttribute(a.AttributeClass.Name)!;
            // every base attribute's arguments are checked; the first one is the flow's base
            BaseModel? read = kind.Read(new LayerAttributeContext(a, new AttributeReader(a, name, diags, ct), knownDim, seed, runtime, diags, ct));
            if (b == 0) baseModel = read;
            else
            {
                string first = baseAttributes[0].AttributeClass!.Name;
                diags.Add(DiagnosticInfo.Create(DiagnosticDescriptors.SeveralBases, LocationInfo.From(a.ApplicationSyntaxReference?.GetSyntax(ct)) ?? typeLocation,
                    type.Name, first.Substring(0, first.Length - "Attribute".Length), name));
            }
        }
        // the class-conditional members of a mixture base are generated members too
        ImmutableHashSet<string> generatedNames = baseModel is GaussianMixtureBase ? GeneratedMemberNames.Union(MixtureMemberNames) : GeneratedMemberNames;

        // ---- size limits ---- (need the complete stack: only when nothing above is an error)
        if (!diags.Any(d => d.IsError))
        {
            long parameters = FlowPlan.CountParameters(new FlowModel(null, type.Name, "", EquatableArray<ContainingType>.Empty, isDouble, dim, contextDim,
                stack.ToEquatableArray(), false, false, Base: baseModel));
            if (parameters > MaxParameters)
            {
                diags.Add(DiagnosticInfo.Create(DiagnosticDescriptors.ModelTooLarge, attributeLocation, $"{parameters:N0} parameters (at most {MaxParameters:N0})"));
            }
        }

        // ---- clashes with generated members ---- (independent of the attributes: always checked)
        // a class named like a generated member (e.g. 'Dim') cannot have that member (CS0542)
        if (generatedNames.Contains(type.Name))
        {
            diags.Add(DiagnosticInfo.Create(DiagnosticDescriptors.MemberClash, typeLocation, type.Name, type.Name));
        }
        foreach (ISymbol member in type.GetMembers())
        {
            if (member.IsImplicitlyDeclared) continue;
            if (generatedNames.Contains(member.Name))
            {
                diags.Add(DiagnosticInfo.Create(DiagnosticDescriptors.MemberClash, LocationInfo.From(member.Locations.FirstOrDefault()), type.Name, member.Name));
            }
        }
        // inherited members with a generated name would be hidden (CS0108, an error with warnings as errors)
        for (INamedTypeSymbol? b = type.BaseType; b is not null && b.SpecialType != SpecialType.System_Object; b = b.BaseType)
        {
            foreach (ISymbol member in b.GetMembers())
            {
                if (member.IsImplicitlyDeclared || member.DeclaredAccessibility == Accessibility.Private || !generatedNames.Contains(member.Name)) continue;
                diags.Add(DiagnosticInfo.Create(DiagnosticDescriptors.MemberClash, BaseListLocation(context, ct) ?? typeLocation, type.Name, b.Name + "." + member.Name));
                break;
            }
        }
        if (diags.Any(d => d.IsError)) return null;

        // a primary constructor requires every other constructor to call it (CS8862): the generated ones cannot, so they are
        // left out and construction is the user's (the field initialiser still sets the parameters from seed 0)
        bool primary = type.InstanceConstructors.Any(c => c.DeclaringSyntaxReferences.Any(r => r.GetSyntax(ct) is TypeDeclarationSyntax));
        bool hasParameterless = primary || type.InstanceConstructors.Any(c => !c.IsImplicitlyDeclared && c.Parameters.Length == 0);
        bool hasSeed = primary || type.InstanceConstructors.Any(c => !c.IsImplicitlyDeclared && c.Parameters.Length == 1 && c.Parameters[0].Type.SpecialType == SpecialType.System_UInt64);
        // ICouplingFlowModel<TSelf, T>.Create(seed) calls new F(seed): say why when it cannot
        string? cannotCreate = type.IsAbstract ? "it is abstract"
            : primary ? "it has a primary constructor"
            : HasRequiredMembers(type) ? "it has required members"
            : null;

        string? ns = type.ContainingNamespace is { IsGlobalNamespace: false } n ? n.ToDisplayString() : null;
        string accessibility = type.DeclaredAccessibility switch
        {
            Accessibility.Public => "public",
            Accessibility.Internal => "internal",
            Accessibility.Private => "private",
            Accessibility.Protected => "protected",
            Accessibility.ProtectedOrInternal => "protected internal",
            Accessibility.ProtectedAndInternal => "private protected",
            _ => "internal",
        };
        // ToString() returns the stack description unless the class (or a base class, by sealing it) says otherwise
        bool ownToString = false;
        for (INamedTypeSymbol? t = type; t is not null && t.SpecialType != SpecialType.System_Object; t = t.BaseType)
        {
            ownToString |= t.GetMembers("ToString").OfType<IMethodSymbol>().Any(m => m.Parameters.Length == 0 && !m.IsStatic && !m.IsImplicitlyDeclared
                && (SymbolEqualityComparer.Default.Equals(t, type) || m.IsSealed));
        }
        return new FlowModel(ns, type.Name, accessibility, containers.ToEquatableArray(), isDouble, dim, contextDim,
            stack.ToEquatableArray(), hasParameterless, hasSeed, GeneratesToString: !ownToString, HintSuffix: HintSuffix(type, context.SemanticModel.Compilation, ct),
            CannotCreateReason: cannotCreate, Base: baseModel);
    }

    private static bool HasRequiredMembers(INamedTypeSymbol type)
    {
        for (INamedTypeSymbol? t = type; t is not null; t = t.BaseType)
        {
            foreach (ISymbol member in t.GetMembers())
            {
                if (member is IPropertySymbol { IsRequired: true } or IFieldSymbol { IsRequired: true }) return true;
            }
        }
        return false;
    }

    /// <summary>
    /// Roslyn compares hint names ignoring case: if another flow class's full name (namespaces and containing types)
    /// differs from this one's only in case (N.F and N.f, N.F and n.F), both would get the same hint name and the generator
    /// would fail (CS8785). Such a flow gets a suffix from its exact full name (FNV-1a, hex); all others get none.
    /// </summary>
    private static string? HintSuffix(INamedTypeSymbol type, Compilation compilation, CancellationToken ct)
    {
        var path = new List<string>();
        for (ISymbol s = type; s is not INamespaceSymbol { IsGlobalNamespace: true } && s is not null; s = s.ContainingSymbol) path.Insert(0, s.Name);
        // the namespaces and types of this compilation along the path, matched ignoring case (flows are source types)
        List<INamespaceOrTypeSymbol> level = new() { compilation.Assembly.GlobalNamespace };
        foreach (string name in path)
        {
            ct.ThrowIfCancellationRequested();
            level = level.SelectMany(n => n.GetMembers()).OfType<INamespaceOrTypeSymbol>()
                .Where(m => string.Equals(m.Name, name, StringComparison.OrdinalIgnoreCase)).ToList();
        }
        bool namesake = level.OfType<INamedTypeSymbol>().Any(t => !SymbolEqualityComparer.Default.Equals(t, type)
            && t.GetAttributes().Any(a => IsFlowAttribute(a.AttributeClass)));
        if (!namesake) return null;
        uint hash = 2166136261;
        foreach (char ch in string.Join(".", path))
        {
            hash = unchecked((hash ^ ch) * 16777619);
        }
        return hash.ToString("x8", System.Globalization.CultureInfo.InvariantCulture);
    }

    /// <summary>The nearest base class that is itself a [CouplingFlow] class, if any.</summary>
    private static INamedTypeSymbol? BaseFlow(INamedTypeSymbol type)
    {
        for (INamedTypeSymbol? b = type.BaseType; b is not null; b = b.BaseType)
        {
            if (b.GetAttributes().Any(a => a.AttributeClass is { } c && c.ContainingNamespace?.ToDisplayString() == Namespace && c.Name == "CouplingFlowAttribute")) return b;
        }
        return null;
    }

    /// <summary>The base list (": Base, …") of the declaration that carries the attribute.</summary>
    private static LocationInfo? BaseListLocation(GeneratorAttributeSyntaxContext context, CancellationToken ct) =>
        context.TargetNode is TypeDeclarationSyntax { BaseList: { } list } ? LocationInfo.From(list) : null;

    private static string? ContainerKeyword(INamedTypeSymbol outer, CancellationToken ct)
    {
        if (outer.IsGenericType || outer.IsFileLocal) return null;
        bool partial = outer.DeclaringSyntaxReferences.All(r => r.GetSyntax(ct) is TypeDeclarationSyntax d && d.Modifiers.Any(SyntaxKind.PartialKeyword));
        if (!partial) return null;
        return outer.TypeKind switch
        {
            TypeKind.Class => outer.IsRecord ? "partial record" : "partial class",
            TypeKind.Struct => outer.IsRecord ? "partial record struct" : "partial struct",
            TypeKind.Interface => "partial interface",
            _ => null,
        };
    }

    // ------------------------------------------------------------------ couplings

    /// <summary>The options every coupling kind has (mask and conditioner); each kind's own options are read by its <see cref="TransformerKind"/>.</summary>
    private sealed class CouplingOptions
    {
        public MaskKind Mask;
        public string? MaskPattern;
        public int[] Hidden = Array.Empty<int>();
        public ActivationKind Activation;

        public CouplingOptions Clone() => (CouplingOptions)MemberwiseClone();
    }

    /// <summary>Checks the coupling options the attribute read by <paramref name="r"/> sets (unset ones are defaults or were checked on [CouplingFlow]).</summary>
    private static void ValidateCouplingOptions(CouplingOptions o, AttributeReader r, List<DiagnosticInfo> diags)
    {
        if (r.IsSet("Hidden"))
        {
            if (o.Hidden.Length > MaxHiddenLayers)
            {
                diags.Add(DiagnosticInfo.Create(DiagnosticDescriptors.ModelTooLarge, r.Location("Hidden"), $"{o.Hidden.Length} hidden layers (at most {MaxHiddenLayers})"));
            }
            for (int i = 0; i < o.Hidden.Length; i++)
            {
                if (o.Hidden[i] < 1 || o.Hidden[i] > MaxWidth)
                {
                    diags.Add(DiagnosticInfo.Create(DiagnosticDescriptors.InvalidHidden, r.Location("Hidden"), o.Hidden[i], i, MaxWidth));
                    break;
                }
            }
        }
    }

    /// <summary>The class that declares the flow-wide options and their defaults.</summary>
    private const string FlowAttributeClass = "CouplingFlowAttribute";

    /// <summary>What an enum option set on <paramref name="r"/> means; null when it is not set, or after FG0010 (no member) or FG0022.</summary>
    private static T? EnumOption<T>(AttributeReader r, string option, RuntimeEnum type, Func<string, T?> byName) where T : class =>
        r.Enum(option, type) is int v ? type.Meaning(v, byName, r.Location(option)) : null;

    /// <inheritdoc cref="EnumOption{T}(AttributeReader, string, RuntimeEnum, Func{string, T})"/>
    private static TEnum? EnumOption<TEnum>(AttributeReader r, string option, RuntimeEnum type) where TEnum : struct, Enum =>
        r.Enum(option, type) is int v ? type.Meaning<TEnum>(v, r.Location(option)) : null;

    /// <summary>What the enum constant <paramref name="constant"/> of [CouplingFlow] (a default) means; null after FG0022.</summary>
    private static T? Default<T>(RuntimeSymbols runtime, RuntimeEnum type, string constant, Func<string, T?> byName) where T : class =>
        runtime.TryConstant(FlowAttributeClass, constant, out int v) ? type.Meaning(v, byName, null) : null;

    /// <summary>What the enum constant <paramref name="constant"/> of [CouplingFlow] (a default) means; the first member after FG0022.</summary>
    private static TEnum Default<TEnum>(RuntimeSymbols runtime, RuntimeEnum type, string constant) where TEnum : struct, Enum =>
        (runtime.TryConstant(FlowAttributeClass, constant, out int v) ? type.Meaning<TEnum>(v, null) : null) ?? default;

    /// <summary>The options only one coupling kind reads (every other coupling option — mask, Hidden, Activation — applies to all kinds).</summary>
    private static readonly (string Option, TransformerKind Kind)[] KindOptions =
        LayerRegistry.Transformers.SelectMany(k => k.OptionNames.Select(o => (o, k))).ToArray();

    /// <summary>
    /// FG0020 (warning) at each kind option the attribute read by <paramref name="r"/> sets that has no effect:
    /// <paramref name="unusedOn"/>(option, its kind) says what it is set on when unused, or null when some coupling uses it.
    /// An option whose value is already an error gets no warning as well.
    /// </summary>
    private static void ReportOptionsOfOtherKinds(AttributeReader r, Func<string, TransformerKind, string?> unusedOn, List<DiagnosticInfo> diags)
    {
        // an option several kinds take (Bound: spline and sum-of-squares) is unused only when it is unused by each of them
        foreach (var owners in KindOptions.GroupBy(o => o.Option))
        {
            string option = owners.Key;
            if (!r.IsSet(option)) continue;
            LocationInfo? location = r.Location(option);
            if (diags.Any(d => d.IsError && Equals(d.Location, location))) continue;
            var unused = owners.Select(o => unusedOn(option, o.Kind)).ToList();
            if (unused.All(u => u is not null))
            {
                diags.Add(DiagnosticInfo.Create(DiagnosticDescriptors.OptionNotApplicable, location, option,
                    string.Join(" and ", owners.Select(o => o.Kind.Name)), string.Join("; ", unused.Distinct())));
            }
        }
    }

    /// <summary>
    /// Checks a mask pattern; reports its first problem (characters, then length, then degeneracy) at <paramref name="location"/>.
    /// The length needs Dim: with <paramref name="dim"/> null (Dim invalid) it is not checked, nor is degeneracy (which needs the right length).
    /// </summary>
    private static bool ValidateMaskPattern(string pattern, LocationInfo? location, int? dim, List<DiagnosticInfo> diags)
    {
        if (pattern.Any(ch => ch != '0' && ch != '1'))
        {
            diags.Add(DiagnosticInfo.Create(DiagnosticDescriptors.MaskCharacters, location, pattern));
            return false;
        }
        if (dim is not int d) return false;
        if (pattern.Length != d)
        {
            diags.Add(DiagnosticInfo.Create(DiagnosticDescriptors.MaskLength, location, pattern, pattern.Length, d));
            return false;
        }
        if (pattern.IndexOf('0') < 0 || pattern.IndexOf('1') < 0)
        {
            diags.Add(DiagnosticInfo.Create(DiagnosticDescriptors.MaskDegenerate, location, pattern, ""));
            return false;
        }
        return true;
    }

    /// <summary>Builds a coupling from validated options (mask pattern and Coordinate already checked against Dim).</summary>
    private static CouplingLayer BuildCoupling(CouplingOptions o, TransformerOptions transformer, int ordinal, int dim, int? coordinate, bool alternatePattern)
    {
        bool[] kept = new bool[dim];
        string description;
        if (o.MaskPattern is { } pattern)
        {
            bool complement = alternatePattern && ordinal % 2 == 1;
            for (int i = 0; i < dim; i++) kept[i] = (pattern[i] == '1') != complement;
            description = complement ? $"complement of pattern {pattern}" : $"pattern {pattern}";
        }
        else
        {
            int h = dim / 2;
            bool odd = ordinal % 2 == 1;
            switch (o.Mask)
            {
                case MaskKind.Halves:
                    for (int i = 0; i < dim; i++) kept[i] = (i < h) != odd;
                    description = odd ? "halves, second half kept" : "halves, first half kept";
                    break;
                case MaskKind.Parity:
                    for (int i = 0; i < dim; i++) kept[i] = (i % 2 == 0) != odd;
                    description = odd ? "parity, odd coordinates kept" : "parity, even coordinates kept";
                    break;
                default:
                {
                    int k = coordinate ?? ordinal % dim;
                    for (int i = 0; i < dim; i++) kept[i] = i != k;
                    description = $"single coordinate {k}";
                    break;
                }
            }
        }
        var keptList = new List<int>();
        var transformed = new List<int>();
        for (int i = 0; i < dim; i++) (kept[i] ? keptList : transformed).Add(i);
        return new CouplingLayer(ordinal, keptList.ToEquatableArray(), transformed.ToEquatableArray(), description,
            o.Hidden.ToEquatableArray(), o.Activation, transformer);
    }
}
