using System.Linq;
using FlowGen.Tests.Infrastructure;
using Microsoft.CodeAnalysis;

namespace FlowGen.Tests;

/// <summary>Every FG diagnostic: its ID, that it points at the offending text, and that no code is generated for the broken model.</summary>
public class DiagnosticsTests
{
    private const string Usings = "using FlowGen;\n";

    /// <summary>Runs the generator and returns the single FlowGen diagnostic, checking where it points.</summary>
    private static Diagnostic Single(string source, string id, string locationText)
    {
        GeneratorOutput result = GeneratorHarness.Run(Usings + source);
        Assert.All(result.RunResult.Results, r => Assert.Null(r.Exception));
        var ours = result.Diagnostics.Where(d => d.Id.StartsWith("FG", System.StringComparison.Ordinal)).ToList();
        Diagnostic d = Assert.Single(ours);
        Assert.Equal(id, d.Id);
        Assert.Contains(locationText, LocatedText(result.Compilation, d));
        Assert.Empty(result.AllGeneratedSources);
        return d;
    }

    /// <summary>The source text a diagnostic points at (generator diagnostics carry file path and span).</summary>
    private static string LocatedText(Compilation compilation, Diagnostic d)
    {
        Assert.NotEqual(Location.None, d.Location);
        string path = d.Location.GetLineSpan().Path;
        SyntaxTree tree = d.Location.SourceTree ?? compilation.SyntaxTrees.Single(t => t.FilePath == path);
        return tree.GetText().ToString(d.Location.SourceSpan);
    }

    [Fact]
    public void NotPartial() => Single("[CouplingFlow(Dim = 4, Layers = 2)] public class F { }", "FG0001", "F");

    [Theory]
    [InlineData("public partial struct F { }", "struct")]
    [InlineData("public partial record F { }", "record")]
    [InlineData("public static partial class F { }", "static")]
    [InlineData("public abstract partial class F { }", "abstract")]
    [InlineData("public partial class F<T> { }", "generic")]
    public void UnsupportedTypeKinds(string declaration, string word)
    {
        // structs and records cannot carry a class-only attribute in C#, so the compiler may also complain; FG0002 must still be the generator's answer
        GeneratorOutput result = GeneratorHarness.Run(Usings + "[CouplingFlow(Dim = 4, Layers = 2)] " + declaration);
        Assert.All(result.RunResult.Results, r => Assert.Null(r.Exception));
        Assert.Empty(result.AllGeneratedSources);
        var ours = result.Diagnostics.Where(d => d.Id.StartsWith("FG", System.StringComparison.Ordinal)).ToList();
        if (ours.Count > 0)
        {
            Diagnostic d = Assert.Single(ours);
            Assert.Equal("FG0002", d.Id);
            Assert.Contains(word, d.GetMessage());
        }
        else
        {
            // the attribute did not bind (AttributeUsage is Class): the compiler's CS0592 is the answer
            Assert.Contains(result.Compilation.GetDiagnostics(), d => d.Id == "CS0592");
        }
    }

    [Fact]
    public void ContainerNotPartial() =>
        Single("public class Outer { [CouplingFlow(Dim = 4, Layers = 2)] public partial class F { } }", "FG0003", "F");

    [Fact]
    public void GenericContainer() =>
        Single("public partial class Outer<T> { [CouplingFlow(Dim = 4, Layers = 2)] public partial class F { } }", "FG0003", "F");

    [Theory]
    [InlineData("Dim = 1")]
    [InlineData("Dim = -3")]
    [InlineData("Dim = 100000")]
    public void InvalidDim(string dim) => Single($"[CouplingFlow({dim}, Layers = 2)] public partial class F {{ }}", "FG0004", dim);

    [Fact]
    public void DimMissing() => Single("[CouplingFlow(Layers = 2)] public partial class F { }", "FG0004", "CouplingFlow");

    [Theory]
    [InlineData("Layers = 0")]
    [InlineData("Layers = -1")]
    [InlineData("Layers = 100000")]
    public void InvalidLayers(string layers) => Single($"[CouplingFlow(Dim = 4, {layers})] public partial class F {{ }}", "FG0005", layers);

    [Fact]
    public void LayersMismatchExplicitStack() =>
        Single("[CouplingFlow(Dim = 4, Layers = 3)][AffineCoupling, AffineCoupling] public partial class F { }", "FG0005", "Layers = 3");

    [Fact]
    public void NoLayers() => Single("[CouplingFlow(Dim = 4)] public partial class F { }", "FG0018", "CouplingFlow");

