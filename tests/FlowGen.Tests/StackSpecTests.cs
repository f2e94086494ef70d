using System;
using System.Linq;
using System.Text;
using System.Text.Json;
using FlowGen.Tests.Infrastructure;
using FlowGen.Tests.Models;

namespace FlowGen.Tests;

/// <summary>
/// The structured stack specification (docs/model.md §8) and what is derived from it: valid JSON of the stated schema that
/// accounts for every parameter tensor, StackHash = FNV-1a 64 of it, and ToString() = StackDescription.
/// </summary>
public class StackSpecTests
{
    private static ulong Fnv1a(string text)
    {
        ulong hash = 0xcbf29ce484222325UL;
        foreach (byte b in Encoding.UTF8.GetBytes(text)) hash = unchecked((hash ^ b) * 0x100000001b3UL);
        return hash;
    }

    public static TheoryData<string> Flows() => new()
    {
        nameof(Golden.GHetero), nameof(Golden.GHeteroD), nameof(Golden.GCondD), nameof(Golden.GWide), nameof(Golden.GPermute),
        nameof(Golden.GLinearD), nameof(Golden.GActNormD), nameof(Golden.GSosD), nameof(Golden.GDsf), nameof(Golden.GNoHidden),
    };

    private static object Create(string name) => Activator.CreateInstance(typeof(Golden.GHetero).Assembly.GetType("FlowGen.Tests.Golden." + name)!)!;

    [Theory]
    [MemberData(nameof(Flows))]
    public void SpecIsVersionedJsonThatAccountsForEveryTensor(string name)
    {
        object flow = Create(name);
        string spec = (string)flow.GetType().GetField("StackSpec")!.GetValue(null)!;
        ulong hash = (ulong)flow.GetType().GetField("StackHash")!.GetValue(null)!;
        var tensors = (System.Collections.Generic.IReadOnlyList<ParameterTensor>)flow.GetType().GetProperty("ParameterTensors")!.GetValue(null)!;
        int dim = (int)flow.GetType().GetField("Dim")!.GetValue(null)!;

        Assert.Equal(Fnv1a(spec), hash);
        Assert.DoesNotContain('\n', spec);
        using JsonDocument doc = JsonDocument.Parse(spec);
        JsonElement root = doc.RootElement;
        Assert.Equal("flowgen.stack", root.GetProperty("schema").GetString());
        Assert.Equal(2, root.GetProperty("version").GetInt32());
        Assert.Equal(dim, root.GetProperty("dim").GetInt32());
        Assert.Equal("standard_normal", root.GetProperty("base").GetProperty("kind").GetString());
        JsonElement[] layers = root.GetProperty("layers").EnumerateArray().ToArray();
        // every layer's parameter count is the sum of its tensors (tensors are named layers.{index}.…), and they add up
        for (int l = 0; l < layers.Length; l++)
        {
            int fromTensors = tensors.Where(t => t.Name.StartsWith($"layers.{l}.", StringComparison.Ordinal)).Sum(t => t.Length);
            Assert.Equal(fromTensors, layers[l].GetProperty("parameters").GetInt32());
            string kind = layers[l].GetProperty("kind").GetString()!;
            Assert.Contains(kind, new[] { "coupling", "permutation", "actnorm", "invertible_linear" });
            if (kind == "coupling")
            {
                int[] kept = layers[l].GetProperty("kept").EnumerateArray().Select(e => e.GetInt32()).ToArray();
                int[] transformed = layers[l].GetProperty("transformed").EnumerateArray().Select(e => e.GetInt32()).ToArray();
                Assert.Equal(Enumerable.Range(0, dim), kept.Concat(transformed).OrderBy(i => i));
            }
            if (kind is "permutation")
            {
                Assert.Equal(Enumerable.Range(0, dim), layers[l].GetProperty("order").EnumerateArray().Select(e => e.GetInt32()).OrderBy(i => i));
            }
        }
        Assert.Equal(tensors.Sum(t => t.Length), root.GetProperty("parameters").GetInt32());
    }

