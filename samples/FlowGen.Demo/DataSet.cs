using System;
using FlowGen;

namespace FlowGen.Demo;

/// <summary>
/// What the demo trains on: training rows and held-out test rows (row-major, <see cref="Dim"/> columns) in the data's own
/// units, and the standardisation fitted on the training rows that maps both into the space the flow models.
/// </summary>
internal sealed class DataSet
{
    public required string Description { get; init; }
    public required string TestDescription { get; init; }
    public required string[] ColumnNames { get; init; }
    public required float[] Train { get; init; }
    public required float[] Test { get; init; }

    public int Dim => ColumnNames.Length;
    public int TrainRows => Train.Length / Dim;
    public int TestRows => Test.Length / Dim;

    /// <summary>Per-column mean and standard deviation of the training rows.</summary>
    public Standardizer Scaler => _scaler ??= Standardizer.Fit(Train, Dim);

    private Standardizer? _scaler;

    /// <summary>Training and test rows of a toy density: two independent samples, from <paramref name="seed"/> and from a derived seed.</summary>
    public static DataSet FromToy(ToyDensity density, int trainRows, int testRows, int seed)
    {
        var train = new float[trainRows * 2];
        var test = new float[testRows * 2];
        density.Sample(new FlowRandom((ulong)seed), train);
        ulong testSeed = (ulong)seed ^ 0x7E57_7E57_7E57_7E57UL;
        density.Sample(new FlowRandom(testSeed), test);
        return new DataSet
        {
            Description = density.Description,
            TestDescription = $"{testRows:N0} fresh points from another seed",
            ColumnNames = ["x", "y"],
            Train = train,
            Test = test,
        };
    }
}

/// <summary>
/// z = (x − mean) / std per column. A density in standardised space converts to the data's own units by
/// log p(x) = log p(z) − Σ log std, so an NLL moves by <see cref="LogScale"/>.
/// </summary>
internal sealed class Standardizer
{
    private readonly double[] _mean, _std;

    private Standardizer(double[] mean, double[] std)
    {
        _mean = mean;
        _std = std;
    }

    /// <summary>Σ log std: NLL in data units = NLL in standardised units + LogScale.</summary>
    public double LogScale
    {
        get
        {
            double sum = 0;
            foreach (double s in _std) sum += Math.Log(s);
            return sum;
        }
    }

    /// <summary>Fits the mean and population standard deviation of every column; a constant column is an input error.</summary>
    public static Standardizer Fit(ReadOnlySpan<float> rows, int dim)
    {
        int n = rows.Length / dim;
        var mean = new double[dim];
        var std = new double[dim];
        for (int i = 0; i < n; i++)
        {
            for (int j = 0; j < dim; j++) mean[j] += rows[i * dim + j];
        }
        for (int j = 0; j < dim; j++) mean[j] /= n;
        for (int i = 0; i < n; i++)
        {
            for (int j = 0; j < dim; j++)
            {
                double d = rows[i * dim + j] - mean[j];
                std[j] += d * d;
            }
        }
        for (int j = 0; j < dim; j++)
        {
            std[j] = Math.Sqrt(std[j] / n);
            if (!(std[j] > 1e-12 * Math.Max(1, Math.Abs(mean[j]))))
            {
                throw new DemoException($"Column {j + 1} is constant ({mean[j]:G6}) in the training rows; drop it, a density over it is degenerate.");
            }
        }
        return new Standardizer(mean, std);
    }

    /// <summary>The standardised copy of row-major rows.</summary>
    public float[] Apply(ReadOnlySpan<float> rows)
    {
        int dim = _mean.Length;
        var result = new float[rows.Length];
        for (int k = 0; k < rows.Length; k++) result[k] = (float)((rows[k] - _mean[k % dim]) / _std[k % dim]);
        return result;
    }

    /// <summary>Maps standardised rows back to data units, in place.</summary>
    public void Invert(Span<float> rows)
    {
        int dim = _mean.Length;
        for (int k = 0; k < rows.Length; k++) rows[k] = (float)(rows[k] * _std[k % dim] + _mean[k % dim]);
    }
}
