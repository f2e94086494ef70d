using System;
using System.Collections.Generic;
using System.Linq;
using FlowGen.Generator.Layers;
using FlowGen.Generator.Model;
using FlowGen.Generator.Planning;

namespace FlowGen.Generator.Emit;

/// <summary>
/// Writes the implementation of one flow (a file-local struct in namespace FlowGen.Generated that implements
/// FlowGen.Kernels.IFlowKernels&lt;T&gt;), top to bottom like the flow's mathematics: the stack (a banner and constants per
/// layer), the parameter tensors and their initialisation, the layer sequences the runtime's FlowDriver runs (forward and
/// inverse on a tile and on one sample, and the training passes), one class per distinct layer shape (written by the layer's
/// kind), and what the shapes share (the dense layers' shape types, transformer helpers).
/// </summary>
internal static class ImplementationEmitter
{
    /// <summary>The layers that have code, each with the name of its shape class.</summary>
    private sealed class Shapes
    {
        /// <summary>Per layer: the shape class as called (with the layer's tables struct when the shape has tables).</summary>
        public readonly Dictionary<int, string> ByLayer = new();

        /// <summary>Per layer: the type whose static members are the layer's tables (the tables struct, or the shape class).</summary>
        public readonly Dictionary<int, string> TableOwner = new();

        /// <summary>Per layer with tables: its tables struct.</summary>
        public readonly List<(string Name, string Interface, SortedDictionary<string, int[]> Tables)> TableStructs = new();

        public readonly List<(string Name, string Body, string[] TableNames, List<LayerPlan> Layers)> Distinct = new();
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
        w.Line($"/// <summary>Implementation of {m.FullName}: sizes, offsets and row maps are compile-time constants; FlowDriver runs its layer sequences.</summary>");
        w.Line($"[global::System.CodeDom.Compiler.GeneratedCode(\"FlowGen\", \"{FlowEmitter.GeneratorVersion}\")]");
        w.Open($"file readonly struct {FlowEmitter.ImplName(plan)} : IFlowKernels<{T}>");

        w.Line("/// <summary>Vectors per tile row: a tile holds Lanes × TV.Count samples, one per SIMD lane (TV: the widest vector the hardware accelerates).</summary>");
        w.Line($"public const int Lanes = FlowDriver<{T}, {FlowEmitter.ImplName(plan)}>.Lanes;");
        w.Line($"private const int Dim = {m.Dim};");
        w.Line($"private const int ContextDim = {m.Context};");
        w.Line($"private const int ParameterCount = {plan.ParameterCount};");
        w.Line();
        w.Line($"// Single-sample scratch: the point ({m.Dim}) then the shared slot ({plan.MaxSlotRows}).");
        w.Line($"private const int SingleScratch = {plan.SingleScratch};");
        w.Line($"private const {T} HalfLogTwoPiTimesDim = {Literals.Of(0.5 * m.Dim * Math.Log(2 * Math.PI), isDouble)};");
        w.Line();

        Shapes shapes = BuildShapes(w.Indent + 1, plan);
        EmitStack(w, plan, shapes);
        EmitTensors(w, plan);
        EmitInitialize(w, plan);
        EmitDataInitialization(w, plan, shapes);
        EmitSequences(w, plan, shapes);
        if (plan.Base is { } declaredBase) declaredBase.Kind.EmitMembers(w, declaredBase, plan);