    [Fact]
    public void ToStringIsTheDescription()
    {
        Assert.Equal(R8.StackDescription, new R8().ToString());
        Assert.Equal(Golden.GHeteroD.StackDescription, new Golden.GHeteroD().ToString());
    }

    [Fact]
    [Trait("Category", "Slow")]
    public void AUserToStringIsKept()
    {
        GeneratorOutput result = GeneratorHarness.Run("""
            using FlowGen;
            [CouplingFlow(Dim = 2, Layers = 2, Hidden = [4])] public partial class Own { public override string ToString() => "mine"; }
            public class Base { public sealed override string ToString() => "base"; }
            [CouplingFlow(Dim = 2, Layers = 2, Hidden = [4])] public partial class Derived : Base { }
            """);
        result.AssertNoGeneratorErrors();
        Assert.Empty(result.CompilationErrors);
        Assert.All(result.AllGeneratedSources, s => Assert.DoesNotContain("override string ToString", s));
    }

    /// <summary>
    /// The parser's list of generated member names (a user member with one of them is FG0014) is exactly what the generator
    /// declares: every member the generated part of a flow class declares is in the list, and every name in the list is
    /// declared by some flow (with and without context and ActNorm). Found by reflection, so the list cannot drift.
    /// </summary>
    [Fact]
    public void GeneratedMemberNamesAreExactlyTheGeneratedMembers()
    {
        const System.Reflection.BindingFlags All = System.Reflection.BindingFlags.Public | System.Reflection.BindingFlags.NonPublic |
            System.Reflection.BindingFlags.Instance | System.Reflection.BindingFlags.Static | System.Reflection.BindingFlags.DeclaredOnly;
        var declared = new System.Collections.Generic.HashSet<string>();
        foreach (Type t in new[] { typeof(R8), typeof(WithActNorm3D), typeof(Conditional2D), typeof(Golden.GCondD) })
        {
            foreach (var m in t.GetMembers(All))
            {
                // constructors, explicit interface implementations (their names contain '.'), accessors and ToString (an override a user may declare) are not clashes
                if (m is System.Reflection.ConstructorInfo || m.Name.Contains('.') || m.Name == "ToString") continue;
                if (m is System.Reflection.MethodInfo { IsSpecialName: true }) continue;
                declared.Add(m.Name);
            }
        }
        var listed = FlowGen.Generator.Parsing.FlowParser.GeneratedMemberNames;
        Assert.Empty(declared.Except(listed));
        Assert.Empty(listed.Except(declared));
    }

    [Fact]
    public void LayersOfTheSameShapeShareOneClass()
    {
        // R8: twelve affine couplings of two shapes (first half kept, second half kept): two classes, each used by six layers
        GeneratorOutput result = GeneratorHarness.Run("using FlowGen;\n[CouplingFlow(Dim = 8, Layers = 12)] public partial class R { }");
        string generated = Assert.Single(result.AllGeneratedSources);
        Assert.Equal(2, CountOf(generated, "private static class AffineCoupling"));
        Assert.Contains("used by layers 0, 2, 4, 6, 8, 10", generated);
        // wide layers after random permutations differ only in their tables: one class, generic over the tables
        result = GeneratorHarness.Run("using FlowGen;\n[CouplingFlow(Dim = 40, Layers = 6, Hidden = [4], Permutation = PermutationKind.Random)] public partial class W { }");
        generated = Assert.Single(result.AllGeneratedSources);
        Assert.Equal(1, CountOf(generated, "private static class AffineCoupling"));
        Assert.Equal(6, CountOf(generated, "private readonly struct Layer"));
    }

    private static int CountOf(string text, string fragment)
    {
        int count = 0;
        for (int at = text.IndexOf(fragment, StringComparison.Ordinal); at >= 0; at = text.IndexOf(fragment, at + 1, StringComparison.Ordinal)) count++;
        return count;
    }
}
