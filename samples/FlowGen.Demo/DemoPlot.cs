using System;
using System.Collections.Generic;
using System.Linq;
using System.IO;
using FlowGen;
using ScottPlot;

namespace FlowGen.Demo;

/// <summary>
/// The demo's figure: three square panels side by side in the data's own units — the training data, samples drawn from the
/// trained flow, and the flow's density (exp(LogProb) on a grid for 2-D data; a histogram of flow samples of the first two
/// coordinates, i.e. the learned marginal, for n-D data). ScottPlot renders through SkiaSharp, headless on Linux too.
/// </summary>
internal static class DemoPlot
{
    public const int ScatterPoints = 4000;
    private const int Grid = 220;
    private const int HistogramSamples = 400_000;
    private const int HistogramBins = 120;

    // every panel gets the same fixed padding around a square data area, so equal axis ranges mean equal units
    private const int DataArea = 400, PadLeft = 70, PadRight = 110, PadBottom = 55, PadTop = 45;

    private static readonly string[] SansSerifFonts = ["DejaVu Sans", "Liberation Sans", "Noto Sans"];

    /// <summary>Renders the figure and writes it to <paramref name="path"/>.</summary>
    /// <returns>How many of the flow's samples were not finite (left out of the plot).</returns>
    public static int Save(string path, DataSet data, ICouplingFlow<float> flow, string dataTitle, string densityTitle, int seed)
    {
        // ScottPlot's default face on Linux can be a serif one; prefer a common sans-serif face where it is installed
        string? sans = SansSerifFonts.FirstOrDefault(name => Fonts.GetTypeface(name, bold: false, italic: false)?.FamilyName == name);
        if (sans is not null) Fonts.Default = sans;

        Limits view = Limits.Around(data.Train, data.Dim);
        var figure = new Multiplot { Layout = new ScottPlot.MultiplotLayouts.Columns() };
        figure.AddPlots(3);

        Plot left = figure.GetPlot(0);
        Scatter(left, data.Train, data.Dim, Colors.SteelBlue);
        Decorate(left, dataTitle, data, view);

        var rng = new FlowRandom((ulong)seed ^ 0x5A3B1E5UL);
        float[] samples = new float[ScatterPoints * data.Dim];
        int nonFinite = flow.Sample(samples, default, default, rng);
        data.Scaler.InverseInPlace(samples);
        Plot middle = figure.GetPlot(1);
        Scatter(middle, samples, data.Dim, Colors.OrangeRed);
        Decorate(middle, $"Samples from the flow ({ScatterPoints:N0} draws)", data, view);

        Plot right = figure.GetPlot(2);
        double[,] density = data.Dim == 2 ? DensityGrid(flow, data.Scaler, view) : MarginalHistogram(flow, data, view, rng, ref nonFinite);
        var heatmap = right.Add.Heatmap(density);
        heatmap.Colormap = new ScottPlot.Colormaps.Magma();
        heatmap.Rectangle = new CoordinateRect(view.XMin, view.XMax, view.YMin, view.YMax);
        var colorBar = right.Add.ColorBar(heatmap);
        colorBar.Label = "density";
        colorBar.Axis.TickGenerator = new ScottPlot.TickGenerators.NumericAutomatic { TargetTickCount = 8 };
        Decorate(right, densityTitle, data, view);

        string? directory = Path.GetDirectoryName(Path.GetFullPath(path));
        if (directory is not null) Directory.CreateDirectory(directory);
        figure.SavePng(path, 3 * (PadLeft + DataArea + PadRight), PadTop + DataArea + PadBottom);
        return nonFinite;
    }

    private static void Scatter(Plot plot, float[] rows, int dim, Color color)
    {
        var xs = new List<double>();
        var ys = new List<double>();
        for (int i = 0; i < Math.Min(ScatterPoints, rows.Length / dim); i++)
        {
            if (!float.IsFinite(rows[i * dim]) || !float.IsFinite(rows[i * dim + 1])) continue;
            xs.Add(rows[i * dim]);
            ys.Add(rows[i * dim + 1]);
        }
        var points = plot.Add.ScatterPoints(xs.ToArray(), ys.ToArray(), color.WithAlpha(0.45));
        points.MarkerSize = 3;
    }

