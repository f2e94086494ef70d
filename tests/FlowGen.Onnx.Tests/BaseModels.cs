// Test models for the base distributions (docs/model.md §11) and the sum-of-squares coupling's bounded form at a
// non-default Bound: written by hand (not by make_models.py, which keeps the layer-kind models of Models.cs). Every base,
// float and double, conditional and unconditional; the mixture in both forms (learnable weights and diagonal scales,
// FlowGMM), with fixed means or scales, and with one component; the Student-t with learnable and fixed ν, small and large.
using FlowGen;

namespace FlowGen.Onnx.Tests.Models;

[CouplingFlow(Dim = 3, Hidden = [8], Activation = Activation.Tanh, Seed = 11)]
[GaussianBase]
[SplineCoupling(Bins = 5, Bound = 2)]
[AffineCoupling(Clamp = 2, Mask = MaskKind.Parity)]
public partial class GaussianBaseF0;

[CouplingFlow<double>(Dim = 4, Hidden = [6, 6], Activation = Activation.Silu, ContextDim = 2, Seed = 12)]
[GaussianBase]
[ActNorm, AffineCoupling(Clamp = 0)]
[InvertibleLinear]
[SplineCoupling(Bins = 3, Bound = 2.5)]
public partial class GaussianBaseD1;

[CouplingFlow(Dim = 2, Hidden = [10], Activation = Activation.Relu, ContextDim = 1, Seed = 13)]
[GaussianMixtureBase(Components = 3)]
[SplineCoupling(Bins = 6, Bound = 2)]
[AffineCoupling(Clamp = 1.5)]
public partial class MixtureBaseF0;

[CouplingFlow<double>(Dim = 4, Hidden = [7], Activation = Activation.Elu, Seed = 14)]
[GaussianMixtureBase(Components = 4, FlowGmm = true, MeanSpread = 2)]
[AffineCoupling(Clamp = 0), InvertibleLinear]
[AdditiveCoupling(Mask = MaskKind.Parity)]
public partial class MixtureBaseD1;

[CouplingFlow(Dim = 5, Hidden = [], Activation = Activation.Tanh, ContextDim = 2, Seed = 15)]
[GaussianMixtureBase(Components = 5, FlowGmm = true, LearnableMeans = false, MeanSpread = 3)]
[SplineCoupling(Bins = 4, Bound = 3, Mask = MaskKind.SingleCoordinate)]
[Permute(PermutationKind.Reverse)]
[AffineCoupling(Clamp = 2)]
public partial class MixtureBaseF2;

[CouplingFlow<double>(Dim = 3, Hidden = [5], Activation = Activation.Gelu, ContextDim = 1, Seed = 16)]
[GaussianMixtureBase(Components = 1)]
[SplineCoupling(Bins = 4, Bound = 2)]
public partial class MixtureBaseD3;

[CouplingFlow(Dim = 3, Hidden = [9], Activation = Activation.Softplus, Seed = 17)]
[GaussianMixtureBase(Components = 6, LearnableScales = false)]
[ActNorm, AffineCoupling(Clamp = 0)]
[SplineCoupling(Bins = 3, Bound = 2.5, Mask = MaskKind.Parity)]
public partial class MixtureBaseF4;

[CouplingFlow<double>(Dim = 2, Hidden = [6], Activation = Activation.Tanh, ContextDim = 2, Seed = 18)]
[GaussianMixtureBase(Components = 2, LearnableMeans = false)]
[DeepSigmoidalCoupling(SigmoidUnits = 4, SigmoidLayers = 1)]
[AffineCoupling(Clamp = 0)]
public partial class MixtureBaseForwardD5;

[CouplingFlow(Dim = 3, Hidden = [8], Activation = Activation.Silu, ContextDim = 1, Seed = 19)]
[StudentTBase(DegreesOfFreedom = 4)]
[SplineCoupling(Bins = 5, Bound = 2.5)]
[AffineCoupling(Clamp = 2, Mask = MaskKind.Parity)]
public partial class StudentTBaseF0;

