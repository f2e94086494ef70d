using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using FlowGen.Generator.Model;
using FlowGen.Generator.Planning;

namespace FlowGen.Generator.Emit;

/// <summary>
/// Transformers written as helper methods per distinct configuration: <c>{Name}Forward</c>, <c>{Name}Inverse</c>,
/// <c>{Name}Backward</c> (vector-Jacobian product of the forward map, tile flavor) and <c>{Name}InverseBackward</c>,
/// which every kind gets for free from its derivatives: for x = τ⁻¹(y) with log-det −λ(x),
/// ∂L/∂y = (gx − gl·λ_x)/τ′ and ∂L/∂θ = −(∂L/∂y·τ_θ + gl·λ_θ), i.e. minus the forward product at upstream (∂L/∂y, gl).
/// Parameters of one coordinate are read from a reference to θ₀ and a stride. Helper bodies are templates shared by the
/// scalar and vector flavors (masks declared with var; Kernel's comparison and selection overloads exist for both).
/// </summary>
internal abstract class GenericTransformerEmitter : TransformerEmitter
{
    protected abstract CouplingKind Kind { get; }

    /// <summary>A name that identifies the configuration, e.g. Sos_r2_K3.</summary>
    protected abstract string Name(CouplingLayer c);

    /// <summary>Writes the helpers of one configuration in one flavor.</summary>
    protected abstract void EmitConfiguration(CodeWriter w, CouplingLayer c, Flavor f, bool isDouble);

    /// <summary>Writes {Name}Derivatives(x, ref θ, stride, out τ′, out λ_x) (tile flavor only).</summary>
    protected abstract void EmitDerivatives(CodeWriter w, CouplingLayer c, Flavor f, bool isDouble);

    public override void EmitHelpers(CodeWriter w, FlowPlan plan, Flavor f)
    {
        var seen = new HashSet<string>();
        foreach (CouplingLayer c in plan.Layers.Select(l => l.Coupling).Where(c => c is not null && c.Kind == Kind)!)
        {
            if (!seen.Add(Name(c))) continue;
            EmitConfiguration(w, c, f, plan.Model.IsDouble);
            if (f.IsTile)
            {
                EmitDerivatives(w, c, f, plan.Model.IsDouble);
                EmitInverseBackward(w, c, f);
            }
        }
    }

    private void EmitInverseBackward(CodeWriter w, CouplingLayer c, Flavor f)
    {
        string V = f.V, n = Name(c);
        int parameters = FlowParser_ParametersPerCoordinate(c);
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
    }

    private static int FlowParser_ParametersPerCoordinate(CouplingLayer c) => Parsing.FlowParser.ParametersPerCoordinate(c);

    public override string Forward(CouplingLayer c, Flavor f, bool isDouble, string x, Func<int, string> theta, string stride, string ld) =>
        $"{Name(c)}Forward(ref {x}, ref {theta(0)}, {stride}, ref {ld});";

    public override string Inverse(CouplingLayer c, Flavor f, bool isDouble, string x, Func<int, string> theta, string stride, string ld) =>
        $"{Name(c)}Inverse(ref {x}, ref {theta(0)}, {stride}, ref {ld});";

    public override string Backward(CouplingLayer c, bool isDouble, bool inverse, string x, Func<int, string> theta, string stride, string g, string gl, Func<int, string> gtheta) =>
        $"{Name(c)}{(inverse ? "InverseBackward" : "Backward")}({x}, ref {theta(0)}, {stride}, ref {g}, {gl}, ref {gtheta(0)});";

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

/// <summary>
/// Sum-of-squares polynomial transformer (Jaini et al. 2019), docs/model.md §3:
/// τ(x) = c + εx + Σₙ βₙ xⁿ⁺¹/(n+1), βₙ = Σₖ Σ_{l+m=n} a_kl a_km, τ′(x) = ε + Σₖ qₖ(x)², qₖ(x) = Σₗ a_kl xˡ, ε = 1e-3.
/// </summary>
internal sealed class SumOfSquaresTransformerEmitter : GenericTransformerEmitter
{
    public static readonly SumOfSquaresTransformerEmitter Instance = new();
    public const double Epsilon = 1e-3;

