// The attribute surface of FlowGen. The source generator reads these attributes from a `partial class`
// and emits the whole flow for it; at run time they carry no behaviour.
//
// Two ways to declare a stack:
//
//  * Uniform: every option on [CouplingFlow]. `Layers` couplings of kind `Coupling`; before each coupling an
//    optional ActNorm and invertible linear layer, after each coupling but the last an optional permutation.
//
//        [CouplingFlow(Dim = 8, Layers = 12)]
//        public partial class MyFlow;
//
//  * Explicit: [CouplingFlow] gives the dimension and the defaults; the layer attributes that follow it
//    list the stack in declaration order (top to bottom is data -> latent).
//
//        [CouplingFlow(Dim = 8, Hidden = [64, 64])]
//        [ActNorm, InvertibleLinear, AffineCoupling(Mask = MaskKind.Parity)]
//        [ActNorm, InvertibleLinear, SplineCoupling(Bins = 8)]
//        [Permute(PermutationKind.Reverse)]
//        [AdditiveCoupling(MaskPattern = "11110000", Hidden = [32])]
//        public partial class MyFlow;
//
// docs/model.md states the exact mathematics, the parameter layout and the initialisation of every layer kind.
//
// This file is the single source of the options' defaults and of the enums' members: the generator reads the public
// `Default…` constants below and the declared enum members from the compilation (it mirrors neither). A default is the
// constant `Default{Option}` of the class that owns the option: the flow-wide ones on CouplingFlowAttribute, each coupling
// kind's own on its attribute class (CouplingFlowAttribute's copies of them start from those).

using System;

namespace FlowGen;

/// <summary>The element-wise invertible map ("transformer") a coupling layer applies to its transformed coordinates.</summary>
public enum CouplingKind
{
    /// <summary>RealNVP affine map y = x·exp(s̃) + t, with the log-scale soft-clamped: s̃ = Clamp·tanh(s / Clamp).</summary>
    Affine = 0,

    /// <summary>NICE additive map y = x + t (volume preserving).</summary>
    Additive = 1,

    /// <summary>Sum-of-squares polynomial map (Jaini et al. 2019); see <see cref="SumOfSquaresCouplingAttribute"/>.</summary>
    SumOfSquares = 2,

    /// <summary>Deep sigmoidal map (Huang et al. 2018); see <see cref="DeepSigmoidalCouplingAttribute"/>.</summary>
    DeepSigmoidal = 3,

    /// <summary>Rational-quadratic spline (Durkan et al. 2019); see <see cref="SplineCouplingAttribute"/>.</summary>
    Spline = 4,
}

/// <summary>Which coordinates a coupling layer keeps (feeds to its conditioner) and which it transforms.</summary>
public enum MaskKind
{
    /// <summary>Couplings alternate: even couplings keep the first ⌊Dim/2⌋ coordinates and transform the rest, odd couplings the reverse.</summary>
    Halves = 0,

    /// <summary>Couplings alternate: even couplings keep the even-indexed coordinates and transform the odd-indexed ones, odd couplings the reverse.</summary>
    Parity = 1,

    /// <summary>Same as <see cref="Parity"/> (the 1-D checkerboard).</summary>
    Checkerboard = Parity,

    /// <summary>
    /// One coordinate is transformed and Dim − 1 are kept (Teshima et al.'s single-coordinate coupling). Coupling number c
    /// transforms coordinate c mod Dim unless the layer's <c>Coordinate</c> names one.
    /// </summary>
    SingleCoordinate = 2,
}

/// <summary>Activation function of the conditioner's hidden layers.</summary>
public enum Activation
{
    /// <summary>Hyperbolic tangent.</summary>
    Tanh = 0,

    /// <summary>max(0, x).</summary>
    Relu = 1,

    /// <summary>log(1 + eˣ).</summary>
    Softplus = 2,

    /// <summary>x for x &gt; 0, eˣ − 1 otherwise (α = 1).</summary>
    Elu = 3,

