using System;
using System.Collections.Generic;
using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Runtime.InteropServices;
using System.Text.Json;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace FlowGen.Bench.TorchSharpPeer;

/// <summary>
/// The TorchSharp (libtorch CPU) peer of FlowGen's benchmarks: R8 and R2 written with TorchSharp tensor operations exactly as
/// docs/model.md defines them (affine coupling, s̃ = 2·tanh(s/2), alternating halves, tanh MLP conditioners, standard-normal
/// base), loaded with the weights that FlowGen exported (bench/FlowGen.Benchmarks `export`), checked against FlowGen's
/// log-densities, inverse and NLL gradient, then timed.
///
/// Usage: TorchSharpPeer --weights DIR [--out FILE.jsonl] [--quick] [--models R8,R2]
///
/// Timing method (same as bench/peers/pytorch/bench.py): for each case, calls are grouped into repetitions of k calls with
/// k chosen so that one repetition takes ≥ 20 ms (k = 1 for slow cases); after warm-up (≥ 3 calls and ≥ 0.3 s) the
/// median over R repetitions (R = 7, quick 3) of (repetition time / k) is reported. Log-density and inverse run under
/// no_grad; the training step is zero_grad + mean NLL + backward + Adam step (lr 1e-4). Threads: torch.set_num_threads(t)
/// (intra-op; inter-op threads fixed at 1).
/// </summary>
internal static class Program
{
    /// <summary>The command line (System.CommandLine); <see cref="Run"/> does the work.</summary>
    private static int Main(string[] args)
    {
        var weights = new Option<string>("--weights")
        {
            HelpName = "DIR",
            Description = "the folder FlowGen.Benchmarks `export` wrote (one sub-folder per model)",
            Required = true,
        };
        var output = new Option<string?>("--out") { HelpName = "FILE.jsonl", Description = "also append every result, one JSON line each, to this file" };
        var quick = new Option<bool>("--quick") { Description = "quick mode: R8's representative cases only, 3 repetitions instead of 7" };
        var models = new Option<string[]>("--models")
        {
            HelpName = "R8,R2",
            Description = "comma-separated models to check and time",
            Arity = ArgumentArity.ExactlyOne,
            DefaultValueFactory = _ => ["R8", "R2"],
            CustomParser = result => result.Tokens[0].Value.Split(','),
        };
        var command = new RootCommand("The TorchSharp (libtorch CPU) peer of FlowGen's benchmarks: loads FlowGen's exported R8/R2 weights, checks " +
            "log-densities, inverse and NLL gradient against FlowGen's, then times log-density, inverse and training step.")
        {
            weights, output, quick, models,
        };
        command.SetAction(parseResult => Run(parseResult.GetValue(weights)!, parseResult.GetValue(output), parseResult.GetValue(quick), parseResult.GetValue(models)!));
        return command.Parse(args).Invoke();
    }

    private static int Run(string weights, string? output, bool quick, string[] models)
    {
        torch.set_num_interop_threads(1);
        Console.WriteLine($"TorchSharp peer: libtorch {torch.__version__}, default threads {torch.get_num_threads()}");
        using var writer = output is null ? null : new StreamWriter(output, append: true);
        int failures = 0;
        foreach (string name in models)
        {
            var flow = new CouplingFlow(Path.Combine(weights, name));
            failures += flow.Check();
            if (failures > 0) { Console.Error.WriteLine($"{name}: check failed, not timing it"); continue; }
            foreach (var c in Cases(name, quick))
            {
                torch.set_num_threads(c.Threads);
                double seconds = Time(flow, c.Op, c.Batch, quick);
                string line = JsonSerializer.Serialize(new
                {
                    system = "TorchSharp",
                    model = name,
                    precision = "float",
                    op = c.Op,
                    batch = c.Batch,
                    threads = c.Threads,
                    median_s = seconds,
                    samples_per_s = c.Batch / seconds,
                });
                Console.WriteLine(line);
                writer?.WriteLine(line);
                writer?.Flush();
            }
        }
        return failures == 0 ? 0 : 1;
    }

    private static IEnumerable<(string Op, int Batch, int Threads)> Cases(string model, bool quick)
    {
        if (quick)
        {
            if (model != "R8") yield break;
            yield return ("LogProb", 1, 1);
            yield return ("LogProb", 65536, 1);
            yield return ("LogProb", 65536, 2);
            yield return ("TrainStep", 4096, 1);
            yield return ("TrainStep", 4096, 2);
            yield break;
        }
        foreach (int t in new[] { 1, 2 })
        {
            foreach (int b in new[] { 1, 256, 65536 })
                if (!(b == 1 && t == 2)) yield return ("LogProb", b, t);
            yield return ("Inverse", 65536, t);
            yield return ("TrainStep", 256, t);
            yield return ("TrainStep", 4096, t);
        }
    }