    [Theory]
    [InlineData("Hidden = new[] { 64, 0 }")]
    [InlineData("Hidden = new[] { -5 }")]
    [InlineData("Hidden = new[] { 1000000 }")]
    public void InvalidHidden(string hidden) => Single($"[CouplingFlow(Dim = 4, Layers = 2, {hidden})] public partial class F {{ }}", "FG0006", hidden);

    [Fact]
    public void InvalidHiddenOnLayer() =>
        Single("[CouplingFlow(Dim = 4)][AffineCoupling(Hidden = new[] { 0 })] public partial class F { }", "FG0006", "Hidden = new[] { 0 }");

    [Theory]
    [InlineData("MaskPattern = \"110\"")]
    [InlineData("MaskPattern = \"11000\"")]
    public void MaskWrongLength(string mask) => Single($"[CouplingFlow(Dim = 4, Layers = 2, {mask})] public partial class F {{ }}", "FG0007", mask);

    [Theory]
    [InlineData("MaskPattern = \"1111\"")]
    [InlineData("MaskPattern = \"0000\"")]
    public void MaskDegenerate(string mask) => Single($"[CouplingFlow(Dim = 4, Layers = 2, {mask})] public partial class F {{ }}", "FG0008", mask);

    [Fact]
    public void MaskDegenerateOnLayer() =>
        Single("[CouplingFlow(Dim = 4)][AffineCoupling(MaskPattern = \"0000\")] public partial class F { }", "FG0008", "MaskPattern = \"0000\"");

    [Theory]
    [InlineData("MaskPattern = \"1x00\"")]
    [InlineData("MaskPattern = \"\"")]
    public void MaskCharacters(string mask) =>
        Single($"[CouplingFlow(Dim = 4, Layers = 2, {mask})] public partial class F {{ }}", mask.Contains('x') ? "FG0009" : "FG0007", mask);

    [Theory]
    [InlineData("Coupling = (CouplingKind)42")]
    [InlineData("Mask = (MaskKind)7")]
    [InlineData("Activation = (Activation)(-1)")]
    [InlineData("Permutation = (PermutationKind)9")]
    public void UnknownEnumValues(string option) => Single($"[CouplingFlow(Dim = 4, Layers = 2, {option})] public partial class F {{ }}", "FG0010", option);

    [Fact]
    public void UnknownEnumOnLayer() =>
        Single("[CouplingFlow(Dim = 4)][AffineCoupling(Activation = (Activation)17)] public partial class F { }", "FG0010", "Activation = (Activation)17");

    [Fact]
    public void UnknownPermutationKind() =>
        Single("[CouplingFlow(Dim = 4)][AffineCoupling, Permute((PermutationKind)5), AffineCoupling] public partial class F { }", "FG0010", "Permute");

    [Theory]
    [InlineData("[CouplingFlow(Dim = 4, ActNorm = true)][AffineCoupling] public partial class F { }", "ActNorm = true")]
    [InlineData("[CouplingFlow(Dim = 4, Coupling = CouplingKind.Additive)][AffineCoupling] public partial class F { }", "Coupling = CouplingKind.Additive")]
    [InlineData("[CouplingFlow(Dim = 4, Mask = MaskKind.Parity, MaskPattern = \"1100\", Layers = 2)] public partial class F { }", "MaskPattern")]
    [InlineData("[CouplingFlow(Dim = 4)][AffineCoupling(Mask = MaskKind.Parity, MaskPattern = \"1100\")] public partial class F { }", "MaskPattern")]
    [InlineData("[CouplingFlow(Dim = 4)][AffineCoupling(Mask = MaskKind.Halves, Coordinate = 1)] public partial class F { }", "Coordinate = 1")]
    [InlineData("[CouplingFlow(Dim = 4)][AffineCoupling, Permute(PermutationKind.Reverse, Seed = 3)] public partial class F { }", "Seed = 3")]
    public void ConflictingOptions(string source, string at) => Single(source, "FG0011", at);

    [Fact]
    public void BothAttributes() =>
        Single("[CouplingFlow(Dim = 4, Layers = 2)][CouplingFlow<double>(Dim = 4, Layers = 2)] public partial class F { }", "FG0011", "CouplingFlow");

    [Fact]
    public void UnsupportedPrecision() =>
        Single("[CouplingFlow<int>(Dim = 4, Layers = 2)] public partial class F { }", "FG0012", "CouplingFlow<int>");

