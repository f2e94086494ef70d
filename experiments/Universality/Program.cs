using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using FlowGen;

namespace Universality;

/// <summary>The budget of a run. Every architecture gets exactly the same budget at every depth.</summary>
public sealed record Budget(string Mode, int[] Depths, int Seeds, int MapSteps, int MapTrainRows, int DensitySteps, int DensityTrainRows,
    int BatchSize, double LearningRate, int TestRows, int EntropyRows, int GridPerAxis2, int GridPerAxis4, double Jitter = 0.01,
    int GridPerAxis8 = 5, int[]? MapDims = null, int ToyDepth = 8, int ToyTestRows = 20000, bool Toys = true)
{
    public static Budget Full => new("full", [1, 2, 4, 8, 16], 3, 1500, 8192, 1500, 16384, 256, 2e-3, 20000, 1_000_000, 201, 17, MapDims: [2, 4, 8]);
    public static Budget Quick => new("quick", [1, 4, 8], 1, 300, 4096, 300, 8192, 256, 2e-3, 8000, 100_000, 101, 9, GridPerAxis8: 3, MapDims: [2, 4, 8], Toys: false);

    /// <summary>Grid points per axis for the sup-error in d dimensions.</summary>
    public int GridPerAxis(int d) => d == 2 ? GridPerAxis2 : d == 4 ? GridPerAxis4 : GridPerAxis8;

    public TrainingOptions Options(int steps, int seed) => new()
    {
        Steps = steps, BatchSize = BatchSize, LearningRate = LearningRate, MinLearningRate = LearningRate / 100,
        Schedule = LearningRateSchedule.Cosine, WarmupSteps = Math.Min(100, steps / 10), GradientClipNorm = 10,
        ValidationFraction = 0.1, EvaluateEvery = Math.Max(1, steps / 10), RestoreBest = true, Threads = 1, Seed = (ulong)seed,
    };
}

public sealed record MapRow(string Kind, int Dim, int Depth, int Seed, int Parameters, double TrainMse, double L2, double Sup, double SupTrainBox,
    string Status, int Skipped, double Seconds);

public sealed record ToyRow(string Kind, string Task, int Depth, int Seed, int Parameters, double TestNll, double TestNllSe, double Entropy,
    double EntropySe, double Kl, int NonFiniteLogProb, string Status, int Skipped, double Seconds);

public sealed record DensityRow(string Kind, string Task, int Dim, int Depth, int Seed, int Parameters, double Kl, double KlSe, double TestNll,
    double TestNllSe, double Entropy, double EntropySe, double MedianTerm, double WorstTerm, int NonFiniteLogProb, int NonFiniteSamples, double RoundTrip, string Status, int Skipped, double Seconds, double ClippedKl = double.NaN);

public static class Program
{
    public const double Half = 2.0;   // map inputs: the cube [−2, 2]^d

