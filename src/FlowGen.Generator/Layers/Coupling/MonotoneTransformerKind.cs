using System;
using System.Collections.Generic;
using System.Globalization;
using FlowGen.Generator.Emit;
using FlowGen.Generator.Model;
using FlowGen.Generator.Planning;

namespace FlowGen.Generator.Layers;

/// <summary>
/// Transformers written as helper methods per distinct configuration: <c>{Name}Forward</c>, <c>{Name}Inverse</c>,
/// <c>{Name}Backward</c> (vector-Jacobian product of the forward map, tile flavor) and <c>{Name}InverseBackward</c>,
/// which every kind gets for free from its derivatives: for x = τ⁻¹(y) with log-det −λ(x),
/// ∂L/∂y = (gx − gl·λ_x)/τ′ and ∂L/∂θ = −(∂L/∂y·τ_θ + gl·λ_θ), i.e. minus the forward product at upstream (∂L/∂y, gl);
/// <c>{Name}Vjp&lt;TDirection&gt;</c> selects one of the two at JIT time. Parameters of one coordinate are read from a
/// reference to θ₀ and a stride. Helper bodies are templates shared by the scalar and vector flavors (masks declared with
/// var; Kernel's comparison and selection overloads exist for both).
/// </summary>
internal abstract class MonotoneTransformerKind<TOptions> : TransformerKind where TOptions : TransformerOptions
{
    /// <summary>A name that identifies the configuration, e.g. Sos_r2_K3.</summary>
    protected abstract string ConfigurationName(TOptions c);

    /// <summary>Writes the helpers of one configuration in one flavor.</summary>
    protected abstract void EmitConfiguration(CodeWriter w, TOptions c, Flavor f, bool isDouble);

    /// <summary>Writes {Name}Derivatives(x, ref θ, stride, out τ′, out λ_x) (tile flavor only).</summary>
    protected abstract void EmitDerivatives(CodeWriter w, TOptions c, Flavor f, bool isDouble);

    /// <summary>Writes helpers shared by every configuration of the kind (before the first configuration).</summary>
    protected virtual void EmitSharedHelpers(CodeWriter w, FlowPlan plan, Flavor f)
    {
    }

    public override void EmitHelpers(CodeWriter w, FlowPlan plan, Flavor f, IReadOnlyList<TransformerOptions> used)
    {
        EmitSharedHelpers(w, plan, f);
        var seen = new HashSet<string>();
        foreach (TransformerOptions o in used)
        {
            var c = (TOptions)o;
            if (!seen.Add(ConfigurationName(c))) continue;
            EmitConfiguration(w, c, f, plan.IsDouble);
            if (f.IsTile)
            {
                EmitDerivatives(w, c, f, plan.IsDouble);
                EmitInverseBackward(w, c, f);
            }
        }
    }

    private void EmitInverseBackward(CodeWriter w, TOptions c, Flavor f)
    {
        string V = f.V, n = ConfigurationName(c);
        int parameters = ParametersPerCoordinate(c);
        w.Line($"/// <summary>Backward through x = τ⁻¹(y): ∂L/∂y = (gx − gl·λ_x)/τ′(x), ∂L/∂θ = −(∂L/∂y·τ_θ + gl·λ_θ).</summary>");
        w.Open($"private static void {n}InverseBackward({V} x, ref {V} theta, int stride, ref {V} g, {V} gl, ref {V} gtheta)");
        w.Line($"{n}Derivatives(x, ref theta, stride, out {V} derivative, out {V} logDerivativeSlope);");
        w.Line($"{V} gy = (g - gl * logDerivativeSlope) / derivative;");
        w.Line($"{V} forwardInputGradient = gy;");
        w.Line($"{n}Backward(x, ref theta, stride, ref forwardInputGradient, gl, ref gtheta);");
        w.Line($"for (int q = 0; q < {parameters}; q++) Unsafe.Add(ref gtheta, q * stride) = -Unsafe.Add(ref gtheta, q * stride);");
        w.Line("g = gy;");
        w.Close();
        w.Line();
        w.Line("/// <summary>Backward through the map TDirection selects: the forward map's product, or the inverse map's.</summary>");
        Inline(w);
        w.Open($"private static void {n}Vjp<TDirection>({V} x, ref {V} theta, int stride, ref {V} g, {V} gl, ref {V} gtheta) where TDirection : struct, IMapDirection");
        w.Line($"if (TDirection.IsInverse) {n}InverseBackward(x, ref theta, stride, ref g, gl, ref gtheta);");
        w.Line($"else {n}Backward(x, ref theta, stride, ref g, gl, ref gtheta);");
        w.Close();
        w.Line();
    }

    public override string Forward(TransformerOptions o, Flavor f, bool isDouble, string x, Func<int, string> theta, string stride, string ld) =>
        $"{ConfigurationName((TOptions)o)}Forward(ref {x}, ref {theta(0)}, {stride}, ref {ld});";

    public override string Inverse(TransformerOptions o, Flavor f, bool isDouble, string x, Func<int, string> theta, string stride, string ld) =>
        $"{ConfigurationName((TOptions)o)}Inverse(ref {x}, ref {theta(0)}, {stride}, ref {ld});";

    public override string Backward(TransformerOptions o, bool isDouble, string x, Func<int, string> theta, string stride, string g, string gl, Func<int, string> gtheta) =>
        $"{ConfigurationName((TOptions)o)}Vjp<TDirection>({x}, ref {theta(0)}, {stride}, ref {g}, {gl}, ref {gtheta(0)});";

