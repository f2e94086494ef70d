using System;
using System.Linq;
using FlowGen.Tests.Models;

namespace FlowGen.Tests;

/// <summary>The initial means of a Gaussian-mixture base (docs/model.md §11.3), checked against distances computed here.</summary>
public class MeanPlacementTests
{
    private static double[][] Means(double[] parameters, ParameterTensor t) =>
        Enumerable.Range(0, t.Shape[0]).Select(c => parameters.AsSpan(t.Offset + c * t.Shape[1], t.Shape[1]).ToArray()).ToArray();

    private static double Distance(double[] a, double[] b) => Math.Sqrt(a.Zip(b, (x, y) => (x - y) * (x - y)).Sum());

    /// <summary>By default (K ≤ Dim + 1) the means are a regular simplex centred at 0, every pair 7.5 apart, the same for every seed.</summary>
    [Fact]
    public void DefaultMeansAreARegularSimplexSevenAndAHalfApart()
    {
        ParameterTensor t = FlowGmmBase2D.ParameterTensors.Single(p => p.Name == "base.means");
        double[][] first = Means(new FlowGmmBase2D(1).Parameters.ToArray(), t), other = Means(new FlowGmmBase2D(7).Parameters.ToArray(), t);
        Assert.Equal(3, first.Length);
        for (int a = 0; a < 3; a++)
        {
            Assert.Equal(first[a], other[a]);
            for (int b = a + 1; b < 3; b++) Assert.Equal(GaussianMixtureBaseAttribute.DefaultMeanSeparation, Distance(first[a], first[b]), 1e-12);
        }
        for (int j = 0; j < 2; j++) Assert.Equal(0, first.Sum(m => m[j]), 1e-12);

        // K = 4 in 3 coordinates (K = Dim + 1): a tetrahedron
        ParameterTensor t3 = MixtureBase3DFloat.ParameterTensors.Single(p => p.Name == "base.means");
        float[] p3 = new MixtureBase3DFloat(2).Parameters.ToArray();
        double[][] tetra = Enumerable.Range(0, 4).Select(c => p3.Skip(t3.Offset + 3 * c).Take(3).Select(v => (double)v).ToArray()).ToArray();
        for (int a = 0; a < 4; a++)
            for (int b = a + 1; b < 4; b++) Assert.Equal(7.5, Distance(tetra[a], tetra[b]), 1e-5);
    }

    /// <summary>More components than a simplex in Dim coordinates holds: seeded draws with spread MeanSeparation/√(2·Dim).</summary>
    [Fact]
    public void ManyComponentsAreDrawnWithTheSeparationsSpread()
    {
        ParameterTensor t = ManyComponents2D.ParameterTensors.Single(p => p.Name == "base.means");
        double[] p = new ManyComponents2D(3).Parameters.Slice(t.Offset, 10).ToArray();
        // the same flow with MeanSpread = 2 draws the same ε (the layers draw first, docs/model.md §11): its means are 2·ε
        double s = 7.5 / Math.Sqrt(2 * 2);
        double[] random = new ManyComponents2DSpread(3).Parameters.Slice(t.Offset, 10).ToArray();
        for (int j = 0; j < p.Length; j++) Assert.Equal(random[j] * s / 2, p[j], 1e-12);
        Assert.NotEqual(p, new ManyComponents2D(4).Parameters.Slice(t.Offset, 10).ToArray());
    }

    /// <summary>MeanSpread keeps the seeded draws μ = MeanSpread·ε (every declaration that gives it keeps its values).</summary>
    [Fact]
    public void MeanSpreadDrawsAtRandom()
    {
        ParameterTensor t = SemiSupervised2D.ParameterTensors.Single(p => p.Name == "base.means");
        double[] two = new SemiSupervised2D(5).Parameters.Slice(t.Offset, 6).ToArray();
        double[] three = new SemiSupervisedFixedScale2D(5).Parameters.Slice(t.Offset, 6).ToArray();
        for (int j = 0; j < two.Length; j++) Assert.Equal(two[j] * 1.5, three[j], 1e-12);
        Assert.Contains("\"mean_spread\":2,\"mean_separation\":0", SemiSupervised2D.StackSpec);
        Assert.Contains("\"mean_spread\":0,\"mean_separation\":7.5", FlowGmmBase2D.StackSpec);
    }
}
