using FlowGen;

namespace FlowGen.Tests.Models;

// Models compiled into the test assembly by the generator running in the normal build (the oracle suite compiles its
// random models in memory instead).

[CouplingFlow(Dim = 2, Layers = 4, Hidden = [32])]
public partial class Tiny2D;

[CouplingFlow<double>(Dim = 2, Layers = 6, Hidden = [32, 32])]
public partial class Tiny2DDouble;

[CouplingFlow(Dim = 3, Layers = 4, Hidden = [16], ActNorm = true)]
public partial class WithActNorm3D;

[CouplingFlow(Dim = 2, Layers = 4, Hidden = [16], ContextDim = 1)]
public partial class Conditional2D;

[CouplingFlow(Dim = 4, Layers = 6, Hidden = [32], InvertibleLinear = true, Mask = MaskKind.SingleCoordinate)]
public partial class SingleCoordinate4D;

[CouplingFlow(Dim = 8, Layers = 12)]
public partial class R8;

// One coupling with no hidden layer: the conditioner is one linear layer, so with its weights zero the transformer's
// parameters are exactly the output bias (tests set them directly). Keep x0, transform x1.
[CouplingFlow(Dim = 2, Hidden = [])]
[SumOfSquaresCoupling(Degree = 3, Squares = 2)]
public partial class OneSos;

[CouplingFlow<double>(Dim = 2, Hidden = [])]
[SumOfSquaresCoupling(Degree = 3, Squares = 2)]
public partial class OneSosDouble;

[CouplingFlow(Dim = 2, Hidden = [])]
[DeepSigmoidalCoupling(SigmoidUnits = 6, SigmoidLayers = 2)]
public partial class OneDsf;

[CouplingFlow<double>(Dim = 2, Hidden = [])]
[DeepSigmoidalCoupling(SigmoidUnits = 6, SigmoidLayers = 2)]
public partial class OneDsfDouble;

[CouplingFlow(Dim = 2, Hidden = [])]
[SplineCoupling(Bins = 7, Bound = 2.5)]
public partial class OneSpline;

[CouplingFlow<double>(Dim = 2, Hidden = [])]
[SplineCoupling(Bins = 7, Bound = 2.5)]
public partial class OneSplineDouble;
