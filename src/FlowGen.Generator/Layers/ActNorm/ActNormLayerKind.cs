using FlowGen.Generator.Emit;
using FlowGen.Generator.Model;
using FlowGen.Generator.Parsing;
using FlowGen.Generator.Planning;
using FlowGen.Generator.Spec;

namespace FlowGen.Generator.Layers;

/// <summary>An ActNorm layer (no options).</summary>
internal sealed record ActNormLayer : LayerModel
{
    public override LayerKind Kind => ActNormLayerKind.Instance;
}

/// <summary>The layout of an ActNorm layer: log-scales and biases (relative offsets), and the saved input rows.</summary>
internal sealed class ActNormLayout
{
    public int LogScale, Bias, Saved;
}

/// <summary>
/// ActNorm (Glow; docs/model.md §4): y_i = x_i·exp(ℓ_i) + b_i, log-det Σ ℓ_i, initialised from data so that its output has
/// zero mean and unit variance over the first batch.
/// </summary>
internal sealed class ActNormLayerKind : LayerKind
{
    public static readonly ActNormLayerKind Instance = new();

    public override string SpecName => "actnorm";

    public override string AttributeName => "ActNormAttribute";

    /// <summary>[ActNorm] has no arguments.</summary>
    public override LayerModel? Read(LayerAttributeContext c) => new ActNormLayer();

    public override bool IsDataInitialized => true;

    public override object Plan(LayerModel layer, LayoutBuilder b) => new ActNormLayout
    {
        LogScale = b.Tensor("log_scale", new[] { b.Dim }),
        Bias = b.Tensor("bias", new[] { b.Dim }),
        Saved = b.Slot(b.Dim),
    };

    public override string ShapeStem(LayerModel layer) => "ActNorm";

    public override bool UsesAddLanes => true;

    public override string Title(LayerModel layer) => "ActNorm";

    public override string Describe(LayerPlan l) => "actnorm";

    public override string Formula(LayerPlan l) => "y_i = x_i·exp(ℓ_i) + b_i, log-det += Σ ℓ_i";

    public override void WriteSpec(LayerModel layer, JsonWriter j)
    {
    }

