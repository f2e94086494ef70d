using System.Collections.Generic;
using System.Linq;
using FlowGen.Generator.Planning;

namespace FlowGen.Generator.Emit;

/// <summary>
/// Emits the reverse-mode drivers (tile flavor only): a batch runs forward (or inverse) tile by tile, each layer saving what
/// its backward pass needs in its own slot of a per-thread training tile, then the layers' backward passes run in reverse.
///
/// Conventions in every backward method: <c>g</c> holds the gradient with respect to the layer's output rows on entry and
/// with respect to its input rows on exit (same physical rows; permutations rename rows and need no code); <c>gl</c> is the
/// gradient with respect to the log-det accumulator (the same for every layer, since the log-det is a sum); parameter
/// gradients are added into <c>gp</c> (summed over the tile's lanes); context gradients are added into <c>gc</c>.
/// </summary>
internal static class TrainingDriverEmitter
{
    public static void EmitDrivers(CodeWriter w, FlowPlan plan, IReadOnlyDictionary<int, string> shapes)
    {
        string T = plan.T, V = $"Vector<{T}>";
        bool dbl = plan.Model.IsDouble;
        var coded = plan.Coded.ToList();
        int d = plan.Dim, cdim = plan.Context;
        int ldRow = plan.LogDetRow, cRow = plan.ContextRow, gRow = plan.TrainGradRow, glRow = plan.TrainGradLogDetRow, gcRow = plan.TrainGradContextRow, slotRow = plan.TrainSlotsRow;
        int backRow = plan.TrainBackRow;

        w.Line($"// Training tile rows: point [0, {d}), log-det {ldRow}, context [{cRow}, {cRow + cdim}), ∂point [{gRow}, {gRow + d}), ∂log-det {glRow},");
        w.Line($"// ∂context [{gcRow}, {gcRow + cdim}), the layers' own slots [{slotRow}, {backRow}), backward scratch [{backRow}, {plan.TrainRows}).");
        w.Line($"private const int TrainRows = {plan.TrainRows};");
        w.Line($"[ThreadStatic] private static {V}[]? t_train;");
        w.Line($"[ThreadStatic] private static {T}[]? t_unusedGradient;");
        w.Line();
        w.Line("/// <summary>A gradient span to write into when the caller asked for none (per thread).</summary>");
        w.Line($"public static Span<{T}> UnusedParameterGradient() => t_unusedGradient ??= new {T}[ParameterCount];");
        w.Line();
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
                w.Line($"{shapes[l.Index]}.{(inverse ? "Inverse" : "Forward")}(ref Unsafe.Add(ref p, Layer{l.Index}), ref x, ref c, ref Unsafe.Add(ref slots, Layer{l.Index}Slot * Lanes), ref ld);");
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
                w.Line($"{shapes[l.Index]}.Backward<{(inverse ? "InverseMap" : "ForwardMap")}>(ref Unsafe.Add(ref p, Layer{l.Index}), ref Unsafe.Add(ref gp, Layer{l.Index}), ref c, ref Unsafe.Add(ref slots, Layer{l.Index}Slot * Lanes), ref g, ref gl, ref gc, ref t);");
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
