using System.Collections.Generic;
using System.Linq;
using FlowGen.Generator.Model;
using FlowGen.Generator.Planning;

namespace FlowGen.Generator.Emit;

/// <summary>
/// Emits reverse-mode code (tile flavor only): for every layer, the vector-Jacobian product of its forward map and of its
/// inverse map, and the drivers that run a batch forward (saving each layer's activations in its own slot of a per-thread
/// training tile) and then backward.
///
/// Conventions in every backward method: <c>g</c> holds the gradient with respect to the layer's output rows on entry and
/// with respect to its input rows on exit (same physical rows; permutations rename rows and need no code); <c>gl</c> is the
/// gradient with respect to the log-det accumulator (the same for every layer, since the log-det is a sum); parameter
/// gradients are added into <c>gp</c> (summed over the tile's lanes); context gradients are added into <c>gc</c>.
/// </summary>
internal static class BackwardEmitter
{
    public static string MethodName(LayerPlan l, bool inverse) => $"Layer{l.Index}{(inverse ? "InverseBackward" : "Backward")}";

    public static void EmitLayer(EmitContext e, LayerPlan l)
    {
        switch (l.Layer)
        {
            case CouplingLayer:
                EmitCoupling(e, l, inverse: false);
                EmitCoupling(e, l, inverse: true);
                break;
            case ActNormLayer:
                EmitActNorm(e, l, inverse: false);
                EmitActNorm(e, l, inverse: true);
                break;
            case LinearLayer:
                EmitLinear(e, l, inverse: false);
                EmitLinear(e, l, inverse: true);
                break;
        }
    }

    private static void Open(EmitContext e, LayerPlan l, bool inverse, string summary)
    {
        string T = e.Plan.T, V = $"Vector<{T}>";
        e.W.Line($"/// <summary>Layer {l.Index}, backward through the {(inverse ? "inverse" : "forward")} map on a tile: {summary}</summary>");
        e.W.Open($"private static void {MethodName(l, inverse)}(ref {T} p, ref {T} gp, ref {V} c, ref {V} s, ref {V} g, ref {V} gl, ref {V} gc, ref {V} t)");
    }

    // ------------------------------------------------------------------ couplings

