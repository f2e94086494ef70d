using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Text;
using FlowGen.Generator.Bases;
using FlowGen.Generator.Layers;
using FlowGen.Generator.Model;
using FlowGen.Generator.Spec;

namespace FlowGen.Generator.Planning;

// Stage 3 of the generator, and the one place that knows the layout: from the equatable model, derive every number the
// emitters need — parameter offsets and tensors (docs/model.md §5), the physical row of each coordinate before each layer
// (permutations cost nothing: they only rename rows), and the scratch rows of every layer. Each layer kind declares what
// it needs through a LayoutBuilder; the plan assigns the offsets; emitters read them and compute none.
//
// The batch path works on tiles of Lanes × TV.Count samples (TV: the runtime's widest accelerated vector), one sample per SIMD lane: a "row" is Lanes vectors
// holding one quantity for every sample of the tile. The single-sample path uses the same slot layout with one scalar per
// row, so both paths share every offset computed here.

/// <summary>One named parameter tensor (for safetensors interchange and documentation); <see cref="Offset"/> is absolute.</summary>
internal sealed record TensorPlan(string Name, int Offset, int[] Shape, bool Transposed)
{
    public int Length => Shape.Aggregate(1, (a, b) => unchecked(a * b));
}

/// <summary>What a layer kind asks of the plan: tensors (offsets relative to the layer's parameter base) and scratch rows.</summary>
internal sealed class LayoutBuilder
{
    private readonly List<TensorPlan> _tensors = new();

    public LayoutBuilder(FlowModel model, int index, int parameterBase, int[] mapBefore)
    {
        Model = model;
        Index = index;
        ParameterBase = parameterBase;
        MapBefore = mapBefore;
    }

    public FlowModel Model { get; }
    public int Index { get; }
    public int ParameterBase { get; }
    public int Dim => Model.Dim;
    public int Context => Model.Context;

    /// <summary>Physical row of logical coordinate i entering the layer.</summary>
    public int[] MapBefore { get; }

    /// <summary>Parameters declared so far (the next tensor's relative offset).</summary>
    public int Parameters { get; private set; }

    /// <summary>Parameters declared so far, without overflow (what the parser's size limit checks before any offset is used).</summary>
    public long ParametersChecked { get; private set; }

    /// <summary>Rows of the layer's slot declared so far (the next slot region's first row).</summary>
    public int SlotRows { get; private set; }

    /// <summary>Rows of backward scratch declared so far.</summary>
    public int BackRows { get; private set; }

    public IReadOnlyList<TensorPlan> Tensors => _tensors;

    /// <summary>Declares tensor layers.{index}.{name}; returns its offset relative to the layer's parameter base.</summary>
    public int Tensor(string name, int[] shape, bool transposed = false)
    {
        int offset = Parameters;
        long length = 1;
        foreach (int n in shape) length *= n;
        ParametersChecked += length;
        var t = new TensorPlan($"layers.{Index}.{name}", ParameterBase + offset, shape, transposed);
        _tensors.Add(t);
        Parameters = unchecked(Parameters + (int)length);
        return offset;
    }

    /// <summary>Declares <paramref name="rows"/> rows of the layer's slot; returns the first.</summary>
    public int Slot(int rows)
    {
        int first = SlotRows;
        SlotRows += rows;
        return first;
    }

    /// <summary>Declares <paramref name="rows"/> rows of backward scratch; returns the first.</summary>
    public int Back(int rows)
    {
        int first = BackRows;
        BackRows += rows;
        return first;
    }
}

/// <summary>Everything about one layer of the stack.</summary>
internal sealed class LayerPlan
{
    public int Index;
    public LayerModel Layer = null!;
    public LayerKind Kind => Layer.Kind;
    public int ParamOffset, ParamCount;
    public int[] MapBefore = Array.Empty<int>(); // MapBefore[i] = physical row of logical coordinate i entering the layer (forward direction)
    public int[] MapAfter = Array.Empty<int>();
    public IReadOnlyList<TensorPlan> Tensors = Array.Empty<TensorPlan>();
    public int SlotRows;          // rows of scratch this layer needs (its slot)
    public int BackRows;          // rows of backward scratch it needs
    public int TrainSlot;         // first row of this layer's own slot in the training tile (relative to the slots region)
    public object Layout = null!; // the kind's own layout record (offsets relative to the layer's parameter base)

    public T LayoutAs<T>() where T : class => (T)Layout;
}

internal sealed class FlowPlan
{
    public const int Lanes = 2;

    public FlowModel Model { get; }
    public string T { get; }
    public bool IsDouble => Model.IsDouble;
    public int Dim => Model.Dim;
    public int Context => Model.Context;
    public IReadOnlyList<LayerPlan> Layers { get; }
    public int ParameterCount { get; }
    public int[] FinalMap { get; }
    public int MaxSlotRows { get; }
    public int TotalSlotRows { get; }
    public string Description { get; }
    public string Spec { get; }
    public ulong Hash { get; }
    public bool HasDataInitialization => Layers.Any(l => l.Kind.IsDataInitialized);

