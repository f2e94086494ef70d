using System;
using System.Collections.Immutable;
using FlowGen.Generator.Diagnostics;
using FlowGen.Generator.Emit;
using FlowGen.Generator.Model;
using FlowGen.Generator.Parsing;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace FlowGen.Generator;

/// <summary>
/// The FlowGen incremental generator. Pipeline (each stage named for the incrementality tests):
/// attribute → <see cref="FlowParser"/> (equatable <see cref="FlowModel"/> + diagnostics) → <see cref="FlowEmitter"/>
/// (plan, then source text). Source and diagnostics are separate outputs.
/// </summary>
[Generator(LanguageNames.CSharp)]
public sealed class FlowGenerator : IIncrementalGenerator
{
    /// <summary>Tracking names of the pipeline steps.</summary>
    public static class StepNames
    {
        /// <summary>Parse results of [CouplingFlow] declarations.</summary>
        public const string Flows = "FlowGen.Flows";

        /// <summary>Parse results of [CouplingFlow&lt;T&gt;] declarations.</summary>
        public const string GenericFlows = "FlowGen.GenericFlows";

        /// <summary>Valid models only (with the class location for FG0021, which does not take part in caching).</summary>
        public const string Models = "FlowGen.Models";

        /// <summary>Diagnostics only.</summary>
        public const string Diagnostics = "FlowGen.Diagnostics";

        /// <summary>FG0019 checks of layer attributes on classes without [CouplingFlow].</summary>
        public const string OrphanLayers = "FlowGen.OrphanLayers";
    }

    /// <inheritdoc />
    public void Initialize(IncrementalGeneratorInitializationContext context)
    {
        IncrementalValuesProvider<ParseResult> plain = context.SyntaxProvider.ForAttributeWithMetadataName(
                FlowParser.FlowAttributeName,
                static (node, _) => node is TypeDeclarationSyntax,
                static (ctx, ct) => FlowParser.Parse(ctx, generic: false, ct))
            .WithTrackingName(StepNames.Flows);
        IncrementalValuesProvider<ParseResult> generic = context.SyntaxProvider.ForAttributeWithMetadataName(
                FlowParser.GenericFlowAttributeName,
                static (node, _) => node is TypeDeclarationSyntax,
                static (ctx, ct) => FlowParser.Parse(ctx, generic: true, ct))
            .WithTrackingName(StepNames.GenericFlows);

        // Layer attributes on a class without [CouplingFlow]: a warning (FG0019), reported once per class.
        foreach (string layerAttribute in FlowParser.LayerAttributeMetadataNames)
        {
            IncrementalValuesProvider<DiagnosticInfo> orphan = context.SyntaxProvider.ForAttributeWithMetadataName(
                    layerAttribute,
                    static (node, _) => node is TypeDeclarationSyntax,
                    static (ctx, ct) => FlowParser.CheckOrphanLayers(ctx, ct))
                .Where(static d => d is not null)
                .Select(static (d, _) => d!)
                .WithTrackingName(StepNames.OrphanLayers);
            context.RegisterSourceOutput(orphan, static (spc, d) => spc.ReportDiagnostic(d.ToDiagnostic()));
        }

        foreach (IncrementalValuesProvider<ParseResult> results in new[] { plain, generic })
        {
            IncrementalValuesProvider<EmitRequest> models = results
                .Where(static r => r.Model is not null)
                .Select(static (r, _) => new EmitRequest(r.Model!, r.TypeLocation))
                .WithTrackingName(StepNames.Models);
            IncrementalValuesProvider<EquatableArray<DiagnosticInfo>> diagnostics = results
                .Where(static r => r.Diagnostics.Count > 0)
                .Select(static (r, _) => r.Diagnostics)
                .WithTrackingName(StepNames.Diagnostics);

            context.RegisterSourceOutput(models, static (spc, request) => EmitOrReport(spc, request));
            context.RegisterSourceOutput(diagnostics, static (spc, diags) =>
            {
                foreach (DiagnosticInfo d in diags) spc.ReportDiagnostic(d.ToDiagnostic());
            });
        }
    }

    /// <summary>
    /// Emits one flow. An exception here would fail the whole generator (CS8785: no flow of the project is generated), so a
    /// bug in the emitter becomes FG0021 at the class instead, and no source is added for that class.
    /// </summary>
    private static void EmitOrReport(SourceProductionContext spc, EmitRequest request)
    {
        string hintName, source;
        try
        {
            hintName = FlowEmitter.HintName(request.Model);
            source = FlowEmitter.Emit(request.Model);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            spc.ReportDiagnostic(DiagnosticInfo.InternalError(request.Location, $"generating the code of '{request.Model.FullName}'", ex).ToDiagnostic());
            return;
        }
        spc.AddSource(hintName, source);
    }
}

/// <summary>
/// A valid model and the location of its class name, for reporting an emitter failure (FG0021). The model holds no
/// location (it must not change when the declaration merely moves), so the location rides along here, and equality is the
/// model's alone: moving the declaration does not re-emit it. (The price: a cached FG0021 keeps the location it was
/// reported at until the model changes.)
/// </summary>
internal sealed class EmitRequest : IEquatable<EmitRequest>
{
    public EmitRequest(FlowModel model, LocationInfo? location)
    {
        Model = model;
        Location = location;
    }

    public FlowModel Model { get; }

    public LocationInfo? Location { get; }

    public bool Equals(EmitRequest? other) => other is not null && Model.Equals(other.Model);

    public override bool Equals(object? obj) => Equals(obj as EmitRequest);

    public override int GetHashCode() => Model.GetHashCode();
}
