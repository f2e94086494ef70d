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

/// <summary>Options of the sum-of-squares coupling: polynomial degree r of each square, number of squares K, and the half-width B of [−B, B] where the polynomial acts.</summary>
internal sealed record SumOfSquaresOptions(int Degree, int Squares, double Bound) : TransformerOptions
{
    public override TransformerKind Kind => SumOfSquaresTransformer.Instance;
}

/// <summary>
/// Sum-of-squares polynomial transformer (Jaini et al. 2019) on [−B, B] with C¹ linear tails, docs/model.md §3: with
/// x_c = clamp(x, −B, B) and u = x_c/B, τ′(x) = ε + Σₖ qₖ(u)², qₖ(u) = Σₗ a_kl uˡ, ε = 1e-3, and
/// τ(x) = c + x_c·(ε + Σₙ βₙ uⁿ/(n+1)) + (x − x_c)·τ′(x), βₙ = Σₖ Σ_{l+m=n} a_kl a_km: the integral of τ′ from 0, a
/// polynomial of degree 2r + 1 inside the bound, continued outside it by its tangent (the derivative is constant there), so a
/// stack of any depth grows at most linearly away from the data.
/// </summary>
internal sealed class SumOfSquaresTransformer : MonotoneTransformerKind<SumOfSquaresOptions>
{
    public static readonly SumOfSquaresTransformer Instance = new();

    public override string AttributeName => "SumOfSquaresCouplingAttribute";
    public override string SpecName => "sum_of_squares";
    public override string DisplayName => "sum-of-squares";
    public override IReadOnlyList<string> OptionNames { get; } = new[] { "Degree", "Squares", "Bound" };

    public override TransformerOptions Read(OptionReader r) =>
        new SumOfSquaresOptions(r.Int("Degree", 0, 8), r.Int("Squares", 1, 16), r.Double("Bound", b => b > 0 && b <= 1e6, "a finite number greater than 0 (at most 1e6)"));

    public override int ParametersPerCoordinate(TransformerOptions o)
    {
        var c = (SumOfSquaresOptions)o;
        return 1 + c.Squares * (c.Degree + 1);
    }

    public override double[] IdentityParameters(TransformerOptions o)
    {
        var c = (SumOfSquaresOptions)o;
        var p = new double[ParametersPerCoordinate(c)];
        // distinct a_k0 with Σ a_k0² = 1 − ε: τ′ = 1, and the squares are not interchangeable (equal values would receive
        // equal gradients forever and never separate)
        double norm = Math.Sqrt(c.Squares * (c.Squares + 1) * (2.0 * c.Squares + 1) / 6);
        for (int k = 0; k < c.Squares; k++) p[1 + k * (c.Degree + 1)] = Math.Sqrt(1 - Epsilon) * (k + 1) / norm;
        return p;
    }

    public override string Formula(TransformerOptions o)
    {
        var c = (SumOfSquaresOptions)o;
        string b = c.Bound.ToString("R", CultureInfo.InvariantCulture);
        return $"y = c + x_c·(ε + Σₙ βₙ uⁿ/(n+1)) + (x − x_c)·τ′, τ′ = ε + Σₖ qₖ(u)², x_c = clamp(x, −{b}, {b}), u = x_c/{b} ({c.Squares} squares of degree {c.Degree}, ε = 1e-3; linear outside [−{b}, {b}])";
    }

    public override string DescribeOptions(TransformerOptions o)
    {
        var c = (SumOfSquaresOptions)o;
        return ", degree " + c.Degree.ToString(CultureInfo.InvariantCulture) + ", squares " + c.Squares.ToString(CultureInfo.InvariantCulture)
            + ", bound " + c.Bound.ToString("R", CultureInfo.InvariantCulture);
    }

    public override void WriteSpec(TransformerOptions o, JsonWriter j)
    {
        var c = (SumOfSquaresOptions)o;
        j.Name("degree").Int(c.Degree).Name("squares").Int(c.Squares).Name("bound").Number(c.Bound);
    }
    public const double Epsilon = 1e-3;


    public override string ParameterNames => "c, then a_kl for k < K, l ≤ r";

    protected override string ConfigurationName(SumOfSquaresOptions c) => $"Sos_r{c.Degree}_K{c.Squares}_B{Num(c.Bound)}";