    [Fact]
    public void TooManyParameters() =>
        Single("[CouplingFlow(Dim = 4000, Layers = 200, Hidden = new[] { 60000 })] public partial class F { }", "FG0013", "CouplingFlow");

    [Theory]
    [InlineData("public void Forward() { }", "Forward")]
    [InlineData("public int Dim => 3;", "Dim")]
    [InlineData("public string StackDescription = \"\";", "StackDescription")]
    [InlineData("public const string StackSpec = \"\";", "StackSpec")]
    public void MemberClash(string member, string name) =>
        Single($"[CouplingFlow(Dim = 4, Layers = 2)] public partial class F {{ {member} }}", "FG0014", name);

    [Theory]
    [InlineData("Clamp = -1.0")]
    [InlineData("Clamp = double.NaN")]
    [InlineData("ContextDim = -2")]
    [InlineData("Context = -2")] // the former name of ContextDim
    [InlineData("Degree = -1")]
    [InlineData("Squares = 0")]
    [InlineData("SigmoidUnits = 0")]
    [InlineData("Bins = 1")]
    [InlineData("Bound = 0.0")]
    [InlineData("Bound = -2.0")]
    public void InvalidOptions(string option) => Single($"[CouplingFlow(Dim = 4, Layers = 2, {option})] public partial class F {{ }}", "FG0015", option);

    [Fact]
    public void CoordinateOutOfRange() =>
        Single("[CouplingFlow(Dim = 4)][AffineCoupling(Mask = MaskKind.SingleCoordinate, Coordinate = 4)] public partial class F { }", "FG0015", "Coordinate = 4");

    [Fact]
    public void PermuteNone() =>
        Single("[CouplingFlow(Dim = 4)][AffineCoupling, Permute(PermutationKind.None)] public partial class F { }", "FG0015", "Permute");

    [Theory]
    [InlineData("Permute(0, 1, 2)")]
    [InlineData("Permute(0, 1, 1, 2)")]
    [InlineData("Permute(0, 1, 2, 4)")]
    public void InvalidPermutation(string permute) =>
        Single($"[CouplingFlow(Dim = 4)][AffineCoupling, {permute}] public partial class F {{ }}", "FG0016", permute);

    [Fact]
    public void LayerAttributesOnAnotherDeclaration() =>
        Single("[CouplingFlow(Dim = 4)] public partial class F { }\n[AffineCoupling] public partial class F { }", "FG0017", "AffineCoupling");

    [Fact]
    public void LayerAttributesWithoutFlow()
    {
        GeneratorOutput result = GeneratorHarness.Run(Usings + "[AffineCoupling, Permute(PermutationKind.Reverse), AffineCoupling] public partial class F { }");
        Diagnostic d = Assert.Single(result.Diagnostics.Where(x => x.Id.StartsWith("FG", System.StringComparison.Ordinal)));
        Assert.Equal("FG0019", d.Id);
        Assert.Equal(DiagnosticSeverity.Warning, d.DefaultSeverity);
        Assert.Equal("AffineCoupling", LocatedText(result.Compilation, d));
    }

    [Fact]
    public void SourceWithUnrelatedErrorsStillGenerates()
    {
        GeneratorOutput result = GeneratorHarness.Run(Usings + "[CouplingFlow(Dim = 4, Layers = 2)] public partial class F { }\nclass Broken { int x = \"no\"; }");
        Assert.All(result.RunResult.Results, r => Assert.Null(r.Exception));
        Assert.Empty(result.Diagnostics);
        Assert.Single(result.AllGeneratedSources);
    }

    [Fact]
    public void EveryDescriptorIsTested()
    {
        string[] tested =
        {
            "FG0001", "FG0002", "FG0003", "FG0004", "FG0005", "FG0006", "FG0007", "FG0008", "FG0009", "FG0010",
            "FG0011", "FG0012", "FG0013", "FG0014", "FG0015", "FG0016", "FG0017", "FG0018", "FG0019",
            "FG0020", // DiagnosticsReportingTests
            "FG0021", // InternalErrorDiagnosticTests
            "FG0022", // RuntimeMismatchTests
        };
        var all = typeof(FlowGen.Generator.FlowGenerator).Assembly.GetType("FlowGen.Generator.Diagnostics.DiagnosticDescriptorsById")!
            .GetProperty("All")!.GetValue(null) as System.Collections.Generic.IReadOnlyList<DiagnosticDescriptor>;
        Assert.NotNull(all);
        Assert.Equal(all!.Select(d => d.Id).OrderBy(x => x), tested.OrderBy(x => x));
    }
}
