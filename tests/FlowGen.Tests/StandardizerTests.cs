using System;
using System.Linq;

namespace FlowGen.Tests;

/// <summary>
/// The standardiser: its statistics and maps against independent computations, its refusals, and the sign of its
/// log-determinant (a flow's density in data units against a finite-difference change of variables).
/// </summary>
public class StandardizerTests
{
    /// <summary>Rows of three columns at very different scales and offsets.</summary>
    private static double[] Data(int n, ulong seed)
    {
        var rng = new FlowRandom(seed);
        var data = new double[3 * n];
        for (int i = 0; i < n; i++)
        {
            data[3 * i] = 250 + 40 * rng.NextGaussian();
            data[3 * i + 1] = -0.003 + 0.0007 * rng.NextGaussian();
            data[3 * i + 2] = 2 * rng.NextDouble() - 1;
        }
        return data;
    }

    [Fact]
    public void FitApplyAndInverseMatchAnIndependentComputation()
    {
        double[] data = Data(1000, 1);
        var s = Standardizer.Fit<double>(data, 3);
        Assert.Equal(3, s.Dim);
        for (int j = 0; j < 3; j++)
        {
            double[] column = Enumerable.Range(0, 1000).Select(i => data[3 * i + j]).ToArray();
            double mean = column.Average();
            double std = Math.Sqrt(column.Select(v => (v - mean) * (v - mean)).Average()); // population standard deviation
            Assert.Equal(mean, s.Mean[j], 1e-12 * (1 + Math.Abs(mean)));
            Assert.Equal(std, s.StandardDeviation[j], 1e-12 * std);
        }
        Assert.Equal(-(Math.Log(s.StandardDeviation[0]) + Math.Log(s.StandardDeviation[1]) + Math.Log(s.StandardDeviation[2])), s.LogDet, 1e-14);
        Assert.True(s.LogDet > 0, "σ = (40, 0.0007, 0.58): the standardisation expands volume");

        double[] z = s.Apply<double>(data);
        for (int k = 0; k < data.Length; k++) Assert.Equal((data[k] - s.Mean[k % 3]) / s.StandardDeviation[k % 3], z[k]);
        // standardised: every column has mean 0 and standard deviation 1
        for (int j = 0; j < 3; j++)
        {
            double[] column = Enumerable.Range(0, 1000).Select(i => z[3 * i + j]).ToArray();
            Assert.InRange(column.Average(), -1e-12, 1e-12);
            Assert.InRange(Math.Sqrt(column.Select(v => v * v).Average()), 1 - 1e-12, 1 + 1e-12);
        }
        // the in-place and destination forms are the same map; Inverse undoes it
        var inPlace = (double[])data.Clone();
        s.ApplyInPlace<double>(inPlace);
        Assert.Equal(z, inPlace);
        var destination = new double[data.Length];
        s.Apply<double>(data, destination);
        Assert.Equal(z, destination);
        double[] back = s.Inverse<double>(z);
        for (int k = 0; k < data.Length; k++) Assert.Equal(data[k], back[k], 1e-12 * (1 + Math.Abs(data[k])));
        s.InverseInPlace<double>(inPlace);
        Assert.Equal(back, inPlace);
        s.Inverse<double>(z, destination);
        Assert.Equal(back, destination);
    }

    [Fact]
    public void FloatRowsAreMappedInDoubleAndRoundedOnce()
    {
        float[] data = Data(500, 2).Select(v => (float)v).ToArray();
        var s = Standardizer.Fit<float>(data, 3);
        var d = Standardizer.Fit<double>(data.Select(v => (double)v).ToArray(), 3);
        Assert.Equal(d.Mean, s.Mean);
        Assert.Equal(d.StandardDeviation, s.StandardDeviation);
        float[] z = s.Apply<float>(data);
        for (int k = 0; k < data.Length; k++) Assert.Equal((float)((data[k] - s.Mean[k % 3]) / s.StandardDeviation[k % 3]), z[k]);
        float[] back = s.Inverse<float>(z);
        for (int k = 0; k < data.Length; k++) Assert.Equal((float)(z[k] * s.StandardDeviation[k % 3] + s.Mean[k % 3]), back[k]);
    }

    [Fact]
    public void AFlowsLogProbInDataUnitsIsLogProbOfTheStandardisedRowsPlusLogDet()
    {
        // x ↦ z = f(s(x)): log p(x) = log N(z) + log|det ∂z/∂x|, with the Jacobian by central differences in the data's units
        double[] data = Data(400, 3);
        var s = Standardizer.Fit<double>(data, 3);
        ICouplingFlow<double> flow = new Dense3Double(seed: 4);
        var rng = new FlowRandom(5);
        Span<double> parameters = flow.Parameters;
        for (int i = 0; i < parameters.Length; i++) parameters[i] += 0.2 * rng.NextGaussian(); // away from the identity initialisation

        const int Rows = 40;
        double[] x = data.AsSpan(0, 3 * Rows).ToArray();
        var logProbs = new double[Rows];
        flow.LogProb(s.Apply<double>(x), default, logProbs);
        var z = new double[3];
        for (int r = 0; r < Rows; r++)
        {
            double[] row = x.AsSpan(3 * r, 3).ToArray();
            Map(row, z);
            double logBase = -0.5 * (z[0] * z[0] + z[1] * z[1] + z[2] * z[2]) - 1.5 * Math.Log(2 * Math.PI);
            var jacobian = new double[3, 3];
            for (int j = 0; j < 3; j++)
            {
                double h = 1e-5 * s.StandardDeviation[j];
                double[] plus = (double[])row.Clone(), minus = (double[])row.Clone();
                plus[j] += h;
                minus[j] -= h;
                var zp = new double[3];
                var zm = new double[3];
                Map(plus, zp);
                Map(minus, zm);
                for (int i = 0; i < 3; i++) jacobian[i, j] = (zp[i] - zm[i]) / (plus[j] - minus[j]);
            }
            double det = jacobian[0, 0] * (jacobian[1, 1] * jacobian[2, 2] - jacobian[1, 2] * jacobian[2, 1])
                - jacobian[0, 1] * (jacobian[1, 0] * jacobian[2, 2] - jacobian[1, 2] * jacobian[2, 0])
                + jacobian[0, 2] * (jacobian[1, 0] * jacobian[2, 1] - jacobian[1, 1] * jacobian[2, 0]);
            double inDataUnits = logBase + Math.Log(Math.Abs(det));
            Assert.Equal(inDataUnits, logProbs[r] + s.LogDet, 1e-6);
        }

        void Map(double[] point, double[] latent)
        {
            double[] standardized = s.Apply<double>(point);
            flow.Forward(standardized, default, latent, default);
        }
    }

