using System;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.Diagnostics;
using System.Globalization;
using System.Linq;
using System.Text;
using CsCheck;
using FlowGen.Tests.Infrastructure;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Microsoft.CodeAnalysis.Text;
using Xunit.Abstractions;

namespace FlowGen.Tests;

/// <summary>
/// Seeded, reproducible fuzzing of the generator with random declarations, valid and invalid (see
/// <see cref="FuzzDeclarations"/>). For every declaration: the generator never throws (no CS8784/CS8785, no
/// exception in the run result, no FG0021 "Internal FlowGen error" diagnostic), finishes in bounded time, and either emits
/// code that compiles with warnings as errors or reports an FG diagnostic inside the class declaration (or its attribute
/// lists, or a member of it). Declarations built only from valid choices must generate; huge ones must be refused or
/// emitted with bounded code.
/// <para>Short mode (default): <see cref="ShortCases"/> declarations, every valid one compiled.
/// Long mode: <c>FLOWGEN_FUZZ=long dotnet test tests/FlowGen.Tests -c Release --filter "FullyQualifiedName~GeneratorFuzz"</c>
/// runs <see cref="LongCases"/> declarations and compiles every <see cref="LongCompileEvery"/>-th valid output.
/// <c>FLOWGEN_FUZZ_SEED=n</c> changes the seed. The declarations come from a CsCheck generator (<see cref="FuzzDeclarations.Gen"/>)
/// in a seeded stream; a failure message names the case index, its CsCheck seed and its source, and the first failing
/// declaration is shrunk (<see cref="Shrinking"/>) to a shorter one that fails too.</para>
/// </summary>
public sealed class GeneratorFuzzTests
{
    public const int ShortCases = 250;
    public const int LongCases = 10_000;
    public const int LongCompileEvery = 10;
    private const int DefaultSeed = 20261129;

    /// <summary>FG0021, "Internal FlowGen error": must never appear for any declaration.</summary>
    private const string InternalErrorId = "FG0021";

    /// <summary>Any one declaration must be handled (parse + emit) within this time, even on a loaded 2-core machine (the largest legal stack takes ~4 s unloaded).</summary>
    private static readonly TimeSpan CaseBudget = TimeSpan.FromSeconds(60);

    private readonly ITestOutputHelper _output;

    public GeneratorFuzzTests(ITestOutputHelper output) => _output = output;

    public static bool LongMode => string.Equals(Environment.GetEnvironmentVariable("FLOWGEN_FUZZ"), "long", StringComparison.OrdinalIgnoreCase);

    public static int Seed => int.TryParse(Environment.GetEnvironmentVariable("FLOWGEN_FUZZ_SEED"), out int s) ? s : DefaultSeed;

