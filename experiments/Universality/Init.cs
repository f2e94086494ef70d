using System;
using System.Collections.Generic;
using System.Linq;
using FlowGen;

namespace Universality;

/// <summary>
/// Symmetry breaking. docs/model.md §6 zero-initialises every conditioner's output weights and sets its output bias to the
/// transformer's identity parameters. For the deep-sigmoidal transformer that makes all n sigmoid units identical, and for
/// sum-of-squares all K squares identical; units that start identical get identical gradients and stay identical for ever,
/// so a DSF coupling trains as an affine coupling (logit σ(a·x + b) = a·x + b) and an SoS coupling as a single square.
/// The experiment therefore adds N(0, Jitter²) to the output layer (weights and bias) of every coupling of every architecture
/// (the same rule for all kinds). <see cref="Ablation"/> measures the effect.
/// </summary>
public static class Init
{
    public static void BreakSymmetry(ICouplingFlow<float> flow, int seed, double jitter)
    {
        if (jitter <= 0) return;
        // output layer of each coupling l = the conditioner dense layer with the largest index k
        var lastK = new Dictionary<string, int>();
        foreach (var t in flow.ParameterTensors)
        {
            var (prefix, k) = Split(t.Name);
            if (prefix is null) continue;
            lastK[prefix] = Math.Max(lastK.GetValueOrDefault(prefix, -1), k);
        }
        var rng = new Random(seed * 7919 + 17);
        Span<float> p = flow.Parameters;
        foreach (var t in flow.ParameterTensors)
        {
            var (prefix, k) = Split(t.Name);
            if (prefix is null || lastK[prefix] != k) continue;
            for (int i = 0; i < t.Length; i++) p[t.Offset + i] += (float)(jitter * Density.Gaussian(rng));
        }
    }

    /// <summary>
    /// A proposed library fix, tried here: keep the exact identity but make the units distinguishable. DSF: ã = log(e − 1) and b = 0 for
    /// every unit (so Σ wⱼ σ(x) = σ(x) and the block is still the identity for any weights) but w̃ⱼ spread over [−1, 1];
    /// SoS: a_{k0} = √((1 − ε)·c_k) with distinct c = (K, K − 1, …, 1)/Σ, so τ′ = ε + Σ a_{k0}² = 1 still.
    /// Units with different wⱼ (a_{k0}) receive different gradients, so they separate. Other kinds: unchanged.
    /// </summary>
    public static void AsymmetricIdentity(ICouplingFlow<float> flow, string kind)
    {
        if (kind is not ("DSF" or "SoS")) return;
        var lastK = new Dictionary<string, int>();
        foreach (var t in flow.ParameterTensors)
        {
            var (prefix, k) = Split(t.Name);
            if (prefix is not null) lastK[prefix] = Math.Max(lastK.GetValueOrDefault(prefix, -1), k);
        }
        Span<float> par = flow.Parameters;
        foreach (var t in flow.ParameterTensors)
        {
            var (prefix, k) = Split(t.Name);
            if (prefix is null || lastK[prefix] != k || !t.Name.EndsWith(".bias", StringComparison.Ordinal)) continue;
            if (kind == "DSF")
            {
                const int n = 8, P = 3 * n;   // SigmoidUnits = 8, SigmoidLayers = 1 (gen_models.py)
                int nb = t.Length / P;
                for (int j = 0; j < n; j++)
                    for (int bb = 0; bb < nb; bb++) par[t.Offset + (2 * n + j) * nb + bb] = (float)(-1 + 2.0 * j / (n - 1));
            }
            else
            {
                const int K = 3, r = 2, P = 1 + K * (r + 1);   // Squares = 3, Degree = 2 (gen_models.py)
                int nb = t.Length / P;
                double total = K * (K + 1) / 2.0;
                for (int kk = 0; kk < K; kk++)
                    for (int bb = 0; bb < nb; bb++) par[t.Offset + (1 + kk * (r + 1)) * nb + bb] = (float)Math.Sqrt((1 - 1e-3) * (K - kk) / total);
            }
        }
    }

    private static (string? Prefix, int K) Split(string name)
    {
        // layers.{l}.conditioner.{k}.weight|bias
        int c = name.IndexOf(".conditioner.", StringComparison.Ordinal);
        if (c < 0) return (null, -1);
        string rest = name[(c + ".conditioner.".Length)..];
        int dot = rest.IndexOf('.');
        return (name[..c], int.Parse(rest[..dot], System.Globalization.CultureInfo.InvariantCulture));
    }

