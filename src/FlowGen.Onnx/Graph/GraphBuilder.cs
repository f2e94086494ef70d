using System;
using System.Collections.Generic;
using System.Globalization;
using Google.Protobuf;
using OnnxProto = global::Onnx;

namespace FlowGen.Onnx.Graph;

/// <summary>
/// Builds one ONNX graph: nodes with unique names, initializers in the model's element type (float or double), and the
/// small composite functions (softplus, log σ, …) that several layer emitters share. Every tensor is named by a string;
/// a layer emitter works inside a <see cref="Scope"/> so that its nodes and initializers carry the layer's name.
/// </summary>
internal sealed class GraphBuilder
{
    private readonly OnnxProto.GraphProto graph;
    private readonly Dictionary<string, int> counters = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string> constants = new(StringComparer.Ordinal);
    private string scope = "";

    public GraphBuilder(OnnxProto.GraphProto graph, bool isDouble)
    {
        this.graph = graph;
        IsDouble = isDouble;
        // the graph's input and output names are never given to an inner tensor
        foreach (string reserved in OnnxFlowNames.All)
            counters[reserved] = 1;
    }

    /// <summary>True when the graph computes in double (tensor element type DOUBLE), false for float.</summary>
    public bool IsDouble { get; }

    /// <summary>The ONNX element type of every real-valued tensor of the graph.</summary>
    public int ElementType => IsDouble ? (int)OnnxProto.TensorProto.Types.DataType.Double : (int)OnnxProto.TensorProto.Types.DataType.Float;

    /// <summary>Names nodes and initializers created until the returned scope is disposed with <paramref name="name"/> as a prefix.</summary>
    public IDisposable Scope(string name)
    {
        string previous = scope;
        scope = name + "/";
        return new ScopeRestore(this, previous);
    }

    private sealed class ScopeRestore(GraphBuilder builder, string previous) : IDisposable
    {
        public void Dispose() => builder.scope = previous;
    }

    /// <summary>A fresh tensor name: the scope, then <paramref name="hint"/>, then a counter if the name was used.</summary>
    public string Fresh(string hint)
    {
        string name = scope + hint;
        if (counters.TryGetValue(name, out int n)) { counters[name] = n + 1; return name + "_" + n.ToString(CultureInfo.InvariantCulture); }
        counters[name] = 1;
        return name;
    }

    // ------------------------------------------------------------------ inputs, outputs, initializers

    /// <summary>Declares a graph input of the element type with shape [batch, width] (the batch dimension symbolic).</summary>
    public string Input(string name, int width, string doc)
    {
        graph.Input.Add(Value(name, ElementType, new object[] { "batch", (long)width }, doc));
        return name;
    }

    /// <summary>Declares a graph input of another element type (e.g. int64 indices) with the given shape.</summary>
    public string Input(string name, int elementType, object[] shape, string doc)
    {
        graph.Input.Add(Value(name, elementType, shape, doc));
        return name;
    }

    /// <summary>Declares a graph output: <paramref name="tensor"/> renamed <paramref name="name"/> (through Identity), shape given.</summary>
    public void Output(string name, string tensor, object[] shape, string doc, int? elementType = null)
    {
        graph.Node.Add(NodeProto("Identity", new[] { tensor }, name, Fresh("output_" + name), null));
        graph.Output.Add(Value(name, elementType ?? ElementType, shape, doc));
    }

    /// <summary>ONNX's element type codes used besides the graph's own.</summary>
    public const int Int64Type = (int)OnnxProto.TensorProto.Types.DataType.Int64, DoubleType = (int)OnnxProto.TensorProto.Types.DataType.Double;

    private static OnnxProto.ValueInfoProto Value(string name, int elementType, object[] shape, string doc)
    {
        var tensorShape = new OnnxProto.TensorShapeProto();
        foreach (object d in shape)
            tensorShape.Dim.Add(d is string s ? new OnnxProto.TensorShapeProto.Types.Dimension { DimParam = s }
                : new OnnxProto.TensorShapeProto.Types.Dimension { DimValue = Convert.ToInt64(d, CultureInfo.InvariantCulture) });
        return new OnnxProto.ValueInfoProto
        {
            Name = name,
            DocString = doc,
            Type = new OnnxProto.TypeProto { TensorType = new OnnxProto.TypeProto.Types.Tensor { ElemType = elementType, Shape = tensorShape } },
        };
    }

    /// <summary>An initializer of the element type holding <paramref name="values"/> with the given shape.</summary>
    public string Initializer(string name, ReadOnlySpan<double> values, params long[] dims)
    {
        string full = Fresh(name);
        var t = new OnnxProto.TensorProto { Name = full, DataType = ElementType };
        t.Dims.AddRange(dims);
        long count = 1;
        foreach (long d in dims) count *= d;
        if (count != values.Length) throw new InvalidOperationException($"initializer {full}: {values.Length} values for shape [{string.Join(", ", dims)}]");
        // raw little-endian bytes: compact, and exact (a float model's values round-trip float → double → float)
        byte[] raw = new byte[values.Length * (IsDouble ? 8 : 4)];
        for (int i = 0; i < values.Length; i++)
        {
            if (IsDouble) BitConverter.TryWriteBytes(raw.AsSpan(i * 8), values[i]);
            else BitConverter.TryWriteBytes(raw.AsSpan(i * 4), (float)values[i]);
        }
        if (!BitConverter.IsLittleEndian) throw new PlatformNotSupportedException("ONNX raw tensor data is little-endian");
        t.RawData = ByteString.CopyFrom(raw);
        graph.Initializer.Add(t);
        return full;
    }

