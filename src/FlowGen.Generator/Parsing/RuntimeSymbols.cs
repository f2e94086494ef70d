using System;
using System.Collections.Generic;
using System.Linq;
using FlowGen.Generator.Diagnostics;
using Microsoft.CodeAnalysis;

namespace FlowGen.Generator.Parsing;

/// <summary>
/// What the generator takes from FlowGen.Runtime's Attributes.cs instead of mirroring it by hand: the options' defaults
/// (the <c>public const Default…</c> fields of the attribute classes) and the declared members of the option enums. They are
/// read from the symbols of the assembly that declares [CouplingFlow] into plain values (the model never holds a symbol).
/// A constant or enum the runtime lacks, or an enum member this generator does not know, means the runtime and the generator
/// are not the same FlowGen version: that is FG0022, never an exception, and a fallback value is returned (FG0022 is an
/// error, so no model is built from it).
/// </summary>
internal sealed class RuntimeSymbols
{
    private readonly IAssemblySymbol? _assembly;
    private readonly List<DiagnosticInfo> _diags;
    private readonly LocationInfo? _location;
    private readonly Dictionary<string, RuntimeEnum> _enums = new(StringComparer.Ordinal);

    /// <param name="flowAttribute">The [CouplingFlow] attribute class as applied (the runtime is its assembly).</param>
    /// <param name="diags">Where FG0022 goes.</param>
    /// <param name="location">Where FG0022 is reported when no argument is to blame: the [CouplingFlow] attribute.</param>
    public RuntimeSymbols(INamedTypeSymbol? flowAttribute, List<DiagnosticInfo> diags, LocationInfo? location)
    {
        _assembly = flowAttribute?.ContainingAssembly;
        _diags = diags;
        _location = location;
    }

    private INamedTypeSymbol? Type(string name) => _assembly?.GetTypeByMetadataName(FlowParser.Namespace + "." + name);

    /// <summary>The constant <paramref name="name"/> of FlowGen.<paramref name="type"/> (an enum constant as its integer value), or <paramref name="fallback"/> after FG0022.</summary>
    public T Constant<T>(string type, string name, T fallback) => TryConstant(type, name, out T value) ? value : fallback;

    /// <summary>The constant <paramref name="name"/> of FlowGen.<paramref name="type"/>; false after FG0022 when the runtime lacks it.</summary>
    public bool TryConstant<T>(string type, string name, out T value)
    {
        IFieldSymbol? field = Type(type)?.GetMembers(name).OfType<IFieldSymbol>().FirstOrDefault(f => f.IsConst && f.HasConstantValue);
        if (field?.ConstantValue is T v)
        {
            value = v;
            return true;
        }
        Mismatch(_location, field is null
            ? $"the FlowGen runtime has no constant {type}.{name}"
            : $"the FlowGen runtime's constant {type}.{name} is not of type {typeof(T).Name}");
        value = default!;
        return false;
    }

    /// <summary>The option enum FlowGen.<paramref name="name"/> (e.g. "MaskKind"); FG0022 once if the runtime does not declare it.</summary>
    public RuntimeEnum Enum(string name)
    {
        if (_enums.TryGetValue(name, out RuntimeEnum? known)) return known;
        INamedTypeSymbol? type = Type(name);
        RuntimeEnum result;
        if (type is null || type.TypeKind != TypeKind.Enum)
        {
            Mismatch(_location, $"the FlowGen runtime declares no enum {name}");
            result = new RuntimeEnum(this, name, null);
        }
        else
        {
            var members = type.GetMembers().OfType<IFieldSymbol>()
                .Where(f => f.IsConst && f.HasConstantValue)
                .Select(f => (f.Name, Value: Convert.ToInt64(f.ConstantValue, System.Globalization.CultureInfo.InvariantCulture)))
                .ToArray();
            result = new RuntimeEnum(this, name, members);
        }
        _enums[name] = result;
        return result;
    }

    /// <summary>Reports FG0022 (<paramref name="what"/> says what does not match).</summary>
    public void Mismatch(LocationInfo? location, string what) =>
        _diags.Add(DiagnosticInfo.Create(DiagnosticDescriptors.RuntimeMismatch, location ?? _location, what));
}

/// <summary>The declared members of one of the runtime's option enums, as names and values.</summary>
internal sealed class RuntimeEnum
{
    private readonly RuntimeSymbols _runtime;
    private readonly (string Name, long Value)[]? _members;

    public RuntimeEnum(RuntimeSymbols runtime, string name, (string Name, long Value)[]? members)
    {
        _runtime = runtime;
        Name = name;
        _members = members;
    }

    /// <summary>The enum's name, e.g. "MaskKind".</summary>
    public string Name { get; }

    /// <summary>False when the runtime does not declare the enum (FG0022 was reported): no value is then reported as unknown as well.</summary>
    public bool IsDeclared => _members is not null;

    /// <summary>Whether <paramref name="value"/> is a declared member (every value, when the enum itself is missing).</summary>
    public bool Declares(int value) => _members is null || _members.Any(m => m.Value == value);

    /// <summary>
    /// What a declared value means to the generator: <paramref name="byName"/> of the first of its member names (aliases
    /// included) it knows. Null for a value that is not declared (the caller reports FG0010 or has), or, after FG0022 at
    /// <paramref name="location"/>, for a declared member this generator does not know.
    /// </summary>
    public TResult? Meaning<TResult>(int value, Func<string, TResult?> byName, LocationInfo? location) where TResult : class
    {
        if (_members is null) return null;
        var names = _members.Where(m => m.Value == value).Select(m => m.Name).ToList();
        if (names.Count == 0) return null;
        foreach (string n in names)
        {
            if (byName(n) is { } meaning) return meaning;
        }
        _runtime.Mismatch(location, $"{Name}.{names[0]} of the FlowGen runtime is unknown to this FlowGen generator");
        return null;
    }

    /// <summary><see cref="Meaning{TResult}"/> for a generator enum whose members are named as the runtime's.</summary>
    public TEnum? Meaning<TEnum>(int value, LocationInfo? location) where TEnum : struct, Enum =>
        Meaning(value, n => System.Enum.TryParse(n, out TEnum e) && System.Enum.IsDefined(typeof(TEnum), e) ? new Box<TEnum>(e) : null, location)?.Value;

    private sealed class Box<T>
    {
        public Box(T value) => Value = value;

        public T Value { get; }
    }
}
