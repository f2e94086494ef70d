using System;
using BenchmarkDotNet.Attributes;

namespace FlowGen.Benchmarks;

/// <summary>
/// FlowTrainer end to end (issue 17): one <see cref="FlowTrainer.Train{T}(ICouplingFlow{T}, ReadOnlySpan{T}, TrainingOptions?, IProgress{TrainingProgress}?, System.Threading.CancellationToken)"/>
/// run of <see cref="Steps"/> steps on a fixed data set (<see cref="Rows"/> standard-normal rows of <see cref="Data"/>), from
/// the benchmark weights each time. The settings are those of a plain Adam loop, so that the PyTorch peer
/// (bench/peers/pytorch/trainer.py) does the same work: constant learning rate <see cref="BenchSetup.LearningRate"/>, no
/// validation split (every row is trained on, nothing is evaluated), no clipping, no weight decay. What FlowTrainer does
/// beyond the peer's loop is part of the measurement: the data check, its batch sampler, the divergence guard and the
/// progress window. Time is reported per step (OperationsPerInvoke = Steps), so samples/s = Batch ÷ time, the same
/// formula as the TrainStep rows.
/// </summary>
public abstract class TrainerBench<TFlow> where TFlow : class, ICouplingFlowModel<TFlow, float>
{
    /// <summary>Steps of one training run (both systems).</summary>
    public const int Steps = 100;

    /// <summary>Rows of the training data set.</summary>
    public const int Rows = 65536;

    /// <summary>Seed of the training data set (<see cref="BenchSetup.Gaussian{T}"/>).</summary>
    public const ulong DataSeed = 5;

    /// <summary>The training data set, row-major [<see cref="Rows"/>, Dim]: written by <c>export</c> as R8/train_x.bin for the peer.</summary>
    public static float[] Data(int dim) => BenchSetup.Gaussian<float>(Rows * dim, DataSeed);

    /// <summary>The training options of the run (the same for the peer: constant rate, no validation, Adam defaults).</summary>
    public static TrainingOptions Options(int batch, int threads) => new()
    {
        BatchSize = batch,
        Steps = Steps,
        LearningRate = BenchSetup.LearningRate,
        Schedule = LearningRateSchedule.Constant,
        ValidationFraction = 0,
        RestoreBest = false,
        EvaluateEvery = Steps,
        Threads = threads,
    };

    /// <summary>Samples per step.</summary>
    [Params(256, 4096)]
    public int Batch { get; set; }

    /// <summary>FlowTrainer's worker threads (TrainingOptions.Threads).</summary>
    [Params(1, 2)]
    public int Threads { get; set; }

    private TFlow _flow = null!;
    private float[] _initial = [], _data = [];
    private TrainingOptions _options = null!;
    private double _gaugeBefore = double.NaN;

    /// <summary>The model with the benchmark weights, the data set and the options.</summary>
    [GlobalSetup]
    public void Setup()
    {
        if (Threads is not (1 or 2)) throw new NotSupportedException("Threads must be 1 or 2.");
        _flow = BenchSetup.CreateModel<TFlow, float>();
        _initial = _flow.Parameters.ToArray();
        _data = Data(_flow.Dim);
        _options = Options(Batch, Threads);
        if (Threads == 2) _gaugeBefore = Gauge.Read();
    }

    /// <summary>A 2-thread case records its contention gauge (<see cref="Gauge"/>).</summary>
    [GlobalCleanup]
    public void Cleanup()
    {
        if (Threads == 2 && !double.IsNaN(_gaugeBefore)) Gauge.Write(Gauge.BenchmarkTypeName(this), nameof(TrainRun), Batch, Threads, _gaugeBefore, Gauge.Read());
    }

    /// <summary>One training run of <see cref="Steps"/> steps from the benchmark weights (restoring them costs one copy of the parameters).</summary>
    [Benchmark(OperationsPerInvoke = Steps)]
    public TrainingStatus TrainRun()
    {
        _initial.CopyTo(_flow.Parameters);
        var result = FlowTrainer.Train<float>(_flow, _data, _options);
        if (result.Steps != Steps) throw new InvalidOperationException($"the run stopped after {result.Steps} of {Steps} steps: {result}");
        return result.Status;
    }
}

#pragma warning disable CS1591
public class Trainer_R8_float : TrainerBench<R8Float>;
#pragma warning restore CS1591