    [Fact]
    [Trait("Category", "Slow")]
    public void RandomDeclarationsNeverCrashTheGeneratorAndEndInCodeOrADiagnostic()
    {
        int cases = LongMode ? LongCases : ShortCases;
        var stats = new FuzzStats();
        var failures = new List<string>();
        // JIT the generator's paths (both precisions, every layer kind, a diagnostic) before timing
        GeneratorHarness.Run("using FlowGen;\n[CouplingFlow(Dim = 3, Layers = 2)] public partial class WarmUp;\n" +
            "[CouplingFlow<double>(Dim = 20, ContextDim = 2)][ActNorm, InvertibleLinear, AffineCoupling, AdditiveCoupling, SumOfSquaresCoupling, DeepSigmoidalCoupling, SplineCoupling, Permute(PermutationKind.Random)] public partial class WarmUp2;\n" +
            "[CouplingFlow(Dim = 1, Layers = 2)] public partial class WarmUp3;");
        var total = Stopwatch.StartNew();
        var batch = new List<(int Index, FuzzCase Case, SyntaxTree[] Trees)>();
        var pcg = new PCG(FuzzDeclarations.Stream, unchecked((ulong)Seed));
        var seeds = new Dictionary<int, string>();
        (int Index, string Seed)? first = null;
        void Fail(int i, FuzzCase c, string problem)
        {
            if (first is null || i < first.Value.Index) first = (i, seeds[i]);
            if (failures.Count < 10) failures.Add($"case {i} (CsCheck seed \"{seeds[i]}\"): {problem}\n--- source ---\n{string.Join("\n// ---- next file ----\n", c.Sources)}");
        }
        for (int i = 0; i < cases; i++)
        {
            ulong state = pcg.State;
            FuzzCase c = FuzzDeclarations.Gen(i).Generate(pcg, null, out _);
            seeds[i] = pcg.ToString(state);
            bool compile = c.IntendedValid ? !LongMode || stats.Valid % LongCompileEvery == 0 : !c.Huge; // invalid-but-accepted: always
            string? problem = Check(c, compile, stats, out Compilation? deferred);
            if (problem is not null) Fail(i, c, problem);
            if (deferred is not null) batch.Add((i, c, deferred.SyntaxTrees.ToArray()));
            if (batch.Count == BatchSize || (i == cases - 1 && batch.Count > 0))
            {
                var compileTime = Stopwatch.StartNew();
                foreach (var (index, failed, why) in CompileBatch(batch, stats)) Fail(index, failed, why);
                stats.CompileTime += compileTime.Elapsed;
                batch.Clear();
            }
        }
        total.Stop();
        _output.WriteLine($"{(LongMode ? "long" : "short")} mode, seed {Seed}: {cases} declarations in {total.Elapsed.TotalSeconds:F1} s");
        _output.WriteLine(stats.ToString());
        if (first is (int firstIndex, string firstSeed))
        {
            // the first failing declaration, shrunk: CsCheck looks for shorter declarations (fewer attributes, options, files) that fail too
            throw Shrinking.Shrink(FuzzDeclarations.Gen(firstIndex), firstSeed, c =>
            {
                string? again = CheckAlone(c);
                if (again is not null) throw new Xunit.Sdk.XunitException(again);
            }, c => c.Summary + "\n" + string.Join("\n// ---- next file ----\n", c.Sources), new Xunit.Sdk.XunitException(string.Join("\n\n", failures)));
        }
        Assert.True(stats.Generated > cases / 10, $"too few declarations generated code ({stats.Generated}): the fuzzer is not exercising the emitter");
        Assert.True(stats.Refused > cases / 10, $"too few declarations were refused ({stats.Refused}): the fuzzer is not exercising the diagnostics");
    }

    /// <summary>The checks of one declaration on its own, compiling its output (what the batched loop does for many).</summary>
    private static string? CheckAlone(FuzzCase c)
    {
        string? problem = Check(c, compile: !c.Huge, new FuzzStats(), out Compilation? deferred);
        if (problem is not null || deferred is null) return problem;
        var errors = deferred.GetDiagnostics().Where(d => d.Severity >= DiagnosticSeverity.Warning).ToList();
        return errors.Count == 0 ? null : "generated code does not compile: " + string.Join("\n", errors.Take(5));
    }

    /// <summary>Hand-picked declarations at the edges of C#: each must generate compiling code or get an FG diagnostic at the declaration.</summary>
    public static TheoryData<string, string> TrickyDeclarations() => new()
    {
        { "keyword type name", "namespace N; [CouplingFlow(Dim = 3, Layers = 2)] public partial class @class;" },
        { "keyword namespace", "namespace @class.@event; [CouplingFlow(Dim = 3, Layers = 2)] public partial class F;" },
        { "keyword container", "namespace N; public partial class @event { [CouplingFlow(Dim = 3, Layers = 2)] public partial class F; }" },
        { "file-local class", "namespace N; [CouplingFlow(Dim = 3, Layers = 2)] file partial class F;" },
        { "file-local container", "namespace N; file partial class Outer { [CouplingFlow(Dim = 3, Layers = 2)] public partial class F; }" },
        { "primary constructor", "namespace N; [CouplingFlow(Dim = 3, Layers = 2)] public partial class F(int scale) { public int Scale => scale; }" },
        { "base class with Dim", "namespace N; public class Base { public int Dim => 1; } [CouplingFlow(Dim = 3, Layers = 2)] public partial class F : Base;" },
        { "base class with Forward(x, z)", "namespace N; public class Base { public float Forward(System.ReadOnlySpan<float> x, System.Span<float> z) => 0; } [CouplingFlow(Dim = 3, Layers = 2)] public partial class F : Base;" },
        { "base class with Parameters", "namespace N; public class Base { public System.Span<float> Parameters => default; } [CouplingFlow(Dim = 3, Layers = 2)] public partial class F : Base;" },
        { "ref struct container", "namespace N; public ref partial struct Outer { [CouplingFlow(Dim = 3, Layers = 2)] public partial class F; }" },
        { "readonly struct container", "namespace N; public readonly partial struct Outer { [CouplingFlow(Dim = 3, Layers = 2)] public partial class F; }" },
        { "record struct container", "namespace N; public partial record struct Outer { [CouplingFlow(Dim = 3, Layers = 2)] public partial class F; }" },
        { "interface container", "namespace N; public partial interface IOuter { [CouplingFlow(Dim = 3, Layers = 2)] public partial class F; }" },
        { "same name twice", "namespace A { [CouplingFlow(Dim = 3, Layers = 2)] public partial class F; } namespace B { [CouplingFlow<double>(Dim = 2, Layers = 1)] public partial class F; public partial class Outer { [CouplingFlow(Dim = 4, Layers = 1)] public partial class F; } }" },
        { "namespace FlowGen.Generated", "namespace FlowGen.Generated; [CouplingFlow(Dim = 3, Layers = 2)] public partial class F;" },
        { "namespace System", "namespace System; [CouplingFlow(Dim = 3, Layers = 2)] public partial class F;" },
        { "class named System in a namespace", "namespace N { [CouplingFlow(Dim = 3, Layers = 2)] public partial class System; }" },
        { "global Math and Vector types", "public class Math { } public class Vector<T> { } public class Unsafe { } [CouplingFlow(Dim = 20, Layers = 2)] public partial class F;" },
        { "global using aliases", "global using Kernel = System.String; global using Span = System.Int32; [CouplingFlow(Dim = 3, Layers = 2)] public partial class F;" },
        { "required member", "namespace N; [CouplingFlow(Dim = 3, Layers = 2)] public partial class F { public required int X { get; init; } }" },
        { "user interface implementation", "namespace N; [CouplingFlow(Dim = 3, Layers = 2)] public partial class F : FlowGen.ICouplingFlow<float>;" },
        { "obsolete class", "namespace N; [System.Obsolete(\"old\")] [CouplingFlow(Dim = 3, Layers = 2)] public partial class F;" },
        { "nullable disabled", "#nullable disable\nnamespace N; [CouplingFlow(Dim = 3, Layers = 2)] public partial class F { public string S; }" },
        { "static constructor and finalizer", "namespace N; [CouplingFlow(Dim = 3, Layers = 2)] public partial class F { static F() { } ~F() { } }" },
        { "private constructor only", "namespace N; [CouplingFlow(Dim = 3, Layers = 2)] public partial class F { private F(string s) { } }" },
        { "attribute on second part", "namespace N; public partial class F { } [CouplingFlow(Dim = 3, Layers = 2)] public partial class F;" },
        { "layer attributes via alias", "using Affine = FlowGen.AffineCouplingAttribute; namespace N; [CouplingFlow(Dim = 3)] [Affine, Affine(Clamp = 1)] public partial class F;" },
        { "attribute with target specifier", "namespace N; [type: CouplingFlow(Dim = 3, Layers = 2)] public partial class F;" },
    };

    [Theory]
    [Trait("Category", "Slow")]
    [MemberData(nameof(TrickyDeclarations))]
    public void TrickyDeclarationsGenerateCompilingCodeOrADiagnostic(string what, string source)
    {
        var c = new FuzzCase(new[] { "using FlowGen;\n" + source }, "F", new[] { "Outer", "@event", "event", "IOuter", "System" }, false, false, false, what);
        if (what.StartsWith("keyword type", StringComparison.Ordinal)) c = c with { TypeName = "class" };
        var stats = new FuzzStats();
        string? problem = Check(c, compile: true, stats, out Compilation? deferred);
        Assert.True(problem is null, what + ": " + problem);
        if (deferred is not null)
        {
            var errors = deferred.GetDiagnostics().Where(d => d.Severity >= DiagnosticSeverity.Warning).ToList();
            Assert.True(errors.Count == 0, what + ": generated code does not compile:\n" + string.Join("\n", errors.Take(5)));
        }
        _output.WriteLine($"{what}: {(stats.Generated > 0 ? "generated" : stats.Refused > 0 ? "refused: " + string.Join(", ", stats.Ids.Keys) : "rejected by the compiler")}");
    }

    /// <summary>Found by the tricky declarations: each used to generate code that did not compile or silently did nothing.</summary>
    [Theory]
    [InlineData("[CouplingFlow(Dim = 3, Layers = 2)] file partial class F;", "FG0002", "file-local", "F")]
    [InlineData("file partial class Outer { [CouplingFlow(Dim = 3, Layers = 2)] public partial class F; }", "FG0003", "Outer", "F")]
    [InlineData("public class Base { public int Dim => 1; } [CouplingFlow(Dim = 3, Layers = 2)] public partial class F : Base;", "FG0014", "Base.Dim", ": Base")]
    [InlineData("public class Base { public float Forward(System.ReadOnlySpan<float> x, System.Span<float> z) => 0; } [CouplingFlow(Dim = 3, Layers = 2)] public partial class F : Base;", "FG0014", "Base.Forward", ": Base")]
    [InlineData("public class Base { public System.Span<float> Parameters => default; } public class Middle : Base { } [CouplingFlow(Dim = 3, Layers = 2)] public partial class F : Middle;", "FG0014", "Base.Parameters", ": Middle")]
    public void DeclarationsThatCannotBeExtendedAreRefused(string source, string id, string messagePart, string locationText)
    {
        GeneratorOutput result = GeneratorHarness.Run("using FlowGen;\nnamespace N;\n" + source);
        Assert.All(result.RunResult.Results, r => Assert.Null(r.Exception));
        Diagnostic d = Assert.Single(result.Diagnostics.Where(x => x.Id.StartsWith("FG", StringComparison.Ordinal)));
        Assert.Equal(id, d.Id);
        Assert.Contains(messagePart, d.GetMessage(CultureInfo.InvariantCulture), StringComparison.Ordinal);
        Assert.Contains(locationText, result.Compilation.SyntaxTrees.First().GetText().ToString(d.Location.SourceSpan), StringComparison.Ordinal);
        Assert.Empty(result.AllGeneratedSources);
    }

    [Fact]
    public void AFlowDerivedFromAnotherFlowIsRefused()
    {
        GeneratorOutput result = GeneratorHarness.Run("using FlowGen;\nnamespace N;\n[CouplingFlow(Dim = 3, Layers = 2)] public partial class A;\n[CouplingFlow(Dim = 3, Layers = 2)] public partial class B : A;");
        Assert.All(result.RunResult.Results, r => Assert.Null(r.Exception));
        Diagnostic d = Assert.Single(result.Diagnostics.Where(x => x.Id.StartsWith("FG", StringComparison.Ordinal)));
        Assert.Equal("FG0002", d.Id);
        Assert.Contains("derived from the flow 'A'", d.GetMessage(CultureInfo.InvariantCulture), StringComparison.Ordinal);
        Assert.Single(result.AllGeneratedSources); // A's
    }

    [Fact]
    [Trait("Category", "Slow")]
    public void KeywordNamesAndPrimaryConstructorsGenerateWorkingFlows()
    {
        System.Reflection.Assembly assembly = GeneratorHarness.CompileAndLoad(
            "using FlowGen;\nnamespace @class.@event { public partial class @struct { [CouplingFlow(Dim = 3, Layers = 2)] public partial class @object; } }\n" +
            "namespace N { [CouplingFlow(Dim = 2, Layers = 2)] public partial class P(int scale) { public int Scale => scale; } }");
        object keyword = Activator.CreateInstance(assembly.GetType("class.event.struct+object")!, 4UL)!;
        Assert.Equal(3, ((ICouplingFlow<float>)keyword).Dim);
        Assert.Equal("class.event.struct.object", ((ICouplingFlow<float>)keyword).ModelName.Replace("@", "", StringComparison.Ordinal));
        // with a primary constructor the generated constructors are left out: the user's constructor builds the flow (seed 0)
        object primary = Activator.CreateInstance(assembly.GetType("N.P")!, 7)!;
        var flow = (ICouplingFlow<float>)primary;
        var lp = new float[1];
        flow.LogProb(new[] { 0.5f, -0.25f }, default, lp);
        Assert.True(float.IsFinite(lp[0]));
        Assert.Contains(flow.Parameters.ToArray(), p => p != 0); // initialised (hidden layers from seed 0)
        // generic creation cannot call a constructor the user owns: it says so
        var generic = typeof(GeneratorFuzzTests).GetMethod(nameof(CreateVia), System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Static)!;
        var ex = Assert.Throws<System.Reflection.TargetInvocationException>(() => generic.MakeGenericMethod(primary.GetType()).Invoke(null, [7UL]));
        Assert.Contains("primary constructor", Assert.IsType<NotSupportedException>(ex.InnerException).Message, StringComparison.Ordinal);
        var created = (ICouplingFlow<float>)generic.MakeGenericMethod(keyword.GetType()).Invoke(null, [4UL])!;
        Assert.True(created.Parameters.SequenceEqual(((ICouplingFlow<float>)keyword).Parameters));
    }

    private static TFlow CreateVia<TFlow>(ulong seed) where TFlow : ICouplingFlowModel<TFlow, float> => TFlow.Create(seed);

    /// <summary>Found by the fuzzer: a class named like a generated member made the generated code fail with CS0542.</summary>
    [Theory]
    [InlineData("Dim")]
    [InlineData("Forward")]
    [InlineData("Parameters")]
    [InlineData("ParameterCount")]
    [InlineData("Sample")]
    public void ClassNamedLikeAGeneratedMemberIsFG0014(string name)
    {
        GeneratorOutput result = GeneratorHarness.Run($"using FlowGen;\nnamespace N;\n[CouplingFlow(Dim = 3, Layers = 2)]\npublic partial class {name} {{ }}");
        Assert.All(result.RunResult.Results, r => Assert.Null(r.Exception));
        Diagnostic d = Assert.Single(result.Diagnostics.Where(x => x.Id.StartsWith("FG", StringComparison.Ordinal)));
        Assert.Equal("FG0014", d.Id);
        Assert.Equal(name, result.Compilation.SyntaxTrees.First().GetText().ToString(d.Location.SourceSpan));
        Assert.Empty(result.AllGeneratedSources);
    }

    /// <summary>The largest declarations the limits allow, and just beyond: refused with a diagnostic, or emitted with bounded code.</summary>
    [Theory]
    [Trait("Category", "Slow")]
    [InlineData("[CouplingFlow(Dim = 4096, Layers = 256, Hidden = [])]", "FG0013")]
    [InlineData("[CouplingFlow(Dim = 100000, Layers = 2)]", "FG0004")]
    [InlineData("[CouplingFlow(Dim = 4, Layers = 2, Hidden = [1000000])]", "FG0006")]
    [InlineData("[CouplingFlow(Dim = 4, Layers = 2, Hidden = [65536, 65536])]", "FG0013")]
    [InlineData("[CouplingFlow(Dim = 4, Layers = 257)]", "FG0005")]
    [InlineData("[CouplingFlow(Dim = 4, Layers = 2, Hidden = [1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1])]", "FG0013")]
    [InlineData("[CouplingFlow(Dim = 4096, Layers = 2, Hidden = [])]", null)]
    [InlineData("[CouplingFlow(Dim = 4096, Layers = 256, Hidden = [1], ActNorm = true, Permutation = PermutationKind.Random)]", null)]
    [InlineData("[CouplingFlow(Dim = 64, Layers = 256, Hidden = [8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8], Coupling = CouplingKind.Spline, Bins = 64, Mask = MaskKind.SingleCoordinate)]", null)]
    [InlineData("[CouplingFlow(Dim = 512, Layers = 8, Hidden = [16], InvertibleLinear = true, ContextDim = 4096)]", null)]
    [InlineData("[CouplingFlow(Dim = 8, Layers = 256, Hidden = [4], Coupling = CouplingKind.DeepSigmoidal, SigmoidUnits = 64, SigmoidLayers = 8)]", null)]
    [InlineData("[CouplingFlow(Dim = 8, Layers = 256, Hidden = [4], Coupling = CouplingKind.SumOfSquares, Degree = 8, Squares = 16)]", null)]
    public void HugeDeclarationsAreRefusedOrEmittedWithBoundedCode(string attribute, string? expectedId)
    {
        string source = "using FlowGen;\n" + attribute + "\npublic partial class Huge { }";
        var sw = Stopwatch.StartNew();
        GeneratorOutput result = GeneratorHarness.Run(source);
        sw.Stop();
        Assert.All(result.RunResult.Results, r => Assert.Null(r.Exception));
        Assert.True(sw.Elapsed < CaseBudget, $"generator took {sw.Elapsed}");
        var ours = result.Diagnostics.Where(d => d.Id.StartsWith("FG", StringComparison.Ordinal)).ToList();
        if (expectedId is not null)
        {
            Assert.Contains(ours, d => d.Id == expectedId);
            Assert.Empty(result.AllGeneratedSources);
            return;
        }
        Assert.Empty(ours);
        // what is checked needs the generated text's length and its head, not a syntax tree: the driver's tree is parsed
        // lazily, and nothing here may parse it (23.5 MB for the largest case: ~15 s on a loaded 2-core machine) or copy it
        GeneratedSourceResult generated = Assert.Single(result.RunResult.Results.SelectMany(r => r.GeneratedSources));
        int length = generated.SourceText.Length;
        long parameters = ParameterCountOf(generated.SourceText.ToString(new TextSpan(0, Math.Min(length, 1 << 20))));
        _output.WriteLine($"{attribute}: {length:N0} chars, {parameters:N0} parameters, {sw.Elapsed.TotalSeconds:F2} s");
        Assert.True(length <= GeneratedSizeBound, $"{length:N0} generated chars exceed the documented bound {GeneratedSizeBound:N0}");
        Assert.True(parameters > 0, "no ParameterCount in the head of the generated file");
        Assert.False(generated.SyntaxTree.TryGetRoot(out _), "the generated source was parsed: this test needs only its text");
    }

    /// <summary>
    /// Documented bound on the size of one generated file (docs/numerics.md, "Generated code size"): the emitted code is
    /// independent of the parameter count and of hidden widths (loops over constant tables) and is written once per distinct
    /// layer shape; what grows with layers × Dim is data — the row tables of wide layers and the stack specification; measured
    /// maximum ≈ 24 MB for Dim 4096 × 256 layers with ActNorm and random permutations (the largest stack the limits allow).
    /// </summary>
    public const long GeneratedSizeBound = 25_000_000;

    internal static long ParameterCountOf(string generated)
    {
        const string marker = "public const int ParameterCount = ";
        int at = generated.IndexOf(marker, StringComparison.Ordinal);
        if (at < 0) return -1;
        int end = generated.IndexOf(';', at);
        return long.Parse(generated.AsSpan(at + marker.Length, end - at - marker.Length), CultureInfo.InvariantCulture);
    }

    /// <summary>Valid outputs whose input compiles cleanly are compile-checked together, this many declarations per compilation.</summary>
    private const int BatchSize = 24;

    /// <summary>Compiles the user and generated trees of many declarations as one compilation (their names are unique per case).</summary>
    private static IEnumerable<(int Index, FuzzCase Case, string Problem)> CompileBatch(List<(int Index, FuzzCase Case, SyntaxTree[] Trees)> batch, FuzzStats stats)
    {
        var owner = new Dictionary<SyntaxTree, int>();
        var trees = new List<SyntaxTree>();
        for (int k = 0; k < batch.Count; k++)
        {
            foreach (SyntaxTree t in batch[k].Trees)
            {
                SyntaxTree renamed = t.WithFilePath($"case{batch[k].Index}/{t.FilePath}");
                owner[renamed] = k;
                trees.Add(renamed);
            }
        }
        stats.Compiled += batch.Count;
        var compilation = GeneratorHarness.CreateCompilation().AddSyntaxTrees(trees);
        var errors = compilation.GetDiagnostics().Where(d => d.Severity >= DiagnosticSeverity.Warning).ToList();
        foreach (var group in errors.GroupBy(d => d.Location.SourceTree is { } t && owner.TryGetValue(t, out int k) ? k : -1))
        {
            string text = "generated code does not compile (batch): " + string.Join("\n", group.Take(5));
            if (group.Key < 0) { foreach (var b in batch) yield return (b.Index, b.Case, text); yield break; }
            yield return (batch[group.Key].Index, batch[group.Key].Case, text);
        }
    }

    private static string? Check(FuzzCase c, bool compile, FuzzStats stats, out Compilation? deferred)
    {
        deferred = null;
        var sw = Stopwatch.StartNew();
        var compilation = GeneratorHarness.CreateCompilation(c.Sources);
        GeneratorDriver driver = GeneratorHarness.CreateDriver().RunGeneratorsAndUpdateCompilation(compilation, out Compilation output, out ImmutableArray<Diagnostic> driverDiagnostics);
        GeneratorDriverRunResult run = driver.GetRunResult();
        sw.Stop();
        stats.Cases++;
        stats.GeneratorTime += sw.Elapsed;
        if (sw.Elapsed > stats.Slowest) { stats.Slowest = sw.Elapsed; stats.SlowestCase = c.Summary; }

        var thrown = run.Results.Where(r => r.Exception is not null).Select(r => r.Exception!.ToString()).ToList();
        if (thrown.Count > 0) return "generator threw: " + thrown[0];
        if (driverDiagnostics.Any(d => d.Id is "CS8784" or "CS8785")) return "generator failure diagnostic: " + driverDiagnostics.First(d => d.Id is "CS8784" or "CS8785");
        if (sw.Elapsed > CaseBudget) return $"generator took {sw.Elapsed.TotalSeconds:F1} s";

        var ours = run.Diagnostics.Where(d => d.Id.StartsWith("FG", StringComparison.Ordinal)).ToList();
        foreach (Diagnostic d in ours)
        {
            // an exception inside FlowGen (parser or emitter), caught and reported instead of crashing the build
            if (d.Id == InternalErrorId) return "internal FlowGen error: " + d;
            string? where = LocationProblem(d, c, compilation);
            if (where is not null) return where;
            stats.CountId(d.Id);
        }
        var generated = run.Results.SelectMany(r => r.GeneratedSources).ToList();
        long size = generated.Sum(g => (long)g.SourceText.Length);
        // FG errors refuse the model; FG warnings (FG0019, FG0020) do not (the harness reports warnings as errors: use the default severity)
        bool refused = ours.Any(d => d.DefaultSeverity == DiagnosticSeverity.Error);
        if (refused)
        {
            stats.Refused++;
            if (generated.Count > 0) return "an FG error was reported but code was generated anyway";
            if (c.IntendedValid) return "a declaration built from valid choices only was refused: " + string.Join("; ", ours);
            return null;
        }
        if (generated.Count == 0)
        {
            // nothing and no FG error: only acceptable when the C# compiler itself rejects the declaration (attribute does not bind)
            stats.NotBound++;
            bool compilerErrors = compilation.GetDiagnostics().Any(d => d.Severity == DiagnosticSeverity.Error);
            if (!compilerErrors) return "no code, no FG diagnostic and no compiler error";
            if (c.IntendedValid) return "a declaration built from valid choices only did not bind: " + compilation.GetDiagnostics().First(d => d.Severity == DiagnosticSeverity.Error);
            return null;
        }
        stats.Generated++;
        if (c.IntendedValid) stats.Valid++;
        else if (!c.HasUnrelatedErrors && !c.Huge) stats.AcceptedInvalid.Add(c.Summary);
        if (size > stats.MaxGenerated) { stats.MaxGenerated = size; stats.MaxGeneratedParameters = ParameterCountOf(generated[0].SourceText.ToString()); }
        if (size > GeneratedSizeBound) return $"{size:N0} generated chars exceed the bound";
        if (!compile) return null;
        var baselineDiagnostics = compilation.GetDiagnostics().Where(d => d.Severity >= DiagnosticSeverity.Warning).ToList();
        if (baselineDiagnostics.Count == 0) { deferred = output; return null; }
        stats.Compiled++;
        var baseline = new HashSet<string>(baselineDiagnostics.Select(Key));
        var added = output.GetDiagnostics().Where(d => d.Severity >= DiagnosticSeverity.Warning && !baseline.Contains(Key(d))).ToList();
        if (added.Count > 0) return "generated code does not compile: " + string.Join("\n", added.Take(5));
        return null;
    }

    private static string Key(Diagnostic d) => d.Id + "@" + d.Location.GetLineSpan();

    /// <summary>An FG diagnostic must point into a user file, inside a declaration of the flow class or of one of its containers.</summary>
    private static string? LocationProblem(Diagnostic d, FuzzCase c, Compilation compilation)
    {
        if (d.Location == Location.None) return $"{d.Id} has no location: {d}";
        // generator diagnostics carry a file path and span (an external location); map it back to the user's tree
        string path = d.Location.GetLineSpan().Path;
        SyntaxTree? tree = d.Location.SourceTree ?? compilation.SyntaxTrees.FirstOrDefault(t => t.FilePath == path);
        if (tree is null) return $"{d.Id} points into no user file: {d}";
        if (d.Location.SourceSpan.End > tree.Length) return $"{d.Id} span lies beyond the end of its file: {d}";
        var span = d.Location.SourceSpan;
        if (span.IsEmpty) return $"{d.Id} has an empty span: {d}";
        bool inside = tree.GetRoot().DescendantNodes().OfType<TypeDeclarationSyntax>()
            .Any(t => (t.Identifier.ValueText == c.TypeName || c.ContainerNames.Contains(t.Identifier.ValueText)) && t.Span.Contains(span));
        return inside ? null : $"{d.Id} points outside the declaration: {d}";
    }

    private sealed class FuzzStats
    {
        public int Cases, Generated, Refused, NotBound, Compiled, Valid;
        public TimeSpan Slowest, GeneratorTime, CompileTime;
        public string SlowestCase = "";
        public long MaxGenerated, MaxGeneratedParameters;
        public readonly SortedDictionary<string, int> Ids = new(StringComparer.Ordinal);
        public readonly List<string> AcceptedInvalid = new();

        public void CountId(string id) => Ids[id] = Ids.TryGetValue(id, out int n) ? n + 1 : 1;

        public override string ToString() =>
            $"{Cases} cases: {Generated} generated ({Valid} from valid choices only, {Compiled} compile-checked), {Refused} refused with an FG error, " +
            $"{NotBound} rejected by the C# compiler only\ntime: generator runs {GeneratorTime.TotalSeconds:F1} s, batched compile checks {CompileTime.TotalSeconds:F1} s\nslowest: {Slowest.TotalMilliseconds:F0} ms ({SlowestCase})\n" +
            $"max generated: {MaxGenerated:N0} chars ({MaxGeneratedParameters:N0} parameters)\n" +
            $"FG diagnostics: {string.Join(", ", Ids.Select(kv => kv.Key + "×" + kv.Value))}\n" +
            $"invalid choices that were nevertheless accepted (by design, e.g. Seed, Clamp 0): {AcceptedInvalid.Count}" +
            string.Concat(AcceptedInvalid.Take(5).Select(s => "\n  " + s));
    }
}

/// <summary>One random declaration: its source files and what the generator chose.</summary>
public sealed record FuzzCase(string[] Sources, string TypeName, string[] ContainerNames, bool IntendedValid, bool Huge, bool HasUnrelatedErrors, string Summary);

/// <summary>
/// Builds random [CouplingFlow] declarations from a seed and an index (each case is reproducible on its own).
/// Every choice is either valid (documented range, well-formed C#) or marks the case as not intended valid.
/// </summary>
public static class FuzzDeclarations
{
    private sealed class Builder
    {
        public readonly Random R;
        public bool Valid = true;
        public bool Huge;
        public bool UnrelatedErrors;
        public readonly List<string> Consts = new();
        public readonly List<string> Notes = new();
        public int Index;

