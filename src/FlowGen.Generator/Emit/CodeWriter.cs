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
}
