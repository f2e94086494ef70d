using System;
using System.Linq;
using FlowGen.Tests.Models;

namespace FlowGen.Tests;

/// <summary>The LU-parameterised invertible linear layer stays invertible while it is trained hard.</summary>
public class InvertibleLinearTrainingTests
{
    [Fact]
    [Trait("Category", "Slow")]
    public void LuLayersStayInvertibleUnderAggressiveTraining()
    {
        // strongly correlated, badly scaled 4-D data: the linear layers must rotate and stretch a lot
        const int N = 4000;
        var rng = new FlowRandom(21);
        var z = new float[4 * N];
        rng.FillGaussian(z);
        var data = new float[4 * N];
        for (int i = 0; i < N; i++)
        {
            float a = z[4 * i], b = z[4 * i + 1], c = z[4 * i + 2], d = z[4 * i + 3];
            data[4 * i] = 20 * a + 3;
            data[4 * i + 1] = 19.9f * a + 0.05f * b;
            data[4 * i + 2] = 0.01f * c - a;
            data[4 * i + 3] = MathF.Tanh(b) * 4 + 0.1f * d;
        }
        var flow = new SingleCoordinate4D(seed: 5);
        ICouplingFlow<float> f = flow;
        TrainingResult result = FlowTrainer.Train<float>(flow, data,
            new TrainingOptions { Steps = 400, BatchSize = 256, LearningRate = 2e-2, EvaluateEvery = 100, Seed = 3 });
        Assert.NotEqual(TrainingStatus.Diverged, result.Status);

        float[] p = flow.Parameters.ToArray();
        int layers = 0;
        foreach (ParameterTensor t in f.ParameterTensors.Where(t => t.Name.EndsWith(".log_diag", StringComparison.Ordinal)))
        {
            layers++;
            string prefix = t.Name[..^".log_diag".Length];
            ParameterTensor lower = f.ParameterTensors.Single(u => u.Name == prefix + ".lower");
            ParameterTensor upper = f.ParameterTensors.Single(u => u.Name == prefix + ".upper");
            const int D = 4;
            // W' = L·(U + diag(exp ℓ)) (the fixed permutation P does not change invertibility)
            var l = new double[D, D];
            var u = new double[D, D];
            for (int i = 0, k = 0; i < D; i++)
            {
                l[i, i] = 1;
                for (int j = 0; j < i; j++) l[i, j] = p[lower.Offset + k++];
            }
            for (int i = 0, k = 0; i < D; i++)
            {
                double logDiag = p[t.Offset + i];
                Assert.True(double.IsFinite(logDiag) && Math.Abs(logDiag) < 30, $"{t.Name}[{i}] = {logDiag}");
                u[i, i] = Math.Exp(logDiag);
                for (int j = i + 1; j < D; j++) u[i, j] = p[upper.Offset + k++];
            }
            var w = new double[D, D];
            for (int i = 0; i < D; i++)
                for (int j = 0; j < D; j++)
                    for (int k = 0; k < D; k++) w[i, j] += l[i, k] * u[k, j];
            // det W' = Π exp ℓ_i > 0, and W'⁻¹ = U⁻¹L⁻¹ by triangular solves reproduces the identity
            var inverse = new double[D, D];
            for (int col = 0; col < D; col++)
            {
                var y = new double[D];
                for (int i = 0; i < D; i++)
                {
                    y[i] = i == col ? 1 : 0;
                    for (int j = 0; j < i; j++) y[i] -= l[i, j] * y[j];
                }
                for (int i = D - 1; i >= 0; i--)
                {
                    double s = y[i];
                    for (int j = i + 1; j < D; j++) s -= u[i, j] * inverse[j, col];
                    inverse[i, col] = s / u[i, i];
                }
            }
            for (int i = 0; i < D; i++)
                for (int j = 0; j < D; j++)
                {
                    double e = 0;
                    for (int k = 0; k < D; k++) e += w[i, k] * inverse[k, j];
                    Assert.True(Math.Abs(e - (i == j ? 1 : 0)) < 1e-9, $"{prefix}: (W·W⁻¹)[{i},{j}] = {e}");
                }
        }
        Assert.Equal(6, layers);

        // the trained flow still inverts its own outputs, with log-dets that cancel
        float[] xs = data.AsSpan(0, 4 * 512).ToArray();
        var zs = new float[xs.Length];
        var back = new float[xs.Length];
        var ld = new float[512];
        var ldInverse = new float[512];
        flow.Forward(xs, zs, ld);
        Assert.Equal(0, flow.Inverse(zs, back, ldInverse));
        for (int i = 0; i < xs.Length; i++)
            Assert.True(Math.Abs(back[i] - xs[i]) <= 1e-3 * (1 + Math.Abs(xs[i])), $"round trip {xs[i]} → {back[i]}");
        for (int i = 0; i < ld.Length; i++)
            Assert.True(Math.Abs(ld[i] + ldInverse[i]) <= 1e-3 * (1 + Math.Abs(ld[i])), $"log-dets {ld[i]} and {ldInverse[i]}");
    }
}
