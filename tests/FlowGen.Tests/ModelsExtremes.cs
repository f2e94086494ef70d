using FlowGen;

namespace FlowGen.Tests.Models.Extremes;

// Small models, one per layer kind and precision, for the numeric-extremes and concurrency tests. Two couplings each so
// that every coordinate is transformed once; Hidden = [8] keeps the generated code small.

[CouplingFlow(Dim = 3, Hidden = [8])]
[AffineCoupling, AffineCoupling]
public partial class XAffine;

[CouplingFlow<double>(Dim = 3, Hidden = [8])]
[AffineCoupling, AffineCoupling]
public partial class XAffineD;

[CouplingFlow(Dim = 3, Hidden = [8], Activation = Activation.Relu)]
[AdditiveCoupling, AdditiveCoupling]
public partial class XAdditive;

[CouplingFlow<double>(Dim = 3, Hidden = [8], Activation = Activation.Relu)]
[AdditiveCoupling, AdditiveCoupling]
public partial class XAdditiveD;

[CouplingFlow(Dim = 3, Hidden = [8])]
[SumOfSquaresCoupling(Degree = 2, Squares = 2), SumOfSquaresCoupling(Degree = 3, Squares = 2)]
public partial class XSos;

[CouplingFlow<double>(Dim = 3, Hidden = [8])]
[SumOfSquaresCoupling(Degree = 2, Squares = 2), SumOfSquaresCoupling(Degree = 3, Squares = 2)]
public partial class XSosD;

[CouplingFlow(Dim = 3, Hidden = [8])]
[DeepSigmoidalCoupling(SigmoidUnits = 4, SigmoidLayers = 2), DeepSigmoidalCoupling(SigmoidUnits = 4)]
public partial class XDsf;

[CouplingFlow<double>(Dim = 3, Hidden = [8])]
[DeepSigmoidalCoupling(SigmoidUnits = 4, SigmoidLayers = 2), DeepSigmoidalCoupling(SigmoidUnits = 4)]
public partial class XDsfD;

[CouplingFlow(Dim = 3, Hidden = [8])]
[SplineCoupling(Bins = 5, Bound = 3), SplineCoupling(Bins = 5, Bound = 3)]
public partial class XSpline;

[CouplingFlow<double>(Dim = 3, Hidden = [8])]
[SplineCoupling(Bins = 5, Bound = 3), SplineCoupling(Bins = 5, Bound = 3)]
public partial class XSplineD;

// ActNorm, invertible linear and permutations around additive couplings with no hidden layer (Hidden = []).
[CouplingFlow(Dim = 3, Hidden = [])]
[ActNorm, InvertibleLinear, AdditiveCoupling, Permute(PermutationKind.Random), ActNorm, InvertibleLinear(Permute = false), AdditiveCoupling, Permute(2, 0, 1)]
public partial class XLinear;

[CouplingFlow<double>(Dim = 3, Hidden = [])]
[ActNorm, InvertibleLinear, AdditiveCoupling, Permute(PermutationKind.Random), ActNorm, InvertibleLinear(Permute = false), AdditiveCoupling, Permute(2, 0, 1)]
public partial class XLinearD;

// Conditional: every conditioner sees a 2-wide context.
[CouplingFlow(Dim = 3, Hidden = [8], ContextDim = 2, Activation = Activation.Gelu)]
[AffineCoupling, SplineCoupling(Bins = 4), SumOfSquaresCoupling(Degree = 1, Squares = 1)]
public partial class XConditional;

[CouplingFlow<double>(Dim = 3, Hidden = [8], ContextDim = 2, Activation = Activation.Gelu)]
[AffineCoupling, SplineCoupling(Bins = 4), SumOfSquaresCoupling(Degree = 1, Squares = 1)]
public partial class XConditionalD;
