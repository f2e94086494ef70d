using System;
using System.Collections.Generic;
using System.Linq;
using FlowGen.Generator.Planning;

namespace FlowGen.Generator.Emit;

/// <summary>
/// What a layer kind writes its shape class with: the writer, the plan (scalar type, Dim, context) and the constant tables
/// of the class (written after its methods). Everything a shape class contains is relative to the layer (parameter offsets
/// from the layer's base, rows of its own slot), so two layers of the same shape produce the same text and share one class.
/// </summary>
internal sealed class ShapeContext
{
    public ShapeContext(CodeWriter w, FlowPlan plan)
    {
        W = w;
        Plan = plan;
    }

    public CodeWriter W { get; }
    public FlowPlan Plan { get; }
    public bool IsDouble => Plan.IsDouble;
    public string T => Plan.T;
    public string V => Flavor.Vector;
    public SortedDictionary<string, int[]> Tables { get; } = new(StringComparer.Ordinal);

    /// <summary>Above this many items, per-coordinate code is a loop over a constant table instead of unrolled statements.</summary>
    public const int UnrollLimit = 16;

    /// <summary>
    /// Declares a constant table of the layer and returns the expression that reads it. Tables are the layer's data, not its
    /// code: a shape class with tables is generic over a struct that holds one layer's tables (<c>TRows</c>), so layers that
    /// differ only in their tables (e.g. wide layers after different permutations) share the class.
    /// </summary>
    public string Table(string name, IReadOnlyList<int> values)
    {
        Tables[name] = values.ToArray();
        return "TRows." + name;
    }

    public string Lit(double value) => Literals.Of(value, IsDouble);

    /// <summary>
    /// Emits <paramref name="body"/> for each (index, value) of <paramref name="values"/>: unrolled with literal constants for short
    /// lists, otherwise as a loop over a constant table (index variable <paramref name="indexName"/>, value variable <paramref name="valueName"/>).
    /// </summary>
    public void ForEach(string tableName, IReadOnlyList<int> values, string indexName, string valueName, Action<string, string> body)
    {
        if (values.Count <= UnrollLimit)
        {
            for (int i = 0; i < values.Count; i++) body(Literals.Int(i), Literals.Int(values[i]));
            return;
        }
        string table = Table(tableName, values);
        W.Open($"for (int {indexName} = 0; {indexName} < {values.Count}; {indexName}++)");
        W.Line($"int {valueName} = {table}[{indexName}];");
        body(indexName, valueName);
        W.Close();
    }

    /// <summary>A row expression "Name + i" (or "Name" for i = "0"), where i is a literal or an index variable.</summary>
    public static string Offset(string name, string index) => index == "0" ? name : $"{name} + {index}";


    /// <summary>Opens the loop over a tile's lane vectors (tile flavor only).</summary>
    public void OpenLanes(Flavor f)
    {
        if (f.IsTile) W.Open("for (int k = 0; k < Lanes; k++)");
    }

    public void CloseLanes(Flavor f)
    {
        if (f.IsTile) W.Close();
    }

    /// <summary>The signature of a layer's forward or inverse method (parameters at the layer's base).</summary>
    public void OpenMap(string name, Flavor f, string summary)
    {
        W.Line($"/// <summary>{summary}</summary>");
        W.Open($"public static void {name}{f.Suffix}{f.TypeParameters()}(ref {T} p, ref {f.V} x, ref {f.V} c, ref {f.V} s, ref {f.V} ld){f.Constraint}");
    }

    /// <summary>The signature of a layer's backward method: TDirection says which map (forward or inverse) it differentiates.</summary>
    public void OpenBackward(string summary)
    {
        W.Line($"/// <summary>{summary}</summary>");
        W.Open($"public static void Backward<TDirection, TV>(ref {T} p, ref {T} gp, ref {V} c, ref {V} s, ref {V} g, ref {V} gl, ref {V} gc, ref {V} t) where TDirection : struct, IMapDirection{Flavor.VectorConstraint}");
    }
}