        foreach (var (name, body, tableNames, layers) in shapes.Distinct)
        {
            LayerPlan first = layers[0];
            string used = $"layer{(layers.Count > 1 ? "s" : "")} {string.Join(", ", layers.Select(l => Literals.Int(l.Index)))}";
            if (tableNames.Length > 0)
            {
                w.Line($"/// <summary>The constant tables of one layer of shape {name}.</summary>");
                w.Open($"private interface I{name}Rows");
                foreach (string t in tableNames) w.Line($"static abstract ReadOnlySpan<int> {t} {{ get; }}");
                w.Close();
                w.Line();
                w.Line($"/// <summary>{first.Kind.Title(first.Layer)} used by {used} (each with its own tables, TRows): {Xml(first.Kind.Formula(first))}.</summary>");
                w.Open($"private static class {name}<TRows> where TRows : struct, I{name}Rows");
            }
            else
            {
                w.Line($"/// <summary>{first.Kind.Title(first.Layer)} used by {used}: {Xml(first.Kind.Formula(first))}.</summary>");
                w.Open($"private static class {name}");
            }
            w.Raw(body);
            w.Close();
            w.Line();
        }
        if (shapes.TableStructs.Count > 0)
        {
            w.Line("// ---------------------------------------------------------------- the layers' tables (rows of coordinates after the permutations)");
            w.Line();
            foreach (var (rowsName, iface, tables) in shapes.TableStructs)
            {
                w.Open($"private readonly struct {rowsName} : {iface}");
                foreach (KeyValuePair<string, int[]> t in tables)
                {
                    w.Line($"public static ReadOnlySpan<int> {t.Key} => new int[] {{ {string.Join(", ", t.Value.Select(Literals.Int))} }};");
                }
                w.Close();
                w.Line();
            }
        }

        DenseEmitter.EmitShapes(w, plan);

        if (plan.Layers.Any(l => l.Kind.UsesAddLanes))
        {
            w.Line("/// <summary>target += each lane of v, lane 0 first: one sample at a time in sample order, so a parameter gradient");
            w.Line("/// summed over a batch has the same bits whatever the SIMD width (and the padded lanes of a partial tile add 0).</summary>");
            w.Line("[MethodImpl(MethodImplOptions.AggressiveInlining)]");
            w.Open($"private static void AddLanes<TV>(ref {T} target, TV v){Flavor.VectorConstraint}");
            w.Line($"{T} acc = target;");
            w.Line($"for (int lane = 0; lane < TV.Count; lane++) acc += Simd.Element<{T}, TV>(v, lane);");
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
        w.Line("/// <summary>The physical row of each latent coordinate after the last layer.</summary>");
        w.Line($"private static ReadOnlySpan<int> FinalRows => new int[] {{ {string.Join(", ", plan.FinalMap.Select(Literals.Int))} }};");
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
            string body = w.ToString().TrimEnd('\n') + "\n";
            string[] tableNames = e.Tables.Keys.ToArray();
            int existing = shapes.Distinct.FindIndex(s => s.Body == body && s.TableNames.SequenceEqual(tableNames));
            string name;
            if (existing >= 0)
            {
                shapes.Distinct[existing].Layers.Add(l);
                name = shapes.Distinct[existing].Name;
            }
            else
            {
                string stem = l.Kind.ShapeStem(l.Layer);
                counts.TryGetValue(stem, out int n);
                counts[stem] = ++n;
                name = stem + Literals.Int(n);
                shapes.Distinct.Add((name, body, tableNames, new List<LayerPlan> { l }));
            }
            if (tableNames.Length == 0)
            {
                shapes.ByLayer[l.Index] = name;
                shapes.TableOwner[l.Index] = name;
            }
            else
            {
                string rows = $"Layer{l.Index}Rows";
                shapes.ByLayer[l.Index] = $"{name}<{rows}>";
                shapes.TableOwner[l.Index] = rows;
                shapes.TableStructs.Add((rows, $"I{name}Rows", e.Tables));
            }
        }
        return shapes;
    }

    /// <summary>
    /// The stack: a banner per layer (what it is, its class, where its parameters and its training slot are) and its constants.
    /// The header restates the whole description; each shape class's comment gives the formula it applies.
    /// </summary>
    private static void EmitStack(CodeWriter w, FlowPlan plan, Shapes shapes)
    {
        w.Line("// ---------------------------------------------------------------- the stack, data x → latent z");
        foreach (LayerPlan l in plan.Layers)
        {
            string what = l.Kind.Describe(l);
            int comma = what.IndexOf(',');
            string title = comma < 0 ? what : what.Substring(0, comma);
            if (!l.Kind.HasCode)
            {
                w.Line($"// layer {l.Index}: {what}: {l.Kind.Formula(l)}");
                continue;
            }
            w.Line($"// layer {l.Index}: {title}, class {shapes.ByLayer[l.Index]}, parameters [{l.ParamOffset}, {l.ParamOffset + l.ParamCount}), training slot at row {l.TrainSlot}");
            w.Line($"private const int Layer{l.Index} = {l.ParamOffset}, Layer{l.Index}Slot = {l.TrainSlot};");
        }
        if (plan.Base is { } b) w.Line($"// base: {b.Kind.Describe(b.Base)}, parameters [{b.ParamOffset}, {b.ParamOffset + b.ParamCount})");
        w.Line();
    }

