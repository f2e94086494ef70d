using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using FlowGen.Tests.Infrastructure;
using Microsoft.CodeAnalysis;

namespace FlowGen.Tests;

/// <summary>
/// Black-box tests of how FlowGen reports problems: declaration source in, diagnostic IDs, the source text each one
/// points at and its message out. Every invalid argument of a declaration is reported in the same build, each at its
/// own argument; two flow attributes on partial declarations of one class never crash the generator; options of another
/// coupling kind are a warning (FG0020).
/// </summary>
public class DiagnosticsReportingTests
{
    private const string Usings = "using FlowGen;\n";

    /// <summary>One FG diagnostic: its ID, the source text it points at, its message and default severity (the harness makes warnings errors).</summary>
    public sealed record Reported(string Id, string At, string Message, DiagnosticSeverity Severity);

    /// <summary>Runs the generator on the given files; requires that it did not throw.</summary>
    private static GeneratorOutput Run(params string[] sources)
    {
        GeneratorOutput result = GeneratorHarness.Run(sources.Select(s => Usings + s).ToArray());
        Assert.All(result.RunResult.Results, r => Assert.Null(r.Exception));
        Assert.DoesNotContain(result.Diagnostics, d => d.Id is "CS8784" or "CS8785");
        return result;
    }

    /// <summary>The FG diagnostics in source order (file, then position).</summary>
    private static List<Reported> Ours(GeneratorOutput result) =>
        result.Diagnostics.Where(d => d.Id.StartsWith("FG", StringComparison.Ordinal))
            .OrderBy(d => d.Location.GetLineSpan().Path, StringComparer.Ordinal).ThenBy(d => d.Location.SourceSpan.Start)
            .Select(d => new Reported(d.Id, LocatedText(result.Compilation, d), d.GetMessage(CultureInfo.InvariantCulture), d.DefaultSeverity))
            .ToList();

    private static string LocatedText(Compilation compilation, Diagnostic d)
    {
        Assert.NotEqual(Location.None, d.Location);
        string path = d.Location.GetLineSpan().Path;
        SyntaxTree tree = d.Location.SourceTree ?? compilation.SyntaxTrees.Single(t => t.FilePath == path);
        return tree.GetText().ToString(d.Location.SourceSpan);
    }

    /// <summary>Requires exactly these (ID, located text) pairs, in source order, and no generated code.</summary>
    private static List<Reported> Expect(string source, params (string Id, string At)[] expected)
    {
        GeneratorOutput result = Run(source);
        List<Reported> ours = Ours(result);
        Assert.Equal(expected.Select(e => e.Id + " @ " + e.At), ours.Select(o => o.Id + " @ " + o.At));
        if (ours.Any(o => o.Severity == DiagnosticSeverity.Error)) Assert.Empty(result.AllGeneratedSources);
        return ours;
    }

    // ------------------------------------------------------------------ 1. flow attributes on several partial declarations

    /// <summary>
    /// The same flow attribute on two partial declarations is CS0579 (AllowMultiple = false; the compiler also counts
    /// CouplingFlow&lt;float&gt; and CouplingFlow&lt;double&gt; as duplicates). FlowGen adds nothing to that error: it
    /// generates the flow of the first attribute (file order, then position) once, and the generated code adds no error.
    /// It used to build a model from each declaration and fail with CS8785 (duplicate hint name).
    /// </summary>
    [Theory]
    [InlineData("[CouplingFlow(Dim = 4, Layers = 2)] public partial class F { }", "[CouplingFlow(Dim = 3, Layers = 2)] public partial class F { }", "R^4 (float")]
    [InlineData("[CouplingFlow<double>(Dim = 4, Layers = 2)] public partial class F { }", "[CouplingFlow<double>(Dim = 3, Layers = 1)] public partial class F { }", "R^4 (double")]
    [InlineData("[CouplingFlow<float>(Dim = 4, Layers = 2)] public partial class F { }", "[CouplingFlow<double>(Dim = 3, Layers = 1)] public partial class F { }", "R^4 (float")]
    public void TheSameFlowAttributeOnTwoPartialDeclarationsIsTheCompilersCS0579AndGeneratesOnce(string first, string second, string generatedFrom)
    {
        foreach (string[] files in new[] { new[] { first, second }, new[] { first + "\n" + second } })
        {
            GeneratorOutput result = Run(files);
            Assert.Empty(Ours(result));
            string generated = Assert.Single(result.AllGeneratedSources);
            Assert.Contains("coupling normalizing flow on " + generatedFrom, generated, StringComparison.Ordinal);
            // the compiler's CS0579 at the second attribute is the only error, also after adding the generated code
            var errors = result.CompilationErrors;
            Assert.NotEmpty(errors);
            Assert.All(errors, e => Assert.Equal("CS0579", e.Id));
            Assert.All(errors, e => Assert.StartsWith("CouplingFlow", e.Location.SourceTree!.GetText().ToString(e.Location.SourceSpan), StringComparison.Ordinal));
            Assert.All(errors, e => Assert.True(files.Length == 1 ? e.Location.SourceSpan.Start > files[0].IndexOf('\n') : e.Location.SourceTree!.FilePath == "Source1.cs"));
        }
    }

