using FlowGen;

namespace FlowGen.Tests.Models;

// Models of the objective, variational-inference and importance-sampling tests (ObjectiveTests, VariationalTests).

[CouplingFlow<double>(Dim = 2, Layers = 4, Hidden = [16])]
public partial class ObjSmall2DDouble;

[CouplingFlow<double>(Dim = 2, Layers = 3, Hidden = [8], ContextDim = 1)]
public partial class ObjConditional2DDouble;

[CouplingFlow<double>(Dim = 2, Layers = 8, Hidden = [32, 32], Clamp = 3)]
public partial class Vi2DAffine;

[CouplingFlow<double>(Dim = 2, Layers = 6, Hidden = [32, 32], Coupling = CouplingKind.Spline, Bins = 8, Bound = 5)]
public partial class Vi2DSpline;

[CouplingFlow<double>(Dim = 2, Layers = 4, Hidden = [16], ContextDim = 1, Clamp = 3)]
public partial class Vi2DConditional;

[CouplingFlow<double>(Dim = 10, Layers = 2, Hidden = [4], Clamp = 0.5)]
public partial class Funnel10Small;

[CouplingFlow<double>(Dim = 10, Layers = 8, Hidden = [64, 64], Clamp = 5, Permutation = PermutationKind.Random)]
public partial class Funnel10Large;
