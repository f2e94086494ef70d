using System;
using System.Collections.Generic;
using System.Linq;
using FlowGen.Generator.Layers;
using FlowGen.Generator.Model;
using FlowGen.Generator.Planning;

namespace FlowGen.Generator.Emit;

/// <summary>
/// Writes the implementation class of one flow (a file-local class in namespace FlowGen.Generated), top to bottom like the
/// flow's mathematics: the stack (a banner and constants per layer), the parameter tensors and their initialisation, the
/// drivers that run the stack on a batch tile by tile and on one sample, the backward drivers, one class per distinct layer
/// shape (written by the layer's kind), and the helpers the shapes share (dense kernels, transformers).
/// </summary>
internal static class ImplementationEmitter
{
    /// <summary>The layers that have code, each with the name of its shape class.</summary>
    private sealed class Shapes
    {
        public readonly Dictionary<int, string> ByLayer = new();
        public readonly List<(string Name, string Body, List<LayerPlan> Layers)> Distinct = new();
    }

    public static void Emit(CodeWriter w, FlowPlan plan)
    {
        FlowModel m = plan.Model;
        string T = plan.T;
        bool isDouble = m.IsDouble;

        w.Open("namespace FlowGen.Generated");
        w.Line("using System;");
        w.Line("using System.Numerics;");
        w.Line("using System.Runtime.CompilerServices;");
        w.Line("using System.Runtime.InteropServices;");
        w.Line("using FlowGen;");
        w.Line("using FlowGen.Kernels;");
        w.Line();
        w.Line($"/// <summary>Implementation of {m.FullName}: sizes, offsets and row maps are compile-time constants.</summary>");
        w.Line($"[global::System.CodeDom.Compiler.GeneratedCode(\"FlowGen\", \"{FlowEmitter.GeneratorVersion}\")]");
        w.Open($"file static class {FlowEmitter.ImplName(plan)}");

        w.Line("/// <summary>Vectors per tile row: a tile holds Lanes × Vector&lt;T&gt;.Count samples, one per SIMD lane.</summary>");
        w.Line($"public const int Lanes = {FlowPlan.Lanes};");
        w.Line($"private const int Dim = {m.Dim};");
        w.Line($"private const int ContextDim = {m.Context};");
        w.Line($"private const int ParameterCount = {plan.ParameterCount};");
        w.Line();
        w.Line($"// Tile rows: the point at rows [0, {m.Dim}), log-det at row {plan.LogDetRow}, context at [{plan.ContextRow}, {plan.ContextRow + m.Context}), the layers' shared slot ({plan.MaxSlotRows} rows) after.");
        w.Line($"private const int TileRows = {plan.TileRows};");
        w.Line($"private const int SlotRow = {plan.SlotRow};");
        w.Line($"// Single-sample scratch: the point ({m.Dim}) then the shared slot ({plan.MaxSlotRows}).");
        w.Line($"private const int SingleScratch = {plan.SingleScratch};");
        w.Line($"private const {T} HalfLogTwoPiTimesDim = {Literals.Of(0.5 * m.Dim * Math.Log(2 * Math.PI), isDouble)};");
        w.Line();

        Shapes shapes = BuildShapes(w.Indent + 1, plan);
        EmitStack(w, plan, shapes);
        EmitTensors(w, plan);
        EmitInitialize(w, plan);
        if (plan.HasDataInitialization) EmitDataInitialization(w, plan, shapes);
        EmitDrivers(w, plan, shapes);
        TrainingDriverEmitter.EmitDrivers(w, plan, shapes.ByLayer);

        foreach (var (name, body, layers) in shapes.Distinct)
        {
            LayerPlan first = layers[0];
            w.Line($"/// <summary>{first.Kind.Title(first.Layer)} used by layer{(layers.Count > 1 ? "s" : "")} {string.Join(", ", layers.Select(l => Literals.Int(l.Index)))}: {Xml(first.Kind.Formula(first))}.</summary>");
            w.Open($"private static class {name}");
            w.Raw(body);
            w.Close();
            w.Line();
        }

        w.Line("// ---------------------------------------------------------------- dense kernels");
        w.Line();
        DenseEmitter.EmitKernels(w, plan);
        DenseEmitter.EmitActivationHelpers(w, plan);
        DenseBackwardEmitter.EmitKernels(w, plan);

        if (plan.Layers.Any(l => l.Kind is ActNormLayerKind or InvertibleLinearLayerKind))
        {
            w.Line("/// <summary>target += each lane of v, lane 0 first: one sample at a time in sample order, so a parameter gradient");
            w.Line("/// summed over a batch has the same bits whatever the SIMD width (and the padded lanes of a partial tile add 0).</summary>");
            w.Line("[MethodImpl(MethodImplOptions.AggressiveInlining)]");
            w.Open($"private static void AddLanes(ref {T} target, Vector<{T}> v)");
            w.Line($"{T} acc = target;");
            w.Line($"for (int lane = 0; lane < Vector<{T}>.Count; lane++) acc += v[lane];");
            w.Line("target = acc;");
            w.Close();
            w.Line();
        }

        w.Line("// ---------------------------------------------------------------- transformers");
        w.Line();
        foreach (IGrouping<LayerKind, LayerPlan> g in plan.Layers.GroupBy(l => l.Kind))
        {
            g.Key.EmitModelHelpers(w, plan, g.ToList());
        }

        w.Line("// ---------------------------------------------------------------- constant tables");
        w.Line();
        var tables = new SortedDictionary<string, int[]>(StringComparer.Ordinal)
        {
            ["IdentityRows"] = Enumerable.Range(0, m.Dim).ToArray(),
            ["FinalRows"] = plan.FinalMap,
        };
        if (m.Context > 0) tables["ContextRows"] = Enumerable.Range(0, m.Context).ToArray();
        foreach (KeyValuePair<string, int[]> t in tables)
        {
            w.Line($"private static ReadOnlySpan<int> {t.Key} => new int[] {{ {string.Join(", ", t.Value.Select(Literals.Int))} }};");
        }
        w.Close(); // class
        w.Close(); // namespace
    }

