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

/// <summary>Options of the spline coupling: number of bins K and the half-width B of the interval [−B, B] the spline covers.</summary>
internal sealed record SplineOptions(int Bins, double Bound) : TransformerOptions
{
    public override TransformerKind Kind => SplineTransformer.Instance;
}

/// <summary>
/// Rational-quadratic spline transformer (Durkan et al. 2019), docs/model.md §3: K bins on [−B, B], identity outside.
/// Inputs outside [−B, B] never reach the spline arithmetic (it sees 0 instead, and its result is discarded), so
/// no NaN can leak into values or gradients from a discarded branch.
/// </summary>
internal sealed class SplineTransformer : MonotoneTransformerKind<SplineOptions>
{
    public static readonly SplineTransformer Instance = new();

    public override string AttributeName => "SplineCouplingAttribute";
    public override string SpecName => "spline";
    public override string DisplayName => "rational-quadratic spline";
    public override IReadOnlyList<string> OptionNames { get; } = new[] { "Bins", "Bound" };

    public override TransformerOptions Read(OptionReader r) =>
        new SplineOptions(r.Int("Bins", 2, 64), r.Double("Bound", b => b > 0 && b <= 1e6, "a finite number greater than 0 (at most 1e6)"));

    public override int ParametersPerCoordinate(TransformerOptions o) => 3 * ((SplineOptions)o).Bins - 1;

    public override double[] IdentityParameters(TransformerOptions o)
    {
        int k = ((SplineOptions)o).Bins;
        var p = new double[3 * k - 1];
        // equal widths and heights (zero logits) and interior derivatives δ_min + softplus(θ) = 1
        for (int i = 2 * k; i < 3 * k - 1; i++) p[i] = Math.Log(Math.Exp(1 - MinDerivative) - 1);
        return p;
    }

    public override string Formula(TransformerOptions o)
    {
        var c = (SplineOptions)o;
        return $"monotone rational-quadratic spline with {c.Bins} bins on [−{c.Bound.ToString("R", CultureInfo.InvariantCulture)}, {c.Bound.ToString("R", CultureInfo.InvariantCulture)}], identity outside";
    }

    public override string DescribeOptions(TransformerOptions o)
    {
        var c = (SplineOptions)o;
        return ", bins " + c.Bins.ToString(CultureInfo.InvariantCulture) + ", bound " + c.Bound.ToString("R", CultureInfo.InvariantCulture);
    }

    public override void WriteSpec(TransformerOptions o, JsonWriter j)
    {
        var c = (SplineOptions)o;
        j.Name("bins").Int(c.Bins).Name("bound").Number(c.Bound);
    }
    public const double MinBin = 1e-3, MinDerivative = 1e-3;


    public override string ParameterNames => "K raw widths, K raw heights, K−1 raw interior derivatives";

    protected override string ConfigurationName(SplineOptions c) => $"Spline_K{c.Bins}_B{Num(c.Bound)}";