    /// <summary>GELU, tanh form: ½x(1 + tanh(√(2/π)(x + 0.044715x³))) (PyTorch's <c>approximate='tanh'</c>).</summary>
    Gelu = 4,

    /// <summary>SiLU / swish: x·σ(x).</summary>
    Silu = 5,
}

/// <summary>A fixed permutation of the coordinates.</summary>
public enum PermutationKind
{
    /// <summary>No permutation.</summary>
    None = 0,

    /// <summary>Reverse the coordinates: output i takes input Dim − 1 − i.</summary>
    Reverse = 1,

    /// <summary>A random permutation fixed at compile time from a seed (docs/model.md gives the algorithm).</summary>
    Random = 2,
}

/// <summary>
/// Declares a coupling normalizing flow with <see cref="float"/> arithmetic on a <c>partial class</c>; the FlowGen source
/// generator emits forward, inverse, log-determinant, log-density, sampling and gradients for it.
/// Use <see cref="CouplingFlowAttribute{T}"/> with <c>double</c> for double precision.
/// </summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = false, Inherited = false)]
public class CouplingFlowAttribute : Attribute
{
    /// <summary>Default of <see cref="Coupling"/>.</summary>
    public const CouplingKind DefaultCoupling = CouplingKind.Affine;

    /// <summary>Default of <see cref="Mask"/>.</summary>
    public const MaskKind DefaultMask = MaskKind.Halves;

    /// <summary>Default of <see cref="Activation"/>.</summary>
    public const Activation DefaultActivation = Activation.Tanh;

    /// <summary>Default of <see cref="Permutation"/>.</summary>
    public const PermutationKind DefaultPermutation = PermutationKind.None;

    /// <summary>Default of <see cref="Hidden"/>: this many hidden layers, each <see cref="DefaultHiddenWidth"/> wide.</summary>
    public const int DefaultHiddenLayers = 2;

    /// <summary>Default of <see cref="Hidden"/>: the width of each of the <see cref="DefaultHiddenLayers"/> hidden layers.</summary>
    public const int DefaultHiddenWidth = 64;

    /// <summary>Number of coordinates of a data point (at least 2).</summary>
    public int Dim { get; set; }

    /// <summary>Number of coupling layers of a uniform stack. With explicit layer attributes, leave it unset or make it equal to their count of couplings.</summary>
    public int Layers { get; set; }

    /// <summary>Length of the context vector of a conditional flow (0: unconditional), the generated <c>ContextDim</c>. The context is fed to every conditioner.</summary>
    public int ContextDim { get; set; }

    /// <summary>The former name of <see cref="ContextDim"/> (same meaning); when both are set, <see cref="ContextDim"/> wins.</summary>
    [System.Obsolete("Use ContextDim (the name of the generated constant).")]
    public int Context { get; set; }

    /// <summary>Transformer of the couplings of a uniform stack (default <see cref="DefaultCoupling"/>: affine).</summary>
    public CouplingKind Coupling { get; set; } = DefaultCoupling;

    /// <summary>Default mask of the couplings (default <see cref="DefaultMask"/>: halves).</summary>
    public MaskKind Mask { get; set; } = DefaultMask;

    /// <summary>
    /// A custom mask as a string of Dim characters, '1' for a kept coordinate and '0' for a transformed one
    /// (e.g. "11110000"). On [CouplingFlow] even couplings use it and odd couplings its complement; on a layer attribute it is used as written.
    /// </summary>
    public string? MaskPattern { get; set; }

    /// <summary>
    /// Hidden layer widths of every conditioner MLP (default <see cref="DefaultHiddenLayers"/> layers of
    /// <see cref="DefaultHiddenWidth"/>: {64, 64}; empty for a single affine layer).
    /// </summary>
    public int[] Hidden { get; set; } = DefaultHidden();

    /// <summary>Activation of the conditioners' hidden layers (default <see cref="DefaultActivation"/>: tanh).</summary>
    public Activation Activation { get; set; } = DefaultActivation;

    /// <summary>Permutation inserted after every coupling but the last in a uniform stack (default <see cref="DefaultPermutation"/>: none).</summary>
    public PermutationKind Permutation { get; set; } = DefaultPermutation;