    private static string Xml(string text) => text.Replace("&", "&amp;").Replace("<", "&lt;").Replace(">", "&gt;");

    /// <summary>Emits every coded layer's shape class body and groups identical bodies into one class.</summary>
    private static Shapes BuildShapes(int indent, FlowPlan plan)
    {
        var shapes = new Shapes();
        var counts = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (LayerPlan l in plan.Coded)
        {
            var w = new CodeWriter { Indent = indent };
            var e = new ShapeContext(w, plan);
            l.Kind.EmitShape(e, l);
            e.EmitTables();
            string body = w.ToString().TrimEnd('\n') + "\n";
            int existing = shapes.Distinct.FindIndex(s => s.Body == body);
            if (existing >= 0)
            {
                shapes.Distinct[existing].Layers.Add(l);
                shapes.ByLayer[l.Index] = shapes.Distinct[existing].Name;
                continue;
            }
            string stem = l.Layer is CouplingLayer c
                ? c.Transformer.Kind.AttributeName.Substring(0, c.Transformer.Kind.AttributeName.Length - "Attribute".Length)
                : l.Kind is ActNormLayerKind ? "ActNorm" : "InvertibleLinear";
            counts.TryGetValue(stem, out int n);
            counts[stem] = ++n;
            string name = stem + Literals.Int(n);
            shapes.Distinct.Add((name, body, new List<LayerPlan> { l }));
            shapes.ByLayer[l.Index] = name;
        }
        return shapes;
    }

    /// <summary>The stack: a banner per layer (what it is, the formula it applies, where its parameters are) and its constants.</summary>
    private static void EmitStack(CodeWriter w, FlowPlan plan, Shapes shapes)
    {
        w.Line("// ---------------------------------------------------------------- the stack, data x → latent z");
        foreach (LayerPlan l in plan.Layers)
        {
            w.Line();
            w.Line($"// layer {l.Index}: {l.Kind.Describe(l)}");
            w.Line($"//   {l.Kind.Formula(l)}");
            if (!l.Kind.HasCode) continue;
            w.Line($"//   parameters [{l.ParamOffset}, {l.ParamOffset + l.ParamCount}), class {shapes.ByLayer[l.Index]}; its own slot in the training tile at row {l.TrainSlot} of the slots");
            w.Line($"private const int Layer{l.Index} = {l.ParamOffset}, Layer{l.Index}Slot = {l.TrainSlot};");
        }
        w.Line();
    }

    private static void EmitTensors(CodeWriter w, FlowPlan plan)
    {
        w.Line("/// <summary>The parameter tensors (docs/model.md §5).</summary>");
        w.Line("public static readonly global::System.Collections.Generic.IReadOnlyList<global::FlowGen.ParameterTensor> Tensors = Array.AsReadOnly(new global::FlowGen.ParameterTensor[]");
        w.Line("{");
        w.Indent++;
        foreach (TensorPlan t in plan.Layers.SelectMany(l => l.Tensors))
        {
            w.Line($"new(\"{t.Name}\", {t.Offset}, new[] {{ {string.Join(", ", t.Shape.Select(Literals.Int))} }}, {(t.Transposed ? "true" : "false")}),");
        }
        w.Indent--;
        w.Line("});");
        w.Line();
    }

