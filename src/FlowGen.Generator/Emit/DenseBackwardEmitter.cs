using System.Collections.Generic;
using System.Linq;
using FlowGen.Generator.Model;
using FlowGen.Generator.Layers;
using FlowGen.Generator.Planning;

namespace FlowGen.Generator.Emit;

/// <summary>
/// Backward kernels of the conditioners' dense layers, one per distinct shape (tile flavor). Given the gradient with
/// respect to the layer's output, a kernel (1) multiplies by the activation's derivative, (2) copies that gradient to a
/// sample-major scratch so that (3) the weight gradient ΔW[i, j] = Σ_samples u_i·g_j and the bias gradient are
/// accumulated with vectors across outputs j (no horizontal sums), and (4) writes the gradient with respect to the input,
/// u_i = Σ_j W[i, j]·g_j, with one sample per lane.
/// </summary>
internal static class DenseBackwardEmitter
{
    public static string Name(DensePlan d) =>
        $"DenseBackward_{d.In}x{d.Out}_{(d.Activation is { } a ? a.ToString() : "Linear")}{(d.StoresPre ? "_Pre" : "")}";

    /// <summary>A call of the backward kernel of layer <paramref name="d"/> (every argument a reference).</summary>
    public static string Call(DensePlan d, string weights, string gradWeights, string input, string output, string pre, string gradOutput, string gradInput, string transpose) =>
        $"{Name(d)}({weights}, {gradWeights}, {input}, {output}, {pre}, {gradOutput}, {gradInput}, {transpose});";

    public static void EmitKernels(CodeWriter w, FlowPlan plan)
    {
        var shapes = CouplingLayerKind.DenseLayers(plan)
            .GroupBy(d => (d.In, d.Out, d.Activation, d.StoresPre))
            .Select(g => g.First())
            .OrderBy(d => d.In).ThenBy(d => d.Out).ThenBy(d => d.Activation.HasValue ? (int)d.Activation.Value : -1).ThenBy(d => d.StoresPre)
            .ToList();
        foreach (DensePlan d in shapes) Emit(w, plan, d);
        EmitActivationGradients(w, plan);
    }

