using System;
using System.Collections.Generic;
using FlowGen.Generator.Emit;
using FlowGen.Generator.Model;
using FlowGen.Generator.Parsing;
using FlowGen.Generator.Planning;
using FlowGen.Generator.Spec;

namespace FlowGen.Generator.Layers;

/// <summary>
/// The owner of one coupling kind's element-wise transformer τ (docs/model.md §3): its options, their validation and
/// defaults, the parameters it takes per transformed coordinate and their identity values, its description and stack
/// specification, and its code — helper methods once per model (both flavors, from one template) and the per-coordinate
/// calls inside the coupling's shape class. The coupling layer itself (mask, conditioner) is <see cref="CouplingLayerKind"/>.
/// </summary>
internal abstract class TransformerKind
{
    /// <summary>The per-layer attribute, e.g. "AffineCouplingAttribute".</summary>
    public abstract string AttributeName { get; }

    /// <summary>The kind's name: its member of FlowGen.CouplingKind (which selects it in a uniform stack), e.g. "SumOfSquares".</summary>
    public string Name => AttributeName.Substring(0, AttributeName.Length - "CouplingAttribute".Length);

    /// <summary>The name in the stack specification, e.g. "affine".</summary>
    public abstract string SpecName { get; }

    /// <summary>The name in descriptions and comments, e.g. "rational-quadratic spline".</summary>
    public abstract string DisplayName { get; }

    /// <summary>The attribute options that belong to this kind (set on another kind, they are warned about).</summary>
    public abstract IReadOnlyList<string> OptionNames { get; }

    /// <summary>
    /// Reads (and validates) this kind's options; <paramref name="r"/> looks at the layer attribute, then the flow defaults,
    /// then the runtime's <c>Default{Option}</c> constants of the kind's attribute class.
    /// </summary>
    public abstract TransformerOptions Read(OptionReader r);

    /// <summary>Transformer parameters per transformed coordinate (docs/model.md §3).</summary>
    public abstract int ParametersPerCoordinate(TransformerOptions o);

    /// <summary>The conditioner's output bias (per parameter) that makes τ the identity (docs/model.md §6).</summary>
    public abstract double[] IdentityParameters(TransformerOptions o);

    /// <summary>Short description of the transformer's parameters, for comments.</summary>
    public abstract string ParameterNames { get; }

    /// <summary>The map on one coordinate, for banners (e.g. "y = x·exp(s̃) + t, s̃ = 2·tanh(s/2)").</summary>
    public abstract string Formula(TransformerOptions o);

    /// <summary>The options in the human-readable description (e.g. ", clamp 2").</summary>
    public abstract string DescribeOptions(TransformerOptions o);

    /// <summary>Writes the options into the layer's stack specification.</summary>
    public abstract void WriteSpec(TransformerOptions o, JsonWriter j);

    /// <summary>Writes the helper methods of this kind, once per model, for the configurations in <paramref name="used"/>.</summary>
    public abstract void EmitHelpers(CodeWriter w, FlowPlan plan, Flavor f, IReadOnlyList<TransformerOptions> used);

    /// <summary>One coordinate, forward: <paramref name="x"/> ← τ(x), <paramref name="ld"/> += log τ′(x).</summary>
    /// <remarks><paramref name="stride"/> is the distance between consecutive parameters of one coordinate (in values of the flavor).</remarks>
    public abstract string Forward(TransformerOptions o, Flavor f, bool isDouble, string x, Func<int, string> theta, string stride, string ld);

    /// <summary>One coordinate, inverse: <paramref name="x"/> ← τ⁻¹(x), <paramref name="ld"/> −= log τ′(τ⁻¹(x)).</summary>
    public abstract string Inverse(TransformerOptions o, Flavor f, bool isDouble, string x, Func<int, string> theta, string stride, string ld);

    /// <summary>
    /// One coordinate, backward (tile flavor), for the map selected by the shape's TDirection. <paramref name="x"/> is the saved
    /// data-side value, <paramref name="g"/> the gradient row: on entry ∂L/∂(output of the map), on exit ∂L/∂(input of the map);
    /// <paramref name="gl"/> is ∂L/∂(log-det accumulator). For the forward map y = τ(x): ∂L/∂x = gy·τ′ + gl·λ_x and
    /// ∂L/∂θ = gy·τ_θ + gl·λ_θ (λ = log τ′). For the inverse x = τ⁻¹(y), whose log-det is −λ(x): ∂L/∂y = (gx − gl·λ_x)/τ′ and
    /// ∂L/∂θ = −(∂L/∂y·τ_θ + gl·λ_θ). The gradients of θ are written (not added) to <paramref name="gtheta"/>.
    /// </summary>
    public abstract string Backward(TransformerOptions o, bool isDouble, string x, Func<int, string> theta, string stride, string g, string gl, Func<int, string> gtheta);

    protected static void Inline(CodeWriter w) => w.Line("[MethodImpl(MethodImplOptions.AggressiveInlining)]");
}
