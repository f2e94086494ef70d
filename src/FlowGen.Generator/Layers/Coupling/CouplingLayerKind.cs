using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using FlowGen.Generator.Emit;
using FlowGen.Generator.Model;
using FlowGen.Generator.Planning;
using FlowGen.Generator.Spec;

namespace FlowGen.Generator.Layers;

/// <summary>One dense layer of a conditioner: offsets relative to the layer's parameter base, rows of the layer's slot.</summary>
internal sealed class DensePlan
{
    public int Index;             // position in the conditioner (0 = first)
    public int In, Out;
    public int Weight;            // relative parameter offset of W (input-major [In, Out]); the bias follows at Weight + In·Out
    public ActivationKind? Activation; // null for the linear output layer
    public int InRow;             // slot row of the input
    public int OutRow;            // slot row of the (post-activation) output
    public int PreRow = -1;       // slot row of the pre-activation, when the backward pass needs it
    public int GradOutRow;        // backward scratch row of the gradient with respect to the output
    public int BiasOffset => Weight + In * Out;
    public bool StoresPre => PreRow >= 0;
    public bool IsLast => Activation is null;

    /// <summary>Names of the constants for this layer's rows and weights in the shape class.</summary>
    public string OutName => IsLast ? "Theta" : $"Hidden{Index}";
    public string PreName => $"Pre{Index}";
    public string GradOutName => IsLast ? "GradTheta" : $"GradHidden{Index}";
    public string WeightName => $"Dense{Index}";
}

/// <summary>The layout of a coupling layer (docs/model.md §5), every number relative to the layer.</summary>
internal sealed class CouplingLayout
{
    public DensePlan[] Dense = Array.Empty<DensePlan>();
    public int P;                 // transformer parameters per transformed coordinate
    public double[] IdentityBias = Array.Empty<double>(); // per parameter p (length P)
    public int InputRow;          // conditioner input u = (x_A, context)
    public int InputRows;         // |A| + Context
    public int SavedRow;          // the data-side x_B, saved for the backward pass (|B| rows)
    public int GradInputRow;      // backward scratch: ∂L/∂u (|A| + Context rows)
    public int TransposeRow;      // backward scratch: a sample-major copy of one dense layer's output gradient
}

/// <summary>
/// Coupling layers (docs/model.md §2): y_A = x_A, y_B = τ(x_B; θ(x_A, context)) with θ from the conditioner MLP. The
/// mask and the conditioner are the same for every coupling kind; the transformer τ is the kind's (<see cref="TransformerKind"/>).
/// </summary>
internal sealed class CouplingLayerKind : LayerKind
{
    public static readonly CouplingLayerKind Instance = new();

    public override string SpecName => "coupling";

    /// <summary>Every dense layer of every coupling of the model.</summary>
    public static IEnumerable<DensePlan> DenseLayers(FlowPlan plan) =>
        plan.Layers.Where(l => l.Layout is CouplingLayout).SelectMany(l => l.LayoutAs<CouplingLayout>().Dense);

    public static bool NeedsPreActivation(ActivationKind a) => a is ActivationKind.Softplus or ActivationKind.Gelu or ActivationKind.Silu;

    public override object Plan(LayerModel layer, LayoutBuilder b)
    {
        var c = (CouplingLayer)layer;
        TransformerKind tr = c.Transformer.Kind;
        var layout = new CouplingLayout { P = tr.ParametersPerCoordinate(c.Transformer), IdentityBias = tr.IdentityParameters(c.Transformer) };
        layout.InputRows = c.Kept.Count + b.Context;
        layout.InputRow = b.Slot(layout.InputRows);
        var dense = new List<DensePlan>();
        int input = layout.InputRows, inRow = layout.InputRow;
        for (int k = 0; k <= c.Hidden.Count; k++)
        {
            bool last = k == c.Hidden.Count;
            int width = last ? layout.P * c.Transformed.Count : c.Hidden[k];
            var d = new DensePlan { Index = k, In = input, Out = width, InRow = inRow, Activation = last ? null : c.Activation };
            if (!last && NeedsPreActivation(c.Activation)) d.PreRow = b.Slot(width);
            d.OutRow = b.Slot(width);
            d.Weight = b.Tensor($"conditioner.{k}.weight", new[] { width, input }, transposed: true);
            b.Tensor($"conditioner.{k}.bias", new[] { width });
            dense.Add(d);
            input = width;
            inRow = d.OutRow;
        }
        layout.Dense = dense.ToArray();
        layout.SavedRow = b.Slot(c.Transformed.Count);
        for (int k = dense.Count - 1; k >= 0; k--) dense[k].GradOutRow = b.Back(dense[k].Out);
        layout.GradInputRow = b.Back(layout.InputRows);
        layout.TransposeRow = b.Back(dense.Max(d => d.Out));
        return layout;
    }