    /// <summary>Seed of <see cref="PermutationKind.Random"/> permutations and of the fixed permutations of invertible linear layers (default 0).</summary>
    public int Seed { get; set; }

    /// <summary>Uniform stack: an ActNorm layer before every coupling.</summary>
    public bool ActNorm { get; set; }

    /// <summary>Uniform stack: an LU-decomposed invertible linear layer before every coupling.</summary>
    public bool InvertibleLinear { get; set; }

    /// <summary>
    /// Uniform stack with <see cref="InvertibleLinear"/>: whether each linear layer has a fixed seeded random permutation P
    /// (W = P·L·U) or none (false: W = L·U, as <c>[InvertibleLinear(Permute = false)]</c>); default
    /// <see cref="InvertibleLinearAttribute.DefaultPermute"/>: true. For fitting a map (FlowTrainer.FitMap), false: W near
    /// the identity is then well conditioned, and single-coordinate stacks improve with depth; for densities either works
    /// (docs/model.md §1).
    /// </summary>
    public bool InvertibleLinearPermute { get; set; } = InvertibleLinearAttribute.DefaultPermute;

    /// <summary>Soft clamp C of the affine log-scale, s̃ = C·tanh(s / C) (default <see cref="AffineCouplingAttribute.DefaultClamp"/>: 2; 0 turns the clamp off).</summary>
    public double Clamp { get; set; } = AffineCouplingAttribute.DefaultClamp;

    /// <summary>Sum-of-squares couplings: degree r of each squared polynomial (the map has degree 2r + 1; default <see cref="SumOfSquaresCouplingAttribute.DefaultDegree"/>: 2).</summary>
    public int Degree { get; set; } = SumOfSquaresCouplingAttribute.DefaultDegree;

    /// <summary>Sum-of-squares couplings: number K of squared polynomials (default <see cref="SumOfSquaresCouplingAttribute.DefaultSquares"/>: 3).</summary>
    public int Squares { get; set; } = SumOfSquaresCouplingAttribute.DefaultSquares;

    /// <summary>Deep sigmoidal couplings: sigmoid units per DSF block (default <see cref="DeepSigmoidalCouplingAttribute.DefaultSigmoidUnits"/>: 8).</summary>
    public int SigmoidUnits { get; set; } = DeepSigmoidalCouplingAttribute.DefaultSigmoidUnits;

    /// <summary>Deep sigmoidal couplings: number of stacked DSF blocks (default <see cref="DeepSigmoidalCouplingAttribute.DefaultSigmoidLayers"/>: 1).</summary>
    public int SigmoidLayers { get; set; } = DeepSigmoidalCouplingAttribute.DefaultSigmoidLayers;

    /// <summary>Spline couplings: number of bins K (default <see cref="SplineCouplingAttribute.DefaultBins"/>: 8).</summary>
    public int Bins { get; set; } = SplineCouplingAttribute.DefaultBins;

    /// <summary>
    /// Spline and sum-of-squares couplings: the transformer acts on [−Bound, Bound]; outside, the spline is the identity and the
    /// sum-of-squares polynomial continues linearly (defaults <see cref="SplineCouplingAttribute.DefaultBound"/> and
    /// <see cref="SumOfSquaresCouplingAttribute.DefaultBound"/>: 3).
    /// </summary>
    public double Bound { get; set; } = SplineCouplingAttribute.DefaultBound;

    private static int[] DefaultHidden()
    {
        var hidden = new int[DefaultHiddenLayers];
        Array.Fill(hidden, DefaultHiddenWidth);
        return hidden;
    }
}

/// <summary>Declares a coupling flow computing in <typeparamref name="T"/> (<see cref="float"/> or <see cref="double"/>).</summary>
/// <typeparam name="T"><see cref="float"/> or <see cref="double"/>.</typeparam>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = false, Inherited = false)]
public sealed class CouplingFlowAttribute<T> : CouplingFlowAttribute where T : unmanaged
{
}