    private static double Time(CouplingFlow flow, string op, int batch, bool quick)
    {
        using var x = torch.randn(batch, flow.Dim, generator: torch.manual_seed(42));
        Action call = op switch
        {
            "LogProb" => () => { using var _ = torch.no_grad(); using var scope = torch.NewDisposeScope(); flow.LogProb(x); },
            "Inverse" => () => { using var _ = torch.no_grad(); using var scope = torch.NewDisposeScope(); flow.Inverse(x); },
            "TrainStep" => () => { using var scope = torch.NewDisposeScope(); flow.TrainStep(x); },
            _ => throw new ArgumentException(op),
        };
        // warm-up: at least 3 calls and 0.3 s
        var sw = Stopwatch.StartNew();
        int warm = 0;
        while (warm < 3 || sw.Elapsed.TotalSeconds < 0.3) { call(); warm++; }
        double perCall = sw.Elapsed.TotalSeconds / warm;
        int k = Math.Max(1, (int)Math.Ceiling(0.02 / perCall));
        int reps = quick ? 3 : 7;
        var times = new double[reps];
        for (int r = 0; r < reps; r++)
        {
            long t0 = Stopwatch.GetTimestamp();
            for (int i = 0; i < k; i++) call();
            times[r] = Stopwatch.GetElapsedTime(t0).TotalSeconds / k;
        }
        Array.Sort(times);
        return times[reps / 2];
    }
}

/// <summary>A uniform affine-coupling flow (halves, tanh conditioners, clamp 2) built from FlowGen's exported weights.</summary>
internal sealed class CouplingFlow
{
    private readonly string _dir;
    private readonly JsonElement _manifest;
    private readonly int _layers, _hidden;
    private readonly List<(Parameter W, Parameter B)[]> _dense = [];
    private readonly List<Parameter> _all = [];
    private readonly (string Name, int Offset, int Length, long[] Shape, bool Transposed)[] _tensors;
    private readonly Adam _adam;
    private readonly double _clamp;

    public int Dim { get; }

    public CouplingFlow(string dir)
    {
        _dir = dir;
        _manifest = JsonDocument.Parse(File.ReadAllText(Path.Combine(dir, "manifest.json"))).RootElement;
        Dim = _manifest.GetProperty("dim").GetInt32();
        _layers = _manifest.GetProperty("layers").GetInt32();
        _hidden = _manifest.GetProperty("hidden").GetArrayLength();
        _clamp = _manifest.GetProperty("clamp").GetDouble();
        float[] p = ReadFloats("weights.bin");
        _tensors = _manifest.GetProperty("tensors").EnumerateArray().Select(t => (
            t.GetProperty("name").GetString()!,
            t.GetProperty("offset").GetInt32(),
            t.GetProperty("length").GetInt32(),
            t.GetProperty("shape").EnumerateArray().Select(s => (long)s.GetInt32()).ToArray(),
            t.GetProperty("transposed").GetBoolean())).ToArray();
        var byName = new Dictionary<string, Parameter>();
        foreach (var t in _tensors)
        {
            Tensor v;
            if (t.Transposed)
            {
                // stored input-major [in, out]: the transpose of Linear.weight [out, in]
                using var stored = torch.tensor(p.AsSpan(t.Offset, t.Length).ToArray(), [t.Shape[1], t.Shape[0]]);
                v = stored.t().contiguous();
            }
            else
            {
                v = torch.tensor(p.AsSpan(t.Offset, t.Length).ToArray(), t.Shape);
            }
            var param = new Parameter(v, requires_grad: true);
            byName[t.Name] = param;
            _all.Add(param);
        }
        for (int c = 0; c < _layers; c++)
        {
            var layer = new (Parameter, Parameter)[_hidden + 1];
            for (int k = 0; k <= _hidden; k++)
                layer[k] = (byName[$"layers.{c}.conditioner.{k}.weight"], byName[$"layers.{c}.conditioner.{k}.bias"]);
            _dense.Add(layer);
        }
        double lr = _manifest.GetProperty("learning_rate").GetDouble();
        _adam = torch.optim.Adam(_all, lr: lr, beta1: 0.9, beta2: 0.999, eps: 1e-8);
    }

    private float[] ReadFloats(string file) => MemoryMarshal.Cast<byte, float>(File.ReadAllBytes(Path.Combine(_dir, file))).ToArray();

    private Tensor Conditioner(int c, Tensor u)
    {
        var layer = _dense[c];
        Tensor h = u;
        for (int k = 0; k < layer.Length; k++)
        {
            Tensor a = torch.nn.functional.linear(h, layer[k].W, layer[k].B);
            h = k < layer.Length - 1 ? a.tanh() : a;
        }
        return h;
    }

    // halves: even couplings keep [0, h) and transform [h, D); odd couplings the reverse
    private (long KeptStart, long KeptLength, long TrStart, long TrLength) Mask(int c)
    {
        long h = Dim / 2;
        return c % 2 == 0 ? (0, h, h, Dim - h) : (h, Dim - h, 0, h);
    }

