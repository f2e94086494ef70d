using System.Collections.Generic;
using System.Collections.Immutable;
using System.Threading;
using FlowGen.Generator.Diagnostics;
using Microsoft.CodeAnalysis;

namespace FlowGen.Generator.Parsing;

/// <summary>
/// What a layer kind reads its own attribute with (<see cref="Layers.LayerKind.Read"/>): the attribute's constructor
/// arguments, its named arguments, what the stack knows at this point, and where to report problems.
/// </summary>
internal sealed class LayerAttributeContext
{
    private readonly AttributeData _attribute;
    private readonly List<DiagnosticInfo> _diags;

    public LayerAttributeContext(AttributeData attribute, AttributeReader options, int? dim, int derivedSeed, RuntimeSymbols runtime, List<DiagnosticInfo> diags, CancellationToken ct)
    {
        Runtime = runtime;
        _attribute = attribute;
        _diags = diags;
        Options = options;
        Dim = dim;
        DerivedSeed = derivedSeed;
        Location = LocationInfo.From(attribute.ApplicationSyntaxReference?.GetSyntax(ct));
    }

    /// <summary>The attribute's named arguments.</summary>
    public AttributeReader Options { get; }

    /// <summary>The attribute's constructor arguments (empty when they do not bind: the compiler reports that).</summary>
    public ImmutableArray<TypedConstant> ConstructorArguments => _attribute.ConstructorArguments;

    /// <summary>The flow's Dim, or null when it is invalid (checks that need it are skipped, and no layer is built).</summary>
    public int? Dim { get; }

    /// <summary>The seed of a seeded layer that sets none: the flow's Seed plus the layer's stack index (docs/model.md §4).</summary>
    public int DerivedSeed { get; }

    /// <summary>The runtime's option defaults and enums (Attributes.cs).</summary>
    public RuntimeSymbols Runtime { get; }

    /// <summary>The attribute application, for problems of the attribute as a whole or of its constructor arguments.</summary>
    public LocationInfo? Location { get; }

    public void Report(DiagnosticDescriptor descriptor, LocationInfo? location, params object[] arguments) =>
        _diags.Add(DiagnosticInfo.Create(descriptor, location, arguments));
}
