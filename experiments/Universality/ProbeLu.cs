// Probe models: Theorem 2's class with the LU layers' fixed permutation turned off (W = L·U). See ProbeLu.cs.
using System;
using System.Collections.Generic;
using System.Linq;
using FlowGen;

namespace Universality;

[CouplingFlow(Dim = 2, Hidden = [32, 32], Activation = Activation.Tanh, Mask = MaskKind.SingleCoordinate)]
[InvertibleLinear(Permute = false), AffineCoupling, InvertibleLinear(Permute = false), AffineCoupling]
public partial class AffineSCNoPerm_D2_L2;
[CouplingFlow(Dim = 2, Hidden = [32, 32], Activation = Activation.Tanh, Mask = MaskKind.SingleCoordinate)]
[InvertibleLinear(Permute = false), AffineCoupling, InvertibleLinear(Permute = false), AffineCoupling, InvertibleLinear(Permute = false), AffineCoupling, InvertibleLinear(Permute = false), AffineCoupling, InvertibleLinear(Permute = false), AffineCoupling, InvertibleLinear(Permute = false), AffineCoupling, InvertibleLinear(Permute = false), AffineCoupling, InvertibleLinear(Permute = false), AffineCoupling]
public partial class AffineSCNoPerm_D2_L8;
[CouplingFlow(Dim = 2, Hidden = [32, 32], Activation = Activation.Tanh, Mask = MaskKind.SingleCoordinate)]
[InvertibleLinear(Permute = false), AffineCoupling, InvertibleLinear(Permute = false), AffineCoupling, InvertibleLinear(Permute = false), AffineCoupling, InvertibleLinear(Permute = false), AffineCoupling, InvertibleLinear(Permute = false), AffineCoupling, InvertibleLinear(Permute = false), AffineCoupling, InvertibleLinear(Permute = false), AffineCoupling, InvertibleLinear(Permute = false), AffineCoupling, InvertibleLinear(Permute = false), AffineCoupling, InvertibleLinear(Permute = false), AffineCoupling, InvertibleLinear(Permute = false), AffineCoupling, InvertibleLinear(Permute = false), AffineCoupling, InvertibleLinear(Permute = false), AffineCoupling, InvertibleLinear(Permute = false), AffineCoupling, InvertibleLinear(Permute = false), AffineCoupling, InvertibleLinear(Permute = false), AffineCoupling]
public partial class AffineSCNoPerm_D2_L16;
[CouplingFlow(Dim = 4, Hidden = [32, 32], Activation = Activation.Tanh, Mask = MaskKind.SingleCoordinate)]
[InvertibleLinear(Permute = false), AffineCoupling, InvertibleLinear(Permute = false), AffineCoupling, InvertibleLinear(Permute = false), AffineCoupling, InvertibleLinear(Permute = false), AffineCoupling, InvertibleLinear(Permute = false), AffineCoupling, InvertibleLinear(Permute = false), AffineCoupling, InvertibleLinear(Permute = false), AffineCoupling, InvertibleLinear(Permute = false), AffineCoupling]
public partial class AffineSCNoPerm_D4_L8;
[CouplingFlow(Dim = 4, Hidden = [32, 32], Activation = Activation.Tanh, Mask = MaskKind.SingleCoordinate)]
[InvertibleLinear(Permute = false), AffineCoupling, InvertibleLinear(Permute = false), AffineCoupling, InvertibleLinear(Permute = false), AffineCoupling, InvertibleLinear(Permute = false), AffineCoupling, InvertibleLinear(Permute = false), AffineCoupling, InvertibleLinear(Permute = false), AffineCoupling, InvertibleLinear(Permute = false), AffineCoupling, InvertibleLinear(Permute = false), AffineCoupling, InvertibleLinear(Permute = false), AffineCoupling, InvertibleLinear(Permute = false), AffineCoupling, InvertibleLinear(Permute = false), AffineCoupling, InvertibleLinear(Permute = false), AffineCoupling, InvertibleLinear(Permute = false), AffineCoupling, InvertibleLinear(Permute = false), AffineCoupling, InvertibleLinear(Permute = false), AffineCoupling, InvertibleLinear(Permute = false), AffineCoupling]
public partial class AffineSCNoPerm_D4_L16;

public static class ProbeLu
{
    /// <summary>
    /// `--probe-lu`: is the non-monotone error of AffineSC (single-coordinate affine + LU) optimisation, conditioning or implementation?
    /// Compares the uniform-stack class (LU with a fixed seeded permutation P, as in the main table) with the same stack and P = I,
    /// on the map task, seed 0, the full budget; also reports which LU layers got a non-identity P.
    /// </summary>
    /// <summary>The stack with the library's default LU layers (seeded random P), as the main table used before issue 18.</summary>
    private static ICouplingFlow<float> Permuted(int d, int depth) => (d, depth) switch
    {
        (2, 2) => new AffineSCPerm_D2_L2(1), (2, 8) => new AffineSCPerm_D2_L8(1), (2, 16) => new AffineSCPerm_D2_L16(1),
        (4, 2) => new AffineSCPerm_D4_L2(1), (4, 8) => new AffineSCPerm_D4_L8(1), (4, 16) => new AffineSCPerm_D4_L16(1),
        _ => throw new ArgumentException($"no permuted AffineSC d={d} depth {depth}"),
    };

    public static int Run()
    {
        var b = Budget.Full;
        var cfg = new (int D, int L, Func<ICouplingFlow<float>> NoPerm)[]
        {
            (2, 2, () => new AffineSCNoPerm_D2_L2(1)),
            (2, 8, () => new AffineSCNoPerm_D2_L8(1)),
            (2, 16, () => new AffineSCNoPerm_D2_L16(1)),
            (4, 8, () => new AffineSCNoPerm_D4_L8(1)),
            (4, 16, () => new AffineSCNoPerm_D4_L16(1)),
        };
        var tests = new Dictionary<int, Program.MapTest> { [2] = Program.MapTestSet(2, b), [4] = Program.MapTestSet(4, b) };
        var results = new System.Collections.Concurrent.ConcurrentDictionary<(int, int, bool), MapRow>();
        var jobs = cfg.SelectMany(c => new[] { (c, true), (c, false) }).ToArray();
        System.Threading.Tasks.Parallel.ForEach(jobs, new System.Threading.Tasks.ParallelOptions { MaxDegreeOfParallelism = Environment.ProcessorCount }, j =>
        {
            var (c, perm) = j;
            results[(c.D, c.L, perm)] = perm ? Program.RunMap(Permuted(c.D, c.L), "AffineSC-P", c.D, c.L, 0, b, tests[c.D]) : Program.RunMap(c.NoPerm(), "AffineSC-noP", c.D, c.L, 0, b, tests[c.D]);
        });
        Console.WriteLine("| d | depth | validation MSE (P random) | L² (P random) | sup (P random) | validation MSE (P = I) | L² (P = I) | sup (P = I) |");
        Console.WriteLine("|---|---|---|---|---|---|---|---|");
        foreach (var c in cfg)
        {
            var a = results[(c.D, c.L, true)]; var z = results[(c.D, c.L, false)];
            Console.WriteLine($"| {c.D} | {c.L} | {a.TrainMse:0.0000} | {a.L2:0.0000} | {a.Sup:0.000} | {z.TrainMse:0.0000} | {z.L2:0.0000} | {z.Sup:0.000} |");
        }
        foreach (var c in cfg)
        {
            var f = Permuted(c.D, c.L);
            Console.WriteLine($"AffineSC d={c.D} L={c.L}: {f.StackDescription}");
        }
        return 0;
    }
}
