using System;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.IO;
using System.Linq;
using System.Runtime.CompilerServices;
using System.Text.RegularExpressions;
using FlowGen.Generator;
using FlowGen.Tests.Infrastructure;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;

namespace FlowGen.Tests;

/// <summary>
/// The option defaults and the enums' members are the runtime's (src/FlowGen.Runtime/Attributes.cs): the generator reads
/// them from the compilation instead of mirroring them. These tests run the generator against a copy of Attributes.cs
/// compiled from source in place of the runtime, edited: a changed default changes the generated flow; a missing constant
/// or enum, or an enum member the generator does not know, is FG0022 (never an exception).
/// </summary>
public class RuntimeMismatchTests
{
    /// <summary>A declaration that reads every default: the flow-wide ones, every coupling kind's, and [InvertibleLinear]'s.</summary>
    private const string EveryDefault =
        "using FlowGen;\nnamespace N;\n[CouplingFlow(Dim = 4)]\n" +
        "[InvertibleLinear, AffineCoupling, AdditiveCoupling, SumOfSquaresCoupling, DeepSigmoidalCoupling, SplineCoupling]\n" +
        "public partial class F { }\n";

    private static string AttributesSource([CallerFilePath] string callerPath = "") =>
        File.ReadAllText(Path.Combine(Path.GetDirectoryName(callerPath)!, "..", "..", "src", "FlowGen.Runtime", "Attributes.cs"));

    private static readonly Lazy<ImmutableArray<MetadataReference>> s_systemReferences = new(() =>
        ((string)AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES")!).Split(Path.PathSeparator)
            .Where(p => Path.GetFileName(p).StartsWith("System.", StringComparison.Ordinal) || Path.GetFileName(p) is "mscorlib.dll" or "netstandard.dll")
            .Select(p => (MetadataReference)MetadataReference.CreateFromFile(p)).ToImmutableArray());

    /// <summary>Runs the generator on <paramref name="flow"/> with <paramref name="attributes"/> (source) as the runtime.</summary>
    private static GeneratorOutput Run(string attributes, string flow)
    {
        var compilation = CSharpCompilation.Create("RuntimeMismatch" + Guid.NewGuid().ToString("N"),
            new[] { CSharpSyntaxTree.ParseText(attributes, GeneratorHarness.ParseOptions, "Attributes.cs"), CSharpSyntaxTree.ParseText(flow, GeneratorHarness.ParseOptions, "Flow.cs") },
            s_systemReferences.Value, new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary));
        GeneratorDriver driver = GeneratorHarness.CreateDriver().RunGeneratorsAndUpdateCompilation(compilation, out Compilation output, out ImmutableArray<Diagnostic> diagnostics);
        GeneratorDriverRunResult run = driver.GetRunResult();
        Assert.All(run.Results, r => Assert.Null(r.Exception));
        return new GeneratorOutput(output, diagnostics, run);
    }

    private static List<Diagnostic> Ours(GeneratorOutput result) => result.Diagnostics.Where(d => d.Id.StartsWith("FG", StringComparison.Ordinal)).ToList();

    /// <summary>Every <c>public const … Default… = …;</c> of Attributes.cs: (declaring class, constant, the whole declaration).</summary>
    public static IEnumerable<object[]> Constants()
    {
        string source = AttributesSource();
        var classes = Regex.Matches(source, @"\bclass (\w+)").Select(m => (m.Index, Name: m.Groups[1].Value)).ToList();
        foreach (Match m in Regex.Matches(source, @"public const \w+ (Default\w+) = [^;]+;"))
        {
            string owner = classes.Last(c => c.Index < m.Index).Name;
            yield return new object[] { owner, m.Groups[1].Value, m.Value };
        }
    }

    [Fact]
    public void TheUnchangedCopyGeneratesWithoutDiagnostics()
    {
        GeneratorOutput result = Run(AttributesSource(), EveryDefault);
        Assert.Empty(Ours(result));
        Assert.Single(result.AllGeneratedSources);
        Assert.True(Constants().Count() >= 14, "the defaults of Attributes.cs were not found");
    }

    [Theory]
    [MemberData(nameof(Constants))]
    [ExpectsDiagnostic("FG0022")]
    public void AMissingDefaultIsFG0022(string owner, string constant, string declaration)
    {
        // only the owner's declaration (SplineCouplingAttribute and SumOfSquaresCouplingAttribute both declare DefaultBound)
        string source = AttributesSource();
        int at = source.IndexOf(declaration, Regex.Match(source, $@"\bclass {owner}\b").Index, StringComparison.Ordinal);
        GeneratorOutput result = Run(source.Remove(at, declaration.Length), EveryDefault);
        Diagnostic d = Assert.Single(Ours(result));
        Assert.Equal("FG0022", d.Id);
        Assert.Equal(DiagnosticSeverity.Error, d.DefaultSeverity);
        Assert.Contains($"the FlowGen runtime has no constant {owner}.{constant}", d.GetMessage());
        Assert.Equal("CouplingFlow(Dim = 4)", result.Compilation.SyntaxTrees.Single(t => t.FilePath == "Flow.cs").GetText().ToString(d.Location.SourceSpan));
        Assert.Empty(result.AllGeneratedSources);
    }