    /// <summary>
    /// Layer attributes next to the duplicate flow attribute are on another declaration than the flow's (the first
    /// attribute's): FG0017 there, besides the compiler's CS0579; nothing is generated and nothing throws.
    /// </summary>
    [Fact]
    [ExpectsDiagnostic("FG0017")]
    public void LayersNextToADuplicateFlowAttributeAreFG0017()
    {
        GeneratorOutput result = Run("[CouplingFlow(Dim = 4)][AffineCoupling] public partial class F { }", "[CouplingFlow(Dim = 3)][SplineCoupling] public partial class F { }");
        Reported d = Assert.Single(Ours(result));
        Assert.Equal(("FG0017", "SplineCoupling"), (d.Id, d.At));
        Assert.Empty(result.AllGeneratedSources);
        Assert.Contains(result.Compilation.GetDiagnostics(), e => e.Id == "CS0579");
    }

    /// <summary>
    /// [CouplingFlow] and [CouplingFlow&lt;T&gt;] are different attribute types, so the compiler accepts one on each partial
    /// declaration: FlowGen reports FG0011 once, at the second of them, and generates nothing.
    /// </summary>
    [Theory]
    [ExpectsDiagnostic("FG0011")]
    [InlineData("[CouplingFlow(Dim = 4, Layers = 2)] public partial class F { }", "[CouplingFlow<double>(Dim = 4, Layers = 2)] public partial class F { }", "CouplingFlow<double>(Dim = 4, Layers = 2)")]
    [InlineData("[CouplingFlow<double>(Dim = 4, Layers = 2)] public partial class F { }", "[CouplingFlow(Dim = 3, Layers = 2)] public partial class F { }", "CouplingFlow(Dim = 3, Layers = 2)")]
    [InlineData("[CouplingFlow(Dim = 4, Layers = 2)] public partial class F { }", "[CouplingFlow<float>(Dim = 4, Layers = 2)] public partial class F { }", "CouplingFlow<float>(Dim = 4, Layers = 2)")]
    public void CouplingFlowAndGenericCouplingFlowOnTwoPartialDeclarationsIsFG0011AtTheSecond(string first, string second, string at)
    {
        foreach (string[] files in new[] { new[] { first, second }, new[] { first + "\n" + second } })
        {
            GeneratorOutput result = Run(files);
            Reported d = Assert.Single(Ours(result));
            Assert.Equal(("FG0011", at), (d.Id, d.At));
            Assert.Contains("both [CouplingFlow] and [CouplingFlow<T>]", d.Message, StringComparison.Ordinal);
            Assert.Empty(result.AllGeneratedSources);
            Assert.DoesNotContain(result.Compilation.GetDiagnostics(), e => e.Id == "CS0579");
        }
    }

