using System;
using System.Collections.Generic;
using System.Linq;
using System.Text.Json;
using FlowGen.Kernels;
using Microsoft.ML.OnnxRuntime;
using static FlowGen.Onnx.Tests.OnnxExportTests;

namespace FlowGen.Onnx.Tests;

/// <summary>
/// The standard draws FlowGen's Sample makes for a flow's base (docs/model.md §11), replayed from the same FlowRandom seed
/// in the same order, as the inputs of the exported Sample / SampleComponent graph, and the base sample z those draws make,
/// computed in double from the formulas of docs/model.md (an oracle independent of the graph): standard normal and diagonal
/// Gaussian: ε by FillGaussian (row-major), z = μ + e^s·ε; mixture: per row u = NextDouble() (unless the component is
/// given) then D × NextGaussian(), z = μ_c + e^{s_c}·ε; Student-t: per row and coordinate ε = NextGaussian(),
/// V = 2·Gamma(ν/2) (BaseFunctions.Gamma, FlowGen's Marsaglia–Tsang), z = ε/√(V/ν).
/// </summary>
internal sealed class BaseDraws<T> where T : unmanaged
{
    public string BaseKind = "";
    public T[] Noise = Array.Empty<T>(), Z = Array.Empty<T>(), ChiSquare = Array.Empty<T>();
    public double[] ZDouble = Array.Empty<double>();
    public double[]? Uniform;
    public long[]? Components;
    public int[] Chosen = Array.Empty<int>();
    private int dim;

    public static string KindOf<TF>(ICouplingFlow<TF> flow) where TF : unmanaged
    {
        using var doc = JsonDocument.Parse(flow.StackSpec);
        return doc.RootElement.GetProperty("base").GetProperty("kind").GetString()!;
    }

    public static double[] Tensor(ICouplingFlow<T> flow, string name)
    {
        ParameterTensor t = flow.ParameterTensors.Single(t => t.Name == name);
        return flow.Parameters.Slice(t.Offset, t.Length).ToArray().Select(v => ToDouble(v)).ToArray();
    }

    /// <summary>The mixture's log-weights in double (w = softmax(a); equal for FlowGMM).</summary>
    public static double[] LogWeights(ICouplingFlow<T> flow, int k)
    {
        if (!flow.ParameterTensors.Any(t => t.Name == "base.logits")) return Enumerable.Repeat(-Math.Log(k), k).ToArray();
        double[] a = Tensor(flow, "base.logits");
        double max = a.Max(), lse = max + Math.Log(a.Sum(v => Math.Exp(v - max)));
        return a.Select(v => v - lse).ToArray();
    }

    /// <summary>The draws for n rows from <c>new FlowRandom(seed)</c>; <paramref name="component"/> ≥ 0: the mixture's per-component path.</summary>
    public static BaseDraws<T> Replay(ICouplingFlow<T> flow, int n, ulong seed, int component = -1)
    {
        int d = flow.Dim;
        var rng = new FlowRandom(seed);
        var r = new BaseDraws<T> { BaseKind = KindOf(flow), dim = d, Noise = new T[n * d], ZDouble = new double[n * d] };
        switch (r.BaseKind)
        {
            case "standard_normal":
            case "diagonal_gaussian":
            {
                FillGaussian(rng, r.Noise);
                double[] mu = r.BaseKind == "standard_normal" ? new double[d] : Tensor(flow, "base.means");
                double[] s = r.BaseKind == "standard_normal" ? new double[d] : Tensor(flow, "base.log_scales");
                for (int j = 0; j < n * d; j++) r.ZDouble[j] = mu[j % d] + Math.Exp(s[j % d]) * ToDouble(r.Noise[j]);
                break;
            }
            case "gaussian_mixture":
            {
                var mixture = (IGaussianMixtureFlow<T>)flow;
                int k = mixture.Components;
                double[] mu = Tensor(flow, "base.means"), s = Tensor(flow, "base.log_scales");
                double[] w = LogWeights(flow, k).Select(Math.Exp).ToArray();
                r.Chosen = new int[n];
                if (component < 0) r.Uniform = new double[n]; else r.Components = Enumerable.Repeat((long)component, n).ToArray();
                for (int row = 0; row < n; row++)
                {
                    int c = component;
                    if (c < 0)
                    {
                        double u = r.Uniform![row] = rng.NextDouble(), cumulative = 0;
                        c = k - 1;
                        for (int j = 0; j < k - 1; j++) { cumulative += w[j]; if (u < cumulative) { c = j; break; } }
                    }
                    r.Chosen[row] = c;
                    for (int i = 0; i < d; i++)
                    {
                        T e = FromDouble<T>(rng.NextGaussian());
                        r.Noise[row * d + i] = e;
                        double sigma = Math.Exp(s.Length == 1 ? s[0] : s[c * d + i]);
                        r.ZDouble[row * d + i] = mu[c * d + i] + sigma * ToDouble(e);
                    }
                }
                break;
            }
            case "student_t":
            {
                double[] eta = Tensor(flow, "base.log_dof");
                r.ChiSquare = new T[n * d];
                for (int row = 0; row < n; row++)
                    for (int i = 0; i < d; i++)
                    {
                        double nu = Math.Exp(eta[i]);
                        double e = rng.NextGaussian(), v = 2 * BaseFunctions.Gamma(rng, 0.5 * nu);
                        r.Noise[row * d + i] = FromDouble<T>(e);
                        r.ChiSquare[row * d + i] = FromDouble<T>(v);
                        r.ZDouble[row * d + i] = e / Math.Sqrt(v / nu);
                    }
                break;
            }
            default: throw new InvalidOperationException($"base {r.BaseKind}");
        }
        r.Z = r.ZDouble.Select(FromDouble<T>).ToArray();
        return r;
    }

    /// <summary>The Sample (or, with a component, SampleComponent) graph's inputs.</summary>
    public List<NamedOnnxValue> Feeds(T[] contexts, int c)
    {
        var feeds = OnnxExportTests.Feeds(OnnxFlowNames.Noise, Noise, dim, contexts, c);
        int n = Noise.Length / dim;
        if (Uniform is not null) feeds.Add(OrtValues.Tensor(OnnxFlowNames.Uniform, Uniform, n));
        if (Components is not null) feeds.Add(OrtValues.Tensor(OnnxFlowNames.Component, Components, n));
        if (BaseKind == "student_t") feeds.Add(OrtValues.Tensor(OnnxFlowNames.ChiSquare, ChiSquare, n, dim));
        return feeds;
    }

    private static void FillGaussian(FlowRandom rng, T[] values)
    {
        if (values is float[] f) rng.FillGaussian(f);
        else rng.FillGaussian((double[])(object)values);
    }
}