        public Builder(Random random, int index) { R = random; Index = index; }

        public bool Chance(double p) => R.NextDouble() < p;

        public T Pick<T>(params T[] items) => items[R.Next(items.Length)];

        public void Invalid(string why) { Valid = false; Notes.Add(why); }

        /// <summary>An int-valued constant expression of value v in one of many spellings.</summary>
        public string IntExpr(long v)
        {
            string lit = v < 0 ? "(" + v.ToString(CultureInfo.InvariantCulture) + ")" : v.ToString(CultureInfo.InvariantCulture);
            if (v is > int.MaxValue or < int.MinValue) return lit; // does not fit: the compiler rejects it (caller marks it)
            switch (R.Next(9))
            {
                case 0: { string name = "K" + Consts.Count; Consts.Add($"public const int {name} = {lit};"); return "C" + Index + "." + name; }
                case 1: return v >= 0 && v < 1 << 30 ? $"0x{v:X}" : lit;
                case 2: { long a = R.Next(0, 5); return $"({(v - a).ToString(CultureInfo.InvariantCulture)} + {a})"; }
                case 3: return v >= 0 && v < 1 << 20 ? $"(int){v}.0" : lit;
                case 4: return v > 0 && (v & (v - 1)) == 0 ? $"(1 << {BitLen(v) - 1})" : lit;
                case 5: return v >= 0 && v % 4 == 0 ? $"sizeof(int) * {v / 4}" : lit;
                case 6: return v == int.MaxValue ? "int.MaxValue" : v == int.MinValue ? "int.MinValue" : lit;
                default: return lit;
            }
        }