/// <summary>
/// Base of the per-layer coupling attributes. Options left unset take the value given on [CouplingFlow].
/// </summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
public abstract class CouplingLayerAttribute : Attribute
{
    /// <summary>Mask of this coupling (default: the flow's <see cref="CouplingFlowAttribute.Mask"/>).</summary>
    public MaskKind Mask { get; set; }

    /// <summary>Custom mask for this coupling, '1' kept and '0' transformed, used as written.</summary>
    public string? MaskPattern { get; set; }

    /// <summary>With <see cref="MaskKind.SingleCoordinate"/>: the coordinate this coupling transforms (default: coupling number mod Dim).</summary>
    public int Coordinate { get; set; }

    /// <summary>Hidden widths of this coupling's conditioner (default: the flow's).</summary>
    public int[]? Hidden { get; set; }

    /// <summary>Activation of this coupling's conditioner (default: the flow's).</summary>
    public Activation Activation { get; set; }
}

/// <summary>An affine (RealNVP) coupling layer.</summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
public sealed class AffineCouplingAttribute : CouplingLayerAttribute
{
    /// <summary>Default of <see cref="Clamp"/> when neither the layer nor [CouplingFlow] sets it.</summary>
    public const double DefaultClamp = 2.0;

    /// <summary>Soft clamp of the log-scale (default: the flow's <see cref="CouplingFlowAttribute.Clamp"/>).</summary>
    public double Clamp { get; set; }
}

/// <summary>An additive (NICE) coupling layer.</summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
public sealed class AdditiveCouplingAttribute : CouplingLayerAttribute
{
}

/// <summary>
/// A sum-of-squares polynomial coupling: τ(x) = c + ∫₀ˣ (ε + Σₖ (Σₗ aₖₗ uˡ)²) dt with u = clamp(t, −B, B)/B, i.e. a
/// polynomial of degree 2r + 1 on [−<see cref="Bound"/>, <see cref="Bound"/>] continued linearly (C¹) outside.
/// </summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
public sealed class SumOfSquaresCouplingAttribute : CouplingLayerAttribute
{
    /// <summary>Default of <see cref="Degree"/> when neither the layer nor [CouplingFlow] sets it.</summary>
    public const int DefaultDegree = 2;

    /// <summary>Default of <see cref="Squares"/> when neither the layer nor [CouplingFlow] sets it.</summary>
    public const int DefaultSquares = 3;

    /// <summary>Degree r of each squared polynomial (default: the flow's).</summary>
    public int Degree { get; set; }

    /// <summary>Number K of squared polynomials (default: the flow's).</summary>
    public int Squares { get; set; }

    /// <summary>Default of <see cref="Bound"/> when neither the layer nor [CouplingFlow] sets it.</summary>
    public const double DefaultBound = 3.0;

    /// <summary>
    /// Half-width B of the interval [−B, B] on which τ is the polynomial (of u = x/B); outside it τ continues linearly with
    /// the slope τ′(±B) (default: the flow's).
    /// </summary>
    public double Bound { get; set; }
}

/// <summary>A deep sigmoidal coupling: τ = logit(Σⱼ wⱼ σ(aⱼ x + bⱼ)), optionally several blocks deep.</summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
public sealed class DeepSigmoidalCouplingAttribute : CouplingLayerAttribute
{
    /// <summary>Default of <see cref="SigmoidUnits"/> when neither the layer nor [CouplingFlow] sets it.</summary>
    public const int DefaultSigmoidUnits = 8;

    /// <summary>Default of <see cref="SigmoidLayers"/> when neither the layer nor [CouplingFlow] sets it.</summary>
    public const int DefaultSigmoidLayers = 1;

    /// <summary>Sigmoid units per block (default: the flow's).</summary>
    public int SigmoidUnits { get; set; }

    /// <summary>Number of stacked blocks (default: the flow's).</summary>
    public int SigmoidLayers { get; set; }
}

/// <summary>A rational-quadratic spline coupling (Neural Spline Flows) with linear tails.</summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
public sealed class SplineCouplingAttribute : CouplingLayerAttribute
{
    /// <summary>Default of <see cref="Bins"/> when neither the layer nor [CouplingFlow] sets it.</summary>
    public const int DefaultBins = 8;

