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

[CouplingFlow(Dim = 2, Layers = 4, Hidden = [16], Context = 1)]
public partial class Conditional2D;

[CouplingFlow(Dim = 4, Layers = 6, Hidden = [32], InvertibleLinear = true, Mask = MaskKind.SingleCoordinate)]
public partial class SingleCoordinate4D;

[CouplingFlow(Dim = 8, Layers = 12)]
public partial class R8;
