using System.Collections.Generic;
using System.Linq;
using FlowGen.Generator.Emit;
using FlowGen.Generator.Model;
using FlowGen.Generator.Parsing;
using FlowGen.Generator.Planning;
using FlowGen.Generator.Spec;

namespace FlowGen.Generator.Bases;

/// <summary>The options of one declared base distribution (one record type per kind). No base: the standard normal (no record).</summary>
internal abstract record BaseModel
{
    /// <summary>The kind that owns this base's layout and code.</summary>
    public abstract BaseKind Kind { get; }
}

/// <summary>What a base kind asks of the plan: its tensors, named base.{name}, after every layer's parameters.</summary>
internal sealed class BaseLayoutBuilder
{
    private readonly List<TensorPlan> _tensors = new();

    public BaseLayoutBuilder(FlowModel model, int parameterBase)
    {
        Model = model;
        ParameterBase = parameterBase;
    }

    public FlowModel Model { get; }
    public int Dim => Model.Dim;
    public int ParameterBase { get; }
    public int Parameters { get; private set; }
    public long ParametersChecked { get; private set; }
    public IReadOnlyList<TensorPlan> Tensors => _tensors;

    /// <summary>Declares tensor base.{name}; returns its absolute offset in the parameter vector.</summary>
    public int Tensor(string name, int[] shape)
    {
        long length = 1;
        foreach (int n in shape) length *= n;
        ParametersChecked += length;
        int offset = ParameterBase + Parameters;
        _tensors.Add(new TensorPlan("base." + name, offset, shape, false));
        Parameters = unchecked(Parameters + (int)length);
        return offset;
    }
}

/// <summary>The plan of the declared base: its parameters and the kind's own layout record (absolute offsets).</summary>
internal sealed class BasePlan
{
    public BaseModel Base = null!;
    public BaseKind Kind => Base.Kind;
    public int ParamOffset, ParamCount;
    public IReadOnlyList<TensorPlan> Tensors = System.Array.Empty<TensorPlan>();
    public object Layout = null!;

    public T LayoutAs<T>() where T : class => (T)Layout;
}

/// <summary>
/// The owner of one base-distribution kind (docs/model.md §11): the reading and validation of its attribute, its tensors, its
/// initialisation, its description and stack specification, and its code — the IFlowKernels&lt;T&gt; base members the runtime's
/// FlowDriver calls: log-density on a tile and on one sample, the NLL's gradient with respect to z and the base's parameters,
/// and sampling. The standard normal, the default, has no owner: the driver applies it (its code and outputs are unchanged).
/// </summary>
internal abstract class BaseKind
{
    /// <summary>The kind's name in the stack specification's "base" object.</summary>
    public abstract string SpecName { get; }

    /// <summary>The class name of its attribute (e.g. "GaussianBaseAttribute").</summary>
    public abstract string AttributeName { get; }

    /// <summary>Reads and checks the attribute: each problem at its own argument. Null when invalid.</summary>
    public abstract BaseModel? Read(LayerAttributeContext c);

    /// <summary>
    /// Reads every default of the kind's attribute from the runtime (FG0022 when one is missing), on every flow whatever its
    /// base: a runtime that does not match the generator is reported once, not only for the flows that use this kind.
    /// </summary>
    public virtual void CheckDefaults(RuntimeSymbols runtime)
    {
    }

    /// <summary>Number of mixture components (0: not a mixture; the class-conditional members exist only for mixtures).</summary>
    public virtual int Components(BaseModel model) => 0;

    /// <summary>Declares the base's tensors and returns the kind's layout record.</summary>
    public abstract object Plan(BaseModel model, BaseLayoutBuilder b);

    /// <summary>One line describing the base (the stack description's last line, after "base: ").</summary>
    public abstract string Describe(BaseModel model);

    /// <summary>Writes the base's fields (after "kind") into the stack specification.</summary>
    public abstract void WriteSpec(BaseModel model, JsonWriter j);

    /// <summary>Emits the statements that initialise the base's parameters (p the parameter array, after every layer's; rng a FlowRandom).</summary>
    public abstract void EmitInitialization(CodeWriter w, BasePlan b, FlowPlan plan);

    /// <summary>Emits the base's members of the implementation struct (the IFlowKernels&lt;T&gt; base members and their helpers).</summary>
    public abstract void EmitMembers(CodeWriter w, BasePlan b, FlowPlan plan);
}

/// <summary>The base kinds, each listed by an attribute of its own.</summary>
internal static class BaseRegistry
{
    public static readonly IReadOnlyList<BaseKind> Kinds = new BaseKind[]
    {
        GaussianBaseKind.Instance,
        GaussianMixtureBaseKind.Instance,
        StudentTBaseKind.Instance,
    };

    public static readonly IReadOnlyList<string> AttributeNames = Kinds.Select(k => k.AttributeName).ToArray();

    public static BaseKind? KindByAttribute(string attributeName) => Kinds.FirstOrDefault(k => k.AttributeName == attributeName);
}

/// <summary>Pieces of emitted base code shared by the kinds.</summary>
internal static class BaseCode
{
    /// <summary>The element of latent coordinate i (z_i = row FinalRows[i]) in a tile (lane vector k) or one sample with a stride.</summary>
    public static string TileZ => "Unsafe.Add(ref x, rows[i] * Lanes + k)";

    public static string StridedZ => "Unsafe.Add(ref z, rows[i] * stride)";

    /// <summary>Opens an explicit implementation of a base member of IFlowKernels&lt;T&gt;.</summary>
    public static void Open(CodeWriter w, FlowPlan plan, string returns, string name, string parameters, string summary)
    {
        w.Line($"/// <summary>{summary}</summary>");
        // a tile member is generic over the vector type TV, with the interface's constraint
        string typeParameters = parameters.Contains(Emit.Flavor.Vector) ? "<" + Emit.Flavor.Vector + ">" : "";
        w.Open($"static {returns} IFlowKernels<{plan.T}>.{name}{typeParameters}({parameters})");
    }

    /// <summary>The header every non-default base emits: it is not the standard normal.</summary>
    public static void EmitHeader(CodeWriter w, FlowPlan plan, string banner)
    {
        w.Line($"// ---------------------------------------------------------------- the base distribution: {banner}");
        w.Line();
        w.Line($"static bool IFlowKernels<{plan.T}>.HasStandardNormalBase => false;");
        w.Line();
    }
}