    public override string ShapeStem(LayerModel layer) => ((CouplingLayer)layer).Transformer.Kind.Name + "Coupling";

    public override string Title(LayerModel layer)
    {
        string name = ((CouplingLayer)layer).Transformer.Kind.DisplayName;
        return char.ToUpperInvariant(name[0]) + name.Substring(1) + " coupling";
    }

    public override string Describe(LayerPlan l)
    {
        var c = (CouplingLayer)l.Layer;
        CouplingLayout layout = l.LayoutAs<CouplingLayout>();
        return c.Transformer.Kind.DisplayName + " coupling " + Literals.Int(c.Ordinal)
            + ", keep [" + Literals.List(c.Kept) + "] transform [" + Literals.List(c.Transformed) + "] (" + c.MaskDescription + ")"
            + ", conditioner " + string.Join(" -> ", layout.Dense.Select(d => Literals.Int(d.In)).Concat(new[] { Literals.Int(layout.Dense[layout.Dense.Length - 1].Out) }))
            + (c.Hidden.Count > 0 ? " " + c.Activation.ToString().ToLowerInvariant() : "")
            + c.Transformer.Kind.DescribeOptions(c.Transformer);
    }

    public override string Formula(LayerPlan l)
    {
        var c = (CouplingLayer)l.Layer;
        bool context = l.LayoutAs<CouplingLayout>().InputRows > c.Kept.Count;
        return $"y[B] = τ(x[B]; θ(x[A]{(context ? ", context" : "")})), y[A] = x[A] (A kept, B transformed); τ: {c.Transformer.Kind.Formula(c.Transformer)}";
    }

    public override void WriteSpec(LayerModel layer, JsonWriter j)
    {
        var c = (CouplingLayer)layer;
        j.Name("transformer").String(c.Transformer.Kind.SpecName);
        c.Transformer.Kind.WriteSpec(c.Transformer, j);
        j.Name("kept").Ints(c.Kept);
        j.Name("transformed").Ints(c.Transformed);
        j.Name("hidden").Ints(c.Hidden);
        j.Name("activation").String(c.Activation.ToString().ToLowerInvariant());
    }

    public override void EmitInitialization(InitContext e, LayerPlan l)
    {
        var c = (CouplingLayer)l.Layer;
        CouplingLayout layout = l.LayoutAs<CouplingLayout>();
        CodeWriter w = e.W;
        w.Line($"// layer {l.Index}: {c.Transformer.Kind.DisplayName} coupling");
        foreach (DensePlan d in layout.Dense)
        {
            if (d.IsLast)
            {
                // output layer: zero weights, and the bias of parameter q of every transformed coordinate at its identity value
                int nb = c.Transformed.Count;
                int nonzero = layout.IdentityBias.Count(v => v != 0);
                if (nonzero <= 4)
                {
                    for (int q = 0; q < layout.P; q++)
                    {
                        double v = layout.IdentityBias[q];
                        if (v != 0) w.Line($"p.AsSpan({l.ParamOffset + d.BiasOffset + q * nb}, {nb}).Fill({Literals.Of(v, e.IsDouble)});");
                    }
                }
                else
                {
                    string table = e.Table(layout.IdentityBias);
                    w.Line($"for (int q = 0; q < {layout.P}; q++) p.AsSpan({l.ParamOffset + d.BiasOffset} + q * {nb}, {nb}).Fill({table}[q]);");
                }
            }
            else
            {
                double bound = 1 / Math.Sqrt(d.In);
                w.Line($"rng.FillUniform(p.AsSpan({l.ParamOffset + d.Weight}, {d.In * d.Out + d.Out}), {Literals.Of(-bound, e.IsDouble)}, {Literals.Of(bound, e.IsDouble)});");
            }
        }
    }

