using System.Linq;
using FlowGen.Generator.Diagnostics;
using FlowGen.Generator.Emit;
using FlowGen.Generator.Model;
using FlowGen.Generator.Parsing;
using FlowGen.Generator.Planning;
using FlowGen.Generator.Spec;

namespace FlowGen.Generator.Layers;

/// <summary>An LU-decomposed invertible linear layer with fixed permutation P (identity when not <paramref name="Permuted"/>).</summary>
internal sealed record LinearLayer(EquatableArray<int> Permutation, bool Permuted, int Seed) : LayerModel
{
    public override LayerKind Kind => InvertibleLinearLayerKind.Instance;
}

/// <summary>The layout of an invertible linear layer: L, U, ℓ and the bias (relative offsets), and the saved rows.</summary>
internal sealed class LinearLayout
{
    public int Lower, Upper, LogDiag, Bias, Saved, SavedV;
}

/// <summary>
/// Invertible linear layer (Glow's LU form; docs/model.md §4): y = P·L·(U + diag(exp ℓ))·x + bias, computed in place. The
/// permutation only renames rows.
/// </summary>
internal sealed class InvertibleLinearLayerKind : LayerKind
{
    public static readonly InvertibleLinearLayerKind Instance = new();

    public override string SpecName => "invertible_linear";

    public override string AttributeName => "InvertibleLinearAttribute";

    /// <summary>The layer with a seeded random P (docs/model.md §4), as in a uniform stack with InvertibleLinear = true.</summary>
    public static LinearLayer Permuted(int dim, int seed) =>
        new(PermutationLayerKind.RandomPermutation(dim, seed).ToEquatableArray(), true, seed);

    /// <summary>The layer with P = I (W = L·U), as [InvertibleLinear(Permute = false)] or a uniform stack with InvertibleLinearPermute = false.</summary>
    public static LinearLayer Unpermuted(int dim) => new(Enumerable.Range(0, dim).ToEquatableArray(), false, 0);

    /// <summary>[InvertibleLinear(Seed = s, Permute = b)]: Seed applies only with Permute = true.</summary>
    public override LayerModel? Read(LayerAttributeContext c)
    {
        AttributeReader r = c.Options;
        bool permute = r.IsSet("Permute") ? r.Bool("Permute") : c.Runtime.Constant(AttributeName, "DefaultPermute", true);
        if (!permute && r.IsSet("Seed"))
        {
            c.Report(DiagnosticDescriptors.ConflictingOptions, r.Location("Seed"), "Seed applies only to a permuted invertible linear layer (Permute = true)");
        }
        if (c.Dim is not int dim) return null;
        return permute
            ? Permuted(dim, r.IsSet("Seed") ? r.Int("Seed", 0) : c.DerivedSeed)
            : Unpermuted(dim);
    }

    public override int[] MapAfter(LayerModel layer, int[] mapBefore)
    {
        var lin = (LinearLayer)layer;
        var after = new int[mapBefore.Length];
        for (int i = 0; i < after.Length; i++) after[i] = mapBefore[lin.Permutation[i]];
        return after;
    }

    public override object Plan(LayerModel layer, LayoutBuilder b)
    {
        int d = b.Dim, tri = d * (d - 1) / 2;
        return new LinearLayout
        {
            Lower = b.Tensor("lower", new[] { tri }),
            Upper = b.Tensor("upper", new[] { tri }),
            LogDiag = b.Tensor("log_diag", new[] { d }),
            Bias = b.Tensor("bias", new[] { d }),
            Saved = b.Slot(d),   // the input x
            SavedV = b.Slot(d),  // the intermediate v
        };
    }

    public override string ShapeStem(LayerModel layer) => "InvertibleLinear";

    public override bool UsesAddLanes => true;

    public override string Title(LayerModel layer) => "Invertible linear layer";

