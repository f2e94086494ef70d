using System.Collections.Generic;
using System;
using System.Linq;
using FlowGen.Generator;
using FlowGen.Generator.Model;
using FlowGen.Tests.Infrastructure;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;

namespace FlowGen.Tests;

/// <summary>The pipeline caches: unrelated edits leave every tracked step cached; relevant edits regenerate.</summary>
public class IncrementalTests
{
    private const string Flow = "using FlowGen;\nnamespace N;\n[CouplingFlow(Dim = 4, Layers = 3, Hidden = new[] { 8 })]\npublic partial class F { }\n";
    private const string Broken = "using FlowGen;\nnamespace N;\n[CouplingFlow(Dim = 1, Layers = 3)]\npublic partial class G { }\n";
    private const string Other = "namespace N;\npublic class Other { public int A; }\n";

    private static (GeneratorDriver driver, CSharpCompilation compilation) Start(params string[] sources)
    {
        CSharpCompilation compilation = GeneratorHarness.CreateCompilation(sources);
        GeneratorDriver driver = GeneratorHarness.CreateDriver(trackSteps: true).RunGenerators(compilation);
        return (driver, compilation);
    }

    private static CSharpCompilation Replace(CSharpCompilation compilation, int index, string text)
    {
        SyntaxTree old = compilation.SyntaxTrees.ElementAt(index);
        return compilation.ReplaceSyntaxTree(old, CSharpSyntaxTree.ParseText(text, GeneratorHarness.ParseOptions, old.FilePath));
    }

    private static IncrementalStepRunReason[] Reasons(GeneratorDriver driver, string step) =>
        driver.GetRunResult().Results.Single().TrackedSteps.TryGetValue(step, out var runs)
            ? runs.SelectMany(r => r.Outputs).Select(o => o.Reason).ToArray()
            : Array.Empty<IncrementalStepRunReason>();

    [Fact]
    public void UnrelatedEditKeepsEveryStepCached()
    {
        var (driver, compilation) = Start(Flow, Broken, Other);
        CSharpCompilation edited = Replace(compilation, 2, Other.Replace("public int A;", "public int A; public string B = \"x\";"));
        driver = driver.RunGenerators(edited);
        foreach (string step in new[] { FlowGenerator.StepNames.Flows, FlowGenerator.StepNames.Models, FlowGenerator.StepNames.Diagnostics })
        {
            var reasons = Reasons(driver, step);
            Assert.NotEmpty(reasons);
            Assert.All(reasons, r => Assert.True(r is IncrementalStepRunReason.Cached or IncrementalStepRunReason.Unchanged, $"{step}: {r}"));
        }
        // the source output was not produced again
        var outputs = driver.GetRunResult().Results.Single().TrackedOutputSteps.SelectMany(kv => kv.Value).SelectMany(r => r.Outputs).Select(o => o.Reason);
        Assert.All(outputs, r => Assert.Equal(IncrementalStepRunReason.Cached, r));
    }

    [Fact]
    public void EditInsideTheFlowFileButNotTheFlowKeepsModelCached()
    {
        var (driver, compilation) = Start(Flow + "public class Unrelated { }\n", Other);
        CSharpCompilation edited = Replace(compilation, 0, Flow + "public class Unrelated { public int Z; }\n");
        driver = driver.RunGenerators(edited);
        var reasons = Reasons(driver, FlowGenerator.StepNames.Models);
        Assert.NotEmpty(reasons);
        Assert.All(reasons, r => Assert.True(r is IncrementalStepRunReason.Cached or IncrementalStepRunReason.Unchanged, r.ToString()));
    }