    public override void EmitModelHelpers(CodeWriter w, FlowPlan plan, IReadOnlyList<LayerPlan> layersOfKind)
    {
        // the transformer helpers, once per transformer kind and configuration, in both flavors
        var byKind = layersOfKind.Select(l => ((CouplingLayer)l.Layer).Transformer)
            .GroupBy(o => o.Kind).OrderBy(g => LayerRegistry.Order(g.Key));
        foreach (IGrouping<TransformerKind, TransformerOptions> g in byKind)
        {
            var used = g.ToList();
            g.Key.EmitHelpers(w, plan, Flavor.Tile(plan.T), used);
            g.Key.EmitHelpers(w, plan, Flavor.One(plan.T), used);
        }
    }

    // ------------------------------------------------------------------ the shape class

    public override void EmitShape(ShapeContext e, LayerPlan l)
    {
        var c = (CouplingLayer)l.Layer;
        CouplingLayout layout = l.LayoutAs<CouplingLayout>();
        CodeWriter w = e.W;
        bool context = e.Plan.Context > 0;
        w.Line("// rows of the layer's slot");
        w.Line($"public const int Input = {layout.InputRow}; // conditioner input u = (x[{Literals.Brief(c.Kept)}]{(context ? ", context" : "")}), {layout.InputRows} rows");
        if (context) w.Line($"public const int ContextInput = {layout.InputRow + c.Kept.Count}; // the context part of u");
        foreach (DensePlan d in layout.Dense)
        {
            if (d.StoresPre) w.Line($"public const int {d.PreName} = {d.PreRow}; // pre-activation of dense layer {d.Index}, {d.Out} rows");
            w.Line(d.IsLast
                ? $"public const int {d.OutName} = {d.OutRow}; // conditioner output θ, {d.Out} rows: θ[p·{c.Transformed.Count} + b] is parameter p ({c.Transformer.Kind.ParameterNames}) of the b-th transformed coordinate"
                : $"public const int {d.OutName} = {d.OutRow}; // output of dense layer {d.Index}, {d.Out} rows");
        }
        w.Line($"public const int Saved = {layout.SavedRow}; // x[{Literals.Brief(c.Transformed)}] on the data side, saved for the backward pass");
        w.Line($"public const int SlotRows = {l.SlotRows};");
        w.Line("// rows of the backward scratch");
        foreach (DensePlan d in Enumerable.Reverse(layout.Dense)) w.Line($"public const int {d.GradOutName} = {d.GradOutRow};");
        w.Line($"public const int GradInput = {layout.GradInputRow};");
        if (context) w.Line($"public const int GradContext = {layout.GradInputRow + c.Kept.Count};");
        w.Line($"public const int Transpose = {layout.TransposeRow};");
        w.Line("// conditioner weights (input-major W, then the bias), relative to the layer's parameters");
        w.Line("public const int " + string.Join(", ", layout.Dense.Select(d => $"{d.WeightName} = {d.Weight}")) + ";");
        w.Line();
        foreach (Flavor f in new[] { Flavor.Tile(e.T), Flavor.One(e.T) })
        {
            EmitMap(e, l, f, inverse: false);
            EmitMap(e, l, f, inverse: true);
        }
        EmitBackward(e, l);
    }