    private static void Emit(CodeWriter w, FlowPlan plan, DensePlan d)
    {
        string T = plan.T, V = $"Vector<{T}>";
        int din = d.In, dout = d.Out;
        w.Line($"/// <summary>Backward of dense {din} → {dout}{(d.Activation is { } a ? ", " + a.ToString().ToLowerInvariant() : ", linear")} on a tile: adds ∂W, ∂b to gw and writes ∂u; gy becomes the pre-activation gradient.</summary>");
        w.Open($"private static void {Name(d)}(ref {T} w, ref {T} gw, ref {V} u, ref {V} y, ref {V} pre, ref {V} gy, ref {V} gu, ref {V} tt)");
        w.Line($"int n = {V}.Count, width = Lanes * n;");
        if (d.Activation is { } act)
        {
            w.Line("// (1) through the activation");
            w.Line($"for (int j = 0; j < {dout} * Lanes; j++) Unsafe.Add(ref gy, j) = {ActivationGradientName(act)}(Unsafe.Add(ref gy, j), Unsafe.Add(ref y, j), Unsafe.Add(ref pre, j));");
        }
        w.Line("// (2) sample-major copy: ts[sample·out + j] = gy[j][sample]");
        w.Line($"ref {T} ts = ref Unsafe.As<{V}, {T}>(ref tt);");
        w.Line($"ref {T} gs = ref Unsafe.As<{V}, {T}>(ref gy);");
        w.Line($"Kernel.Transpose(ref gs, {dout}, width, ref ts);");
        // (3) register-blocked outer product: four inputs × two vectors of outputs stay in registers over the tile's samples,
        // so each sample costs 4 broadcasts + 2 loads for 8 FMAs (a one-row loop costs 5 loads for 4). Every ∂W[i, j] still
        // receives the same fused multiply-adds in the same sample order, so the result is unchanged bit for bit.
        w.Line("// (3) ∂W[i, j] += Σ_q u_i[q]·g_j[q], vectorised over j, four inputs at a time; then ∂b[j] += Σ_q g_j[q]");
        w.Line($"ref {T} us = ref Unsafe.As<{V}, {T}>(ref u);");
        w.Line("int i = 0;");
        if (din >= 4) EmitWeightGradientBlock(w, plan, din, dout);
        if (din % 4 != 0) EmitWeightGradientRow(w, plan, din, dout);
        EmitBiasGradient(w, plan, din, dout);

        w.Line("// (4) ∂u_i = Σ_j W[i, j]·g_j for every sample, four inputs at a time");
        w.Line("int i0 = 0;");
        if (din >= 4)
        {
            w.Open($"for (; i0 <= {din - 4}; i0 += 4)");
            w.Line($"{V} a00 = {V}.Zero, a01 = {V}.Zero, a10 = {V}.Zero, a11 = {V}.Zero, a20 = {V}.Zero, a21 = {V}.Zero, a30 = {V}.Zero, a31 = {V}.Zero;");
            w.Line($"ref {T} wr = ref Unsafe.Add(ref w, i0 * {dout});");
            w.Line($"ref {V} gj = ref gy;");
            w.Open($"for (int j = 0; j < {dout}; j++)");
            w.Line($"{V} g0 = gj, g1 = Unsafe.Add(ref gj, 1);");
            w.Line($"{V} w0 = new {V}(Unsafe.Add(ref wr, j)), w1 = new {V}(Unsafe.Add(ref wr, {dout} + j)), w2 = new {V}(Unsafe.Add(ref wr, {2 * dout} + j)), w3 = new {V}(Unsafe.Add(ref wr, {3 * dout} + j));");
            w.Line("a00 = Kernel.Mac(w0, g0, a00); a01 = Kernel.Mac(w0, g1, a01);");
            w.Line("a10 = Kernel.Mac(w1, g0, a10); a11 = Kernel.Mac(w1, g1, a11);");
            w.Line("a20 = Kernel.Mac(w2, g0, a20); a21 = Kernel.Mac(w2, g1, a21);");
            w.Line("a30 = Kernel.Mac(w3, g0, a30); a31 = Kernel.Mac(w3, g1, a31);");
            w.Line("gj = ref Unsafe.Add(ref gj, Lanes);");
            w.Close();
            w.Line($"ref {V} gi = ref Unsafe.Add(ref gu, i0 * Lanes);");
            w.Line("gi = a00; Unsafe.Add(ref gi, 1) = a01; Unsafe.Add(ref gi, 2) = a10; Unsafe.Add(ref gi, 3) = a11;");
            w.Line("Unsafe.Add(ref gi, 4) = a20; Unsafe.Add(ref gi, 5) = a21; Unsafe.Add(ref gi, 6) = a30; Unsafe.Add(ref gi, 7) = a31;");
            w.Close();
        }
        if (din % 4 != 0)
        {
            w.Open($"for (; i0 < {din}; i0++)");
            w.Line($"{V} a0 = {V}.Zero, a1 = {V}.Zero;");
            w.Line($"ref {T} wr = ref Unsafe.Add(ref w, i0 * {dout});");
            w.Line($"ref {V} gj = ref gy;");
            w.Open($"for (int j = 0; j < {dout}; j++)");
            w.Line($"{V} wv = new {V}(Unsafe.Add(ref wr, j));");
            w.Line("a0 = Kernel.Mac(wv, gj, a0); a1 = Kernel.Mac(wv, Unsafe.Add(ref gj, 1), a1);");
            w.Line("gj = ref Unsafe.Add(ref gj, Lanes);");
            w.Close();
            w.Line("Unsafe.Add(ref gu, i0 * Lanes) = a0; Unsafe.Add(ref gu, i0 * Lanes + 1) = a1;");
            w.Close();
        }
        w.Close();
        w.Line();
    }