    /// <summary>log p(x) for a batch [n, D].</summary>
    public Tensor LogProb(Tensor x)
    {
        Tensor ld = torch.zeros(x.shape[0]);
        for (int c = 0; c < _layers; c++)
        {
            var (ks, kl, ts, tl) = Mask(c);
            Tensor xa = x.narrow(1, ks, kl), xb = x.narrow(1, ts, tl);
            Tensor o = Conditioner(c, xa);
            Tensor s = (o.narrow(1, 0, tl) / _clamp).tanh() * _clamp;
            Tensor t = o.narrow(1, tl, tl);
            Tensor yb = xb * s.exp() + t;
            x = ks == 0 ? torch.cat([xa, yb], 1) : torch.cat([yb, xa], 1);
            ld = ld + s.sum(1);
        }
        return ld - 0.5 * x.square().sum(1) - 0.5 * Dim * Math.Log(2 * Math.PI);
    }

    /// <summary>x = f⁻¹(z) for a batch [n, D].</summary>
    public Tensor Inverse(Tensor z)
    {
        Tensor x = z;
        for (int c = _layers - 1; c >= 0; c--)
        {
            var (ks, kl, ts, tl) = Mask(c);
            Tensor ya = x.narrow(1, ks, kl), yb = x.narrow(1, ts, tl);
            Tensor o = Conditioner(c, ya);
            Tensor s = (o.narrow(1, 0, tl) / _clamp).tanh() * _clamp;
            Tensor t = o.narrow(1, tl, tl);
            Tensor xb = (yb - t) * (-s).exp();
            x = ks == 0 ? torch.cat([ya, xb], 1) : torch.cat([xb, ya], 1);
        }
        return x;
    }

    /// <summary>One Adam step on the mean NLL of the batch.</summary>
    public void TrainStep(Tensor x)
    {
        _adam.zero_grad();
        Tensor loss = -LogProb(x).mean();
        loss.backward();
        _adam.step();
    }

    /// <summary>Compares log p, the inverse and the NLL gradient with FlowGen's; returns the number of failures.</summary>
    public int Check()
    {
        var check = _manifest.GetProperty("check");
        int n = check.GetProperty("rows").GetInt32(), gradRows = check.GetProperty("grad_rows").GetInt32();
        string model = _manifest.GetProperty("model").GetString()!;
        int failures = 0;
        using (torch.no_grad())
        using (torch.NewDisposeScope())
        {
            using var x = torch.tensor(ReadFloats("check_x.bin"), [n, Dim]);
            float[] lp = LogProb(x).data<float>().ToArray();
            float[] want = ReadFloats("check_logp.bin");
            double worst = 0, worstRel = 0;
            for (int i = 0; i < n; i++)
            {
                double d = Math.Abs(lp[i] - want[i]);
                worst = Math.Max(worst, d);
                worstRel = Math.Max(worstRel, d / Math.Max(1, Math.Abs(want[i])));
            }
            bool ok = worstRel <= 1e-5;
            Console.WriteLine($"{model}: log p vs FlowGen over {n} samples: max |Δ| = {worst:E2}, max |Δ|/max(1,|log p|) = {worstRel:E2} {(ok ? "ok" : "FAIL")}");
            if (!ok) failures++;

            using var z = torch.tensor(ReadFloats("check_z.bin"), [n, Dim]);
            float[] xi = Inverse(z).data<float>().ToArray();
            float[] wantX = ReadFloats("check_xinv.bin");
            double worstX = 0;
            for (int i = 0; i < xi.Length; i++) worstX = Math.Max(worstX, Math.Abs(xi[i] - wantX[i]) / Math.Max(1, Math.Abs(wantX[i])));
            ok = worstX <= 1e-5;
            Console.WriteLine($"{model}: inverse vs FlowGen: max relative |Δ| = {worstX:E2} {(ok ? "ok" : "FAIL")}");
            if (!ok) failures++;
        }
        using (torch.NewDisposeScope())
        {
            using var x = torch.tensor(ReadFloats("check_x.bin"), [n, Dim]);
            foreach (var p in _all) p.grad?.zero_();
            Tensor loss = -LogProb(x.narrow(0, 0, gradRows)).mean();
            loss.backward();
            float[] want = ReadFloats("check_grad.bin");
            double worst = 0, scale = want.Max(v => Math.Abs(v));
            foreach (var t in _tensors)
            {
                var param = _all[Array.IndexOf(_tensors, t)];
                Tensor g = t.Transposed ? param.grad!.t().contiguous() : param.grad!;
                float[] got = g.data<float>().ToArray();
                for (int i = 0; i < got.Length; i++) worst = Math.Max(worst, Math.Abs(got[i] - want[t.Offset + i]));
            }
            bool ok = worst <= 1e-4 * scale;
            Console.WriteLine($"{model}: NLL gradient vs FlowGen ({gradRows} rows): max |Δ| = {worst:E2} (max |g| = {scale:E2}) {(ok ? "ok" : "FAIL")}");
            if (!ok) failures++;
            foreach (var p in _all) p.grad?.zero_();
        }
        return failures;
    }
}