    private static void EmitInitialize(CodeWriter w, FlowPlan plan)
    {
        string T = plan.T;
        w.Line("/// <summary>A new parameter vector initialised from a seed.</summary>");
        w.Open($"public static {T}[] CreateParameters(int seed)");
        w.Line($"var p = new {T}[ParameterCount];");
        w.Line("Initialize(p, seed);");
        w.Line("return p;");
        w.Close();
        w.Line();
        w.Line("/// <summary>Initialisation of docs/model.md §6: hidden layers U(−1/√in, 1/√in), output layers zero weights and identity bias.</summary>");
        w.Open($"public static void Initialize({T}[] p, int seed)");
        w.Line("Array.Clear(p);");
        w.Line("var rng = new FlowRandom(unchecked((ulong)(long)seed));");
        foreach (LayerPlan l in plan.Layers) l.Kind.EmitInitialization(w, l, plan.IsDouble);
        w.Close();
        w.Line();
    }

    private static string Call(LayerPlan l, string shape, string method, string slot) =>
        $"{shape}.{method}(ref Unsafe.Add(ref p, Layer{l.Index}), ref x, ref c, ref {slot}, ref ld);";

    private static void EmitDataInitialization(CodeWriter w, FlowPlan plan, Shapes shapes)
    {
        string T = plan.T, zero = Literals.Of(0, plan.IsDouble);
        w.Line("/// <summary>Data-dependent initialisation (docs/model.md §4): layer by layer over the whole batch, setting each ActNorm from the statistics of its input.</summary>");
        w.Open($"public static void InitializeFromData({T}[] parameters, ReadOnlySpan<{T}> xs, ReadOnlySpan<{T}> contexts, int n)");
        w.Line($"{T}[] work = xs.ToArray();");
        w.Line($"Span<{T}> slot = new {T}[Math.Max(1, SingleScratch - Dim)];");
        w.Line($"ref {T} p = ref MemoryMarshal.GetArrayDataReference(parameters);");
        w.Line($"ref {T} s = ref MemoryMarshal.GetReference(slot);");
        w.Line($"{T} ld = {zero};");
        foreach (LayerPlan l in plan.Coded)
        {
            string shape = shapes.ByLayer[l.Index];
            if (l.Kind.IsDataInitialized) l.Kind.EmitDataInitialization(w, l, plan, shape);
            w.Open("for (int j = 0; j < n; j++)");
            w.Line($"ref {T} x = ref work[j * Dim];");
            w.Line($"ref {T} c = ref ContextDim > 0 ? ref MemoryMarshal.GetReference(contexts.Slice(j * ContextDim, ContextDim)) : ref MemoryMarshal.GetReference(contexts);");
            w.Line(Call(l, shape, "ForwardOne", "s"));
            w.Close();
        }
        w.Close();
        w.Line();
    }

