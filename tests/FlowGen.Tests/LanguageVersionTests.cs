using System;
using System.Collections.Immutable;
using System.Linq;
using FlowGen.Generator;
using FlowGen.Tests.Infrastructure;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;

namespace FlowGen.Tests;

/// <summary>
/// The generated code needs C# 11 (static abstract interface members: the dense shapes, the layer-row and map types), no
/// more: a project on net10.0 that pins an older LangVersion than the default still compiles its flows. A layer kind's code
/// must not raise it (e.g. ref struct interfaces, C# 13).
/// </summary>
public class LanguageVersionTests
{
    private const string EveryKind = """
        using FlowGen;
        namespace N;
        [CouplingFlow(Dim = 4, Layers = 2, Coupling = CouplingKind.SumOfSquares, Hidden = new[] { 8 }, ActNorm = true, InvertibleLinear = true, Permutation = PermutationKind.Random)]
        public partial class Uniform { }
        [CouplingFlow<double>(Dim = 5, ContextDim = 2, Hidden = new[] { 7 })]
        [ActNorm, InvertibleLinear, SumOfSquaresCoupling, Permute(PermutationKind.Reverse), DeepSigmoidalCoupling(SigmoidLayers = 2)]
        [AffineCoupling, AdditiveCoupling, SplineCoupling, AffineCoupling(Clamp = 0)]
        public partial class Mixed { }
        """;

    [Theory]
    [InlineData(LanguageVersion.CSharp11)]
    [InlineData(LanguageVersion.CSharp12)]
    public void GeneratedCodeCompilesWith(LanguageVersion version)
    {
        var parse = new CSharpParseOptions(version);
        CSharpCompilation compilation = GeneratorHarness.CreateCompilation(EveryKind);
        compilation = compilation.ReplaceSyntaxTree(compilation.SyntaxTrees.Single(), CSharpSyntaxTree.ParseText(EveryKind, parse, "Source0.cs"));
        GeneratorDriver driver = CSharpGeneratorDriver.Create(new[] { new FlowGenerator().AsSourceGenerator() }, parseOptions: parse);
        driver.RunGeneratorsAndUpdateCompilation(compilation, out Compilation output, out ImmutableArray<Diagnostic> diagnostics);
        Assert.Empty(diagnostics);
        Assert.Equal(3, output.SyntaxTrees.Count());
        var errors = output.GetDiagnostics().Where(d => d.Severity >= DiagnosticSeverity.Warning).Take(10).Select(d => d.ToString()).ToList();
        Assert.True(errors.Count == 0, $"C# {version}:\n" + string.Join("\n", errors));
    }
}
