using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using FlowGen.Generator.Model;
using FlowGen.Generator.Planning;

namespace FlowGen.Generator.Emit;

/// <summary>
/// Emits one layer kind's forward and inverse methods, in the tile and single-sample flavors. Every layer method has the
/// signature <c>(ref T p, ref V x, ref V c, ref V s, ref V ld)</c>: parameters, the current point (rows), the context rows,
/// the layer's scratch slot, and the log-determinant accumulator.
/// </summary>
internal abstract class LayerEmitter
{
    public static LayerEmitter? For(LayerModel layer) => layer switch
    {
        CouplingLayer => CouplingEmitter.Instance,
        ActNormLayer => ActNormEmitter.Instance,
        LinearLayer => LinearEmitter.Instance,
        _ => null, // permutations only rename rows
    };

    public abstract void EmitForward(EmitContext e, LayerPlan l, Flavor f);

    public abstract void EmitInverse(EmitContext e, LayerPlan l, Flavor f);

    public static string MethodName(LayerPlan l, string direction, Flavor f) => $"Layer{l.Index}{direction}{f.Suffix}";

    protected static void OpenMethod(EmitContext e, LayerPlan l, string direction, Flavor f, string summary)
    {
        string T = f.T, V = f.V;
        e.W.Line($"/// <summary>Layer {l.Index}, {direction.ToLowerInvariant()}{(f.IsTile ? " on a tile" : " on one sample")}: {summary}</summary>");
        e.W.Open($"private static void {MethodName(l, direction, f)}(ref {T} p, ref {V} x, ref {V} c, ref {V} s, ref {V} ld)");
    }

    /// <summary>Opens the loop over a tile's lane vectors (tile flavor only).</summary>
    protected static void OpenLanes(EmitContext e, Flavor f)
    {
        if (f.IsTile) e.W.Open("for (int k = 0; k < Lanes; k++)");
    }

    protected static void CloseLanes(EmitContext e, Flavor f)
    {
        if (f.IsTile) e.W.Close();
    }
}

/// <summary>State shared by the emitters of one model: the writer, the plan, and the constant tables to emit.</summary>
internal sealed class EmitContext
{
    public EmitContext(CodeWriter w, FlowPlan plan)
    {
        W = w;
        Plan = plan;
    }

    public CodeWriter W { get; }
    public FlowPlan Plan { get; }
    public bool IsDouble => Plan.Model.IsDouble;
    public SortedDictionary<string, int[]> Tables { get; } = new(StringComparer.Ordinal);

    /// <summary>Above this many items, per-coordinate code is a loop over a constant table instead of unrolled statements.</summary>
    public const int UnrollLimit = 16;

    public string Table(string name, IReadOnlyList<int> values)
    {
        Tables[name] = values.ToArray();
        return name;
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
}

/// <summary>Coupling layers: conditioner MLP on the kept coordinates (and context), then the transformer on the others.</summary>
internal sealed class CouplingEmitter : LayerEmitter
{
    public static readonly CouplingEmitter Instance = new();

    public override void EmitForward(EmitContext e, LayerPlan l, Flavor f) => Emit(e, l, f, inverse: false);

    public override void EmitInverse(EmitContext e, LayerPlan l, Flavor f) => Emit(e, l, f, inverse: true);

    private static void Emit(EmitContext e, LayerPlan l, Flavor f, bool inverse)
    {
        CouplingLayer c = l.Coupling!;
        CodeWriter w = e.W;
        var tr = TransformerEmitter.For(c.Kind);
        OpenMethod(e, l, inverse ? "Inverse" : "Forward", f, e.Plan.DescribeLayer(l) + ".");
        EmitConditioner(e, l, f);

        int nb = c.Transformed.Count;
        w.Line($"// {FlowPlan.KindName(c.Kind)} transformer{(inverse ? " inverse" : "")} on coordinates {Join(c.Transformed)} (rows {Join(c.Transformed.Select(i => l.MapBefore[i]))}); o[p·{nb} + b] is parameter p ({tr.ParameterNames}) of the b-th");
        OpenLanes(e, f);
        w.Line($"ref {f.V} o = ref {(f.IsTile ? $"Unsafe.Add(ref s, {l.ORow} * Lanes + k)" : $"Unsafe.Add(ref s, {l.ORow})")};");
        if (f.IsTile) w.Line($"ref {f.V} logDet = ref Unsafe.Add(ref ld, k);");
        string ldName = f.IsTile ? "logDet" : "ld";
        var rows = c.Transformed.Select(i => l.MapBefore[i]).ToList();
        e.ForEach($"L{l.Index}TransformedRows", rows, "b", "r", (b, r) =>
        {
            string Theta(int p)
            {
                string index = b == "b" ? (p == 0 ? "b" : $"{p * nb} + b") : Literals.Int(p * nb + int.Parse(b, CultureInfo.InvariantCulture));
                if (index == "0") return "o";
                bool simple = index.All(char.IsLetterOrDigit);
                return f.IsTile ? $"Unsafe.Add(ref o, {(simple ? index : "(" + index + ")")} * Lanes)" : $"Unsafe.Add(ref o, {index})";
            }
            string x = f.Row("x", r);
            string saveRow = b == "b" ? $"{l.SaveRow} + b" : Literals.Int(l.SaveRow + int.Parse(b, CultureInfo.InvariantCulture));
            // the tile path saves the data-side value x_b (input of the forward map, output of the inverse) for the backward pass
            if (f.IsTile && !inverse) w.Line($"{f.Row("s", saveRow)} = {x};");
            string stride = f.IsTile ? $"{nb} * Lanes" : Literals.Int(nb);
            w.Line(inverse ? tr.Inverse(c, f, e.IsDouble, x, Theta, stride, ldName) : tr.Forward(c, f, e.IsDouble, x, Theta, stride, ldName));
            if (f.IsTile && inverse) w.Line($"{f.Row("s", saveRow)} = {x};");
        });
        CloseLanes(e, f);
        w.Close();
        w.Line();
    }