    private static void EmitWeightGradientBlock(CodeWriter w, FlowPlan plan, int din, int dout)
    {
        string T = plan.T, V = $"Vector<{T}>";
        w.Open($"for (; i <= {din - 4}; i += 4)");
        w.Line($"ref {T} u0 = ref Unsafe.Add(ref us, i * width), u1 = ref Unsafe.Add(ref u0, width), u2 = ref Unsafe.Add(ref u0, 2 * width), u3 = ref Unsafe.Add(ref u0, 3 * width);");
        w.Line($"ref {T} g0 = ref Unsafe.Add(ref gw, i * {dout}), g1 = ref Unsafe.Add(ref g0, {dout}), g2 = ref Unsafe.Add(ref g0, {2 * dout}), g3 = ref Unsafe.Add(ref g0, {3 * dout});");
        w.Line("int j = 0;");
        w.Open($"for (; j <= {dout} - 2 * n; j += 2 * n)");
        w.Line($"{V} a00 = Vector.LoadUnsafe(ref g0, (nuint)j), a01 = Vector.LoadUnsafe(ref g0, (nuint)(j + n));");
        w.Line($"{V} a10 = Vector.LoadUnsafe(ref g1, (nuint)j), a11 = Vector.LoadUnsafe(ref g1, (nuint)(j + n));");
        w.Line($"{V} a20 = Vector.LoadUnsafe(ref g2, (nuint)j), a21 = Vector.LoadUnsafe(ref g2, (nuint)(j + n));");
        w.Line($"{V} a30 = Vector.LoadUnsafe(ref g3, (nuint)j), a31 = Vector.LoadUnsafe(ref g3, (nuint)(j + n));");
        w.Line($"ref {T} tq = ref Unsafe.Add(ref ts, j);");
        w.Open("for (int q = 0; q < width; q++)");
        w.Line($"{V} t0 = Vector.LoadUnsafe(ref tq), t1 = Vector.LoadUnsafe(ref tq, (nuint)n);");
        w.Line($"{V} b = new {V}(Unsafe.Add(ref u0, q)); a00 = Kernel.Mac(b, t0, a00); a01 = Kernel.Mac(b, t1, a01);");
        w.Line($"b = new {V}(Unsafe.Add(ref u1, q)); a10 = Kernel.Mac(b, t0, a10); a11 = Kernel.Mac(b, t1, a11);");
        w.Line($"b = new {V}(Unsafe.Add(ref u2, q)); a20 = Kernel.Mac(b, t0, a20); a21 = Kernel.Mac(b, t1, a21);");
        w.Line($"b = new {V}(Unsafe.Add(ref u3, q)); a30 = Kernel.Mac(b, t0, a30); a31 = Kernel.Mac(b, t1, a31);");
        w.Line($"tq = ref Unsafe.Add(ref tq, {dout});");
        w.Close();
        w.Line("a00.StoreUnsafe(ref g0, (nuint)j); a01.StoreUnsafe(ref g0, (nuint)(j + n));");
        w.Line("a10.StoreUnsafe(ref g1, (nuint)j); a11.StoreUnsafe(ref g1, (nuint)(j + n));");
        w.Line("a20.StoreUnsafe(ref g2, (nuint)j); a21.StoreUnsafe(ref g2, (nuint)(j + n));");
        w.Line("a30.StoreUnsafe(ref g3, (nuint)j); a31.StoreUnsafe(ref g3, (nuint)(j + n));");
        w.Close();
        w.Open($"for (; j <= {dout} - n; j += n)");
        w.Line($"{V} a0 = Vector.LoadUnsafe(ref g0, (nuint)j), a1 = Vector.LoadUnsafe(ref g1, (nuint)j), a2 = Vector.LoadUnsafe(ref g2, (nuint)j), a3 = Vector.LoadUnsafe(ref g3, (nuint)j);");
        w.Line($"ref {T} tq = ref Unsafe.Add(ref ts, j);");
        w.Open("for (int q = 0; q < width; q++)");
        w.Line($"{V} t0 = Vector.LoadUnsafe(ref tq);");
        w.Line($"a0 = Kernel.Mac(new {V}(Unsafe.Add(ref u0, q)), t0, a0); a1 = Kernel.Mac(new {V}(Unsafe.Add(ref u1, q)), t0, a1);");
        w.Line($"a2 = Kernel.Mac(new {V}(Unsafe.Add(ref u2, q)), t0, a2); a3 = Kernel.Mac(new {V}(Unsafe.Add(ref u3, q)), t0, a3);");
        w.Line($"tq = ref Unsafe.Add(ref tq, {dout});");
        w.Close();
        w.Line("a0.StoreUnsafe(ref g0, (nuint)j); a1.StoreUnsafe(ref g1, (nuint)j); a2.StoreUnsafe(ref g2, (nuint)j); a3.StoreUnsafe(ref g3, (nuint)j);");
        w.Close();
        w.Open($"for (; j < {dout}; j++)");
        w.Line($"{T} a0 = Unsafe.Add(ref g0, j), a1 = Unsafe.Add(ref g1, j), a2 = Unsafe.Add(ref g2, j), a3 = Unsafe.Add(ref g3, j);");
        w.Open("for (int q = 0; q < width; q++)");
        w.Line($"{T} t0 = Unsafe.Add(ref ts, q * {dout} + j);");
        w.Line("a0 = Kernel.Mac(Unsafe.Add(ref u0, q), t0, a0); a1 = Kernel.Mac(Unsafe.Add(ref u1, q), t0, a1);");
        w.Line("a2 = Kernel.Mac(Unsafe.Add(ref u2, q), t0, a2); a3 = Kernel.Mac(Unsafe.Add(ref u3, q), t0, a3);");
        w.Close();
        w.Line("Unsafe.Add(ref g0, j) = a0; Unsafe.Add(ref g1, j) = a1; Unsafe.Add(ref g2, j) = a2; Unsafe.Add(ref g3, j) = a3;");
        w.Close();
        w.Close();
    }

