using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using FlowGen.Generator.Emit;
using FlowGen.Generator.Model;
using FlowGen.Generator.Parsing;
using FlowGen.Generator.Planning;
using FlowGen.Generator.Spec;

namespace FlowGen.Generator.Layers;

/// <summary>Options of the affine coupling: the soft clamp C of the log-scale (0: no clamp).</summary>
internal sealed record AffineOptions(double Clamp) : TransformerOptions
{
    public override TransformerKind Kind => AffineTransformer.Instance;
}

/// <summary>RealNVP affine transformer (docs/model.md §3): y = x·exp(s̃) + t with s̃ = C·tanh(s/C) (s̃ = s when C = 0).</summary>
internal sealed class AffineTransformer : TransformerKind
{
    public static readonly AffineTransformer Instance = new();

    public override string AttributeName => "AffineCouplingAttribute";
    public override string SpecName => "affine";
    public override string DisplayName => "affine";
    public override IReadOnlyList<string> OptionNames { get; } = new[] { "Clamp" };
    public override string ParameterNames => "s (raw log-scale), t (shift)";

    public override TransformerOptions Read(OptionReader r) =>
        new AffineOptions(r.Double("Clamp", c => c >= 0 && c <= 50, "a finite number between 0 and 50 (0 turns the clamp off)"));

    public override int ParametersPerCoordinate(TransformerOptions o) => 2;

    public override double[] IdentityParameters(TransformerOptions o) => new double[2];

    public override string Formula(TransformerOptions o)
    {
        double c = ((AffineOptions)o).Clamp;
        string C = c.ToString("R", CultureInfo.InvariantCulture);
        return c > 0 ? $"y = x·exp(s̃) + t, s̃ = {C}·tanh(s/{C})" : "y = x·exp(s) + t";
    }

    public override string DescribeOptions(TransformerOptions o) => ", clamp " + ((AffineOptions)o).Clamp.ToString("R", CultureInfo.InvariantCulture);

    public override void WriteSpec(TransformerOptions o, JsonWriter j) => j.Name("clamp").Number(((AffineOptions)o).Clamp);

    public override void EmitHelpers(CodeWriter w, FlowPlan plan, Flavor f, IReadOnlyList<TransformerOptions> used)
    {
        string V = f.V, T = f.T;
        bool clamped = used.Any(o => ((AffineOptions)o).Clamp > 0), unclamped = used.Any(o => ((AffineOptions)o).Clamp == 0);
        string one = f.Splat(Literals.Of(1, plan.IsDouble));
        if (clamped)
        {
            w.Line("/// <summary>Affine transformer, forward: x ← x·exp(s̃) + t, log-det += s̃, with the soft-clamped log-scale s̃ = clamp·tanh(s/clamp).</summary>");
            InlineOne(w, f);
            w.Open($"private static void AffineForward{f.TypeParameters()}(ref {V} x, {V} s, {V} t, {T} clamp, {T} inverseClamp, ref {V} logDet){f.Constraint}");
            w.Line($"{V} scale = clamp * Kernel.Tanh(s * inverseClamp);");
            w.Line("x = Kernel.Mac(x, Kernel.Exp(scale), t);");
            w.Line("logDet += scale;");
            w.Close();
            w.Line();
            w.Line("/// <summary>Affine transformer, inverse: x ← (x − t)·exp(−s̃), log-det −= s̃.</summary>");
            InlineOne(w, f);
            w.Open($"private static void AffineInverse{f.TypeParameters()}(ref {V} x, {V} s, {V} t, {T} clamp, {T} inverseClamp, ref {V} logDet){f.Constraint}");
            w.Line($"{V} scale = clamp * Kernel.Tanh(s * inverseClamp);");
            w.Line("x = (x - t) * Kernel.Exp(-scale);");
            w.Line("logDet -= scale;");
            w.Close();
            w.Line();
            if (f.IsTile)
            {
                w.Line("/// <summary>");
                w.Line("/// Affine transformer, backward. Through the forward map: g ← g·exp(s̃), ∂s = (g·x·exp(s̃) + gl)·(1 − tanh²(s/clamp)), ∂t = g.");
                w.Line("/// Through the inverse map x = (y − t)·exp(−s̃): ∂y = g·exp(−s̃), ∂s = −(∂y·x·exp(s̃) + gl)·(1 − tanh²(s/clamp)), ∂t = −∂y.");
                w.Line("/// </summary>");
                InlineOne(w, f);
                w.Open($"private static void AffineBackward<TDirection, TV>({V} x, {V} s, {V} t, {T} clamp, {T} inverseClamp, ref {V} g, {V} gl, ref {V} gs, ref {V} gt) where TDirection : struct, IMapDirection{Flavor.VectorConstraint}");
                w.Line($"{V} th = Kernel.Tanh(s * inverseClamp);");
                w.Open("if (TDirection.IsInverse)");
                w.Line($"{V} scale = clamp * th;");
                w.Line($"{V} gy = g * Kernel.Exp(-scale);");
                w.Line("g = gy;");
                w.Line("gt = -gy;");
                w.Line($"gs = -Kernel.Mac(gy * x, Kernel.Exp(scale), gl) * Kernel.Mac(-th, th, {one});");
                w.Close();
                w.Open("else");
                w.Line($"{V} e = Kernel.Exp(clamp * th);");
                w.Line($"{V} gy = g;");
                w.Line("g = gy * e;");
                w.Line("gt = gy;");
                w.Line($"gs = Kernel.Mac(gy * x, e, gl) * Kernel.Mac(-th, th, {one});");
                w.Close();
                w.Close();
                w.Line();
            }
        }
        if (unclamped)
        {
            w.Line("/// <summary>Affine transformer without clamp, forward: x ← x·exp(s) + t, log-det += s.</summary>");
            InlineOne(w, f);
            w.Open($"private static void AffineForwardUnclamped{f.TypeParameters()}(ref {V} x, {V} s, {V} t, ref {V} logDet){f.Constraint}");
            w.Line("x = Kernel.Mac(x, Kernel.Exp(s), t);");
            w.Line("logDet += s;");
            w.Close();
            w.Line();
            w.Line("/// <summary>Affine transformer without clamp, inverse: x ← (x − t)·exp(−s), log-det −= s.</summary>");
            InlineOne(w, f);
            w.Open($"private static void AffineInverseUnclamped{f.TypeParameters()}(ref {V} x, {V} s, {V} t, ref {V} logDet){f.Constraint}");
            w.Line("x = (x - t) * Kernel.Exp(-s);");
            w.Line("logDet -= s;");
            w.Close();
            w.Line();
            if (f.IsTile)
            {
                w.Line("/// <summary>Affine transformer without clamp, backward through the forward map (g ← g·exp(s), ∂s = g·x·exp(s) + gl, ∂t = g) or the inverse map (∂y = g·exp(−s), ∂s = −(∂y·x·exp(s) + gl), ∂t = −∂y).</summary>");
                InlineOne(w, f);
                w.Open($"private static void AffineBackwardUnclamped<TDirection, TV>({V} x, {V} s, {V} t, ref {V} g, {V} gl, ref {V} gs, ref {V} gt) where TDirection : struct, IMapDirection{Flavor.VectorConstraint}");
                w.Open("if (TDirection.IsInverse)");
                w.Line($"{V} gy = g * Kernel.Exp(-s);");
                w.Line("g = gy;");
                w.Line("gt = -gy;");
                w.Line("gs = -Kernel.Mac(gy * x, Kernel.Exp(s), gl);");
                w.Close();
                w.Open("else");
                w.Line($"{V} e = Kernel.Exp(s);");
                w.Line($"{V} gy = g;");
                w.Line("g = gy * e;");
                w.Line("gt = gy;");
                w.Line("gs = Kernel.Mac(gy * x, e, gl);");
                w.Close();
                w.Close();
                w.Line();
            }
        }
    }

