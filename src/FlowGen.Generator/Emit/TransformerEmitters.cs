using System;
using System.Collections.Generic;
using System.Linq;
using FlowGen.Generator.Model;
using FlowGen.Generator.Planning;

namespace FlowGen.Generator.Emit;

/// <summary>
/// Emits one kind of element-wise transformer τ (docs/model.md §3): helper methods once per model (in both
/// flavors, from one template), and the per-coordinate calls inside each coupling layer.
/// </summary>
internal abstract class TransformerEmitter
{
    public static TransformerEmitter For(CouplingKind kind) => kind switch
    {
        CouplingKind.Affine => AffineTransformerEmitter.Instance,
        CouplingKind.Additive => AdditiveTransformerEmitter.Instance,
        CouplingKind.SumOfSquares => SumOfSquaresTransformerEmitter.Instance,
        CouplingKind.DeepSigmoidal => DeepSigmoidalTransformerEmitter.Instance,
        _ => SplineTransformerEmitter.Instance,
    };

    /// <summary>Writes the helper methods of this kind for the layers of <paramref name="plan"/> that use it.</summary>
    public abstract void EmitHelpers(CodeWriter w, FlowPlan plan, Flavor f);

    /// <summary>One coordinate, forward: <paramref name="x"/> ← τ(x), <paramref name="ld"/> += log τ′(x).</summary>
    /// <remarks><paramref name="stride"/> is the distance between consecutive parameters of one coordinate (in values of the flavor).</remarks>
    public abstract string Forward(CouplingLayer c, Flavor f, bool isDouble, string x, Func<int, string> theta, string stride, string ld);

    /// <summary>One coordinate, inverse: <paramref name="x"/> ← τ⁻¹(x), <paramref name="ld"/> −= log τ′(τ⁻¹(x)).</summary>
    public abstract string Inverse(CouplingLayer c, Flavor f, bool isDouble, string x, Func<int, string> theta, string stride, string ld);

    /// <summary>
    /// One coordinate, backward (tile flavor). <paramref name="x"/> is the saved data-side value, <paramref name="g"/> the gradient
    /// row: on entry ∂L/∂(output of the map), on exit ∂L/∂(input of the map); <paramref name="gl"/> is ∂L/∂(log-det accumulator).
    /// For the forward map y = τ(x): ∂L/∂x = gy·τ′ + gl·λ_x and ∂L/∂θ = gy·τ_θ + gl·λ_θ (λ = log τ′). For the inverse
    /// x = τ⁻¹(y), whose log-det is −λ(x): ∂L/∂y = (gx − gl·λ_x)/τ′ and ∂L/∂θ = −(∂L/∂y·τ_θ + gl·λ_θ).
    /// The gradients of θ are written (not added) to <paramref name="gtheta"/>.
    /// </summary>
    public abstract string Backward(CouplingLayer c, bool isDouble, bool inverse, string x, Func<int, string> theta, string stride, string g, string gl, Func<int, string> gtheta);

    /// <summary>Short description of the transformer's parameters, for comments.</summary>
    public abstract string ParameterNames { get; }

    protected static void Inline(CodeWriter w) => w.Line("[MethodImpl(MethodImplOptions.AggressiveInlining)]");
}

/// <summary>RealNVP affine transformer: y = x·exp(s̃) + t with s̃ = C·tanh(s/C) (s̃ = s when C = 0).</summary>
internal sealed class AffineTransformerEmitter : TransformerEmitter
{
    public static readonly AffineTransformerEmitter Instance = new();

    public override string ParameterNames => "s (raw log-scale), t (shift)";

    private static IEnumerable<CouplingLayer> Layers(FlowPlan plan) =>
        plan.Layers.Select(l => l.Coupling).Where(c => c is { Kind: CouplingKind.Affine })!;

