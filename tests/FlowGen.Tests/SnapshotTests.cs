using System.Linq;
using FlowGen.Tests.Infrastructure;

namespace FlowGen.Tests;

/// <summary>
/// The generated source of representative models, compared with committed snapshots (Snapshots/*.verified.cs), so that
/// any change to the emitted code — including formatting and comments — is seen and reviewed. Each snapshot must also compile.
/// </summary>
public class SnapshotTests
{
    private static void Check(string source, string name)
    {
        GeneratorOutput result = GeneratorHarness.Run("using FlowGen;\n" + source);
        result.AssertNoGeneratorErrors();
        Assert.Empty(result.CompilationErrors);
        string generated = Assert.Single(result.AllGeneratedSources);
        Snapshot.Verify(generated, name);
    }

    [Fact]
    public void R8() => Check("namespace Models;\n[CouplingFlow(Dim = 8, Layers = 12)]\npublic partial class R8 { }", "R8");

    [Fact]
    public void Heterogeneous() => Check("""
        namespace Models.Mixed;
        [CouplingFlow<double>(Dim = 5, Hidden = [7, 3], Activation = Activation.Gelu, Context = 2, Seed = 11)]
        [ActNorm, InvertibleLinear, AffineCoupling(Mask = MaskKind.Parity)]
        [Permute(PermutationKind.Reverse)]
        [AdditiveCoupling(MaskPattern = "11000", Hidden = [])]
        [Permute(PermutationKind.Random)]
        [AffineCoupling(Clamp = 0, Activation = Activation.Silu, Mask = MaskKind.SingleCoordinate, Coordinate = 2)]
        internal partial class Heterogeneous { }
        """, "Heterogeneous");

    [Fact]
    public void NestedGlobalNamespace() => Check("""
        public partial class Outer
        {
            [CouplingFlow(Dim = 3, Layers = 3, Mask = MaskKind.Parity, Hidden = [16], Activation = Activation.Relu, Permutation = PermutationKind.Random, Seed = 5)]
            private sealed partial class Small { }
        }
        """, "NestedGlobalNamespace");

    [Fact]
    public void SumOfSquares() => Check("""
        namespace Models;
        [CouplingFlow(Dim = 3, Hidden = [8], Context = 1)]
        [SumOfSquaresCoupling(Degree = 2, Squares = 2), Permute(PermutationKind.Reverse), SumOfSquaresCoupling(Degree = 1, Squares = 3, Mask = MaskKind.SingleCoordinate)]
        public partial class SosFlow { }
        """, "SumOfSquares");

    [Fact]
    public void DeepSigmoidal() => Check("""
        namespace Models;
        [CouplingFlow<double>(Dim = 4, Hidden = [8], Activation = Activation.Softplus)]
        [DeepSigmoidalCoupling(SigmoidUnits = 4, SigmoidLayers = 2), ActNorm, DeepSigmoidalCoupling(SigmoidUnits = 3, Mask = MaskKind.Checkerboard)]
        public partial class DsfFlow { }
        """, "DeepSigmoidal");

    [Fact]
    public void Spline() => Check("""
        namespace Models;
        [CouplingFlow(Dim = 4, Hidden = [8, 8], Activation = Activation.Elu)]
        [SplineCoupling(Bins = 5, Bound = 3), InvertibleLinear(Seed = 3), SplineCoupling(Bins = 8, Mask = MaskKind.SingleCoordinate, Coordinate = 1)]
        public partial class SplineFlow { }
        """, "Spline");
}
