using System;
using System.Collections.Generic;
using FlowGen.Generator.Diagnostics;

namespace FlowGen.Generator.Parsing;

/// <summary>
/// Reads one layer's options for its kind: from the layer attribute when it sets the option, else from the flow attribute
/// (whose options are the defaults of every layer), else the kind's default, which is the runtime's constant
/// <c>Default{Option}</c> of the kind's attribute class (e.g. <c>SplineCouplingAttribute.DefaultBins</c>; read, not
/// mirrored). Invalid values are reported at the argument that supplied them (FG0015), and the value is still returned (the
/// parser reports and generates nothing).
/// </summary>
internal sealed class OptionReader
{
    private readonly AttributeReader? _layer;
    private readonly AttributeReader _flow;
    private readonly List<DiagnosticInfo> _diags;
    private readonly RuntimeSymbols _runtime;
    private readonly string _attributeClass;

    /// <param name="layer">The layer attribute, or null for a uniform stack (or the flow's own check of its kind options).</param>
    /// <param name="flow">The [CouplingFlow] attribute.</param>
    /// <param name="diags">Where problems go.</param>
    /// <param name="runtime">The runtime's symbols, for the defaults.</param>
    /// <param name="attributeClass">The class that declares the kind's defaults, e.g. "SplineCouplingAttribute".</param>
    public OptionReader(AttributeReader? layer, AttributeReader flow, List<DiagnosticInfo> diags, RuntimeSymbols runtime, string attributeClass)
    {
        _layer = layer;
        _flow = flow;
        _diags = diags;
        _runtime = runtime;
        _attributeClass = attributeClass;
    }

    private AttributeReader? Source(string name) =>
        _layer is not null && _layer.IsSet(name) ? _layer : _flow.IsSet(name) ? _flow : null;

    public bool IsSet(string name) => Source(name) is not null;

    public LocationInfo? Location(string name) => (Source(name) ?? _layer ?? _flow).Location(name);

    /// <summary>An integer option that must lie in [min, max].</summary>
    public int Int(string name, int min, int max)
    {
        int value;
        if (Source(name)?.TryInt(name) is int given) value = given; // (a value that does not compile is the compiler's error: the default then)
        else if (!_runtime.TryConstant(_attributeClass, "Default" + name, out value)) return min; // FG0022
        if (value < min || value > max) Invalid(name, $"between {min} and {max}", value);
        return value;
    }

    /// <summary>A real option that must satisfy <paramref name="valid"/> (described by <paramref name="requirement"/>).</summary>
    public double Double(string name, Func<double, bool> valid, string requirement)
    {
        double value;
        if (Source(name)?.TryDouble(name) is double given) value = given;
        else if (!_runtime.TryConstant(_attributeClass, "Default" + name, out value)) return 0; // FG0022
        if (double.IsNaN(value) || double.IsInfinity(value) || !valid(value)) Invalid(name, requirement, value);
        return value;
    }

    private void Invalid(string name, string requirement, object value)
    {
        var diagnostic = DiagnosticInfo.Create(DiagnosticDescriptors.InvalidOption, Location(name), name, requirement, value);
        // an option several kinds read (Bound) is reported once, not once per kind
        if (!_diags.Contains(diagnostic)) _diags.Add(diagnostic);
    }
}