    /// <summary>
    /// Roslyn compares hint names ignoring case, so flows whose full names differ only in case used to collide (CS8785,
    /// nothing generated). Such flows now get a suffix from their exact name; other flows keep the plain hint name.
    /// </summary>
    [Theory]
    [InlineData("namespace N { [CouplingFlow(Dim = 3, Layers = 1)] public partial class F { } [CouplingFlow(Dim = 4, Layers = 1)] public partial class f { } }")]
    [InlineData("namespace N { [CouplingFlow(Dim = 3, Layers = 1)] public partial class F { } } namespace n { [CouplingFlow(Dim = 4, Layers = 1)] public partial class F { } }")]
    [InlineData("namespace N { public partial class Outer { [CouplingFlow(Dim = 3, Layers = 1)] public partial class F { } } } namespace N.OUTER { [CouplingFlow(Dim = 4, Layers = 1)] public partial class F { } }")]
    public void FlowsWhoseNamesDifferOnlyInCaseAreEachGenerated(string source)
    {
        GeneratorOutput result = Run(source + "\nnamespace N { [CouplingFlow(Dim = 2, Layers = 1)] public partial class Unrelated { } }");
        Assert.Empty(Ours(result));
        var hints = result.RunResult.Results.SelectMany(r => r.GeneratedSources).Select(g => g.HintName).ToList();
        Assert.Equal(3, hints.Count);
        Assert.Equal(3, hints.Distinct(StringComparer.OrdinalIgnoreCase).Count());
        Assert.Contains("N.Unrelated.g.cs", hints);
        Assert.Empty(result.CompilationErrors);
    }

    /// <summary>The suffix also appears when the namesake is added later, in another file (the parse re-runs on every compilation).</summary>
    [Fact]
    public void ANamesakeAddedLaterInAnotherFileDoesNotCollide()
    {
        var first = GeneratorHarness.CreateCompilation(Usings + "namespace N { [CouplingFlow(Dim = 3, Layers = 1)] public partial class F { } }");
        GeneratorDriver driver = GeneratorHarness.CreateDriver(trackSteps: true).RunGenerators(first);
        Assert.Equal(new[] { "N.F.g.cs" }, driver.GetRunResult().Results.Single().GeneratedSources.Select(g => g.HintName));
        var second = first.AddSyntaxTrees(Microsoft.CodeAnalysis.CSharp.CSharpSyntaxTree.ParseText(
            Usings + "namespace N { [CouplingFlow(Dim = 4, Layers = 1)] public partial class f { } }", GeneratorHarness.ParseOptions, "Source1.cs"));
        GeneratorDriverRunResult run = driver.RunGenerators(second).GetRunResult();
        Assert.All(run.Results, r => Assert.Null(r.Exception));
        var hints = run.Results.Single().GeneratedSources.Select(g => g.HintName).ToList();
        Assert.Equal(2, hints.Distinct(StringComparer.OrdinalIgnoreCase).Count());
    }

    // ------------------------------------------------------------------ 2. options of another coupling kind (FG0020)

    /// <summary>A kind-specific option on [CouplingFlow] of a uniform stack of another kind: warning FG0020 at the argument; the flow is still generated.</summary>
    [Theory]
    [ExpectsDiagnostic("FG0020")]
    [InlineData("Bins = 16", "", "Spline", "Affine")]
    [InlineData("Bound = 2.5", "Coupling = CouplingKind.Additive, ", "SumOfSquares and Spline", "Additive")]
    [InlineData("Clamp = 1.5", "Coupling = CouplingKind.Spline, ", "Affine", "Spline")]
    [InlineData("Degree = 3", "Coupling = CouplingKind.Spline, ", "SumOfSquares", "Spline")]
    [InlineData("Squares = 2", "Coupling = CouplingKind.DeepSigmoidal, ", "SumOfSquares", "DeepSigmoidal")]
    [InlineData("SigmoidUnits = 4", "Coupling = CouplingKind.Additive, ", "DeepSigmoidal", "Additive")]
    [InlineData("SigmoidLayers = 2", "Coupling = CouplingKind.Affine, ", "DeepSigmoidal", "Affine")]
    public void OptionOfAnotherKindOnAUniformStackIsWarningFG0020(string option, string coupling, string owner, string setOn)
    {
        GeneratorOutput result = Run($"[CouplingFlow(Dim = 4, Layers = 2, {coupling}{option})] public partial class F {{ }}");
        Reported d = Assert.Single(Ours(result));
        Assert.Equal(("FG0020", option, DiagnosticSeverity.Warning), (d.Id, d.At, d.Severity));
        string name = option.Split(' ')[0];
        Assert.Equal($"{name} is an option of {owner} couplings; it has no effect on a uniform stack of {setOn} couplings", d.Message);
        Assert.Single(result.AllGeneratedSources);
        Assert.Empty(result.CompilationErrors);
    }