    private static void EmitTensors(CodeWriter w, FlowPlan plan)
    {
        w.Line("/// <summary>The parameter tensors (docs/model.md §5).</summary>");
        w.Line("public static readonly global::System.Collections.Generic.IReadOnlyList<global::FlowGen.ParameterTensor> Tensors = Array.AsReadOnly(new global::FlowGen.ParameterTensor[]");
        w.Line("{");
        w.Indent++;
        foreach (TensorPlan t in plan.AllTensors)
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
        w.Open($"public static {T}[] CreateParameters(ulong seed)");
        w.Line($"var p = new {T}[ParameterCount];");
        w.Line("Initialize(p, seed);");
        w.Line("return p;");
        w.Close();
        w.Line();
        w.Line("/// <summary>Initialisation of docs/model.md §6: hidden layers U(−1/√in, 1/√in), output layers zero weights and identity bias.</summary>");
        w.Open($"public static void Initialize({T}[] p, ulong seed)");
        w.Line("Array.Clear(p);");
        w.Line("var rng = new FlowRandom(seed);");
        var init = new InitContext(w, plan.IsDouble);
        foreach (LayerPlan l in plan.Layers) l.Kind.EmitInitialization(init, l);
        if (plan.Base is { } b) b.Kind.EmitInitialization(w, b, plan);
        w.Close();
        w.Line();
        foreach (var (name, values) in init.Tables)
        {
            w.Line($"/// <summary>Initial values of the transformer parameters that make a coupling the identity (docs/model.md §6).</summary>");
            w.Line($"private static ReadOnlySpan<{T}> {name} => new {T}[] {{ {string.Join(", ", values)} }};");
            w.Line();
        }
    }

    private static string Call(LayerPlan l, string shape, string method, string slot) =>
        $"{shape}.{method}(ref At(ref p, Layer{l.Index}), ref x, ref c, ref {slot}, ref ld);";