        private static int BitLen(long v) { int n = 0; while (v > 0) { n++; v >>= 1; } return n; }

        public string DoubleExpr(double v)
        {
            if (double.IsNaN(v)) return Pick("double.NaN", "0.0 / 0.0");
            if (double.IsPositiveInfinity(v)) return Pick("double.PositiveInfinity", "1.0 / 0");
            if (double.IsNegativeInfinity(v)) return "double.NegativeInfinity";
            string lit = v.ToString("R", CultureInfo.InvariantCulture);
            if (!lit.Contains('.') && !lit.Contains('E')) lit += ".0";
            switch (R.Next(5))
            {
                case 0: { string name = "D" + Consts.Count; Consts.Add($"public const double {name} = {lit};"); return "C" + Index + "." + name; }
                case 1: return v == Math.Floor(v) && Math.Abs(v) < 1e6 ? ((long)v).ToString(CultureInfo.InvariantCulture) : lit; // int to double
                case 2: return $"({lit} * 1)";
                case 3: return v.ToString("E3", CultureInfo.InvariantCulture) is var e && double.Parse(e, CultureInfo.InvariantCulture) == v ? e : lit;
                default: return v < 0 ? "(" + lit + ")" : lit;
            }
        }

        public string EnumExpr(string type, string[] names, int values, int outOfRange)
        {
            int r = R.Next(10);
            if (r == 0) { Invalid($"({type}){outOfRange}"); return $"({type}){(outOfRange < 0 ? "(" + outOfRange + ")" : outOfRange.ToString(CultureInfo.InvariantCulture))}"; }
            int k = R.Next(names.Length);
            if (r == 1) return $"({type}){R.Next(values)}";
            if (r == 2) { string name = "E" + Consts.Count; Consts.Add($"public const {type} {name} = {type}.{names[k]};"); return "C" + Index + "." + name; }
            if (r == 3) return $"global::FlowGen.{type}.{names[k]}";
            return $"{type}.{names[k]}";
        }