    /// <summary>Copies the kept coordinates and the context into the slot and runs the dense layers.</summary>
    public static void EmitConditioner(EmitContext e, LayerPlan l, Flavor f)
    {
        CouplingLayer c = l.Coupling!;
        CodeWriter w = e.W;
        w.Line($"// conditioner input u = (x[{Join(c.Kept)}]{(e.Plan.Context > 0 ? ", context" : "")}) at slot row {l.URow}");
        OpenLanes(e, f);
        var keptRows = c.Kept.Select(i => l.MapBefore[i]).ToList();
        e.ForEach($"L{l.Index}KeptRows", keptRows, "a", "r", (a, r) =>
        {
            string dst = a == "a" ? $"{l.URow} + a" : Literals.Int(l.URow + int.Parse(a, CultureInfo.InvariantCulture));
            w.Line($"{f.Row("s", dst)} = {f.Row("x", r)};");
        });
        if (e.Plan.Context > 0)
        {
            int first = l.URow + c.Kept.Count;
            if (e.Plan.Context <= EmitContext.UnrollLimit)
            {
                for (int i = 0; i < e.Plan.Context; i++) w.Line($"{f.Row("s", first + i)} = {f.Row("c", i)};");
            }
            else
            {
                w.Open($"for (int i = 0; i < {e.Plan.Context}; i++)");
                w.Line($"{f.Row("s", $"{first} + i")} = {f.Row("c", "i")};");
                w.Close();
            }
        }
        CloseLanes(e, f);
        w.Line($"// conditioner {string.Join(" → ", l.Dense.Select(d => Literals.Int(d.In)).Concat(new[] { Literals.Int(l.Dense[l.Dense.Length - 1].Out) }))}");
        foreach (DensePlan d in l.Dense) w.Line(DenseEmitter.Call(d, f, "p", "s"));
    }

    public static string Join(IEnumerable<int> values) => string.Join(" ", values.Select(Literals.Int));
}

/// <summary>ActNorm: y_i = x_i·exp(ℓ_i) + b_i.</summary>
internal sealed class ActNormEmitter : LayerEmitter
{
    public static readonly ActNormEmitter Instance = new();

    public override void EmitForward(EmitContext e, LayerPlan l, Flavor f)
    {
        CodeWriter w = e.W;
        int d = e.Plan.Dim;
        OpenMethod(e, l, "Forward", f, $"ActNorm, y_i = x_i·exp(ℓ_i) + b_i; ℓ at [{l.ParamOffset}, {l.ParamOffset + d}), b at [{l.ParamOffset + d}, {l.ParamOffset + 2 * d}).");
        w.Open($"for (int i = 0; i < {d}; i++)");
        w.Line($"{f.T} logScale = Unsafe.Add(ref p, {l.ParamOffset} + i);");
        w.Line($"{f.V} scale = {f.Splat("Kernel.Exp(logScale)")}, shift = {f.Splat($"Unsafe.Add(ref p, {l.ParamOffset + d} + i)")};");
        w.Line($"int r = {e.Table($"L{l.Index}Rows", l.MapBefore)}[i];");
        OpenLanes(e, f);
        if (f.IsTile) w.Line($"{f.Row("s", $"{l.SaveRow} + i")} = {f.Row("x", "r")};");
        w.Line($"{f.Row("x", "r")} = Kernel.Mac({f.Row("x", "r")}, scale, shift);");
        w.Line($"{(f.IsTile ? "Unsafe.Add(ref ld, k)" : "ld")} += {f.Splat("logScale")};");
        CloseLanes(e, f);
        w.Close();
        w.Close();
        w.Line();
    }