    private static void EmitCoupling(EmitContext e, LayerPlan l, bool inverse)
    {
        CouplingLayer c = l.Coupling!;
        CodeWriter w = e.W;
        var f = Flavor.Tile(e.Plan.T);
        var tr = TransformerEmitter.For(c.Kind);
        int nb = c.Transformed.Count;
        Open(e, l, inverse, inverse
            ? "transformer gradients through x = τ⁻¹(y; θ), then the conditioner."
            : "transformer gradients through y = τ(x; θ), then the conditioner.");
        int go = l.GradOutRow[l.Dense.Length - 1];
        w.Line($"// transformer: x_b saved at slot row {l.SaveRow} + b, θ at slot row {l.ORow}; gradients of θ go to scratch row {go}");
        w.Open("for (int k = 0; k < Lanes; k++)");
        w.Line($"ref Vector<{f.T}> o = ref Unsafe.Add(ref s, {l.ORow} * Lanes + k);");
        w.Line($"ref Vector<{f.T}> go = ref Unsafe.Add(ref t, {go} * Lanes + k);");
        w.Line($"Vector<{f.T}> logDetGrad = Unsafe.Add(ref gl, k);");
        var rows = c.Transformed.Select(i => l.MapBefore[i]).ToList();
        e.ForEach($"L{l.Index}TransformedRows", rows, "b", "r", (b, r) =>
        {
            string Index(int p) => b == "b" ? (p == 0 ? "b" : $"{p * nb} + b") : Literals.Int(p * nb + int.Parse(b, System.Globalization.CultureInfo.InvariantCulture));
            string Theta(int p)
            {
                string index = Index(p);
                if (index == "0") return "o";
                return $"Unsafe.Add(ref o, {(index.All(char.IsLetterOrDigit) ? index : "(" + index + ")")} * Lanes)";
            }
            string GTheta(int p)
            {
                string index = Index(p);
                if (index == "0") return "go";
                return $"Unsafe.Add(ref go, {(index.All(char.IsLetterOrDigit) ? index : "(" + index + ")")} * Lanes)";
            }
            string saveRow = b == "b" ? $"{l.SaveRow} + b" : Literals.Int(l.SaveRow + int.Parse(b, System.Globalization.CultureInfo.InvariantCulture));
            w.Line(tr.Backward(c, e.IsDouble, inverse, f.Row("s", saveRow), Theta, $"{nb} * Lanes", f.Row("g", r), "logDetGrad", GTheta));
        });
        w.Close();

        // conditioner, output layer first
        w.Line("// conditioner, last dense layer first");
        for (int k = l.Dense.Length - 1; k >= 0; k--)
        {
            DensePlan d = l.Dense[k];
            string gyRow = $"ref Unsafe.Add(ref t, {l.GradOutRow[k]} * Lanes)";
            string guRow = k > 0 ? $"ref Unsafe.Add(ref t, {l.GradOutRow[k - 1]} * Lanes)" : $"ref Unsafe.Add(ref t, {l.GradInputRow} * Lanes)";
            string pre = d.StoresPre ? $"ref Unsafe.Add(ref s, {d.PreRow} * Lanes)" : $"ref Unsafe.Add(ref s, {d.OutRow} * Lanes)";
            w.Line($"{DenseBackwardEmitter.Name(d)}(ref Unsafe.Add(ref p, {d.WeightOffset}), ref Unsafe.Add(ref gp, {d.WeightOffset}), " +
                   $"ref Unsafe.Add(ref s, {d.InRow} * Lanes), ref Unsafe.Add(ref s, {d.OutRow} * Lanes), {pre}, {gyRow}, {guRow}, ref Unsafe.Add(ref t, {l.TransposeRow} * Lanes));");
        }
        w.Line($"// the kept coordinates{(e.Plan.Context > 0 ? " and the context" : "")} receive the gradient of the conditioner input");
        w.Open("for (int k = 0; k < Lanes; k++)");
        var keptRows = c.Kept.Select(i => l.MapBefore[i]).ToList();
        e.ForEach($"L{l.Index}KeptRows", keptRows, "a", "r", (a, r) =>
        {
            string src = a == "a" ? $"{l.GradInputRow} + a" : Literals.Int(l.GradInputRow + int.Parse(a, System.Globalization.CultureInfo.InvariantCulture));
            w.Line($"{f.Row("g", r)} += {f.Row("t", src)};");
        });
        if (e.Plan.Context > 0)
        {
            w.Open($"for (int i = 0; i < {e.Plan.Context}; i++)");
            w.Line($"{f.Row("gc", "i")} += {f.Row("t", $"{l.GradInputRow + c.Kept.Count} + i")};");
            w.Close();
        }
        w.Close();
        w.Close();
        w.Line();
    }

    // ------------------------------------------------------------------ ActNorm

