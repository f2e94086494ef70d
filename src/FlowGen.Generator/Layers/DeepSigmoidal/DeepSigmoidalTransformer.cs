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
/// a = softplus(ã), w = softmax(w̃), computed in log space (log h, log(1 − h) and log out′ as log-sum-exps), so no
/// probability is ever rounded to 0 or 1.
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
        string V = f.V;
        w.Line("/// <summary>log Σᵢ exp(vᵢ), shifted by the maximum.</summary>");
        w.Open($"private static {V} LogSumExp{f.TypeParameters()}(Span<{V}> values){f.Constraint}");
        w.Line($"{V} max = values[0];");
        w.Line("for (int i = 1; i < values.Length; i++) max = Kernel.Max(max, values[i]);");
        w.Line($"{V} sum = {f.Splat(Literals.Of(0, plan.Model.IsDouble))};");
        w.Line("for (int i = 0; i < values.Length; i++) sum += Kernel.Exp(values[i] - max);");
        w.Line("return max + Kernel.Log(sum);");
        w.Close();
        w.Line();
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

    protected override void EmitConfiguration(CodeWriter w, DeepSigmoidalOptions c, Flavor f, bool isDouble)
    {
        string V = f.V, name = ConfigurationName(c);
        int n = c.SigmoidUnits, blocks = c.SigmoidLayers;
        string S(double v) => f.Splat(Literals.Of(v, isDouble));

        w.Line($"/// <summary>The input-independent quantities of one deep sigmoidal block ({n} units): aⱼ = softplus(ãⱼ), log aⱼ, log wⱼ = log softmax(w̃)ⱼ.</summary>");
        w.Open($"private static void {name}Prepare{f.TypeParameters()}(ref {V} theta, int stride, Span<{V}> slope, Span<{V}> logSlope, Span<{V}> logWeight){f.Constraint}");
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
        w.Open($"private static {V} {name}Evaluate{f.TypeParameters()}({V} v, ref {V} theta, int stride, Span<{V}> slope, Span<{V}> logSlope, Span<{V}> logWeight, out {V} logDerivative){f.Constraint}");
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
        w.Open($"private static {V} {name}Block{f.TypeParameters()}({V} v, ref {V} theta, int stride, out {V} logDerivative){f.Constraint}");
        w.Line($"Span<{V}> slope = stackalloc {V}[{n}], logSlope = stackalloc {V}[{n}], logWeight = stackalloc {V}[{n}];");
        w.Line($"{name}Prepare(ref theta, stride, slope, logSlope, logWeight);");
        w.Line($"return {name}Evaluate(v, ref theta, stride, slope, logSlope, logWeight, out logDerivative);");
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

        w.Line($"/// <summary>Deep sigmoidal inverse: each block inverted in reverse order by safeguarded Newton–bisection (starting at the target); the block's input-independent quantities are computed once, outside the iteration.</summary>");
        w.Open($"private static void {name}Inverse{f.TypeParameters()}(ref {V} x, ref {V} theta, int stride, ref {V} logDet){f.Constraint}");
        w.Line($"// the state of the block's map: the block's prepared quantities one after the other (Prepare writes them), then a value for λ");
        w.Line($"Span<{V}> prepared = stackalloc {V}[{3 * n + 1}];");
        w.Line($"Span<{V}> unitSlope = prepared.Slice(0, {n}), unitLogSlope = prepared.Slice({n}, {n}), unitLogWeight = prepared.Slice({2 * n}, {n});");
        w.Open($"for (int q = {blocks - 1}; q >= 0; q--)");
        w.Line($"ref {V} block = ref Unsafe.Add(ref theta, q * {3 * n} * stride);");
        w.Line($"{name}Prepare(ref block, stride, unitSlope, unitLogSlope, unitLogWeight);");
        EmitSolve(w, c, f, "block", "MemoryMarshal.GetReference(prepared)", "x");
        w.Line($"{name}Evaluate(x, ref block, stride, unitSlope, unitLogSlope, unitLogWeight, out {V} logDerivative);");
        w.Line("logDet -= logDerivative;");
        w.Close();
        w.Close();
        w.Line();

        // the state: aⱼ, log aⱼ, log wⱼ (n of each, one after the other), then where λ goes
        string units = $"MemoryMarshal.CreateSpan(ref state, {n}), MemoryMarshal.CreateSpan(ref Unsafe.Add(ref state, {n}), {n}), MemoryMarshal.CreateSpan(ref Unsafe.Add(ref state, {2 * n}), {n})";
        string logDerivative = $"Unsafe.Add(ref state, {3 * n})";
        EmitMap(w, c, f, $"one deep sigmoidal block ({n} units) at its parameters; its state holds the block's prepared quantities, then a value for λ",
            $"{name}Evaluate(x, ref theta, stride, {units}, out {logDerivative})",
            new[]
            {
                $"{V} result = {name}Evaluate(x, ref theta, stride, {units}, out {logDerivative});",
                $"derivative = Kernel.Exp({logDerivative}); // for the Newton steps",
                "return result;",
            });

        if (!f.IsTile) return;
        w.Line($"/// <summary>Backward through one block at input v: returns ∂L/∂v; writes ∂L/∂θ of the block (gθ stride <paramref name=\"gstride\"/>).</summary>");
        w.Open($"private static {V} {name}BlockBackward{f.TypeParameters()}({V} v, ref {V} theta, int stride, {V} go, {V} gl, ref {V} gtheta, int gstride){f.Constraint}");
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
        w.Open($"private static void {name}Backward{f.TypeParameters()}({V} x, ref {V} theta, int stride, ref {V} g, {V} gl, ref {V} gtheta){f.Constraint}");
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
