using System;
using System.Collections.Generic;
using FlowGen.Generator.Emit;
using FlowGen.Generator.Model;
using FlowGen.Generator.Parsing;
using FlowGen.Generator.Planning;
using FlowGen.Generator.Spec;

namespace FlowGen.Generator.Layers;

/// <summary>The additive coupling has no options of its own.</summary>
internal sealed record AdditiveOptions : TransformerOptions
{
    public override TransformerKind Kind => AdditiveTransformer.Instance;
}

/// <summary>NICE additive transformer (docs/model.md §3): y = x + t (log-det 0).</summary>
internal sealed class AdditiveTransformer : TransformerKind
{
    public static readonly AdditiveTransformer Instance = new();

    public override string AttributeName => "AdditiveCouplingAttribute";
    public override string SpecName => "additive";
    public override string DisplayName => "additive";
    public override IReadOnlyList<string> OptionNames { get; } = Array.Empty<string>();
    public override string ParameterNames => "t (shift)";

    public override TransformerOptions Read(OptionReader r) => new AdditiveOptions();

    public override int ParametersPerCoordinate(TransformerOptions o) => 1;

    public override double[] IdentityParameters(TransformerOptions o) => new double[1];

    public override string Formula(TransformerOptions o) => "y = x + t";

    public override string DescribeOptions(TransformerOptions o) => "";

    public override void WriteSpec(TransformerOptions o, JsonWriter j)
    {
    }

    public override void EmitHelpers(CodeWriter w, FlowPlan plan, Flavor f, IReadOnlyList<TransformerOptions> used)
    {
    }

    public override string Forward(TransformerOptions o, Flavor f, bool isDouble, string x, Func<int, string> theta, string stride, string ld) =>
        $"{x} += {theta(0)};";

    public override string Inverse(TransformerOptions o, Flavor f, bool isDouble, string x, Func<int, string> theta, string stride, string ld) =>
        $"{x} -= {theta(0)};";

    public override string Backward(TransformerOptions o, bool isDouble, string x, Func<int, string> theta, string stride, string g, string gl, Func<int, string> gtheta) =>
        $"{gtheta(0)} = TDirection.IsInverse ? -{g} : {g};";
}
