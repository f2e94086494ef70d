using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Numerics;
using System.Threading.Tasks;
using Parquet;
using Parquet.Schema;

namespace FlowGen.Data;

/// <summary>
/// Numeric columns of a Parquet file as an <see cref="IFlowDataSource{T}"/> for <see cref="FlowTrainer"/>: every row group is
/// one chunk (so memory holds a few row groups, never the file), the data row is the <c>columns</c> in the order given and
/// the context row the <c>contextColumns</c>. Read with Parquet.Net.
/// </summary>
/// <remarks>
/// <para>Conversions to T: integer columns (8 to 64 bits, signed or unsigned), float, double and decimal are converted as
/// numbers (through double; integers beyond 2⁵³ round); bool is 0 or 1; DateTime and DateTimeOffset are Unix time in
/// seconds (UTC) as a double, then T (in float that is a resolution of about 2 minutes: read such a column as double when the
/// time of day matters). Strings and nested columns are refused with the column's name and type.</para>
/// <para>Nulls: with <see cref="NullRows.Throw"/> a null in a selected column throws, naming the row (in the file) and the
/// column; with <see cref="NullRows.Skip"/> the row is left out. <see cref="RowCount"/> is known from the file's metadata unless
/// rows may be skipped: then it is −1 (the trainer counts the rows in one pass), unless every selected column chunk's
/// statistics say it has no nulls. A chunk's first row index is its row group's first row in the file; the indices of the
/// rows after a skipped one are therefore shifted.</para>
/// <para>A file that is not Parquet, or is damaged, gives an <see cref="InvalidDataException"/> naming the file (on opening,
/// or when the damaged row group is read). Not thread-safe (the trainer reads from one thread).</para>
/// </remarks>
/// <typeparam name="T"><see cref="float"/> or <see cref="double"/>.</typeparam>
public sealed class ParquetDataSource<T> : IFlowDataSource<T>, IDisposable where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly string _path;
    private readonly ParquetReader _reader;
    private readonly DataField[] _fields;
    private readonly long[] _firstRows;
    private readonly int[] _groupRows;
    private readonly NullRows _nulls;
    private readonly double[][] _columns;
    private readonly bool[][] _missing;
    private readonly Array?[] _buffers; // per column, the typed buffer Parquet.Net reads into (reused: no garbage per chunk)

    /// <summary>Opens <paramref name="path"/> and checks the selected columns against its schema.</summary>
    /// <param name="path">The Parquet file.</param>
    /// <param name="columns">Names of the data columns (≥ 1), in the order of the data row.</param>
    /// <param name="contextColumns">Names of the context columns (null or empty for an unconditional flow).</param>
    /// <param name="nulls">What to do with rows that have a null in a selected column.</param>
    /// <exception cref="FileNotFoundException">No such file.</exception>
    /// <exception cref="InvalidDataException">Not a readable Parquet file.</exception>
    /// <exception cref="ArgumentException">A column is not in the file (the message lists the file's columns), is not numeric, or is selected twice.</exception>
    public ParquetDataSource(string path, IReadOnlyList<string> columns, IReadOnlyList<string>? contextColumns = null, NullRows nulls = NullRows.Throw)
    {
        ArgumentNullException.ThrowIfNull(path);
        ArgumentNullException.ThrowIfNull(columns);
        contextColumns ??= Array.Empty<string>();
        if (columns.Count == 0) throw new ArgumentException("columns needs at least one column name.", nameof(columns));
        if (!File.Exists(path)) throw new FileNotFoundException($"Parquet file not found: {Path.GetFullPath(path)}", path);
        string? duplicate = columns.Concat(contextColumns).GroupBy(c => c).FirstOrDefault(g => g.Count() > 1)?.Key;
        if (duplicate is not null) throw new ArgumentException($"Column '{duplicate}' is selected twice.", nameof(columns));
        _path = path;
        _nulls = nulls;
        try
        {
            _reader = Run(ParquetReader.CreateAsync(path));
        }
        catch (Exception e) when (e is not FileNotFoundException and not UnauthorizedAccessException)
        {
            throw new InvalidDataException($"{path} is not a readable Parquet file: {e.Message}", e);
        }
        try
        {
            DataField[] all = _reader.Schema.GetDataFields();
            _fields = columns.Select(c => Find(all, c, nameof(columns))).Concat(contextColumns.Select(c => Find(all, c, nameof(contextColumns)))).ToArray();
            Dim = columns.Count;
            ContextDim = contextColumns.Count;
            int groups = _reader.RowGroupCount;
            if (groups < 1) throw new InvalidDataException($"{path} has no row groups (no rows).");
            _firstRows = new long[groups];
            _groupRows = new int[groups];
            long total = 0;
            bool noNulls = true;
            for (int g = 0; g < groups; g++)
            {
                using ParquetRowGroupReader group = _reader.OpenRowGroupReader(g);
                if (group.RowCount > int.MaxValue) throw new InvalidDataException($"{path}: row group {g} has {group.RowCount} rows; at most {int.MaxValue} are supported.");
                _firstRows[g] = total;
                _groupRows[g] = (int)group.RowCount;
                total += group.RowCount;
                foreach (DataField f in _fields)
                {
                    if (f.IsNullable && !(group.GetStatistics(f)?.NullCount == 0)) noNulls = false;
                }
            }
            MaxChunkRows = Math.Max(1, _groupRows.Max());
            RowCount = nulls == NullRows.Throw || noNulls ? total : -1;
            _columns = _fields.Select(_ => new double[MaxChunkRows]).ToArray();
            _missing = _fields.Select(_ => new bool[MaxChunkRows]).ToArray();
            _buffers = new Array?[_fields.Length];
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    /// <inheritdoc/>
    public int Dim { get; }

    /// <inheritdoc/>
    public int ContextDim { get; }

    /// <summary>The file's row groups.</summary>
    public int ChunkCount => _groupRows.Length;

    /// <summary>The largest row group's rows.</summary>
    public int MaxChunkRows { get; }

    /// <inheritdoc/>
    public long RowCount { get; }

    /// <inheritdoc/>
    public int ReadChunk(int chunk, Span<T> rows, Span<T> contexts, out long firstRow)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(chunk);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(chunk, ChunkCount);
        firstRow = _firstRows[chunk];
        int n = _groupRows[chunk];
        if (rows.Length < n * Dim) throw new ArgumentException($"rows.Length must be at least {n * Dim}; it is {rows.Length}.", nameof(rows));
        if (contexts.Length < n * ContextDim) throw new ArgumentException($"contexts.Length must be at least {n * ContextDim}; it is {contexts.Length}.", nameof(contexts));
        try
        {
            using ParquetRowGroupReader group = _reader.OpenRowGroupReader(chunk);
            for (int k = 0; k < _fields.Length; k++) ReadColumn(group, _fields[k], n, _columns[k], _missing[k], ref _buffers[k]);
        }
        catch (Exception e) when (e is not InvalidDataException and not ArgumentException)
        {
            throw new InvalidDataException($"{_path}: row group {chunk} cannot be read (the file is damaged or truncated): {e.Message}", e);
        }
        int kept = 0;
        for (int i = 0; i < n; i++)
        {
            int missing = -1;
            for (int k = 0; k < _missing.Length && missing < 0; k++)
            {
                if (_missing[k][i]) missing = k;
            }
            if (missing >= 0)
            {
                if (_nulls == NullRows.Skip) continue;
                throw new InvalidDataException($"{_path}: row {firstRow + i} has a null in column '{_fields[missing].Name}' (pass NullRows.Skip to leave such rows out).");
            }
            for (int j = 0; j < Dim; j++) rows[kept * Dim + j] = T.CreateTruncating(_columns[j][i]);
            for (int j = 0; j < ContextDim; j++) contexts[kept * ContextDim + j] = T.CreateTruncating(_columns[Dim + j][i]);
            kept++;
        }
        return kept;
    }

    /// <summary>Closes the file.</summary>
    public void Dispose() => _reader?.DisposeAsync().AsTask().GetAwaiter().GetResult();

    private DataField Find(DataField[] all, string name, string parameter)
    {
        DataField? field = all.FirstOrDefault(f => f.Name == name && f.Path.ToList().Count == 1);
        if (field is null)
        {
            throw new ArgumentException($"{_path} has no column '{name}'; its columns are {string.Join(", ", all.Select(f => $"'{f.Path}' ({TypeName(f)})"))}.", parameter);
        }
        if (!IsNumeric(field.ClrType) || field.IsArray)
        {
            throw new ArgumentException($"Column '{name}' of {_path} is {TypeName(field)}{(field.IsArray ? " (repeated)" : "")}, not a numeric column.", parameter);
        }
        return field;
    }

    private static string TypeName(DataField f) => f.ClrType.Name;

    private static bool IsNumeric(Type t) =>
        t == typeof(double) || t == typeof(float) || t == typeof(long) || t == typeof(int) || t == typeof(short) || t == typeof(sbyte)
        || t == typeof(ulong) || t == typeof(uint) || t == typeof(ushort) || t == typeof(byte) || t == typeof(decimal) || t == typeof(bool)
        || t == typeof(DateTime) || t == typeof(DateTimeOffset) || t == typeof(Half);

    private void ReadColumn(ParquetRowGroupReader group, DataField f, int n, double[] values, bool[] missing, ref Array? buffer)
    {
        Type t = f.ClrType;
        if (t == typeof(double)) Read<double>(group, f, n, values, missing, ref buffer, v => v);
        else if (t == typeof(float)) Read<float>(group, f, n, values, missing, ref buffer, v => v);
        else if (t == typeof(long)) Read<long>(group, f, n, values, missing, ref buffer, v => v);
        else if (t == typeof(int)) Read<int>(group, f, n, values, missing, ref buffer, v => v);
        else if (t == typeof(short)) Read<short>(group, f, n, values, missing, ref buffer, v => v);
        else if (t == typeof(sbyte)) Read<sbyte>(group, f, n, values, missing, ref buffer, v => v);
        else if (t == typeof(ulong)) Read<ulong>(group, f, n, values, missing, ref buffer, v => v);
        else if (t == typeof(uint)) Read<uint>(group, f, n, values, missing, ref buffer, v => v);
        else if (t == typeof(ushort)) Read<ushort>(group, f, n, values, missing, ref buffer, v => v);
        else if (t == typeof(byte)) Read<byte>(group, f, n, values, missing, ref buffer, v => v);
        else if (t == typeof(Half)) Read<Half>(group, f, n, values, missing, ref buffer, v => (double)v);
        else if (t == typeof(decimal)) Read<decimal>(group, f, n, values, missing, ref buffer, v => (double)v);
        else if (t == typeof(bool)) Read<bool>(group, f, n, values, missing, ref buffer, v => v ? 1 : 0);
        else if (t == typeof(DateTime)) Read<DateTime>(group, f, n, values, missing, ref buffer, UnixSeconds);
        else if (t == typeof(DateTimeOffset)) Read<DateTimeOffset>(group, f, n, values, missing, ref buffer, v => UnixSeconds(v.UtcDateTime));
        else throw new InvalidOperationException($"unsupported column type {t}");
    }

    /// <summary>Seconds since 1970-01-01T00:00:00 (a DateTime of unspecified kind is taken as UTC).</summary>
    private static double UnixSeconds(DateTime v) => (v.Ticks - DateTime.UnixEpoch.Ticks) / (double)TimeSpan.TicksPerSecond;

    private void Read<TV>(ParquetRowGroupReader group, DataField f, int n, double[] values, bool[] missing, ref Array? scratch, Func<TV, double> convert)
        where TV : struct
    {
        if (f.IsNullable)
        {
            if (scratch is not TV?[] buffer) scratch = buffer = new TV?[MaxChunkRows];
            Run(group.ReadAsync<TV>(f, buffer.AsMemory(0, n)));
            for (int i = 0; i < n; i++)
            {
                missing[i] = !buffer[i].HasValue;
                values[i] = buffer[i] is TV v ? convert(v) : 0;
            }
        }
        else
        {
            if (scratch is not TV[] buffer) scratch = buffer = new TV[MaxChunkRows];
            Run(group.ReadAsync<TV>(f, buffer.AsMemory(0, n)));
            for (int i = 0; i < n; i++)
            {
                missing[i] = false;
                values[i] = convert(buffer[i]);
            }
        }
    }

    private static TR Run<TR>(Task<TR> task) => task.GetAwaiter().GetResult();

    private static void Run(ValueTask task) => task.AsTask().GetAwaiter().GetResult();

    private static void Run<TR>(ValueTask<TR> task) => task.AsTask().GetAwaiter().GetResult();
}
