using System.Collections.Generic;
using System.Linq;
using FlowGen.Generator.Model;
using FlowGen.Generator.Layers;
using FlowGen.Generator.Planning;

namespace FlowGen.Generator.Emit;

/// <summary>
/// Emits the conditioners' dense layers: one kernel per distinct (in, out, activation) shape, shared by every
/// layer with that shape, for the tile path (one sample per lane, a 4 × Lanes register block of outputs) and the
/// single-sample path (lanes = output neurons). Each output is b[j] followed by multiply-adds over i = 0 … in−1 in
/// order, on both paths, so they agree bit for bit.
/// </summary>
internal static class DenseEmitter
{
    /// <summary>Name of the kernel for a dense layer.</summary>
    public static string Name(DensePlan d, Flavor f) =>
        $"Dense{f.Suffix}_{d.In}x{d.Out}_{(d.Activation is { } a ? a.ToString() : "Linear")}{(d.StoresPre ? "_Pre" : "")}";

    /// <summary>A call of the kernel for layer <paramref name="d"/>: weights, input row, output row (and pre-activation row) as references.</summary>
    public static string Call(DensePlan d, Flavor f, string weights, string input, string output, string? pre) =>
        $"{Name(d, f)}({weights}, {input}, {output}{(pre is null ? "" : ", " + pre)});";

    /// <summary>The activation applied to an expression (both flavors).</summary>
    public static string Apply(ActivationKind? activation, string x) => activation switch
    {
        null => x,
        ActivationKind.Tanh => $"Kernel.Tanh({x})",
        ActivationKind.Relu => $"Kernel.Relu({x})",
        ActivationKind.Softplus => $"Kernel.Softplus({x})",
        ActivationKind.Elu => $"Elu({x})",
        ActivationKind.Gelu => $"Gelu({x})",
        _ => $"Silu({x})",
    };

    public static void EmitKernels(CodeWriter w, FlowPlan plan)
    {
        var shapes = CouplingLayerKind.DenseLayers(plan)
            .GroupBy(d => (d.In, d.Out, d.Activation, d.StoresPre))
            .Select(g => g.First())
            .OrderBy(d => d.In).ThenBy(d => d.Out).ThenBy(d => d.Activation.HasValue ? (int)d.Activation.Value : -1).ThenBy(d => d.StoresPre)
            .ToList();
        foreach (DensePlan d in shapes) EmitTile(w, plan, d);
        foreach (DensePlan d in shapes) EmitOne(w, plan, d);
    }

    private static string Describe(DensePlan d) =>
        $"{d.In} → {d.Out}" + (d.Activation is { } a ? ", " + a.ToString().ToLowerInvariant() : ", linear");