    [Fact]
    public void EveryOptionOfAnotherKindIsReportedAtItsArgument()
    {
        var ours = Expect("[CouplingFlow(Dim = 4, Layers = 2, Coupling = CouplingKind.Additive, Clamp = 1.0, Hidden = [8], Bins = 4, Squares = 2)] public partial class F { }",
            ("FG0020", "Clamp = 1.0"), ("FG0020", "Bins = 4"), ("FG0020", "Squares = 2"));
        Assert.All(ours, d => Assert.EndsWith("on a uniform stack of Additive couplings", d.Message, StringComparison.Ordinal));
    }

    /// <summary>Options that belong to the stack's kind, and the options every kind has (mask, hidden widths, activation), are fine.</summary>
    [Theory]
    [InlineData("Clamp = 1.0, Hidden = [8], Activation = Activation.Relu, Mask = MaskKind.Parity")]
    [InlineData("Coupling = CouplingKind.Spline, Bins = 16, Bound = 4.0, MaskPattern = \"1100\"")]
    [InlineData("Coupling = CouplingKind.SumOfSquares, Degree = 3, Bound = 4.0")]
    [InlineData("Coupling = CouplingKind.SumOfSquares, Degree = 3, Squares = 2")]
    [InlineData("Coupling = CouplingKind.DeepSigmoidal, SigmoidUnits = 4, SigmoidLayers = 2")]
    [InlineData("Coupling = CouplingKind.Additive, Hidden = []")]
    public void OptionsOfTheStacksKindAreNotReported(string options)
    {
        GeneratorOutput result = Run($"[CouplingFlow(Dim = 4, Layers = 2, {options})] public partial class F {{ }}");
        Assert.Empty(Ours(result));
        Assert.Single(result.AllGeneratedSources);
    }

    /// <summary>An invalid value of an option of another kind is the error only (one diagnostic per argument).</summary>
    [Fact]
    public void InvalidOptionOfAnotherKindIsOnlyTheError() =>
        Expect("[CouplingFlow(Dim = 4, Layers = 2, Bins = 1)] public partial class F { }", ("FG0015", "Bins = 1"));

    /// <summary>With an unknown Coupling value the stack's kind is unknown: only FG0010, no guess about which options apply.</summary>
    [Fact]
    public void UnknownCouplingKindIsOnlyFG0010() =>
        Expect("[CouplingFlow(Dim = 4, Layers = 2, Coupling = (CouplingKind)9, Bins = 4)] public partial class F { }", ("FG0010", "Coupling = (CouplingKind)9"));

    /// <summary>
    /// In an explicit stack the kind options on [CouplingFlow] are defaults for the listed couplings: FG0020 when no
    /// listed coupling of that kind takes the default (none is listed, or each sets its own value).
    /// </summary>
    [Theory]
    [InlineData("[CouplingFlow(Dim = 4, Bins = 16, Clamp = 1.0)][AffineCoupling, Permute(PermutationKind.Reverse), AdditiveCoupling, AffineCoupling]", "Bins = 16",
        "Bins is an option of Spline couplings; it has no effect on an explicit stack without Spline couplings (its couplings: Affine, Additive)")]
    [InlineData("[CouplingFlow(Dim = 4, Bound = 2.0)][SplineCoupling(Bound = 1.0), AffineCoupling, SplineCoupling(Bound = 4.0, Bins = 3)]", "Bound = 2.0",
        "Bound is an option of SumOfSquares and Spline couplings; it has no effect on an explicit stack without SumOfSquares couplings (its couplings: Spline, Affine); an explicit stack whose Spline couplings all set their own Bound")]
    [InlineData("[CouplingFlow(Dim = 4, Bound = 2.0)][SumOfSquaresCoupling(Bound = 1.0), AffineCoupling]", "Bound = 2.0",
        "Bound is an option of SumOfSquares and Spline couplings; it has no effect on an explicit stack whose SumOfSquares couplings all set their own Bound; an explicit stack without Spline couplings (its couplings: SumOfSquares, Affine)")]
    [InlineData("[CouplingFlow(Dim = 4, SigmoidLayers = 2)][ActNorm, Permute(PermutationKind.Reverse)]", "SigmoidLayers = 2",
        "SigmoidLayers is an option of DeepSigmoidal couplings; it has no effect on an explicit stack without DeepSigmoidal couplings (it lists no coupling)")]
    [ExpectsDiagnostic("FG0020")]
    public void UnusedKindOptionOnAnExplicitStackIsFG0020(string attributes, string at, string message)
    {
        GeneratorOutput result = Run(attributes + " public partial class F { }");
        Reported d = Assert.Single(Ours(result));
        Assert.Equal(("FG0020", at, DiagnosticSeverity.Warning), (d.Id, d.At, d.Severity));
        Assert.Equal(message, d.Message);
    }

