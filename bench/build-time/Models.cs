// Ten models for the build-time measurement (bench/build-time/run.sh): R8 and nine others covering every layer kind.
using FlowGen;

namespace BuildTime;

[CouplingFlow(Dim = 8, Layers = 12)]
public partial class R8;

[CouplingFlow<double>(Dim = 2, Layers = 6, Hidden = [32, 32])]
public partial class Tiny2DDouble;

[CouplingFlow(Dim = 4, Layers = 6, Hidden = [32], InvertibleLinear = true, Mask = MaskKind.SingleCoordinate)]
public partial class SingleCoordinate4D;

[CouplingFlow(Dim = 6, Layers = 8, Hidden = [64, 64], Coupling = CouplingKind.Spline, Bins = 8, ActNorm = true)]
public partial class Spline6;

[CouplingFlow(Dim = 4, Layers = 6, Hidden = [32, 32], Coupling = CouplingKind.SumOfSquares)]
public partial class Sos4;

[CouplingFlow<double>(Dim = 4, Layers = 6, Hidden = [32, 32], Coupling = CouplingKind.DeepSigmoidal, SigmoidLayers = 2)]
public partial class Dsf4;

[CouplingFlow(Dim = 16, Layers = 8, Hidden = [128, 128], Mask = MaskKind.Parity, Permutation = PermutationKind.Random, ContextDim = 3)]
public partial class Conditional16;

[CouplingFlow(Dim = 32, Layers = 8, Hidden = [64], Coupling = CouplingKind.Additive, ActNorm = true, InvertibleLinear = true)]
public partial class Additive32;

[CouplingFlow<double>(Dim = 5, Hidden = [7, 3], Activation = Activation.Gelu, ContextDim = 2, Seed = 11)]
[ActNorm, InvertibleLinear, AffineCoupling(Mask = MaskKind.Parity)]
[Permute(PermutationKind.Reverse)]
[AdditiveCoupling(MaskPattern = "11000", Hidden = [])]
[SplineCoupling(Bins = 6, Bound = 2.5)]
[Permute(PermutationKind.Random)]
[AffineCoupling(Clamp = 0, Activation = Activation.Silu, Mask = MaskKind.SingleCoordinate, Coordinate = 2)]
public partial class Heterogeneous;

[CouplingFlow(Dim = 64, Layers = 16, Hidden = [256, 256])]
public partial class R64;
