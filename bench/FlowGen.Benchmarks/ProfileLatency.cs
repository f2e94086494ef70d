using System;
using System.CommandLine;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using FlowGen.Kernels;

namespace FlowGen.Benchmarks;

/// <summary>
/// `profile latency [calls]`: where the time of one R8 float log-density of a single sample goes. Every case is timed in
/// blocks of <see cref="Block"/> calls, the cases interleaved block by block, and the minimum time per call over all
/// blocks is printed (at least 100 000 calls per case by default; the machine is shared, so the minimum is the figure).
/// Cases: the whole <c>LogProb(x)</c>; the twelve conditioners alone (Dense.ForwardOne 4→64 tanh, 64→64 tanh, 64→8, on
/// twelve distinct weight sets laid out as R8's, 240 KB, L2-resident, and on one weight set used twelve times, 20 KB,
/// L1-resident: the difference is the cost of streaming the weights from L2); each dense layer ×12 alone; the 64→64 layer
/// from weights at a 64-byte boundary and 16 bytes past one (a 64-byte load that straddles two cache lines costs two
/// accesses); and a 64→8 layer summed in four partial sums, which is not the library's order (every path sums each
/// output in one chain over the inputs) and is there to price that change. Each call's input depends on the previous
/// call's output (u[0] += out[0]·0), so the figures are latencies, not throughputs. For an A/B against another build,
/// run its copy of this command in alternation (the harness has no second library kernel).
/// </summary>
public static class ProfileLatency
{
    private const int Block = 16;
    private const int Layers = 12;
    private const int In = 4, Hidden = 64, Out = 8;
    private const int Dense0 = 0, Dense1 = In * Hidden + Hidden, Dense2 = Dense1 + Hidden * Hidden + Hidden;
    private const int LayerSize = Dense2 + Hidden * Out + Out; // 5 000 floats, R8's coupling

    private struct S4x64 : IDenseShape { public static int In => 4; public static int Out => 64; }
    private struct S64x64 : IDenseShape { public static int In => 64; public static int Out => 64; }
    private struct S64x8 : IDenseShape { public static int In => 64; public static int Out => 8; }

    private sealed class Scratch
    {
        public readonly float[] W;
        public readonly int Offset; // W[Offset] is the first weight
        public readonly float[] U = new float[In], H0 = new float[Hidden], H1 = new float[Hidden], Theta = new float[Out];

        // shift ≥ 0: the first weight is shift floats past a 64-byte boundary; else wherever the array puts it
        public unsafe Scratch(int layers, int shift = -1)
        {
            W = GC.AllocateArray<float>(layers * LayerSize + 32, pinned: true);
            int toBoundary = (int)((64 - ((nuint)Unsafe.AsPointer(ref W[0]) & 63)) & 63) / sizeof(float);
            Offset = shift < 0 ? 0 : toBoundary + shift;
            float[] g = BenchSetup.Gaussian<float>(layers * LayerSize, 17);
            for (int i = 0; i < g.Length; i++) W[Offset + i] = 0.15f * g[i];
            BenchSetup.Gaussian<float>(In, 3).CopyTo(U, 0);
            BenchSetup.Gaussian<float>(Hidden, 4).CopyTo(H1, 0);
        }
    }

    /// <summary>The `profile latency [calls]` command.</summary>
    public static Command Command()
    {
        var calls = new Argument<int>("calls") { Description = "calls of each case (at least 100 000 for a figure)", DefaultValueFactory = _ => 160_000 };
        calls.Validators.Add(r => { if (r.GetValueOrDefault<int>() < Block) r.AddError($"calls must be at least {Block}."); });
        var command = new Command("latency", "single-sample R8 float log-density and its phases (conditioner dense layers from L2 and from L1), minimum ns per call, cases interleaved") { calls };
        command.SetAction(parseResult => Run(parseResult.GetValue(calls)));
        return command;
    }