    [Theory]
    [InlineData("[CouplingFlow(Dim = 4, Bins = 16, Clamp = 1.0)][SplineCoupling(Bins = 4), AffineCoupling, SplineCoupling]")]
    [InlineData("[CouplingFlow(Dim = 4, Degree = 1, Squares = 2, SigmoidUnits = 3)][SumOfSquaresCoupling(Degree = 2), SumOfSquaresCoupling, DeepSigmoidalCoupling]")]
    [InlineData("[CouplingFlow(Dim = 4, Bound = 2.0)][SumOfSquaresCoupling, AffineCoupling]")]
    [InlineData("[CouplingFlow(Dim = 4, Bound = 2.0)][SplineCoupling(Bound = 1.0), SumOfSquaresCoupling]")]
    public void KindOptionsUsedByAListedCouplingAreNotReported(string attributes)
    {
        GeneratorOutput result = Run(attributes + " public partial class F { }");
        Assert.Empty(Ours(result));
        Assert.Single(result.AllGeneratedSources);
    }

    /// <summary>
    /// A layer attribute has only its own kind's options (Attributes.cs), so an option of another kind on it does not
    /// compile: the compiler reports it, FlowGen adds nothing and does not throw.
    /// </summary>
    [Theory]
    [InlineData("AffineCoupling(Bins = 4)")]
    [InlineData("SplineCoupling(Clamp = 1.0)")]
    [InlineData("AdditiveCoupling(SigmoidUnits = 4)")]
    public void OptionOfAnotherKindOnALayerAttributeIsACompilerError(string layer)
    {
        GeneratorOutput result = Run($"[CouplingFlow(Dim = 4)][{layer}] public partial class F {{ }}");
        Assert.DoesNotContain(Ours(result), d => d.Id == "FG0020");
        Assert.Contains(result.Compilation.GetDiagnostics(), d => d.Severity == DiagnosticSeverity.Error);
    }

    // ------------------------------------------------------------------ 3. every invalid argument in one build

    [Fact]
    public void EveryInvalidLayerAttributeIsReported() => Expect(
        "[CouplingFlow(Dim = 4)][AffineCoupling(MaskPattern = \"0000\"), SplineCoupling(Bins = 1), Permute(0, 1, 2), InvertibleLinear(Permute = false, Seed = 3), " +
        "AdditiveCoupling(Mask = MaskKind.Halves, Coordinate = 1), AffineCoupling(MaskPattern = \"11\"), Permute(PermutationKind.None)] public partial class F { }",
        ("FG0008", "MaskPattern = \"0000\""), ("FG0015", "Bins = 1"), ("FG0016", "Permute(0, 1, 2)"), ("FG0011", "Seed = 3"),
        ("FG0011", "Coordinate = 1"), ("FG0007", "MaskPattern = \"11\""), ("FG0015", "Permute(PermutationKind.None)"));

    [Fact]
    public void SeveralInvalidOptionsOnOneLayerAttributeAreReported() => Expect(
        "[CouplingFlow(Dim = 4)][SplineCoupling(Bins = 1, Bound = 0.0, Hidden = new[] { 0 }, Activation = (Activation)9, MaskPattern = \"1x11\")] public partial class F { }",
        ("FG0015", "Bins = 1"), ("FG0015", "Bound = 0.0"), ("FG0006", "Hidden = new[] { 0 }"), ("FG0010", "Activation = (Activation)9"), ("FG0009", "MaskPattern = \"1x11\""));