    protected override CouplingKind Kind => CouplingKind.SumOfSquares;

    public override string ParameterNames => "c, then a_kl for k < K, l ≤ r";

    protected override string Name(CouplingLayer c) => $"Sos_r{c.Degree}_K{c.Squares}";

    protected override void EmitConfiguration(CodeWriter w, CouplingLayer c, Flavor f, bool isDouble)
    {
        string V = f.V, T = f.T, n = Name(c);
        int r = c.Degree, k = c.Squares;
        string S(double v) => f.Splat(Literals.Of(v, isDouble));
        w.Line($"/// <summary>Sum-of-squares τ (r = {r}, K = {k}): returns τ(x), τ′(x) = ε + Σₖ qₖ(x)² and τ″(x) = Σₖ 2qₖqₖ′.</summary>");
        w.Open($"private static {V} {n}Value{f.Suffix}({V} x, ref {V} theta, int stride, out {V} derivative, out {V} curvature)");
        w.Line($"Span<{V}> beta = stackalloc {V}[{2 * r + 1}];");
        w.Line("beta.Clear();");
        w.Line($"{V} d = {S(Epsilon)}, dd = {S(0)};");
        w.Open($"for (int k = 0; k < {k}; k++)");
        w.Line($"ref {V} a = ref Unsafe.Add(ref theta, (1 + k * {r + 1}) * stride);");
        w.Line($"{V} q = Unsafe.Add(ref a, {r} * stride), dq = {S(0)};");
        w.Open($"for (int l = {r - 1}; l >= 0; l--)");
        w.Line("dq = Kernel.Mac(dq, x, q);");
        w.Line("q = Kernel.Mac(q, x, Unsafe.Add(ref a, l * stride));");
        w.Close();
        w.Line("d = Kernel.Mac(q, q, d);");
        w.Line("dd = Kernel.Mac(q + q, dq, dd);");
        w.Open($"for (int l = 0; l <= {r}; l++)");
        w.Line($"{V} al = Unsafe.Add(ref a, l * stride);");
        w.Line($"for (int m = 0; m <= {r}; m++) beta[l + m] = Kernel.Mac(al, Unsafe.Add(ref a, m * stride), beta[l + m]);");
        w.Close();
        w.Close();
        w.Line("// τ(x) = c + x·(ε + Σₙ βₙ/(n+1)·xⁿ), Horner from the top");
        w.Line($"{V} p = beta[{2 * r}] * ({T})(1.0 / {2 * r + 1});");
        w.Line($"for (int m = {2 * r - 1}; m >= 0; m--) p = Kernel.Mac(p, x, beta[m] * ({T})(1.0 / (m + 1)));");
        w.Line("derivative = d;");
        w.Line("curvature = dd;");
        w.Line($"return Kernel.Mac(x, p + {S(Epsilon)}, theta);");
        w.Close();
        w.Line();

        w.Line($"/// <summary>Sum-of-squares forward (r = {r}, K = {k}): x ← τ(x), log-det += log τ′(x).</summary>");
        w.Open($"private static void {n}Forward(ref {V} x, ref {V} theta, int stride, ref {V} logDet)");
        w.Line($"x = {n}Value{f.Suffix}(x, ref theta, stride, out {V} derivative, out _);");
        w.Line("logDet += Kernel.Log(derivative);");
        w.Close();
        w.Line();

        w.Line($"/// <summary>Sum-of-squares inverse (r = {r}, K = {k}) by safeguarded Newton–bisection from x₀ = (y − c)/τ′(0): x ← τ⁻¹(x), log-det −= log τ′.</summary>");
        w.Open($"private static void {n}Inverse(ref {V} x, ref {V} theta, int stride, ref {V} logDet)");
        w.Line($"{V} slopeAtZero = {S(Epsilon)};");
        w.Open($"for (int k = 0; k < {k}; k++)");
        w.Line($"{V} a0 = Unsafe.Add(ref theta, (1 + k * {r + 1}) * stride);");
        w.Line("slopeAtZero = Kernel.Mac(a0, a0, slopeAtZero);");
        w.Close();
        EmitMonotoneInverse(w, f, isDouble, "(x - theta) / slopeAtZero", (arg, d) => $"{n}Value{f.Suffix}({arg}, ref theta, stride, {(d == "_" ? "out _" : d)}, out _)");
        w.Line($"{n}Value{f.Suffix}(x, ref theta, stride, out {V} derivativeAtRoot, out _);");
        w.Line("logDet -= Kernel.Log(derivativeAtRoot);");
        w.Close();
        w.Line();

        if (!f.IsTile) return;
        w.Line($"/// <summary>Sum-of-squares backward (r = {r}, K = {k}): g ← g·τ′ + gl·τ″/τ′; ∂c = g; ∂a_kl = g·2Σₘ a_km xˡ⁺ᵐ⁺¹/(l+m+1) + gl·2qₖxˡ/τ′.</summary>");
        w.Open($"private static void {n}Backward({V} x, ref {V} theta, int stride, ref {V} g, {V} gl, ref {V} gtheta)");
        w.Line($"{n}Value{f.Suffix}(x, ref theta, stride, out {V} derivative, out {V} curvature);");
        w.Line($"{V} gy = g;");
        w.Line($"{V} logSlope = gl / derivative;");
        w.Line("g = Kernel.Mac(gy, derivative, logSlope * curvature);");
        w.Line("gtheta = gy;");
        w.Line($"Span<{V}> power = stackalloc {V}[{2 * r + 2}];");
        w.Line($"power[0] = {S(1)};");
        w.Line($"for (int m = 1; m < {2 * r + 2}; m++) power[m] = power[m - 1] * x;");
        w.Open($"for (int k = 0; k < {k}; k++)");
        w.Line($"ref {V} a = ref Unsafe.Add(ref theta, (1 + k * {r + 1}) * stride);");
        w.Line($"ref {V} ga = ref Unsafe.Add(ref gtheta, (1 + k * {r + 1}) * stride);");
        w.Line($"{V} q = {S(0)};");
        w.Line($"for (int l = {r}; l >= 0; l--) q = Kernel.Mac(q, x, Unsafe.Add(ref a, l * stride));");
        w.Open($"for (int l = 0; l <= {r}; l++)");
        w.Line($"{V} integral = {S(0)};");
        w.Line($"for (int m = 0; m <= {r}; m++) integral = Kernel.Mac(Unsafe.Add(ref a, m * stride), power[l + m + 1] * ({T})(1.0 / (l + m + 1)), integral);");
        w.Line($"Unsafe.Add(ref ga, l * stride) = {S(2)} * Kernel.Mac(gy, integral, logSlope * q * power[l]);");
        w.Close();
        w.Close();
        w.Close();
        w.Line();
    }

