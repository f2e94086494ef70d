using System.Collections.Generic;
using System.Linq;
using System.Reflection;
using System.Runtime.CompilerServices;
using FlowGen.Tests.Infrastructure;
using Microsoft.CodeAnalysis;

namespace FlowGen.Tests;

/// <summary>Every FG diagnostic: its ID, that it points at the offending text, and that no code is generated for the broken model.</summary>
public class DiagnosticsTests
{
    private const string Usings = "using FlowGen;\n";

    /// <summary>
    /// Runs the generator and returns the single FlowGen diagnostic, checking where it points. The calling test must declare
    /// <paramref name="id"/> ([ExpectsDiagnostic] or its [InlineData]), which is what <see cref="EveryDescriptorIsTested"/> counts.
    /// </summary>
    private static Diagnostic Single(string source, string id, string locationText, [CallerMemberName] string test = "")
    {
        Assert.True(DiagnosticCoverage.Declared(typeof(DiagnosticsTests).GetMethod(test)!).Contains(id), $"{test} asserts {id} but does not declare it ([ExpectsDiagnostic])");
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

    [Theory]
    [ExpectsDiagnostic("FG0015")]
    [InlineData("GaussianMixtureBase(Components = 0)", "Components = 0")]
    [InlineData("GaussianMixtureBase(Components = 1025)", "Components = 1025")]
    [InlineData("GaussianMixtureBase(Components = 3, MeanSpread = -1)", "MeanSpread = -1")]
    [InlineData("GaussianMixtureBase(MeanSpread = double.PositiveInfinity)", "MeanSpread = double.PositiveInfinity")]
    [InlineData("GaussianMixtureBase(MeanSeparation = 0)", "MeanSeparation = 0")]
    [InlineData("GaussianMixtureBase(MeanSpread = 2, MeanSeparation = 5)", "MeanSeparation = 5")]
    [InlineData("StudentTBase(DegreesOfFreedom = 0)", "DegreesOfFreedom = 0")]
    [InlineData("StudentTBase(DegreesOfFreedom = double.NaN)", "DegreesOfFreedom = double.NaN")]
    public void InvalidBaseOptions(string attribute, string argument) =>
        Single($"[CouplingFlow(Dim = 2, Layers = 2)][{attribute}] public partial class F {{ }}", "FG0015", argument);

    [Fact]
    [ExpectsDiagnostic("FG0023")]
    public void SeveralBases()
    {
        Diagnostic d = Single("[CouplingFlow(Dim = 2, Layers = 2)][GaussianBase][StudentTBase(DegreesOfFreedom = 3)] public partial class F { }", "FG0023", "StudentTBase(DegreesOfFreedom = 3)");
        Assert.Contains("[GaussianBase] and [StudentTBase]", d.GetMessage(System.Globalization.CultureInfo.InvariantCulture));
    }

    [Fact]
    [ExpectsDiagnostic("FG0014")]
    public void MixtureMemberClash() =>
        Single("[CouplingFlow(Dim = 2, Layers = 2)][GaussianMixtureBase] public partial class F { public void Classify() { } }", "FG0014", "Classify");

    [Fact]
    [ExpectsDiagnostic("FG0001")]
    public void NotPartial() => Single("[CouplingFlow(Dim = 4, Layers = 2)] public class F { }", "FG0001", "F");

    [Theory]
    [ExpectsDiagnostic("FG0002")]
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
    [ExpectsDiagnostic("FG0003")]
    public void ContainerNotPartial() =>
        Single("public class Outer { [CouplingFlow(Dim = 4, Layers = 2)] public partial class F { } }", "FG0003", "F");

    [Fact]
    [ExpectsDiagnostic("FG0003")]
    public void GenericContainer() =>
        Single("public partial class Outer<T> { [CouplingFlow(Dim = 4, Layers = 2)] public partial class F { } }", "FG0003", "F");

    [Theory]
    [ExpectsDiagnostic("FG0004")]
    [InlineData("Dim = 1")]
    [InlineData("Dim = -3")]
    [InlineData("Dim = 100000")]
    public void InvalidDim(string dim) => Single($"[CouplingFlow({dim}, Layers = 2)] public partial class F {{ }}", "FG0004", dim);

    [Fact]
    [ExpectsDiagnostic("FG0004")]
    public void DimMissing() => Single("[CouplingFlow(Layers = 2)] public partial class F { }", "FG0004", "CouplingFlow");

    [Theory]
    [ExpectsDiagnostic("FG0005")]
    [InlineData("Layers = 0")]
    [InlineData("Layers = -1")]
    [InlineData("Layers = 100000")]
    public void InvalidLayers(string layers) => Single($"[CouplingFlow(Dim = 4, {layers})] public partial class F {{ }}", "FG0005", layers);

    [Fact]
    [ExpectsDiagnostic("FG0005")]
    public void LayersMismatchExplicitStack() =>
        Single("[CouplingFlow(Dim = 4, Layers = 3)][AffineCoupling, AffineCoupling] public partial class F { }", "FG0005", "Layers = 3");

    [Fact]
    [ExpectsDiagnostic("FG0018")]
    public void NoLayers() => Single("[CouplingFlow(Dim = 4)] public partial class F { }", "FG0018", "CouplingFlow");

    [Theory]
    [ExpectsDiagnostic("FG0006")]
    [InlineData("Hidden = new[] { 64, 0 }")]
    [InlineData("Hidden = new[] { -5 }")]
    [InlineData("Hidden = new[] { 1000000 }")]
    public void InvalidHidden(string hidden) => Single($"[CouplingFlow(Dim = 4, Layers = 2, {hidden})] public partial class F {{ }}", "FG0006", hidden);

    [Fact]
    [ExpectsDiagnostic("FG0006")]
    public void InvalidHiddenOnLayer() =>
        Single("[CouplingFlow(Dim = 4)][AffineCoupling(Hidden = new[] { 0 })] public partial class F { }", "FG0006", "Hidden = new[] { 0 }");

    [Theory]
    [ExpectsDiagnostic("FG0007")]
    [InlineData("MaskPattern = \"110\"")]
    [InlineData("MaskPattern = \"11000\"")]
    public void MaskWrongLength(string mask) => Single($"[CouplingFlow(Dim = 4, Layers = 2, {mask})] public partial class F {{ }}", "FG0007", mask);

    [Theory]
    [ExpectsDiagnostic("FG0008")]
    [InlineData("MaskPattern = \"1111\"")]
    [InlineData("MaskPattern = \"0000\"")]
    public void MaskDegenerate(string mask) => Single($"[CouplingFlow(Dim = 4, Layers = 2, {mask})] public partial class F {{ }}", "FG0008", mask);

    [Fact]
    [ExpectsDiagnostic("FG0008")]
    public void MaskDegenerateOnLayer() =>
        Single("[CouplingFlow(Dim = 4)][AffineCoupling(MaskPattern = \"0000\")] public partial class F { }", "FG0008", "MaskPattern = \"0000\"");

    [Theory]
    [ExpectsDiagnostic("FG0009", "FG0007")]
    [InlineData("MaskPattern = \"1x00\"")]
    [InlineData("MaskPattern = \"\"")]
    public void MaskCharacters(string mask) =>
        Single($"[CouplingFlow(Dim = 4, Layers = 2, {mask})] public partial class F {{ }}", mask.Contains('x') ? "FG0009" : "FG0007", mask);

    [Theory]
    [ExpectsDiagnostic("FG0010")]
    [InlineData("Coupling = (CouplingKind)42")]
    [InlineData("Mask = (MaskKind)7")]
    [InlineData("Activation = (Activation)(-1)")]
    [InlineData("Permutation = (PermutationKind)9")]
    public void UnknownEnumValues(string option) => Single($"[CouplingFlow(Dim = 4, Layers = 2, {option})] public partial class F {{ }}", "FG0010", option);

    [Fact]
    [ExpectsDiagnostic("FG0010")]
    public void UnknownEnumOnLayer() =>
        Single("[CouplingFlow(Dim = 4)][AffineCoupling(Activation = (Activation)17)] public partial class F { }", "FG0010", "Activation = (Activation)17");

    [Fact]
    [ExpectsDiagnostic("FG0010")]
    public void UnknownPermutationKind() =>
        Single("[CouplingFlow(Dim = 4)][AffineCoupling, Permute((PermutationKind)5), AffineCoupling] public partial class F { }", "FG0010", "Permute");

    [Theory]
    [ExpectsDiagnostic("FG0011")]
    [InlineData("[CouplingFlow(Dim = 4, ActNorm = true)][AffineCoupling] public partial class F { }", "ActNorm = true")]
    [InlineData("[CouplingFlow(Dim = 4, Coupling = CouplingKind.Additive)][AffineCoupling] public partial class F { }", "Coupling = CouplingKind.Additive")]
    [InlineData("[CouplingFlow(Dim = 4, Mask = MaskKind.Parity, MaskPattern = \"1100\", Layers = 2)] public partial class F { }", "MaskPattern")]
    [InlineData("[CouplingFlow(Dim = 4)][AffineCoupling(Mask = MaskKind.Parity, MaskPattern = \"1100\")] public partial class F { }", "MaskPattern")]
    [InlineData("[CouplingFlow(Dim = 4)][AffineCoupling(Mask = MaskKind.Halves, Coordinate = 1)] public partial class F { }", "Coordinate = 1")]
    [InlineData("[CouplingFlow(Dim = 4)][AffineCoupling, Permute(PermutationKind.Reverse, Seed = 3)] public partial class F { }", "Seed = 3")]
    public void ConflictingOptions(string source, string at) => Single(source, "FG0011", at);

    [Fact]
    [ExpectsDiagnostic("FG0011")]
    public void BothAttributes() =>
        Single("[CouplingFlow(Dim = 4, Layers = 2)][CouplingFlow<double>(Dim = 4, Layers = 2)] public partial class F { }", "FG0011", "CouplingFlow");

    [Fact]
    [ExpectsDiagnostic("FG0012")]
    public void UnsupportedPrecision() =>
        Single("[CouplingFlow<int>(Dim = 4, Layers = 2)] public partial class F { }", "FG0012", "CouplingFlow<int>");

    [Fact]
    [ExpectsDiagnostic("FG0013")]
    public void TooManyParameters() =>
        Single("[CouplingFlow(Dim = 4000, Layers = 200, Hidden = new[] { 60000 })] public partial class F { }", "FG0013", "CouplingFlow");

    [Theory]
    [ExpectsDiagnostic("FG0014")]
    [InlineData("public void Forward() { }", "Forward")]
    [InlineData("public int Dim => 3;", "Dim")]
    [InlineData("public string StackDescription = \"\";", "StackDescription")]
    [InlineData("public const string StackSpec = \"\";", "StackSpec")]
    public void MemberClash(string member, string name) =>
        Single($"[CouplingFlow(Dim = 4, Layers = 2)] public partial class F {{ {member} }}", "FG0014", name);

    [Theory]
    [ExpectsDiagnostic("FG0015")]
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
    [ExpectsDiagnostic("FG0015")]
    public void CoordinateOutOfRange() =>
        Single("[CouplingFlow(Dim = 4)][AffineCoupling(Mask = MaskKind.SingleCoordinate, Coordinate = 4)] public partial class F { }", "FG0015", "Coordinate = 4");

    [Fact]
    [ExpectsDiagnostic("FG0015")]
    public void PermuteNone() =>
        Single("[CouplingFlow(Dim = 4)][AffineCoupling, Permute(PermutationKind.None)] public partial class F { }", "FG0015", "Permute");

    [Theory]
    [ExpectsDiagnostic("FG0016")]
    [InlineData("Permute(0, 1, 2)")]
    [InlineData("Permute(0, 1, 1, 2)")]
    [InlineData("Permute(0, 1, 2, 4)")]
    public void InvalidPermutation(string permute) =>
        Single($"[CouplingFlow(Dim = 4)][AffineCoupling, {permute}] public partial class F {{ }}", "FG0016", permute);

    [Fact]
    [ExpectsDiagnostic("FG0017")]
    public void LayerAttributesOnAnotherDeclaration() =>
        Single("[CouplingFlow(Dim = 4)] public partial class F { }\n[AffineCoupling] public partial class F { }", "FG0017", "AffineCoupling");

    [Fact]
    [ExpectsDiagnostic("FG0019")]
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

    /// <summary>
    /// Every descriptor of the generator (the static <see cref="DiagnosticDescriptor"/> fields of DiagnosticDescriptors, by
    /// reflection) is exercised by a test: some test method declares its ID ([ExpectsDiagnostic] or an [InlineData]
    /// argument; see <see cref="DiagnosticCoverage"/>). So a new descriptor without a test fails here. Also: the generator's
    /// ID lookup holds exactly these descriptors, IDs are unique, and no test declares an ID that does not exist.
    /// </summary>
    [Fact]
    public void EveryDescriptorIsTested()
    {
        var descriptors = typeof(FlowGen.Generator.Diagnostics.DiagnosticDescriptors)
            .GetFields(BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Static)
            .Where(f => f.FieldType == typeof(DiagnosticDescriptor))
            .Select(f => (Field: f.Name, Descriptor: (DiagnosticDescriptor)f.GetValue(null)!))
            .ToList();
        Assert.True(descriptors.Count >= 21, $"only {descriptors.Count} descriptors found by reflection");
        Assert.Equal(descriptors.Count, descriptors.Select(d => d.Descriptor.Id).Distinct().Count());
        Assert.Equal(descriptors.Select(d => d.Descriptor.Id).Order(), FlowGen.Generator.Diagnostics.DiagnosticDescriptorsById.All.Select(d => d.Id).Order());

        IReadOnlyDictionary<string, IReadOnlySet<string>> byTest = DiagnosticCoverage.ByTest();
        var exercised = byTest.Values.SelectMany(ids => ids).ToHashSet(System.StringComparer.Ordinal);
        var untested = descriptors.Where(d => !exercised.Contains(d.Descriptor.Id)).Select(d => $"{d.Descriptor.Id} ({d.Field})").ToList();
        Assert.True(untested.Count == 0, "descriptors no test exercises: " + string.Join(", ", untested));
        var unknown = byTest.SelectMany(t => t.Value.Where(id => descriptors.All(d => d.Descriptor.Id != id)).Select(id => $"{t.Key}: {id}")).ToList();
        Assert.True(unknown.Count == 0, "tests declare IDs that are no descriptor: " + string.Join(", ", unknown));
    }
}
