using FlowGen;

namespace FlowGen.InteropCheck;

// Stacks covering every layer kind, both precisions, masks, activations, permutations and context.

[CouplingFlow(Dim = 4, Layers = 4, Hidden = [16, 16])]
public partial class AffineFloat;

[CouplingFlow<double>(Dim = 5, Layers = 3, Coupling = CouplingKind.Additive, Mask = MaskKind.Parity, Permutation = PermutationKind.Random,
                      Hidden = [12], Activation = Activation.Relu)]
public partial class AdditiveDouble;

[CouplingFlow(Dim = 6, Layers = 3, Hidden = [16], ActNorm = true, InvertibleLinear = true, Activation = Activation.Gelu, Clamp = 1.5)]
public partial class GlowFloat;

[CouplingFlow<double>(Dim = 4, ContextDim = 2, Hidden = [16], Activation = Activation.Elu)]
[SplineCoupling(Bins = 6, Bound = 3)]
[Permute(PermutationKind.Reverse)]
[SplineCoupling(Bins = 4, Bound = 2, Mask = MaskKind.SingleCoordinate, Coordinate = 2)]
public partial class SplineDouble;

[CouplingFlow(Dim = 3, Hidden = [16], Activation = Activation.Relu)]
[SplineCoupling(Bins = 8, Bound = 2.5)]
[InvertibleLinear]
[AffineCoupling]
[SplineCoupling(Bins = 5, Bound = 3, Mask = MaskKind.Parity)]
public partial class SplineFloat;

[CouplingFlow(Dim = 4, Hidden = [16], Activation = Activation.Softplus)]
[SumOfSquaresCoupling(Degree = 2, Squares = 2, Bound = 1.25)] // a small bound: many inputs in the linear tails
[Permute(3, 1, 0, 2)]
[DeepSigmoidalCoupling(SigmoidUnits = 4, SigmoidLayers = 2, MaskPattern = "1010", Activation = Activation.Silu)]
public partial class SosDsfFloat;

[CouplingFlow<double>(Dim = 5, ContextDim = 1, Hidden = [12, 8], Activation = Activation.Tanh)]
[ActNorm]
[InvertibleLinear(Permute = false)]
[AffineCoupling(Clamp = 0)]
[SumOfSquaresCoupling(Mask = MaskKind.Parity, Degree = 3, Squares = 2, Bound = 2.0)]
[Permute(PermutationKind.Random)]
[DeepSigmoidalCoupling(Hidden = [])]
[AdditiveCoupling(Mask = MaskKind.SingleCoordinate)]
public partial class MixedDouble;

// Double twins of the float stacks: the same architecture in double, given the float stack's parameters, so that FlowGen's
// mathematics is also compared with PyTorch's in double (where rounding leaves ~1e-13 of room instead of ~1e-4).

[CouplingFlow<double>(Dim = 4, Layers = 4, Hidden = [16, 16])]
public partial class AffineFloatTwin;

[CouplingFlow<double>(Dim = 6, Layers = 3, Hidden = [16], ActNorm = true, InvertibleLinear = true, Activation = Activation.Gelu, Clamp = 1.5)]
public partial class GlowFloatTwin;

[CouplingFlow<double>(Dim = 3, Hidden = [16], Activation = Activation.Relu)]
[SplineCoupling(Bins = 8, Bound = 2.5)]
[InvertibleLinear]
[AffineCoupling]
[SplineCoupling(Bins = 5, Bound = 3, Mask = MaskKind.Parity)]
public partial class SplineFloatTwin;

[CouplingFlow<double>(Dim = 4, Hidden = [16], Activation = Activation.Softplus)]
[SumOfSquaresCoupling(Degree = 2, Squares = 2, Bound = 1.25)]
[Permute(3, 1, 0, 2)]
[DeepSigmoidalCoupling(SigmoidUnits = 4, SigmoidLayers = 2, MaskPattern = "1010", Activation = Activation.Silu)]
public partial class SosDsfFloatTwin;

// base distributions (docs/model.md §11): a FlowGMM mixture in float (with its double twin), a learnable-weights mixture
// with a context in double, a diagonal Gaussian in double
[CouplingFlow(Dim = 3, Layers = 3, Hidden = [16])]
[GaussianMixtureBase(Components = 3, FlowGmm = true)]
public partial class FlowGmmFloat;

[CouplingFlow<double>(Dim = 3, Layers = 3, Hidden = [16])]
[GaussianMixtureBase(Components = 3, FlowGmm = true)]
public partial class FlowGmmFloatTwin;

[CouplingFlow<double>(Dim = 4, Layers = 3, Hidden = [12], ContextDim = 1)]
[GaussianMixtureBase(Components = 4)]
public partial class MixtureDouble;

[CouplingFlow<double>(Dim = 3, Layers = 2, Hidden = [12])]
[GaussianBase]
public partial class DiagonalGaussianDouble;
