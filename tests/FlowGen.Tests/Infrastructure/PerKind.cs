using System;
using System.Collections.Generic;
using System.Linq;
using FlowGen.Tests.Reference;

namespace FlowGen.Tests.Infrastructure;

/// <summary>
/// Worst errors broken down by the layer kinds a configuration contains (a configuration with a spline and an affine
/// coupling counts for both), so a test can report, per kind, the largest error seen over the random suite.
/// </summary>
public sealed class PerKind
{
    private readonly SortedDictionary<string, double> _worst = new(StringComparer.Ordinal);
    private readonly SortedDictionary<string, int> _count = new(StringComparer.Ordinal);

    /// <summary>The labels of a configuration: its coupling kinds, plus single-coordinate masks, ActNorm, LU and context.</summary>
    public static IEnumerable<string> Labels(FlowConfig config)
    {
        var labels = new SortedSet<string>(StringComparer.Ordinal);
        foreach (ResolvedLayer layer in config.Resolve())
        {
            switch (layer.Type)
            {
                case ReferenceLayerType.Coupling:
                    labels.Add(layer.Kind.ToString());
                    if (layer.Transformed.Length == 1) labels.Add("(one coordinate)");
                    break;
                case ReferenceLayerType.ActNorm: labels.Add("(ActNorm)"); break;
                case ReferenceLayerType.InvertibleLinear: labels.Add("(InvertibleLinear)"); break;
            }
        }
        if (config.Context > 0) labels.Add("(context)");
        return labels;
    }

    public void Add(FlowConfig config, double error)
    {
        foreach (string label in Labels(config))
        {
            _worst[label] = Math.Max(_worst.GetValueOrDefault(label), error);
            _count[label] = _count.GetValueOrDefault(label) + 1;
        }
    }

    /// <summary>One line per label: "Spline 1.2E-07 (31)".</summary>
    public string Report(string title) =>
        title + ": " + string.Join("; ", _worst.Select(p => $"{p.Key} {p.Value:E2} ({_count[p.Key]})"));
}