    private static string Theta(Flavor f, string o, int p, int nb, string b)
    {
        string index = b == "b" ? (p == 0 ? "b" : $"{p * nb} + b") : Literals.Int(p * nb + int.Parse(b, CultureInfo.InvariantCulture));
        if (index == "0") return o;
        bool simple = index.All(char.IsLetterOrDigit);
        return f.IsTile ? $"Unsafe.Add(ref {o}, {(simple ? index : "(" + index + ")")} * Lanes)" : $"Unsafe.Add(ref {o}, {index})";
    }

    private static void EmitMap(ShapeContext e, LayerPlan l, Flavor f, bool inverse)
    {
        var c = (CouplingLayer)l.Layer;
        CouplingLayout layout = l.LayoutAs<CouplingLayout>();
        TransformerKind tr = c.Transformer.Kind;
        CodeWriter w = e.W;
        e.OpenMap(inverse ? "Inverse" : "Forward", f, inverse
            ? $"Inverse{(f.IsTile ? " on a tile" : " on one sample")}: θ from the kept coordinates, then x[B] = τ⁻¹(y[B]; θ)."
            : $"Forward{(f.IsTile ? " on a tile" : " on one sample")}: θ from the kept coordinates, then y[B] = τ(x[B]; θ), log-det += Σ log τ′.");
        EmitConditioner(e, l, f);

        int nb = c.Transformed.Count;
        var rows = c.Transformed.Select(i => l.MapBefore[i]).ToList();
        w.Line($"// {tr.DisplayName} transformer{(inverse ? " inverse" : "")} on coordinates {Literals.Brief(c.Transformed)}{(rows.Count <= ShapeContext.UnrollLimit ? $" (rows {Join(rows)})" : ", rows from TransformedRows")}");
        e.OpenLanes(f);
        w.Line($"ref {f.V} o = ref {f.Row("s", "Theta")};");
        if (f.IsTile) w.Line($"ref {f.V} logDet = ref Unsafe.Add(ref ld, k);");
        string ldName = f.IsTile ? "logDet" : "ld";
        e.ForEach("TransformedRows", rows, "b", "r", (b, r) =>
        {
            string x = f.Row("x", r);
            string saved = f.Row("s", ShapeContext.Offset("Saved", b));
            // the tile path saves the data-side value x_b (input of the forward map, output of the inverse) for the backward pass
            if (f.IsTile && !inverse) w.Line($"{saved} = {x};");
            string stride = f.IsTile ? $"{nb} * Lanes" : Literals.Int(nb);
            w.Line(inverse
                ? tr.Inverse(c.Transformer, f, e.IsDouble, x, p => Theta(f, "o", p, nb, b), stride, ldName)
                : tr.Forward(c.Transformer, f, e.IsDouble, x, p => Theta(f, "o", p, nb, b), stride, ldName));
            if (f.IsTile && inverse) w.Line($"{saved} = {x};");
        });
        e.CloseLanes(f);
        w.Close();
        w.Line();
    }

    /// <summary>Copies the kept coordinates and the context into the slot and runs the dense layers.</summary>
    private static void EmitConditioner(ShapeContext e, LayerPlan l, Flavor f)
    {
        var c = (CouplingLayer)l.Layer;
        CouplingLayout layout = l.LayoutAs<CouplingLayout>();
        CodeWriter w = e.W;
        int context = e.Plan.Context;
        w.Line($"// conditioner input u = (x[{Literals.Brief(c.Kept)}]{(context > 0 ? ", context" : "")})");
        e.OpenLanes(f);
        var keptRows = c.Kept.Select(i => l.MapBefore[i]).ToList();
        e.ForEach("KeptRows", keptRows, "a", "r", (a, r) => w.Line($"{f.Row("s", ShapeContext.Offset("Input", a))} = {f.Row("x", r)};"));
        if (context > 0)
        {
            if (context <= ShapeContext.UnrollLimit)
            {
                for (int i = 0; i < context; i++) w.Line($"{f.Row("s", ShapeContext.Offset("ContextInput", Literals.Int(i)))} = {f.Row("c", i)};");
            }
            else
            {
                w.Open($"for (int i = 0; i < {context}; i++)");
                w.Line($"{f.Row("s", "ContextInput + i")} = {f.Row("c", "i")};");
                w.Close();
            }
        }
        e.CloseLanes(f);
        w.Line($"// conditioner {string.Join(" → ", layout.Dense.Select(d => Literals.Int(d.In)).Concat(new[] { Literals.Int(layout.Dense[layout.Dense.Length - 1].Out) }))}");
        foreach (DensePlan d in layout.Dense)
        {
            string input = d.Index == 0 ? "Input" : layout.Dense[d.Index - 1].OutName;
            w.Line(DenseEmitter.Call(d, f, $"ref Unsafe.Add(ref p, {d.WeightName})", f.RowRef("s", input), f.RowRef("s", d.OutName), d.StoresPre ? f.RowRef("s", d.PreName) : null));
        }
    }