    [Fact]
    public void SeveralInvalidOptionsOnCouplingFlowAreReported() => Expect(
        "[CouplingFlow(Dim = 4, Layers = 2, Coupling = CouplingKind.SumOfSquares, Degree = 9, Squares = 0, Hidden = new[] { 0 }, Activation = (Activation)9, ContextDim = -1, MaskPattern = \"01\")] public partial class F { }",
        ("FG0015", "Degree = 9"), ("FG0015", "Squares = 0"), ("FG0006", "Hidden = new[] { 0 }"), ("FG0010", "Activation = (Activation)9"), ("FG0015", "ContextDim = -1"),
        ("FG0007", "MaskPattern = \"01\""));

    /// <summary>InvertibleLinearPermute needs InvertibleLinear = true (FG0024, warning) and a uniform stack (FG0011, as the other uniform-only options).</summary>
    [Fact]
    [ExpectsDiagnostic("FG0024")]
    public void InvertibleLinearPermuteWithoutInvertibleLinearIsWarningFG0024()
    {
        GeneratorOutput result = Run("[CouplingFlow(Dim = 4, Layers = 2, InvertibleLinearPermute = false)] public partial class F { }");
        Reported d = Assert.Single(Ours(result));
        Assert.Equal(("FG0024", "InvertibleLinearPermute = false", DiagnosticSeverity.Warning), (d.Id, d.At, d.Severity));
        Assert.Equal("InvertibleLinearPermute has no effect without InvertibleLinear = true", d.Message);
        Assert.Single(result.AllGeneratedSources);
        Assert.Empty(result.CompilationErrors);
        // with InvertibleLinear it applies: every linear layer of the uniform stack has P = I (Seed = 5 would give random P's)
        GeneratorOutput unpermuted = Run("[CouplingFlow(Dim = 4, Layers = 3, Seed = 5, InvertibleLinear = true, InvertibleLinearPermute = false)] public partial class F { }");
        Assert.Empty(Ours(unpermuted));
        string generated = Assert.Single(unpermuted.AllGeneratedSources);
        Assert.Equal(3, System.Text.RegularExpressions.Regex.Matches(generated, @"invertible_linear\\\"",\\\""permutation\\\"":\[0,1,2,3\]").Count);
        string permuted = Assert.Single(Run("[CouplingFlow(Dim = 4, Layers = 3, Seed = 5, InvertibleLinear = true)] public partial class F { }").AllGeneratedSources);
        Assert.True(System.Text.RegularExpressions.Regex.Matches(permuted, @"invertible_linear\\\"",\\\""permutation\\\"":\[0,1,2,3\]").Count < 3);
    }

    [Fact]
    public void InvertibleLinearPermuteOnAnExplicitStackIsFG0011() => Expect(
        "[CouplingFlow(Dim = 4, InvertibleLinearPermute = false)][InvertibleLinear(Permute = false), AffineCoupling] public partial class F { }",
        ("FG0011", "InvertibleLinearPermute = false"));

    /// <summary>Bound, which two kinds read, is reported once on [CouplingFlow] (not once per kind), and on a sum-of-squares layer.</summary>
    [Theory]
    [InlineData("[CouplingFlow(Dim = 4, Layers = 2, Coupling = CouplingKind.SumOfSquares, Bound = 0.0)]", "Bound = 0.0")]
    [InlineData("[CouplingFlow(Dim = 4, Layers = 2, Coupling = CouplingKind.Spline, Bound = 2e6)]", "Bound = 2e6")]
    [InlineData("[CouplingFlow(Dim = 4)][SumOfSquaresCoupling(Bound = -1.0)]", "Bound = -1.0")]
    public void AnInvalidBoundIsReportedOnce(string attributes, string at) =>
        Expect(attributes + " public partial class F { }", ("FG0015", at));

    /// <summary>A bad option on [CouplingFlow] is reported once, at its argument, not again at every layer that inherits it.</summary>
    [Fact]
    public void InvalidFlowOptionsAndInvalidLayersAreAllReportedOnce() => Expect(
        "[CouplingFlow(Dim = 4, Clamp = -1.0, MaskPattern = \"11x0\")][AffineCoupling(Hidden = new[] { 0 }), SplineCoupling(Bins = 1), AffineCoupling] public partial class F { }",
        ("FG0015", "Clamp = -1.0"), ("FG0009", "MaskPattern = \"11x0\""), ("FG0006", "Hidden = new[] { 0 }"), ("FG0015", "Bins = 1"));

    /// <summary>FG0018 (no Layers, no layer attributes) does not hide the other errors of the declaration.</summary>
    [Theory]
    [InlineData("Dim = 4, MaskPattern = \"110\"", "FG0018", "CouplingFlow(Dim = 4, MaskPattern = \"110\")", "FG0007", "MaskPattern = \"110\"")]
    [InlineData("Dim = 4, MaskPattern = \"1111\"", "FG0018", "CouplingFlow(Dim = 4, MaskPattern = \"1111\")", "FG0008", "MaskPattern = \"1111\"")]
    [InlineData("Dim = 4, Layers = 0, MaskPattern = \"110\"", "FG0005", "Layers = 0", "FG0007", "MaskPattern = \"110\"")]
    public void NoLayersDoesNotHideOtherErrors(string options, string id1, string at1, string id2, string at2) =>
        Expect($"[CouplingFlow({options})] public partial class F {{ }}", (id1, at1), (id2, at2));

    [Fact]
    public void MissingDimSaysDimIsRequired()
    {
        Reported d = Assert.Single(Expect("[CouplingFlow(Layers = 2)] public partial class F { }", ("FG0004", "CouplingFlow(Layers = 2)")));
        Assert.Contains("Dim is required", d.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("it is 0", d.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void InvalidDimSaysItsValue()
    {
        Reported d = Assert.Single(Expect("[CouplingFlow(Dim = 1, Layers = 2)] public partial class F { }", ("FG0004", "Dim = 1")));
        Assert.Equal("Dim must be between 2 and 4096; it is 1", d.Message);
    }

    /// <summary>
    /// Without a valid Dim everything that does not depend on Dim is still checked (option ranges, enum values, mask
    /// characters, layer counts); the mask length, Coordinate's range and explicit permutation orders need Dim and are not.
    /// </summary>
    [Fact]
    public void WithoutDimTheOptionsThatDoNotDependOnItAreStillChecked() => Expect(
        "[CouplingFlow(Layers = 0, Coupling = CouplingKind.Spline, Bins = 1, MaskPattern = \"1x\")] public partial class F { }",
        ("FG0004", "CouplingFlow(Layers = 0, Coupling = CouplingKind.Spline, Bins = 1, MaskPattern = \"1x\")"), ("FG0005", "Layers = 0"), ("FG0015", "Bins = 1"), ("FG0009", "MaskPattern = \"1x\""));

    [Fact]
    public void WithAnInvalidDimTheLayersAreStillChecked() => Expect(
        "[CouplingFlow(Dim = 0)][AffineCoupling(MaskPattern = \"110\", Clamp = 99), Permute(0, 1), Permute(PermutationKind.Reverse, Seed = 2), " +
        "AffineCoupling(Mask = MaskKind.SingleCoordinate, Coordinate = 7), SumOfSquaresCoupling(Degree = -1)] public partial class F { }",
        ("FG0004", "Dim = 0"), ("FG0015", "Clamp = 99"), ("FG0011", "Seed = 2"), ("FG0015", "Degree = -1"));

    [Fact]
    public void LayerAttributesOnSeveralOtherDeclarationsAreEachReported()
    {
        GeneratorOutput result = Run("[CouplingFlow(Dim = 4)] public partial class F { }\n[AffineCoupling] public partial class F { }",
            "[SplineCoupling(Bins = 1)] public partial class F { }");
        Assert.Equal(new[] { "FG0017 @ AffineCoupling", "FG0017 @ SplineCoupling(Bins = 1)", "FG0015 @ Bins = 1" },
            Ours(result).Select(o => o.Id + " @ " + o.At));
        Assert.Empty(result.AllGeneratedSources);
    }

    /// <summary>Members that clash with generated ones and problems of the type itself are reported together with bad options.</summary>
    [Fact]
    public void MemberClashesAndTypeProblemsAreReportedWithInvalidOptions()
    {
        Expect("[CouplingFlow(Dim = 4, Layers = 2, Coupling = CouplingKind.Spline, Bins = 1)] public partial class F { public void Forward() { } }",
            ("FG0015", "Bins = 1"), ("FG0014", "Forward"));
        Expect("[CouplingFlow(Dim = 1, Layers = 2)] public class F { }", ("FG0004", "Dim = 1"), ("FG0001", "F"));
    }
}
