using FlowGen;

namespace FlowGen.Tests.Golden;

// The models of the golden-outputs regression test (GoldenOutputsTests.cs): every coupling kind in float and double,
// every activation, every mask kind, conditional models, ActNorm, invertible linear layers, permutations, explicit
// heterogeneous stacks, conditioners without a hidden layer, and models wide enough (more than 16 transformed or kept
// coordinates, or more than 16 context inputs) that the emitter loops over constant tables instead of unrolling.
// Small conditioners keep the parameter counts in the hundreds (a few thousand for the wide ones).
//
// Do not change these declarations: the golden file records their outputs bit for bit. Add new models instead (and
// accept the golden file again with FLOWGEN_ACCEPT=1).

// ---- one coupling kind per model, float and double

// Affine with the default soft clamp (2), halves, tanh.
[CouplingFlow(Dim = 4, Layers = 3, Hidden = [8])]
public partial class GAffine;

// Affine with clamp 1.5, odd Dim halves, two hidden layers, relu.
[CouplingFlow<double>(Dim = 5, Layers = 3, Hidden = [6, 5], Activation = Activation.Relu, Clamp = 1.5)]
public partial class GAffineD;

// Affine without clamp (Clamp = 0), a flow-level mask pattern (even couplings use it, odd its complement), softplus.
[CouplingFlow(Dim = 3, Layers = 2, Hidden = [8], Clamp = 0, MaskPattern = "101", Activation = Activation.Softplus)]
public partial class GAffineNoClamp;

// Affine without clamp, parity, elu.
[CouplingFlow<double>(Dim = 4, Layers = 2, Hidden = [8], Clamp = 0, Mask = MaskKind.Parity, Activation = Activation.Elu)]
public partial class GAffineNoClampD;

// Additive, parity, gelu.
[CouplingFlow(Dim = 4, Layers = 3, Hidden = [8], Coupling = CouplingKind.Additive, Mask = MaskKind.Parity, Activation = Activation.Gelu)]
public partial class GAdditive;

// Additive, single coordinate (cycling), silu.
[CouplingFlow<double>(Dim = 3, Layers = 3, Hidden = [6, 5], Coupling = CouplingKind.Additive, Mask = MaskKind.SingleCoordinate, Activation = Activation.Silu)]
public partial class GAdditiveD;

[CouplingFlow(Dim = 3, Layers = 2, Hidden = [8], Coupling = CouplingKind.SumOfSquares, Degree = 2, Squares = 3)]
public partial class GSos;

[CouplingFlow<double>(Dim = 4, Layers = 2, Hidden = [6, 5], Coupling = CouplingKind.SumOfSquares, Degree = 3, Squares = 2, Activation = Activation.Softplus)]
public partial class GSosD;

[CouplingFlow(Dim = 3, Layers = 2, Hidden = [8], Coupling = CouplingKind.DeepSigmoidal, SigmoidUnits = 4, SigmoidLayers = 2)]
public partial class GDsf;

[CouplingFlow<double>(Dim = 4, Layers = 2, Hidden = [8], Coupling = CouplingKind.DeepSigmoidal, SigmoidUnits = 5, SigmoidLayers = 2, Mask = MaskKind.Parity, Activation = Activation.Elu)]
public partial class GDsfD;

[CouplingFlow(Dim = 4, Layers = 3, Hidden = [8], Coupling = CouplingKind.Spline, Bins = 5, Bound = 2)]
public partial class GSpline;

[CouplingFlow<double>(Dim = 3, Layers = 3, Hidden = [6, 5], Coupling = CouplingKind.Spline, Bins = 6, Bound = 2.5, Mask = MaskKind.SingleCoordinate, Activation = Activation.Silu)]
public partial class GSplineD;

// ---- conditional (ContextDim = 2)

[CouplingFlow(Dim = 3, Hidden = [8], ContextDim = 2)]
[AffineCoupling, SplineCoupling(Bins = 4, Bound = 2), AdditiveCoupling]
public partial class GCond;

[CouplingFlow<double>(Dim = 3, Hidden = [8], ContextDim = 2, Activation = Activation.Relu)]
[SplineCoupling(Bins = 5), DeepSigmoidalCoupling(SigmoidUnits = 4, SigmoidLayers = 2), AffineCoupling(Clamp = 0)]
public partial class GCondD;

[CouplingFlow(Dim = 4, Hidden = [6, 5], ContextDim = 2, Activation = Activation.Silu)]
[DeepSigmoidalCoupling(SigmoidUnits = 3, SigmoidLayers = 2), SumOfSquaresCoupling(Degree = 2, Squares = 2, Mask = MaskKind.Parity)]
public partial class GCondDsf;

// Conditional with ActNorm in a uniform stack.
[CouplingFlow<double>(Dim = 4, Layers = 2, Hidden = [8], ContextDim = 2, Coupling = CouplingKind.SumOfSquares, Degree = 1, Squares = 2, ActNorm = true, Activation = Activation.Gelu)]
public partial class GCondSosD;

// ---- ActNorm, invertible linear, permutations

[CouplingFlow(Dim = 4, Layers = 3, Hidden = [8], ActNorm = true)]
public partial class GActNorm;

[CouplingFlow<double>(Dim = 3, Layers = 3, Hidden = [8], ActNorm = true, Coupling = CouplingKind.Spline, Bins = 4, Activation = Activation.Gelu)]
public partial class GActNormD;

