using FlowGen;

namespace FlowGen.Tests.Defects;

// Models of DefectRegressionTests: one per coupling kind and precision (two couplings, so that every coordinate is
// transformed), with ActNorm, invertible linear and permutation layers mixed in so that the inverse log-det has
// contributions from every layer kind; a conditional model with every coupling kind; and a deep sigmoidal coupling
// without hidden layer (its transformer parameters are exactly the output bias) for the softplus-underflow sweep.

[CouplingFlow(Dim = 3, Hidden = [8])]
[AffineCoupling, Permute(PermutationKind.Reverse), AffineCoupling(Clamp = 0, Mask = MaskKind.Parity)]
public partial class DAffine;

[CouplingFlow<double>(Dim = 3, Hidden = [8])]
[AffineCoupling, Permute(PermutationKind.Reverse), AffineCoupling(Clamp = 0, Mask = MaskKind.Parity)]
public partial class DAffineD;

[CouplingFlow(Dim = 3, Hidden = [8])]
[ActNorm, AdditiveCoupling, InvertibleLinear, AdditiveCoupling(Mask = MaskKind.Parity)]
public partial class DAdditive;

[CouplingFlow<double>(Dim = 3, Hidden = [8])]
[ActNorm, AdditiveCoupling, InvertibleLinear, AdditiveCoupling(Mask = MaskKind.Parity)]
public partial class DAdditiveD;

[CouplingFlow(Dim = 3, Hidden = [8])]
[SumOfSquaresCoupling(Degree = 2, Squares = 2), Permute(PermutationKind.Reverse), SumOfSquaresCoupling(Degree = 1, Squares = 3)]
public partial class DSos;

[CouplingFlow<double>(Dim = 3, Hidden = [8])]
[SumOfSquaresCoupling(Degree = 2, Squares = 2), Permute(PermutationKind.Reverse), SumOfSquaresCoupling(Degree = 1, Squares = 3)]
public partial class DSosD;

[CouplingFlow(Dim = 3, Hidden = [8])]
[DeepSigmoidalCoupling(SigmoidUnits = 3, SigmoidLayers = 2), DeepSigmoidalCoupling(SigmoidUnits = 4)]
public partial class DDsf;

[CouplingFlow<double>(Dim = 3, Hidden = [8])]
[DeepSigmoidalCoupling(SigmoidUnits = 3, SigmoidLayers = 2), DeepSigmoidalCoupling(SigmoidUnits = 4)]
public partial class DDsfD;

[CouplingFlow(Dim = 3, Hidden = [8])]
[SplineCoupling(Bins = 5, Bound = 2), InvertibleLinear, SplineCoupling(Bins = 6, Bound = 3, Mask = MaskKind.Parity)]
public partial class DSpline;

[CouplingFlow<double>(Dim = 3, Hidden = [8])]
[SplineCoupling(Bins = 5, Bound = 2), InvertibleLinear, SplineCoupling(Bins = 6, Bound = 3, Mask = MaskKind.Parity)]
public partial class DSplineD;

[CouplingFlow(Dim = 3, Hidden = [8], ContextDim = 2)]
[AffineCoupling, AdditiveCoupling, SumOfSquaresCoupling(Degree = 1, Squares = 2), DeepSigmoidalCoupling(SigmoidUnits = 3), SplineCoupling(Bins = 4)]
public partial class DConditional;

[CouplingFlow<double>(Dim = 3, Hidden = [8], ContextDim = 2)]
[AffineCoupling, AdditiveCoupling, SumOfSquaresCoupling(Degree = 1, Squares = 2), DeepSigmoidalCoupling(SigmoidUnits = 3), SplineCoupling(Bins = 4)]
public partial class DConditionalD;

// One deep sigmoidal coupling without hidden layer (like OneDsf): keep x0, transform x1; θ = the output bias.
[CouplingFlow(Dim = 2, Hidden = [])]
[DeepSigmoidalCoupling(SigmoidUnits = 3, SigmoidLayers = 2)]
public partial class DsfUnderflow;

[CouplingFlow<double>(Dim = 2, Hidden = [])]
[DeepSigmoidalCoupling(SigmoidUnits = 3, SigmoidLayers = 2)]
public partial class DsfUnderflowD;