    private static void EmitBackward(ShapeContext e, LayerPlan l)
    {
        var c = (CouplingLayer)l.Layer;
        CouplingLayout layout = l.LayoutAs<CouplingLayout>();
        TransformerKind tr = c.Transformer.Kind;
        CodeWriter w = e.W;
        var f = Flavor.Tile(e.T);
        int nb = c.Transformed.Count;
        e.OpenBackward("Backward on a tile through the forward map y[B] = τ(x[B]; θ) or the inverse map x[B] = τ⁻¹(y[B]; θ) (TDirection): transformer gradients, then the conditioner.");
        w.Line("// transformer: x_b saved at row Saved + b, θ at row Theta; gradients of θ go to scratch row GradTheta");
        w.Open("for (int k = 0; k < Lanes; k++)");
        w.Line($"ref {e.V} o = ref {f.Row("s", "Theta")};");
        w.Line($"ref {e.V} go = ref {f.Row("t", "GradTheta")};");
        w.Line($"{e.V} logDetGrad = Unsafe.Add(ref gl, k);");
        var rows = c.Transformed.Select(i => l.MapBefore[i]).ToList();
        e.ForEach("TransformedRows", rows, "b", "r", (b, r) =>
            w.Line(tr.Backward(c.Transformer, e.IsDouble, f.Row("s", ShapeContext.Offset("Saved", b)), p => Theta(f, "o", p, nb, b), $"{nb} * Lanes",
                f.Row("g", r), "logDetGrad", p => Theta(f, "go", p, nb, b))));
        w.Close();

        w.Line("// conditioner, last dense layer first");
        for (int k = layout.Dense.Length - 1; k >= 0; k--)
        {
            DensePlan d = layout.Dense[k];
            string input = k == 0 ? "Input" : layout.Dense[k - 1].OutName;
            string gradInput = k == 0 ? "GradInput" : layout.Dense[k - 1].GradOutName;
            w.Line(DenseEmitter.BackwardCall(d, $"ref Unsafe.Add(ref p, {d.WeightName})", $"ref Unsafe.Add(ref gp, {d.WeightName})",
                f.RowRef("s", input), f.RowRef("s", d.OutName), f.RowRef("s", d.StoresPre ? d.PreName : d.OutName),
                f.RowRef("t", d.GradOutName), f.RowRef("t", gradInput), f.RowRef("t", "Transpose")));
        }
        w.Line($"// the kept coordinates{(e.Plan.Context > 0 ? " and the context" : "")} receive the gradient of the conditioner input");
        w.Open("for (int k = 0; k < Lanes; k++)");
        var keptRows = c.Kept.Select(i => l.MapBefore[i]).ToList();
        e.ForEach("KeptRows", keptRows, "a", "r", (a, r) => w.Line($"{f.Row("g", r)} += {f.Row("t", ShapeContext.Offset("GradInput", a))};"));
        if (e.Plan.Context > 0)
        {
            w.Open($"for (int i = 0; i < {e.Plan.Context}; i++)");
            w.Line($"{f.Row("gc", "i")} += {f.Row("t", "GradContext + i")};");
            w.Close();
        }
        w.Close();
        w.Close();
        w.Line();
    }

    public static string Join(IEnumerable<int> values) => string.Join(" ", values.Select(Literals.Int));
}