    public override void EmitInverse(EmitContext e, LayerPlan l, Flavor f)
    {
        CodeWriter w = e.W;
        int d = e.Plan.Dim;
        OpenMethod(e, l, "Inverse", f, "ActNorm inverse, x_i = (y_i − b_i)·exp(−ℓ_i).");
        w.Open($"for (int i = 0; i < {d}; i++)");
        w.Line($"{f.T} logScale = Unsafe.Add(ref p, {l.ParamOffset} + i);");
        w.Line($"{f.V} inverseScale = {f.Splat("Kernel.Exp(-logScale)")}, shift = {f.Splat($"Unsafe.Add(ref p, {l.ParamOffset + d} + i)")};");
        w.Line($"int r = {e.Table($"L{l.Index}Rows", l.MapBefore)}[i];");
        OpenLanes(e, f);
        w.Line($"{f.Row("x", "r")} = ({f.Row("x", "r")} - shift) * inverseScale;");
        if (f.IsTile) w.Line($"{f.Row("s", $"{l.SaveRow} + i")} = {f.Row("x", "r")};");
        w.Line($"{(f.IsTile ? "Unsafe.Add(ref ld, k)" : "ld")} -= {f.Splat("logScale")};");
        CloseLanes(e, f);
        w.Close();
        w.Close();
        w.Line();
    }
}

/// <summary>Invertible linear layer y = P·L·(U + diag(exp ℓ))·x + bias, computed in place.</summary>
internal sealed class LinearEmitter : LayerEmitter
{
    public static readonly LinearEmitter Instance = new();

    private static (int lower, int upper, int logDiag, int bias) Offsets(LayerPlan l, int d)
    {
        int tri = d * (d - 1) / 2;
        return (l.ParamOffset, l.ParamOffset + tri, l.ParamOffset + 2 * tri, l.ParamOffset + 2 * tri + d);
    }

    public override void EmitForward(EmitContext e, LayerPlan l, Flavor f)
    {
        CodeWriter w = e.W;
        int d = e.Plan.Dim;
        var (lower, upper, logDiag, bias) = Offsets(l, d);
        string rows = e.Table($"L{l.Index}Rows", l.MapBefore), after = e.Table($"L{l.Index}RowsAfter", l.MapAfter);
        string ldRef = f.IsTile ? "Unsafe.Add(ref ld, k)" : "ld";
        OpenMethod(e, l, "Forward", f, $"invertible linear, y = P·L·(U + diag(exp ℓ))·x + bias; L at {lower}, U at {upper}, ℓ at {logDiag}, bias at {bias}.");
        if (f.IsTile)
        {
            w.Line("// save x for the backward pass");
            w.Open($"for (int i = 0; i < {d}; i++)");
            OpenLanes(e, f);
            w.Line($"{f.Row("s", $"{l.SaveRow} + i")} = {f.Row("x", $"{rows}[i]")};");
            CloseLanes(e, f);
            w.Close();
        }
        w.Line("// v_i = exp(ℓ_i)·x_i + Σ_{j>i} U_ij·x_j, in place for ascending i");
        w.Open($"for (int i = 0; i < {d}; i++)");
        w.Line($"{f.T} logScale = Unsafe.Add(ref p, {logDiag} + i);");
        w.Line($"{f.V} scale = {f.Splat("Kernel.Exp(logScale)")};");
        w.Line($"int r = {rows}[i], u = {upper} + i * {d} - i * (i + 1) / 2 - i - 1;");
        OpenLanes(e, f);
        w.Line($"{f.V} acc = scale * {f.Row("x", "r")};");
        w.Line($"for (int j = i + 1; j < {d}; j++) acc = Kernel.Mac({f.Splat("Unsafe.Add(ref p, u + j)")}, {f.Row("x", $"{rows}[j]")}, acc);");
        w.Line($"{f.Row("x", "r")} = acc;");
        w.Line($"{ldRef} += {f.Splat("logScale")};");
        CloseLanes(e, f);
        w.Close();
        if (f.IsTile)
        {
            w.Line("// save v for the backward pass");
            w.Open($"for (int i = 0; i < {d}; i++)");
            OpenLanes(e, f);
            w.Line($"{f.Row("s", $"{l.SaveRow + d} + i")} = {f.Row("x", $"{rows}[i]")};");
            CloseLanes(e, f);
            w.Close();
        }
        w.Line("// w_i = v_i + Σ_{j<i} L_ij·v_j, in place for descending i");
        w.Open($"for (int i = {d - 1}; i >= 1; i--)");
        w.Line($"int r = {rows}[i], l = {lower} + i * (i - 1) / 2;");
        OpenLanes(e, f);
        w.Line($"{f.V} acc = {f.Row("x", "r")};");
        w.Line($"for (int j = 0; j < i; j++) acc = Kernel.Mac({f.Splat("Unsafe.Add(ref p, l + j)")}, {f.Row("x", $"{rows}[j]")}, acc);");
        w.Line($"{f.Row("x", "r")} = acc;");
        CloseLanes(e, f);
        w.Close();
        w.Line("// y_i = w_π(i) + bias_i: the permutation only renames rows; y_i lives in row RowsAfter[i]");
        w.Open($"for (int i = 0; i < {d}; i++)");
        w.Line($"{f.V} shift = {f.Splat($"Unsafe.Add(ref p, {bias} + i)")};");
        w.Line($"int r = {after}[i];");
        OpenLanes(e, f);
        w.Line($"{f.Row("x", "r")} += shift;");
        CloseLanes(e, f);
        w.Close();
        w.Close();
        w.Line();
    }

