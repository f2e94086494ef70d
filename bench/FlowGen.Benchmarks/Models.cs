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

// Every layer kind against PyTorch (issue 17): Dim 8, 12 couplings of R8's shape (alternating halves, Hidden {64, 64},
// tanh), float. Their conditioners' last layers are perturbed like R8's (BenchSetup.Perturb), and ActNorm / LU
// parameters are set to small non-zero values, so every layer does real work.

/// <summary>S8: R8's stack with rational-quadratic spline couplings (8 bins, tails: identity outside [−4, 4]).</summary>
[CouplingFlow(Dim = 8, Layers = 12, Coupling = CouplingKind.Spline, Bins = 8, Bound = 4)]
public partial class S8Float;

/// <summary>Q8: R8's stack with sum-of-squares couplings (the defaults: degree, squares, bound).</summary>
[CouplingFlow(Dim = 8, Layers = 12, Coupling = CouplingKind.SumOfSquares)]
public partial class Q8Float;

/// <summary>D8: R8's stack with deep-sigmoidal couplings (the defaults: units, layers).</summary>
[CouplingFlow(Dim = 8, Layers = 12, Coupling = CouplingKind.DeepSigmoidal)]
public partial class D8Float;

/// <summary>G8: Glow-like R8: ActNorm, invertible linear (LU) and an affine coupling per step.</summary>
[CouplingFlow(Dim = 8, Layers = 12, ActNorm = true, InvertibleLinear = true)]
public partial class G8Float;