    protected override void EmitConfiguration(CodeWriter w, SumOfSquaresOptions c, Flavor f, bool isDouble)
    {
        string V = f.V, T = f.T, n = ConfigurationName(c);
        int r = c.Degree, k = c.Squares;
        string S(double v) => f.Splat(Literals.Of(v, isDouble));
        double b = c.Bound;
        w.Line($"/// <summary>Sum-of-squares τ (r = {r}, K = {k}, B = {b.ToString("R", CultureInfo.InvariantCulture)}): returns τ(x), τ′(x) = ε + Σₖ qₖ(u)² and τ″(x) = Σₖ 2qₖ(u)qₖ′(u)/B inside [−B, B], 0 outside.</summary>");
        w.Open($"private static {V} {n}Value{f.Suffix}{f.TypeParameters()}({V} x, ref {V} theta, int stride, out {V} derivative, out {V} curvature){f.Constraint}");
        w.Line("// the polynomials see the clamped input, normalised to [−1, 1]: u = x_c/B");
        w.Line($"{V} xc = Kernel.Min(Kernel.Max(x, {S(-b)}), {S(b)});");
        w.Line($"{V} u = xc * {S(1 / b)};");
        w.Line($"Span<{V}> beta = stackalloc {V}[{2 * r + 1}];");
        w.Line("beta.Clear();");
        w.Line($"{V} d = {S(Epsilon)}, dd = {S(0)};");
        w.Open($"for (int k = 0; k < {k}; k++)");
        w.Line($"ref {V} a = ref Unsafe.Add(ref theta, (1 + k * {r + 1}) * stride);");
        w.Line($"{V} q = Unsafe.Add(ref a, {r} * stride), dq = {S(0)};");
        w.Open($"for (int l = {r - 1}; l >= 0; l--)");
        w.Line("dq = Kernel.Mac(dq, u, q);");
        w.Line("q = Kernel.Mac(q, u, Unsafe.Add(ref a, l * stride));");
        w.Close();
        w.Line("d = Kernel.Mac(q, q, d);");
        w.Line("dd = Kernel.Mac(q + q, dq, dd);");
        w.Open($"for (int l = 0; l <= {r}; l++)");
        w.Line($"{V} al = Unsafe.Add(ref a, l * stride);");
        w.Line($"for (int m = 0; m <= {r}; m++) beta[l + m] = Kernel.Mac(al, Unsafe.Add(ref a, m * stride), beta[l + m]);");
        w.Close();
        w.Close();
        w.Line("// τ(x) = c + x_c·(ε + Σₙ βₙ/(n+1)·uⁿ) + (x − x_c)·τ′: the polynomial inside [−B, B] (Horner from the top), its tangent outside");
        w.Line($"{V} p = beta[{2 * r}] * ({T})(1.0 / {2 * r + 1});");
        w.Line($"for (int m = {2 * r - 1}; m >= 0; m--) p = Kernel.Mac(p, u, beta[m] * ({T})(1.0 / (m + 1)));");
        w.Line("derivative = d;");
        w.Line($"var inside = Kernel.And(Kernel.GreaterThanOrEqual(x, {S(-b)}), Kernel.LessThanOrEqual(x, {S(b)}));");
        w.Line($"curvature = Kernel.Select(inside, dd * {S(1 / b)}, {S(0)});");
        w.Line($"return Kernel.Mac(x - xc, d, Kernel.Mac(xc, p + {S(Epsilon)}, theta));");
        w.Close();
        w.Line();

        w.Line($"/// <summary>Sum-of-squares forward (r = {r}, K = {k}): x ← τ(x), log-det += log τ′(x).</summary>");
        w.Open($"private static void {n}Forward{f.TypeParameters()}(ref {V} x, ref {V} theta, int stride, ref {V} logDet){f.Constraint}");
        w.Line($"x = {n}Value{f.Suffix}(x, ref theta, stride, out {V} derivative, out _);");
        w.Line("logDet += Kernel.Log(derivative);");
        w.Close();
        w.Line();

        w.Line($"/// <summary>Sum-of-squares inverse (r = {r}, K = {k}) by safeguarded Newton–bisection from x₀ = (y − c)/τ′(0): x ← τ⁻¹(x), log-det −= log τ′.</summary>");
        w.Open($"private static void {n}Inverse{f.TypeParameters()}(ref {V} x, ref {V} theta, int stride, ref {V} logDet){f.Constraint}");
        w.Line($"{V} slopeAtZero = {S(Epsilon)};");
        w.Open($"for (int k = 0; k < {k}; k++)");
        w.Line($"{V} a0 = Unsafe.Add(ref theta, (1 + k * {r + 1}) * stride);");
        w.Line("slopeAtZero = Kernel.Mac(a0, a0, slopeAtZero);");
        w.Close();
        w.Line("// the map's state: where its evaluations put the derivatives they do not need (no temporary to zero on each evaluation)");
        w.Line($"Span<{V}> unused = stackalloc {V}[2];");
        EmitSolve(w, c, f, "theta", "MemoryMarshal.GetReference(unused)", "(x - theta) / slopeAtZero");
        w.Line($"{n}Value{f.Suffix}(x, ref theta, stride, out {V} derivativeAtRoot, out _);");
        w.Line("logDet -= Kernel.Log(derivativeAtRoot);");
        w.Close();
        w.Line();

        EmitMap(w, c, f, $"τ of a sum-of-squares coordinate (r = {r}, K = {k}); its state holds two values, for the τ′ and τ″ an evaluation does not need",
            $"{n}Value{f.Suffix}(x, ref theta, stride, out state, out Unsafe.Add(ref state, 1))",
            new[] { $"return {n}Value{f.Suffix}(x, ref theta, stride, out derivative, out state);" });

        if (!f.IsTile) return;
        w.Line($"/// <summary>Sum-of-squares backward (r = {r}, K = {k}, B = {c.Bound.ToString("R", CultureInfo.InvariantCulture)}): g ← g·τ′ + gl·τ″/τ′; ∂c = g; ∂a_kl = 2g·(x_c·Σₘ a_km uˡ⁺ᵐ/(l+m+1) + (x − x_c)·qₖuˡ) + 2gl·qₖuˡ/τ′.</summary>");
        w.Open($"private static void {n}Backward{f.TypeParameters()}({V} x, ref {V} theta, int stride, ref {V} g, {V} gl, ref {V} gtheta){f.Constraint}");
        w.Line($"{n}Value{f.Suffix}(x, ref theta, stride, out {V} derivative, out {V} curvature);");
        w.Line($"{V} gy = g;");
        w.Line($"{V} logSlope = gl / derivative;");
        w.Line("g = Kernel.Mac(gy, derivative, logSlope * curvature);");
        w.Line("gtheta = gy;");
        w.Line($"{V} xc = Kernel.Min(Kernel.Max(x, {S(-c.Bound)}), {S(c.Bound)});");
        w.Line($"{V} u = xc * {S(1 / c.Bound)};");
        w.Line("// the weight of ∂τ′/∂a_kl in ∂L/∂a_kl: the tail's distance times g, plus gl/τ′");
        w.Line($"{V} slopeWeight = Kernel.Mac(gy, x - xc, logSlope);");
        w.Line($"Span<{V}> power = stackalloc {V}[{2 * r + 1}];");
        w.Line($"power[0] = {S(1)};");
        w.Line($"for (int m = 1; m < {2 * r + 1}; m++) power[m] = power[m - 1] * u;");
        w.Open($"for (int k = 0; k < {k}; k++)");
        w.Line($"ref {V} a = ref Unsafe.Add(ref theta, (1 + k * {r + 1}) * stride);");
        w.Line($"ref {V} ga = ref Unsafe.Add(ref gtheta, (1 + k * {r + 1}) * stride);");
        w.Line($"{V} q = {S(0)};");
        w.Line($"for (int l = {r}; l >= 0; l--) q = Kernel.Mac(q, u, Unsafe.Add(ref a, l * stride));");
        w.Open($"for (int l = 0; l <= {r}; l++)");
        w.Line($"{V} integral = {S(0)};");
        w.Line($"for (int m = 0; m <= {r}; m++) integral = Kernel.Mac(Unsafe.Add(ref a, m * stride), power[l + m] * ({T})(1.0 / (l + m + 1)), integral);");
        w.Line($"Unsafe.Add(ref ga, l * stride) = {S(2)} * Kernel.Mac(gy * xc, integral, slopeWeight * q * power[l]);");
        w.Close();
        w.Close();
        w.Close();
        w.Line();
    }

    protected override void EmitDerivatives(CodeWriter w, SumOfSquaresOptions c, Flavor f, bool isDouble)
    {
        string V = f.V, n = ConfigurationName(c);
        w.Line("/// <summary>τ′(x) and λ_x = τ″/τ′.</summary>");
        w.Open($"private static void {n}Derivatives{f.TypeParameters()}({V} x, ref {V} theta, int stride, out {V} derivative, out {V} logDerivativeSlope){f.Constraint}");
        w.Line($"{n}Value{f.Suffix}(x, ref theta, stride, out derivative, out {V} curvature);");
        w.Line("logDerivativeSlope = curvature / derivative;");
        w.Close();
        w.Line();
    }
}
