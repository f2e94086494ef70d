using System.Linq;
using FlowGen.Generator.Model;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Text;

namespace FlowGen.Generator.Diagnostics;

/// <summary>A location with value equality (Roslyn's <see cref="Location"/> keeps the syntax tree alive and does not cache well).</summary>
internal sealed record LocationInfo(string FilePath, TextSpan Span, LinePositionSpan LineSpan)
{
    public Location ToLocation() => Location.Create(FilePath, Span, LineSpan);

    public static LocationInfo? From(Location? location)
    {
        if (location is null || location.SourceTree is null) return null;
        return new LocationInfo(location.SourceTree.FilePath, location.SourceSpan, location.GetLineSpan().Span);
    }

    public static LocationInfo? From(SyntaxNode? node) => From(node?.GetLocation());
}

/// <summary>A diagnostic to report, as plain equatable data.</summary>
internal sealed record DiagnosticInfo(string Id, LocationInfo? Location, EquatableArray<string> Arguments)
{
    public static DiagnosticInfo Create(DiagnosticDescriptor descriptor, LocationInfo? location, params object[] arguments) =>
        new(descriptor.Id, location, arguments.Select(a => a?.ToString() ?? "").ToEquatableArray());

    /// <summary>FG0021 for an exception thrown inside FlowGen while <paramref name="doing"/> (e.g. "reading the declaration of 'F'").</summary>
    public static DiagnosticInfo InternalError(LocationInfo? location, string doing, System.Exception exception) =>
        Create(DiagnosticDescriptors.InternalError, location, doing, exception.GetType().FullName ?? exception.GetType().Name, exception.Message);

    /// <summary>Whether the diagnostic is an error (which drops the model) rather than a warning.</summary>
    public bool IsError => DiagnosticDescriptorsById.Get(Id).DefaultSeverity == DiagnosticSeverity.Error;

    public Diagnostic ToDiagnostic()
    {
        DiagnosticDescriptor descriptor = DiagnosticDescriptorsById.Get(Id);
        return Diagnostic.Create(descriptor, Location?.ToLocation(), Arguments.ToArray());
    }
}

internal static class DiagnosticDescriptorsById
{
    private static readonly DiagnosticDescriptor[] s_all =
    {
        DiagnosticDescriptors.NotPartial, DiagnosticDescriptors.UnsupportedType, DiagnosticDescriptors.UnsupportedContainer,
        DiagnosticDescriptors.InvalidDim, DiagnosticDescriptors.InvalidLayers, DiagnosticDescriptors.InvalidHidden,
        DiagnosticDescriptors.MaskLength, DiagnosticDescriptors.MaskDegenerate, DiagnosticDescriptors.MaskCharacters,
        DiagnosticDescriptors.UnknownEnumValue, DiagnosticDescriptors.ConflictingOptions, DiagnosticDescriptors.UnsupportedPrecision,
        DiagnosticDescriptors.ModelTooLarge, DiagnosticDescriptors.MemberClash, DiagnosticDescriptors.InvalidOption,
        DiagnosticDescriptors.InvalidPermutation, DiagnosticDescriptors.LayerAttributesSplit, DiagnosticDescriptors.EmptyStack,
        DiagnosticDescriptors.LayerWithoutFlow, DiagnosticDescriptors.OptionNotApplicable, DiagnosticDescriptors.InternalError,
        DiagnosticDescriptors.RuntimeMismatch, DiagnosticDescriptors.SeveralBases, DiagnosticDescriptors.OptionWithoutEffect,
    };

    public static System.Collections.Generic.IReadOnlyList<DiagnosticDescriptor> All => s_all;

    public static DiagnosticDescriptor Get(string id) => s_all.First(d => d.Id == id);
}