    private static void EmitActNorm(EmitContext e, LayerPlan l, bool inverse)
    {
        CodeWriter w = e.W;
        string T = e.Plan.T, V = $"Vector<{T}>";
        int d = e.Plan.Dim, off = l.ParamOffset;
        Open(e, l, inverse, inverse
            ? "x = (y − b)·exp(−ℓ): ∂/∂y = exp(−ℓ), ∂/∂b = −exp(−ℓ), ∂/∂ℓ = −x; log-det −ℓ."
            : "y = x·exp(ℓ) + b: ∂/∂x = exp(ℓ), ∂/∂b = 1, ∂/∂ℓ = x·exp(ℓ); log-det +ℓ.");
        w.Line("// parameter gradients are added one sample at a time, in sample order (AddLanes), so they do not depend on the SIMD width");
        w.Open($"for (int i = 0; i < {d}; i++)");
        w.Line($"{T} logScale = Unsafe.Add(ref p, {off} + i);");
        w.Line($"{V} scale = new {V}(Kernel.Exp({(inverse ? "-logScale" : "logScale")}));");
        w.Line($"int r = L{l.Index}Rows[i];");
        w.Open("for (int k = 0; k < Lanes; k++)");
        w.Line($"{V} upstream = Unsafe.Add(ref g, r * Lanes + k), x = Unsafe.Add(ref s, ({l.SaveRow} + i) * Lanes + k), logDetGrad = Unsafe.Add(ref gl, k);");
        if (inverse)
        {
            // upstream = ∂L/∂x; ∂L/∂y = upstream·e^{−ℓ}; ∂L/∂b = −∂L/∂y; ∂L/∂ℓ = −upstream·x (and −gl from the log-det)
            w.Line($"{V} gy = upstream * scale;");
            w.Line($"AddLanes(ref Unsafe.Add(ref gp, {off} + i), -Kernel.Mac(upstream, x, logDetGrad));");
            w.Line($"AddLanes(ref Unsafe.Add(ref gp, {off + d} + i), -gy);");
            w.Line("Unsafe.Add(ref g, r * Lanes + k) = gy;");
        }
        else
        {
            // upstream = ∂L/∂y; ∂L/∂x = upstream·e^ℓ; ∂L/∂b = upstream; ∂L/∂ℓ = upstream·x·e^ℓ (and +gl from the log-det)
            w.Line($"AddLanes(ref Unsafe.Add(ref gp, {off} + i), Kernel.Mac(upstream * x, scale, logDetGrad));");
            w.Line($"AddLanes(ref Unsafe.Add(ref gp, {off + d} + i), upstream);");
            w.Line("Unsafe.Add(ref g, r * Lanes + k) = upstream * scale;");
        }
        w.Close();
        w.Close();
        w.Close();
        w.Line();
        e.Table($"L{l.Index}Rows", l.MapBefore);
    }

    // ------------------------------------------------------------------ invertible linear

