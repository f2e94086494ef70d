// FlowGMM (semi-supervised classification with a Gaussian-mixture base, Izmailov et al. 2020) on real data — the Palmer
// penguins — and a two-moons picture. Run: dotnet run --project samples/FlowGen.FlowGmm -c Release -- --help

using System;
using System.CommandLine;
using System.Globalization;
using System.Linq;
using FlowGen.FlowGmm;

CultureInfo.DefaultThreadCurrentCulture = CultureInfo.InvariantCulture;
CultureInfo.CurrentCulture = CultureInfo.InvariantCulture;

var mode = new Argument<string>("mode")
{
    Description = "penguins: the accuracy table; moons: the two-moons PNG",
    DefaultValueFactory = _ => "penguins",
};
mode.AcceptOnlyFromAmong("penguins", "moons");
var seeds = new Option<int>("--seeds") { Description = "seeds per k (penguins)", DefaultValueFactory = _ => 10 };
var steps = new Option<int>("--steps") { Description = "optimisation steps per training run (default 3000)" };
var seed = new Option<int>("--seed") { Description = "seed of the moons data, labels and flow", DefaultValueFactory = _ => 1 };
var output = new Option<string>("--out") { Description = "the moons PNG", DefaultValueFactory = _ => "flowgmm-moons.png" };
foreach (var o in new[] { seeds, steps, seed })
    o.Validators.Add(r => { if (r.GetValueOrDefault<int>() < 0) r.AddError($"{o.Name} must be ≥ 0."); });
var command = new RootCommand("FlowGMM with FlowGen: semi-supervised penguin species classification, or a two-moons picture.")
{
    mode, seeds, steps, seed, output,
};
command.SetAction(parse =>
{
    int? given = parse.GetResult(steps) is { Implicit: false } ? parse.GetValue(steps) : null;
    return parse.GetValue(mode) == "moons"
        ? MoonsPicture.Run(given ?? 3000, (ulong)parse.GetValue(seed), parse.GetValue(output)!, Console.WriteLine)
        : PenguinsExperiment.Run(Math.Max(1, parse.GetValue(seeds)), given ?? 3000, [1, 3, 5, 10], Console.WriteLine);
});
return command.Parse(args).Invoke();
