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
/// var; Kernel's comparison and selection overloads exist for both). <c>{Name}Inverse</c> has no closed form: it calls the
/// runtime's safeguarded Newton–bisection (FlowGen.Kernels.MonotoneInverse, the same for every model), which evaluates τ
/// through the configuration's map type, a small struct with two static methods (<see cref="EmitMap"/>).
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
        w.Open($"private static void {n}InverseBackward<TV>({V} x, ref {V} theta, int stride, ref {V} g, {V} gl, ref {V} gtheta){Flavor.VectorConstraint}");
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
        w.Open($"private static void {n}Vjp<TDirection, TV>({V} x, ref {V} theta, int stride, ref {V} g, {V} gl, ref {V} gtheta) where TDirection : struct, IMapDirection{Flavor.VectorConstraint}");
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
        $"{ConfigurationName((TOptions)o)}Vjp<TDirection, TV>({x}, ref {theta(0)}, {stride}, ref {g}, {gl}, ref {gtheta(0)});";

    protected static string Num(double v) => v.ToString("R", CultureInfo.InvariantCulture).Replace(".", "p").Replace("-", "m").Replace("+", "");

    /// <summary>
    /// Emits the statement that inverts τ in place on <c>x</c> (which holds the target y): the runtime's safeguarded
    /// Newton–bisection, <c>FlowGen.Kernels.MonotoneInverse.Solve</c> (docs/model.md §7), for the configuration's map type
    /// (<see cref="EmitMap"/>) at the parameters <paramref name="theta"/> (θ₀, with the helper's <c>stride</c>) and the
    /// map's <paramref name="state"/> (a reference), started at <paramref name="guess"/>.
    /// </summary>
    protected void EmitSolve(CodeWriter w, TOptions c, Flavor f, string theta, string state, string guess) =>
        w.Line($"x = MonotoneInverse.Solve<{MapName(c, f)}{f.TypeParameters()}{(f.IsTile ? ", " + Flavor.Vector : "")}>(ref {theta}, stride, ref {state}, x, {guess});");

    /// <summary>
    /// Emits the type through which <c>MonotoneInverse</c> evaluates τ of one configuration in one flavor (described by
    /// <paramref name="what"/>, for its doc comment): an empty struct <c>{Name}Map</c> (<c>{Name}MapOne</c> for one sample)
    /// implementing <c>IMonotoneMap</c>. <paramref name="value"/> is the expression of τ(x) and
    /// <paramref name="valueWithDerivative"/> the statements of τ(x) with τ′(x) written to <c>derivative</c>, both in terms of
    /// <c>x</c>, <c>theta</c>, <c>stride</c> and <c>state</c>. They declare no local, not even a discard: the methods are
    /// inlined into the runtime's loop, and generated code has no [SkipLocalsInit] (it would need unsafe code), so each such
    /// local would be zeroed on every evaluation; outputs they do not need go to the state instead.
    /// </summary>
    protected void EmitMap(CodeWriter w, TOptions c, Flavor f, string what, string value, string[] valueWithDerivative)
    {
        string V = f.V, map = MapName(c, f);
        string parameters = $"{V} x, ref {V} theta, int stride, ref {V} state";
        w.Line($"/// <summary>For MonotoneInverse.Solve: {what}.</summary>");
        w.Open($"private readonly struct {map}{f.TypeParameters()} : IMonotoneMap<{V}>{f.Constraint}");
        Inline(w);
        w.Line($"public static {V} Value({parameters}) => {value};");
        w.Line();
        Inline(w);
        if (valueWithDerivative.Length == 1 && valueWithDerivative[0].StartsWith("return ", StringComparison.Ordinal))
        {
            w.Line($"public static {V} Value({parameters}, out {V} derivative) => {valueWithDerivative[0].Substring("return ".Length)}");
        }
        else
        {
            w.Open($"public static {V} Value({parameters}, out {V} derivative)");
            foreach (string line in valueWithDerivative) w.Line(line);
            w.Close();
        }
        w.Close();
        w.Line();
    }

    /// <summary>The name of a configuration's map type in a flavor.</summary>
    protected string MapName(TOptions c, Flavor f) => ConfigurationName(c) + "Map" + f.Suffix;
}