    private static void EmitLinear(EmitContext e, LayerPlan l, bool inverse)
    {
        CodeWriter w = e.W;
        string T = e.Plan.T, V = $"Vector<{T}>";
        int d = e.Plan.Dim, tri = d * (d - 1) / 2;
        int lower = l.ParamOffset, upper = lower + tri, logDiag = upper + tri, bias = logDiag + d;
        string rows = e.Table($"L{l.Index}Rows", l.MapBefore), after = e.Table($"L{l.Index}RowsAfter", l.MapAfter);
        int xRow = l.SaveRow, vRow = l.SaveRow + d;
        string X(string i) => $"Unsafe.Add(ref s, ({xRow} + {i}) * Lanes + k)";
        string Vv(string i) => $"Unsafe.Add(ref s, ({vRow} + {i}) * Lanes + k)";
        string G(string i) => $"Unsafe.Add(ref g, {rows}[{i}] * Lanes + k)";
        if (!inverse)
        {
            Open(e, l, inverse, "y = P·(w + bias), w = L·v, v = (U + diag(exp ℓ))·x; x and v saved.");
            w.Line("// parameter gradients are added one sample at a time, in sample order (AddLanes), so they do not depend on the SIMD width");
            w.Line("// bias: y_i = w_π(i) + bias_i lives in row RowsAfter[i]; the gradient rows of w are those rows");
            w.Open($"for (int i = 0; i < {d}; i++)");
            w.Line($"for (int k = 0; k < Lanes; k++) AddLanes(ref Unsafe.Add(ref gp, {bias} + i), Unsafe.Add(ref g, {after}[i] * Lanes + k));");
            w.Close();
            w.Line("// w = L·v: gL_ij += gw_i·v_j (i > j); gv_j = gw_j + Σ_{i>j} L_ij·gw_i, in place for ascending j");
            w.Open($"for (int i = 1; i < {d}; i++)");
            w.Open("for (int j = 0; j < i; j++)");
            w.Line($"for (int k = 0; k < Lanes; k++) AddLanes(ref Unsafe.Add(ref gp, {lower} + i * (i - 1) / 2 + j), {G("i")} * {Vv("j")});");
            w.Close();
            w.Close();
            w.Open($"for (int j = 0; j < {d}; j++)");
            w.Open("for (int k = 0; k < Lanes; k++)");
            w.Line($"{V} acc = {G("j")};");
            w.Line($"for (int i = j + 1; i < {d}; i++) acc = Kernel.Mac(new {V}(Unsafe.Add(ref p, {lower} + i * (i - 1) / 2 + j)), {G("i")}, acc);");
            w.Line($"{G("j")} = acc;");
            w.Close();
            w.Close();
            w.Line("// v = (U + diag(exp ℓ))·x: gU_ij += gv_i·x_j (i < j); gℓ_i += gv_i·exp(ℓ_i)·x_i + gl; gx_j = exp(ℓ_j)·gv_j + Σ_{i<j} U_ij·gv_i, descending j");
            w.Open($"for (int i = 0; i < {d}; i++)");
            w.Line($"{V} diagScale = new {V}(Kernel.Exp(Unsafe.Add(ref p, {logDiag} + i)));");
            w.Line($"for (int k = 0; k < Lanes; k++) AddLanes(ref Unsafe.Add(ref gp, {logDiag} + i), Kernel.Mac({G("i")} * {X("i")}, diagScale, Unsafe.Add(ref gl, k)));");
            w.Open($"for (int j = i + 1; j < {d}; j++)");
            w.Line($"for (int k = 0; k < Lanes; k++) AddLanes(ref Unsafe.Add(ref gp, {upper} + i * {d} - i * (i + 1) / 2 - i - 1 + j), {G("i")} * {X("j")});");
            w.Close();
            w.Close();
            w.Open($"for (int j = {d - 1}; j >= 0; j--)");
            w.Line($"{V} scale = new {V}(Kernel.Exp(Unsafe.Add(ref p, {logDiag} + j)));");
            w.Open("for (int k = 0; k < Lanes; k++)");
            w.Line($"{V} acc = scale * {G("j")};");
            w.Line($"for (int i = 0; i < j; i++) acc = Kernel.Mac(new {V}(Unsafe.Add(ref p, {upper} + i * {d} - i * (i + 1) / 2 - i - 1 + j)), {G("i")}, acc);");
            w.Line($"{G("j")} = acc;");
            w.Close();
            w.Close();
        }
        else
        {
            Open(e, l, inverse, "x = A⁻¹·v, A = U + diag(exp ℓ); v = L⁻¹·w; w = Pᵀ·(y − bias); x and v saved.");
            w.Line("// parameter gradients are added one sample at a time, in sample order (AddLanes), so they do not depend on the SIMD width");
            w.Line("// gv = A⁻ᵀ·gx: ascending i, gv_i = (gx_i − Σ_{j<i} U_ji·gv_j)·exp(−ℓ_i)");
            w.Open($"for (int i = 0; i < {d}; i++)");
            w.Line($"{V} inverseScale = new {V}(Kernel.Exp(-Unsafe.Add(ref p, {logDiag} + i)));");
            w.Open("for (int k = 0; k < Lanes; k++)");
            w.Line($"{V} acc = {G("i")};");
            w.Line($"for (int j = 0; j < i; j++) acc = Kernel.Mac(new {V}(-Unsafe.Add(ref p, {upper} + j * {d} - j * (j + 1) / 2 - j - 1 + i)), {G("j")}, acc);");
            w.Line($"{G("i")} = acc * inverseScale;");
            w.Close();
            w.Close();
            w.Line("// gA = −gv·xᵀ on A's entries: gU_ij −= gv_i·x_j (i < j), gℓ_i −= gv_i·x_i·exp(ℓ_i) + gl");
            w.Open($"for (int i = 0; i < {d}; i++)");
            w.Line($"{V} diagScale = new {V}(Kernel.Exp(Unsafe.Add(ref p, {logDiag} + i)));");
            w.Line($"for (int k = 0; k < Lanes; k++) AddLanes(ref Unsafe.Add(ref gp, {logDiag} + i), -Kernel.Mac({G("i")} * {X("i")}, diagScale, Unsafe.Add(ref gl, k)));");
            w.Open($"for (int j = i + 1; j < {d}; j++)");
            w.Line($"for (int k = 0; k < Lanes; k++) AddLanes(ref Unsafe.Add(ref gp, {upper} + i * {d} - i * (i + 1) / 2 - i - 1 + j), -({G("i")} * {X("j")}));");
            w.Close();
            w.Close();
            w.Line("// gw = L⁻ᵀ·gv: descending i, gw_i = gv_i − Σ_{j>i} L_ji·gw_j; then gL_ij −= gw_i·v_j (i > j)");
            w.Open($"for (int i = {d - 1}; i >= 0; i--)");
            w.Open("for (int k = 0; k < Lanes; k++)");
            w.Line($"{V} acc = {G("i")};");
            w.Line($"for (int j = i + 1; j < {d}; j++) acc = Kernel.Mac(new {V}(-Unsafe.Add(ref p, {lower} + j * (j - 1) / 2 + i)), {G("j")}, acc);");
            w.Line($"{G("i")} = acc;");
            w.Close();
            w.Close();
            w.Open($"for (int i = 1; i < {d}; i++)");
            w.Open("for (int j = 0; j < i; j++)");
            w.Line($"for (int k = 0; k < Lanes; k++) AddLanes(ref Unsafe.Add(ref gp, {lower} + i * (i - 1) / 2 + j), -({G("i")} * {Vv("j")}));");
            w.Close();
            w.Close();
            w.Line("// w = Pᵀ·(y − bias): the rows of gw are the rows of gy; gbias_i −= gy_i");
            w.Open($"for (int i = 0; i < {d}; i++)");
            w.Line($"for (int k = 0; k < Lanes; k++) AddLanes(ref Unsafe.Add(ref gp, {bias} + i), -Unsafe.Add(ref g, {after}[i] * Lanes + k));");
            w.Close();
        }
        w.Close();
        w.Line();
    }