    public override void EmitInverse(EmitContext e, LayerPlan l, Flavor f)
    {
        CodeWriter w = e.W;
        int d = e.Plan.Dim;
        var (lower, upper, logDiag, bias) = Offsets(l, d);
        string rows = e.Table($"L{l.Index}Rows", l.MapBefore), after = e.Table($"L{l.Index}RowsAfter", l.MapAfter);
        string ldRef = f.IsTile ? "Unsafe.Add(ref ld, k)" : "ld";
        OpenMethod(e, l, "Inverse", f, "invertible linear inverse: subtract the bias, then solve L·v = w and (U + diag(exp ℓ))·x = v.");
        w.Open($"for (int i = 0; i < {d}; i++)");
        w.Line($"{f.V} shift = {f.Splat($"Unsafe.Add(ref p, {bias} + i)")};");
        w.Line($"int r = {after}[i];");
        OpenLanes(e, f);
        w.Line($"{f.Row("x", "r")} -= shift;");
        CloseLanes(e, f);
        w.Close();
        w.Line("// v_i = w_i − Σ_{j<i} L_ij·v_j for ascending i");
        w.Open($"for (int i = 1; i < {d}; i++)");
        w.Line($"int r = {rows}[i], l = {lower} + i * (i - 1) / 2;");
        OpenLanes(e, f);
        w.Line($"{f.V} acc = {f.Row("x", "r")};");
        w.Line($"for (int j = 0; j < i; j++) acc = Kernel.Mac({f.Splat("-Unsafe.Add(ref p, l + j)")}, {f.Row("x", $"{rows}[j]")}, acc);");
        w.Line($"{f.Row("x", "r")} = acc;");
        CloseLanes(e, f);
        w.Close();
        if (f.IsTile)
        {
            w.Line("// save v for the backward pass");
            w.Open($"for (int i = 0; i < {d}; i++)");
            OpenLanes(e, f);
            w.Line($"{f.Row("s", $"{l.SaveRow + d} + i")} = {f.Row("x", $"{rows}[i]")};");
            CloseLanes(e, f);
            w.Close();
        }
        w.Line("// x_i = (v_i − Σ_{j>i} U_ij·x_j)·exp(−ℓ_i) for descending i");
        w.Open($"for (int i = {d - 1}; i >= 0; i--)");
        w.Line($"{f.T} logScale = Unsafe.Add(ref p, {logDiag} + i);");
        w.Line($"{f.V} inverseScale = {f.Splat("Kernel.Exp(-logScale)")};");
        w.Line($"int r = {rows}[i], u = {upper} + i * {d} - i * (i + 1) / 2 - i - 1;");
        OpenLanes(e, f);
        w.Line($"{f.V} acc = {f.Row("x", "r")};");
        w.Line($"for (int j = i + 1; j < {d}; j++) acc = Kernel.Mac({f.Splat("-Unsafe.Add(ref p, u + j)")}, {f.Row("x", $"{rows}[j]")}, acc);");
        w.Line($"{f.Row("x", "r")} = acc * inverseScale;");
        w.Line($"{ldRef} -= {f.Splat("logScale")};");
        CloseLanes(e, f);
        w.Close();
        if (f.IsTile)
        {
            w.Line("// save x for the backward pass");
            w.Open($"for (int i = 0; i < {d}; i++)");
            OpenLanes(e, f);
            w.Line($"{f.Row("s", $"{l.SaveRow} + i")} = {f.Row("x", $"{rows}[i]")};");
            CloseLanes(e, f);
            w.Close();
        }
        w.Close();
        w.Line();
    }
}