    // One-sample helpers are inlined into their layer. Tile helpers are not: each holds a tanh and an exp of vectors, and
    // inlined into every transformed coordinate of a coupling they would exhaust the JIT's inlining budget of the layer's
    // method, which then calls even the vector operators instead of inlining them; called, each helper is its own
    // compilation root with every operator inlined (NoInlining: the JIT's own heuristics would inline the small method body),
    // for one call per coordinate and lane vector.
    private static void InlineOne(CodeWriter w, Flavor f)
    {
        if (f.IsTile) w.Line("[MethodImpl(MethodImplOptions.NoInlining)]");
        else Inline(w);
    }

    private static string ClampArguments(AffineOptions o, bool isDouble) =>
        $"{Literals.Of(o.Clamp, isDouble)}, {Literals.Of(1 / o.Clamp, isDouble)}";

    public override string Forward(TransformerOptions o, Flavor f, bool isDouble, string x, Func<int, string> theta, string stride, string ld)
    {
        var a = (AffineOptions)o;
        return a.Clamp > 0
            ? $"AffineForward(ref {x}, {theta(0)}, {theta(1)}, {ClampArguments(a, isDouble)}, ref {ld});"
            : $"AffineForwardUnclamped(ref {x}, {theta(0)}, {theta(1)}, ref {ld});";
    }

    public override string Inverse(TransformerOptions o, Flavor f, bool isDouble, string x, Func<int, string> theta, string stride, string ld)
    {
        var a = (AffineOptions)o;
        return a.Clamp > 0
            ? $"AffineInverse(ref {x}, {theta(0)}, {theta(1)}, {ClampArguments(a, isDouble)}, ref {ld});"
            : $"AffineInverseUnclamped(ref {x}, {theta(0)}, {theta(1)}, ref {ld});";
    }

    public override string Backward(TransformerOptions o, bool isDouble, string x, Func<int, string> theta, string stride, string g, string gl, Func<int, string> gtheta)
    {
        var a = (AffineOptions)o;
        return a.Clamp > 0
            ? $"AffineBackward<TDirection, TV>({x}, {theta(0)}, {theta(1)}, {ClampArguments(a, isDouble)}, ref {g}, {gl}, ref {gtheta(0)}, ref {gtheta(1)});"
            : $"AffineBackwardUnclamped<TDirection, TV>({x}, {theta(0)}, {theta(1)}, ref {g}, {gl}, ref {gtheta(0)}, ref {gtheta(1)});";
    }
}
