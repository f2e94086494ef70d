using System;
using System.Collections.Generic;
using System.Globalization;
using System.Text.Json;

namespace FlowGen.Onnx;

/// <summary>One layer of a flow's stack specification (docs/model.md §8) with its block of the parameter vector.</summary>
internal sealed record LayerSpec(int Index, string Kind, JsonElement Json, int ParameterOffset, int ParameterCount)
{
    /// <summary>The kind for messages: the layer kind, and for a coupling its transformer (<c>coupling/spline</c>).</summary>
    public string DisplayKind => Kind == "coupling" ? "coupling/" + String("transformer") : Kind;

    public string String(string field) => Field(field).GetString() ?? throw Invalid($"{field} is not a string");
    public int Int(string field) => Field(field).GetInt32();
    public double Number(string field) => Field(field).GetDouble();

    public int[] Ints(string field)
    {
        var list = new List<int>();
        foreach (JsonElement e in Field(field).EnumerateArray()) list.Add(e.GetInt32());
        return list.ToArray();
    }

    private JsonElement Field(string field)
        => Json.TryGetProperty(field, out JsonElement e) ? e : throw Invalid($"has no field '{field}'");

    public OnnxExportException Invalid(string what) => new($"layer {Index} ({Kind}) of the stack specification {what}", Index, Kind);

    /// <summary>The "layer l (kind)" phrase used in messages.</summary>
    public string Describe() => $"layer {Index} ({DisplayKind})";
}

/// <summary>A parsed stack specification (schema flowgen.stack, version 2): what the exporter knows of a model.</summary>
internal sealed class FlowSpec
{
    public const string Schema = "flowgen.stack";
    public const int NewestVersion = 2;

    private FlowSpec(string dtype, int dim, int context, JsonElement baseJson, IReadOnlyList<LayerSpec> layers)
    {
        Dtype = dtype;
        Dim = dim;
        Context = context;
        Base = baseJson;
        Layers = layers;
    }

    public string Dtype { get; }
    public int Dim { get; }
    public int Context { get; }
    public JsonElement Base { get; }
    public IReadOnlyList<LayerSpec> Layers { get; }

    /// <summary>Where the base's parameters start in the parameter vector (after every layer's) and how many there are.</summary>
    public int BaseParameterOffset { get; private init; }
    public int BaseParameterCount { get; private init; }

    /// <summary>A field of the "base" object (docs/model.md §11), or an error naming the base and the field.</summary>
    public JsonElement BaseField(string field)
        => Base.TryGetProperty(field, out JsonElement e) ? e : throw new OnnxExportException($"the base distribution '{BaseKind}' of the stack specification has no field '{field}'");

    public string BaseKind => Base.TryGetProperty("kind", out JsonElement k) ? k.GetString() ?? "" : "";

    public static FlowSpec Parse(string spec)
    {
        JsonElement root;
        try { root = JsonDocument.Parse(spec).RootElement; }
        catch (JsonException e) { throw new OnnxExportException($"the flow's StackSpec is not JSON: {e.Message}"); }
        if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("schema", out JsonElement schema) || schema.GetString() != Schema)
            throw new OnnxExportException($"the flow's StackSpec is not a {Schema} specification");
        int version = root.GetProperty("version").GetInt32();
        if (version > NewestVersion)
            throw new OnnxExportException($"the flow's StackSpec has version {version}; this FlowGen.Onnx reads version {NewestVersion} at most: update FlowGen.Onnx");
        var layers = new List<LayerSpec>();
        int offset = 0, index = 0;
        foreach (JsonElement layer in root.GetProperty("layers").EnumerateArray())
        {
            int count = layer.GetProperty("parameters").GetInt32();
            layers.Add(new LayerSpec(index++, layer.GetProperty("kind").GetString() ?? "", layer, offset, count));
            offset += count;
        }
        int total = root.GetProperty("parameters").GetInt32();
        // the base's parameters (docs/model.md §11) follow every layer's; the standard normal has none (and no count)
        JsonElement baseJson = root.GetProperty("base").Clone();
        int baseCount = baseJson.TryGetProperty("parameters", out JsonElement bp) ? bp.GetInt32() : 0;
        if (offset + baseCount != total)
            throw new OnnxExportException($"the flow's StackSpec announces {total} parameters, its layers hold {offset} and its base {baseCount}");
        return new FlowSpec(root.GetProperty("dtype").GetString() ?? "", root.GetProperty("dim").GetInt32(),
            root.GetProperty("context").GetInt32(), baseJson, layers) { BaseParameterOffset = offset, BaseParameterCount = baseCount };
    }

    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"{Dtype} dim {Dim} context {Context}, {Layers.Count} layers");
}
