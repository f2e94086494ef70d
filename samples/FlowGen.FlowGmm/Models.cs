namespace FlowGen.FlowGmm;

/// <summary>The penguins' flow: 4 standardised features, FlowGMM's base with one component per species, its means placed
/// 7.5 apart (the default) and its shared scale fixed at σ = 1.</summary>
[CouplingFlow<double>(Dim = 4, Layers = 6, Hidden = [32, 32])]
[GaussianMixtureBase(Components = 3, FlowGmm = true, LearnableScales = false)]
public partial class PenguinFlow;

/// <summary>The two-moons flow: 2-D, one component per moon, the means 7.5 apart (the default), learnable.</summary>
[CouplingFlow<double>(Dim = 2, Layers = 8, Hidden = [32, 32])]
[GaussianMixtureBase(Components = 2, FlowGmm = true)]
public partial class MoonsFlow;

/// <summary>The two-moons flow with the means fixed where they start (7.5 apart).</summary>
[CouplingFlow<double>(Dim = 2, Layers = 8, Hidden = [32, 32])]
[GaussianMixtureBase(Components = 2, FlowGmm = true, LearnableMeans = false)]
public partial class MoonsFixedMeansFlow;

/// <summary>The two-moons flow with the means fixed 7.5 apart and the scale fixed at σ = 1.</summary>
[CouplingFlow<double>(Dim = 2, Layers = 8, Hidden = [32, 32])]
[GaussianMixtureBase(Components = 2, FlowGmm = true, LearnableMeans = false, LearnableScales = false)]
public partial class MoonsFixedFlow;
