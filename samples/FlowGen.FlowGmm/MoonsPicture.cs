using System;
using System.Globalization;
using System.Linq;
using ScottPlot;

namespace FlowGen.FlowGmm;

/// <summary>
/// Two moons (<see cref="Moons"/>) with 3 labelled points per moon: FlowGMM trained on all of them, the points coloured by
/// the predicted class, the labelled ones marked, and the learned component means μ_k mapped to data space as f⁻¹(μ_k).
/// </summary>
internal static class MoonsPicture
{
    private const int Rows = Moons.Rows, LabelsPerClass = Moons.LabelsPerClass;

    public static int Run(Moons.Settings settings, ulong seed, string path, Action<string> log)
    {
        var (raw, _, _, labels, scaler) = Moons.Data(seed);
        var (flow, accuracy, seconds, result) = Moons.Train(settings, seed);
        var predicted = new int[Rows];
        flow.Classify(scaler.Apply<double>(raw), ReadOnlySpan<double>.Empty, predicted);
        log(string.Create(CultureInfo.InvariantCulture,
            $"Two moons, {Rows} points, {LabelsPerClass} labels per moon: {settings.Steps} steps in {seconds:F1} s (status {result.Training.Status}); accuracy on all points {accuracy:P1}."));

        // the component means in data space: x = f⁻¹(μ_k), then undo the standardisation
        ParameterTensor meansTensor = flow.ParameterTensors.Single(t => t.Name == "base.means");
        double[] means = flow.Parameters.Slice(meansTensor.Offset, 2 * 2).ToArray();
        var meanX = new double[2];
        var meanY = new double[2];
        var u = new double[2];
        for (int k = 0; k < 2; k++)
        {
            flow.Inverse((ReadOnlySpan<double>)means.AsSpan(2 * k, 2), ReadOnlySpan<double>.Empty, u);
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
