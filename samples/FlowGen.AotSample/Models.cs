using FlowGen;

namespace FlowGen.AotSample;

/// <summary>float, uniform stack: ActNorm, LU invertible linear, affine coupling and a random permutation per step.</summary>
[CouplingFlow(Dim = 6, Layers = 4, Hidden = [32, 32], ActNorm = true, InvertibleLinear = true, Permutation = PermutationKind.Random, Seed = 11)]
public partial class AffineFlow;

/// <summary>double, explicit stack mixing every monotone transformer.</summary>
[CouplingFlow<double>(Dim = 5, Hidden = [24], Activation = Activation.Gelu)]
[SplineCoupling(Bins = 8, Bound = 3)]
[Permute(PermutationKind.Reverse)]
[SumOfSquaresCoupling(Degree = 2, Squares = 2, Mask = MaskKind.Parity)]
[InvertibleLinear]
[DeepSigmoidalCoupling(SigmoidUnits = 4, SigmoidLayers = 2)]
[AdditiveCoupling(MaskPattern = "10101")]
public partial class MixedFlow;

/// <summary>float, conditional (context of 2): sum-of-squares, spline and affine couplings.</summary>
[CouplingFlow(Dim = 3, ContextDim = 2, Hidden = [16, 16], Activation = Activation.Silu)]
[SumOfSquaresCoupling(Degree = 3, Squares = 2)]
[Permute(PermutationKind.Reverse)]
[SplineCoupling(Bins = 5, Bound = 2.5, Mask = MaskKind.SingleCoordinate, Coordinate = 1)]
[AffineCoupling(Clamp = 1.5)]
public partial class ConditionalFlow;

/// <summary>float, a learnable three-component Gaussian-mixture base (its log-density, sampling and gradients in every pass).</summary>
[CouplingFlow(Dim = 4, Layers = 3, Hidden = [16])]
[GaussianMixtureBase(Components = 3)]
public partial class MixtureFlow;

/// <summary>double, a Student-t base with learnable degrees of freedom.</summary>
[CouplingFlow<double>(Dim = 3, Layers = 2, Hidden = [8], ActNorm = true)]
[StudentTBase]
public partial class HeavyTailedFlow;