        public string HiddenExpr(int[] widths)
        {
            string items = string.Join(", ", widths.Select(w => IntExpr(w)));
            switch (R.Next(4))
            {
                case 0: return $"new[] {{ {(widths.Length == 0 ? "" : items)} }}".Replace("new[] {  }", "new int[0]");
                case 1: return $"new int[] {{ {items} }}";
                default: return $"[{items}]";
            }
        }
    }

    private static readonly string[] CouplingNames = { "Affine", "Additive", "SumOfSquares", "DeepSigmoidal", "Spline" };
    private static readonly string[] MaskNames = { "Halves", "Parity", "Checkerboard", "SingleCoordinate" };
    private static readonly string[] ActivationNames = { "Tanh", "Relu", "Softplus", "Elu", "Gelu", "Silu" };
    private static readonly string[] PermutationNames = { "None", "Reverse", "Random" };

    /// <summary>The PCG stream of the fuzzer (any fixed value).</summary>
    public const uint Stream = 20261129;

    /// <summary>
    /// A CsCheck generator of the declarations of case <paramref name="index"/> (its type and constant names carry the index,
    /// so that the cases of a batch share one compilation). The ~80 dependent choices of <see cref="Create"/> are drawn from
    /// CsCheck's PCG; the size CsCheck shrinks by is the length of the declaration's source, so a failure shrinks to the
    /// shortest failing declaration CsCheck finds (fewer attributes, options, containers and files).
    /// </summary>
    public static Gen<FuzzCase> Gen(int index) => new CaseGen(index);

    private sealed class CaseGen(int index) : Gen<FuzzCase>
    {
        public override FuzzCase Generate(PCG pcg, Size? min, out Size size)
        {
            FuzzCase c = Create(new PcgRandom(pcg), index);
            size = new Size((ulong)c.Sources.Sum(s => (long)s.Length));
            return c;
        }
    }

    /// <summary>System.Random's interface over a CsCheck PCG (what <see cref="Builder"/> draws from).</summary>
    private sealed class PcgRandom(PCG pcg) : Random
    {
        public override int Next() => (int)(pcg.Next() >> 1);

        public override int Next(int maxValue) => maxValue <= 0 ? 0 : (int)pcg.Next((uint)maxValue);

        public override int Next(int minValue, int maxValue) => minValue >= maxValue ? minValue : (int)(minValue + (long)pcg.Next64((ulong)((long)maxValue - minValue)));

        public override long NextInt64() => (long)(pcg.Next64() >> 1);

        public override double NextDouble() => (pcg.Next64() >> 11) * (1.0 / (1UL << 53));

        protected override double Sample() => NextDouble();

        public override void NextBytes(byte[] buffer) => NextBytes(buffer.AsSpan());

        public override void NextBytes(Span<byte> buffer)
        {
            for (int i = 0; i < buffer.Length; i++) buffer[i] = (byte)pcg.Next();
        }
    }

