using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Numerics;
using nietras.SeparatedValues;

namespace FlowGen.Data;

/// <summary>
/// Numeric columns of a CSV file (a header row naming the columns, then one row per line; RFC 4180 quoting) as an
/// <see cref="IFlowDataSource{T}"/> for <see cref="FlowTrainer"/>: blocks of <c>chunkRows</c> rows are the chunks, parsed
/// with Sep when read, so memory holds a few blocks, never the file.
/// </summary>
/// <remarks>
/// <para>Opening the file scans it once for line breaks outside quotes and keeps the byte offset of every block's first row
/// (one long per block), so blocks can be read in any order; the rows are counted then. Blank lines are not rows.</para>
/// <para>Values: parsed as double in the invariant culture ('.' decimal point), then converted to T. Nulls: an empty field or
/// <c>NA</c>, <c>null</c> or <c>NaN</c> (any case). With <see cref="NullRows.Throw"/> a null throws naming the line and the
/// column; with <see cref="NullRows.Skip"/> the row is left out (and <see cref="RowCount"/> is −1: the trainer counts the rows).
/// Text that is not a number, or a row with too few fields, throws an <see cref="InvalidDataException"/> naming the file, the
/// line and the column. A chunk's first row index is the block's first row; after a skipped row the indices are shifted.</para>
/// <para>The file must not change while the source is used (the offsets would no longer fit). Not thread-safe.</para>
/// </remarks>
/// <typeparam name="T"><see cref="float"/> or <see cref="double"/>.</typeparam>
public sealed class CsvDataSource<T> : IFlowDataSource<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly string _path;
    private readonly char _separator;
    private readonly NullRows _nulls;
    private readonly int[] _indices;
    private readonly string[] _names;
    private readonly List<long> _offsets = new();   // byte offset of each block's first row
    private readonly List<int> _firstLines = new(); // its 1-based line number
    private readonly long _rows;
    private readonly int _fieldCount;

    /// <summary>Opens <paramref name="path"/>, reads its header, checks the selected columns and indexes the blocks.</summary>
    /// <param name="path">The CSV file (UTF-8).</param>
    /// <param name="columns">Names of the data columns (≥ 1), in the order of the data row.</param>
    /// <param name="contextColumns">Names of the context columns (null or empty for an unconditional flow).</param>
    /// <param name="nulls">What to do with rows that have a null in a selected column.</param>
    /// <param name="chunkRows">Rows per block (default 65 536).</param>
    /// <param name="separator">Field separator (default ',').</param>
    /// <exception cref="FileNotFoundException">No such file.</exception>
    /// <exception cref="InvalidDataException">The file has no header row or no data row, or a quote is not closed.</exception>
    /// <exception cref="ArgumentException">A column is not in the header (the message lists the header's columns) or is selected twice.</exception>
    public CsvDataSource(string path, IReadOnlyList<string> columns, IReadOnlyList<string>? contextColumns = null, NullRows nulls = NullRows.Throw,
        int chunkRows = 65536, char separator = ',')
    {
        ArgumentNullException.ThrowIfNull(path);
        ArgumentNullException.ThrowIfNull(columns);
        ArgumentOutOfRangeException.ThrowIfLessThan(chunkRows, 1);
        contextColumns ??= Array.Empty<string>();
        if (columns.Count == 0) throw new ArgumentException("columns needs at least one column name.", nameof(columns));
        if (!File.Exists(path)) throw new FileNotFoundException($"CSV file not found: {Path.GetFullPath(path)}", path);
        string? duplicate = columns.Concat(contextColumns).GroupBy(c => c).FirstOrDefault(g => g.Count() > 1)?.Key;
        if (duplicate is not null) throw new ArgumentException($"Column '{duplicate}' is selected twice.", nameof(columns));
        _path = path;
        _separator = separator;
        _nulls = nulls;
        string[] header = ReadHeader(path, separator);
        _fieldCount = header.Length;
        _indices = columns.Select(c => Find(header, c, nameof(columns))).Concat(contextColumns.Select(c => Find(header, c, nameof(contextColumns)))).ToArray();
        _names = columns.Concat(contextColumns).ToArray();
        Dim = columns.Count;
        ContextDim = contextColumns.Count;
        _rows = Index(chunkRows);
        if (_rows == 0) throw new InvalidDataException($"{path} has a header but no data rows.");
        MaxChunkRows = (int)Math.Min(chunkRows, _rows);
        RowCount = nulls == NullRows.Throw ? _rows : -1;
    }

    /// <inheritdoc/>
    public int Dim { get; }

    /// <inheritdoc/>
    public int ContextDim { get; }

    /// <summary>Blocks of rows.</summary>
    public int ChunkCount => _offsets.Count;

    /// <inheritdoc/>
    public int MaxChunkRows { get; }

    /// <inheritdoc/>
    public long RowCount { get; }

    /// <inheritdoc/>
    public int ReadChunk(int chunk, Span<T> rows, Span<T> contexts, out long firstRow)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(chunk);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(chunk, ChunkCount);
        firstRow = (long)chunk * MaxChunkRows;
        int n = (int)Math.Min(MaxChunkRows, _rows - firstRow);
        if (rows.Length < n * Dim) throw new ArgumentException($"rows.Length must be at least {n * Dim}; it is {rows.Length}.", nameof(rows));
        if (contexts.Length < n * ContextDim) throw new ArgumentException($"contexts.Length must be at least {n * ContextDim}; it is {contexts.Length}.", nameof(contexts));
        using var stream = new FileStream(_path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
        stream.Seek(_offsets[chunk], SeekOrigin.Begin);
        using SepReader reader = Sep.New(_separator).Reader(o => o with { HasHeader = false, DisableColCountCheck = true, Unescape = true })
            .From(stream);
        int read = 0, kept = 0, lineBase = _firstLines[chunk] - 1;
        Span<double> values = stackalloc double[_indices.Length];
        foreach (SepReader.Row row in reader)
        {
            if (read == n) break;
            if (row.Span.IsEmpty) continue; // a blank line is not a row (as when indexing)
            read++;
            int line = lineBase + row.LineNumberToExcl - 1; // the row's last line (its only line unless a quoted field holds a line break)
            if (row.ColCount < _fieldCount)
            {
                throw new InvalidDataException($"{_path}, line {line}: {row.ColCount} field{(row.ColCount == 1 ? "" : "s")}, but the header has {_fieldCount}.");
            }
            bool skip = false;
            for (int k = 0; k < _indices.Length; k++)
            {
                ReadOnlySpan<char> field = row[_indices[k]].Span.Trim();
                if (IsNull(field))
                {
                    if (_nulls == NullRows.Skip)
                    {
                        skip = true;
                        break;
                    }
                    throw new InvalidDataException($"{_path}, line {line}: column '{_names[k]}' is empty or null (pass NullRows.Skip to leave such rows out).");
                }
                if (!double.TryParse(field, NumberStyles.Float, CultureInfo.InvariantCulture, out values[k]) || !double.IsFinite(values[k]))
                {
                    throw new InvalidDataException($"{_path}, line {line}: column '{_names[k]}' holds '{field.ToString()}', not a finite number.");
                }
            }
            if (skip) continue;
            for (int j = 0; j < Dim; j++) rows[kept * Dim + j] = T.CreateTruncating(values[j]);
            for (int j = 0; j < ContextDim; j++) contexts[kept * ContextDim + j] = T.CreateTruncating(values[Dim + j]);
            kept++;
        }
        if (read < n) throw new InvalidDataException($"{_path} changed since it was opened: block {chunk} has {read} of its {n} rows.");
        return kept;
    }

    private static bool IsNull(ReadOnlySpan<char> field) =>
        field.IsEmpty || field.Equals("NA", StringComparison.OrdinalIgnoreCase) || field.Equals("null", StringComparison.OrdinalIgnoreCase)
        || field.Equals("NaN", StringComparison.OrdinalIgnoreCase);

    private static string[] ReadHeader(string path, char separator)
    {
        using SepReader reader = Sep.New(separator).Reader(o => o with { HasHeader = false, DisableColCountCheck = true, Unescape = true }).FromFile(path);
        foreach (SepReader.Row row in reader)
        {
            if (row.Span.IsEmpty) continue;
            var names = new string[row.ColCount];
            for (int j = 0; j < names.Length; j++) names[j] = row[j].ToString().Trim();
            return names;
        }
        throw new InvalidDataException($"{path} is empty: a CSV data source needs a header row naming the columns.");
    }

    private int Find(string[] header, string name, string parameter)
    {
        int index = Array.IndexOf(header, name);
        if (index < 0) throw new ArgumentException($"{_path} has no column '{name}'; its header has {string.Join(", ", header.Select(h => $"'{h}'"))}.", parameter);
        return index;
    }

    /// <summary>
    /// One pass over the bytes: the header line, then every non-blank line outside quotes is a row; the offset and line number
    /// of every <paramref name="chunkRows"/>-th row are kept. Returns the number of rows.
    /// </summary>
    private long Index(int chunkRows)
    {
        using var stream = new FileStream(_path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
        var buffer = new byte[1 << 20];
        bool quoted = false, headerSeen = false, lineStart = true, lineHasContent = false;
        long position = 0, lineOffset = 0, rows = 0;
        int line = 1, lineNumber = 1;
        int read;
        while ((read = stream.Read(buffer, 0, buffer.Length)) > 0)
        {
            for (int i = 0; i < read; i++, position++)
            {
                byte b = buffer[i];
                if (lineStart)
                {
                    lineOffset = position;
                    lineNumber = line;
                    lineStart = false;
                    lineHasContent = false;
                }
                if (b == (byte)'"') quoted = !quoted;
                if (b == (byte)'\n')
                {
                    line++;
                    if (quoted) continue;
                    EndLine();
                    lineStart = true;
                }
                else if (b != (byte)'\r') lineHasContent = true;
            }
        }
        if (quoted) throw new InvalidDataException($"{_path}: a quoted field opened on or before line {lineNumber} is never closed (the file is damaged or truncated).");
        if (!lineStart) EndLine();
        return rows;

        void EndLine()
        {
            if (!lineHasContent) return;
            if (!headerSeen)
            {
                headerSeen = true;
                return;
            }
            if (rows % chunkRows == 0)
            {
                _offsets.Add(lineOffset);
                _firstLines.Add(lineNumber);
            }
            rows++;
        }
    }
}
