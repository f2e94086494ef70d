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

/// <summary>Options of the deep sigmoidal coupling: sigmoid units per block and number of blocks.</summary>
internal sealed record DeepSigmoidalOptions(int SigmoidUnits, int SigmoidLayers) : TransformerOptions
{
    public override TransformerKind Kind => DeepSigmoidalTransformer.Instance;
}

/// <summary>
/// Deep sigmoidal transformer (Huang et al. 2018), docs/model.md §3: L blocks, each out = logit(Σⱼ wⱼ σ(aⱼv + bⱼ)) with
/// a = softplus(ã), w = softmax(w̃). Evaluated from the linear-space sums P = Σ ωσ(u), Q = Σ ωσ(−u), R = Σ ωaσ(u)σ(−u),
/// S = Σ ω (ω = exp(w̃ − max w̃); one exponential and one division per unit) in the lanes where they are exact to a few ulps
/// (DsfLinearFloor, DsfSlopeCap), and in log space (log h, log(1 − h) and log out′ as log-sum-exps, so no probability is
/// ever rounded to 0 or 1) in the other lanes, lane by lane. Each helper that evaluates transcendental functions is a
/// method of its own ([MethodImpl(NoInlining)]): a caller holding several of them exhausts the JIT's inlining budget, and the
/// rest of its Kernel calls and vector operators then stay calls (measured on D8: log-density 1.9×, training step 2.6× slower).
/// </summary>
internal sealed class DeepSigmoidalTransformer : MonotoneTransformerKind<DeepSigmoidalOptions>
{
    public static readonly DeepSigmoidalTransformer Instance = new();

    public override string AttributeName => "DeepSigmoidalCouplingAttribute";
    public override string SpecName => "deep_sigmoidal";
    public override string DisplayName => "deep sigmoidal";
    public override IReadOnlyList<string> OptionNames { get; } = new[] { "SigmoidUnits", "SigmoidLayers" };

    public override TransformerOptions Read(OptionReader r) =>
        new DeepSigmoidalOptions(r.Int("SigmoidUnits", 1, 64), r.Int("SigmoidLayers", 1, 8));

    public override int ParametersPerCoordinate(TransformerOptions o)
    {
        var c = (DeepSigmoidalOptions)o;
        return 3 * c.SigmoidUnits * c.SigmoidLayers;
    }

    public override double[] IdentityParameters(TransformerOptions o)
    {
        var c = (DeepSigmoidalOptions)o;
        int n = c.SigmoidUnits;
        var p = new double[3 * n * c.SigmoidLayers];
        for (int q = 0; q < c.SigmoidLayers; q++)
        {
            for (int j = 0; j < n; j++)
            {
                p[3 * n * q + j] = Math.Log(Math.E - 1);
                // raw weights spread over [−1, 1]: still the identity (all units equal σ(x)), but the units get different
                // gradients and can separate; equal weights would keep them tied forever
                p[3 * n * q + 2 * n + j] = n == 1 ? 0 : -1 + 2.0 * j / (n - 1);
            }
        }
        return p;
    }

    public override string Formula(TransformerOptions o)
    {
        var c = (DeepSigmoidalOptions)o;
        return $"{c.SigmoidLayers} block(s) v ← logit(Σⱼ wⱼ σ(aⱼv + bⱼ)) of {c.SigmoidUnits} units, a = softplus(ã), w = softmax(w̃)";
    }

    public override string DescribeOptions(TransformerOptions o)
    {
        var c = (DeepSigmoidalOptions)o;
        return ", units " + c.SigmoidUnits.ToString(CultureInfo.InvariantCulture) + ", blocks " + c.SigmoidLayers.ToString(CultureInfo.InvariantCulture);
    }

    public override void WriteSpec(TransformerOptions o, JsonWriter j)
    {
        var c = (DeepSigmoidalOptions)o;
        j.Name("units").Int(c.SigmoidUnits).Name("blocks").Int(c.SigmoidLayers);
    }


    public override string ParameterNames => "per block: n raw slopes ã, n offsets b, n raw weights w̃";

    protected override string ConfigurationName(DeepSigmoidalOptions c) => $"Dsf_n{c.SigmoidUnits}_L{c.SigmoidLayers}";