    private static void EmitDataInitialization(CodeWriter w, FlowPlan plan, Shapes shapes)
    {
        string T = plan.T, zero = Literals.Of(0, plan.IsDouble);
        w.Line($"public static bool HasDataInitialization => {(plan.HasDataInitialization ? "true" : "false")};");
        w.Line();
        if (!plan.HasDataInitialization)
        {
            w.Line("/// <summary>No layer is initialised from data.</summary>");
            w.Line($"public static void InitializeFromData({T}[] parameters, ReadOnlySpan<{T}> xs, ReadOnlySpan<{T}> contexts, int n) {{ }}");
            w.Line();
            return;
        }
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
            if (l.Kind.IsDataInitialized) l.Kind.EmitDataInitialization(w, l, plan, shapes.TableOwner[l.Index], shape);
            w.Open("for (int j = 0; j < n; j++)");
            w.Line($"ref {T} x = ref work[j * Dim];");
            w.Line($"ref {T} c = ref ContextDim > 0 ? ref MemoryMarshal.GetReference(contexts.Slice(j * ContextDim, ContextDim)) : ref MemoryMarshal.GetReference(contexts);");
            w.Line(Call(l, shape, "ForwardOne", "s"));
            w.Close();
        }
        w.Close();
        w.Line();
    }

    /// <summary>
    /// The layer sequences FlowDriver runs: every coded layer in stack order (forward) or reverse order (inverse), on a tile
    /// with the shared slot, on one sample, and for training with each layer's own slot, then the backward passes.
    /// </summary>
    private static void EmitSequences(CodeWriter w, FlowPlan plan, Shapes shapes)
    {
        string T = plan.T, V = Flavor.Vector, iface = $"IFlowKernels<{T}>";
        IReadOnlyList<LayerPlan> coded = plan.Coded;
        IEnumerable<LayerPlan> reversed = coded.Reverse();
        w.Line("// ---------------------------------------------------------------- the layer sequences FlowDriver runs");
        w.Line();
        w.Line($"static int {iface}.Dim => Dim;");
        w.Line($"static int {iface}.ContextDim => ContextDim;");
        w.Line($"static int {iface}.ParameterCount => ParameterCount;");
        w.Line($"static int {iface}.MaxSlotRows => {plan.MaxSlotRows};");
        w.Line($"static int {iface}.TotalSlotRows => {plan.TotalSlotRows};");
        w.Line($"static int {iface}.MaxBackRows => {plan.MaxBackRows};");
        w.Line($"static {T} {iface}.HalfLogTwoPiTimesDim => HalfLogTwoPiTimesDim;");
        w.Line($"static ReadOnlySpan<int> {iface}.FinalRows => FinalRows;");
        w.Line();
        w.Line("/// <summary>A layer's parameters (or their gradients): the model's from the layer's offset on.</summary>");
        w.Line("[MethodImpl(MethodImplOptions.AggressiveInlining)]");
        w.Line($"private static ref {T} At(ref {T} p, int offset) => ref Unsafe.Add(ref p, offset);");
        w.Line();
        w.Line("/// <summary>A layer's own slot in the training tile.</summary>");
        w.Line("[MethodImpl(MethodImplOptions.AggressiveInlining)]");
        w.Line($"private static ref {V} Slot<TV>(ref {V} slots, int row){Flavor.VectorConstraint} => ref Unsafe.Add(ref slots, row * Lanes);");
        w.Line();
        // tile sequences are generic over the vector type TV (their constraint is the interface's)
        void Sequence(string name, string parameters, IEnumerable<LayerPlan> layers, Func<LayerPlan, string> call)
        {
            w.Open($"static void {iface}.{name}{(parameters.Contains(V) ? "<" + V + ">" : "")}({parameters})");
            foreach (LayerPlan l in layers) w.Line(call(l));
            w.Close();
            w.Line();
        }
        string map = $"ref {T} p, ref {V} x, ref {V} c, ref {V} s, ref {V} ld", one = $"ref {T} p, ref {T} x, ref {T} c, ref {T} s, ref {T} ld";
        string train = $"ref {T} p, ref {V} x, ref {V} c, ref {V} slots, ref {V} ld";
        string back = $"ref {T} p, ref {T} gp, ref {V} c, ref {V} slots, ref {V} g, ref {V} gl, ref {V} gc, ref {V} t";
        Sequence("ForwardTile", map, coded, l => Call(l, shapes.ByLayer[l.Index], "Forward", "s"));
        Sequence("InverseTile", map, reversed, l => Call(l, shapes.ByLayer[l.Index], "Inverse", "s"));
        Sequence("ForwardOne", one, coded, l => Call(l, shapes.ByLayer[l.Index], "ForwardOne", "s"));
        Sequence("InverseOne", one, reversed, l => Call(l, shapes.ByLayer[l.Index], "InverseOne", "s"));
        string Own(LayerPlan l) => $"Slot(ref slots, Layer{l.Index}Slot)";
        string Backward(LayerPlan l, string direction) =>
            $"{shapes.ByLayer[l.Index]}.Backward<{direction}, {V}>(ref At(ref p, Layer{l.Index}), ref At(ref gp, Layer{l.Index}), ref c, ref {Own(l)}, ref g, ref gl, ref gc, ref t);";
        Sequence("ForwardTrain", train, coded, l => Call(l, shapes.ByLayer[l.Index], "Forward", Own(l)));
        Sequence("ForwardBackward", back, reversed, l => Backward(l, "ForwardMap"));
        Sequence("InverseTrain", train, reversed, l => Call(l, shapes.ByLayer[l.Index], "Inverse", Own(l)));
        Sequence("InverseBackward", back, coded, l => Backward(l, "InverseMap"));
    }
}