    protected override void EmitDerivatives(CodeWriter w, CouplingLayer c, Flavor f, bool isDouble)
    {
        string V = f.V, n = Name(c);
        w.Line("/// <summary>τ′(x) and λ_x = τ″/τ′.</summary>");
        w.Open($"private static void {n}Derivatives({V} x, ref {V} theta, int stride, out {V} derivative, out {V} logDerivativeSlope)");
        w.Line($"{n}Value{f.Suffix}(x, ref theta, stride, out derivative, out {V} curvature);");
        w.Line("logDerivativeSlope = curvature / derivative;");
        w.Close();
        w.Line();
    }
}

/// <summary>
/// Rational-quadratic spline transformer (Durkan et al. 2019), docs/model.md §3: K bins on [−B, B], identity outside.
/// Inputs outside [−B, B] never reach the spline arithmetic (it sees 0 instead, and its result is discarded), so
/// no NaN can leak into values or gradients from a discarded branch.
/// </summary>
internal sealed class SplineTransformerEmitter : GenericTransformerEmitter
{
    public static readonly SplineTransformerEmitter Instance = new();
    public const double MinBin = 1e-3, MinDerivative = 1e-3;

    protected override CouplingKind Kind => CouplingKind.Spline;

    public override string ParameterNames => "K raw widths, K raw heights, K−1 raw interior derivatives";