    /// <summary>Runs the harness: <paramref name="calls"/> calls of each case.</summary>
    public static int Run(int calls)
    {
        var flow = BenchSetup.CreateModel<R8Float, float>();
        float[] x = BenchSetup.Gaussian<float>(8, 11);
        float sink = 0;
        var l2 = new Scratch(Layers);
        var l1 = new Scratch(1);
        var aligned = new Scratch(1, 0);
        var misaligned = new Scratch(1, 4);
        ProfileCase[] cases =
        [
            new("R8 float LogProb(x), one sample", 0, () => { sink += flow.LogProb(x); x[0] += sink * 0f; }, Block),
            new("conditioners x12, 12 weight sets (240 KB, L2)", 0, () => Conditioners(l2), Block),
            new("conditioners x12, 1 weight set (20 KB, L1)", 0, () => Conditioners(l1), Block),
            new("dense 4->64 tanh x12 (L2)", 0, () => First(l2), Block),
            new("dense 64->64 tanh x12 (L2)", 0, () => Middle<Tanh>(l2), Block),
            new("dense 64->64 identity x12 (L2)", 0, () => Middle<Identity>(l2), Block),
            new("dense 64->8 x12 (L2)", 0, () => Last(l2), Block),
            new("dense 64->64 tanh x12 (L1)", 0, () => Middle1(l1), Block),
            new("dense 64->8 x12 (L1)", 0, () => Last1(l1), Block),
            new("dense 64->8 x12 (L2), 4 partial sums (NOT the library's order)", 0, () => LastPartialSums(l2), Block),
            new("dense 64->64 tanh x12 (L1, 64-byte aligned)", 0, () => Middle1(aligned), Block),
            new("dense 64->64 tanh x12 (L1, 64-byte boundary + 16)", 0, () => Middle1(misaligned), Block),
        ];
        int blocks = Math.Max(1, calls / Block);
        // 2 000 warm-up calls each: tiered JIT to its final code
        var results = Interleaved.Run(cases, warmupCalls: 2000, seconds: 0, minRounds: blocks);
        Console.WriteLine($"{Validate.IsaLine()}");
        Console.WriteLine($"minimum time per call over {blocks * Block} calls each (blocks of {Block}, interleaved):");
        Interleaved.Print(results);
        if (float.IsNaN(sink)) Console.WriteLine("(NaN)");
        return 0;
    }

    private static ref float W(Scratch s, int layer, int dense) => ref s.W[s.Offset + (layer % ((s.W.Length - 32) / LayerSize)) * LayerSize + dense];

    private static void Conditioners(Scratch s)
    {
        for (int k = 0; k < Layers; k++)
        {
            Dense.ForwardOne<S4x64, Tanh>(ref W(s, k, Dense0), ref s.U[0], ref s.H0[0], ref s.H0[0]);
            Dense.ForwardOne<S64x64, Tanh>(ref W(s, k, Dense1), ref s.H0[0], ref s.H1[0], ref s.H1[0]);
            Dense.ForwardOne<S64x8, Identity>(ref W(s, k, Dense2), ref s.H1[0], ref s.Theta[0], ref s.Theta[0]);
            s.U[0] += s.Theta[0] * 0f;
        }
    }

    private static void First(Scratch s)
    {
        for (int k = 0; k < Layers; k++)
        {
            Dense.ForwardOne<S4x64, Tanh>(ref W(s, k, Dense0), ref s.U[0], ref s.H0[0], ref s.H0[0]);
            s.U[0] += s.H0[0] * 0f;
        }
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void Middle<TAct>(Scratch s) where TAct : struct, IActivation
    {
        for (int k = 0; k < Layers; k++)
        {
            Dense.ForwardOne<S64x64, TAct>(ref W(s, k, Dense1), ref s.H0[0], ref s.H1[0], ref s.H1[0]);
            s.H0[0] += s.H1[0] * 0f;
        }
    }

    private static void Middle1(Scratch s) => Middle<Tanh>(s);

    private static void Last(Scratch s)
    {
        for (int k = 0; k < Layers; k++)
        {
            Dense.ForwardOne<S64x8, Identity>(ref W(s, k, Dense2), ref s.H1[0], ref s.Theta[0], ref s.Theta[0]);
            s.H1[0] += s.Theta[0] * 0f;
        }
    }

    private static void Last1(Scratch s) => Last(s);

    // What the 64→8 layer would cost if every path (tile and single sample) summed each output in four interleaved partial
    // sums over the inputs (i mod 4) instead of one chain: a different rounding, so not something the single-sample path
    // may do alone (it must match the tile path bit for bit); measured here for that decision only.
    private static void LastPartialSums(Scratch s)
    {
        for (int k = 0; k < Layers; k++)
        {
            ref float w = ref W(s, k, Dense2);
            Vector256<float> p0 = Vector256.LoadUnsafe(ref w, Hidden * Out), p1 = default, p2 = default, p3 = default;
            for (int i = 0; i < Hidden; i += 4)
            {
                p0 = Vector256.FusedMultiplyAdd(Vector256.LoadUnsafe(ref w, (nuint)(i * Out)), Vector256.Create(s.H1[i]), p0);
                p1 = Vector256.FusedMultiplyAdd(Vector256.LoadUnsafe(ref w, (nuint)((i + 1) * Out)), Vector256.Create(s.H1[i + 1]), p1);
                p2 = Vector256.FusedMultiplyAdd(Vector256.LoadUnsafe(ref w, (nuint)((i + 2) * Out)), Vector256.Create(s.H1[i + 2]), p2);
                p3 = Vector256.FusedMultiplyAdd(Vector256.LoadUnsafe(ref w, (nuint)((i + 3) * Out)), Vector256.Create(s.H1[i + 3]), p3);
            }
            ((p0 + p1) + (p2 + p3)).StoreUnsafe(ref s.Theta[0]);
            s.H1[0] += s.Theta[0] * 0f;
        }
    }
}
