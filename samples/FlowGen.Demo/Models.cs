using System;
using System.Collections.Generic;
using System.Linq;
using FlowGen;

namespace FlowGen.Demo;

// The flows this demo can train. FlowGen fixes a model's dimension and layers at compile time, so every choice the
// command line offers is a separately declared class; the generator emits specialised code for each.

/// <summary>The reference model "R2": RealNVP with 8 affine couplings on alternating halves, conditioners 64-64 tanh.</summary>
[CouplingFlow(Dim = 2, Layers = 8, Hidden = [64, 64])]
public partial class AffineFlow2D;

/// <summary>
/// NICE: 8 additive couplings, then a per-coordinate scaling (an ActNorm layer, initialised from the data). Additive couplings
/// preserve volume, so without the final scaling the flow could not concentrate mass: on standardised two moons its NLL
/// cannot go below about 2.0 nats.
/// </summary>
[CouplingFlow(Dim = 2, Hidden = [64, 64])]
[AdditiveCoupling, AdditiveCoupling, AdditiveCoupling, AdditiveCoupling, AdditiveCoupling, AdditiveCoupling, AdditiveCoupling, AdditiveCoupling]
[ActNorm]
public partial class AdditiveFlow2D;

/// <summary>Neural spline flow: 8 rational-quadratic spline couplings, 8 bins on [−4, 4] (identity outside; the data is standardised).</summary>
[CouplingFlow(Dim = 2, Layers = 8, Hidden = [64, 64], Coupling = CouplingKind.Spline, Bins = 8, Bound = 4)]
public partial class SplineFlow2D;

/// <summary>Sum-of-squares polynomial flow: 8 couplings, each transformer the integral of 3 squared polynomials of degree 2.</summary>
[CouplingFlow(Dim = 2, Layers = 8, Hidden = [64, 64], Coupling = CouplingKind.SumOfSquares, Degree = 2, Squares = 3)]
public partial class SumOfSquaresFlow2D;

/// <summary>Deep sigmoidal flow: 8 couplings, each transformer one block of 8 sigmoid units.</summary>
[CouplingFlow(Dim = 2, Layers = 8, Hidden = [64, 64], Coupling = CouplingKind.DeepSigmoidal, SigmoidUnits = 8, SigmoidLayers = 1)]
public partial class DeepSigmoidalFlow2D;

// n-D models for user CSV data (affine couplings; a seeded random permutation after every coupling so that every
// coordinate eventually conditions every other one, which alternating halves alone would not do for Dim > 2).

[CouplingFlow(Dim = 3, Layers = 8, Hidden = [64, 64], Permutation = PermutationKind.Random)]
public partial class AffineFlow3D;

[CouplingFlow(Dim = 4, Layers = 8, Hidden = [64, 64], Permutation = PermutationKind.Random)]
public partial class AffineFlow4D;

[CouplingFlow(Dim = 5, Layers = 8, Hidden = [64, 64], Permutation = PermutationKind.Random)]
public partial class AffineFlow5D;

[CouplingFlow(Dim = 6, Layers = 8, Hidden = [64, 64], Permutation = PermutationKind.Random)]
public partial class AffineFlow6D;

[CouplingFlow(Dim = 8, Layers = 8, Hidden = [64, 64], Permutation = PermutationKind.Random)]
public partial class AffineFlow8D;

[CouplingFlow(Dim = 10, Layers = 8, Hidden = [64, 64], Permutation = PermutationKind.Random)]
public partial class AffineFlow10D;

[CouplingFlow(Dim = 16, Layers = 8, Hidden = [64, 64], Permutation = PermutationKind.Random)]
public partial class AffineFlow16D;

/// <summary>Creates a freshly initialised flow from a seed.</summary>
internal delegate ICouplingFlow<float> FlowFactory(int seed);

/// <summary>A 2-D flow the demo offers and the peak learning rate it trains well with.</summary>
internal sealed record FlowChoice(FlowFactory Create, double LearningRate);

/// <summary>Looks up the flow class for a coupling kind (2-D) or a data dimension (n-D).</summary>
internal static class FlowCatalog
{
    /// <summary>The learning rate of the affine flows, and of every kind that does not need a smaller one.</summary>
    public const double DefaultLearningRate = 2e-3;

    /// <summary>The 2-D flows by the name <c>--coupling</c> accepts. A new kind is one declared class and one line here.</summary>
    public static readonly IReadOnlyDictionary<string, FlowChoice> Couplings = new Dictionary<string, FlowChoice>(StringComparer.OrdinalIgnoreCase)
    {
        ["affine"] = new(seed => new AffineFlow2D((ulong)seed), DefaultLearningRate),
        ["additive"] = new(seed => new AdditiveFlow2D((ulong)seed), DefaultLearningRate),
        ["spline"] = new(seed => new SplineFlow2D((ulong)seed), DefaultLearningRate),
        // a degree-5 polynomial per coupling, eight deep: at 1e-3 and above the tails of the map explode within a few thousand steps
        ["sos"] = new(seed => new SumOfSquaresFlow2D((ulong)seed), 5e-4),
        ["dsf"] = new(seed => new DeepSigmoidalFlow2D((ulong)seed), DefaultLearningRate),
    };

    /// <summary>Affine flows for CSV data with more than two columns, by column count.</summary>
    private static readonly IReadOnlyDictionary<int, FlowFactory> HigherDimensions = new Dictionary<int, FlowFactory>
    {
        [3] = seed => new AffineFlow3D((ulong)seed),
        [4] = seed => new AffineFlow4D((ulong)seed),
        [5] = seed => new AffineFlow5D((ulong)seed),
        [6] = seed => new AffineFlow6D((ulong)seed),
        [8] = seed => new AffineFlow8D((ulong)seed),
        [10] = seed => new AffineFlow10D((ulong)seed),
        [16] = seed => new AffineFlow16D((ulong)seed),
    };

    /// <summary>The column counts a CSV file may have, in increasing order.</summary>
    public static IReadOnlyList<int> SupportedDimensions { get; } = HigherDimensions.Keys.Prepend(2).Order().ToArray();

    /// <summary>The flow for data of <paramref name="dim"/> coordinates with the given coupling kind.</summary>
    /// <exception cref="DemoException">No flow is declared for that combination.</exception>
    public static FlowChoice Resolve(int dim, string coupling)
    {
        if (dim == 2) return Couplings[coupling];
        if (!HigherDimensions.TryGetValue(dim, out FlowFactory? factory))
        {
            throw new DemoException($"The data has {dim} columns, but this demo declares flows for {string.Join(", ", SupportedDimensions)} columns only " +
                $"(FlowGen fixes a model's dimension at compile time: add a [CouplingFlow(Dim = {dim}, ...)] class to Models.cs for another one).");
        }
        if (!string.Equals(coupling, "affine", StringComparison.OrdinalIgnoreCase))
        {
            throw new DemoException($"--coupling {coupling} is declared for 2-D data only; the {dim}-D flows use affine couplings.");
        }
        return new FlowChoice(factory, DefaultLearningRate);
    }
}
