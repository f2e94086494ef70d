namespace FlowGen.FlowGmm;

/// <summary>The penguins' flow: 4 standardised features, FlowGMM's base with one component per species.</summary>
[CouplingFlow<double>(Dim = 4, Layers = 6, Hidden = [32, 32])]
[GaussianMixtureBase(Components = 3, FlowGmm = true, MeanSpread = 2)]
public partial class PenguinFlow;

/// <summary>The two-moons flow: 2-D, one component per moon.</summary>
[CouplingFlow<double>(Dim = 2, Layers = 8, Hidden = [32, 32])]
[GaussianMixtureBase(Components = 2, FlowGmm = true, MeanSpread = 2)]
public partial class MoonsFlow;