    protected static string Num(double v) => v.ToString("R", CultureInfo.InvariantCulture).Replace(".", "p").Replace("-", "m").Replace("+", "");

    /// <summary>
    /// Emits the safeguarded inversion of a strictly increasing scalar map, in place on <c>x</c> (which holds the target y on entry):
    /// a bracket grown geometrically around <paramref name="guess"/>, then Newton steps that fall back to bisection whenever they
    /// leave the bracket or stop halving the residual, until the bracket is narrower than 4 ulps of max(|x|, 1) (about 2 ulps
    /// on either side of the root) or the residual is exactly zero. Lanes with a non-finite target, or whose bracket cannot be found,
    /// get NaN. <paramref name="value"/>(arg, derivativeOut) is a call returning τ(arg) and writing τ′(arg).
    /// </summary>
    protected static void EmitMonotoneInverse(CodeWriter w, Flavor f, bool isDouble, string guess, Func<string, string, string> value)
    {
        string V = f.V;
        string S(double v) => f.Splat(Literals.Of(v, isDouble));
        // enough for pure bisection from the widest finite bracket down to the tolerance (2^128 / 2^-23 in float,
        // 2^1024 / 2^-52 in double): the loop cannot run out while Newton and bisection still make progress
        int maxIterations = isDouble ? 1100 : 160;
        w.Line($"{V} target = x;");
        w.Line("var finite = Kernel.IsFinite(target);");
        w.Line($"{V} start = {guess};");
        w.Line($"start = Kernel.Select(Kernel.IsFinite(start), start, {S(0)});");
        w.Line($"{V} step = {S(1)};");
        w.Line($"{V} lo = start - step, hi = start + step;");
        w.Line("// grow the bracket geometrically until τ(lo) ≤ y ≤ τ(hi)");
        w.Line("int growth = 0;");
        w.Open("for (; growth < 1100; growth++)");
        w.Line($"var lowTooHigh = Kernel.GreaterThan({value("lo", "_")}, target);");
        w.Line($"var highTooLow = Kernel.LessThan({value("hi", "_")}, target);");
        w.Line("if (!Kernel.Any(Kernel.And(finite, Kernel.Or(lowTooHigh, highTooLow)))) break;");
        w.Line("step += step;");
        w.Line("lo = Kernel.Select(lowTooHigh, lo - step, lo);");
        w.Line("hi = Kernel.Select(highTooLow, hi + step, hi);");
        w.Close();
        w.Line($"var bracketed = Kernel.And(finite, Kernel.And(Kernel.LessThanOrEqual({value("lo", "_")}, target), Kernel.GreaterThanOrEqual({value("hi", "_")}, target)));");
        w.Line("// Safeguarded Newton: a Newton step when it stays strictly inside the bracket and the last one at least halved");
        w.Line("// |residual|, bisection otherwise. A Newton step shorter than the tolerance is stretched to it, so the next point");
        w.Line("// lands beyond the root and closes the bracket: convergence is decided by the bracket width, never by a short step.");
        w.Line($"{V} t = Kernel.Min(Kernel.Max(start, lo), hi);");
        w.Line($"{V} previous = {S(double.PositiveInfinity)};");
        w.Line("// a lane stops once its bracket is closed, so every lane takes the same steps whatever its neighbours do");
        w.Line("var active = bracketed;");
        w.Line("int iterations = 0;");
        w.Open($"while (iterations < {maxIterations})");
        w.Line("iterations++;");
        w.Line($"{V} residual = {value("t", "out " + V + " slope")} - target;");
        w.Line($"var below = Kernel.LessThan(residual, {S(0)});");
        w.Line("lo = Kernel.Select(below, t, lo);");
        w.Line("hi = Kernel.Select(below, hi, t);");
        w.Line($"{V} tolerance = {S(isDouble ? 4.5e-16 : 2.4e-7)} * (Kernel.Abs(t) + {S(1)});");
        w.Line($"{V} delta = -residual / slope;");
        w.Line($"delta = Kernel.Select(Kernel.LessThan(Kernel.Abs(delta), tolerance), Kernel.Select(below, tolerance, -tolerance), delta);");
        w.Line($"{V} newton = t + delta;");
        w.Line($"{V} absResidual = Kernel.Abs(residual);");
        w.Line($"var useNewton = Kernel.And(Kernel.And(Kernel.GreaterThan(newton, lo), Kernel.LessThan(newton, hi)), Kernel.LessThanOrEqual(absResidual, {S(0.5)} * previous));");
        w.Line($"{V} next = Kernel.Select(useNewton, newton, {S(0.5)} * lo + {S(0.5)} * hi);");
        w.Line($"var closed = Kernel.Or(Kernel.LessThanOrEqual(hi - lo, tolerance + tolerance), Kernel.LessThanOrEqual(absResidual, {S(0)}));");
        w.Line("active = Kernel.And(active, Kernel.Not(closed));");
        w.Line("t = Kernel.Select(active, next, t);");
        w.Line("previous = absResidual;");
        w.Line("if (!Kernel.Any(active)) break;");
        w.Close();
        w.Line("// lanes still open after the iteration limit are reported as failures (NaN), never returned silently");
        w.Line($"x = Kernel.Select(Kernel.And(bracketed, Kernel.Not(active)), t, {S(double.NaN)});");
        w.Line("#if FLOWGEN_INVERSE_STATISTICS");
        w.Line("global::FlowGen.InverseStatistics.Record(growth, iterations, Kernel.Any(active));");
        w.Line("#endif");
    }
}