    private static void EmitWeightGradientRow(CodeWriter w, FlowPlan plan, int din, int dout)
    {
        string T = plan.T, V = $"Vector<{T}>";
        w.Open($"for (; i < {din}; i++)");
        w.Line($"ref {T} gwi = ref Unsafe.Add(ref gw, i * {dout});");
        w.Line($"ref {T} ui = ref Unsafe.Add(ref us, i * width);");
        w.Line("int j = 0;");
        w.Open($"for (; j <= {dout} - n; j += n)");
        w.Line($"{V} a0 = Vector.LoadUnsafe(ref gwi, (nuint)j);");
        w.Line($"ref {T} tq = ref Unsafe.Add(ref ts, j);");
        w.Open("for (int q = 0; q < width; q++)");
        w.Line($"a0 = Kernel.Mac(new {V}(Unsafe.Add(ref ui, q)), Vector.LoadUnsafe(ref tq), a0);");
        w.Line($"tq = ref Unsafe.Add(ref tq, {dout});");
        w.Close();
        w.Line("a0.StoreUnsafe(ref gwi, (nuint)j);");
        w.Close();
        w.Open($"for (; j < {dout}; j++)");
        w.Line($"{T} a0 = Unsafe.Add(ref gwi, j);");
        w.Line($"for (int q = 0; q < width; q++) a0 = Kernel.Mac(Unsafe.Add(ref ui, q), Unsafe.Add(ref ts, q * {dout} + j), a0);");
        w.Line("Unsafe.Add(ref gwi, j) = a0;");
        w.Close();
        w.Close();
    }

    private static void EmitBiasGradient(CodeWriter w, FlowPlan plan, int din, int dout)
    {
        string T = plan.T, V = $"Vector<{T}>";
        string one = Literals.Of(1, plan.Model.IsDouble);
        w.Open();
        w.Line("// the bias row (input 1)");
        w.Line($"ref {T} gb = ref Unsafe.Add(ref gw, {din * dout});");
        w.Line($"{V} ones = new {V}({one});");
        w.Line("int j = 0;");
        w.Open($"for (; j <= {dout} - 2 * n; j += 2 * n)");
        w.Line($"{V} a0 = Vector.LoadUnsafe(ref gb, (nuint)j), a1 = Vector.LoadUnsafe(ref gb, (nuint)(j + n));");
        w.Line($"ref {T} tq = ref Unsafe.Add(ref ts, j);");
        w.Open("for (int q = 0; q < width; q++)");
        w.Line("a0 = Kernel.Mac(ones, Vector.LoadUnsafe(ref tq), a0); a1 = Kernel.Mac(ones, Vector.LoadUnsafe(ref tq, (nuint)n), a1);");
        w.Line($"tq = ref Unsafe.Add(ref tq, {dout});");
        w.Close();
        w.Line("a0.StoreUnsafe(ref gb, (nuint)j); a1.StoreUnsafe(ref gb, (nuint)(j + n));");
        w.Close();
        w.Open($"for (; j <= {dout} - n; j += n)");
        w.Line($"{V} a0 = Vector.LoadUnsafe(ref gb, (nuint)j);");
        w.Line($"ref {T} tq = ref Unsafe.Add(ref ts, j);");
        w.Open("for (int q = 0; q < width; q++)");
        w.Line("a0 = Kernel.Mac(ones, Vector.LoadUnsafe(ref tq), a0);");
        w.Line($"tq = ref Unsafe.Add(ref tq, {dout});");
        w.Close();
        w.Line("a0.StoreUnsafe(ref gb, (nuint)j);");
        w.Close();
        w.Open($"for (; j < {dout}; j++)");
        w.Line($"{T} a0 = Unsafe.Add(ref gb, j);");
        w.Line($"for (int q = 0; q < width; q++) a0 = Kernel.Mac({one}, Unsafe.Add(ref ts, q * {dout} + j), a0);");
        w.Line("Unsafe.Add(ref gb, j) = a0;");
        w.Close();
        w.Close();
    }

