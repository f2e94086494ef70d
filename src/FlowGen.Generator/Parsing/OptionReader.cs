using System;
using System.Collections.Generic;
using FlowGen.Generator.Diagnostics;

namespace FlowGen.Generator.Parsing;

/// <summary>
/// Reads one layer's options for its kind: from the layer attribute when it sets the option, else from the flow attribute
/// (whose options are the defaults of every layer), else the kind's default. Invalid values are reported at the argument
/// that supplied them (FG0015), and the value is still returned (the parser reports and generates nothing).
/// </summary>
internal sealed class OptionReader
{
    private readonly AttributeReader? _layer;
    private readonly AttributeReader _flow;
    private readonly List<DiagnosticInfo> _diags;

    public OptionReader(AttributeReader? layer, AttributeReader flow, List<DiagnosticInfo> diags)
    {
        _layer = layer;
        _flow = flow;
        _diags = diags;
    }

    private AttributeReader? Source(string name) =>
        _layer is not null && _layer.IsSet(name) ? _layer : _flow.IsSet(name) ? _flow : null;

    public bool IsSet(string name) => Source(name) is not null;

    public LocationInfo? Location(string name) => (Source(name) ?? _layer ?? _flow).Location(name);

    /// <summary>An integer option that must lie in [min, max].</summary>
    public int Int(string name, int fallback, int min, int max)
    {
        int value = Source(name)?.Int(name, fallback) ?? fallback;
        if (value < min || value > max) Invalid(name, $"between {min} and {max}", value);
        return value;
    }

    /// <summary>A real option that must satisfy <paramref name="valid"/> (described by <paramref name="requirement"/>).</summary>
    public double Double(string name, double fallback, Func<double, bool> valid, string requirement)
    {
        double value = Source(name)?.Double(name, fallback) ?? fallback;
        if (double.IsNaN(value) || double.IsInfinity(value) || !valid(value)) Invalid(name, requirement, value);
        return value;
    }

    private void Invalid(string name, string requirement, object value) =>
        _diags.Add(DiagnosticInfo.Create(DiagnosticDescriptors.InvalidOption, Location(name), name, requirement, value));
}