    public override void EmitHelpers(CodeWriter w, FlowPlan plan, Flavor f)
    {
        string V = f.V, T = f.T;
        bool clamped = Layers(plan).Any(c => c.Clamp > 0), unclamped = Layers(plan).Any(c => c.Clamp == 0);
        if (clamped)
        {
            w.Line("/// <summary>Affine transformer, forward: x ← x·exp(s̃) + t, log-det += s̃, with the soft-clamped log-scale s̃ = clamp·tanh(s/clamp).</summary>");
            Inline(w);
            w.Open($"private static void AffineForward(ref {V} x, {V} s, {V} t, {T} clamp, {T} inverseClamp, ref {V} logDet)");
            w.Line($"{V} scale = clamp * Kernel.Tanh(s * inverseClamp);");
            w.Line("x = Kernel.Mac(x, Kernel.Exp(scale), t);");
            w.Line("logDet += scale;");
            w.Close();
            w.Line();
            w.Line("/// <summary>Affine transformer, inverse: x ← (x − t)·exp(−s̃), log-det −= s̃.</summary>");
            Inline(w);
            w.Open($"private static void AffineInverse(ref {V} x, {V} s, {V} t, {T} clamp, {T} inverseClamp, ref {V} logDet)");
            w.Line($"{V} scale = clamp * Kernel.Tanh(s * inverseClamp);");
            w.Line("x = (x - t) * Kernel.Exp(-scale);");
            w.Line("logDet -= scale;");
            w.Close();
            w.Line();
        }
        if (f.IsTile && clamped)
        {
            w.Line("/// <summary>Affine transformer, backward through the forward map: g ← g·exp(s̃), ∂s = (g·x·exp(s̃) + gl)·(1 − tanh²(s/clamp)), ∂t = g.</summary>");
            Inline(w);
            w.Open($"private static void AffineBackward({V} x, {V} s, {V} t, {T} clamp, {T} inverseClamp, ref {V} g, {V} gl, ref {V} gs, ref {V} gt)");
            w.Line($"{V} th = Kernel.Tanh(s * inverseClamp);");
            w.Line($"{V} e = Kernel.Exp(clamp * th);");
            w.Line($"{V} gy = g;");
            w.Line("g = gy * e;");
            w.Line("gt = gy;");
            w.Line($"gs = Kernel.Mac(gy * x, e, gl) * Kernel.Mac(-th, th, {f.Splat(Literals.Of(1, plan.Model.IsDouble))});");
            w.Close();
            w.Line();
            w.Line("/// <summary>Affine transformer, backward through the inverse map x = (y − t)·exp(−s̃): ∂y = g·exp(−s̃), ∂s = −(∂y·x·exp(s̃) + gl)·(1 − tanh²(s/clamp)), ∂t = −∂y.</summary>");
            Inline(w);
            w.Open($"private static void AffineInverseBackward({V} x, {V} s, {V} t, {T} clamp, {T} inverseClamp, ref {V} g, {V} gl, ref {V} gs, ref {V} gt)");
            w.Line($"{V} th = Kernel.Tanh(s * inverseClamp);");
            w.Line($"{V} scale = clamp * th;");
            w.Line($"{V} gy = g * Kernel.Exp(-scale);");
            w.Line("g = gy;");
            w.Line("gt = -gy;");
            w.Line($"gs = -Kernel.Mac(gy * x, Kernel.Exp(scale), gl) * Kernel.Mac(-th, th, {f.Splat(Literals.Of(1, plan.Model.IsDouble))});");
            w.Close();
            w.Line();
        }
        if (f.IsTile && unclamped)
        {
            w.Line("/// <summary>Affine transformer without clamp, backward through the forward map.</summary>");
            Inline(w);
            w.Open($"private static void AffineBackwardUnclamped({V} x, {V} s, {V} t, ref {V} g, {V} gl, ref {V} gs, ref {V} gt)");
            w.Line($"{V} e = Kernel.Exp(s);");
            w.Line($"{V} gy = g;");
            w.Line("g = gy * e;");
            w.Line("gt = gy;");
            w.Line("gs = Kernel.Mac(gy * x, e, gl);");
            w.Close();
            w.Line();
            w.Line("/// <summary>Affine transformer without clamp, backward through the inverse map.</summary>");
            Inline(w);
            w.Open($"private static void AffineInverseBackwardUnclamped({V} x, {V} s, {V} t, ref {V} g, {V} gl, ref {V} gs, ref {V} gt)");
            w.Line($"{V} gy = g * Kernel.Exp(-s);");
            w.Line("g = gy;");
            w.Line("gt = -gy;");
            w.Line("gs = -Kernel.Mac(gy * x, Kernel.Exp(s), gl);");
            w.Close();
            w.Line();
        }
        if (unclamped)
        {
            w.Line("/// <summary>Affine transformer without clamp, forward: x ← x·exp(s) + t, log-det += s.</summary>");
            Inline(w);
            w.Open($"private static void AffineForwardUnclamped(ref {V} x, {V} s, {V} t, ref {V} logDet)");
            w.Line("x = Kernel.Mac(x, Kernel.Exp(s), t);");
            w.Line("logDet += s;");
            w.Close();
            w.Line();
            w.Line("/// <summary>Affine transformer without clamp, inverse: x ← (x − t)·exp(−s), log-det −= s.</summary>");
            Inline(w);
            w.Open($"private static void AffineInverseUnclamped(ref {V} x, {V} s, {V} t, ref {V} logDet)");
            w.Line("x = (x - t) * Kernel.Exp(-s);");
            w.Line("logDet -= s;");
            w.Close();
            w.Line();
        }
    }