    private static void Geometry(CodeWriter w, SplineOptions c, Flavor f, bool isDouble, bool softmaxes)
    {
        string V = f.V;
        int k = c.Bins;
        string S(double v) => f.Splat(Literals.Of(v, isDouble));
        double b = c.Bound, scale = 2 * b * (1 - MinBin * k), floor = 2 * b * MinBin;
        w.Line($"// geometry: widths and heights 2B·(m + (1 − mK)·softmax), knots by cumulative sums from −B, interior derivatives δ_min + softplus");
        w.Line($"Span<{V}> xk = stackalloc {V}[{k + 1}], yk = stackalloc {V}[{k + 1}], delta = stackalloc {V}[{k + 1}];");
        w.Line($"Span<{V}> width = stackalloc {V}[{k}], height = stackalloc {V}[{k}], softWidth = stackalloc {V}[{k}], softHeight = stackalloc {V}[{k}];");
        foreach (var (name, soft, knots, offset) in new[] { ("width", "softWidth", "xk", 0), ("height", "softHeight", "yk", k) })
        {
            w.Open("");
            w.Line($"{V} max = Unsafe.Add(ref theta, {offset} * stride);");
            w.Line($"for (int i = 1; i < {k}; i++) max = Kernel.Max(max, Unsafe.Add(ref theta, ({offset} + i) * stride));");
            w.Line($"{V} sum = {S(0)};");
            w.Line($"for (int i = 0; i < {k}; i++) {{ {soft}[i] = Kernel.Exp(Unsafe.Add(ref theta, ({offset} + i) * stride) - max); sum += {soft}[i]; }}");
            w.Line($"{V} inverseSum = {S(1)} / sum;");
            w.Line($"{knots}[0] = {S(-b)};");
            w.Open($"for (int i = 0; i < {k}; i++)");
            w.Line($"{soft}[i] *= inverseSum;");
            w.Line($"{name}[i] = Kernel.Mac({soft}[i], {S(scale)}, {S(floor)});");
            w.Line($"{knots}[i + 1] = {knots}[i] + {name}[i];");
            w.Close();
            w.Close();
        }
        w.Line($"delta[0] = {S(1)};");
        w.Line($"delta[{k}] = {S(1)};");
        w.Line($"for (int i = 1; i < {k}; i++) delta[i] = {S(MinDerivative)} + Kernel.Softplus(Unsafe.Add(ref theta, ({2 * k - 1} + i) * stride));");
        _ = softmaxes;
    }

    /// <summary>Selects, per lane, the bin of <paramref name="position"/> among the knots <paramref name="knots"/>.</summary>
    private static void SelectBin(CodeWriter w, SplineOptions c, Flavor f, bool isDouble, string position, string knots, bool index)
    {
        string V = f.V;
        w.Line($"{V} x0 = xk[0], y0 = yk[0], w0 = width[0], h0 = height[0], d0 = delta[0], d1 = delta[1]{(index ? $", bin = {f.Splat(Literals.Of(0, isDouble))}" : "")};");
        w.Open($"for (int i = 1; i < {c.Bins}; i++)");
        w.Line($"var past = Kernel.GreaterThanOrEqual({position}, {knots}[i]);");
        w.Line("x0 = Kernel.Select(past, xk[i], x0); y0 = Kernel.Select(past, yk[i], y0);");
        w.Line("w0 = Kernel.Select(past, width[i], w0); h0 = Kernel.Select(past, height[i], h0);");
        w.Line("d0 = Kernel.Select(past, delta[i], d0); d1 = Kernel.Select(past, delta[i + 1], d1);");
        if (index) w.Line($"bin = Kernel.Select(past, {f.Splat($"({f.T})i")}, bin);");
        w.Close();
    }