    /// <summary>
    /// `--ablation`: the map task (d = 2 and 4), the SoS and DSF kinds, depths 1, 4, 16, one seed, the full-mode budget,
    /// with the library's exact identity initialisation (jitter 0) against the experiment's jitter and against <see cref="AsymmetricIdentity"/>.
    /// Also prints the spread across DSF units after training from the exact identity (0 ⇒ the units never separated).
    /// </summary>
    public static int Ablation()
    {
        var full = Budget.Full;
        int[] depths = [1, 4, 16];
        var jobs = new List<(string Kind, int D, int L, double J)>();
        foreach (string k in new[] { "SoS", "DSF" }) foreach (int d in new[] { 2, 4 }) foreach (int L in depths) foreach (double j in new[] { 0.0, full.Jitter, -1.0 }) jobs.Add((k, d, L, j));
        foreach (string k in new[] { "SoS", "DSF" })
        {
            var f0 = Zoo.Create(k, 4, 4, 1);
            AsymmetricIdentity(f0, k);
            var xs = new float[400]; var zs = new float[400];
            var r0 = new Random(3);
            for (int i = 0; i < xs.Length; i++) xs[i] = (float)(6 * r0.NextDouble() - 3);
            f0.Forward(xs, default, zs, default);
            double dev = 0;
            for (int i = 0; i < xs.Length; i++) dev = Math.Max(dev, Math.Abs(zs[i] - xs[i]));
            Console.WriteLine($"{k}: asymmetric identity init, max |f(x) − x| on 100 points of [−3, 3]^4 = {dev:E1}");
        }
        var tests = new Dictionary<int, Program.MapTest> { [2] = Program.MapTestSet(2, full), [4] = Program.MapTestSet(4, full) };
        var rows = new System.Collections.Concurrent.ConcurrentDictionary<(string, int, int, double), MapRow>();
        System.Threading.Tasks.Parallel.ForEach(jobs.OrderByDescending(j => j.L * j.D), new System.Threading.Tasks.ParallelOptions { MaxDegreeOfParallelism = Environment.ProcessorCount },
            j => rows[(j.Kind, j.D, j.L, j.J)] = Program.RunMap(j.Kind, j.D, j.L, 0, full with { Jitter = j.J }, tests[j.D]));
        Console.WriteLine("| architecture | d | depth | L² (library init) | L² (jitter 0.01) | L² (asymmetric identity) | sup (library init) | sup (jitter 0.01) | sup (asymmetric identity) |");
        Console.WriteLine("|---|---|---|---|---|---|---|---|---|");
        foreach (var j in jobs.Where(j => j.J == 0))
        {
            var a = rows[(j.Kind, j.D, j.L, 0.0)]; var b = rows[(j.Kind, j.D, j.L, full.Jitter)]; var c = rows[(j.Kind, j.D, j.L, -1.0)];
            Console.WriteLine($"| {j.Kind} | {j.D} | {j.L} | {a.L2:0.0000} | {b.L2:0.0000} | {c.L2:0.0000} | {a.Sup:0.000} | {b.Sup:0.000} | {c.Sup:0.000} |");
        }
        // direct evidence: train one DSF coupling from the exact identity and look at its units
        var flow = Zoo.Create("DSF", 2, 1, 1);
        var g = new Diffeo(2);
        var rng = new Random(5);
        var x = new float[4096 * 2]; var y = new float[4096 * 2];
        var t = new double[2];
        for (int i = 0; i < 4096; i++)
        {
            for (int q = 0; q < 2; q++) { x[2 * i + q] = (float)(4 * rng.NextDouble() - 2); t[q] = x[2 * i + q]; }
            g.Forward(t);
            for (int q = 0; q < 2; q++) y[2 * i + q] = (float)t[q];
        }
        FlowTrainer.FitMap(flow, x, y, full.Options(500, 0));
        var bias = flow.ParameterTensors.Where(p => p.Name.Contains(".conditioner.2.bias", StringComparison.Ordinal)).First();
        var w = flow.ParameterTensors.Where(p => p.Name.Contains(".conditioner.2.weight", StringComparison.Ordinal)).First();
        var par = flow.Parameters;
        // |B| = 1, n = 8 units: parameter p = 0..7 ã, 8..15 b, 16..23 w̃ (one transformed coordinate)
        double spreadBias = 0, spreadW = 0;
        for (int grp = 0; grp < 3; grp++)
            for (int u = 1; u < 8; u++) spreadBias = Math.Max(spreadBias, Math.Abs(par[bias.Offset + grp * 8 + u] - par[bias.Offset + grp * 8]));
        int outW = bias.Length, inW = w.Length / outW;
        for (int i = 0; i < inW; i++)
            for (int grp = 0; grp < 3; grp++)
                for (int u = 1; u < 8; u++) spreadW = Math.Max(spreadW, Math.Abs(par[w.Offset + i * outW + grp * 8 + u] - par[w.Offset + i * outW + grp * 8]));
        Console.WriteLine($"DSF (1 coupling, 8 units) after 500 steps from the exact identity init: max spread across units of output biases {spreadBias:E2}, of output weights {spreadW:E2}");
        return 0;
    }
}