    [Fact]
    public void DataUnitNllOfAnIdentityFlowIsTheFittedGaussiansNll()
    {
        // a fresh flow is the identity (every coupling starts so): its density of standardised rows is N(0, I), so in data
        // units it is N(μ, diag σ²) with the fitted μ, σ, whose mean NLL has a closed form: Σⱼ (½ log 2πσⱼ² + ½)
        double[] data = Data(2000, 6);
        var s = Standardizer.Fit<double>(data, 3);
        ICouplingFlow<double> identity = new Dense3Double(seed: 1);
        double nll = FlowTrainer.MeanNll<double>(identity, s.Apply<double>(data), threads: 1) - s.LogDet;
        double expected = Enumerable.Range(0, 3).Sum(j => 0.5 * Math.Log(2 * Math.PI * s.StandardDeviation[j] * s.StandardDeviation[j]) + 0.5);
        Assert.Equal(expected, nll, 1e-10);
    }

    [Fact]
    public void BadDataIsRefusedWithAClearMessage()
    {
        double[] data = Data(10, 7);
        for (int i = 0; i < 10; i++) data[3 * i + 1] = 0.25;
        var e = Assert.Throws<ArgumentException>(() => Standardizer.Fit<double>(data, 3));
        Assert.StartsWith("Column 1 of data is constant (0.25): its standard deviation is 0", e.Message, StringComparison.Ordinal);
        Assert.Equal("data", e.ParamName);

        Assert.Contains("at least 2 rows", Assert.Throws<ArgumentException>(() => Standardizer.Fit<double>(new double[] { 1, 2, 3 }, 3)).Message, StringComparison.Ordinal);
        Assert.Contains("multiple of Dim = 3", Assert.Throws<ArgumentException>(() => Standardizer.Fit<double>(new double[7], 3)).Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentOutOfRangeException>(() => Standardizer.Fit<double>(new double[6], 0));
        double[] withNaN = Data(10, 8);
        withNaN[3 * 4 + 2] = double.NaN;
        Assert.StartsWith("Row 4 of data has a non-finite value (NaN) at column 2", Assert.Throws<ArgumentException>(() => Standardizer.Fit<double>(withNaN, 3)).Message, StringComparison.Ordinal);

        var s = Standardizer.Fit<double>(Data(10, 9), 3);
        Assert.Contains("multiple of Dim = 3", Assert.Throws<ArgumentException>(() => s.Apply<double>(new double[4])).Message, StringComparison.Ordinal);
        var wrong = Assert.Throws<ArgumentException>(() => s.Apply<double>(new double[6], new double[3]));
        Assert.Equal("destination", wrong.ParamName);
        Assert.StartsWith("destination.Length must be 6 (data.Length); it is 3.", wrong.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => s.Inverse<double>(new double[6], new double[9]));
    }

    [Fact]
    public void AStoredStandardiserIsRebuiltFromItsStatistics()
    {
        var fitted = Standardizer.Fit<double>(Data(100, 10), 3);
        var rebuilt = new Standardizer(fitted.Mean.ToArray(), fitted.StandardDeviation.ToArray());
        Assert.Equal(fitted.LogDet, rebuilt.LogDet);
        Assert.Equal(fitted.Apply<double>(Data(5, 11)), rebuilt.Apply<double>(Data(5, 11)));
        Assert.Equal(fitted.ToString(), rebuilt.ToString());
        Assert.StartsWith("Standardizer(Dim 3: mean [", fitted.ToString(), StringComparison.Ordinal);

        Assert.Throws<ArgumentException>(() => new Standardizer(new double[] { 0, 1 }, new double[] { 1 }));
        Assert.Throws<ArgumentException>(() => new Standardizer(new double[] { 0 }, new double[] { 0 }));
        Assert.Throws<ArgumentException>(() => new Standardizer(new double[] { double.NaN }, new double[] { 1 }));
        Assert.Throws<ArgumentException>(() => new Standardizer(ReadOnlySpan<double>.Empty, ReadOnlySpan<double>.Empty));
    }
}

/// <summary>A 3-D double flow for the standardiser's tests.</summary>
[CouplingFlow<double>(Dim = 3, Layers = 4, Hidden = [16])]
public partial class Dense3Double;