    [Fact]
    public void TheDefaultsAreTheRuntimes()
    {
        string attributes = AttributesSource()
            .Replace("public const int DefaultHiddenWidth = 64;", "public const int DefaultHiddenWidth = 7;")
            .Replace("public const int DefaultHiddenLayers = 2;", "public const int DefaultHiddenLayers = 3;")
            .Replace("public const Activation DefaultActivation = Activation.Tanh;", "public const Activation DefaultActivation = Activation.Silu;")
            .Replace("public const int DefaultBins = 8;", "public const int DefaultBins = 5;")
            .Replace("public const double DefaultClamp = 2.0;", "public const double DefaultClamp = 1.5;")
            .Replace("public const bool DefaultPermute = true;", "public const bool DefaultPermute = false;")
            .Replace("public const CouplingKind DefaultCoupling = CouplingKind.Affine;", "public const CouplingKind DefaultCoupling = CouplingKind.Spline;");
        GeneratorOutput result = Run(attributes, EveryDefault);
        Assert.Empty(Ours(result));
        string generated = Assert.Single(result.AllGeneratedSources);
        Assert.Contains("\\\"hidden\\\":[7,7,7],\\\"activation\\\":\\\"silu\\\"", generated);
        Assert.Contains("\\\"transformer\\\":\\\"spline\\\",\\\"bins\\\":5,", generated);
        Assert.Contains("\\\"transformer\\\":\\\"affine\\\",\\\"clamp\\\":1.5,", generated);
        Assert.Contains("\\\"kind\\\":\\\"invertible_linear\\\",\\\"permutation\\\":[0,1,2,3]", generated);

        // a uniform stack of the default kind
        string uniform = Assert.Single(Run(attributes, "using FlowGen;\n[CouplingFlow(Dim = 4, Layers = 1)] public partial class U { }").AllGeneratedSources);
        Assert.Contains("\\\"transformer\\\":\\\"spline\\\"", uniform);
    }

    [Theory]
    [InlineData("MaskKind", "Mask = (MaskKind)0")]
    [InlineData("Activation", "Activation = (Activation)0")]
    [InlineData("CouplingKind", "Coupling = (CouplingKind)0")]
    [InlineData("PermutationKind", "Permutation = (PermutationKind)0")]
    public void AMissingEnumIsFG0022(string enumName, string option)
    {
        // the enum renamed: the runtime declares no FlowGen.{enumName} (the attributes' own uses of it no longer compile)
        string attributes = AttributesSource().Replace($"public enum {enumName}\n", $"public enum Renamed{enumName}\n");
        Assert.NotEqual(AttributesSource(), attributes);
        GeneratorOutput result = Run(attributes, $"using FlowGen;\n[CouplingFlow(Dim = 4, Layers = 2, {option})] public partial class F {{ }}");
        List<Diagnostic> ours = Ours(result);
        Assert.NotEmpty(ours);
        Assert.All(ours, d => Assert.Equal("FG0022", d.Id));
        Assert.Contains(ours, d => d.GetMessage().Contains($"the FlowGen runtime declares no enum {enumName}"));
        Assert.Empty(result.AllGeneratedSources);
    }

    [Theory]
    [InlineData("    Silu = 5,\n", "    Silu = 5,\n\n    Mish = 6,\n", "Activation = (Activation)6", "Activation.Mish")]
    [InlineData("    Spline = 4,\n", "    Spline = 4,\n\n    Flow = 5,\n", "Coupling = (CouplingKind)5", "CouplingKind.Flow")]
    [InlineData("    SingleCoordinate = 2,\n", "    SingleCoordinate = 2,\n\n    Blocks = 3,\n", "Mask = (MaskKind)3", "MaskKind.Blocks")]
    public void AnEnumMemberTheGeneratorDoesNotKnowIsFG0022AtTheArgument(string member, string withNewMember, string option, string named)
    {
        string attributes = AttributesSource().Replace(member, withNewMember);
        Assert.NotEqual(AttributesSource(), attributes);
        GeneratorOutput result = Run(attributes, $"using FlowGen;\n[CouplingFlow(Dim = 4, Layers = 2, {option})] public partial class F {{ }}");
        Diagnostic d = Assert.Single(Ours(result));
        Assert.Equal("FG0022", d.Id);
        Assert.Contains($"{named} of the FlowGen runtime is unknown to this FlowGen generator", d.GetMessage());
        Assert.Equal(option, result.Compilation.SyntaxTrees.Single(t => t.FilePath == "Flow.cs").GetText().ToString(d.Location.SourceSpan));
        Assert.Empty(result.AllGeneratedSources);
    }

    [Fact]
    public void AValueTheRuntimeDoesNotDeclareIsStillFG0010()
    {
        // membership is the runtime enum's: with a member removed, its value is unknown
        string attributes = AttributesSource().Replace("    Silu = 5,\n", "");
        GeneratorOutput result = Run(attributes, "using FlowGen;\n[CouplingFlow(Dim = 4, Layers = 2, Activation = (Activation)5)] public partial class F { }");
        Diagnostic d = Assert.Single(Ours(result));
        Assert.Equal("FG0010", d.Id);
        Assert.Contains("CouplingFlow.Activation = 5 is not a value of Activation", d.GetMessage());
    }
}