    /// <summary>The declared base distribution after every layer's parameters, or null for the standard normal (the driver's).</summary>
    public BasePlan? Base { get; }

    /// <summary>Mixture components of the base (0 unless it is a Gaussian mixture).</summary>
    public int Components => Base is null ? 0 : Base.Kind.Components(Base.Base);

    /// <summary>Every parameter tensor: the layers', then the base's.</summary>
    public IEnumerable<TensorPlan> AllTensors => Layers.SelectMany(l => l.Tensors).Concat(Base?.Tensors ?? Array.Empty<TensorPlan>());

    /// <summary>The layers that have code (permutations only rename rows).</summary>
    public IReadOnlyList<LayerPlan> Coded => Layers.Where(l => l.Kind.HasCode).ToList();

    // The tiles' row layout (point, log-det, context, slots, and for training the gradients and every layer's own slot) is the
    // runtime's FlowDriver's; the plan gives it the sizes it needs: MaxSlotRows, TotalSlotRows, MaxBackRows.

    /// <summary>Scalars of the single-sample scratch: the current point (Dim), then one shared slot (used by InitializeFromData).</summary>
    public int SingleScratch => Dim + MaxSlotRows;

    /// <summary>Rows of backward scratch (the largest layer's need).</summary>
    public int MaxBackRows { get; }

    public FlowPlan(FlowModel model)
    {
        Model = model;
        T = model.IsDouble ? "double" : "float";
        var layers = new List<LayerPlan>();
        int[] map = Enumerable.Range(0, model.Dim).ToArray();
        int offset = 0, slot = 0;
        for (int l = 0; l < model.Layers.Count; l++)
        {
            LayerModel layer = model.Layers[l];
            var builder = new LayoutBuilder(model, l, offset, (int[])map.Clone());
            object layout = layer.Kind.Plan(layer, builder);
            map = layer.Kind.MapAfter(layer, map);
            var plan = new LayerPlan
            {
                Index = l, Layer = layer, ParamOffset = offset, ParamCount = builder.Parameters, MapBefore = builder.MapBefore,
                MapAfter = (int[])map.Clone(), Tensors = builder.Tensors, SlotRows = builder.SlotRows, BackRows = builder.BackRows,
                TrainSlot = slot, Layout = layout,
            };
            offset += plan.ParamCount;
            slot += plan.SlotRows;
            layers.Add(plan);
        }
        Layers = layers;
        if (model.Base is { } declared)
        {
            var builder = new BaseLayoutBuilder(model, offset);
            object layout = declared.Kind.Plan(declared, builder);
            Base = new BasePlan { Base = declared, ParamOffset = offset, ParamCount = builder.Parameters, Tensors = builder.Tensors, Layout = layout };
            offset += builder.Parameters;
        }
        ParameterCount = offset;
        FinalMap = map;
        MaxSlotRows = layers.Count == 0 ? 0 : layers.Max(l => l.SlotRows);
        TotalSlotRows = slot;
        MaxBackRows = layers.Count == 0 ? 0 : layers.Max(l => l.BackRows);
        Description = Describe();
        Spec = StackSpec.Write(this);
        Hash = Fnv1a(Spec);
    }

    /// <summary>Parameter count of a model without emitting it (the parser's size limit).</summary>
    public static long CountParameters(FlowModel model)
    {
        long total = 0;
        int[] map = Enumerable.Range(0, model.Dim).ToArray();
        for (int l = 0; l < model.Layers.Count; l++)
        {
            var builder = new LayoutBuilder(model, l, 0, map);
            model.Layers[l].Kind.Plan(model.Layers[l], builder);
            total += builder.ParametersChecked;
            map = model.Layers[l].Kind.MapAfter(model.Layers[l], map);
        }
        if (model.Base is { } declared)
        {
            var builder = new BaseLayoutBuilder(model, 0);
            declared.Kind.Plan(declared, builder);
            total += builder.ParametersChecked;
        }
        return total;
    }

    // ------------------------------------------------------------------ description and identity

    private string Describe()
    {
        var sb = new StringBuilder();
        sb.Append("Dim ").Append(Dim).Append(", ").Append(T);
        if (Context > 0) sb.Append(", context ").Append(Context);
        sb.Append(", ").Append(ParameterCount.ToString(CultureInfo.InvariantCulture)).Append(" parameters\n");
        foreach (LayerPlan l in Layers)
        {
            sb.Append("layer ").Append(l.Index).Append(": ").Append(l.Kind.Describe(l)).Append('\n');
        }
        if (Base is not null) sb.Append("base: ").Append(Base.Kind.Describe(Base.Base)).Append('\n');
        return sb.ToString();
    }

    public static ulong Fnv1a(string text)
    {
        ulong hash = 0xcbf29ce484222325UL;
        foreach (byte b in Encoding.UTF8.GetBytes(text))
        {
            hash ^= b;
            hash = unchecked(hash * 0x100000001b3UL);
        }
        return hash;
    }
}