    /// <summary>A DOUBLE initializer whatever the graph's element type (e.g. the mixture's cumulative weights, compared with a double uniform).</summary>
    public string Doubles(string name, ReadOnlySpan<double> values, params long[] dims)
    {
        string full = Fresh(name);
        var t = new OnnxProto.TensorProto { Name = full, DataType = DoubleType };
        t.Dims.AddRange(dims);
        byte[] raw = new byte[values.Length * 8];
        for (int i = 0; i < values.Length; i++) BitConverter.TryWriteBytes(raw.AsSpan(i * 8), values[i]);
        t.RawData = ByteString.CopyFrom(raw);
        graph.Initializer.Add(t);
        return full;
    }

    /// <summary>A scalar DOUBLE constant whatever the graph's element type (shared by value; FlowGen's float arithmetic done in double, <see cref="KernelOps"/>).</summary>
    public string DoubleScalar(double value)
    {
        string key = "d:" + BitConverter.DoubleToInt64Bits(value).ToString(CultureInfo.InvariantCulture);
        if (constants.TryGetValue(key, out string? name)) return name;
        string saved = scope;
        scope = "";
        name = Doubles("const_double", new[] { value });
        scope = saved;
        constants[key] = name;
        return name;
    }

    /// <summary>An int64 initializer (indices, shapes, axes).</summary>
    public string Int64s(string name, ReadOnlySpan<long> values, params long[] dims)
    {
        string full = Fresh(name);
        var t = new OnnxProto.TensorProto { Name = full, DataType = (int)OnnxProto.TensorProto.Types.DataType.Int64 };
        t.Dims.AddRange(dims);
        foreach (long v in values) t.Int64Data.Add(v);
        graph.Initializer.Add(t);
        return full;
    }

    /// <summary>A 1-D int64 constant (shared: the same values give the same initializer).</summary>
    public string Ints(params long[] values)
    {
        string key = "i:" + string.Join(",", values);
        if (constants.TryGetValue(key, out string? name)) return name;
        string saved = scope;
        scope = "";
        name = Int64s("const_int64", values, values.Length);
        scope = saved;
        constants[key] = name;
        return name;
    }

    /// <summary>A scalar int64 constant (rank 0; e.g. a Gather index that drops its axis).</summary>
    public string IntScalar(long value)
    {
        string key = "is:" + value.ToString(CultureInfo.InvariantCulture);
        if (constants.TryGetValue(key, out string? name)) return name;
        string saved = scope;
        scope = "";
        name = Int64s("const_index", new[] { value });
        scope = saved;
        constants[key] = name;
        return name;
    }

    /// <summary>A scalar constant of the element type, rounded once to it (shared by value).</summary>
    public string Scalar(double value)
    {
        double rounded = IsDouble ? value : (float)value;
        string key = "s:" + BitConverter.DoubleToInt64Bits(rounded).ToString(CultureInfo.InvariantCulture);
        if (constants.TryGetValue(key, out string? name)) return name;
        string saved = scope;
        scope = "";
        name = Initializer("const", new[] { rounded });
        scope = saved;
        constants[key] = name;
        return name;
    }

    // ------------------------------------------------------------------ nodes

    /// <summary>Adds a node with one output and returns the output's name.</summary>
    public string Node(string op, string[] inputs, string hint, params (string Name, object Value)[] attributes)
    {
        string output = Fresh(hint);
        graph.Node.Add(NodeProto(op, inputs, output, Fresh(op + "_node"), attributes));
        return output;
    }

    private static OnnxProto.NodeProto NodeProto(string op, string[] inputs, string output, string name, (string Name, object Value)[]? attributes)
    {
        var node = new OnnxProto.NodeProto { OpType = op, Name = name };
        node.Input.AddRange(inputs);
        node.Output.Add(output);
        if (attributes != null)
            foreach (var (key, value) in attributes)
            {
                var a = new OnnxProto.AttributeProto { Name = key };
                switch (value)
                {
                    case long i: a.Type = OnnxProto.AttributeProto.Types.AttributeType.Int; a.I = i; break;
                    case int i: a.Type = OnnxProto.AttributeProto.Types.AttributeType.Int; a.I = i; break;
                    case float f: a.Type = OnnxProto.AttributeProto.Types.AttributeType.Float; a.F = f; break;
                    case long[] ints: a.Type = OnnxProto.AttributeProto.Types.AttributeType.Ints; a.Ints.AddRange(ints); break;
                    case OnnxProto.TensorProto t: a.Type = OnnxProto.AttributeProto.Types.AttributeType.Tensor; a.T = t; break;
                    default: throw new InvalidOperationException($"attribute {key}: unsupported value {value}");
                }
                node.Attribute.Add(a);
            }
        return node;
    }

    /// <summary>A one-element tensor of the element type (for ConstantOfShape's value).</summary>
    public OnnxProto.TensorProto ValueTensor(double value)
    {
        var t = new OnnxProto.TensorProto { DataType = ElementType };
        t.Dims.Add(1);
        if (IsDouble) t.DoubleData.Add(value); else t.FloatData.Add((float)value);
        return t;
    }
}