    protected override void EmitSharedHelpers(CodeWriter w, FlowPlan plan, Flavor f)
    {
        string V = f.V, T = f.T;
        bool isDouble = plan.Model.IsDouble;
        if (f.IsTile)
        {
            // the constants are emitted once, with the first flavor (the tile's)
            w.Line("/// <summary>");
            w.Line("/// Deep sigmoidal blocks are evaluated in linear space (P = Σ ωσ(u), Q = Σ ωσ(−u), R = Σ ωaσ(u)σ(−u)) in the lanes where that is");
            w.Line("/// exact to a few ulps: P, Q and R at least this floor (no term that matters underflows) and every slope a at most");
            w.Line("/// <see cref=\"DsfSlopeCap\"/>; other lanes (far tails, underflowed or huge slopes) are evaluated in log space.");
            w.Line("/// </summary>");
            w.Line($"private const {T} DsfLinearFloor = {Literals.Of(Math.Pow(2, isDouble ? -900 : -56), isDouble)}; // 2^{(isDouble ? -900 : -56)}");
            w.Line($"/// <summary>The largest slope a of the linear-space evaluation (<see cref=\"DsfLinearFloor\"/>).</summary>");
            w.Line($"private const {T} DsfSlopeCap = {Literals.Of(Math.Pow(2, isDouble ? 48 : 32), isDouble)}; // 2^{(isDouble ? 48 : 32)}");
            w.Line();
        }
        w.Line("/// <summary>log Σᵢ exp(vᵢ), shifted by the maximum.</summary>");
        w.Open($"private static {V} LogSumExp{f.TypeParameters()}(Span<{V}> values){f.Constraint}");
        w.Line($"{V} max = values[0];");
        w.Line("for (int i = 1; i < values.Length; i++) max = Kernel.Max(max, values[i]);");
        w.Line($"{V} sum = {f.Splat(Literals.Of(0, isDouble))};");
        w.Line("for (int i = 0; i < values.Length; i++) sum += Kernel.Exp(values[i] - max);");
        w.Line("return max + Kernel.Log(sum);");
        w.Close();
        w.Line();

        w.Line("/// <summary>σ(u) and σ(−u) from one exponential: e = e^−|u|, σ(|u|) = 1/(1 + e), σ(−|u|) = e·σ(|u|).</summary>");
        Inline(w);
        w.Open($"private static void SigmoidPair{f.TypeParameters()}({V} u, out {V} sigmoid, out {V} sigmoidNegative){f.Constraint}");
        w.Line($"{V} e = Kernel.Exp(-Kernel.Abs(u));");
        w.Line($"{V} large = {f.Splat(Literals.Of(1, isDouble))} / ({f.Splat(Literals.Of(1, isDouble))} + e), small = e * large;");
        w.Line($"var nonNegative = Kernel.GreaterThanOrEqual(u, {f.Splat(Literals.Of(0, isDouble))});");
        w.Line("sigmoid = Kernel.Select(nonNegative, large, small);");
        w.Line("sigmoidNegative = Kernel.Select(nonNegative, small, large);");
        w.Close();
        w.Line();
    }

    /// <summary>Emits the log-space quantities of one block (into spans) and A = log h, B = log(1 − h), C = log out′ + A + B.</summary>
    private static void BlockQuantities(CodeWriter w, int n, Flavor f, bool isDouble)
    {
        string V = f.V;
        string S(double v) => f.Splat(Literals.Of(v, isDouble));
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
        w.Line($"// log σ(±u) = min(±u, 0) − log1p(e^−|u|), the second term once: −log1p(e^−|u|) = log σ(|u|) exactly");
        w.Line($"{V} logSigAbs = Kernel.LogSigmoid(Kernel.Abs(u));");
        w.Line($"logSig[j] = Kernel.Min(u, {S(0)}) + logSigAbs;");
        w.Line($"logSigNeg[j] = Kernel.Min(-u, {S(0)}) + logSigAbs;");
        w.Line("termA[j] = logWeight[j] + logSig[j];");
        w.Line("termB[j] = logWeight[j] + logSigNeg[j];");
        w.Line("termC[j] = termA[j] + logSlope[j] + logSigNeg[j];");
        w.Close();
        w.Line($"{V} logH = LogSumExp(termA), logOneMinusH = LogSumExp(termB), logSlopeSum = LogSumExp(termC);");
    }