    public static string ActivationGradientName(ActivationKind a) => a + "Gradient";

    private static void EmitActivationGradients(CodeWriter w, FlowPlan plan)
    {
        string T = plan.T, V = $"Vector<{T}>";
        bool dbl = plan.Model.IsDouble;
        string one = $"new {V}({Literals.Of(1, dbl)})";
        var used = new HashSet<ActivationKind>(CouplingLayerKind.DenseLayers(plan).Where(d => d.Activation.HasValue).Select(d => d.Activation!.Value));
        foreach (ActivationKind a in used.OrderBy(x => x))
        {
            w.Line($"/// <summary>∂L/∂pre for {a.ToString().ToLowerInvariant()}, from ∂L/∂y, y and (where needed) the pre-activation.</summary>");
            w.Line("[MethodImpl(MethodImplOptions.AggressiveInlining)]");
            string body = a switch
            {
                ActivationKind.Tanh => $"gy * Kernel.Mac(-y, y, {one})",
                ActivationKind.Relu => $"Vector.ConditionalSelect(Vector.GreaterThan(y, {V}.Zero), gy, {V}.Zero)",
                ActivationKind.Softplus => "gy * Kernel.Sigmoid(pre)",
                ActivationKind.Elu => $"Vector.ConditionalSelect(Vector.GreaterThan(y, {V}.Zero), gy, gy * (y + {one}))",
                ActivationKind.Gelu => "gy * GeluDerivative(pre)",
                _ => $"gy * SiluDerivative(pre)",
            };
            w.Line($"private static {V} {ActivationGradientName(a)}({V} gy, {V} y, {V} pre) => {body};");
            w.Line();
        }
        if (used.Contains(ActivationKind.Gelu))
        {
            w.Line("/// <summary>d/dx of ½x(1 + tanh(a(x + bx³))) = ½(1 + t) + ½x(1 − t²)·a(1 + 3bx²).</summary>");
            w.Open($"private static {V} GeluDerivative({V} x)");
            w.Line($"{V} x2 = x * x;");
            w.Line($"{V} t = Kernel.Tanh({Literals.Of(System.Math.Sqrt(2 / System.Math.PI), dbl)} * Kernel.Mac({Literals.Of(0.044715, dbl)} * x2, x, x));");
            w.Line($"{V} inner = {Literals.Of(System.Math.Sqrt(2 / System.Math.PI), dbl)} * Kernel.Mac(new {V}({Literals.Of(3 * 0.044715, dbl)}), x2, {one});");
            w.Line($"return {Literals.Of(0.5, dbl)} * Kernel.Mac(x * Kernel.Mac(-t, t, {one}), inner, {one} + t);");
            w.Close();
            w.Line();
        }
        if (used.Contains(ActivationKind.Silu))
        {
            w.Line("/// <summary>d/dx of x·σ(x) = σ(x)(1 + x(1 − σ(x))).</summary>");
            w.Open($"private static {V} SiluDerivative({V} x)");
            w.Line($"{V} sig = Kernel.Sigmoid(x);");
            w.Line($"return sig * Kernel.Mac(x, {one} - sig, {one});");
            w.Close();
            w.Line();
        }
    }
}
