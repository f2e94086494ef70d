using System;
using System.Globalization;
using System.Text;

namespace FlowGen.Generator.Emit;

/// <summary>Builds indented C# text with '\n' line endings (stable across platforms).</summary>
internal sealed class CodeWriter
{
    private readonly StringBuilder _sb = new();
    private int _indent;

    public CodeWriter Line(string text = "")
    {
        if (text.Length == 0)
        {
            _sb.Append('\n');
            return this;
        }
        _sb.Append(' ', _indent * 4).Append(text).Append('\n');
        return this;
    }

    /// <summary>Writes several lines (split on '\n') at the current indentation.</summary>
    public CodeWriter Lines(string text)
    {
        foreach (string line in text.Split('\n')) Line(line.TrimEnd('\r'));
        return this;
    }

    /// <summary>Appends text written by another writer (already indented) as it is.</summary>
    public CodeWriter Raw(string text)
    {
        _sb.Append(text);
        return this;
    }

    public CodeWriter Open(string header)
    {
        Line(header);
        Line("{");
        _indent++;
        return this;
    }

    public CodeWriter Open()
    {
        Line("{");
        _indent++;
        return this;
    }

    public CodeWriter Close(string suffix = "")
    {
        _indent--;
        Line("}" + suffix);
        return this;
    }

    public IDisposable Block(string header)
    {
        Open(header);
        return new Closer(this);
    }

    public int Indent
    {
        get => _indent;
        set => _indent = value;
    }

    public override string ToString() => _sb.ToString();

    private sealed class Closer : IDisposable
    {
        private readonly CodeWriter _w;
        public Closer(CodeWriter w) => _w = w;
        public void Dispose() => _w.Close();
    }
}

/// <summary>Number formatting for emitted code (invariant culture, round-trip precision).</summary>
internal static class Literals
{
    /// <summary>A literal of the model's scalar type for a value computed in double.</summary>
    public static string Of(double value, bool isDouble)
    {
        if (double.IsNaN(value)) return isDouble ? "double.NaN" : "float.NaN";
        if (double.IsPositiveInfinity(value)) return isDouble ? "double.PositiveInfinity" : "float.PositiveInfinity";
        if (double.IsNegativeInfinity(value)) return isDouble ? "double.NegativeInfinity" : "float.NegativeInfinity";
        if (isDouble)
        {
            return value.ToString("R", CultureInfo.InvariantCulture) + "d";
        }
        float f = (float)value;
        return f.ToString("R", CultureInfo.InvariantCulture) + "f";
    }

    public static string Int(int value) => value.ToString(CultureInfo.InvariantCulture);

    /// <summary>
    /// A list of indices for the human-readable description: in full up to 64 entries, else the first eight, "…", the last
    /// two and the count (the stack specification always has the full list).
    /// </summary>
    public static string List(System.Collections.Generic.IReadOnlyList<int> values)
    {
        if (values.Count <= 64) return string.Join(" ", System.Linq.Enumerable.Select(values, Int));
        var head = System.Linq.Enumerable.Select(System.Linq.Enumerable.Take(values, 8), Int);
        return string.Join(" ", head) + " … " + Int(values[values.Count - 2]) + " " + Int(values[values.Count - 1]) + " (" + Int(values.Count) + ")";
    }

    /// <summary>
    /// A list of indices for a comment inside a shape class: in full when the code is unrolled (up to 16 entries), else only
    /// the count, so that layers whose tables differ still share their code.
    /// </summary>
    public static string Brief(System.Collections.Generic.IReadOnlyList<int> values) =>
        values.Count <= 16 ? string.Join(" ", System.Linq.Enumerable.Select(values, Int)) : Int(values.Count) + " coordinates";
}
