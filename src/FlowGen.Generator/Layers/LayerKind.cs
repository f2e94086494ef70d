using System.Collections.Generic;
using FlowGen.Generator.Emit;
using FlowGen.Generator.Model;
using FlowGen.Generator.Parsing;
using FlowGen.Generator.Planning;
using FlowGen.Generator.Spec;

namespace FlowGen.Generator.Layers;

/// <summary>What a layer kind writes its initialisation with: the writer and the model's constant tables of initial values.</summary>
internal sealed class InitContext
{
    private readonly Dictionary<string, string> _names = new(System.StringComparer.Ordinal);

    public InitContext(CodeWriter w, bool isDouble)
    {
        W = w;
        IsDouble = isDouble;
    }

    public CodeWriter W { get; }
    public bool IsDouble { get; }

    /// <summary>The tables declared so far: name and literal values.</summary>
    public List<(string Name, string[] Values)> Tables { get; } = new();

    /// <summary>A constant table of initial values (shared by every layer with the same values); returns its name.</summary>
    public string Table(IReadOnlyList<double> values)
    {
        string[] literals = System.Linq.Enumerable.ToArray(System.Linq.Enumerable.Select(values, v => Literals.Of(v, IsDouble)));
        string key = string.Join(",", literals);
        if (_names.TryGetValue(key, out string? name)) return name;
        name = "InitialValues" + Literals.Int(Tables.Count + 1);
        _names[key] = name;
        Tables.Add((name, literals));
        return name;
    }
}

/// <summary>
/// The owner of one layer kind: everything about the kind lives in its subclass (one folder under Layers/): the reading
/// and validation of its attribute (couplings: of their transformer kind's, <see cref="TransformerKind"/>), its layout
/// (the parameter tensors and scratch rows it asks of the plan), its identity initialisation, its description and stack
/// specification, and its code (forward and inverse on a tile and on one sample, the backward pass of either direction,
/// and data-dependent initialisation). The rest of the generator knows layer kinds only through this class and
/// <see cref="LayerRegistry"/>.
/// </summary>
internal abstract class LayerKind
{
    /// <summary>The kind's name in the stack specification (docs/model.md §8), e.g. "actnorm".</summary>
    public abstract string SpecName { get; }

    /// <summary>
    /// The class name of the attribute that lists a layer of this kind in an explicit stack (e.g. "ActNormAttribute"), or
    /// null for couplings, which are listed by their transformer kind's attribute and read by the parser's coupling reader.
    /// </summary>
    public virtual string? AttributeName => null;

    /// <summary>
    /// Reads and checks one attribute of this kind (<see cref="AttributeName"/>): every problem of its arguments is reported,
    /// each at its own argument. Returns the layer when the attribute is valid and the Dim is known, else null.
    /// </summary>
    public virtual LayerModel? Read(LayerAttributeContext c) =>
        throw new System.NotSupportedException($"layers of kind '{SpecName}' are not read from an attribute of their own");

    /// <summary>False for kinds that only rename rows (permutations): they get a banner but no method.</summary>
    public virtual bool HasCode => true;

    /// <summary>True when <see cref="EmitDataInitialization"/> sets this layer from data (ActNorm).</summary>
    public virtual bool IsDataInitialized => false;

    /// <summary>The physical row of each logical coordinate after the layer, given the rows before it.</summary>
    public virtual int[] MapAfter(LayerModel layer, int[] mapBefore) => (int[])mapBefore.Clone();

    /// <summary>Declares the layer's tensors and scratch rows (the plan assigns offsets) and returns the kind's layout record.</summary>
    public abstract object Plan(LayerModel layer, LayoutBuilder b);

    /// <summary>The stem of its shape classes' names (AffineCoupling1, ActNorm2, …).</summary>
    public abstract string ShapeStem(LayerModel layer);

    /// <summary>True when the kind's backward pass sums parameter gradients over lanes with the model's AddLanes helper.</summary>
    public virtual bool UsesAddLanes => false;

    /// <summary>What the layer is, in a few words, for the doc comment of its shape class (e.g. "Affine coupling").</summary>
    public abstract string Title(LayerModel layer);

    /// <summary>One line describing the layer (the human-readable stack description and the comments).</summary>
    public abstract string Describe(LayerPlan l);

    /// <summary>The formula the layer applies, for its banner comment.</summary>
    public abstract string Formula(LayerPlan l);

    /// <summary>Writes the layer's fields (after "kind") into the stack specification.</summary>
    public abstract void WriteSpec(LayerModel layer, JsonWriter j);

    /// <summary>Emits the statements that initialise the layer's parameters (p is the model's parameter array; rng a FlowRandom).</summary>
    public virtual void EmitInitialization(InitContext e, LayerPlan l)
    {
    }

    /// <summary>
    /// Emits the members of the layer's shape class: constants for its rows and offsets, then <c>Forward</c>, <c>Inverse</c>
    /// (tile), <c>ForwardOne</c>, <c>InverseOne</c> (one sample) and <c>Backward&lt;TDirection&gt;</c> (tile). Offsets are
    /// relative to the layer's parameter base, so layers of the same shape share one class.
    /// </summary>
    public abstract void EmitShape(ShapeContext e, LayerPlan l);

    /// <summary>
    /// Emits the data-dependent initialisation of the layer inside InitializeFromData (only when <see cref="IsDataInitialized"/>);
    /// <paramref name="tables"/> is the type holding the layer's tables, <paramref name="shape"/> its shape class as called.
    /// </summary>
    public virtual void EmitDataInitialization(CodeWriter w, LayerPlan l, FlowPlan plan, string tables, string shape)
    {
    }

    /// <summary>Helpers (static methods of the implementation class) this kind needs once per model, e.g. transformer helpers.</summary>
    public virtual void EmitModelHelpers(CodeWriter w, FlowPlan plan, IReadOnlyList<LayerPlan> layersOfKind)
    {
    }
}