    private static void EmitDrivers(CodeWriter w, FlowPlan plan, Shapes shapes)
    {
        string T = plan.T, V = $"Vector<{T}>";
        string zero = Literals.Of(0, plan.IsDouble), half = Literals.Of(0.5, plan.IsDouble);
        IReadOnlyList<LayerPlan> coded = plan.Coded;

        // scratch allocation: on the stack when small, else a per-thread buffer
        long singleBytes = (long)plan.SingleScratch * (plan.IsDouble ? 8 : 4);
        long tileBytesMax = (long)plan.TileRows * FlowPlan.Lanes * 64;
        bool singleOnStack = singleBytes <= 32 * 1024;
        bool tileOnStack = tileBytesMax <= 128 * 1024;
        if (!singleOnStack) w.Line($"[ThreadStatic] private static {T}[]? t_single;");
        if (!tileOnStack) w.Line($"[ThreadStatic] private static {V}[]? t_tile;");
        if (!singleOnStack || !tileOnStack) w.Line();

        // ---- single sample, forward
        w.Line("/// <summary>One sample, data → latent. Returns the log-det, or the log-density when <paramref name=\"logProb\"/> is set.</summary>");
        w.Open($"public static {T} ForwardOne(ref {T} p, ReadOnlySpan<{T}> xIn, ReadOnlySpan<{T}> context, Span<{T}> zOut, bool logProb)");
        w.Line(singleOnStack ? $"Span<{T}> buffer = stackalloc {T}[SingleScratch];" : $"Span<{T}> buffer = t_single ??= new {T}[SingleScratch];");
        w.Line("xIn.CopyTo(buffer);");
        w.Line($"ref {T} x = ref MemoryMarshal.GetReference(buffer);");
        w.Line($"ref {T} s = ref Unsafe.Add(ref x, Dim);");
        w.Line($"ref {T} c = ref MemoryMarshal.GetReference(context);");
        w.Line($"{T} ld = {zero};");
        foreach (LayerPlan l in coded) w.Line(Call(l, shapes.ByLayer[l.Index], "ForwardOne", "s"));
        w.Open("if (!zOut.IsEmpty)");
        w.Line("ReadOnlySpan<int> rows = FinalRows;");
        w.Line("for (int i = 0; i < Dim; i++) zOut[i] = Unsafe.Add(ref x, rows[i]);");
        w.Close();
        w.Line("return logProb ? LatentLogDensityOne(ref x, ld) : ld;");
        w.Close();
        w.Line();

        // ---- single sample, inverse
        w.Line("/// <summary>One sample, latent → data. Returns log|det ∂x/∂z|, or when <paramref name=\"logProb\"/> is set log p(x) = log N(z) − log|det ∂x/∂z|.</summary>");
        w.Open($"public static {T} InverseOne(ref {T} p, ReadOnlySpan<{T}> zIn, ReadOnlySpan<{T}> context, Span<{T}> xOut, bool logProb)");
        w.Line(singleOnStack ? $"Span<{T}> buffer = stackalloc {T}[SingleScratch];" : $"Span<{T}> buffer = t_single ??= new {T}[SingleScratch];");
        w.Line($"ref {T} x = ref MemoryMarshal.GetReference(buffer);");
        w.Line($"ref {T} s = ref Unsafe.Add(ref x, Dim);");
        w.Line($"ref {T} c = ref MemoryMarshal.GetReference(context);");
        w.Open("");
        w.Line("ReadOnlySpan<int> rows = FinalRows;");
        w.Line("for (int i = 0; i < Dim; i++) Unsafe.Add(ref x, rows[i]) = zIn[i];");
        w.Close();
        w.Line($"{T} logNormal = logProb ? LatentLogDensityOne(ref x, {zero}) : {zero};");
        w.Line($"{T} ld = {zero};");
        foreach (LayerPlan l in coded.Reverse()) w.Line(Call(l, shapes.ByLayer[l.Index], "InverseOne", "s"));
        w.Line("if (!xOut.IsEmpty) buffer.Slice(0, Dim).CopyTo(xOut);");
        w.Line("return logProb ? logNormal - ld : ld;");
        w.Close();
        w.Line();

        w.Line("/// <summary>ld − (½‖z‖² + (Dim/2)·log 2π), with z read from the rows of the final map in coordinate order.</summary>");
        w.Open($"private static {T} LatentLogDensityOne(ref {T} x, {T} ld)");
        w.Line("ReadOnlySpan<int> rows = FinalRows;");
        w.Line($"{T} sq = {zero};");
        w.Open("for (int i = 0; i < Dim; i++)");
        w.Line($"{T} z = Unsafe.Add(ref x, rows[i]);");
        w.Line("sq = Kernel.Mac(z, z, sq);");
        w.Close();
        w.Line($"return ld - Kernel.Mac({half}, sq, HalfLogTwoPiTimesDim);");
        w.Close();
        w.Line();

        w.Line("/// <summary>Tile version of <see cref=\"LatentLogDensityOne\"/>, for every lane: ld ← ld − (½‖z‖² + c) when add is set, else −(½‖z‖² + c).</summary>");
        w.Open($"private static void LatentLogDensity(ref {V} x, ref {V} ld, bool add)");
        w.Line("ReadOnlySpan<int> rows = FinalRows;");
        w.Open("for (int k = 0; k < Lanes; k++)");
        w.Line($"{V} sq = {V}.Zero;");
        w.Open("for (int i = 0; i < Dim; i++)");
        w.Line($"{V} z = Unsafe.Add(ref x, rows[i] * Lanes + k);");
        w.Line("sq = Kernel.Mac(z, z, sq);");
        w.Close();
        w.Line($"{V} logNormal = Kernel.Mac(new {V}({half}), sq, new {V}(HalfLogTwoPiTimesDim));");
        w.Line("Unsafe.Add(ref ld, k) = add ? Unsafe.Add(ref ld, k) - logNormal : -logNormal;");
        w.Close();
        w.Close();
        w.Line();

        // ---- batch drivers
        string tileAlloc = tileOnStack
            ? $"Span<{V}> tile = stackalloc {V}[TileRows * Lanes];"
            : $"Span<{V}> tile = t_tile ??= new {V}[TileRows * Lanes];";
        foreach (bool inverse in new[] { false, true })
        {
            string name = inverse ? "InverseBatch" : "ForwardBatch";
            string src = inverse ? "zs" : "xs", dst = inverse ? "xs" : "zs";
            w.Line(inverse
                ? "/// <summary>Batch latent → data, tile by tile; outs receives log|det ∂x/∂z| (or log p(x) = log N(z) − log|det ∂x/∂z| when logProb is set) unless empty. In-place safe.</summary>"
                : "/// <summary>Batch data → latent, tile by tile; outs receives log|det ∂z/∂x| (or log p(x) when logProb is set) unless empty. In-place safe.</summary>");
            w.Open($"public static void {name}(ref {T} p, ReadOnlySpan<{T}> {src}, ReadOnlySpan<{T}> contexts, Span<{T}> {dst}, Span<{T}> outs, int n, bool logProb)");
            w.Line($"int width = Lanes * {V}.Count;");
            w.Line("int start = 0;");
            w.Open("if (n >= width / 2)");
            w.Line(tileAlloc);
            w.Line($"ref {V} x = ref MemoryMarshal.GetReference(tile);");
            w.Line($"ref {V} ld = ref Unsafe.Add(ref x, Dim * Lanes);");
            w.Line($"ref {V} c = ref Unsafe.Add(ref x, (Dim + 1) * Lanes);");
            w.Line($"ref {V} s = ref Unsafe.Add(ref x, SlotRow * Lanes);");
            if (inverse) w.Line($"Span<{V}> logNormal = stackalloc {V}[Lanes];");
            w.Open("for (; n - start >= width / 2; start += width)");
            w.Line("int count = Math.Min(width, n - start);");
            w.Line($"FlowTile.Load({src}, start, count, Dim, Lanes, {(inverse ? "FinalRows" : "IdentityRows")}, ref x);");
            if (plan.Context > 0) w.Line("FlowTile.Load(contexts, start, count, ContextDim, Lanes, ContextRows, ref c);");
            if (inverse)
            {
                w.Line("if (logProb) LatentLogDensity(ref x, ref MemoryMarshal.GetReference(logNormal), add: false);");
                w.Line($"for (int k = 0; k < Lanes; k++) Unsafe.Add(ref ld, k) = {V}.Zero;");
                foreach (LayerPlan l in coded.Reverse()) w.Line(Call(l, shapes.ByLayer[l.Index], "Inverse", "s"));
                w.Line("if (logProb) for (int k = 0; k < Lanes; k++) Unsafe.Add(ref ld, k) = logNormal[k] - Unsafe.Add(ref ld, k);");
                w.Line("if (!xs.IsEmpty) FlowTile.Store(ref x, IdentityRows, Lanes, xs, start, count);");
            }
            else
            {
                w.Line($"for (int k = 0; k < Lanes; k++) Unsafe.Add(ref ld, k) = {V}.Zero;");
                foreach (LayerPlan l in coded) w.Line(Call(l, shapes.ByLayer[l.Index], "Forward", "s"));
                w.Line("if (logProb) LatentLogDensity(ref x, ref ld, add: true);");
                w.Line("if (!zs.IsEmpty) FlowTile.Store(ref x, FinalRows, Lanes, zs, start, count);");
            }
            w.Line("if (!outs.IsEmpty) FlowTile.StoreRow(ref ld, outs, start, count);");
            w.Close();
            w.Close();
            w.Line("// a short remainder goes through the single-sample path (bit-identical, and faster than a mostly empty tile)");
            w.Open("for (; start < n; start++)");
            w.Line($"{T} r = {(inverse ? "InverseOne" : "ForwardOne")}(ref p, {src}.Slice(start * Dim, Dim), ContextDim > 0 ? contexts.Slice(start * ContextDim, ContextDim) : default, {dst}.IsEmpty ? default : {dst}.Slice(start * Dim, Dim), logProb);");
            w.Line("if (!outs.IsEmpty) outs[start] = r;");
            w.Close();
            w.Close();
            w.Line();
        }
    }
}
