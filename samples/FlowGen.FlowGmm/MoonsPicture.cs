using System;
using System.Diagnostics;
using System.Globalization;
using System.Linq;
using ScottPlot;

namespace FlowGen.FlowGmm;

/// <summary>
/// Two moons (1000 points, noise 0.1) with 3 labelled points per moon: FlowGMM trained on all of them, the points coloured by
/// the predicted class, the labelled ones marked, and the learned component means μ_k mapped to data space as f⁻¹(μ_k).
/// </summary>
internal static class MoonsPicture
{
    private const int Rows = 1000, LabelsPerClass = 3;
    private const double Noise = 0.1;

    public static int Run(int steps, ulong seed, string path, Action<string> log)
    {
        var rng = new FlowRandom(seed);
        var raw = new double[Rows * 2];
        var y = new int[Rows];
        for (int i = 0; i < Rows; i++)
        {
            int c = i % 2;
            double t = Math.PI * rng.NextDouble();
            raw[2 * i] = (c == 0 ? Math.Cos(t) : 1 - Math.Cos(t)) + Noise * rng.NextGaussian();
            raw[2 * i + 1] = (c == 0 ? Math.Sin(t) : 0.5 - Math.Sin(t)) + Noise * rng.NextGaussian();
            y[i] = c;
        }
        int[] labels = Enumerable.Repeat(-1, Rows).ToArray();
        for (int c = 0; c < 2; c++)
            foreach (int i in PenguinsExperiment.Shuffle(Enumerable.Range(0, Rows).Where(i => y[i] == c).ToArray(), rng).Take(LabelsPerClass))
                labels[i] = c;
        var scaler = Standardizer.Fit<double>(raw, 2);
        double[] x = scaler.Apply<double>(raw);

        var clock = Stopwatch.StartNew();
        var flow = new MoonsFlow(seed);
        var result = FlowTrainer.TrainSemiSupervised(flow, x, labels, new SemiSupervisedOptions
        {
            Training = new TrainingOptions { Steps = steps, BatchSize = 128, LearningRate = 1e-3, ValidationFraction = 0, Seed = seed, Threads = 1 },
        });
        double seconds = clock.Elapsed.TotalSeconds;
        var predicted = new int[Rows];
        flow.Classify(x, predicted);
        double accuracy = predicted.Zip(y).Count(p => p.First == p.Second) / (double)Rows;
        log(string.Create(CultureInfo.InvariantCulture,
            $"Two moons, {Rows} points, {LabelsPerClass} labels per moon: {steps} steps in {seconds:F1} s (status {result.Training.Status}); accuracy on all points {accuracy:P1}."));

        // the component means in data space: x = f⁻¹(μ_k), then undo the standardisation
        ParameterTensor meansTensor = MoonsFlow.ParameterTensors.Single(t => t.Name == "base.means");
        double[] means = flow.Parameters.Slice(meansTensor.Offset, 2 * 2).ToArray();
        var meanX = new double[2];
        var meanY = new double[2];
        var u = new double[2];
        for (int k = 0; k < 2; k++)
        {
            flow.Inverse((ReadOnlySpan<double>)means.AsSpan(2 * k, 2), u);
            meanX[k] = scaler.Mean[0] + scaler.StandardDeviation[0] * u[0];
            meanY[k] = scaler.Mean[1] + scaler.StandardDeviation[1] * u[1];
        }

        string? sans = new[] { "DejaVu Sans", "Liberation Sans", "Noto Sans" }
            .FirstOrDefault(name => Fonts.GetTypeface(name, bold: false, italic: false)?.FamilyName == name);
        if (sans is not null) Fonts.Default = sans;
        var plot = new Plot();
        Color[] colors = [Colors.SteelBlue, Colors.DarkOrange];
        for (int c = 0; c < 2; c++)
        {
            int[] rows = Enumerable.Range(0, Rows).Where(i => predicted[i] == c).ToArray();
            var points = plot.Add.ScatterPoints(rows.Select(i => raw[2 * i]).ToArray(), rows.Select(i => raw[2 * i + 1]).ToArray(), colors[c].WithAlpha(0.5));
            points.MarkerSize = 4;
            points.LegendText = $"predicted class {c}";
        }
        for (int c = 0; c < 2; c++)
        {
            int[] rows = Enumerable.Range(0, Rows).Where(i => labels[i] == c).ToArray();
            var marked = plot.Add.ScatterPoints(rows.Select(i => raw[2 * i]).ToArray(), rows.Select(i => raw[2 * i + 1]).ToArray(), colors[c]);
            marked.MarkerShape = MarkerShape.FilledSquare;
            marked.MarkerSize = 11;
            marked.MarkerLineColor = Colors.Black;
            marked.MarkerLineWidth = 1.5f;
            marked.LegendText = $"labelled, class {c}";
        }
        var centres = plot.Add.ScatterPoints(meanX, meanY, Colors.Black);
        centres.MarkerShape = MarkerShape.Cross;
        centres.MarkerSize = 18;
        centres.MarkerLineWidth = 3;
        centres.LegendText = "component means f⁻¹(μ_k)";
        plot.Title(string.Create(CultureInfo.InvariantCulture, $"FlowGMM on two moons, {LabelsPerClass} labels per class: {accuracy:P1} correct"));
        plot.Axes.SquareUnits();
        plot.ShowLegend(Alignment.LowerLeft);
        plot.SavePng(path, 900, 600);
        log($"Wrote {path}.");
        return 0;
    }
}
