using FlowGen;

namespace FlowGen.Benchmarks;

// The reference models of issue 5, in float and double. The generator emits each one at build time.

/// <summary>R8: Dim 8, 12 affine couplings, conditioners 4 → 64 → 64 → 8 (tanh), 60 000 parameters.</summary>
[CouplingFlow(Dim = 8, Layers = 12)]
public partial class R8Float;

/// <summary>R8 in double.</summary>
[CouplingFlow<double>(Dim = 8, Layers = 12)]
public partial class R8Double;

/// <summary>R2: Dim 2, 8 affine couplings, conditioners 1 → 64 → 64 → 2 (tanh), 35 344 parameters.</summary>
[CouplingFlow(Dim = 2, Layers = 8)]
public partial class R2Float;

/// <summary>R2 in double.</summary>
[CouplingFlow<double>(Dim = 2, Layers = 8)]
public partial class R2Double;

/// <summary>L64: Dim 64, 8 affine couplings, conditioners 32 → 256 → 256 → 64 (tanh).</summary>
[CouplingFlow(Dim = 64, Layers = 8, Hidden = [256, 256])]
public partial class L64Float;

/// <summary>L64 in double.</summary>
[CouplingFlow<double>(Dim = 64, Layers = 8, Hidden = [256, 256])]
public partial class L64Double;