    /// <summary>One random declaration for case <paramref name="index"/>, every choice drawn from <paramref name="random"/>.</summary>
    public static FuzzCase Create(Random random, int index)
    {
        var b = new Builder(random, index);
        Random r = b.R;

        // ---- sizes ----
        int dim;
        int dimRoll = r.Next(20);
        if (dimRoll == 0) { dim = b.Pick(0, 1, -3, 4097, 100_000, int.MaxValue, int.MinValue); b.Invalid("Dim " + dim); }
        else if (dimRoll == 1) { dim = b.Pick(4096, 2048, 1000); b.Huge = true; }
        else dim = r.Next(2, r.Next(3) == 0 ? 40 : 9);
        int d = Math.Clamp(dim, 2, 4096);

        bool explicitStack = b.Chance(0.4);
        var flowArgs = new List<string>();
        if (!b.Chance(0.02)) flowArgs.Add("Dim = " + b.IntExpr(dim)); else b.Invalid("Dim missing");

        int layers = 0;
        if (!explicitStack)
        {
            int layersRoll = r.Next(20);
            if (layersRoll == 0) { layers = b.Pick(0, -1, 257, 100_000, int.MinValue); b.Invalid("Layers " + layers); }
            else if (layersRoll == 1) { layers = b.Pick(256, 200); b.Huge = true; }
            else layers = r.Next(1, 7);
            if (!b.Chance(0.02)) flowArgs.Add("Layers = " + b.IntExpr(layers)); else b.Invalid("no layers");
        }

        if (b.Chance(0.5)) flowArgs.Add("Hidden = " + b.HiddenExpr(HiddenWidths(b)));
        if (b.Chance(0.15))
        {
            int context = r.Next(12) == 0 ? b.Pick(-1, 4097, 1_000_000) : r.Next(0, 5);
            if (context is < 0 or > 4096) b.Invalid("Context " + context);
            flowArgs.Add("ContextDim = " + b.IntExpr(context));
        }
        string? coupling = null;
        if (!explicitStack && b.Chance(0.5)) { coupling = b.EnumExpr("CouplingKind", CouplingNames, 5, b.Pick(5, 9, -1)); flowArgs.Add("Coupling = " + coupling); }
        AddCouplingOptions(b, flowArgs, d, onFlow: true, kind: null);
        if (!explicitStack && b.Chance(0.2)) flowArgs.Add("Permutation = " + b.EnumExpr("PermutationKind", PermutationNames, 3, b.Pick(3, 100, -2)));
        if (!explicitStack && b.Chance(0.15)) flowArgs.Add("ActNorm = " + b.Pick("true", "false", "!false"));
        if (!explicitStack && b.Chance(0.15)) flowArgs.Add("InvertibleLinear = " + b.Pick("true", "false"));
        if (b.Chance(0.1)) flowArgs.Add("Seed = " + b.IntExpr(b.Pick(0, 1, -7, int.MaxValue, int.MinValue, 12345)));
        if (explicitStack && b.Chance(0.05))
        {
            // uniform-only options with an explicit stack: FG0011
            flowArgs.Add(b.Pick("ActNorm = true", "InvertibleLinear = true", "Permutation = PermutationKind.Reverse", "Coupling = CouplingKind.Spline"));
            b.Invalid("uniform-only option on an explicit stack");
        }
        b.R.Shuffle(CollectionsMarshalSpan(flowArgs));

        // ---- precision and the flow attribute ----
        string flowName = r.Next(10) switch
        {
            0 or 1 => "CouplingFlow<double>",
            2 => "CouplingFlow<float>",
            3 => b.Chance(0.3) ? "CouplingFlow<int>" : "global::FlowGen.CouplingFlowAttribute",
            4 => "CouplingFlowAttribute<double>",
            _ => "CouplingFlow",
        };
        if (flowName == "CouplingFlow<int>") b.Invalid("CouplingFlow<int>");
        string flowAttribute = flowName + (flowArgs.Count == 0 && b.Chance(0.5) ? "" : "(" + string.Join(", ", flowArgs) + ")");

        // ---- explicit stack ----
        var layerAttributes = new List<string>();
        if (explicitStack)
        {
            int count = r.Next(10) == 0 ? 0 : r.Next(1, 6);
            int couplings = 0;
            for (int i = 0; i < count; i++)
            {
                string layer = LayerAttribute(b, d, out bool isCoupling);
                if (isCoupling) couplings++;
                layerAttributes.Add(layer);
            }
            if (b.Chance(0.1) && layerAttributes.Count > 0)
            {
                string duplicate = layerAttributes[r.Next(layerAttributes.Count)];
                layerAttributes.Add(duplicate);
                if (duplicate.Contains("Coupling", StringComparison.Ordinal)) couplings++;
            }
            if (couplings == 0) b.Invalid("no coupling in the explicit stack");
            if (b.Chance(0.1))
            {
                int stated = b.Chance(0.5) ? couplings : couplings + r.Next(1, 3);
                if (stated != couplings) b.Invalid("Layers mismatches the explicit stack");
                flowAttribute = flowAttribute.EndsWith(')') ? flowAttribute[..^1] + (flowArgs.Count > 0 ? ", " : "") + "Layers = " + stated + ")" : flowAttribute + "(Layers = " + stated + ")";
            }
        }
        if (b.Chance(0.02)) { flowAttribute += ", CouplingFlow<double>(Dim = 2, Layers = 1)"; b.Invalid("both CouplingFlow and CouplingFlow<T>"); }

        // ---- the type ----
        string typeName = "F" + index;
        int nameRoll = r.Next(40);
        if (nameRoll == 0) typeName = b.Pick("Math", "Kernel", "Vector", "Span", "FlowRandom", "FlowTile", "Unsafe", "MemoryMarshal", "Impl", "Generated", "T", "Lanes", "CreateParameters");
        else if (nameRoll == 1) typeName = b.Pick("Flöw" + index, "@class", "@event", "_" + index, "Dim", "Forward", "Parameters", "ParameterCount", "Sample");
        if (typeName is "Dim" or "Forward" or "Parameters" or "ParameterCount" or "Sample") b.Invalid("type named like a generated member (CS0542)");
        string typeKeyword = "partial class";
        int kindRoll = r.Next(40);
        if (kindRoll < 8)
        {
            typeKeyword = kindRoll switch
            {
                0 => "class", 1 => "partial struct", 2 => "partial record", 3 => "static partial class", 4 => "abstract partial class",
                5 => "partial record struct", 6 => "partial interface", _ => "partial record class",
            };
            b.Invalid(typeKeyword);
        }
        else if (kindRoll == 8) typeKeyword = "sealed partial class";
        else if (kindRoll == 9) typeKeyword = "unsafe partial class";
        string typeParams = "";
        if (b.Chance(0.03)) { typeParams = "<TItem>"; b.Invalid("generic"); }
        if (b.Chance(0.02)) { typeKeyword = "file partial class"; b.Invalid("file-local"); }
        bool plainClass = typeKeyword is "partial class" or "sealed partial class" or "unsafe partial class" && typeParams.Length == 0;
        string heritage = "", baseDeclaration = "";
        if (plainClass && b.Chance(0.06))
        {
            int baseKind = r.Next(3);
            baseDeclaration = baseKind switch
            {
                0 => $"public class B{index} {{ public int Other => 1; protected void Helper() {{ }} private int Sample => 2; }}\n",
                1 => $"public class B{index} {{ public int {b.Pick("Dim", "Parameters", "StackHash")} => 1; }}\n",
                _ => $"public abstract class B{index} {{ public virtual float Forward(System.ReadOnlySpan<float> x, System.Span<float> z) => 0; }}\n",
            };
            if (baseKind != 0) b.Invalid("inherited member with a generated name");
            heritage = $" : B{index}";
        }

        var containerNames = new List<string>();
        string containerOpen = "", containerClose = "";
        if (b.Chance(0.2))
        {
            int depth = r.Next(1, 3);
            for (int k = 0; k < depth; k++)
            {
                string cname = "Outer" + index + "_" + k;
                string ck = r.Next(10) switch
                {
                    0 => "class", 1 => "partial class<TOuter>", 2 => "static class", 3 => "partial struct", 4 => "partial record", 5 => "static partial class", _ => "partial class",
                };
                if (ck is "class" or "partial class<TOuter>" or "static class") b.Invalid("container " + ck);
                string header = ck.EndsWith("<TOuter>", StringComparison.Ordinal) ? $"public partial class {cname}<TOuter>" : $"public {ck} {cname}";
                containerOpen += header + " {\n";
                containerClose += "}\n";
                containerNames.Add(cname);
            }
        }

        string access = containerNames.Count > 0 ? b.Pick("public", "internal", "private", "") : b.Pick("public", "internal", "");

        // ---- members ----
        var members = new List<string>();
        if (b.Chance(0.1))
        {
            string clash = b.Pick("public int Dim => 3;", "public void Forward() { }", "private int _parameters;", "public static int Sample;",
                "public string StackDescription = \"\";", "public void NllGradient(int x) { }", "public event System.Action? LogProb;", "public class Parameters { }");
            members.Add(clash);
            b.Invalid("member clash");
        }
        string primaryParameters = "";
        if (plainClass && b.Chance(0.04)) { primaryParameters = "(int scale)"; members.Add("public int Scale => scale;"); }
        else if (b.Chance(0.1)) members.Add(b.Pick($"public {typeName}() {{ }}", $"public {typeName}(int seed) : this() {{ }}", $"public {typeName}(double scale) : this() {{ }}")
            .Replace(" : this()", b.Chance(0.5) ? "" : " : this()"));
        if (b.Chance(0.1)) members.Add(b.Pick("public int Extra => 1;", "public override string ToString() => \"flow\";", "internal static int CreateParameters;", "private sealed class Impl { }", "public const int Lanes = 3;"));

        // ---- files ----
        string usings = b.Pick("using FlowGen;\n", "using FlowGen;\nusing System;\n", "using static FlowGen.Kernel;\nusing FlowGen;\n", "using FG = FlowGen;\nusing FlowGen;\n");
        int nsRoll = r.Next(3);
        string nsName = (r.Next(10) == 0 ? "@class.@event.N" : "Fuzz.N") + index;
        // names shared between cases ("Math", "@class", ...) live in the case's own namespace so that batched cases do not collide
        if (!typeName.EndsWith(index.ToString(CultureInfo.InvariantCulture), StringComparison.Ordinal) && nsRoll == 0) nsRoll = 1 + r.Next(2);
        var attributeLists = new List<string> { "[" + flowAttribute + "]" };
        if (layerAttributes.Count > 0)
        {
            int split = r.Next(3);
            if (split == 0) attributeLists.Add("[" + string.Join(", ", layerAttributes) + "]");
            else if (split == 1) attributeLists.AddRange(layerAttributes.Select(l => "[" + l + "]"));
            else { attributeLists[0] = "[" + flowAttribute + ", " + string.Join(", ", layerAttributes) + "]"; }
        }
        int parts = r.Next(6) == 0 ? r.Next(2, 4) : 1;
        bool layersOnOtherPart = parts > 1 && layerAttributes.Count > 0 && b.Chance(0.3);
        if (layersOnOtherPart) b.Invalid("layer attributes on another partial declaration (FG0017)");
        bool partialEverywhere = typeKeyword.Contains("partial", StringComparison.Ordinal);
        // a flow attribute on a second partial declaration as well: CS0579 (same attribute) or FG0011 ([CouplingFlow] with [CouplingFlow<T>])
        string? secondFlowAttribute = parts > 1 && b.Chance(0.2) ? b.Pick(flowAttribute, "CouplingFlow(Dim = 2, Layers = 1)", "CouplingFlow<double>(Dim = 3, Layers = 1)") : null;
        if (secondFlowAttribute is not null) b.Invalid("flow attribute on two partial declarations");

        var sources = new List<string>();
        for (int p = 0; p < parts; p++)
        {
            var sb = new StringBuilder(usings);
            if (nsRoll == 1) sb.Append("namespace ").Append(nsName).Append(";\n");
            else if (nsRoll == 2) sb.Append("namespace ").Append(nsName).Append(" {\n");
            sb.Append(containerOpen);
            IEnumerable<string> attrs = p == 0
                ? (layersOnOtherPart ? attributeLists.Take(1) : attributeLists)
                : (layersOnOtherPart && p == 1 ? attributeLists.Skip(1) : Array.Empty<string>());
            foreach (string a in attrs) sb.Append(a).Append('\n');
            if (p == 1 && secondFlowAttribute is not null) sb.Append('[').Append(secondFlowAttribute).Append("]\n");
            string keyword = p == 0 || partialEverywhere ? typeKeyword : "partial class";
            sb.Append(access.Length > 0 ? access + " " : "").Append(keyword).Append(' ').Append(typeName).Append(typeParams);
            if (p == 0) sb.Append(primaryParameters).Append(heritage);
            var partMembers = members.Where((_, k) => k % parts == p).ToList();
            if (partMembers.Count == 0 && b.Chance(0.3) && !keyword.Contains("interface", StringComparison.Ordinal) && p == 0) sb.Append(";\n");
            else sb.Append("\n{\n").Append(string.Concat(partMembers.Select(m => "    " + m + "\n"))).Append("}\n");
            sb.Append(containerClose);
            if (p == 0) sb.Append(baseDeclaration);
            if (p == 0 && b.Consts.Count > 0) sb.Append("static class C").Append(index).Append(" { ").Append(string.Join(" ", b.Consts)).Append(" }\n");
            if (p == parts - 1 && b.Chance(0.08))
            {
                b.UnrelatedErrors = true;
                sb.Append(b.Pick($"class Broken{index} {{ int x = \"no\"; }}\n", $"class Oops{index} {{ void M( }}\n", $"class Undefined{index} {{ NoSuchType y; }}\n", "#error unrelated\n"));
            }
            if (nsRoll == 2) sb.Append("}\n");
            sources.Add(sb.ToString());
        }

        string summary = $"#{index}: {flowAttribute} {string.Join(" ", layerAttributes)} {typeKeyword} {typeName}" +
                         (containerNames.Count > 0 ? $" in {containerNames.Count} containers" : "") + (parts > 1 ? $", {parts} files" : "") +
                         (b.Notes.Count > 0 ? " [" + string.Join("; ", b.Notes) + "]" : "");
        bool intendedValid = b.Valid && !b.Huge && !b.UnrelatedErrors;
        return new FuzzCase(sources.ToArray(), typeName.TrimStart('@'), containerNames.ToArray(), intendedValid, b.Huge, b.UnrelatedErrors, summary);
    }

