using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using FlowGen;

namespace FlowGen.Demo;

/// <summary>
/// Reads the user's own data: numeric columns separated by commas, semicolons or tabs, an optional header row, blank lines and
/// lines starting with '#' ignored. A random tenth of the rows is held out as the test set.
/// </summary>
internal static class CsvData
{
    private const double TestFraction = 0.1;
    private const int MinimumRows = 20;

    public static DataSet Load(string path, int seed)
    {
        if (!File.Exists(path)) throw new DemoException($"--csv: file not found: {Path.GetFullPath(path)}");
        var lines = new List<(int Number, string Text)>();
        int number = 0;
        foreach (string line in File.ReadLines(path))
        {
            number++;
            string trimmed = line.Trim();
            if (trimmed.Length > 0 && trimmed[0] != '#') lines.Add((number, trimmed));
        }
        if (lines.Count == 0) throw new DemoException($"--csv: {path} holds no data.");

        char separator = lines[0].Text.Contains(',') ? ',' : lines[0].Text.Contains(';') ? ';' : '\t';
        string[] first = Split(lines[0].Text, separator);
        bool hasHeader = first.Any(field => !TryParse(field, out _));
        string[] names = hasHeader ? first : Enumerable.Range(1, first.Length).Select(j => $"column {j}").ToArray();
        int dim = names.Length;
        if (dim < 2) throw new DemoException($"--csv: {path} has {dim} column; a flow needs at least 2 numeric columns (separated by ',', ';' or tabs).");

        var values = new List<float>();
        foreach ((int lineNumber, string text) in lines.Skip(hasHeader ? 1 : 0))
        {
            string[] fields = Split(text, separator);
            if (fields.Length != dim) throw new DemoException($"--csv: line {lineNumber} has {fields.Length} fields, but the file has {dim} columns.");
            for (int j = 0; j < dim; j++)
            {
                if (!TryParse(fields[j], out double value) || !double.IsFinite(value) || !float.IsFinite((float)value))
                {
                    throw new DemoException($"--csv: line {lineNumber}, column {j + 1}: '{fields[j]}' is not a finite number (use '.' as the decimal point).");
                }
                values.Add((float)value);
            }
        }
        int rows = values.Count / dim;
        if (rows < MinimumRows) throw new DemoException($"--csv: {path} has {rows} data rows; the demo needs at least {MinimumRows}.");

        // hold out a random tenth as the test set
        var order = Enumerable.Range(0, rows).ToArray();
        new FlowRandom((ulong)seed ^ 0xC5_7E57UL).Shuffle(order.AsSpan());
        int testRows = Math.Max(1, (int)(rows * TestFraction));
        float[] all = values.ToArray();
        return new DataSet
        {
            Description = $"{Path.GetFileName(path)} ({dim} columns{(hasHeader ? ": " + string.Join(", ", names) : "")})",
            TestDescription = $"{testRows} held-out rows of the file",
            ColumnNames = names,
            Train = Gather(all, order.AsSpan(testRows), dim),
            Test = Gather(all, order.AsSpan(0, testRows), dim),
        };
    }

    private static string[] Split(string line, char separator) =>
        line.Split(separator).Select(field => field.Trim().Trim('"').Trim()).ToArray();

    private static bool TryParse(string field, out double value) =>
        double.TryParse(field, NumberStyles.Float, CultureInfo.InvariantCulture, out value);

    private static float[] Gather(float[] all, ReadOnlySpan<int> rows, int dim)
    {
        var result = new float[rows.Length * dim];
        for (int i = 0; i < rows.Length; i++) Array.Copy(all, rows[i] * dim, result, i * dim, dim);
        return result;
    }
}