    public override string Describe(LayerPlan l)
    {
        var lin = (LinearLayer)l.Layer;
        return "invertible linear (LU), P = " + (!lin.Permuted
            ? "identity"
            : "[" + Literals.List(lin.Permutation) + "] (seed " + Literals.Int(lin.Seed) + ")");
    }

    public override string Formula(LayerPlan l) => "y = P·L·(U + diag(exp ℓ))·x + bias, log-det += Σ ℓ_i";

    public override void WriteSpec(LayerModel layer, JsonWriter j)
    {
        var lin = (LinearLayer)layer;
        j.Name("permutation").Ints(lin.Permutation);
    }

    public override void EmitShape(ShapeContext e, LayerPlan l)
    {
        var a = l.LayoutAs<LinearLayout>();
        CodeWriter w = e.W;
        int d = e.Plan.Dim;
        string rows = e.Table("Rows", l.MapBefore), after = e.Table("RowsAfter", l.MapAfter);
        w.Line($"public const int Lower = {a.Lower}, Upper = {a.Upper}, LogDiag = {a.LogDiag}, Bias = {a.Bias}; // L (row-major strict lower), U (strict upper), ℓ, bias, relative to the layer's parameters");
        w.Line($"public const int Saved = {a.Saved}, SavedV = {a.SavedV}; // x and v = (U + diag(exp ℓ))·x, saved for the backward pass");
        w.Line($"public const int SlotRows = {l.SlotRows};");
        w.Line();
        foreach (Flavor f in new[] { Flavor.Tile(e.T), Flavor.One(e.T) })
        {
            string ldRef = f.IsTile ? "Unsafe.Add(ref ld, k)" : "ld";
            e.OpenMap("Forward", f, $"Forward{(f.IsTile ? " on a tile" : " on one sample")}: y = P·L·(U + diag(exp ℓ))·x + bias, log-det += Σ ℓ.");
        if (f.IsTile)
        {
            w.Line("// save x for the backward pass");
            w.Open($"for (int i = 0; i < {d}; i++)");
            e.OpenLanes(f);
            w.Line($"{f.Row("s", "Saved + i")} = {f.Row("x", $"{rows}[i]")};");
            e.CloseLanes(f);
            w.Close();
        }
        w.Line("// v_i = exp(ℓ_i)·x_i + Σ_{j>i} U_ij·x_j, in place for ascending i");
        w.Open($"for (int i = 0; i < {d}; i++)");
        w.Line($"{f.T} logScale = Unsafe.Add(ref p, LogDiag + i);");
        w.Line($"{f.V} scale = {f.Splat("Kernel.Exp(logScale)")};");
        w.Line($"int r = {rows}[i], u = Upper + i * {d} - i * (i + 1) / 2 - i - 1;");
        e.OpenLanes(f);
        w.Line($"{f.V} acc = scale * {f.Row("x", "r")};");
        w.Line($"for (int j = i + 1; j < {d}; j++) acc = Kernel.Mac({f.Splat("Unsafe.Add(ref p, u + j)")}, {f.Row("x", $"{rows}[j]")}, acc);");
        w.Line($"{f.Row("x", "r")} = acc;");
        w.Line($"{ldRef} += {f.Splat("logScale")};");
        e.CloseLanes(f);
        w.Close();
        if (f.IsTile)
        {
            w.Line("// save v for the backward pass");
            w.Open($"for (int i = 0; i < {d}; i++)");
            e.OpenLanes(f);
            w.Line($"{f.Row("s", "SavedV + i")} = {f.Row("x", $"{rows}[i]")};");
            e.CloseLanes(f);
            w.Close();
        }
        w.Line("// w_i = v_i + Σ_{j<i} L_ij·v_j, in place for descending i");
        w.Open($"for (int i = {d - 1}; i >= 1; i--)");
        w.Line($"int r = {rows}[i], l = Lower + i * (i - 1) / 2;");
        e.OpenLanes(f);
        w.Line($"{f.V} acc = {f.Row("x", "r")};");
        w.Line($"for (int j = 0; j < i; j++) acc = Kernel.Mac({f.Splat("Unsafe.Add(ref p, l + j)")}, {f.Row("x", $"{rows}[j]")}, acc);");
        w.Line($"{f.Row("x", "r")} = acc;");
        e.CloseLanes(f);
        w.Close();
        w.Line("// y_i = w_π(i) + bias_i: the permutation only renames rows; y_i lives in row RowsAfter[i]");
        w.Open($"for (int i = 0; i < {d}; i++)");
        w.Line($"{f.V} shift = {f.Splat($"Unsafe.Add(ref p, Bias + i)")};");
        w.Line($"int r = {after}[i];");
        e.OpenLanes(f);
        w.Line($"{f.Row("x", "r")} += shift;");
        e.CloseLanes(f);
        w.Close();
        w.Close();
        w.Line();
            e.OpenMap("Inverse", f, $"Inverse{(f.IsTile ? " on a tile" : " on one sample")}: subtract the bias, then solve L·v = w and (U + diag(exp ℓ))·x = v; log-det −= Σ ℓ.");
        w.Open($"for (int i = 0; i < {d}; i++)");
        w.Line($"{f.V} shift = {f.Splat($"Unsafe.Add(ref p, Bias + i)")};");
        w.Line($"int r = {after}[i];");
        e.OpenLanes(f);
        w.Line($"{f.Row("x", "r")} -= shift;");
        e.CloseLanes(f);
        w.Close();
        w.Line("// v_i = w_i − Σ_{j<i} L_ij·v_j for ascending i");
        w.Open($"for (int i = 1; i < {d}; i++)");
        w.Line($"int r = {rows}[i], l = Lower + i * (i - 1) / 2;");
        e.OpenLanes(f);
        w.Line($"{f.V} acc = {f.Row("x", "r")};");
        w.Line($"for (int j = 0; j < i; j++) acc = Kernel.Mac({f.Splat("-Unsafe.Add(ref p, l + j)")}, {f.Row("x", $"{rows}[j]")}, acc);");
        w.Line($"{f.Row("x", "r")} = acc;");
        e.CloseLanes(f);
        w.Close();
        if (f.IsTile)
        {
            w.Line("// save v for the backward pass");
            w.Open($"for (int i = 0; i < {d}; i++)");
            e.OpenLanes(f);
            w.Line($"{f.Row("s", "SavedV + i")} = {f.Row("x", $"{rows}[i]")};");
            e.CloseLanes(f);
            w.Close();
        }
        w.Line("// x_i = (v_i − Σ_{j>i} U_ij·x_j)·exp(−ℓ_i) for descending i");
        w.Open($"for (int i = {d - 1}; i >= 0; i--)");
        w.Line($"{f.T} logScale = Unsafe.Add(ref p, LogDiag + i);");
        w.Line($"{f.V} inverseScale = {f.Splat("Kernel.Exp(-logScale)")};");
        w.Line($"int r = {rows}[i], u = Upper + i * {d} - i * (i + 1) / 2 - i - 1;");
        e.OpenLanes(f);
        w.Line($"{f.V} acc = {f.Row("x", "r")};");
        w.Line($"for (int j = i + 1; j < {d}; j++) acc = Kernel.Mac({f.Splat("-Unsafe.Add(ref p, u + j)")}, {f.Row("x", $"{rows}[j]")}, acc);");
        w.Line($"{f.Row("x", "r")} = acc * inverseScale;");
        w.Line($"{ldRef} -= {f.Splat("logScale")};");
        e.CloseLanes(f);
        w.Close();
        if (f.IsTile)
        {
            w.Line("// save x for the backward pass");
            w.Open($"for (int i = 0; i < {d}; i++)");
            e.OpenLanes(f);
            w.Line($"{f.Row("s", "Saved + i")} = {f.Row("x", $"{rows}[i]")};");
            e.CloseLanes(f);
            w.Close();
        }
        w.Close();
        w.Line();
        }

        string V = e.V;
        string X(string i) => $"Unsafe.Add(ref s, (Saved + {i}) * Lanes + k)";
        string Vv(string i) => $"Unsafe.Add(ref s, (SavedV + {i}) * Lanes + k)";
        string G(string i) => $"Unsafe.Add(ref g, {rows}[{i}] * Lanes + k)";
        e.OpenBackward("Backward on a tile. Forward map: y = P·(w + bias), w = L·v, v = (U + diag(exp ℓ))·x. Inverse map: x = A⁻¹·v, A = U + diag(exp ℓ); v = L⁻¹·w; w = Pᵀ·(y − bias). x and v are saved.");
        w.Open("if (TDirection.IsInverse)");
            w.Line("// parameter gradients are added one sample at a time, in sample order (AddLanes), so they do not depend on the SIMD width");
            w.Line("// gv = A⁻ᵀ·gx: ascending i, gv_i = (gx_i − Σ_{j<i} U_ji·gv_j)·exp(−ℓ_i)");
            w.Open($"for (int i = 0; i < {d}; i++)");
            w.Line($"{V} inverseScale = TV.Create(Kernel.Exp(-Unsafe.Add(ref p, LogDiag + i)));");
            w.Open("for (int k = 0; k < Lanes; k++)");
            w.Line($"{V} acc = {G("i")};");
            w.Line($"for (int j = 0; j < i; j++) acc = Kernel.Mac(TV.Create(-Unsafe.Add(ref p, Upper + j * {d} - j * (j + 1) / 2 - j - 1 + i)), {G("j")}, acc);");
            w.Line($"{G("i")} = acc * inverseScale;");
            w.Close();
            w.Close();
            w.Line("// gA = −gv·xᵀ on A's entries: gU_ij −= gv_i·x_j (i < j), gℓ_i −= gv_i·x_i·exp(ℓ_i) + gl");
            w.Open($"for (int i = 0; i < {d}; i++)");
            w.Line($"{V} diagScale = TV.Create(Kernel.Exp(Unsafe.Add(ref p, LogDiag + i)));");
            w.Line($"for (int k = 0; k < Lanes; k++) AddLanes(ref Unsafe.Add(ref gp, LogDiag + i), -Kernel.Mac({G("i")} * {X("i")}, diagScale, Unsafe.Add(ref gl, k)));");
            w.Open($"for (int j = i + 1; j < {d}; j++)");
            w.Line($"for (int k = 0; k < Lanes; k++) AddLanes(ref Unsafe.Add(ref gp, Upper + i * {d} - i * (i + 1) / 2 - i - 1 + j), -({G("i")} * {X("j")}));");
            w.Close();
            w.Close();
            w.Line("// gw = L⁻ᵀ·gv: descending i, gw_i = gv_i − Σ_{j>i} L_ji·gw_j; then gL_ij −= gw_i·v_j (i > j)");
            w.Open($"for (int i = {d - 1}; i >= 0; i--)");
            w.Open("for (int k = 0; k < Lanes; k++)");
            w.Line($"{V} acc = {G("i")};");
            w.Line($"for (int j = i + 1; j < {d}; j++) acc = Kernel.Mac(TV.Create(-Unsafe.Add(ref p, Lower + j * (j - 1) / 2 + i)), {G("j")}, acc);");
            w.Line($"{G("i")} = acc;");
            w.Close();
            w.Close();
            w.Open($"for (int i = 1; i < {d}; i++)");
            w.Open("for (int j = 0; j < i; j++)");
            w.Line($"for (int k = 0; k < Lanes; k++) AddLanes(ref Unsafe.Add(ref gp, Lower + i * (i - 1) / 2 + j), -({G("i")} * {Vv("j")}));");
            w.Close();
            w.Close();
            w.Line("// w = Pᵀ·(y − bias): the rows of gw are the rows of gy; gbias_i −= gy_i");
            w.Open($"for (int i = 0; i < {d}; i++)");
            w.Line($"for (int k = 0; k < Lanes; k++) AddLanes(ref Unsafe.Add(ref gp, Bias + i), -Unsafe.Add(ref g, {after}[i] * Lanes + k));");
            w.Close();
        w.Close();
        w.Open("else");
            w.Line("// parameter gradients are added one sample at a time, in sample order (AddLanes), so they do not depend on the SIMD width");
            w.Line("// bias: y_i = w_π(i) + bias_i lives in row RowsAfter[i]; the gradient rows of w are those rows");
            w.Open($"for (int i = 0; i < {d}; i++)");
            w.Line($"for (int k = 0; k < Lanes; k++) AddLanes(ref Unsafe.Add(ref gp, Bias + i), Unsafe.Add(ref g, {after}[i] * Lanes + k));");
            w.Close();
            w.Line("// w = L·v: gL_ij += gw_i·v_j (i > j); gv_j = gw_j + Σ_{i>j} L_ij·gw_i, in place for ascending j");
            w.Open($"for (int i = 1; i < {d}; i++)");
            w.Open("for (int j = 0; j < i; j++)");
            w.Line($"for (int k = 0; k < Lanes; k++) AddLanes(ref Unsafe.Add(ref gp, Lower + i * (i - 1) / 2 + j), {G("i")} * {Vv("j")});");
            w.Close();
            w.Close();
            w.Open($"for (int j = 0; j < {d}; j++)");
            w.Open("for (int k = 0; k < Lanes; k++)");
            w.Line($"{V} acc = {G("j")};");
            w.Line($"for (int i = j + 1; i < {d}; i++) acc = Kernel.Mac(TV.Create(Unsafe.Add(ref p, Lower + i * (i - 1) / 2 + j)), {G("i")}, acc);");
            w.Line($"{G("j")} = acc;");
            w.Close();
            w.Close();
            w.Line("// v = (U + diag(exp ℓ))·x: gU_ij += gv_i·x_j (i < j); gℓ_i += gv_i·exp(ℓ_i)·x_i + gl; gx_j = exp(ℓ_j)·gv_j + Σ_{i<j} U_ij·gv_i, descending j");
            w.Open($"for (int i = 0; i < {d}; i++)");
            w.Line($"{V} diagScale = TV.Create(Kernel.Exp(Unsafe.Add(ref p, LogDiag + i)));");
            w.Line($"for (int k = 0; k < Lanes; k++) AddLanes(ref Unsafe.Add(ref gp, LogDiag + i), Kernel.Mac({G("i")} * {X("i")}, diagScale, Unsafe.Add(ref gl, k)));");
            w.Open($"for (int j = i + 1; j < {d}; j++)");
            w.Line($"for (int k = 0; k < Lanes; k++) AddLanes(ref Unsafe.Add(ref gp, Upper + i * {d} - i * (i + 1) / 2 - i - 1 + j), {G("i")} * {X("j")});");
            w.Close();
            w.Close();
            w.Open($"for (int j = {d - 1}; j >= 0; j--)");
            w.Line($"{V} scale = TV.Create(Kernel.Exp(Unsafe.Add(ref p, LogDiag + j)));");
            w.Open("for (int k = 0; k < Lanes; k++)");
            w.Line($"{V} acc = scale * {G("j")};");
            w.Line($"for (int i = 0; i < j; i++) acc = Kernel.Mac(TV.Create(Unsafe.Add(ref p, Upper + i * {d} - i * (i + 1) / 2 - i - 1 + j)), {G("i")}, acc);");
            w.Line($"{G("j")} = acc;");
            w.Close();
            w.Close();
        w.Close();
        w.Close();
        w.Line();
    }
}
