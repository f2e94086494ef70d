using FlowGen;

namespace FlowGen.Tests.Models;

// Models of the objective, variational-inference and importance-sampling tests (ObjectiveTests, VariationalTests).

[CouplingFlow<double>(Dim = 2, Layers = 4, Hidden = [16])]
public partial class ObjSmall2DDouble;

[CouplingFlow<double>(Dim = 2, Layers = 3, Hidden = [8], ContextDim = 1)]
public partial class ObjConditional2DDouble;
