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

    /// <summary>Per-column mean and standard deviation of the training rows; a constant column is an input error.</summary>
    public Standardizer Scaler => _scaler ??= FitScaler();

    private Standardizer? _scaler;

    private Standardizer FitScaler()
    {
        try
        {
            return Standardizer.Fit(Train, Dim);
        }
        catch (ArgumentException e)
        {
            throw new DemoException($"the training rows cannot be standardised: {e.Message}");
        }
    }

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