    protected override string Name(CouplingLayer c) => $"Spline_K{c.Bins}_B{Num(c.Bound)}";

    private static void Geometry(CodeWriter w, CouplingLayer c, Flavor f, bool isDouble, bool softmaxes)
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
    private static void SelectBin(CodeWriter w, CouplingLayer c, Flavor f, bool isDouble, string position, string knots, bool index)
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

    protected override void EmitConfiguration(CodeWriter w, CouplingLayer c, Flavor f, bool isDouble)
    {
        string V = f.V, n = Name(c);
        int k = c.Bins;
        double b = c.Bound;
        string S(double v) => f.Splat(Literals.Of(v, isDouble));

        w.Line($"/// <summary>Rational-quadratic spline (K = {k}, B = {b.ToString("R", CultureInfo.InvariantCulture)}): returns τ(x) and λ = log τ′(x); identity outside [−B, B].</summary>");
        w.Open($"private static {V} {n}Value({V} x, ref {V} theta, int stride, out {V} logDerivative)");
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
        w.Open($"private static void {n}Forward(ref {V} x, ref {V} theta, int stride, ref {V} logDet)");
        w.Line($"x = {n}Value(x, ref theta, stride, out {V} logDerivative);");
        w.Line("logDet += logDerivative;");
        w.Close();
        w.Line();

        w.Line($"/// <summary>Spline inverse (K = {k}): bin by the y-knots, then the stable root ξ = 2c/(−b − √(b² − 4ac)); identity outside [−B, B].</summary>");
        w.Open($"private static void {n}Inverse(ref {V} x, ref {V} theta, int stride, ref {V} logDet)");
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
        w.Open($"private static void {n}Backward({V} x, ref {V} theta, int stride, ref {V} g, {V} gl, ref {V} gtheta)");
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

    protected override void EmitDerivatives(CodeWriter w, CouplingLayer c, Flavor f, bool isDouble)
    {
        string V = f.V, n = Name(c);
        double b = c.Bound;
        string S(double v) => f.Splat(Literals.Of(v, isDouble));
        w.Line("/// <summary>τ′(x) and λ_x (1 and 0 outside [−B, B]).</summary>");
        w.Open($"private static void {n}Derivatives({V} x, ref {V} theta, int stride, out {V} derivative, out {V} logDerivativeSlope)");
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

/// <summary>
/// Deep sigmoidal transformer (Huang et al. 2018), docs/model.md §3: L blocks, each out = logit(Σⱼ wⱼ σ(aⱼv + bⱼ)) with
/// a = softplus(ã), w = softmax(w̃), computed in log space (log h, log(1 − h) and log out′ as log-sum-exps), so no
/// probability is ever rounded to 0 or 1.
/// </summary>
internal sealed class DeepSigmoidalTransformerEmitter : GenericTransformerEmitter
{
    public static readonly DeepSigmoidalTransformerEmitter Instance = new();

    protected override CouplingKind Kind => CouplingKind.DeepSigmoidal;

    public override string ParameterNames => "per block: n raw slopes ã, n offsets b, n raw weights w̃";

    protected override string Name(CouplingLayer c) => $"Dsf_n{c.SigmoidUnits}_L{c.SigmoidLayers}";

    public override void EmitHelpers(CodeWriter w, FlowPlan plan, Flavor f)
    {
        if (!plan.Layers.Any(l => l.Coupling is { Kind: CouplingKind.DeepSigmoidal })) return;
        string V = f.V;
        w.Line("/// <summary>log Σᵢ exp(vᵢ), shifted by the maximum.</summary>");
        w.Open($"private static {V} LogSumExp(Span<{V}> values)");
        w.Line($"{V} max = values[0];");
        w.Line("for (int i = 1; i < values.Length; i++) max = Kernel.Max(max, values[i]);");
        w.Line($"{V} sum = {f.Splat(Literals.Of(0, plan.Model.IsDouble))};");
        w.Line("for (int i = 0; i < values.Length; i++) sum += Kernel.Exp(values[i] - max);");
        w.Line("return max + Kernel.Log(sum);");
        w.Close();
        w.Line();
        base.EmitHelpers(w, plan, f);
    }

    /// <summary>Emits the per-unit quantities of one block (into spans) and A = log h, B = log(1 − h), C = log out′ + A + B.</summary>
    private static void BlockQuantities(CodeWriter w, int n, Flavor f, bool isDouble)
    {
        string V = f.V;
        w.Line($"Span<{V}> slope = stackalloc {V}[{n}], logSlope = stackalloc {V}[{n}], logWeight = stackalloc {V}[{n}];");
        w.Line($"Span<{V}> logSig = stackalloc {V}[{n}], logSigNeg = stackalloc {V}[{n}];");
        w.Line($"Span<{V}> termA = stackalloc {V}[{n}], termB = stackalloc {V}[{n}], termC = stackalloc {V}[{n}];");
        w.Line($"for (int j = 0; j < {n}; j++) logWeight[j] = Unsafe.Add(ref theta, ({2 * n} + j) * stride);");
        w.Line($"{V} normalizer = LogSumExp(logWeight);");
        w.Open($"for (int j = 0; j < {n}; j++)");
        w.Line("logWeight[j] -= normalizer;");
        w.Line("slope[j] = Kernel.Softplus(Unsafe.Add(ref theta, j * stride));");
        w.Line("logSlope[j] = Kernel.LogSoftplus(Unsafe.Add(ref theta, j * stride)); // = Log(slope[j]), but ≈ ã (not −∞) where softplus(ã) underflows");
        w.Line($"{V} u = Kernel.Mac(slope[j], v, Unsafe.Add(ref theta, ({n} + j) * stride));");
        w.Line("logSig[j] = Kernel.LogSigmoid(u);");
        w.Line("logSigNeg[j] = Kernel.LogSigmoid(-u);");
        w.Line("termA[j] = logWeight[j] + logSig[j];");
        w.Line("termB[j] = logWeight[j] + logSigNeg[j];");
        w.Line("termC[j] = termA[j] + logSlope[j] + logSigNeg[j];");
        w.Close();
        w.Line($"{V} logH = LogSumExp(termA), logOneMinusH = LogSumExp(termB), logSlopeSum = LogSumExp(termC);");
        _ = isDouble;
    }

    protected override void EmitConfiguration(CodeWriter w, CouplingLayer c, Flavor f, bool isDouble)
    {
        string V = f.V, name = Name(c);
        int n = c.SigmoidUnits, blocks = c.SigmoidLayers;
        string S(double v) => f.Splat(Literals.Of(v, isDouble));

        w.Line($"/// <summary>The input-independent quantities of one deep sigmoidal block ({n} units): aⱼ = softplus(ãⱼ), log aⱼ, log wⱼ = log softmax(w̃)ⱼ.</summary>");
        w.Open($"private static void {name}Prepare(ref {V} theta, int stride, Span<{V}> slope, Span<{V}> logSlope, Span<{V}> logWeight)");
        w.Line($"for (int j = 0; j < {n}; j++) logWeight[j] = Unsafe.Add(ref theta, ({2 * n} + j) * stride);");
        w.Line($"{V} normalizer = LogSumExp(logWeight);");
        w.Open($"for (int j = 0; j < {n}; j++)");
        w.Line("logWeight[j] -= normalizer;");
        w.Line("slope[j] = Kernel.Softplus(Unsafe.Add(ref theta, j * stride));");
        w.Line("logSlope[j] = Kernel.LogSoftplus(Unsafe.Add(ref theta, j * stride)); // = Log(slope[j]), but ≈ ã (not −∞) where softplus(ã) underflows");
        w.Close();
        w.Close();
        w.Line();

        w.Line($"/// <summary>One prepared deep sigmoidal block ({n} units) at v: returns logit(Σⱼ wⱼσ(aⱼv + bⱼ)) and λ = log of its derivative.</summary>");
        w.Open($"private static {V} {name}Evaluate({V} v, ref {V} theta, int stride, Span<{V}> slope, Span<{V}> logSlope, Span<{V}> logWeight, out {V} logDerivative)");
        w.Line($"Span<{V}> termA = stackalloc {V}[{n}], termB = stackalloc {V}[{n}], termC = stackalloc {V}[{n}];");
        w.Open($"for (int j = 0; j < {n}; j++)");
        w.Line($"{V} u = Kernel.Mac(slope[j], v, Unsafe.Add(ref theta, ({n} + j) * stride));");
        w.Line($"{V} logSig = Kernel.LogSigmoid(u), logSigNeg = Kernel.LogSigmoid(-u);");
        w.Line("termA[j] = logWeight[j] + logSig;");
        w.Line("termB[j] = logWeight[j] + logSigNeg;");
        w.Line("termC[j] = termA[j] + logSlope[j] + logSigNeg;");
        w.Close();
        w.Line($"{V} logH = LogSumExp(termA), logOneMinusH = LogSumExp(termB);");
        w.Line("logDerivative = LogSumExp(termC) - logH - logOneMinusH;");
        w.Line("return logH - logOneMinusH;");
        w.Close();
        w.Line();

        w.Line($"/// <summary>One deep sigmoidal block ({n} units): returns logit(Σⱼ wⱼσ(aⱼv + bⱼ)) and λ = log of its derivative.</summary>");
        w.Open($"private static {V} {name}Block({V} v, ref {V} theta, int stride, out {V} logDerivative)");
        w.Line($"Span<{V}> slope = stackalloc {V}[{n}], logSlope = stackalloc {V}[{n}], logWeight = stackalloc {V}[{n}];");
        w.Line($"{name}Prepare(ref theta, stride, slope, logSlope, logWeight);");
        w.Line($"return {name}Evaluate(v, ref theta, stride, slope, logSlope, logWeight, out logDerivative);");
        w.Close();
        w.Line();

        w.Line($"/// <summary>The prepared block and its derivative exp(λ), for Newton steps.</summary>");
        w.Open($"private static {V} {name}EvaluateWithSlope({V} v, ref {V} theta, int stride, Span<{V}> slope, Span<{V}> logSlope, Span<{V}> logWeight, out {V} derivative)");
        w.Line($"{V} result = {name}Evaluate(v, ref theta, stride, slope, logSlope, logWeight, out {V} logDerivative);");
        w.Line("derivative = Kernel.Exp(logDerivative);");
        w.Line("return result;");
        w.Close();
        w.Line();

        w.Line($"/// <summary>Deep sigmoidal forward ({blocks} block(s) of {n} units): x ← τ(x), log-det += Σ λ.</summary>");
        w.Open($"private static void {name}Forward(ref {V} x, ref {V} theta, int stride, ref {V} logDet)");
        w.Open($"for (int q = 0; q < {blocks}; q++)");
        w.Line($"x = {name}Block(x, ref Unsafe.Add(ref theta, q * {3 * n} * stride), stride, out {V} logDerivative);");
        w.Line("logDet += logDerivative;");
        w.Close();
        w.Close();
        w.Line();

        w.Line($"/// <summary>Deep sigmoidal inverse: each block inverted in reverse order by safeguarded Newton–bisection (starting at the target); the block's input-independent quantities are computed once, outside the iteration.</summary>");
        w.Open($"private static void {name}Inverse(ref {V} x, ref {V} theta, int stride, ref {V} logDet)");
        w.Line($"Span<{V}> unitSlope = stackalloc {V}[{n}], unitLogSlope = stackalloc {V}[{n}], unitLogWeight = stackalloc {V}[{n}];");
        w.Open($"for (int q = {blocks - 1}; q >= 0; q--)");
        w.Line($"ref {V} block = ref Unsafe.Add(ref theta, q * {3 * n} * stride);");
        w.Line($"{name}Prepare(ref block, stride, unitSlope, unitLogSlope, unitLogWeight);");
        EmitMonotoneInverse(w, f, isDouble, "x", (arg, d) => d == "_"
            ? $"{name}Evaluate({arg}, ref block, stride, unitSlope, unitLogSlope, unitLogWeight, out _)"
            : $"{name}EvaluateWithSlope({arg}, ref block, stride, unitSlope, unitLogSlope, unitLogWeight, {d})");
        w.Line($"{name}Evaluate(x, ref block, stride, unitSlope, unitLogSlope, unitLogWeight, out {V} logDerivative);");
        w.Line("logDet -= logDerivative;");
        w.Close();
        w.Close();
        w.Line();

        if (!f.IsTile) return;
        w.Line($"/// <summary>Backward through one block at input v: returns ∂L/∂v; writes ∂L/∂θ of the block (gθ stride <paramref name=\"gstride\"/>).</summary>");
        w.Open($"private static {V} {name}BlockBackward({V} v, ref {V} theta, int stride, {V} go, {V} gl, ref {V} gtheta, int gstride)");
        BlockQuantities(w, n, f, isDouble);
        w.Line($"{V} gv = {S(0)}, gWeightSum = {S(0)};");
        w.Line($"Span<{V}> gLogWeight = stackalloc {V}[{n}];");
        w.Open($"for (int j = 0; j < {n}; j++)");
        w.Line("// posterior weights of the three log-sum-exps, and σ(u), σ(−u)");
        w.Line($"{V} alpha = Kernel.Exp(termA[j] - logH), beta = Kernel.Exp(termB[j] - logOneMinusH), gamma = Kernel.Exp(termC[j] - logSlopeSum);");
        w.Line($"{V} sig = Kernel.Exp(logSig[j]), sigNeg = Kernel.Exp(logSigNeg[j]);");
        w.Line("// ∂out/∂u = α·σ(−u) + β·σ(u); ∂λ/∂u = γ·(σ(−u) − σ(u)) − α·σ(−u) + β·σ(u)");
        w.Line($"{V} aSigNeg = alpha * sigNeg, bSig = beta * sig;");
        w.Line($"{V} gu = Kernel.Mac(go, aSigNeg + bSig, gl * (gamma * (sigNeg - sig) - aSigNeg + bSig));");
        w.Line("// ∂out/∂ℓ = α − β; ∂λ/∂ℓ = γ − α − β; ∂λ/∂log a = γ");
        w.Line("gLogWeight[j] = Kernel.Mac(go, alpha - beta, gl * (gamma - alpha - beta));");
        w.Line("gWeightSum += gLogWeight[j];");
        w.Line("gv = Kernel.Mac(gu, slope[j], gv);");
        w.Line("// ∂/∂ã = (gu·v + gl·γ/a)·σ(ã). Where softplus(ã) underflows, a = 0 and σ(ã) = 0 (the same e^ã underflows), and σ(ã)/a = ∂log a/∂ã → 1:");
        w.Line("// there it is gu·v·σ(ã) + gl·γ, without the division of two underflowed numbers");
        w.Line($"{V} slopeSigmoid = Kernel.Sigmoid(Unsafe.Add(ref theta, j * stride));");
        w.Line($"Unsafe.Add(ref gtheta, j * gstride) = Kernel.Select(Kernel.GreaterThan(slope[j], {S(0)}), Kernel.Mac(gu, v, gl * gamma / slope[j]) * slopeSigmoid, Kernel.Mac(gu * v, slopeSigmoid, gl * gamma));");
        w.Line($"Unsafe.Add(ref gtheta, ({n} + j) * gstride) = gu;");
        w.Close();
        w.Line("// log-softmax: ∂/∂w̃ⱼ = gℓⱼ − softmaxⱼ·Σᵢ gℓᵢ");
        w.Line($"for (int j = 0; j < {n}; j++) Unsafe.Add(ref gtheta, ({2 * n} + j) * gstride) = gLogWeight[j] - Kernel.Exp(logWeight[j]) * gWeightSum;");
        w.Line("return gv;");
        w.Close();
        w.Line();

        w.Line($"/// <summary>Deep sigmoidal backward: recompute the block inputs, then back through the blocks.</summary>");
        w.Open($"private static void {name}Backward({V} x, ref {V} theta, int stride, ref {V} g, {V} gl, ref {V} gtheta)");
        w.Line($"Span<{V}> inputs = stackalloc {V}[{blocks}];");
        w.Line($"{V} v = x;");
        w.Open($"for (int q = 0; q < {blocks}; q++)");
        w.Line("inputs[q] = v;");
        w.Line($"v = {name}Block(v, ref Unsafe.Add(ref theta, q * {3 * n} * stride), stride, out _);");
        w.Close();
        w.Line($"{V} gv = g;");
        w.Line($"for (int q = {blocks - 1}; q >= 0; q--) gv = {name}BlockBackward(inputs[q], ref Unsafe.Add(ref theta, q * {3 * n} * stride), stride, gv, gl, ref Unsafe.Add(ref gtheta, q * {3 * n} * stride), stride);");
        w.Line("g = gv;");
        w.Close();
        w.Line();
    }

    protected override void EmitDerivatives(CodeWriter w, CouplingLayer c, Flavor f, bool isDouble)
    {
        string V = f.V, name = Name(c);
        int n = c.SigmoidUnits, blocks = c.SigmoidLayers;
        string S(double v) => f.Splat(Literals.Of(v, isDouble));
        w.Line("/// <summary>τ′(x) (product of the blocks' derivatives) and λ_x by forward-mode accumulation through the blocks.</summary>");
        w.Open($"private static void {name}Derivatives({V} x, ref {V} theta, int stride, out {V} derivative, out {V} logDerivativeSlope)");
        w.Line($"Span<{V}> scratch = stackalloc {V}[{3 * n}];");
        w.Line($"{V} v = x, chain = {S(1)}, slopeSum = {S(0)};");
        w.Open($"for (int q = 0; q < {blocks}; q++)");
        w.Line($"ref {V} block = ref Unsafe.Add(ref theta, q * {3 * n} * stride);");
        w.Line($"{V} dLambda = {name}BlockBackward(v, ref block, stride, {S(0)}, {S(1)}, ref MemoryMarshal.GetReference(scratch), 1);");
        w.Line("slopeSum = Kernel.Mac(dLambda, chain, slopeSum);");
        w.Line($"v = {name}Block(v, ref block, stride, out {V} logDerivative);");
        w.Line("chain *= Kernel.Exp(logDerivative);");
        w.Close();
        w.Line("derivative = chain;");
        w.Line("logDerivativeSlope = slopeSum;");
        w.Close();
        w.Line();
    }
}