    /// <summary>
    /// The class location travels with the model (for FG0021 from the emitter) but takes no part in caching: a declaration
    /// that only moves within its file is not emitted again.
    /// </summary>
    [Fact]
    public void MovingTheDeclarationWithinItsFileDoesNotReEmit()
    {
        var (driver, compilation) = Start(Flow, Other);
        CSharpCompilation edited = Replace(compilation, 0, "// a comment\n\n" + Flow.Replace("namespace N;", "namespace N;\npublic class Before { }\n"));
        driver = driver.RunGenerators(edited);
        var flows = Reasons(driver, FlowGenerator.StepNames.Flows);
        Assert.Contains(IncrementalStepRunReason.Modified, flows); // the parse result (with its location) did change
        var models = Reasons(driver, FlowGenerator.StepNames.Models);
        Assert.NotEmpty(models);
        Assert.All(models, r => Assert.True(r is IncrementalStepRunReason.Cached or IncrementalStepRunReason.Unchanged, r.ToString()));
        var outputs = driver.GetRunResult().Results.Single().TrackedOutputSteps.SelectMany(kv => kv.Value).SelectMany(r => r.Outputs).Select(o => o.Reason);
        Assert.All(outputs, r => Assert.Equal(IncrementalStepRunReason.Cached, r));
        Assert.Single(driver.GetRunResult().GeneratedTrees);
    }

    [Fact]
    public void ChangingTheDeclarationRegenerates()
    {
        var (driver, compilation) = Start(Flow, Other);
        CSharpCompilation edited = Replace(compilation, 0, Flow.Replace("Layers = 3", "Layers = 4"));
        driver = driver.RunGenerators(edited);
        Assert.Contains(IncrementalStepRunReason.Modified, Reasons(driver, FlowGenerator.StepNames.Models));
    }

    [Fact]
    public void FixingAnErrorRegenerates()
    {
        var (driver, compilation) = Start(Broken, Other);
        Assert.Single(driver.GetRunResult().Diagnostics);
        driver = driver.RunGenerators(Replace(compilation, 0, Broken.Replace("Dim = 1", "Dim = 3")));
        Assert.Empty(driver.GetRunResult().Diagnostics);
        Assert.Single(driver.GetRunResult().GeneratedTrees);
    }

    [Fact]
    public void ModelHoldsNoRoslynObjects()
    {
        // Walk every type reachable from FlowModel through instance fields (abstract records include all their subtypes in
        // the generator assembly, EquatableArray<T> includes T): each field must be a primitive, a string, an enum or another
        // such type — never a symbol, syntax node, compilation or location — so that the model caches on value equality.
        Type[] all = typeof(FlowGenerator).Assembly.GetTypes();
        var seen = new HashSet<Type>();
        var queue = new Queue<Type>();
        void Visit(Type t)
        {
            if (t.IsPrimitive || t.IsEnum || t == typeof(string) || !seen.Add(t)) return;
            Assert.False(typeof(ISymbol).IsAssignableFrom(t) || typeof(SyntaxNode).IsAssignableFrom(t) || typeof(Compilation).IsAssignableFrom(t) || typeof(Location).IsAssignableFrom(t), $"{t} is a Roslyn object");
            Assert.True(t.Assembly == typeof(FlowGenerator).Assembly, $"{t} is not a model type of the generator");
            queue.Enqueue(t);
        }
        Visit(typeof(FlowModel));
        while (queue.Count > 0)
        {
            Type t = queue.Dequeue();
            if (t.IsGenericType && t.GetGenericTypeDefinition().Name.StartsWith("EquatableArray", StringComparison.Ordinal))
            {
                foreach (Type a in t.GetGenericArguments()) Visit(a);
                continue;
            }
            if (t.IsAbstract)
            {
                foreach (Type sub in all.Where(s => !s.IsAbstract && t.IsAssignableFrom(s))) Visit(sub);
            }
            for (Type? b = t; b is not null && b != typeof(object); b = b.BaseType)
            {
                foreach (var field in b.GetFields(System.Reflection.BindingFlags.Instance | System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Public | System.Reflection.BindingFlags.DeclaredOnly))
                {
                    if (field.Name == "EqualityContract") continue;
                    Visit(field.FieldType);
                }
            }
        }
        // the walk reached every layer kind's record and every transformer's options
        Assert.Contains(seen, t => t.Name == "CouplingLayer");
        Assert.Contains(seen, t => t.Name == "SplineOptions");
        Assert.Contains(seen, t => t.Name == "LinearLayer");
        Assert.Contains(seen, t => t.Name == "PermutationLayer");
    }
}
