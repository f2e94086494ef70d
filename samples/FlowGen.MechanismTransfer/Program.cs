// Mechanism transfer: target-domain test MSE of ridge regression trained on the target points only, on the sources and
// the target, and on the target points augmented through the independent components estimated by GCL.
// Usage: dotnet run --project samples/FlowGen.MechanismTransfer -c Release [-- seeds [steps]]

using System;
using System.Globalization;
using System.Linq;
using FlowGen.MechanismTransfer;

int seeds = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 10;
int steps = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : Experiment.DefaultSteps;
int[] sizes = { 5, 10, 20 };
var all = Enumerable.Range(1, seeds).Select(s => Experiment.Run((ulong)s, sizes, steps, Console.WriteLine)).ToArray();
Console.WriteLine();
Console.WriteLine($"Target-domain test MSE over {seeds} seeds (mean ± standard error; {Experiment.SourceDomains} source domains × {Experiment.RowsPerSource} rows, quadratic ridge λ = {Experiment.Lambda}):");
Console.WriteLine();
Console.WriteLine("| target points | target only | source + target | augmentation (GCL) | augmentation wins |");
Console.WriteLine("|---|---|---|---|---|");
for (int j = 0; j < sizes.Length; j++)
{
    string Cell(Func<(int Size, double TargetOnly, double SourceAndTarget, double Augmented), double> pick)
    {
        double[] v = all.Select(r => pick(r[j])).ToArray();
        double mean = v.Average(), se = Math.Sqrt(v.Select(x => (x - mean) * (x - mean)).Sum() / (v.Length - 1) / v.Length);
        return string.Create(CultureInfo.InvariantCulture, $"{mean:F3} ± {se:F3}");
    }
    int wins = all.Count(r => r[j].Augmented < r[j].TargetOnly);
    Console.WriteLine($"| {sizes[j]} | {Cell(r => r.TargetOnly)} | {Cell(r => r.SourceAndTarget)} | {Cell(r => r.Augmented)} | {wins} of {seeds} |");
}