    public override void EmitShape(ShapeContext e, LayerPlan l)
    {
        var a = l.LayoutAs<ActNormLayout>();
        CodeWriter w = e.W;
        int d = e.Plan.Dim;
        string rows = e.Table("Rows", l.MapBefore);
        w.Line($"public const int LogScale = {a.LogScale}, Bias = {a.Bias}; // ℓ and b, relative to the layer's parameters");
        w.Line($"public const int Saved = {a.Saved}; // the input x, saved for the backward pass ({d} rows)");
        w.Line($"public const int SlotRows = {l.SlotRows};");
        w.Line();
        foreach (Flavor f in new[] { Flavor.Tile(e.T), Flavor.One(e.T) })
        {
            e.OpenMap("Forward", f, $"Forward{(f.IsTile ? " on a tile" : " on one sample")}: y_i = x_i·exp(ℓ_i) + b_i, log-det += ℓ_i.");
            w.Open($"for (int i = 0; i < {d}; i++)");
            w.Line($"{f.T} logScale = Unsafe.Add(ref p, LogScale + i);");
            w.Line($"{f.V} scale = {f.Splat("Kernel.Exp(logScale)")}, shift = {f.Splat("Unsafe.Add(ref p, Bias + i)")};");
            w.Line($"int r = {rows}[i];");
            e.OpenLanes(f);
            if (f.IsTile) w.Line($"{f.Row("s", "Saved + i")} = {f.Row("x", "r")};");
            w.Line($"{f.Row("x", "r")} = Kernel.Mac({f.Row("x", "r")}, scale, shift);");
            w.Line($"{(f.IsTile ? "Unsafe.Add(ref ld, k)" : "ld")} += {f.Splat("logScale")};");
            e.CloseLanes(f);
            w.Close();
            w.Close();
            w.Line();

            e.OpenMap("Inverse", f, $"Inverse{(f.IsTile ? " on a tile" : " on one sample")}: x_i = (y_i − b_i)·exp(−ℓ_i), log-det −= ℓ_i.");
            w.Open($"for (int i = 0; i < {d}; i++)");
            w.Line($"{f.T} logScale = Unsafe.Add(ref p, LogScale + i);");
            w.Line($"{f.V} inverseScale = {f.Splat("Kernel.Exp(-logScale)")}, shift = {f.Splat("Unsafe.Add(ref p, Bias + i)")};");
            w.Line($"int r = {rows}[i];");
            e.OpenLanes(f);
            w.Line($"{f.Row("x", "r")} = ({f.Row("x", "r")} - shift) * inverseScale;");
            if (f.IsTile) w.Line($"{f.Row("s", "Saved + i")} = {f.Row("x", "r")};");
            w.Line($"{(f.IsTile ? "Unsafe.Add(ref ld, k)" : "ld")} -= {f.Splat("logScale")};");
            e.CloseLanes(f);
            w.Close();
            w.Close();
            w.Line();
        }

        string V = e.V;
        e.OpenBackward("Backward on a tile. Forward map y = x·exp(ℓ) + b: ∂/∂x = exp(ℓ), ∂/∂b = 1, ∂/∂ℓ = x·exp(ℓ), log-det +ℓ. Inverse map x = (y − b)·exp(−ℓ): ∂/∂y = exp(−ℓ), ∂/∂b = −exp(−ℓ), ∂/∂ℓ = −x, log-det −ℓ.");
        w.Line("// parameter gradients are added one sample at a time, in sample order (AddLanes), so they do not depend on the SIMD width");
        w.Open($"for (int i = 0; i < {d}; i++)");
        w.Line($"{e.T} logScale = Unsafe.Add(ref p, LogScale + i);");
        w.Line($"{V} scale = TV.Create(Kernel.Exp(TDirection.IsInverse ? -logScale : logScale));");
        w.Line($"int r = {rows}[i];");
        w.Open("for (int k = 0; k < Lanes; k++)");
        w.Line($"{V} upstream = Unsafe.Add(ref g, r * Lanes + k), x = Unsafe.Add(ref s, (Saved + i) * Lanes + k), logDetGrad = Unsafe.Add(ref gl, k);");
        w.Open("if (TDirection.IsInverse)");
        w.Line("// upstream = ∂L/∂x; ∂L/∂y = upstream·e^{−ℓ}; ∂L/∂b = −∂L/∂y; ∂L/∂ℓ = −upstream·x (and −gl from the log-det)");
        w.Line($"{V} gy = upstream * scale;");
        w.Line("AddLanes(ref Unsafe.Add(ref gp, LogScale + i), -Kernel.Mac(upstream, x, logDetGrad));");
        w.Line("AddLanes(ref Unsafe.Add(ref gp, Bias + i), -gy);");
        w.Line("Unsafe.Add(ref g, r * Lanes + k) = gy;");
        w.Close();
        w.Open("else");
        w.Line("// upstream = ∂L/∂y; ∂L/∂x = upstream·e^ℓ; ∂L/∂b = upstream; ∂L/∂ℓ = upstream·x·e^ℓ (and +gl from the log-det)");
        w.Line("AddLanes(ref Unsafe.Add(ref gp, LogScale + i), Kernel.Mac(upstream * x, scale, logDetGrad));");
        w.Line("AddLanes(ref Unsafe.Add(ref gp, Bias + i), upstream);");
        w.Line("Unsafe.Add(ref g, r * Lanes + k) = upstream * scale;");
        w.Close();
        w.Close();
        w.Close();
        w.Close();
        w.Line();
    }

    public override void EmitDataInitialization(CodeWriter w, LayerPlan l, FlowPlan plan, string tables, string shape)
    {
        string T = plan.T;
        w.Line($"// layer {l.Index}: ActNorm from the batch statistics of its input");
        w.Open("for (int i = 0; i < Dim; i++)");
        w.Line($"int r = {tables}.Rows[i];");
        w.Line("double sum = 0, sumSq = 0;");
        w.Line("for (int j = 0; j < n; j++) sum += work[j * Dim + r];");
        w.Line("double mean = sum / n;");
        w.Line("for (int j = 0; j < n; j++) { double d = work[j * Dim + r] - mean; sumSq += d * d; }");
        w.Line("double variance = sumSq / n;");
        w.Line("double logScale = variance < 1e-12 ? 0 : -0.5 * Math.Log(variance);");
        w.Line($"parameters[Layer{l.Index} + {shape}.LogScale + i] = ({T})logScale;");
        w.Line($"parameters[Layer{l.Index} + {shape}.Bias + i] = ({T})(-mean * Math.Exp(logScale));");
        w.Close();
    }
}
