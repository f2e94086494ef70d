using System;
using System.Linq;
using FlowGen;

namespace Universality;

/// <summary>
/// `--probe-sos`: why does the mean test KL of deep sum-of-squares flows explode while the median is fine?
/// Trains SoS d = 2, depth 8 on gmm2 (quick budget), takes the test point with the worst log p − log q, and recomputes its
/// trajectory through the stack with an independent double-precision implementation written from docs/model.md §3
/// (halves mask, tanh MLP, SoS with r = 2, K = 3, ε = 1e-3), printing |x| and log τ′ after every layer.
/// Agreement with the generated float code means the blow-up is the learned function (extrapolation of composed
/// polynomials), not the implementation.
/// </summary>
public static class Probe
{
    public static int Sos()
    {
        var b = Budget.Quick;
        var p = Mixture.Ring2D();
        int depth = 8;
        var rng = new Random(100);
        int n = b.DensityTrainRows;
        var train = new float[n * 2];
        var t = new double[2];
        for (int i = 0; i < n; i++) { p.Sample(rng, t); train[2 * i] = (float)t[0]; train[2 * i + 1] = (float)t[1]; }
        var flow = Zoo.Create("SoS", 2, depth, 1);
        Init.BreakSymmetry(flow, 1, b.Jitter);
        FlowTrainer.Train(flow, train, b.Options(b.DensitySteps, 0));

        var testRng = new Random(777);
        int m = 20000;
        var x = new float[m * 2]; var lp = new double[m];
        for (int i = 0; i < m; i++)
        {
            p.Sample(testRng, t);
            x[2 * i] = (float)t[0]; x[2 * i + 1] = (float)t[1];
            t[0] = x[2 * i]; t[1] = x[2 * i + 1];
            lp[i] = p.LogDensity(t);
        }
        var lq = new float[m];
        flow.LogProb(x, default, lq);
        var order = Enumerable.Range(0, m).OrderByDescending(i => float.IsFinite(lq[i]) ? lp[i] - lq[i] : double.PositiveInfinity).ToArray();
        Console.WriteLine($"SoS d=2 depth {depth} on gmm2: {m} test points, {order.Count(i => lp[i] - lq[i] > 5)} with log p − log q > 5");
        foreach (int i in order.Take(3))
        {
            Console.WriteLine($"test point ({x[2 * i]:G6}, {x[2 * i + 1]:G6}): log p = {lp[i]:G6}, generated float log q = {lq[i]:G6}");
            double refLq = Reference(flow, depth, x[2 * i], x[2 * i + 1], verbose: true);
            Console.WriteLine($"  independent double reference log q = {refLq:G6}");
        }
        // the training data's range
        Console.WriteLine($"training data range: x0 ∈ [{Enumerable.Range(0, n).Min(i => train[2 * i]):G4}, {Enumerable.Range(0, n).Max(i => train[2 * i]):G4}], " +
                          $"x1 ∈ [{Enumerable.Range(0, n).Min(i => train[2 * i + 1]):G4}, {Enumerable.Range(0, n).Max(i => train[2 * i + 1]):G4}]");
        return 0;
    }

    private static double Reference(ICouplingFlow<float> flow, int depth, double x0, double x1, bool verbose)
    {
        const double eps = 1e-3;
        const int r = 2, K = 3, P = 1 + K * (r + 1);
        var par = flow.Parameters.ToArray();
        var tensors = flow.ParameterTensors.ToDictionary(q => q.Name);
        double[] x = [x0, x1];
        double logDet = 0;
        for (int c = 0; c < depth; c++)
        {
            int a = c % 2 == 0 ? 0 : 1, bIdx = 1 - a;   // Halves with D = 2: even couplings keep x0, odd keep x1
            double[] h = [x[a]];
            for (int k = 0; k < 3; k++)
            {
                var w = tensors[$"layers.{c}.conditioner.{k}.weight"]; var bias = tensors[$"layers.{c}.conditioner.{k}.bias"];
                int outW = bias.Length, inW = h.Length;
                var o = new double[outW];
                for (int j = 0; j < outW; j++)
                {
                    double s = par[bias.Offset + j];
                    for (int i = 0; i < inW; i++) s += h[i] * par[w.Offset + i * outW + j];
                    o[j] = k < 2 ? Math.Tanh(s) : s;
                }
                h = o;
            }
            if (h.Length != P) throw new InvalidOperationException("unexpected SoS parameter count");
            // docs/model.md §3 (since issue 18): the polynomial of u = clamp(v, −B, B)/B, the tangent at ±B beyond
            const double B = 5;
            double v = x[bIdx], vc = Math.Clamp(v, -B, B), u = vc / B;
            var beta = new double[2 * r + 1];
            double deriv = eps;
            for (int kk = 0; kk < K; kk++)
            {
                double q = 0;
                for (int l = 0; l <= r; l++)
                {
                    q += h[1 + kk * (r + 1) + l] * Math.Pow(u, l);
                    for (int mm = 0; mm <= r; mm++) beta[l + mm] += h[1 + kk * (r + 1) + l] * h[1 + kk * (r + 1) + mm];
                }
                deriv += q * q;
            }
            double y = h[0] + eps * vc;
            for (int nn = 0; nn <= 2 * r; nn++) y += B * beta[nn] * Math.Pow(u, nn + 1) / (nn + 1);
            y += (v - vc) * deriv;
            x[bIdx] = y;
            logDet += Math.Log(deriv);
            if (verbose) Console.WriteLine($"    after coupling {c}: x = ({x[0]:G4}, {x[1]:G4}), log τ′ = {Math.Log(deriv):G4}");
        }
        return -0.5 * (x[0] * x[0] + x[1] * x[1]) - Math.Log(2 * Math.PI) + logDet;
    }
}
