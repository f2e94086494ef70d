using FlowGen;

namespace FlowGen.Tests.Models;

// Flows with each base distribution (docs/model.md §11), compiled by the generator in the normal build. The oracle of the
// bases (BaseTests) also compiles random configurations in memory.

[CouplingFlow<double>(Dim = 2, Layers = 3, Hidden = [8])]
[GaussianBase]
public partial class GaussianBase2D;

[CouplingFlow<double>(Dim = 2, Layers = 3, Hidden = [8])]
[GaussianMixtureBase(Components = 3)]
public partial class MixtureBase2D;

[CouplingFlow<double>(Dim = 2, Layers = 3, Hidden = [8])]
[GaussianMixtureBase(Components = 3, FlowGmm = true)]
public partial class FlowGmmBase2D;

[CouplingFlow<double>(Dim = 2, Layers = 3, Hidden = [8])]
[StudentTBase(DegreesOfFreedom = 4)]
public partial class StudentTBase2D;

[CouplingFlow(Dim = 3, Layers = 3, Hidden = [8])]
[GaussianMixtureBase(Components = 4)]
public partial class MixtureBase3DFloat;

[CouplingFlow(Dim = 2, Layers = 3, Hidden = [8], ContextDim = 1)]
[GaussianMixtureBase(Components = 2, FlowGmm = true)]
public partial class ConditionalFlowGmm2D;

[CouplingFlow(Dim = 3, Layers = 2, Hidden = [8], ActNorm = true)]
[StudentTBase(LearnableDegreesOfFreedom = false)]
public partial class StudentTFixed3DFloat;

[CouplingFlow<double>(Dim = 2, Layers = 8, Hidden = [32, 32])]
[GaussianMixtureBase(Components = 3, FlowGmm = true, MeanSpread = 2)]
public partial class SemiSupervised2D;

[CouplingFlow<double>(Dim = 2, Layers = 8, Hidden = [32, 32])]
[GaussianMixtureBase(Components = 3, FlowGmm = true, MeanSpread = 3, LearnableScales = false)]
public partial class SemiSupervisedFixedScale2D;

[CouplingFlow<double>(Dim = 2, Layers = 3, Hidden = [8])]
[GaussianMixtureBase(Components = 3, FlowGmm = true, LearnableMeans = false, LearnableScales = false)]
public partial class FixedFlowGmm2D;

[CouplingFlow<double>(Dim = 2, Layers = 2, Hidden = [4])]
[GaussianMixtureBase(Components = 5, FlowGmm = true)]
public partial class ManyComponents2D;

[CouplingFlow<double>(Dim = 2, Layers = 2, Hidden = [4])]
[GaussianMixtureBase(Components = 5, FlowGmm = true, MeanSpread = 2)]
public partial class ManyComponents2DSpread;

[CouplingFlow<double>(Dim = 2, Layers = 8, Hidden = [32, 32])]
[GaussianMixtureBase(Components = 3, FlowGmm = true, LearnableScales = false)]
public partial class SemiSupervisedSimplex2D;

[CouplingFlow<double>(Dim = 2, Layers = 8, Hidden = [32, 32])]
[GaussianMixtureBase(Components = 3, FlowGmm = true)]
public partial class SemiSupervisedSimplexScale2D;