[CouplingFlow<double>(Dim = 5, Hidden = [6], Activation = Activation.Relu, Seed = 20)]
[StudentTBase(DegreesOfFreedom = 0.7, LearnableDegreesOfFreedom = false)]
[AffineCoupling(Clamp = 0), InvertibleLinear]
[SplineCoupling(Bins = 4, Bound = 2)]
public partial class StudentTBaseD1;

[CouplingFlow(Dim = 4, Hidden = [6], Activation = Activation.Elu, Seed = 21)]
[StudentTBase(DegreesOfFreedom = 30, LearnableDegreesOfFreedom = false)]
[SumOfSquaresCoupling(Degree = 2, Squares = 2, Bound = 1.5)]
[AffineCoupling(Clamp = 0)]
public partial class StudentTBaseForwardF2;

[CouplingFlow<double>(Dim = 2, Hidden = [5], Activation = Activation.Softplus, ContextDim = 3, Seed = 22)]
[StudentTBase(DegreesOfFreedom = 2.5)]
[ActNorm, SplineCoupling(Bins = 7, Bound = 3)]
public partial class StudentTBaseD3;

// the sum-of-squares coupling's bounded form (stack specification version 2) at non-default bounds (the default is 3)
[CouplingFlow(Dim = 4, Hidden = [7], Activation = Activation.Tanh, Mask = MaskKind.Parity, Seed = 23)]
[SumOfSquaresCoupling(Degree = 2, Squares = 2, Bound = 1)]
[SumOfSquaresCoupling(Degree = 3, Squares = 1, Bound = 5)]
public partial class SumOfSquaresBoundF0;

[CouplingFlow<double>(Dim = 3, Hidden = [6], Activation = Activation.Silu, ContextDim = 1, Seed = 24)]
[SumOfSquaresCoupling(Degree = 1, Squares = 3, Bound = 0.5)]
[AffineCoupling(Clamp = 0)]
[SumOfSquaresCoupling(Degree = 2, Squares = 2, Bound = 8)]
public partial class SumOfSquaresBoundD1;

/// <summary>The models above.</summary>
public static class BaseCatalog
{
    public static readonly TestModel[] All =
    {
        new("diagonal_gaussian", "GaussianBaseF0", false, true, seed => new GaussianBaseF0(seed)),
        new("diagonal_gaussian", "GaussianBaseD1", true, true, seed => new GaussianBaseD1(seed)),
        new("gaussian_mixture", "MixtureBaseF0", false, true, seed => new MixtureBaseF0(seed)),
        new("gaussian_mixture", "MixtureBaseD1", true, true, seed => new MixtureBaseD1(seed)),
        new("gaussian_mixture", "MixtureBaseF2", false, true, seed => new MixtureBaseF2(seed)),
        new("gaussian_mixture", "MixtureBaseD3", true, true, seed => new MixtureBaseD3(seed)),
        new("gaussian_mixture", "MixtureBaseF4", false, true, seed => new MixtureBaseF4(seed)),
        new("gaussian_mixture", "MixtureBaseForwardD5", true, false, seed => new MixtureBaseForwardD5(seed)),
        new("student_t", "StudentTBaseF0", false, true, seed => new StudentTBaseF0(seed)),
        new("student_t", "StudentTBaseD1", true, true, seed => new StudentTBaseD1(seed)),
        new("student_t", "StudentTBaseForwardF2", false, false, seed => new StudentTBaseForwardF2(seed)),
        new("student_t", "StudentTBaseD3", true, true, seed => new StudentTBaseD3(seed)),
        new("sum_of_squares_bound", "SumOfSquaresBoundF0", false, false, seed => new SumOfSquaresBoundF0(seed)),
        new("sum_of_squares_bound", "SumOfSquaresBoundD1", true, false, seed => new SumOfSquaresBoundD1(seed)),
    };
}