    /// <summary>The command line (System.CommandLine): the main run, or one of the modes <c>--ablation</c>, <c>--probe-sos</c>, <c>--probe-lu</c>, <c>--replot DIR</c>.</summary>
    public static int Main(string[] args)
    {
        var quick = new Option<bool>("--quick") { Description = "CI sanity mode: depths 1 and 8, one seed, a small budget; writes results/quick/ and checks that the errors fall with depth" };
        var output = new Option<string?>("--out") { HelpName = "DIR", Description = "output folder of the run (default: results/ in the project folder, results/quick/ with --quick)" };
        var workers = new Option<int>("--workers")
        {
            HelpName = "N",
            Description = "parallel fits, by default one per core (each fit is single-threaded and deterministic)",
            DefaultValueFactory = _ => Environment.ProcessorCount,
            CustomParser = result =>
            {
                string value = result.Tokens.Count == 1 ? result.Tokens[0].Value : "";
                if (int.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out int n) && n >= 1) return n;
                result.AddError($"--workers must be a positive integer; got '{value}'.");
                return 1;
            },
        };
        var ablation = new Option<bool>("--ablation") { Description = "instead of the run: the initialisation ablation (SoS, DSF; map task, full budget), prints a table" };
        var probeSos = new Option<bool>("--probe-sos") { Description = "instead of the run: traces the SoS density blow-up with an independent double-precision reference" };
        var probeLu = new Option<bool>("--probe-lu") { Description = "instead of the run: AffineSC with the LU permutation on and off (map task, full budget)" };
        var replot = new Option<string?>("--replot") { HelpName = "DIR", Description = "instead of the run: redraws the error-vs-depth plots of a finished run from its map.csv and density.csv" };
        var command = new RootCommand("Universality experiment (Teshima et al., NeurIPS 2020): map and density approximation errors of FlowGen's coupling flows against depth. See README.md in this folder.")
        {
            quick, output, workers, ablation, probeSos, probeLu, replot,
        };
        command.Validators.Add(result =>
        {
            string[] modes = [.. new Option[] { ablation, probeSos, probeLu, replot }.Where(o => result.GetResult(o) is not null).Select(o => o.Name)];
            if (modes.Length > 1) result.AddError($"{string.Join(", ", modes)}: choose one of them.");
        });
        command.SetAction(parseResult =>
        {
            if (parseResult.GetValue(ablation)) return Init.Ablation();
            if (parseResult.GetValue(probeSos)) return Probe.Sos();
            if (parseResult.GetValue(probeLu)) return ProbeLu.Run();
            if (parseResult.GetValue(replot) is string replotDir) return Report.Replot(replotDir, Budget.Full);
            return Run(parseResult.GetValue(quick), parseResult.GetValue(output), parseResult.GetValue(workers));
        });
        return command.Parse(args).Invoke();
    }

    private static int Run(bool quick, string? output, int workers)
    {
        var budget = quick ? Budget.Quick : Budget.Full;
        string outDir = output ?? Path.Combine(FindProjectDir(), quick ? "results/quick" : "results");
        Directory.CreateDirectory(outDir);
        var clock = Stopwatch.StartNew();
        Console.WriteLine($"Universality experiment, {budget.Mode} mode, {workers} workers, output {outDir}");

        SelfCheck(budget.Toys);

        // ---------- jobs: every (kind, task, depth, seed) is one independent single-threaded fit; run them in parallel
        var mapTasks = budget.MapDims ?? [2, 4];
        var densities = new Density[] { Mixture.Ring2D(), Mixture.Four4D(), new Pushforward(2), new Pushforward(4) };
        var mapRows = new ConcurrentBag<MapRow>();
        var densityRows = new ConcurrentBag<DensityRow>();
        var grids = new ConcurrentDictionary<(string Kind, string Task, int Depth), double[,]>();

        // data shared by all kinds (per seed): map training sets, density training sets, test sets, entropy
        var mapTest = mapTasks.ToDictionary(d => d, d => MapTestSet(d, budget));
        var densityTest = densities.ToDictionary(p => p.Name, p => DrawDensity(p, budget.TestRows, 777));
        var entropy = new ConcurrentDictionary<string, (double H, double Se)>();
        Parallel.ForEach(densities, new ParallelOptions { MaxDegreeOfParallelism = workers }, p => entropy[p.Name] = Entropy(p, budget.EntropyRows));
        foreach (var p in densities) Console.WriteLine($"  entropy {p.Name}: {entropy[p.Name].H:F5} ± {entropy[p.Name].Se:F5} (MC, {budget.EntropyRows} samples)");

        // FFJORD's toy benchmarks: one test set and its exact log-densities per toy (shared by every kind and seed)
        var toyRows = new ConcurrentBag<ToyRow>();
        var toyTest = new ConcurrentDictionary<string, Draws>();
        Parallel.ForEach(budget.Toys ? FlowGen.Demo.FfjordToys.Names : [], new ParallelOptions { MaxDegreeOfParallelism = workers }, t => toyTest[t] = DrawToy(t, budget.ToyTestRows, 777, exact: true));
        foreach (string t in budget.Toys ? FlowGen.Demo.FfjordToys.Names : [])
        {
            var (h, se) = MeanSe(toyTest[t].LogP.Select(v => -v));
            Console.WriteLine($"  entropy {t}: {h:F4} ± {se:F4} (MC over the {budget.ToyTestRows} test points, exact log-density: {FlowGen.Demo.FfjordToys.HowExact(t)})");
        }

        var jobs = new List<(double Cost, Action Run)>();
        foreach (string kind in budget.Toys ? Zoo.Kinds : [])
        for (int seed = 0; seed < budget.Seeds; seed++)
        foreach (string toy in FlowGen.Demo.FfjordToys.Names)
        {
            string k = kind, t = toy; int s = seed;
            jobs.Add((budget.ToyDepth * budget.DensitySteps * 2, () => toyRows.Add(RunToy(k, t, budget.ToyDepth, s, budget, toyTest[t]))));
        }
        foreach (string kind in Zoo.Kinds)
        foreach (int depth in budget.Depths)
        for (int seed = 0; seed < budget.Seeds; seed++)
        {
            foreach (int d in mapTasks)
            {
                int dd = d, dep = depth, s = seed; string k = kind;
                jobs.Add((dep * budget.MapSteps * dd, () => mapRows.Add(RunMap(k, dd, dep, s, budget, mapTest[dd]))));
            }
            foreach (var p in densities)
            {
                int dep = depth, s = seed; string k = kind; var pp = p;
                bool draw = pp.D == 2 && s == 0 && (dep == budget.Depths[0] || dep == budget.Depths[^1]);
                jobs.Add((dep * budget.DensitySteps * pp.D, () => densityRows.Add(RunDensity(k, pp, dep, s, budget, densityTest[pp.Name], entropy[pp.Name], draw ? grids : null))));
            }
        }
        int done = 0;
        var ordered = jobs.OrderByDescending(j => j.Cost).ToList();
        Parallel.ForEach(ordered, new ParallelOptions { MaxDegreeOfParallelism = workers }, job =>
        {
            job.Run();
            int n = Interlocked.Increment(ref done);
            if (n % 10 == 0 || n == ordered.Count) Console.WriteLine($"  {n}/{ordered.Count} fits done, {clock.Elapsed.TotalSeconds:F0} s");
        });
        double seconds = clock.Elapsed.TotalSeconds;
        Console.WriteLine($"all fits done in {seconds:F0} s");

        var maps = mapRows.OrderBy(r => Array.IndexOf(Zoo.Kinds, r.Kind)).ThenBy(r => r.Dim).ThenBy(r => r.Depth).ThenBy(r => r.Seed).ToList();
        var dens = densityRows.OrderBy(r => Array.IndexOf(Zoo.Kinds, r.Kind)).ThenBy(r => r.Task).ThenBy(r => r.Depth).ThenBy(r => r.Seed).ToList();
        var toys = toyRows.OrderBy(r => Array.IndexOf(FlowGen.Demo.FfjordToys.Names, r.Task)).ThenBy(r => Array.IndexOf(Zoo.Kinds, r.Kind)).ThenBy(r => r.Seed).ToList();
        Report.Write(outDir, budget, workers, seconds, maps, dens, densities, entropy, grids, toys);
        Console.WriteLine($"wrote {outDir} ({clock.Elapsed.TotalSeconds:F0} s in all)");

        return quick ? Report.QuickChecks(maps, dens, budget) : 0;
    }

    private static (double Mean, double Se) MeanSe(IEnumerable<double> values)
    {
        var v = values.ToArray();
        double mean = v.Average(), var = v.Sum(x => (x - mean) * (x - mean)) / Math.Max(1, v.Length - 1);
        return (mean, Math.Sqrt(var / v.Length));
    }

    // ------------------------------------------------------------------ FFJORD's 2-D toy benchmarks

    private static Draws DrawToy(string toy, int n, int seed, bool exact)
    {
        var x = new float[n * 2];
        FlowGen.Demo.FfjordToys.Sample(toy, new FlowRandom((ulong)seed), x);
        var lp = new double[exact ? n : 0];
        if (exact) Parallel.For(0, n, i => lp[i] = FlowGen.Demo.FfjordToys.LogDensity(toy, x[2 * i], x[2 * i + 1]));
        return new Draws(x, lp);
    }

    private static ToyRow RunToy(string kind, string toy, int depth, int seed, Budget b, Draws test)
    {
        var train = DrawToy(toy, b.DensityTrainRows, 100 + seed, exact: false);
        var flow = Zoo.Create(kind, 2, depth, seed + 1);
        Init.BreakSymmetry(flow, seed + 1, b.Jitter);
        var sw = Stopwatch.StartNew();
        var result = FlowTrainer.Train(flow, train.X, b.Options(b.DensitySteps, seed));
        int n = test.LogP.Length;
        var lq = new float[n];
        flow.LogProb(test.X, default, lq);
        var finite = Enumerable.Range(0, n).Where(i => float.IsFinite(lq[i]) && double.IsFinite(test.LogP[i])).ToArray();
        var (nll, nllSe) = MeanSe(finite.Select(i => -(double)lq[i]));
        var (h, hSe) = MeanSe(test.LogP.Where(double.IsFinite).Select(v => -v));
        double kl = finite.Average(i => test.LogP[i] - lq[i]);
        return new ToyRow(kind, toy, depth, seed, flow.ParameterCount, nll, nllSe, h, hSe, kl, n - finite.Length, result.Status.ToString(), result.SkippedSteps, sw.Elapsed.TotalSeconds);
    }

    // ------------------------------------------------------------------ map fitting (Theorems 1–2)

    public sealed record MapTest(float[] X, double[] Y, float[] Grid, double[] GridY, float[] Box, double[] BoxY);

    public static MapTest MapTestSet(int d, Budget b)
    {
        var g = new Diffeo(d);
        var rng = new Random(12345 + d);
        (float[] x, double[] y) Build(IEnumerable<double[]> points)
        {
            var xs = new List<float>(); var ys = new List<double>();
            Span<double> t = stackalloc double[d];
            foreach (var p in points)
            {
                for (int j = 0; j < d; j++) { xs.Add((float)p[j]); t[j] = (float)p[j]; }
                g.Forward(t);
                for (int j = 0; j < d; j++) ys.Add(t[j]);
            }
            return (xs.ToArray(), ys.ToArray());
        }
        var uniform = Enumerable.Range(0, b.TestRows).Select(_ => Enumerable.Range(0, d).Select(_ => Half * (2 * rng.NextDouble() - 1)).ToArray()).ToList();
        int n = b.GridPerAxis(d);
        var (x, y) = Build(uniform);
        var (gx, gy) = Build(GridPoints(d, n, Half));
        // a second grid on the slightly smaller box [−1.8, 1.8]^d: sup-error away from the faces of the training cube
        var (bx, by) = Build(GridPoints(d, n, 0.9 * Half));
        return new MapTest(x, y, gx, gy, bx, by);
    }

    private static IEnumerable<double[]> GridPoints(int d, int n, double half)
    {
        int total = (int)Math.Pow(n, d);
        for (int i = 0; i < total; i++)
        {
            var p = new double[d];
            int r = i;
            for (int j = 0; j < d; j++) { p[j] = -half + 2 * half * (r % n) / (n - 1); r /= n; }
            yield return p;
        }
    }

    public static MapRow RunMap(string kind, int d, int depth, int seed, Budget b, MapTest test) =>
        RunMap(Zoo.Create(kind, d, depth, seed + 1), kind, d, depth, seed, b, test);

    public static MapRow RunMap(ICouplingFlow<float> flow, string kind, int d, int depth, int seed, Budget b, MapTest test)
    {
        var g = new Diffeo(d);
        var rng = new Random(1000 * seed + d);
        int n = b.MapTrainRows;
        var x = new float[n * d]; var y = new float[n * d];
        Span<double> t = stackalloc double[d];
        for (int i = 0; i < n; i++)
        {
            for (int j = 0; j < d; j++) { x[i * d + j] = (float)(Half * (2 * rng.NextDouble() - 1)); t[j] = x[i * d + j]; }
            g.Forward(t);
            for (int j = 0; j < d; j++) y[i * d + j] = (float)t[j];
        }
        if (b.Jitter < 0) Init.AsymmetricIdentity(flow, kind); else Init.BreakSymmetry(flow, seed + 1, b.Jitter);
        var sw = Stopwatch.StartNew();
        var result = FlowTrainer.FitMap(flow, x, y, b.Options(b.MapSteps, seed));
        var (l2, _) = MapError(flow, test.X, test.Y);
        var (_, sup) = MapError(flow, test.Grid, test.GridY);
        var (_, supBox) = MapError(flow, test.Box, test.BoxY);
        return new MapRow(kind, d, depth, seed, flow.ParameterCount, result.FinalValidationLoss, l2, sup, supBox, result.Status.ToString(), result.SkippedSteps, sw.Elapsed.TotalSeconds);
    }

    /// <summary>(root-mean-square Euclidean error, max Euclidean error) of the flow against the exact targets.</summary>
    private static (double L2, double Sup) MapError(ICouplingFlow<float> flow, float[] x, double[] y)
    {
        int d = flow.Dim, n = x.Length / d;
        var z = new float[x.Length];
        const int chunk = 4096;
        for (int s = 0; s < n; s += chunk)
        {
            int c = Math.Min(chunk, n - s);
            flow.Forward(x.AsSpan(s * d, c * d), default, z.AsSpan(s * d, c * d), default);
        }
        double sum = 0, max = 0;
        for (int i = 0; i < n; i++)
        {
            double e = 0;
            for (int j = 0; j < d; j++) { double diff = z[i * d + j] - y[i * d + j]; e += diff * diff; }
            if (!(e <= max)) max = double.IsNaN(e) ? double.PositiveInfinity : Math.Max(max, e);
            sum += e;
        }
        return (Math.Sqrt(sum / n), Math.Sqrt(max));
    }

    // ------------------------------------------------------------------ densities (Theorem 3)

    public sealed record Draws(float[] X, double[] LogP);

    private static Draws DrawDensity(Density p, int n, int seed)
    {
        var rng = new Random(seed);
        var x = new float[n * p.D]; var lp = new double[n];
        Span<double> t = stackalloc double[p.D];
        for (int i = 0; i < n; i++)
        {
            p.Sample(rng, t);
            for (int j = 0; j < p.D; j++) x[i * p.D + j] = (float)t[j];
            // the exact log-density at the float-rounded point (what the flow sees)
            for (int j = 0; j < p.D; j++) t[j] = x[i * p.D + j];
            lp[i] = p.LogDensity(t);
        }
        return new Draws(x, lp);
    }

    private static (double H, double Se) Entropy(Density p, int n)
    {
        var rng = new Random(4242);
        Span<double> t = stackalloc double[p.D];
        double s = 0, s2 = 0;
        for (int i = 0; i < n; i++)
        {
            double lp = p.Sample(rng, t);
            s -= lp; s2 += lp * lp;
        }
        double mean = s / n, var = s2 / n - mean * mean;
        return (mean, Math.Sqrt(var / n));
    }

    private static DensityRow RunDensity(string kind, Density p, int depth, int seed, Budget b, Draws test, (double H, double Se) entropy,
        ConcurrentDictionary<(string, string, int), double[,]>? grids)
    {
        int d = p.D;
        var train = DrawDensity(p, b.DensityTrainRows, 100 + seed);
        var flow = Zoo.Create(kind, d, depth, seed + 1);
        Init.BreakSymmetry(flow, seed + 1, b.Jitter);
        var sw = Stopwatch.StartNew();
        var result = FlowTrainer.Train(flow, train.X, b.Options(b.DensitySteps, seed));
        int n = test.LogP.Length;
        var lq = new float[n];
        flow.LogProb(test.X, default, lq);
        int bad = 0;
        double s = 0, s2 = 0, nll = 0, nll2 = 0;
        for (int i = 0; i < n; i++)
        {
            if (!float.IsFinite(lq[i])) { bad++; continue; }
            double diff = test.LogP[i] - lq[i];
            s += diff; s2 += diff * diff; nll -= lq[i]; nll2 += (double)lq[i] * lq[i];
        }
        int m = n - bad;
        var terms = new List<double>(m);
        for (int i = 0; i < n; i++) if (float.IsFinite(lq[i])) terms.Add(test.LogP[i] - lq[i]);
        terms.Sort();
        double median = terms[terms.Count / 2], worst = terms[^1];
        // KL with every term capped at 20 nats: insensitive to the few points a deep SoS flow sends to astronomically large z
        double clipped = terms.Average(v => Math.Min(v, 20.0));
        double kl = s / m, klSe = Math.Sqrt(Math.Max(0, s2 / m - kl * kl) / m);
        double nllMean = nll / m, nllSe = Math.Sqrt(Math.Max(0, nll2 / m - nllMean * nllMean) / m);

        // inverse health: draw samples (counts non-finite rows) and measure the round trip f⁻¹(f(x)) on test points
        var samples = new float[4096 * d];
        int nonFiniteSamples = flow.Sample(samples, default, default, new FlowRandom((ulong)(seed + 7)));
        int rt = Math.Min(n, 4096);
        var z = new float[rt * d]; var back = new float[rt * d];
        flow.Forward(test.X.AsSpan(0, rt * d), default, z, default);
        int nonFiniteInverse = flow.Inverse(z, default, back, default);
        double roundTrip = 0;
        for (int i = 0; i < rt * d; i++) roundTrip = Math.Max(roundTrip, Math.Abs(back[i] - test.X[i]));
        if (nonFiniteInverse > 0) roundTrip = double.PositiveInfinity;

        if (grids is not null) grids[(kind, p.Name, depth)] = DensityGrid(flow, Report.GridN, Report.GridHalf);
        return new DensityRow(kind, p.Name, d, depth, seed, flow.ParameterCount, kl, klSe, nllMean, nllSe, entropy.H, entropy.Se, median, worst, bad,
            nonFiniteSamples, roundTrip, result.Status.ToString(), result.SkippedSteps, sw.Elapsed.TotalSeconds, clipped);
    }

    public static double[,] DensityGrid(ICouplingFlow<float> flow, int n, double half)
    {
        var x = new float[n * n * 2];
        for (int r = 0; r < n; r++)
            for (int c = 0; c < n; c++)
            {
                x[(r * n + c) * 2] = (float)(-half + 2 * half * c / (n - 1));
                x[(r * n + c) * 2 + 1] = (float)(half - 2 * half * r / (n - 1));
            }
        var lp = new float[n * n];
        flow.LogProb(x, default, lp);
        var grid = new double[n, n];
        for (int r = 0; r < n; r++) for (int c = 0; c < n; c++) grid[r, c] = Math.Exp(lp[r * n + c]);
        return grid;
    }

    public static double[,] DensityGrid(Density p, int n, double half)
    {
        var grid = new double[n, n];
        Span<double> t = stackalloc double[2];
        for (int r = 0; r < n; r++)
            for (int c = 0; c < n; c++)
            {
                t[0] = -half + 2 * half * c / (n - 1);
                t[1] = half - 2 * half * r / (n - 1);
                grid[r, c] = Math.Exp(p.LogDensity(t));
            }
        return grid;
    }

    // ------------------------------------------------------------------ checks of the targets themselves

    /// <summary>g⁻¹(g(x)) = x and log|det Dg| against a central-difference Jacobian, at random points; throws if either fails.</summary>
    private static void SelfCheck(bool toys)
    {
        // the toys' exact densities integrate to 1 (midpoint rule on a 100 × 100 grid of [−5, 5]², cell 0.1: for Gaussian
        // noise of sd ≥ 0.08 its error is below 1e-5; the checkerboard's edges fall between the midpoints)
        foreach (string toy in toys ? FlowGen.Demo.FfjordToys.Names : [])
        {
            const int G = 100; const double Half = 5, h = 2 * Half / G;
            var rows = new double[G];
            Parallel.For(0, G, i =>
            {
                double sum = 0;
                for (int j = 0; j < G; j++) sum += Math.Exp(FlowGen.Demo.FfjordToys.LogDensity(toy, -Half + h * (i + 0.5), -Half + h * (j + 0.5)));
                rows[i] = sum * h * h;
            });
            double mass = rows.Sum();
            Console.WriteLine($"  toy self-check {toy}: ∫ p = {mass:F6} on [−5, 5]²");
            if (Math.Abs(mass - 1) > 2e-3) throw new InvalidOperationException($"the exact density of {toy} does not integrate to 1");
        }
        foreach (int d in new[] { 2, 4, 8 })
        {
            var g = new Diffeo(d);
            var rng = new Random(99);
            double worstRt = 0, worstLd = 0;
            var x = new double[d]; var y = new double[d];
            for (int trial = 0; trial < 200; trial++)
            {
                for (int j = 0; j < d; j++) x[j] = 3 * (2 * rng.NextDouble() - 1);
                x.CopyTo(y, 0);
                double ld = g.Forward(y);
                g.Inverse(y);
                for (int j = 0; j < d; j++) worstRt = Math.Max(worstRt, Math.Abs(y[j] - x[j]));
                var jac = new double[d, d];
                const double h = 1e-5;
                for (int j = 0; j < d; j++)
                {
                    var a = (double[])x.Clone(); var c = (double[])x.Clone();
                    a[j] += h; c[j] -= h;
                    g.Forward(a); g.Forward(c);
                    for (int i = 0; i < d; i++) jac[i, j] = (a[i] - c[i]) / (2 * h);
                }
                worstLd = Math.Max(worstLd, Math.Abs(Math.Log(Math.Abs(Det(jac, d))) - ld));
            }
            Console.WriteLine($"  target self-check d={d}: max |g⁻¹(g(x)) − x| = {worstRt:E1}, max |log det − finite-difference log det| = {worstLd:E1}");
            if (worstRt > 1e-10 || worstLd > 1e-6) throw new InvalidOperationException("the target diffeomorphism failed its self-check");
        }
    }

    private static double Det(double[,] a, int n)
    {
        var m = (double[,])a.Clone();
        double det = 1;
        for (int k = 0; k < n; k++)
        {
            int piv = k;
            for (int i = k + 1; i < n; i++) if (Math.Abs(m[i, k]) > Math.Abs(m[piv, k])) piv = i;
            if (piv != k) { for (int j = 0; j < n; j++) (m[k, j], m[piv, j]) = (m[piv, j], m[k, j]); det = -det; }
            det *= m[k, k];
            for (int i = k + 1; i < n; i++)
            {
                double f = m[i, k] / m[k, k];
                for (int j = k; j < n; j++) m[i, j] -= f * m[k, j];
            }
        }
        return det;
    }

    private static string FindProjectDir()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Universality.csproj"))) dir = dir.Parent;
        return dir?.FullName ?? Directory.GetCurrentDirectory();
    }
}
