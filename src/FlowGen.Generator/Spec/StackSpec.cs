using System.Collections.Generic;
using System.Globalization;
using System.Text;
using FlowGen.Generator.Planning;

namespace FlowGen.Generator.Spec;

/// <summary>
/// The structured, versioned stack specification (docs/model.md §8): one line of JSON with a fixed key order, emitted as
/// the constant <c>StackSpec</c>, written into checkpoints and safetensors metadata, hashed into <c>StackHash</c>, and read by
/// interop/python. Every layer kind writes its own fields; nothing here knows a kind.
/// </summary>
internal static class StackSpec
{
    /// <summary>The schema's name and version: bump the version whenever a field changes meaning or a required field is added.</summary>
    public const string Schema = "flowgen.stack";
    public const int Version = 2;

    public static string Write(FlowPlan plan)
    {
        var j = new JsonWriter();
        j.BeginObject();
        j.Name("schema").String(Schema);
        j.Name("version").Int(Version);
        j.Name("dtype").String(plan.IsDouble ? "float64" : "float32");
        j.Name("dim").Int(plan.Dim);
        j.Name("context").Int(plan.Context);
        j.Name("parameters").Int(plan.ParameterCount);
        // the standard normal (no base attribute) has no fields; another base writes its kind's fields and its parameter count
        j.Name("base").BeginObject();
        if (plan.Base is null) j.Name("kind").String("standard_normal");
        else
        {
            j.Name("kind").String(plan.Base.Kind.SpecName);
            plan.Base.Kind.WriteSpec(plan.Base.Base, j);
            j.Name("parameters").Int(plan.Base.ParamCount);
        }
        j.EndObject();
        j.Name("layers").BeginArray();
        foreach (LayerPlan l in plan.Layers)
        {
            j.BeginObject();
            j.Name("kind").String(l.Kind.SpecName);
            l.Kind.WriteSpec(l.Layer, j);
            j.Name("parameters").Int(l.ParamCount);
            j.EndObject();
        }
        j.EndArray();
        j.EndObject();
        return j.ToString();
    }
}

/// <summary>A minimal writer of compact JSON (invariant culture, round-trip numbers, no whitespace).</summary>
internal sealed class JsonWriter
{
    private readonly StringBuilder _sb = new();
    private readonly Stack<bool> _first = new();
    private bool _afterName;

    public JsonWriter BeginObject() { Value(); _sb.Append('{'); _first.Push(true); return this; }

    public JsonWriter EndObject() { _first.Pop(); _sb.Append('}'); return this; }

    public JsonWriter BeginArray() { Value(); _sb.Append('['); _first.Push(true); return this; }

    public JsonWriter EndArray() { _first.Pop(); _sb.Append(']'); return this; }

    public JsonWriter Name(string name)
    {
        Separator();
        AppendString(name);
        _sb.Append(':');
        _afterName = true;
        return this;
    }

    public JsonWriter String(string value) { Value(); AppendString(value); return this; }

    public JsonWriter Int(int value) { Value(); _sb.Append(value.ToString(CultureInfo.InvariantCulture)); return this; }

    public JsonWriter Bool(bool value) { Value(); _sb.Append(value ? "true" : "false"); return this; }

    /// <summary>A finite number in the shortest round-trip form.</summary>
    public JsonWriter Number(double value) { Value(); _sb.Append(value.ToString("R", CultureInfo.InvariantCulture)); return this; }

    public JsonWriter Ints(IEnumerable<int> values)
    {
        BeginArray();
        foreach (int v in values) Int(v);
        return EndArray();
    }

    private void Value()
    {
        if (_afterName) { _afterName = false; return; }
        Separator();
    }

    private void Separator()
    {
        if (_first.Count == 0) return;
        if (_first.Peek()) { _first.Pop(); _first.Push(false); }
        else _sb.Append(',');
    }

    private void AppendString(string s)
    {
        _sb.Append('"');
        foreach (char ch in s)
        {
            switch (ch)
            {
                case '"': _sb.Append("\\\""); break;
                case '\\': _sb.Append("\\\\"); break;
                case '\n': _sb.Append("\\n"); break;
                case '\r': _sb.Append("\\r"); break;
                case '\t': _sb.Append("\\t"); break;
                default:
                    if (ch < 0x20) _sb.Append("\\u").Append(((int)ch).ToString("x4", CultureInfo.InvariantCulture));
                    else _sb.Append(ch);
                    break;
            }
        }
        _sb.Append('"');
    }

    public override string ToString() => _sb.ToString();
}
