using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;

namespace FlowGen.FlowGmm;

/// <summary>
/// The Palmer penguins (vega-datasets 3.2.1, data/penguins.json, BSD-3-Clause): 344 rows, of which the 2 with a missing
/// measurement are dropped when penguins.csv was written; 4 features, 3 species.
/// </summary>
internal static class Penguins
{
    public const int Dim = 4;
    public const int RowsInSource = 344;
    public static readonly string[] Species = ["Adelie", "Chinstrap", "Gentoo"];

    /// <summary>Features [n, 4] (beak length, beak depth, flipper length, body mass) and species indices.</summary>
    public static (double[] X, int[] Y) Load()
    {
        using Stream stream = typeof(Penguins).Assembly.GetManifestResourceStream("penguins.csv")
            ?? throw new InvalidOperationException("penguins.csv is not embedded.");
        using var reader = new StreamReader(stream);
        reader.ReadLine(); // header
        var x = new List<double>();
        var y = new List<int>();
        for (string? line = reader.ReadLine(); line is not null; line = reader.ReadLine())
        {
            if (line.Length == 0) continue;
            string[] f = line.Split(',');
            int species = Array.IndexOf(Species, f[0]);
            if (species < 0) throw new InvalidDataException($"unknown species '{f[0]}'");
            y.Add(species);
            for (int j = 0; j < Dim; j++) x.Add(double.Parse(f[1 + j], CultureInfo.InvariantCulture));
        }
        return (x.ToArray(), y.ToArray());
    }
}