    private static Span<string> CollectionsMarshalSpan(List<string> list) => System.Runtime.InteropServices.CollectionsMarshal.AsSpan(list);

    private static int[] HiddenWidths(Builder b)
    {
        Random r = b.R;
        int roll = r.Next(25);
        if (roll == 0) { b.Invalid("hidden width out of range"); return new[] { 8, b.Pick(0, -5, 65537, 1_000_000) }; }
        if (roll == 1) { b.Invalid("17 hidden layers"); return Enumerable.Repeat(2, 17).ToArray(); }
        if (roll == 2) { b.Huge = true; return new[] { b.Pick(65536, 20000) }; }
        int n = r.Next(0, 4);
        return Enumerable.Range(0, n).Select(_ => r.Next(1, 33)).ToArray();
    }

    private static string MaskPattern(Builder b, int dim)
    {
        Random r = b.R;
        int roll = r.Next(12);
        if (roll == 0) { b.Invalid("empty mask"); return "\"\""; }
        if (roll == 1) { b.Invalid("mask wrong length"); return "\"" + new string('1', b.Chance(0.5) ? dim : Math.Max(0, dim - 2)) + "0\""; }
        if (roll == 2) { b.Invalid("degenerate mask"); return "\"" + new string(b.Pick('0', '1'), dim) + "\""; }
        if (roll == 3) { b.Invalid("mask characters"); return "\"" + new string('1', dim - 1) + b.Pick("x", "2", " ", "\\n", "é") + "\""; }
        if (roll == 4) { b.Invalid("null mask"); return "null"; }
        if (roll == 5) { b.Invalid("huge mask"); return "\"" + new string('1', 100_000) + "0\""; }
        var chars = new char[dim];
        for (int i = 0; i < dim; i++) chars[i] = r.Next(2) == 0 ? '0' : '1';
        int zero = r.Next(dim), one = (zero + 1 + r.Next(dim - 1)) % dim;
        chars[zero] = '0';
        chars[one] = '1';
        string s = new string(chars);
        if (roll == 6 && s.Length > 1) return $"\"{s[..(s.Length / 2)]}\" + \"{s[(s.Length / 2)..]}\"";
        return "\"" + s + "\"";
    }

