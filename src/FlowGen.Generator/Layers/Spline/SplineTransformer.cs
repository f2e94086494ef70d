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

    /// <summary>
    /// Emits <c>{Name}Knots</c>: the softmax of the K raw sizes at θ₀ (stride apart) into <c>soft</c>, and the knots
    /// −B + Σ 2B·(m + (1 − mK)·softmax) into <c>knots</c>. A helper of its own (called for the widths and for the heights)
    /// so that the evaluating methods stay small enough for the JIT to inline every vector operation in them.
    /// </summary>
    private void EmitKnots(CodeWriter w, SplineOptions c, Flavor f, bool isDouble)
    {
        string V = f.V, n = ConfigurationName(c);
        int k = c.Bins;
        string S(double v) => f.Splat(Literals.Of(v, isDouble));
        double b = c.Bound;
        w.Line($"/// <summary>Spline bins (K = {k}): softmax of the K raw sizes at θ₀ (stride apart) into soft; knots −B + Σ 2B·(m + (1 − mK)·softmax) into knots (K + 1).</summary>");
        w.Open($"private static void {n}Knots{f.TypeParameters()}(ref {V} theta, int stride, Span<{V}> soft, Span<{V}> knots){f.Constraint}");
        w.Line($"{V} max = theta;");
        w.Line($"for (int i = 1; i < {k}; i++) max = Kernel.Max(max, Unsafe.Add(ref theta, i * stride));");
        w.Line($"{V} sum = {S(0)};");
        w.Line($"for (int i = 0; i < {k}; i++) {{ soft[i] = Kernel.Exp(Unsafe.Add(ref theta, i * stride) - max); sum += soft[i]; }}");
        w.Line($"{V} inverseSum = {S(1)} / sum;");
        w.Line($"knots[0] = {S(-b)};");
        w.Open($"for (int i = 0; i < {k}; i++)");
        w.Line("soft[i] *= inverseSum;");
        w.Line($"knots[i + 1] = knots[i] + Kernel.Mac(soft[i], {f.Splat(n + "BinScale")}, {f.Splat(n + "BinFloor")});");
        w.Close();
        w.Close();
        w.Line();
        // tile flavor: not inlined, like the affine helpers: the callers are large, and a softplus or sigmoid of vectors
        // inlined twice would exhaust the JIT's inlining budget of the caller, which then calls even its vector operators
        // instead of inlining them
        string attribute = f.IsTile ? "[MethodImpl(MethodImplOptions.NoInlining)]" : "[MethodImpl(MethodImplOptions.AggressiveInlining)]";
        w.Line("/// <summary>softplus(θ) of an interior knot's raw derivative parameter: δ = δ_min + softplus(θ).</summary>");
        w.Line(attribute);
        w.Line($"private static {V} {n}Softplus{f.TypeParameters()}({V} raw){f.Constraint} => Kernel.Softplus(raw);");
        w.Line();
        if (!f.IsTile) return;
        w.Line("/// <summary>sigmoid(θ) = dδ/dθ of an interior knot's raw derivative parameter.</summary>");
        w.Line(attribute);
        w.Line($"private static {V} {n}Sigmoid{f.TypeParameters()}({V} raw){f.Constraint} => Kernel.Sigmoid(raw);");
        w.Line();
    }

    /// <summary>Declares the bins' softmaxes and knots and fills them through <c>{Name}Knots</c>.</summary>
    private void Geometry(CodeWriter w, SplineOptions c, Flavor f)
    {
        string V = f.V, n = ConfigurationName(c);
        int k = c.Bins;
        w.Line("// geometry: widths and heights 2B·(m + (1 − mK)·softmax), knots by cumulative sums from −B");
        w.Line($"Span<{V}> softWidth = stackalloc {V}[{k}], softHeight = stackalloc {V}[{k}], xk = stackalloc {V}[{k + 1}], yk = stackalloc {V}[{k + 1}];");
        w.Line($"{n}Knots(ref theta, stride, softWidth, xk);");
        w.Line($"{n}Knots(ref Unsafe.Add(ref theta, {k} * stride), stride, softHeight, yk);");
    }

    /// <summary>
    /// Selects, per lane, the bin of <paramref name="position"/> among the knots <paramref name="knots"/>: its left knot
    /// (x0, y0), width w0, height h0 and the derivatives d0, d1 at its two knots, δ = δ_min + softplus(θ) inside and 1 at
    /// ±B. Only the selected bin's two raw derivatives go through softplus (and, in the backward pass, through its
    /// derivative, the sigmoid): per lane the same operations as transforming all K − 1 of them and selecting.
    /// </summary>
    private void SelectBin(CodeWriter w, SplineOptions c, Flavor f, bool isDouble, string position, string knots, bool index)
    {
        string V = f.V;
        int k = c.Bins;
        // raw parameter of interior knot i (1 … K − 1): θ[(2K − 1 + i)·stride]
        string Theta(int offset) => $"Unsafe.Add(ref theta, ({2 * k - 1 + offset} + i) * stride)";
        w.Line($"// the bin: the last knot at or left of {position}; raw interior derivatives of its left and right knots");
        w.Line($"{V} x0 = xk[0], y0 = yk[0], softW = softWidth[0], softH = softHeight[0], thetaLeft = Unsafe.Add(ref theta, {2 * k} * stride), thetaRight = thetaLeft{(index ? $", bin = {f.Splat(Literals.Of(0, isDouble))}" : "")};");
        w.Open($"for (int i = 1; i < {k}; i++)");
        w.Line($"var past = Kernel.GreaterThanOrEqual({position}, {knots}[i]);");
        w.Line("x0 = Kernel.Select(past, xk[i], x0); y0 = Kernel.Select(past, yk[i], y0);");
        w.Line("softW = Kernel.Select(past, softWidth[i], softW); softH = Kernel.Select(past, softHeight[i], softH);");
        w.Line($"thetaLeft = Kernel.Select(past, {Theta(0)}, thetaLeft);");
        w.Line($"if (i < {k - 1}) thetaRight = Kernel.Select(past, {Theta(1)}, thetaRight);");
        if (index) w.Line($"bin = Kernel.Select(past, {f.Splat($"({f.T})i")}, bin);");
        w.Close();
        string scale = f.Splat(ConfigurationName(c) + "BinScale"), floor = f.Splat(ConfigurationName(c) + "BinFloor");
        w.Line($"{V} w0 = Kernel.Mac(softW, {scale}, {floor}), h0 = Kernel.Mac(softH, {scale}, {floor});");
        string n = ConfigurationName(c);
        w.Line($"{V} d0 = Kernel.Select(Kernel.GreaterThanOrEqual({position}, {knots}[1]), {f.Splat(n + "MinDerivative")} + {n}Softplus(thetaLeft), {f.Splat(Literals.Of(1, isDouble))});");
        w.Line($"{V} d1 = Kernel.Select(Kernel.GreaterThanOrEqual({position}, {knots}[{k - 1}]), {f.Splat(Literals.Of(1, isDouble))}, {f.Splat(n + "MinDerivative")} + {n}Softplus(thetaRight));");
    }

    /// <summary>The named constants of a configuration (class members, written once, with the tile flavor).</summary>
    private void EmitConstants(CodeWriter w, SplineOptions c, Flavor f, bool isDouble)
    {
        string n = ConfigurationName(c), T = f.T;
        double b = c.Bound;
        w.Line($"/// <summary>Spline (K = {c.Bins}, B = {b.ToString("R", CultureInfo.InvariantCulture)}): a bin's size is BinScale·softmax + BinFloor = 2B·(m + (1 − mK)·softmax) (minimum bin fraction m = {MinBin.ToString("R", CultureInfo.InvariantCulture)}); interior knot derivatives are MinDerivative + softplus(θ).</summary>");
        w.Line($"private const {T} {n}BinScale = {Literals.Of(2 * b * (1 - MinBin * c.Bins), isDouble)}, {n}BinFloor = {Literals.Of(2 * b * MinBin, isDouble)}, {n}MinDerivative = {Literals.Of(MinDerivative, isDouble)};");
        w.Line();
    }

    protected override void EmitConfiguration(CodeWriter w, SplineOptions c, Flavor f, bool isDouble)
    {
        string V = f.V, n = ConfigurationName(c);
        int k = c.Bins;
        double b = c.Bound;
        string S(double v) => f.Splat(Literals.Of(v, isDouble));

        if (f.IsTile) EmitConstants(w, c, f, isDouble);
        EmitKnots(w, c, f, isDouble);

        w.Line($"/// <summary>Rational-quadratic spline (K = {k}, B = {b.ToString("R", CultureInfo.InvariantCulture)}): returns τ(x) and λ = log τ′(x); identity outside [−B, B].</summary>");
        w.Open($"private static {V} {n}Value{f.TypeParameters()}({V} x, ref {V} theta, int stride, out {V} logDerivative){f.Constraint}");
        Geometry(w, c, f);
        w.Line($"var inside = Kernel.And(Kernel.GreaterThanOrEqual(x, {S(-b)}), Kernel.LessThanOrEqual(x, {S(b)}));");
        w.Line($"{V} xc = Kernel.Select(inside, x, {S(0)});");
        SelectBin(w, c, f, isDouble, "xc", "xk", false);
        w.Line("// τ = y0 + h·(s ξ² + d0 ξ(1 − ξ)) / (s + (d1 + d0 − 2s) ξ(1 − ξ)), s = h/w, ξ = (x − x0)/w");
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
        Geometry(w, c, f);
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
        w.Line($"/// <summary>Spline backward through the bins' sizes 2B·(m + (1 − mK)·softmax(θ)) (K = {k}): size i receives own in the selected bin and before in every bin left of it (each moves the bin's left knot); the gradients of the K raw sizes go to gθ₀ (stride apart).</summary>");
        w.Open($"private static void {n}SizeGradient<TV>({V} bin, {V} own, {V} before, Span<{V}> soft, ref {V} gtheta, int stride){Flavor.VectorConstraint}");
        w.Line($"{V} zero = {S(0)}, dot = zero;");
        w.Open($"for (int i = 0; i < {k}; i++)");
        w.Line($"{V} index = {f.Splat($"({f.T})i")};");
        w.Line("var at = Kernel.And(Kernel.GreaterThanOrEqual(bin, index), Kernel.LessThanOrEqual(bin, index));");
        w.Line($"{V} gradient = Kernel.Select(at, own, zero) + Kernel.Select(Kernel.GreaterThan(bin, index), before, zero);");
        w.Line("Unsafe.Add(ref gtheta, i * stride) = gradient;");
        w.Line("dot = Kernel.Mac(gradient, soft[i], dot);");
        w.Close();
        w.Line("// ∂/∂θ_j = 2B(1 − mK)·softmax_j·(g_j − Σᵢ gᵢ·softmaxᵢ)");
        w.Open($"for (int i = 0; i < {k}; i++)");
        w.Line($"ref {V} gradient = ref Unsafe.Add(ref gtheta, i * stride);");
        w.Line($"gradient = {f.Splat(n + "BinScale")} * soft[i] * (gradient - dot);");
        w.Close();
        w.Close();
        w.Line();

        w.Line($"/// <summary>Spline backward (K = {k}): partial derivatives of τ and λ in the selected bin, scattered to the raw widths, heights and derivatives.</summary>");
        w.Open($"private static void {n}Backward{f.TypeParameters()}({V} x, ref {V} theta, int stride, ref {V} g, {V} gl, ref {V} gtheta){f.Constraint}");
        Geometry(w, c, f);
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
        w.Line($"{n}SizeGradient(bin, gWidthOwn, gX0, softWidth, ref gtheta, stride);");
        w.Line($"{n}SizeGradient(bin, gHeightOwn, gY0, softHeight, ref Unsafe.Add(ref gtheta, {k} * stride), stride);");
        w.Line("// interior derivatives δ_i = δ_min + softplus(θ): the bin's left knot is δ_bin, its right knot δ_bin+1 (dδ/dθ = sigmoid(θ))");
        w.Line($"{V} gLeft = gD0 * {n}Sigmoid(thetaLeft), gRight = gD1 * {n}Sigmoid(thetaRight);");
        w.Open($"for (int i = 1; i < {k}; i++)");
        w.Line($"{V} index = {f.Splat($"({f.T})i")};");
        w.Line("var left = Kernel.And(Kernel.GreaterThanOrEqual(bin, index), Kernel.LessThanOrEqual(bin, index));");
        w.Line($"var right = Kernel.And(Kernel.GreaterThanOrEqual(bin + one, index), Kernel.LessThanOrEqual(bin + one, index));");
        w.Line($"Unsafe.Add(ref gtheta, ({2 * k - 1} + i) * stride) = Kernel.Select(left, gLeft, Kernel.Select(right, gRight, zero));");
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
        Geometry(w, c, f);
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