    protected override void EmitConfiguration(CodeWriter w, SplineOptions c, Flavor f, bool isDouble)
    {
        string V = f.V, n = ConfigurationName(c);
        int k = c.Bins;
        double b = c.Bound;
        string S(double v) => f.Splat(Literals.Of(v, isDouble));

        w.Line($"/// <summary>Rational-quadratic spline (K = {k}, B = {b.ToString("R", CultureInfo.InvariantCulture)}): returns τ(x) and λ = log τ′(x); identity outside [−B, B].</summary>");
        w.Open($"private static {V} {n}Value{f.TypeParameters()}({V} x, ref {V} theta, int stride, out {V} logDerivative){f.Constraint}");
        Geometry(w, c, f, isDouble, false);
        w.Line($"var inside = Kernel.And(Kernel.GreaterThanOrEqual(x, {S(-b)}), Kernel.LessThanOrEqual(x, {S(b)}));");
        w.Line($"{V} xc = Kernel.Select(inside, x, {S(0)});");
        SelectBin(w, c, f, isDouble, "xc", "xk", false);
        w.Line($"{V} s = h0 / w0;");
        w.Line($"{V} xi = Kernel.Min(Kernel.Max((xc - x0) / w0, {S(0)}), {S(1)});");
        w.Line($"{V} e = xi * ({S(1)} - xi);");
        w.Line($"{V} den = Kernel.Mac(d1 + d0 - (s + s), e, s);");
        w.Line($"{V} y = y0 + h0 * Kernel.Mac(s, xi * xi, d0 * e) / den;");
        w.Line($"{V} oneMinus = {S(1)} - xi;");
        w.Line($"{V} q = Kernel.Mac(d1, xi * xi, Kernel.Mac(s + s, e, d0 * oneMinus * oneMinus));");
        w.Line($"logDerivative = Kernel.Select(inside, Kernel.Log(s * s * q / (den * den)), {S(0)});");
        w.Line("return Kernel.Select(inside, y, x);");
        w.Close();
        w.Line();

        w.Line($"/// <summary>Spline forward (K = {k}): x ← τ(x), log-det += log τ′(x).</summary>");
        w.Open($"private static void {n}Forward{f.TypeParameters()}(ref {V} x, ref {V} theta, int stride, ref {V} logDet){f.Constraint}");
        w.Line($"x = {n}Value(x, ref theta, stride, out {V} logDerivative);");
        w.Line("logDet += logDerivative;");
        w.Close();
        w.Line();

        w.Line($"/// <summary>Spline inverse (K = {k}): bin by the y-knots, then the stable root ξ = 2c/(−b − √(b² − 4ac)); identity outside [−B, B].</summary>");
        w.Open($"private static void {n}Inverse{f.TypeParameters()}(ref {V} x, ref {V} theta, int stride, ref {V} logDet){f.Constraint}");
        Geometry(w, c, f, isDouble, false);
        w.Line($"{V} target = x;");
        w.Line($"var inside = Kernel.And(Kernel.GreaterThanOrEqual(target, {S(-b)}), Kernel.LessThanOrEqual(target, {S(b)}));");
        w.Line($"{V} yc = Kernel.Select(inside, target, {S(0)});");
        SelectBin(w, c, f, isDouble, "yc", "yk", false);
        w.Line($"{V} s = h0 / w0;");
        w.Line($"{V} dy = yc - y0;");
        w.Line($"{V} slopes = d1 + d0 - (s + s);");
        w.Line($"{V} qa = Kernel.Mac(dy, slopes, h0 * (s - d0));");
        w.Line($"{V} qb = h0 * d0 - dy * slopes;");
        w.Line($"{V} qc = -s * dy;");
        w.Line($"{V} discriminant = Kernel.Max(qb * qb - {S(4)} * qa * qc, {S(0)});");
        w.Line($"{V} xi = Kernel.Min(Kernel.Max((qc + qc) / (-qb - Kernel.Sqrt(discriminant)), {S(0)}), {S(1)});");
        w.Line($"{V} e = xi * ({S(1)} - xi);");
        w.Line($"{V} den = Kernel.Mac(slopes, e, s);");
        w.Line($"{V} oneMinus = {S(1)} - xi;");
        w.Line($"{V} q = Kernel.Mac(d1, xi * xi, Kernel.Mac(s + s, e, d0 * oneMinus * oneMinus));");
        w.Line($"logDet -= Kernel.Select(inside, Kernel.Log(s * s * q / (den * den)), {S(0)});");
        w.Line("x = Kernel.Select(inside, Kernel.Mac(xi, w0, x0), target);");
        w.Close();
        w.Line();

        if (!f.IsTile) return;
        w.Line($"/// <summary>Spline backward (K = {k}): partial derivatives of τ and λ in the selected bin, scattered to the raw widths, heights and derivatives.</summary>");
        w.Open($"private static void {n}Backward{f.TypeParameters()}({V} x, ref {V} theta, int stride, ref {V} g, {V} gl, ref {V} gtheta){f.Constraint}");
        Geometry(w, c, f, isDouble, true);
        w.Line($"var inside = Kernel.And(Kernel.GreaterThanOrEqual(x, {S(-b)}), Kernel.LessThanOrEqual(x, {S(b)}));");
        w.Line($"{V} xc = Kernel.Select(inside, x, {S(0)});");
        SelectBin(w, c, f, isDouble, "xc", "xk", true);
        w.Line($"{V} one = {S(1)}, two = {S(2)};");
        w.Line($"{V} s = h0 / w0, inverseWidth = one / w0;");
        w.Line($"{V} xi = Kernel.Min(Kernel.Max((xc - x0) * inverseWidth, {S(0)}), one);");
        w.Line($"{V} e = xi * (one - xi), oneMinus = one - xi, oneMinusTwoXi = one - (xi + xi);");
        w.Line($"{V} numerator = Kernel.Mac(s, xi * xi, d0 * e);             // N: τ = y0 + h·N/D");
        w.Line($"{V} den = Kernel.Mac(d1 + d0 - (s + s), e, s);              // D");
        w.Line($"{V} q = Kernel.Mac(d1, xi * xi, Kernel.Mac(s + s, e, d0 * oneMinus * oneMinus)); // λ = 2 log s + log Q − 2 log D");
        w.Line($"{V} inverseDen = one / den, inverseQ = one / q;");
        w.Line($"{V} dNdXi = Kernel.Mac(two * s, xi, d0 * oneMinusTwoXi);");
        w.Line($"{V} dDdXi = (d1 + d0 - (s + s)) * oneMinusTwoXi;");
        w.Line($"{V} hOverD2 = h0 * inverseDen * inverseDen;");
        w.Line($"{V} tauXi = hOverD2 * (dNdXi * den - numerator * dDdXi);");
        w.Line($"{V} tauS = hOverD2 * (xi * xi * den - numerator * (one - (e + e)));");
        w.Line($"{V} tauD0 = hOverD2 * e * (den - numerator);");
        w.Line($"{V} tauD1 = -hOverD2 * numerator * e;");
        w.Line($"{V} dQdXi = two * (d1 * xi + s * oneMinusTwoXi - d0 * oneMinus);");
        w.Line($"{V} lamXi = dQdXi * inverseQ - two * dDdXi * inverseDen;");
        w.Line($"{V} lamS = two / s + two * e * inverseQ - two * (one - (e + e)) * inverseDen;");
        w.Line($"{V} lamD0 = oneMinus * oneMinus * inverseQ - two * e * inverseDen;");
        w.Line($"{V} lamD1 = xi * xi * inverseQ - two * e * inverseDen;");
        w.Line($"{V} gy = g;");
        w.Line($"{V} zero = {S(0)};");
        w.Line("// upstream combined, zero outside [−B, B] where τ is the identity and no parameter matters");
        w.Line($"{V} gXi = Kernel.Select(inside, Kernel.Mac(gy, tauXi, gl * lamXi), zero);");
        w.Line($"{V} gS = Kernel.Select(inside, Kernel.Mac(gy, tauS, gl * lamS), zero);");
        w.Line($"{V} gD0 = Kernel.Select(inside, Kernel.Mac(gy, tauD0, gl * lamD0), zero);");
        w.Line($"{V} gD1 = Kernel.Select(inside, Kernel.Mac(gy, tauD1, gl * lamD1), zero);");
        w.Line($"{V} gY0 = Kernel.Select(inside, gy, zero);");
        w.Line("g = Kernel.Select(inside, gXi * inverseWidth, gy);");
        w.Line("// knots: x0 = −B + Σ_{i<bin} w_i, y0 = −B + Σ_{i<bin} h_i; the selected bin's own width and height");
        w.Line($"{V} gWidthOwn = -(xi * gXi + s * gS) * inverseWidth, gX0 = -gXi * inverseWidth;");
        w.Line($"{V} gHeightOwn = Kernel.Select(inside, Kernel.Mac(gS, inverseWidth, gy * numerator * inverseDen), zero);");
        w.Line($"Span<{V}> gWidth = stackalloc {V}[{k}], gHeight = stackalloc {V}[{k}];");
        w.Line($"{V} dotWidth = zero, dotHeight = zero;");
        w.Open($"for (int i = 0; i < {k}; i++)");
        w.Line($"{V} index = {f.Splat($"({f.T})i")};");
        w.Line("var before = Kernel.GreaterThan(bin, index);");
        w.Line("var at = Kernel.And(Kernel.GreaterThanOrEqual(bin, index), Kernel.LessThanOrEqual(bin, index));");
        w.Line("gWidth[i] = Kernel.Select(at, gWidthOwn, zero) + Kernel.Select(before, gX0, zero);");
        w.Line("gHeight[i] = Kernel.Select(at, gHeightOwn, zero) + Kernel.Select(before, gY0, zero);");
        w.Line("dotWidth = Kernel.Mac(gWidth[i], softWidth[i], dotWidth);");
        w.Line("dotHeight = Kernel.Mac(gHeight[i], softHeight[i], dotHeight);");
        w.Close();
        w.Line("// through 2B·(m + (1 − mK)·softmax): ∂/∂θ_j = 2B(1 − mK)·softmax_j·(g_j − Σᵢ gᵢ·softmaxᵢ)");
        w.Open($"for (int i = 0; i < {k}; i++)");
        w.Line($"Unsafe.Add(ref gtheta, i * stride) = {S(2 * b * (1 - MinBin * k))} * softWidth[i] * (gWidth[i] - dotWidth);");
        w.Line($"Unsafe.Add(ref gtheta, ({k} + i) * stride) = {S(2 * b * (1 - MinBin * k))} * softHeight[i] * (gHeight[i] - dotHeight);");
        w.Close();
        w.Line("// interior derivatives δ_i = δ_min + softplus(θ): the bin's left knot is δ_bin, its right knot δ_bin+1");
        w.Open($"for (int i = 1; i < {k}; i++)");
        w.Line($"{V} index = {f.Splat($"({f.T})i")};");
        w.Line("var left = Kernel.And(Kernel.GreaterThanOrEqual(bin, index), Kernel.LessThanOrEqual(bin, index));");
        w.Line($"var right = Kernel.And(Kernel.GreaterThanOrEqual(bin + one, index), Kernel.LessThanOrEqual(bin + one, index));");
        w.Line($"{V} gDelta = Kernel.Select(left, gD0, zero) + Kernel.Select(right, gD1, zero);");
        w.Line($"Unsafe.Add(ref gtheta, ({2 * k - 1} + i) * stride) = gDelta * Kernel.Sigmoid(Unsafe.Add(ref theta, ({2 * k - 1} + i) * stride));");
        w.Close();
        w.Close();
        w.Line();
    }