    private static void EmitTile(CodeWriter w, FlowPlan plan, DensePlan d)
    {
        var f = Flavor.Tile(plan.T);
        string T = plan.T, V = f.V;
        string phi = d.Activation is { } a ? a.ToString().ToLowerInvariant() : "identity";
        w.Line($"/// <summary>Dense {Describe(d)} on a tile: y[j] = {phi}(b[j] + Σᵢ W[i, j]·u[i]) for every sample. W is input-major at w, b follows it.</summary>");
        w.Open($"private static void {Name(d, f)}(ref {T} w, ref {V} u, ref {V} y{(d.StoresPre ? $", ref {V} pre" : "")})");
        w.Line($"ref {T} b = ref Unsafe.Add(ref w, {d.In * d.Out});");
        w.Line("int j = 0;");
        const int Block = 4;
        if (d.Out >= Block)
        {
            w.Open($"for (; j <= {d.Out - Block}; j += {Block})");
            for (int q = 0; q < Block; q++)
            {
                w.Line($"{V} a{q}0 = new {V}(Unsafe.Add(ref b, j{(q == 0 ? "" : " + " + q)})), a{q}1 = a{q}0;");
            }
            w.Line($"ref {T} wi = ref Unsafe.Add(ref w, j);");
            w.Line($"ref {V} ui = ref u;");
            w.Open($"for (int i = 0; i < {d.In}; i++)");
            w.Line($"{V} u0 = ui, u1 = Unsafe.Add(ref ui, 1);");
            w.Line($"{V} w0 = new {V}(wi), w1 = new {V}(Unsafe.Add(ref wi, 1)), w2 = new {V}(Unsafe.Add(ref wi, 2)), w3 = new {V}(Unsafe.Add(ref wi, 3));");
            for (int q = 0; q < Block; q++)
            {
                w.Line($"a{q}0 = Kernel.Mac(w{q}, u0, a{q}0); a{q}1 = Kernel.Mac(w{q}, u1, a{q}1);");
            }
            w.Line($"wi = ref Unsafe.Add(ref wi, {d.Out});");
            w.Line("ui = ref Unsafe.Add(ref ui, Lanes);");
            w.Close();
            if (d.StoresPre)
            {
                w.Line($"ref {V} pj = ref Unsafe.Add(ref pre, j * Lanes);");
                for (int q = 0; q < Block; q++)
                {
                    w.Line($"Unsafe.Add(ref pj, {2 * q}) = a{q}0; Unsafe.Add(ref pj, {2 * q + 1}) = a{q}1;");
                }
            }
            w.Line($"ref {V} yj = ref Unsafe.Add(ref y, j * Lanes);");
            for (int q = 0; q < Block; q++)
            {
                w.Line($"Unsafe.Add(ref yj, {2 * q}) = {Apply(d.Activation, $"a{q}0")}; Unsafe.Add(ref yj, {2 * q + 1}) = {Apply(d.Activation, $"a{q}1")};");
            }
            w.Close();
        }
        if (d.Out % Block != 0)
        {
            w.Open($"for (; j < {d.Out}; j++)");
            w.Line($"{V} a0 = new {V}(Unsafe.Add(ref b, j)), a1 = a0;");
            w.Line($"ref {T} wi = ref Unsafe.Add(ref w, j);");
            w.Line($"ref {V} ui = ref u;");
            w.Open($"for (int i = 0; i < {d.In}; i++)");
            w.Line($"{V} wv = new {V}(wi);");
            w.Line("a0 = Kernel.Mac(wv, ui, a0); a1 = Kernel.Mac(wv, Unsafe.Add(ref ui, 1), a1);");
            w.Line($"wi = ref Unsafe.Add(ref wi, {d.Out});");
            w.Line("ui = ref Unsafe.Add(ref ui, Lanes);");
            w.Close();
            if (d.StoresPre) w.Line("Unsafe.Add(ref pre, j * Lanes) = a0; Unsafe.Add(ref pre, j * Lanes + 1) = a1;");
            w.Line($"Unsafe.Add(ref y, j * Lanes) = {Apply(d.Activation, "a0")}; Unsafe.Add(ref y, j * Lanes + 1) = {Apply(d.Activation, "a1")};");
            w.Close();
        }
        w.Close();
        w.Line();
    }

    private static void EmitOne(CodeWriter w, FlowPlan plan, DensePlan d)
    {
        var f = Flavor.One(plan.T);
        string T = plan.T, V = $"Vector<{T}>";
        string phi = d.Activation is { } a ? a.ToString().ToLowerInvariant() : "identity";
        w.Line($"/// <summary>Dense {Describe(d)} on one sample: y[j] = {phi}(b[j] + Σᵢ W[i, j]·u[i]), vectorised across outputs j.</summary>");
        w.Open($"private static void {Name(d, f)}(ref {T} w, ref {T} u, ref {T} y{(d.StoresPre ? $", ref {T} pre" : "")})");
        w.Line($"ref {T} b = ref Unsafe.Add(ref w, {d.In * d.Out});");
        w.Line($"int n = {V}.Count;");
        w.Line("int j = 0;");
        // four vectors of outputs at a time
        w.Open($"for (; j <= {d.Out} - 4 * n; j += 4 * n)");
        w.Line($"{V} a0 = Vector.LoadUnsafe(ref b, (nuint)j), a1 = Vector.LoadUnsafe(ref b, (nuint)(j + n)), a2 = Vector.LoadUnsafe(ref b, (nuint)(j + 2 * n)), a3 = Vector.LoadUnsafe(ref b, (nuint)(j + 3 * n));");
        w.Line($"ref {T} wi = ref Unsafe.Add(ref w, j);");
        w.Open($"for (int i = 0; i < {d.In}; i++)");
        w.Line($"{V} ui = new {V}(Unsafe.Add(ref u, i));");
        w.Line("a0 = Kernel.Mac(Vector.LoadUnsafe(ref wi), ui, a0);");
        w.Line("a1 = Kernel.Mac(Vector.LoadUnsafe(ref wi, (nuint)n), ui, a1);");
        w.Line("a2 = Kernel.Mac(Vector.LoadUnsafe(ref wi, (nuint)(2 * n)), ui, a2);");
        w.Line("a3 = Kernel.Mac(Vector.LoadUnsafe(ref wi, (nuint)(3 * n)), ui, a3);");
        w.Line($"wi = ref Unsafe.Add(ref wi, {d.Out});");
        w.Close();
        if (d.StoresPre)
        {
            w.Line("a0.StoreUnsafe(ref pre, (nuint)j); a1.StoreUnsafe(ref pre, (nuint)(j + n)); a2.StoreUnsafe(ref pre, (nuint)(j + 2 * n)); a3.StoreUnsafe(ref pre, (nuint)(j + 3 * n));");
        }
        w.Line($"{Apply(d.Activation, "a0")}.StoreUnsafe(ref y, (nuint)j);");
        w.Line($"{Apply(d.Activation, "a1")}.StoreUnsafe(ref y, (nuint)(j + n));");
        w.Line($"{Apply(d.Activation, "a2")}.StoreUnsafe(ref y, (nuint)(j + 2 * n));");
        w.Line($"{Apply(d.Activation, "a3")}.StoreUnsafe(ref y, (nuint)(j + 3 * n));");
        w.Close();
        // one vector at a time
        w.Open($"for (; j <= {d.Out} - n; j += n)");
        w.Line($"{V} a0 = Vector.LoadUnsafe(ref b, (nuint)j);");
        w.Line($"ref {T} wi = ref Unsafe.Add(ref w, j);");
        w.Open($"for (int i = 0; i < {d.In}; i++)");
        w.Line($"a0 = Kernel.Mac(Vector.LoadUnsafe(ref wi), new {V}(Unsafe.Add(ref u, i)), a0);");
        w.Line($"wi = ref Unsafe.Add(ref wi, {d.Out});");
        w.Close();
        if (d.StoresPre) w.Line("a0.StoreUnsafe(ref pre, (nuint)j);");
        w.Line($"{Apply(d.Activation, "a0")}.StoreUnsafe(ref y, (nuint)j);");
        w.Close();
        // scalar tail
        w.Open($"for (; j < {d.Out}; j++)");
        w.Line($"{T} a0 = Unsafe.Add(ref b, j);");
        w.Line($"ref {T} wi = ref Unsafe.Add(ref w, j);");
        w.Open($"for (int i = 0; i < {d.In}; i++)");
        w.Line("a0 = Kernel.Mac(wi, Unsafe.Add(ref u, i), a0);");
        w.Line($"wi = ref Unsafe.Add(ref wi, {d.Out});");
        w.Close();
        if (d.StoresPre) w.Line("Unsafe.Add(ref pre, j) = a0;");
        w.Line($"Unsafe.Add(ref y, j) = {Apply(d.Activation, "a0")};");
        w.Close();
        w.Close();
        w.Line();
    }