    /// <summary>
    /// Marks a method that the JIT must compile on its own: its inlining budget (every Kernel call and vector operator is an
    /// inlined call) then holds the method's transcendental functions, which a caller with several of them would exhaust,
    /// leaving the rest as calls.
    /// </summary>
    private static void OwnBudget(CodeWriter w) => w.Line("[MethodImpl(MethodImplOptions.NoInlining)] // its own JIT inlining budget");

    protected override void EmitConfiguration(CodeWriter w, DeepSigmoidalOptions c, Flavor f, bool isDouble)
    {
        string V = f.V, name = ConfigurationName(c);
        int n = c.SigmoidUnits, blocks = c.SigmoidLayers;
        string S(double v) => f.Splat(Literals.Of(v, isDouble));
        string exactLanes = $"Kernel.And(Kernel.And(Kernel.GreaterThanOrEqual(p, {f.Splat("DsfLinearFloor")}), Kernel.GreaterThanOrEqual(q, {f.Splat("DsfLinearFloor")})), Kernel.And(Kernel.GreaterThanOrEqual(r, {f.Splat("DsfLinearFloor")}), Kernel.LessThanOrEqual(steepest, {f.Splat("DsfSlopeCap")})))";
        string M = f.IsTile ? V : "bool";

        w.Line($"/// <summary>aⱼ = softplus(ãⱼ) and ωⱼ = exp(w̃ⱼ − max w̃) of one block ({n} units), the weights of the linear-space sums (wⱼ = ωⱼ/Σ ω).</summary>");
        w.Open($"private static void {name}Units{f.TypeParameters()}(ref {V} theta, int stride, ref {V} slope, ref {V} weight){f.Constraint}");
        w.Line($"{name}Slopes(ref theta, stride, ref slope);");
        w.Line($"{name}Weights(ref theta, stride, ref weight);");
        w.Close();
        w.Line();
        w.Line($"/// <summary>aⱼ = softplus(ãⱼ) of one block ({n} units).</summary>");
        OwnBudget(w);
        w.Open($"private static void {name}Slopes{f.TypeParameters()}(ref {V} theta, int stride, ref {V} slope){f.Constraint}");
        w.Line($"for (int j = 0; j < {n}; j++) Unsafe.Add(ref slope, j) = Kernel.Softplus(Unsafe.Add(ref theta, j * stride));");
        w.Close();
        w.Line();
        w.Line($"/// <summary>ωⱼ = exp(w̃ⱼ − max w̃) of one block ({n} units).</summary>");
        OwnBudget(w);
        w.Open($"private static void {name}Weights{f.TypeParameters()}(ref {V} theta, int stride, ref {V} weight){f.Constraint}");
        w.Line($"{V} top = Unsafe.Add(ref theta, {2 * n} * stride);");
        w.Line($"for (int j = 1; j < {n}; j++) top = Kernel.Max(top, Unsafe.Add(ref theta, ({2 * n} + j) * stride));");
        w.Line($"for (int j = 0; j < {n}; j++) Unsafe.Add(ref weight, j) = Kernel.Exp(Unsafe.Add(ref theta, ({2 * n} + j) * stride) - top);");
        w.Close();
        w.Line();

        w.Line($"/// <summary>");
        w.Line($"/// The linear-space sums of one block ({n} units) at v: P = Σ ωσ(u), Q = Σ ωσ(−u), R = Σ ωaσ(u)σ(−u), S = Σ ω (uⱼ = aⱼv + bⱼ;");
        w.Line($"/// h = P/S, 1 − h = Q/S, h′ = R/S), writing σ(uⱼ) and σ(−uⱼ) to <paramref name=\"sigmoids\"/> (n of each). Returns the lanes where");
        w.Line($"/// the sums are exact to a few ulps (<see cref=\"DsfLinearFloor\"/>).");
        w.Line($"/// </summary>");
        OwnBudget(w);
        w.Open($"private static {M} {name}Sums{f.TypeParameters()}({V} v, ref {V} theta, int stride, ref {V} slope, ref {V} weight, ref {V} sigmoids, out {V} p, out {V} q, out {V} r, out {V} s){f.Constraint}");
        w.Line($"p = {S(0)}; q = {S(0)}; r = {S(0)}; s = {S(0)};");
        w.Line($"{V} steepest = {S(0)};");
        w.Open($"for (int j = 0; j < {n}; j++)");
        w.Line($"{V} a = Unsafe.Add(ref slope, j), omega = Unsafe.Add(ref weight, j);");
        w.Line($"SigmoidPair(Kernel.Mac(a, v, Unsafe.Add(ref theta, ({n} + j) * stride)), out {V} sig, out {V} sigNeg);");
        w.Line("Unsafe.Add(ref sigmoids, j) = sig;");
        w.Line($"Unsafe.Add(ref sigmoids, {n} + j) = sigNeg;");
        w.Line("s += omega;");
        w.Line("p = Kernel.Mac(omega, sig, p);");
        w.Line("q = Kernel.Mac(omega, sigNeg, q);");
        w.Line("r = Kernel.Mac(omega * a, sig * sigNeg, r);");
        w.Line("steepest = Kernel.Max(steepest, a);");
        w.Close();
        w.Line($"return {exactLanes};");
        w.Close();
        w.Line();

        w.Line($"/// <summary>The input-independent quantities of one deep sigmoidal block ({n} units): aⱼ = softplus(ãⱼ), log aⱼ, log wⱼ = log softmax(w̃)ⱼ and ωⱼ = exp(w̃ⱼ − max w̃).</summary>");
        w.Open($"private static void {name}Prepare{f.TypeParameters()}(ref {V} theta, int stride, Span<{V}> slope, Span<{V}> logSlope, Span<{V}> logWeight, Span<{V}> weight){f.Constraint}");
        w.Line($"{name}Units(ref theta, stride, ref MemoryMarshal.GetReference(slope), ref MemoryMarshal.GetReference(weight));");
        w.Line($"for (int j = 0; j < {n}; j++) logWeight[j] = Unsafe.Add(ref theta, ({2 * n} + j) * stride);");
        w.Line($"{V} normalizer = LogSumExp(logWeight);");
        w.Open($"for (int j = 0; j < {n}; j++)");
        w.Line("logWeight[j] -= normalizer;");
        w.Line("logSlope[j] = Kernel.LogSoftplus(Unsafe.Add(ref theta, j * stride)); // = Log(slope[j]), but ≈ ã (not −∞) where softplus(ã) underflows");
        w.Close();
        w.Close();
        w.Line();

        w.Line($"/// <summary>One prepared deep sigmoidal block ({n} units) at v in log space (docs/model.md §3 as written): returns logit(Σⱼ wⱼσ(aⱼv + bⱼ)) and λ = log of its derivative.</summary>");
        w.Open($"private static {V} {name}LogSpace{f.TypeParameters()}({V} v, ref {V} theta, int stride, Span<{V}> slope, Span<{V}> logSlope, Span<{V}> logWeight, out {V} logDerivative){f.Constraint}");
        w.Line($"Span<{V}> termA = stackalloc {V}[{n}], termB = stackalloc {V}[{n}], termC = stackalloc {V}[{n}];");
        w.Open($"for (int j = 0; j < {n}; j++)");
        w.Line($"{V} u = Kernel.Mac(slope[j], v, Unsafe.Add(ref theta, ({n} + j) * stride));");
        w.Line($"// log σ(±u) = min(±u, 0) − log1p(e^−|u|), the second term once: −log1p(e^−|u|) = log σ(|u|) exactly");
        w.Line($"{V} logSigAbs = Kernel.LogSigmoid(Kernel.Abs(u));");
        w.Line($"{V} logSig = Kernel.Min(u, {S(0)}) + logSigAbs, logSigNeg = Kernel.Min(-u, {S(0)}) + logSigAbs;");
        w.Line("termA[j] = logWeight[j] + logSig;");
        w.Line("termB[j] = logWeight[j] + logSigNeg;");
        w.Line("termC[j] = termA[j] + logSlope[j] + logSigNeg;");
        w.Close();
        w.Line($"{V} logH = LogSumExp(termA), logOneMinusH = LogSumExp(termB);");
        w.Line("logDerivative = LogSumExp(termC) - logH - logOneMinusH;");
        w.Line("return logH - logOneMinusH;");
        w.Close();
        w.Line();

        w.Line($"/// <summary>One deep sigmoidal block ({n} units) at v in log space, from θ.</summary>");
        w.Open($"private static {V} {name}LogSpaceBlock{f.TypeParameters()}({V} v, ref {V} theta, int stride, out {V} logDerivative){f.Constraint}");
        w.Line($"Span<{V}> slope = stackalloc {V}[{n}], logSlope = stackalloc {V}[{n}], logWeight = stackalloc {V}[{n}], weight = stackalloc {V}[{n}];");
        w.Line($"{name}Prepare(ref theta, stride, slope, logSlope, logWeight, weight);");
        w.Line($"return {name}LogSpace(v, ref theta, stride, slope, logSlope, logWeight, out logDerivative);");
        w.Close();
        w.Line();

        w.Line($"/// <summary>");
        w.Line($"/// One deep sigmoidal block ({n} units) at v: returns logit(h) and λ = log h′/(h(1 − h)), h = Σⱼ wⱼσ(aⱼv + bⱼ). In linear space");
        w.Line($"/// with ωⱼ = exp(w̃ⱼ − max w̃) (so wⱼ = ωⱼ/S): logit h = log(P/Q), λ = log(R·S/(P·Q)) for P = Σ ωσ(u), Q = Σ ωσ(−u),");
        w.Line($"/// R = Σ ωaσ(u)σ(−u), S = Σ ω; in log space (<c>{name}LogSpaceBlock</c>) in the lanes where the linear sums are not exact.");
        w.Line($"/// </summary>");
        w.Open($"private static {V} {name}Block{f.TypeParameters()}({V} v, ref {V} theta, int stride, out {V} logDerivative){f.Constraint}");
        w.Line($"var exact = {name}Linear(v, ref theta, stride, out {V} result, out {V} derivative);");
        w.Line("logDerivative = Kernel.Log(derivative);");
        w.Open("if (Kernel.Any(Kernel.Not(exact)))");
        w.Line($"{V} logSpace = {name}LogSpaceBlock(v, ref theta, stride, out {V} logSpaceDerivative);");
        w.Line("result = Kernel.Select(exact, result, logSpace);");
        w.Line("logDerivative = Kernel.Select(exact, logDerivative, logSpaceDerivative);");
        w.Close();
        w.Line("return result;");
        w.Close();
        w.Line();

        w.Line($"/// <summary>One deep sigmoidal block ({n} units) at v in linear space (<c>{name}Block</c>): logit h = log(P/Q) and h′/(h(1 − h)) = R·S/(P·Q); returns the lanes where that is exact.</summary>");
        OwnBudget(w);
        w.Open($"private static {M} {name}Linear{f.TypeParameters()}({V} v, ref {V} theta, int stride, out {V} result, out {V} derivative){f.Constraint}");
        w.Line($"// aⱼ, ωⱼ, then σ(uⱼ), σ(−uⱼ)");
        w.Line($"Span<{V}> units = stackalloc {V}[{4 * n}];");
        w.Line($"ref {V} slope = ref MemoryMarshal.GetReference(units);");
        w.Line($"{name}Units(ref theta, stride, ref slope, ref Unsafe.Add(ref slope, {n}));");
        w.Line($"var exact = {name}Sums(v, ref theta, stride, ref slope, ref Unsafe.Add(ref slope, {n}), ref Unsafe.Add(ref slope, {2 * n}), out {V} p, out {V} q, out {V} r, out {V} s);");
        w.Line("result = Kernel.Log(p / q);");
        w.Line("derivative = r * s / (p * q);");
        w.Line("return exact;");
        w.Close();
        w.Line();

        // the inverse's state: aⱼ, log aⱼ, log wⱼ, ωⱼ, σ(uⱼ), σ(−uⱼ) (n of each, one after the other), then where an unused τ′ goes
        string units = $"MemoryMarshal.CreateSpan(ref state, {n}), MemoryMarshal.CreateSpan(ref Unsafe.Add(ref state, {n}), {n}), MemoryMarshal.CreateSpan(ref Unsafe.Add(ref state, {2 * n}), {n})";
        w.Line($"/// <summary>One prepared block ({n} units) at v, for the inverse's iterations: returns τ(v) and τ′(v) = h′/(h(1 − h)), as <c>{name}Block</c> (the same operations in linear space, log space in the other lanes) from the prepared aⱼ and ωⱼ in <paramref name=\"state\"/>.</summary>");
        OwnBudget(w);
        w.Open($"private static {V} {name}Prepared{f.TypeParameters()}({V} v, ref {V} theta, int stride, ref {V} state, out {V} derivative){f.Constraint}");
        w.Line($"var exact = {name}Sums(v, ref theta, stride, ref state, ref Unsafe.Add(ref state, {3 * n}), ref Unsafe.Add(ref state, {4 * n}), out {V} p, out {V} q, out {V} r, out {V} s);");
        w.Line($"{V} result = Kernel.Log(p / q);");
        w.Line("derivative = r * s / (p * q);");
        w.Open("if (Kernel.Any(Kernel.Not(exact)))");
        w.Line($"{V} logSpace = {name}LogSpace(v, ref theta, stride, {units}, out {V} logSpaceDerivative);");
        w.Line("result = Kernel.Select(exact, result, logSpace);");
        w.Line("derivative = Kernel.Select(exact, derivative, Kernel.Exp(logSpaceDerivative));");
        w.Close();
        w.Line("return result;");
        w.Close();
        w.Line();

        w.Line($"/// <summary>Deep sigmoidal forward ({blocks} block(s) of {n} units): x ← τ(x), log-det += Σ λ.</summary>");
        w.Open($"private static void {name}Forward{f.TypeParameters()}(ref {V} x, ref {V} theta, int stride, ref {V} logDet){f.Constraint}");
        w.Open($"for (int q = 0; q < {blocks}; q++)");
        w.Line($"x = {name}Block(x, ref Unsafe.Add(ref theta, q * {3 * n} * stride), stride, out {V} logDerivative);");
        w.Line("logDet += logDerivative;");
        w.Close();
        w.Close();
        w.Line();

        w.Line($"/// <summary>Deep sigmoidal inverse: each block inverted in reverse order by safeguarded Newton–bisection (starting at the target); the block's input-independent quantities are computed once, outside the iteration, and λ once at the root.</summary>");
        w.Open($"private static void {name}Inverse{f.TypeParameters()}(ref {V} x, ref {V} theta, int stride, ref {V} logDet){f.Constraint}");
        w.Line($"// the state of the block's map: the block's prepared quantities one after the other (Prepare writes them), then room for σ(uⱼ), σ(−uⱼ) and a value for τ′");
        w.Line($"Span<{V}> prepared = stackalloc {V}[{6 * n + 1}];");
        w.Line($"Span<{V}> unitSlope = prepared.Slice(0, {n}), unitLogSlope = prepared.Slice({n}, {n}), unitLogWeight = prepared.Slice({2 * n}, {n}), unitWeight = prepared.Slice({3 * n}, {n});");
        w.Open($"for (int q = {blocks - 1}; q >= 0; q--)");
        w.Line($"ref {V} block = ref Unsafe.Add(ref theta, q * {3 * n} * stride);");
        w.Line($"{name}Prepare(ref block, stride, unitSlope, unitLogSlope, unitLogWeight, unitWeight);");
        EmitSolve(w, c, f, "block", "MemoryMarshal.GetReference(prepared)", "x");
        w.Line($"{name}Block(x, ref block, stride, out {V} logDerivative);");
        w.Line("logDet -= logDerivative;");
        w.Close();
        w.Close();
        w.Line();

        EmitMap(w, c, f, $"one deep sigmoidal block ({n} units) at its parameters; its state holds the block's prepared quantities, then a value for τ′",
            $"{name}Prepared(x, ref theta, stride, ref state, out Unsafe.Add(ref state, {6 * n}))",
            new[] { $"return {name}Prepared(x, ref theta, stride, ref state, out derivative);" });

        if (!f.IsTile) return;
        w.Line($"/// <summary>Backward through one block at input v in log space: returns ∂L/∂v; writes ∂L/∂θ of the block (gθ stride <paramref name=\"gstride\"/>).</summary>");
        w.Open($"private static {V} {name}LogSpaceBackward{f.TypeParameters()}({V} v, ref {V} theta, int stride, {V} go, {V} gl, ref {V} gtheta, int gstride){f.Constraint}");
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

        w.Line($"/// <summary>The log-space backward in the lanes outside <paramref name=\"exact\"/>: blends its ∂L/∂θ into gθ and returns its ∂L/∂v there (<paramref name=\"gv\"/> elsewhere).</summary>");
        w.Open($"private static {V} {name}BlendLogSpaceBackward{f.TypeParameters()}({V} exact, {V} gv, {V} v, ref {V} theta, int stride, {V} go, {V} gl, ref {V} gtheta, int gstride){f.Constraint}");
        w.Line($"Span<{V}> logSpace = stackalloc {V}[{3 * n}];");
        w.Line($"{V} logSpaceGv = {name}LogSpaceBackward(v, ref theta, stride, go, gl, ref MemoryMarshal.GetReference(logSpace), 1);");
        w.Line($"for (int i = 0; i < {3 * n}; i++) Unsafe.Add(ref gtheta, i * gstride) = Kernel.Select(exact, Unsafe.Add(ref gtheta, i * gstride), logSpace[i]);");
        w.Line("return Kernel.Select(exact, gv, logSpaceGv);");
        w.Close();
        w.Line();

        w.Line($"/// <summary>");
        w.Line($"/// The linear-space backward of one block ({n} units) at input v, from its units (aⱼ, ωⱼ, σ(uⱼ), σ(−uⱼ)) and the reciprocals of");
        w.Line($"/// its sums: the posterior weights α = ωσ(u)/P, β = ωσ(−u)/Q, γ = ωaσ(u)σ(−u)/R of each unit; returns ∂L/∂v, writes ∂L/∂θ.");
        w.Line($"/// </summary>");
        OwnBudget(w);
        w.Open($"private static {V} {name}UnitsBackward{f.TypeParameters()}({V} v, ref {V} theta, int stride, ref {V} units, {V} invP, {V} invQ, {V} invR, {V} invS, {V} go, {V} gl, ref {V} gtheta, int gstride){f.Constraint}");
        w.Line($"{V} gv = {S(0)};");
        w.Open($"for (int j = 0; j < {n}; j++)");
        w.Line($"{V} slope = Unsafe.Add(ref units, j), weight = Unsafe.Add(ref units, {n} + j), sig = Unsafe.Add(ref units, {2 * n} + j), sigNeg = Unsafe.Add(ref units, {3 * n} + j);");
        w.Line("// posterior weights α, β, γ of P, Q, R (each sums to 1 over the units), and γ/a");
        w.Line($"{V} gammaOverSlope = weight * (sig * sigNeg) * invR;");
        w.Line($"{V} alpha = weight * sig * invP, beta = weight * sigNeg * invQ, gamma = gammaOverSlope * slope;");
        w.Line("// ∂out/∂u = α·σ(−u) + β·σ(u); ∂λ/∂u = γ·(σ(−u) − σ(u)) − α·σ(−u) + β·σ(u)");
        w.Line($"{V} aSigNeg = alpha * sigNeg, bSig = beta * sig;");
        w.Line($"{V} gu = Kernel.Mac(go, aSigNeg + bSig, gl * (gamma * (sigNeg - sig) - aSigNeg + bSig));");
        w.Line("gv = Kernel.Mac(gu, slope, gv);");
        w.Line("// ∂/∂ã = (gu·v + gl·γ/a)·σ(ã); ∂/∂b = gu");
        w.Line("Unsafe.Add(ref gtheta, j * gstride) = Kernel.Mac(gu, v, gl * gammaOverSlope) * Kernel.Sigmoid(Unsafe.Add(ref theta, j * stride));");
        w.Line($"Unsafe.Add(ref gtheta, ({n} + j) * gstride) = gu;");
        w.Line("// ∂out/∂ℓ = α − β, ∂λ/∂ℓ = γ − α − β for ℓ = log w; through the log-softmax ∂/∂w̃ⱼ = ∂/∂ℓⱼ − wⱼ·Σᵢ ∂/∂ℓᵢ, where");
        w.Line("// Σᵢ ∂/∂ℓᵢ = go·(Σα − Σβ) + gl·(Σγ − Σα − Σβ) = −gl exactly");
        w.Line($"Unsafe.Add(ref gtheta, ({2 * n} + j) * gstride) = Kernel.Mac(go, alpha - beta, gl * (gamma - alpha - beta + weight * invS));");
        w.Close();
        w.Line("return gv;");
        w.Close();
        w.Line();

        w.Line($"/// <summary>");
        w.Line($"/// Backward through one block at input v: returns ∂L/∂v; writes ∂L/∂θ of the block (gθ stride <paramref name=\"gstride\"/>). In linear");
        w.Line($"/// space as <c>{name}Block</c> (the sums, then <c>{name}UnitsBackward</c>), in log space in the lanes where the sums are not exact.");
        w.Line($"/// </summary>");
        w.Open($"private static {V} {name}BlockBackward{f.TypeParameters()}({V} v, ref {V} theta, int stride, {V} go, {V} gl, ref {V} gtheta, int gstride){f.Constraint}");
        w.Line($"// aⱼ, ωⱼ, then σ(uⱼ), σ(−uⱼ)");
        w.Line($"Span<{V}> units = stackalloc {V}[{4 * n}];");
        w.Line($"ref {V} slope = ref MemoryMarshal.GetReference(units);");
        w.Line($"{name}Units(ref theta, stride, ref slope, ref Unsafe.Add(ref slope, {n}));");
        w.Line($"var exact = {name}Sums(v, ref theta, stride, ref slope, ref Unsafe.Add(ref slope, {n}), ref Unsafe.Add(ref slope, {2 * n}), out {V} p, out {V} q, out {V} r, out {V} s);");
        w.Line($"{V} gv = {name}UnitsBackward(v, ref theta, stride, ref slope, {S(1)} / p, {S(1)} / q, {S(1)} / r, {S(1)} / s, go, gl, ref gtheta, gstride);");
        w.Line($"if (Kernel.Any(Kernel.Not(exact))) gv = {name}BlendLogSpaceBackward(exact, gv, v, ref theta, stride, go, gl, ref gtheta, gstride);");
        w.Line("return gv;");
        w.Close();
        w.Line();

        w.Line($"/// <summary>Deep sigmoidal backward: {(blocks == 1 ? "back through the block" : "recompute the block inputs, then back through the blocks")}.</summary>");
        w.Open($"private static void {name}Backward{f.TypeParameters()}({V} x, ref {V} theta, int stride, ref {V} g, {V} gl, ref {V} gtheta){f.Constraint}");
        if (blocks == 1)
        {
            w.Line($"g = {name}BlockBackward(x, ref theta, stride, g, gl, ref gtheta, stride);");
        }
        else
        {
            w.Line($"Span<{V}> inputs = stackalloc {V}[{blocks}];");
            w.Line($"{V} v = x;");
            w.Line("inputs[0] = v;");
            w.Open($"for (int q = 1; q < {blocks}; q++)");
            w.Line($"v = {name}Block(v, ref Unsafe.Add(ref theta, (q - 1) * {3 * n} * stride), stride, out _);");
            w.Line("inputs[q] = v;");
            w.Close();
            w.Line($"{V} gv = g;");
            w.Line($"for (int q = {blocks - 1}; q >= 0; q--) gv = {name}BlockBackward(inputs[q], ref Unsafe.Add(ref theta, q * {3 * n} * stride), stride, gv, gl, ref Unsafe.Add(ref gtheta, q * {3 * n} * stride), stride);");
            w.Line("g = gv;");
        }
        w.Close();
        w.Line();
    }

    protected override void EmitDerivatives(CodeWriter w, DeepSigmoidalOptions c, Flavor f, bool isDouble)
    {
        string V = f.V, name = ConfigurationName(c);
        int n = c.SigmoidUnits, blocks = c.SigmoidLayers;
        string S(double v) => f.Splat(Literals.Of(v, isDouble));
        w.Line("/// <summary>τ′(x) (product of the blocks' derivatives) and λ_x by forward-mode accumulation through the blocks.</summary>");
        w.Open($"private static void {name}Derivatives{f.TypeParameters()}({V} x, ref {V} theta, int stride, out {V} derivative, out {V} logDerivativeSlope){f.Constraint}");
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
