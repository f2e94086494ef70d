using System;
using System.Collections.Generic;
using System.Linq;
using System.Reflection;
using System.Text.RegularExpressions;
using Xunit.Sdk;

namespace FlowGen.Tests.Infrastructure;

/// <summary>
/// Declares the FlowGen diagnostic IDs a test asserts when they are not among its data (<c>[InlineData]</c> arguments,
/// which <see cref="DiagnosticCoverage"/> reads as well). <c>DiagnosticsTests.EveryDescriptorIsTested</c> requires every
/// descriptor of the generator to be exercised by some test in this way.
/// </summary>
[AttributeUsage(AttributeTargets.Method, AllowMultiple = false)]
public sealed class ExpectsDiagnosticAttribute(params string[] ids) : Attribute
{
    public IReadOnlyList<string> Ids { get; } = ids;
}

/// <summary>The FG diagnostic IDs the tests of this assembly exercise, read from their attributes.</summary>
public static partial class DiagnosticCoverage
{
    [GeneratedRegex(@"\bFG\d{4}\b")]
    private static partial Regex IdPattern();

    /// <summary>The IDs a test method declares: its <see cref="ExpectsDiagnosticAttribute"/> and the FG IDs in the string arguments of its [InlineData].</summary>
    public static IReadOnlySet<string> Declared(MethodInfo test)
    {
        var ids = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var expects in test.GetCustomAttributes<ExpectsDiagnosticAttribute>()) ids.UnionWith(expects.Ids);
        foreach (CustomAttributeData data in test.CustomAttributes.Where(a => a.AttributeType == typeof(InlineDataAttribute)))
        {
            foreach (CustomAttributeTypedArgument argument in data.ConstructorArguments)
            {
                IEnumerable<object?> values = argument.Value is IReadOnlyCollection<CustomAttributeTypedArgument> items ? items.Select(i => i.Value) : [argument.Value];
                foreach (string text in values.OfType<string>()) ids.UnionWith(IdPattern().Matches(text).Select(m => m.Value));
            }
        }
        return ids;
    }

    /// <summary>Every test method of this assembly ([Fact] or [Theory]) with the IDs it declares, for those that declare some.</summary>
    public static IReadOnlyDictionary<string, IReadOnlySet<string>> ByTest() =>
        typeof(DiagnosticCoverage).Assembly.GetTypes()
            .SelectMany(t => t.GetMethods(BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Instance | BindingFlags.Static | BindingFlags.DeclaredOnly))
            .Where(m => m.GetCustomAttributes<FactAttribute>().Any())
            .Select(m => (Name: m.DeclaringType!.Name + "." + m.Name, Ids: Declared(m)))
            .Where(t => t.Ids.Count > 0)
            .ToDictionary(t => t.Name, t => t.Ids, StringComparer.Ordinal);
}