    public override string Forward(CouplingLayer c, Flavor f, bool isDouble, string x, Func<int, string> theta, string stride, string ld) =>
        c.Clamp > 0
            ? $"AffineForward(ref {x}, {theta(0)}, {theta(1)}, {Literals.Of(c.Clamp, isDouble)}, {Literals.Of(1 / c.Clamp, isDouble)}, ref {ld});"
            : $"AffineForwardUnclamped(ref {x}, {theta(0)}, {theta(1)}, ref {ld});";

    public override string Inverse(CouplingLayer c, Flavor f, bool isDouble, string x, Func<int, string> theta, string stride, string ld) =>
        c.Clamp > 0
            ? $"AffineInverse(ref {x}, {theta(0)}, {theta(1)}, {Literals.Of(c.Clamp, isDouble)}, {Literals.Of(1 / c.Clamp, isDouble)}, ref {ld});"
            : $"AffineInverseUnclamped(ref {x}, {theta(0)}, {theta(1)}, ref {ld});";

    public override string Backward(CouplingLayer c, bool isDouble, bool inverse, string x, Func<int, string> theta, string stride, string g, string gl, Func<int, string> gtheta)
    {
        string name = (inverse ? "AffineInverseBackward" : "AffineBackward") + (c.Clamp > 0 ? "" : "Unclamped");
        string clamp = c.Clamp > 0 ? $"{Literals.Of(c.Clamp, isDouble)}, {Literals.Of(1 / c.Clamp, isDouble)}, " : "";
        return $"{name}({x}, {theta(0)}, {theta(1)}, {clamp}ref {g}, {gl}, ref {gtheta(0)}, ref {gtheta(1)});";
    }
}

/// <summary>NICE additive transformer: y = x + t (log-det 0).</summary>
internal sealed class AdditiveTransformerEmitter : TransformerEmitter
{
    public static readonly AdditiveTransformerEmitter Instance = new();

    public override string ParameterNames => "t (shift)";

    public override void EmitHelpers(CodeWriter w, FlowPlan plan, Flavor f)
    {
    }

    public override string Forward(CouplingLayer c, Flavor f, bool isDouble, string x, Func<int, string> theta, string stride, string ld) =>
        $"{x} += {theta(0)};";

    public override string Inverse(CouplingLayer c, Flavor f, bool isDouble, string x, Func<int, string> theta, string stride, string ld) =>
        $"{x} -= {theta(0)};";

    public override string Backward(CouplingLayer c, bool isDouble, bool inverse, string x, Func<int, string> theta, string stride, string g, string gl, Func<int, string> gtheta) =>
        inverse ? $"{gtheta(0)} = -{g};" : $"{gtheta(0)} = {g};";
}
