using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using FlowGen;
using nietras.SeparatedValues;

namespace FlowGen.Demo;

/// <summary>
/// Reads the user's own data (with Sep): numeric columns separated by commas, semicolons or tabs, an optional header row, fields
/// optionally quoted, blank lines and lines starting with '#' ignored. A random tenth of the rows is held out as the test set.
/// </summary>
internal static class CsvData
{
    private const double TestFraction = 0.1;
    private const int MinimumRows = 20;

    public static DataSet Load(string path, int seed)
    {
        if (!File.Exists(path)) throw new DemoException($"--csv: file not found: {Path.GetFullPath(path)}");
        using SepReader reader = Sep.New(Separator(path)).Reader(o => o with
        {
            HasHeader = false,           // the first row is a header only if one of its fields is not a number
            DisableColCountCheck = true, // blank and comment lines are rows of their own; the column count is checked below
            Unescape = true,             // "quoted" fields (RFC 4180)
            Trim = SepTrim.All,
        }).FromFile(path);
        string[]? names = null;
        bool hasHeader = false;
        int dim = 0;
        var values = new List<float>();
        foreach (SepReader.Row row in reader)
        {
            ReadOnlySpan<char> text = row.Span.Trim();
            if (text.IsEmpty || text[0] == '#') continue;
            int lineNumber = row.LineNumberToExcl - 1; // the row's last line: the line of a row without quoted line breaks
            if (names is null)
            {
                var first = new string[row.ColCount];
                for (int j = 0; j < first.Length; j++) first[j] = row[j].ToString().Trim();
                hasHeader = first.Any(field => !TryParse(field, out _));
                names = hasHeader ? first : Enumerable.Range(1, first.Length).Select(j => $"column {j}").ToArray();
                dim = names.Length;
                if (dim < 2) throw new DemoException($"--csv: {path} has {dim} column; a flow needs at least 2 numeric columns (separated by ',', ';' or tabs).");
                if (hasHeader) continue;
            }
            if (row.ColCount != dim) throw new DemoException($"--csv: line {lineNumber} has {row.ColCount} fields, but the file has {dim} columns.");
            for (int j = 0; j < dim; j++)
            {
                ReadOnlySpan<char> field = row[j].Span.Trim();
                if (!TryParse(field, out double value) || !double.IsFinite(value) || !float.IsFinite((float)value))
                {
                    throw new DemoException($"--csv: line {lineNumber}, column {j + 1}: '{field}' is not a finite number (use '.' as the decimal point).");
                }
                values.Add((float)value);
            }
        }
        if (names is null) throw new DemoException($"--csv: {path} holds no data.");
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

    /// <summary>The separator, from the first line that is neither blank nor a comment: ',' if it has one, else ';' if it has one, else a tab.</summary>
    private static char Separator(string path)
    {
        foreach (string line in File.ReadLines(path))
        {
            string trimmed = line.Trim();
            if (trimmed.Length == 0 || trimmed[0] == '#') continue;
            return trimmed.Contains(',') ? ',' : trimmed.Contains(';') ? ';' : '\t';
        }
        throw new DemoException($"--csv: {path} holds no data.");
    }

    private static bool TryParse(ReadOnlySpan<char> field, out double value) =>
        double.TryParse(field, NumberStyles.Float, CultureInfo.InvariantCulture, out value);

    private static float[] Gather(float[] all, ReadOnlySpan<int> rows, int dim)
    {
        var result = new float[rows.Length * dim];
        for (int i = 0; i < rows.Length; i++) Array.Copy(all, rows[i] * dim, result, i * dim, dim);
        return result;
    }
}