    /// <summary>Helpers for activations the kernel does not provide, in both flavors.</summary>
    public static void EmitActivationHelpers(CodeWriter w, FlowPlan plan)
    {
        var used = new HashSet<ActivationKind>(CouplingLayerKind.DenseLayers(plan).Where(d => d.Activation.HasValue).Select(d => d.Activation!.Value));
        bool isDouble = plan.Model.IsDouble;
        foreach (Flavor f in new[] { Flavor.Tile(plan.T), Flavor.One(plan.T) })
        {
            string V = f.V;
            string zero = f.IsTile ? $"{V}.Zero" : Literals.Of(0, isDouble);
            string Select(string cond, string a, string b) => f.IsTile
                ? $"Vector.ConditionalSelect({cond}, {a}, {b})"
                : $"{cond} ? {a} : {b}";
            string Greater(string a, string b) => f.IsTile ? $"Vector.GreaterThan({a}, {b})" : $"{a} > {b}";
            if (used.Contains(ActivationKind.Elu))
            {
                w.Line("/// <summary>ELU (α = 1): x for x &gt; 0, eˣ − 1 otherwise.</summary>");
                w.Line("[MethodImpl(MethodImplOptions.AggressiveInlining)]");
                w.Line($"private static {V} Elu({V} x) => {Select(Greater("x", zero), "x", "Kernel.Expm1(x)")};");
                w.Line();
            }
            if (used.Contains(ActivationKind.Gelu))
            {
                w.Line("/// <summary>GELU, tanh form: ½x(1 + tanh(√(2/π)·(x + 0.044715x³))).</summary>");
                w.Line("[MethodImpl(MethodImplOptions.AggressiveInlining)]");
                w.Open($"private static {V} Gelu({V} x)");
                w.Line($"{V} inner = {Literals.Of(System.Math.Sqrt(2 / System.Math.PI), isDouble)} * Kernel.Mac({Literals.Of(0.044715, isDouble)} * x * x, x, x);");
                w.Line($"return {Literals.Of(0.5, isDouble)} * x * ({f.Splat(Literals.Of(1, isDouble))} + Kernel.Tanh(inner));");
                w.Close();
                w.Line();
            }
            if (used.Contains(ActivationKind.Silu))
            {
                w.Line("/// <summary>SiLU: x·σ(x).</summary>");
                w.Line("[MethodImpl(MethodImplOptions.AggressiveInlining)]");
                w.Line($"private static {V} Silu({V} x) => x * Kernel.Sigmoid(x);");
                w.Line();
            }
        }
    }
}