// Invertible linear layers with their seeded permutation P (the default Permute = true).
[CouplingFlow(Dim = 4, Layers = 3, Hidden = [8], InvertibleLinear = true, Seed = 3)]
public partial class GLinear;

// Invertible linear without P (Permute = false) and with an explicit seed.
[CouplingFlow<double>(Dim = 4, Hidden = [8])]
[InvertibleLinear(Permute = false), AffineCoupling, InvertibleLinear(Seed = 9), AdditiveCoupling(Mask = MaskKind.Parity)]
public partial class GLinearD;

// Reverse, seeded random and explicit-order permutations between couplings.
[CouplingFlow(Dim = 4, Hidden = [8], Activation = Activation.Relu)]
[AffineCoupling, Permute(PermutationKind.Reverse), AffineCoupling, Permute(PermutationKind.Random, Seed = 7), AdditiveCoupling, Permute(3, 0, 2, 1), SplineCoupling(Bins = 4)]
public partial class GPermute;

// Uniform stack with random permutations from the flow's seed.
[CouplingFlow<double>(Dim = 5, Layers = 4, Hidden = [8], Permutation = PermutationKind.Random, Seed = 11, Mask = MaskKind.Parity)]
public partial class GPermuteD;

// ---- heterogeneous explicit stacks: every layer kind, per-layer hidden widths, activations and masks

[CouplingFlow(Dim = 5, Hidden = [7, 3], Activation = Activation.Gelu, Seed = 4)]
[ActNorm, InvertibleLinear, AffineCoupling(Mask = MaskKind.Parity)]
[Permute(PermutationKind.Reverse)]
[AdditiveCoupling(MaskPattern = "11000", Hidden = [])]
[SplineCoupling(Bins = 3, Bound = 1.5, Activation = Activation.Softplus)]
[Permute(PermutationKind.Random)]
[SumOfSquaresCoupling(Degree = 1, Squares = 2, Mask = MaskKind.SingleCoordinate, Coordinate = 4, Hidden = [5])]
[DeepSigmoidalCoupling(SigmoidUnits = 3, SigmoidLayers = 2, MaskPattern = "01010", Activation = Activation.Elu)]
[AffineCoupling(Clamp = 0, Activation = Activation.Silu, Mask = MaskKind.SingleCoordinate, Coordinate = 2)]
public partial class GHetero;

[CouplingFlow<double>(Dim = 5, Hidden = [7, 3], Activation = Activation.Gelu, Seed = 4)]
[ActNorm, InvertibleLinear, AffineCoupling(Mask = MaskKind.Parity)]
[Permute(PermutationKind.Reverse)]
[AdditiveCoupling(MaskPattern = "11000", Hidden = [])]
[SplineCoupling(Bins = 3, Bound = 1.5, Activation = Activation.Softplus)]
[Permute(PermutationKind.Random)]
[SumOfSquaresCoupling(Degree = 1, Squares = 2, Mask = MaskKind.SingleCoordinate, Coordinate = 4, Hidden = [5])]
[DeepSigmoidalCoupling(SigmoidUnits = 3, SigmoidLayers = 2, MaskPattern = "01010", Activation = Activation.Elu)]
[AffineCoupling(Clamp = 0, Activation = Activation.Silu, Mask = MaskKind.SingleCoordinate, Coordinate = 2)]
public partial class GHeteroD;

// ---- conditioners without a hidden layer (Hidden = [])

[CouplingFlow(Dim = 3, Hidden = [])]
[AffineCoupling, SplineCoupling(Bins = 4), SumOfSquaresCoupling]
public partial class GNoHidden;

[CouplingFlow<double>(Dim = 3, Hidden = [])]
[DeepSigmoidalCoupling(SigmoidUnits = 3, SigmoidLayers = 2), AdditiveCoupling, AffineCoupling]
public partial class GNoHiddenD;

// ---- wide models: more than 16 transformed / kept coordinates or context inputs (table loops, not unrolled code)

// Dim 36: 18 kept and 18 transformed by the halves couplings, 18 by the parity one; ActNorm, LU and a random permutation over 36.
[CouplingFlow(Dim = 36, Hidden = [8], Seed = 2)]
[ActNorm, InvertibleLinear, AffineCoupling, Permute(PermutationKind.Random), SplineCoupling(Bins = 3), AdditiveCoupling(Mask = MaskKind.Parity)]
public partial class GWide;

// Dim 34: 17 transformed by each halves coupling; a single-coordinate coupling keeps 33.
[CouplingFlow<double>(Dim = 34, Hidden = [6])]
[SplineCoupling(Bins = 3), DeepSigmoidalCoupling(SigmoidUnits = 3, SigmoidLayers = 2), SumOfSquaresCoupling(Degree = 1, Squares = 2), AffineCoupling(Mask = MaskKind.SingleCoordinate, Coordinate = 5)]
public partial class GWideD;

// Context 20 feeds every conditioner.
[CouplingFlow(Dim = 3, Hidden = [8], ContextDim = 20, Activation = Activation.Softplus)]
[AffineCoupling, SplineCoupling(Bins = 4), DeepSigmoidalCoupling(SigmoidUnits = 3)]
public partial class GWideContext;

[CouplingFlow<double>(Dim = 4, Layers = 2, Hidden = [8], ContextDim = 18, Coupling = CouplingKind.Additive, Activation = Activation.Tanh)]
public partial class GWideContextD;