    /// <summary>Default of <see cref="Bound"/> when neither the layer nor [CouplingFlow] sets it.</summary>
    public const double DefaultBound = 3.0;

    /// <summary>Number of bins (default: the flow's).</summary>
    public int Bins { get; set; }

    /// <summary>Half-width B of the interval [−B, B] (default: the flow's).</summary>
    public double Bound { get; set; }
}

/// <summary>A fixed permutation layer.</summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
public sealed class PermuteAttribute : Attribute
{
    /// <summary>A reverse or seeded random permutation.</summary>
    public PermutationKind Kind { get; }

    /// <summary>An explicit order: output i takes input <c>Order[i]</c>.</summary>
    public int[]? Order { get; }

    /// <summary>Seed of a <see cref="PermutationKind.Random"/> permutation (default: the flow's <see cref="CouplingFlowAttribute.Seed"/> plus the layer's stack index).</summary>
    public int Seed { get; set; }

    /// <summary>A permutation of the given kind.</summary>
    public PermuteAttribute(PermutationKind kind) { Kind = kind; }

    /// <summary>An explicit permutation: output i takes input <paramref name="order"/>[i].</summary>
    public PermuteAttribute(params int[] order) { Kind = PermutationKind.None; Order = order; }
}

/// <summary>An ActNorm layer (Glow): y = x·exp(ℓ) + b per coordinate, initialised from the first data batch.</summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
public sealed class ActNormAttribute : Attribute
{
}

/// <summary>
/// A learnable invertible linear layer y = W x + b with W = P·L·(U + diag(exp ℓ)) (Glow's LU-decomposed 1×1 convolution):
/// P a fixed random permutation, L unit lower triangular, U strictly upper triangular.
/// </summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
public sealed class InvertibleLinearAttribute : Attribute
{
    /// <summary>Default of <see cref="Permute"/>.</summary>
    public const bool DefaultPermute = true;

    /// <summary>Seed of the fixed random permutation P (default: the flow's seed plus the layer's stack index).</summary>
    public int Seed { get; set; }

    /// <summary>False for P = identity, so that W = L·U (default <see cref="DefaultPermute"/>: true, a seeded random P).</summary>
    public bool Permute { get; set; } = DefaultPermute;
}

// ---------------------------------------------------------------- base distributions
//
// The base distribution p_Z of the latent z = f(x) (docs/model.md §11). Without a base attribute it is the standard normal
// N(0, I). At most one base attribute per flow class; its parameters come after every layer's in the parameter vector
// (tensors base.*). The base does not depend on the context of a conditional flow.
//
//        [CouplingFlow(Dim = 2, Layers = 8)]
//        [GaussianMixtureBase(Components = 3, FlowGmm = true)]
//        public partial class Classifier;

/// <summary>
/// A diagonal Gaussian base N(μ, diag σ²) with learnable means μ (tensor <c>base.means</c>, [Dim]) and log-scales log σ
/// (<c>base.log_scales</c>, [Dim]), both initialised to 0 (the standard normal).
/// </summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = false, Inherited = false)]
public sealed class GaussianBaseAttribute : Attribute
{
}

/// <summary>
/// A Gaussian-mixture base Σ_k w_k N(μ_k, diag σ_k²) with <see cref="Components"/> components: learnable weights w = softmax(a)
/// (tensor <c>base.logits</c>, [K]), means (<c>base.means</c>, [K, Dim]) and diagonal log-scales (<c>base.log_scales</c>,
/// [K, Dim]). With <see cref="FlowGmm"/> it is FlowGMM's class-conditional base (Izmailov et al. 2020): equal weights 1/K (no
/// logits) and one isotropic log-scale shared by every component (<c>base.log_scales</c>, [1]). The generated class then also
/// has the class-conditional members (LogProb for one component, ComponentLogPosteriors, Classify, Sample of one component)
/// and implements <see cref="IGaussianMixtureFlow{T}"/>.
/// </summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = false, Inherited = false)]
public sealed class GaussianMixtureBaseAttribute : Attribute
{
    /// <summary>Default of <see cref="Components"/>.</summary>
    public const int DefaultComponents = 2;

