using System;
using System.Globalization;
using System.IO;
using System.Numerics;
using System.Runtime.Intrinsics.X86;
using FlowGen;
using FlowGen.AotSample;

// Deterministic workload: perturbed parameters (so no coupling is the identity), fixed inputs, a few training steps.
// Every number is printed with a round-trip format so that .ci/aot-check can compare the JIT and NativeAOT builds exactly.
// Lines starting with '#' describe the machine and are not compared.
Console.WriteLine($"# FlowGen SIMD width {FlowSimd.LaneBits} bits ({FlowSimd.LaneBits / 32} float lanes), Avx2 = {Avx2.IsSupported}, Avx512F = {Avx512F.IsSupported}, Fma = {Fma.IsSupported}");

// 75 points: two whole 32-sample tiles at 512 bits (four at 256, nine at 128) and a remainder on the single-sample path
Run<float>(new AffineFlow(seed: 1), "affine/float", points: 75, trainSteps: 5);
Run<double>(new MixedFlow(seed: 2), "mixed/double", points: 75, trainSteps: 3);
Run<float>(new ConditionalFlow(seed: 3), "conditional/float", points: 75, trainSteps: 3);
Run<float>(new MixtureFlow(seed: 4), "mixture/float", points: 75, trainSteps: 3);
Run<double>(new HeavyTailedFlow(seed: 5), "student-t/double", points: 75, trainSteps: 3);

// Speed of training (a '#' line, not compared): 300 steps of the affine flow, batch 256, one thread, best of 3 runs.
// `--no-timing` skips it (the width-independence test compares only the numbers above).
if (args.Length > 0 && args[0] == "--no-timing") return 0;
var timingData = new float[4096 * AffineFlow.Dim];
new FlowRandom(11).FillGaussian(timingData);
double bestMs = double.MaxValue;
float timedLogProb = 0;
for (int run = 0; run < 3; run++)
{
    var timed = new AffineFlow(seed: 9);
    var clock = System.Diagnostics.Stopwatch.StartNew();
    FlowTrainer.Train(timed, timingData, new TrainingOptions { Steps = 300, BatchSize = 256, ValidationFraction = 0, Threads = 1, EvaluateEvery = 1_000_000 });
    bestMs = Math.Min(bestMs, clock.Elapsed.TotalMilliseconds);
    timedLogProb = timed.LogProb(timingData.AsSpan(0, AffineFlow.Dim));
}
Console.WriteLine($"# timing: 300 training steps (batch 256, 1 thread) in {bestMs:F0} ms; log p of the first row after them {timedLogProb.ToString("R", CultureInfo.InvariantCulture)}");
return 0;

static void Run<T>(ICouplingFlow<T> flow, string name, int points, int trainSteps) where T : unmanaged, IFloatingPointIeee754<T>
{
    int d = flow.Dim, c = flow.ContextDim;
    var rng = new FlowRandom(1234);
    Span<T> p = flow.Parameters;
    for (int i = 0; i < p.Length; i++) p[i] += T.CreateTruncating(0.3 * (rng.NextDouble() - 0.5));
    flow.IsDataInitialized = true;

    var xs = new T[points * d];
    var contexts = new T[points * c];
    for (int i = 0; i < xs.Length; i++) xs[i] = T.CreateTruncating(1.5 * rng.NextGaussian());
    for (int i = 0; i < contexts.Length; i++) contexts[i] = T.CreateTruncating(rng.NextGaussian());

    var zs = new T[xs.Length];
    var logDets = new T[points];
    var logProbs = new T[points];
    var back = new T[xs.Length];
    flow.Forward(xs, contexts, zs, logDets);
    flow.LogProb(xs, contexts, logProbs);
    int bad = flow.Inverse(zs, contexts, back, default);
    Print(name, "logp", logProbs);
    Print(name, "logdet", logDets);
    Print(name, "z", zs);
    Print(name, "inverse", back);
    Console.WriteLine($"{name} inverse-nonfinite {bad}");

    var samples = new T[points * d];
    flow.Sample(samples, contexts, default, new FlowRandom(77));
    Print(name, "sample", samples);

    var gradient = new T[flow.ParameterCount];
    double nll = flow.NllGradient(xs, contexts, gradient, T.One / T.CreateTruncating(points));
    Console.WriteLine($"{name} nll {Format(nll)}");
    Print(name, "gradient", gradient);

    // safetensors and checkpoint round trips through the trimmed runtime
    var copy = Clone(flow);
    byte[] st = FlowSafetensors.Serialize(flow);
    p[0] += T.One;
    FlowSafetensors.Deserialize(flow, st);
    Console.WriteLine($"{name} safetensors-roundtrip {(flow.Parameters.SequenceEqual(copy) ? "ok" : "CHANGED")} {st.Length} bytes");
    string path = Path.Combine(Path.GetTempPath(), $"flowgen-aot-{Environment.ProcessId}.flowgen");
    FlowCheckpoint.Save(flow, path);
    FlowCheckpoint.Load(flow, path);
    File.Delete(path);

    // a few training steps (single-threaded so the schedule is fixed)
    var data = new T[256 * d];
    var dataContexts = new T[256 * c];
    for (int i = 0; i < data.Length; i++) data[i] = T.CreateTruncating(rng.NextGaussian());
    for (int i = 0; i < dataContexts.Length; i++) dataContexts[i] = T.CreateTruncating(rng.NextGaussian());
    var options = new TrainingOptions { Steps = trainSteps, BatchSize = 64, ValidationFraction = 0, Threads = 1, Seed = 5, EvaluateEvery = 1000 };
    FlowTrainer.Train(flow, data, dataContexts, options);
    flow.LogProb(xs, contexts, logProbs);
    Print(name, "logp-after-training", logProbs);
}

static T[] Clone<T>(ICouplingFlow<T> flow) where T : unmanaged => flow.Parameters.ToArray();

static void Print<T>(string name, string what, ReadOnlySpan<T> values) where T : unmanaged, IFloatingPointIeee754<T>
{
    var sb = new System.Text.StringBuilder(name).Append(' ').Append(what);
    foreach (T v in values) sb.Append(' ').Append(Format(double.CreateTruncating(v), typeof(T) == typeof(float)));
    Console.WriteLine(sb.ToString());
}

static string Format(double v, bool single = false) =>
    single ? ((float)v).ToString("R", CultureInfo.InvariantCulture) : v.ToString("R", CultureInfo.InvariantCulture);
