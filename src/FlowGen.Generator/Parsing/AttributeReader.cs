using System.Collections.Generic;
using System.Linq;
using System.Threading;
using FlowGen.Generator.Diagnostics;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace FlowGen.Generator.Parsing;

/// <summary>Reads named arguments of one attribute with type checks; invalid values become diagnostics.</summary>
internal sealed class AttributeReader
{
    private readonly AttributeData _data;
    private readonly string _attributeName;
    private readonly List<DiagnosticInfo> _diags;
    private readonly CancellationToken _ct;

    public AttributeReader(AttributeData data, string attributeName, List<DiagnosticInfo> diags, CancellationToken ct)
    {
        _data = data;
        _attributeName = attributeName;
        _diags = diags;
        _ct = ct;
    }

    public bool IsSet(string name) => _data.NamedArguments.Any(kv => kv.Key == name);

    private TypedConstant? Get(string name)
    {
        foreach (KeyValuePair<string, TypedConstant> kv in _data.NamedArguments)
        {
            if (kv.Key == name) return kv.Value;
        }
        return null;
    }

    public LocationInfo? Location(string name)
    {
        SyntaxNode? syntax = _data.ApplicationSyntaxReference?.GetSyntax(_ct);
        if (syntax is AttributeSyntax attribute && attribute.ArgumentList is { } list)
        {
            foreach (AttributeArgumentSyntax arg in list.Arguments)
            {
                if (arg.NameEquals?.Name.Identifier.ValueText == name) return LocationInfo.From(arg);
            }
        }
        return LocationInfo.From(syntax);
    }

    public int Int(string name, int fallback) => TryInt(name) ?? fallback;

    /// <summary>The option's value when it is set to an int, else null.</summary>
    public int? TryInt(string name) => Get(name) is { Value: int v } ? v : null;

    public bool Bool(string name) => Get(name) is { Value: bool v } && v;

    public double Double(string name, double fallback) => TryDouble(name) ?? fallback;

    /// <summary>The option's value when it is set to a number, else null.</summary>
    public double? TryDouble(string name) => Get(name) switch
    {
        { Value: double d } => d,
        { Value: float f } => f,
        { Value: int i } => i,
        _ => null,
    };

    public string? String(string name) => Get(name)?.Value as string;

    public int[]? IntArray(string name)
    {
        if (Get(name) is not { } c) return null;
        if (c.Kind != TypedConstantKind.Array || c.IsNull) return null;
        return c.Values.Select(v => v.Value is int i ? i : 0).ToArray();
    }

    /// <summary>
    /// An enum option: its value when it is set to a member that <paramref name="type"/> declares; null when it is not set,
    /// or after FG0010 at the argument when its value is no member.
    /// </summary>
    public int? Enum(string name, RuntimeEnum type)
    {
        if (Get(name) is not { Value: int v }) return null;
        if (!type.Declares(v))
        {
            _diags.Add(DiagnosticInfo.Create(DiagnosticDescriptors.UnknownEnumValue, Location(name), _attributeName + "." + name, v, type.Name));
            return null;
        }
        return v;
    }
}