    protected override void EmitDerivatives(CodeWriter w, SplineOptions c, Flavor f, bool isDouble)
    {
        string V = f.V, n = ConfigurationName(c);
        double b = c.Bound;
        string S(double v) => f.Splat(Literals.Of(v, isDouble));
        w.Line("/// <summary>τ′(x) and λ_x (1 and 0 outside [−B, B]).</summary>");
        w.Open($"private static void {n}Derivatives{f.TypeParameters()}({V} x, ref {V} theta, int stride, out {V} derivative, out {V} logDerivativeSlope){f.Constraint}");
        Geometry(w, c, f, isDouble, false);
        w.Line($"var inside = Kernel.And(Kernel.GreaterThanOrEqual(x, {S(-b)}), Kernel.LessThanOrEqual(x, {S(b)}));");
        w.Line($"{V} xc = Kernel.Select(inside, x, {S(0)});");
        SelectBin(w, c, f, isDouble, "xc", "xk", false);
        w.Line($"{V} one = {S(1)}, two = {S(2)};");
        w.Line($"{V} s = h0 / w0;");
        w.Line($"{V} xi = Kernel.Min(Kernel.Max((xc - x0) / w0, {S(0)}), one);");
        w.Line($"{V} e = xi * (one - xi), oneMinus = one - xi, oneMinusTwoXi = one - (xi + xi);");
        w.Line($"{V} den = Kernel.Mac(d1 + d0 - (s + s), e, s);");
        w.Line($"{V} q = Kernel.Mac(d1, xi * xi, Kernel.Mac(s + s, e, d0 * oneMinus * oneMinus));");
        w.Line($"{V} dDdXi = (d1 + d0 - (s + s)) * oneMinusTwoXi;");
        w.Line($"{V} dQdXi = two * (d1 * xi + s * oneMinusTwoXi - d0 * oneMinus);");
        w.Line("derivative = Kernel.Select(inside, s * s * q / (den * den), one);");
        w.Line($"logDerivativeSlope = Kernel.Select(inside, (dQdXi / q - two * dDdXi / den) / w0, {S(0)});");
        w.Close();
        w.Line();
    }
}