    // ------------------------------------------------------------------ drivers

    public static void EmitDrivers(EmitContext e)
    {
        CodeWriter w = e.W;
        FlowPlan plan = e.Plan;
        string T = plan.T, V = $"Vector<{T}>";
        bool dbl = plan.Model.IsDouble;
        var coded = plan.Layers.Where(l => LayerEmitter.For(l.Layer) is not null).ToList();
        int d = plan.Dim, cdim = plan.Context;
        int ldRow = d, cRow = d + 1, gRow = d + 1 + cdim, glRow = 2 * d + 1 + cdim, gcRow = 2 * d + 2 + cdim, slotRow = 2 * d + 2 + 2 * cdim;
        int backRow = slotRow + plan.TotalSlotRows;

        w.Line($"// Training tile rows: point [0, {d}), log-det {ldRow}, context [{cRow}, {cRow + cdim}), ∂point [{gRow}, {gRow + d}), ∂log-det {glRow},");
        w.Line($"// ∂context [{gcRow}, {gcRow + cdim}), the layers' own slots [{slotRow}, {backRow}), backward scratch [{backRow}, {plan.TrainRows}).");
        w.Line($"private const int TrainRows = {plan.TrainRows};");
        w.Line($"[ThreadStatic] private static {V}[]? t_train;");
        w.Line($"[ThreadStatic] private static {T}[]? t_unusedGradient;");
        w.Line();
        w.Line("/// <summary>A gradient span to write into when the caller asked for none (per thread).</summary>");
        w.Line($"public static Span<{T}> UnusedParameterGradient() => t_unusedGradient ??= new {T}[ParameterCount];");
        w.Line();
        if (plan.Layers.Any(l => l.Layer is ActNormLayer or LinearLayer))
        {
            w.Line("/// <summary>target += each lane of v, lane 0 first: one sample at a time in sample order, so a parameter gradient");
            w.Line("/// summed over a batch has the same bits whatever the SIMD width (and the padded lanes of a partial tile add 0).</summary>");
            w.Line("[MethodImpl(MethodImplOptions.AggressiveInlining)]");
            w.Open($"private static void AddLanes(ref {T} target, {V} v)");
            w.Line($"{T} acc = target;");
            w.Line($"for (int lane = 0; lane < {V}.Count; lane++) acc += v[lane];");
            w.Line("target = acc;");
            w.Close();
            w.Line();
        }

        foreach (bool inverse in new[] { false, true })
        {
            string name = inverse ? "InverseBackwardBatch" : "ForwardBackwardBatch";
            string src = inverse ? "zs" : "xs";
            if (inverse)
            {
                w.Line("/// <summary>");
                w.Line("/// Vector-Jacobian product of the inverse map x = f⁻¹(z) for a batch: runs the inverse tile by tile (saving activations), loads");
                w.Line("/// ∂L/∂x (gradX, row-major) and ∂L/∂log|det ∂x/∂z| (gradLogDet), and propagates back: adds ∂L/∂θ to gp, writes ∂L/∂z to gradZ");
                w.Line("/// and ∂L/∂context to gradContexts (each unless empty).");
                w.Line("/// </summary>");
                w.Open($"public static void {name}(ref {T} p, ReadOnlySpan<{T}> zs, ReadOnlySpan<{T}> contexts, ReadOnlySpan<{T}> gradX, ReadOnlySpan<{T}> gradLogDet, ref {T} gp, Span<{T}> gradZ, Span<{T}> gradContexts, int n)");
            }
            else
            {
                w.Line("/// <summary>");
                w.Line("/// Vector-Jacobian product of z = f(x) for a batch: runs the flow tile by tile (saving activations), then back. With nll set, the upstream");
                w.Line("/// gradient is that of weight·NLL (∂/∂z = weight·z, ∂/∂log-det = −weight) and the sum of the NLLs is returned; otherwise it is read");
                w.Line("/// from gradZ (row-major) and gradLogDet. Adds ∂L/∂θ to gp; writes ∂L/∂x to gradX and ∂L/∂context to gradContexts unless empty.");
                w.Line("/// </summary>");
                w.Open($"public static double {name}(ref {T} p, ReadOnlySpan<{T}> xs, ReadOnlySpan<{T}> contexts, ReadOnlySpan<{T}> gradZ, ReadOnlySpan<{T}> gradLogDet, ref {T} gp, Span<{T}> gradX, Span<{T}> gradContexts, int n, {T} weight, bool nll)");
            }
            w.Line($"{V}[] buffer = t_train ??= new {V}[TrainRows * Lanes];");
            w.Line($"ref {V} x = ref MemoryMarshal.GetArrayDataReference(buffer);");
            w.Line($"ref {V} ld = ref Unsafe.Add(ref x, {ldRow} * Lanes);");
            w.Line($"ref {V} c = ref Unsafe.Add(ref x, {cRow} * Lanes);");
            w.Line($"ref {V} g = ref Unsafe.Add(ref x, {gRow} * Lanes);");
            w.Line($"ref {V} gl = ref Unsafe.Add(ref x, {glRow} * Lanes);");
            w.Line($"ref {V} gc = ref Unsafe.Add(ref x, {gcRow} * Lanes);");
            w.Line($"ref {V} slots = ref Unsafe.Add(ref x, {slotRow} * Lanes);");
            w.Line($"ref {V} t = ref Unsafe.Add(ref x, {backRow} * Lanes);");
            w.Line($"int width = Lanes * {V}.Count;");
            if (!inverse) w.Line("double loss = 0;");
            w.Open("for (int start = 0; start < n; start += width)");
            w.Line("int count = Math.Min(width, n - start);");
            w.Line($"FlowTile.Load({src}, start, count, Dim, Lanes, {(inverse ? "FinalRows" : "IdentityRows")}, ref x);");
            if (cdim > 0) w.Line("FlowTile.Load(contexts, start, count, ContextDim, Lanes, ContextRows, ref c);");
            w.Line($"for (int k = 0; k < Lanes; k++) Unsafe.Add(ref ld, k) = {V}.Zero;");
            var order = inverse ? Enumerable.Reverse(coded).ToList() : coded;
            foreach (LayerPlan l in order)
            {
                w.Line($"{LayerEmitter.MethodName(l, inverse ? "Inverse" : "Forward", Flavor.Tile(T))}(ref p, ref x, ref c, ref Unsafe.Add(ref slots, {l.TrainSlot} * Lanes), ref ld);");
            }
            w.Line("// upstream gradients; lanes past count stay zero, so padding contributes nothing");
            if (inverse)
            {
                w.Line("FlowTile.Load(gradX, start, count, Dim, Lanes, IdentityRows, ref g);");
                w.Line("FlowTile.LoadRow(gradLogDet, start, count, Lanes, ref gl);");
            }
            else
            {
                w.Open("if (nll)");
                w.Line($"ref {T} lds = ref Unsafe.As<{V}, {T}>(ref ld);");
                w.Line($"ref {T} gls = ref Unsafe.As<{V}, {T}>(ref gl);");
                w.Line($"ref {T} xsT = ref Unsafe.As<{V}, {T}>(ref x);");
                w.Line($"ref {T} gsT = ref Unsafe.As<{V}, {T}>(ref g);");
                w.Line("ReadOnlySpan<int> rows = FinalRows;");
                w.Open("for (int q = 0; q < count; q++)");
                w.Line($"{T} sq = {Literals.Of(0, dbl)};");
                w.Open("for (int i = 0; i < Dim; i++)");
                w.Line($"{T} z = Unsafe.Add(ref xsT, rows[i] * width + q);");
                w.Line("sq = Kernel.Mac(z, z, sq);");
                w.Line("Unsafe.Add(ref gsT, rows[i] * width + q) = weight * z;");
                w.Close();
                w.Line($"loss += (double)Kernel.Mac({Literals.Of(0.5, dbl)}, sq, HalfLogTwoPiTimesDim) - (double)Unsafe.Add(ref lds, q);");
                w.Line("Unsafe.Add(ref gls, q) = -weight;");
                w.Close();
                w.Line($"for (int q = count; q < width; q++) {{ Unsafe.Add(ref gls, q) = {Literals.Of(0, dbl)}; for (int i = 0; i < Dim; i++) Unsafe.Add(ref gsT, i * width + q) = {Literals.Of(0, dbl)}; }}");
                w.Close();
                w.Open("else");
                w.Line("FlowTile.Load(gradZ, start, count, Dim, Lanes, FinalRows, ref g);");
                w.Line("FlowTile.LoadRow(gradLogDet, start, count, Lanes, ref gl);");
                w.Close();
            }
            if (cdim > 0) w.Line($"for (int r = 0; r < ContextDim * Lanes; r++) Unsafe.Add(ref gc, r) = {V}.Zero;");
            foreach (LayerPlan l in Enumerable.Reverse(order))
            {
                w.Line($"{BackwardEmitter.MethodName(l, inverse)}(ref p, ref gp, ref c, ref Unsafe.Add(ref slots, {l.TrainSlot} * Lanes), ref g, ref gl, ref gc, ref t);");
            }
            string gOut = inverse ? "gradZ" : "gradX";
            w.Line($"if (!{gOut}.IsEmpty) FlowTile.Store(ref g, {(inverse ? "FinalRows" : "IdentityRows")}, Lanes, {gOut}, start, count);");
            if (cdim > 0) w.Line("if (!gradContexts.IsEmpty) FlowTile.Store(ref gc, ContextRows, Lanes, gradContexts, start, count);");
            w.Close();
            if (!inverse) w.Line("return loss;");
            w.Close();
            w.Line();
        }
    }
}