    /// <summary>Default of <see cref="FlowGmm"/>.</summary>
    public const bool DefaultFlowGmm = false;

    /// <summary>Default of <see cref="LearnableMeans"/>.</summary>
    public const bool DefaultLearnableMeans = true;

    /// <summary>Default of <see cref="LearnableScales"/>.</summary>
    public const bool DefaultLearnableScales = true;

    /// <summary>Default of <see cref="MeanSeparation"/>: 7.5 (σ = 1), the distance between the two means of FlowGMM's
    /// tabular experiments (Izmailov et al. 2020, experiments/train_flows/train_semisup_flowgmm_tabular.py).</summary>
    public const double DefaultMeanSeparation = 7.5;

    /// <summary>Number of components K (1 to 1024; default <see cref="DefaultComponents"/>).</summary>
    public int Components { get; set; } = DefaultComponents;

    /// <summary>True for FlowGMM's form: equal weights 1/K and one shared isotropic scale (default false).</summary>
    public bool FlowGmm { get; set; } = DefaultFlowGmm;

    /// <summary>False to keep the means at their seeded initial values (their gradient is zero; default true).</summary>
    public bool LearnableMeans { get; set; } = DefaultLearnableMeans;

    /// <summary>False to keep the log-scales at their initial value 0 (σ = 1; their gradient is zero; default true).</summary>
    public bool LearnableScales { get; set; } = DefaultLearnableScales;

    /// <summary>
    /// The distance between every two initial means (a finite value &gt; 0; default <see cref="DefaultMeanSeparation"/>), used
    /// unless <see cref="MeanSpread"/> is given. For K ≤ Dim + 1 the means are the vertices of a regular simplex centred at 0,
    /// in the first K − 1 coordinates, every pair exactly MeanSeparation apart (the same for every seed); for K &gt; Dim + 1 they
    /// are drawn μ_kj = s·ε_kj, ε ~ N(0, 1) from the flow's seed, with s = MeanSeparation/√(2·Dim), so that the mean squared
    /// distance between two means is MeanSeparation². docs/model.md §11.3 gives the exact placement.
    /// </summary>
    public double MeanSeparation { get; set; } = DefaultMeanSeparation;

    /// <summary>
    /// Given (a finite value &gt; 0), the means are drawn at random instead: μ_kj = MeanSpread·ε_kj, ε ~ N(0, 1) from the flow's
    /// seed; not to be given together with <see cref="MeanSeparation"/>. Not given by default.
    /// </summary>
    public double MeanSpread { get; set; }
}

/// <summary>
/// A Student-t base: independent coordinates z_j ~ t(ν_j) (location 0, scale 1) for heavy-tailed data, with degrees of freedom
/// ν_j = exp(η_j) (tensor <c>base.log_dof</c>, [Dim]) initialised to <see cref="DegreesOfFreedom"/>, learnable unless
/// <see cref="LearnableDegreesOfFreedom"/> is false.
/// </summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = false, Inherited = false)]
public sealed class StudentTBaseAttribute : Attribute
{
    /// <summary>Default of <see cref="DegreesOfFreedom"/>.</summary>
    public const double DefaultDegreesOfFreedom = 5.0;

    /// <summary>Default of <see cref="LearnableDegreesOfFreedom"/>.</summary>
    public const bool DefaultLearnableDegreesOfFreedom = true;

    /// <summary>The initial degrees of freedom of every coordinate (0.01 to 10⁶; default <see cref="DefaultDegreesOfFreedom"/>).</summary>
    public double DegreesOfFreedom { get; set; } = DefaultDegreesOfFreedom;

    /// <summary>False to keep ν fixed at <see cref="DegreesOfFreedom"/> (its gradient is zero; default true).</summary>
    public bool LearnableDegreesOfFreedom { get; set; } = DefaultLearnableDegreesOfFreedom;
}