    /// <summary>Coupling options on [CouplingFlow] (defaults) or on a layer attribute of the given kind.</summary>
    private static void AddCouplingOptions(Builder b, List<string> args, int dim, bool onFlow, string? kind)
    {
        Random r = b.R;
        if (!onFlow && b.Chance(0.15))
        {
            int coordinate = r.Next(8) == 0 ? b.Pick(-1, dim, 100_000) : r.Next(dim);
            if (coordinate < 0 || coordinate >= dim) b.Invalid("coordinate out of range");
            bool single = b.Chance(0.9);
            if (!single) b.Invalid("Coordinate without SingleCoordinate");
            args.Add("Mask = " + (single ? "MaskKind.SingleCoordinate" : "MaskKind.Halves"));
            args.Add("Coordinate = " + b.IntExpr(coordinate));
        }
        else
        {
            bool hasMask = false;
            if (b.Chance(0.3)) { args.Add("Mask = " + b.EnumExpr("MaskKind", MaskNames, 3, b.Pick(3, 42, -1))); hasMask = true; }
            if (b.Chance(0.2))
            {
                args.Add("MaskPattern = " + MaskPattern(b, dim));
                if (hasMask) b.Invalid("Mask and MaskPattern");
            }
        }
        if (!onFlow && b.Chance(0.3)) args.Add("Hidden = " + b.HiddenExpr(HiddenWidths(b)));
        if (b.Chance(0.3)) args.Add("Activation = " + b.EnumExpr("Activation", ActivationNames, 6, b.Pick(6, 99, -1)));
        bool all = onFlow;
        if ((all || kind == "Affine") && b.Chance(0.2))
        {
            double clamp = r.Next(8) == 0 ? b.Pick(-1.0, 51.0, double.NaN, double.PositiveInfinity, 1e308) : b.Pick(0.0, 0.5, 1.5, 2.0, 50.0);
            if (!(clamp >= 0 && clamp <= 50)) b.Invalid("clamp " + clamp);
            args.Add("Clamp = " + b.DoubleExpr(clamp));
        }
        if ((all || kind == "SumOfSquares") && b.Chance(0.2))
        {
            int degree = r.Next(8) == 0 ? b.Pick(-1, 9, 1000) : r.Next(0, 9);
            if (degree is < 0 or > 8) b.Invalid("degree " + degree);
            args.Add("Degree = " + b.IntExpr(degree));
        }
        if ((all || kind == "SumOfSquares") && b.Chance(0.2))
        {
            int squares = r.Next(8) == 0 ? b.Pick(0, 17, -4) : r.Next(1, 17);
            if (squares is < 1 or > 16) b.Invalid("squares " + squares);
            args.Add("Squares = " + b.IntExpr(squares));
        }
        if ((all || kind == "DeepSigmoidal") && b.Chance(0.2))
        {
            int units = r.Next(8) == 0 ? b.Pick(0, 65, -1) : r.Next(1, 65);
            if (units is < 1 or > 64) b.Invalid("units " + units);
            args.Add("SigmoidUnits = " + b.IntExpr(units));
        }
        if ((all || kind == "DeepSigmoidal") && b.Chance(0.2))
        {
            int sl = r.Next(8) == 0 ? b.Pick(0, 9, int.MaxValue) : r.Next(1, 9);
            if (sl is < 1 or > 8) b.Invalid("sigmoid layers " + sl);
            args.Add("SigmoidLayers = " + b.IntExpr(sl));
        }
        if ((all || kind == "Spline") && b.Chance(0.2))
        {
            int bins = r.Next(8) == 0 ? b.Pick(0, 1, 65, -3) : r.Next(2, 65);
            if (bins is < 2 or > 64) b.Invalid("bins " + bins);
            args.Add("Bins = " + b.IntExpr(bins));
        }
        if ((all || kind == "Spline") && b.Chance(0.2))
        {
            double bound = r.Next(8) == 0 ? b.Pick(0.0, -1.0, 2e6, double.NaN, double.PositiveInfinity) : b.Pick(0.5, 3.0, 1e6, 1e-3);
            if (!(bound > 0 && bound <= 1e6)) b.Invalid("bound " + bound);
            args.Add("Bound = " + b.DoubleExpr(bound));
        }
    }

    private static string LayerAttribute(Builder b, int dim, out bool isCoupling)
    {
        Random r = b.R;
        isCoupling = false;
        switch (r.Next(9))
        {
            case 0:
            {
                int k = r.Next(6);
                if (k == 0)
                {
                    string kindExpr = b.EnumExpr("PermutationKind", PermutationNames, 3, b.Pick(3, 7));
                    if (kindExpr.EndsWith(".None", StringComparison.Ordinal) || kindExpr.EndsWith(")0", StringComparison.Ordinal)) b.Invalid("Permute(None)");
                    if (kindExpr.StartsWith("C", StringComparison.Ordinal) && b.Consts[^1].Contains("PermutationKind.None", StringComparison.Ordinal)) b.Invalid("Permute(None)");
                    return "Permute(" + kindExpr + ")";
                }
                if (k == 1) return "Permute(PermutationKind.Random, Seed = " + b.IntExpr(r.Next(-5, 100)) + ")";
                var order = Enumerable.Range(0, dim).OrderBy(_ => r.Next()).ToArray();
                int bad = r.Next(8);
                if (bad == 0 && dim > 1) { order[0] = order[1]; b.Invalid("duplicate in permutation"); }
                else if (bad == 1) { order = order.Take(dim - 1).ToArray(); b.Invalid("short permutation"); }
                else if (bad == 2) { order[0] = b.Pick(-1, dim, int.MaxValue); b.Invalid("permutation entry out of range"); }
                else if (bad == 3) { order = Array.Empty<int>(); b.Invalid("empty permutation"); }
                if (dim > 64 && bad > 3) return "Permute(PermutationKind.Reverse)";
                string items = string.Join(", ", order.Select(o => b.IntExpr(o)));
                return k == 2 ? ("Permute(order: new[] { " + items + " })").Replace("new[] {  }", "new int[0]") : "Permute(" + items + ")";
            }
            case 1: return "ActNorm";
            case 2:
            {
                var args = new List<string>();
                bool permuted = true;
                if (b.Chance(0.3)) { permuted = b.Chance(0.5); args.Add("Permute = " + (permuted ? "true" : "false")); }
                if (b.Chance(0.3))
                {
                    args.Add("Seed = " + b.IntExpr(r.Next(-3, 1000)));
                    if (!permuted) b.Invalid("Seed with Permute = false");
                }
                return "InvertibleLinear" + (args.Count > 0 ? "(" + string.Join(", ", args) + ")" : b.Pick("", "()"));
            }
            default:
            {
                isCoupling = true;
                string kind = CouplingNames[r.Next(CouplingNames.Length)];
                var args = new List<string>();
                AddCouplingOptions(b, args, dim, onFlow: false, kind);
                if (b.Chance(0.03))
                {
                    // an option of another kind: does not exist on this attribute (CS0246/CS0117)
                    args.Add(kind == "Spline" ? "Clamp = 1.0" : "Bins = 4");
                    b.Invalid("option of another coupling kind");
                }
                return kind + "Coupling" + (args.Count > 0 ? "(" + string.Join(", ", args) + ")" : b.Pick("", "()"));
            }
        }
    }
}
