using System;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.IO;
using System.Linq;
using System.Reflection;
using System.Runtime.Loader;
using FlowGen.Generator;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;

namespace FlowGen.Tests.Infrastructure;

/// <summary>Runs the FlowGen generator in memory on source text, compiles the result and loads it.</summary>
public static class GeneratorHarness
{
    /// <summary>
    /// The reference assemblies of .NET 10 (Basic.Reference.Assemblies.Net100: the same set a net10.0 project compiles
    /// against, independent of the runtime the tests run on), the FlowGen runtime, and this assembly (for test adapters).
    /// </summary>
    private static readonly Lazy<ImmutableArray<MetadataReference>> s_references = new(() =>
        Basic.Reference.Assemblies.Net100.References.All
            .Concat(new[] { typeof(Kernel).Assembly.Location, typeof(GeneratorHarness).Assembly.Location }.Select(p => (MetadataReference)MetadataReference.CreateFromFile(p)))
            .ToImmutableArray());

    public static CSharpParseOptions ParseOptions { get; } = new(LanguageVersion.Latest);

    public static CSharpCompilation CreateCompilation(params string[] sources) =>
        CSharpCompilation.Create(
            "FlowGenTestModels" + Guid.NewGuid().ToString("N"),
            sources.Select((s, i) => CSharpSyntaxTree.ParseText(s, ParseOptions, path: $"Source{i}.cs")),
            s_references.Value,
            new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary,
                nullableContextOptions: NullableContextOptions.Enable,
                generalDiagnosticOption: ReportDiagnostic.Error,
                optimizationLevel: OptimizationLevel.Release,
                allowUnsafe: false,
                specificDiagnosticOptions: new Dictionary<string, ReportDiagnostic> { ["CS1591"] = ReportDiagnostic.Suppress }));

    public static GeneratorDriver CreateDriver(bool trackSteps = false) =>
        CSharpGeneratorDriver.Create(
            new[] { new FlowGenerator().AsSourceGenerator() },
            parseOptions: ParseOptions,
            driverOptions: new GeneratorDriverOptions(IncrementalGeneratorOutputKind.None, trackIncrementalGeneratorSteps: trackSteps));

    /// <summary>Runs the generator; returns the output compilation, the generator's diagnostics and the run result.</summary>
    public static GeneratorOutput Run(params string[] sources)
    {
        CSharpCompilation compilation = CreateCompilation(sources);
        GeneratorDriver driver = CreateDriver().RunGeneratorsAndUpdateCompilation(compilation, out Compilation output, out ImmutableArray<Diagnostic> diagnostics);
        return new GeneratorOutput(output, diagnostics, driver.GetRunResult());
    }

    /// <summary>Runs the generator, requires that everything compiles without any warning, and loads the assembly.</summary>
    public static Assembly CompileAndLoad(params string[] sources)
    {
        GeneratorOutput result = Run(sources);
        result.AssertNoGeneratorErrors();
        using var stream = new MemoryStream();
        var emit = result.Compilation.Emit(stream);
        if (!emit.Success)
        {
            var errors = emit.Diagnostics.Where(d => d.Severity >= DiagnosticSeverity.Warning).Take(20).Select(d => d.ToString());
            throw new InvalidOperationException("Generated code does not compile:\n" + string.Join("\n", errors));
        }
        stream.Position = 0;
        var context = new AssemblyLoadContext("FlowGenTestModels", isCollectible: true);
        return context.LoadFromStream(stream);
    }
}

public sealed record GeneratorOutput(Compilation Compilation, ImmutableArray<Diagnostic> Diagnostics, GeneratorDriverRunResult RunResult)
{
    public string GeneratedSource(string hintNameSuffix) =>
        RunResult.Results.SelectMany(r => r.GeneratedSources).Single(s => s.HintName.EndsWith(hintNameSuffix, StringComparison.Ordinal)).SourceText.ToString();

    public IEnumerable<string> AllGeneratedSources => RunResult.Results.SelectMany(r => r.GeneratedSources).Select(s => s.SourceText.ToString());

    public void AssertNoGeneratorErrors()
    {
        var exceptions = RunResult.Results.Where(r => r.Exception is not null).Select(r => r.Exception!.ToString()).ToList();
        if (exceptions.Count > 0) throw new InvalidOperationException("Generator threw:\n" + string.Join("\n", exceptions));
        var errors = Diagnostics.Where(d => d.Severity >= DiagnosticSeverity.Warning).ToList();
        if (errors.Count > 0) throw new InvalidOperationException("Generator reported:\n" + string.Join("\n", errors));
    }

    /// <summary>Compiler diagnostics of the output compilation (warnings are errors there).</summary>
    public IReadOnlyList<Diagnostic> CompilationErrors =>
        Compilation.GetDiagnostics().Where(d => d.Severity >= DiagnosticSeverity.Warning).ToList();
}