    private static void Decorate(Plot plot, string title, DataSet data, Limits view)
    {
        plot.Title(title, size: 15);
        plot.XLabel(data.ColumnNames[0], size: 13);
        plot.YLabel(data.ColumnNames[1], size: 13);
        plot.Axes.SetLimits(view.XMin, view.XMax, view.YMin, view.YMax);
        plot.Layout.Fixed(new PixelPadding(PadLeft, PadRight, PadBottom, PadTop));
    }

    /// <summary>exp(LogProb) in data units at the cell centres; row 0 is the top row, as the heat map draws it.</summary>
    private static double[,] DensityGrid(ICouplingFlow<float> flow, Standardizer scaler, Limits view)
    {
        var points = new float[Grid * Grid * 2];
        for (int r = 0; r < Grid; r++)
        {
            double y = view.YMax - (r + 0.5) * (view.YMax - view.YMin) / Grid;
            for (int c = 0; c < Grid; c++)
            {
                int k = 2 * (r * Grid + c);
                points[k] = (float)(view.XMin + (c + 0.5) * (view.XMax - view.XMin) / Grid);
                points[k + 1] = (float)y;
            }
        }
        float[] standardised = scaler.Apply(points);
        var logProbs = new float[Grid * Grid];
        flow.LogProb(standardised, default, logProbs);
        var density = new double[Grid, Grid];
        for (int r = 0; r < Grid; r++)
        {
            for (int c = 0; c < Grid; c++) density[r, c] = Math.Exp(logProbs[r * Grid + c] + scaler.LogDet);
        }
        return density;
    }

    /// <summary>The density of the first two coordinates of flow samples (a normalised 2-D histogram); row 0 is the top row.</summary>
    private static double[,] MarginalHistogram(ICouplingFlow<float> flow, DataSet data, Limits view, FlowRandom rng, ref int nonFinite)
    {
        var samples = new float[HistogramSamples * data.Dim];
        nonFinite += flow.Sample(samples, default, default, rng);
        data.Scaler.InverseInPlace(samples);
        var density = new double[HistogramBins, HistogramBins];
        double width = (view.XMax - view.XMin) / HistogramBins, height = (view.YMax - view.YMin) / HistogramBins;
        double weight = 1.0 / (HistogramSamples * width * height);
        for (int i = 0; i < HistogramSamples; i++)
        {
            int c = (int)Math.Floor((samples[i * data.Dim] - view.XMin) / width);
            int r = (int)Math.Floor((view.YMax - samples[i * data.Dim + 1]) / height);
            if (c >= 0 && c < HistogramBins && r >= 0 && r < HistogramBins) density[r, c] += weight;
        }
        return density;
    }

    /// <summary>The plotted region: the central 99% of the training data's first two coordinates plus a margin, square when the ranges are comparable.</summary>
    private readonly record struct Limits(double XMin, double XMax, double YMin, double YMax)
    {
        private const double MaxAspectForEqualAxes = 4;

        public static Limits Around(float[] rows, int dim)
        {
            (double x0, double x1) = Range(rows, dim, 0);
            (double y0, double y1) = Range(rows, dim, 1);
            double halfX = (x1 - x0) / 2, halfY = (y1 - y0) / 2;
            double cx = (x0 + x1) / 2, cy = (y0 + y1) / 2;
            if (Math.Max(halfX, halfY) <= MaxAspectForEqualAxes * Math.Min(halfX, halfY))
            {
                halfX = halfY = Math.Max(halfX, halfY); // equal axes
            }
            return new Limits(cx - halfX, cx + halfX, cy - halfY, cy + halfY);
        }

        private static (double Min, double Max) Range(float[] rows, int dim, int column)
        {
            int n = rows.Length / dim;
            var values = new float[n];
            for (int i = 0; i < n; i++) values[i] = rows[i * dim + column];
            Array.Sort(values);
            double lo = values[(int)(0.005 * (n - 1))], hi = values[(int)Math.Ceiling(0.995 * (n - 1))];
            double margin = 0.12 * Math.Max(hi - lo, 1e-9);
            return (lo - margin, hi + margin);
        }
    }
}
