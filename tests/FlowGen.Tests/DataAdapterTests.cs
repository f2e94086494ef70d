using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Threading.Tasks;
using FlowGen.Data;
using FlowGen.Tests.Models;
using Parquet;
using Parquet.Schema;

namespace FlowGen.Tests;

/// <summary>
/// The file adapters of FlowGen.Data on the committed slice of flights-3m.parquet (tests/FlowGen.Tests/Data, written by
/// samples/FlowGen.Streaming "slice"; vega-datasets, BSD-3-Clause): the values equal those of the slice's CSV parsed by
/// hand (string.Split, not Sep), chunk boundaries and row indices are right, nulls are skipped or refused, wrong columns and
/// damaged files get clear exceptions.
/// </summary>
public class DataAdapterTests
{
    private static string SlicePath(string name) => Path.Combine(AppContext.BaseDirectory, "Data", name);

    /// <summary>(Unix seconds, delay, distance) of every row of the slice's CSV, parsed by hand.</summary>
    private static (double Date, double Delay, double Distance)[] HandParsed() =>
        File.ReadAllLines(SlicePath("flights-slice.csv")).Skip(1).Select(line =>
        {
            string[] f = line.Split(',');
            DateTime d = DateTime.ParseExact(f[0], "yyyy-MM-ddTHH:mm:ss", CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal);
            return ((d - DateTime.UnixEpoch).TotalSeconds, double.Parse(f[1], CultureInfo.InvariantCulture), double.Parse(f[2], CultureInfo.InvariantCulture));
        }).ToArray();

    [Fact]
    public void ParquetRowGroupsAreChunksWithTheFilesValues()
    {
        var expected = HandParsed();
        Assert.Equal(4000, expected.Length);
        using var source = new ParquetDataSource<double>(SlicePath("flights-slice.parquet"), ["distance", "delay"], ["date"]);
        Assert.Equal((2, 1, 4, 1500, 4000L), (source.Dim, source.ContextDim, source.ChunkCount, source.MaxChunkRows, source.RowCount));
        var rows = new double[1500 * 2];
        var ctx = new double[1500];
        int[] sizes = [1500, 1000, 1000, 500];
        long[] starts = [0, 1500, 2500, 3500];
        foreach (int c in new[] { 2, 0, 3, 1, 2 }) // any order, repeatedly
        {
            int n = source.ReadChunk(c, rows, ctx, out long first);
            Assert.Equal((sizes[c], starts[c]), (n, first));
            for (int i = 0; i < n; i++)
            {
                var e = expected[first + i];
                Assert.Equal((e.Distance, e.Delay, e.Date), (rows[2 * i], rows[2 * i + 1], ctx[i]));
            }
        }
        using var single = new ParquetDataSource<float>(SlicePath("flights-slice.parquet"), ["delay"]);
        var f = new float[1500];
        Assert.Equal(1000, single.ReadChunk(1, f, default, out _));
        for (int i = 0; i < 1000; i++) Assert.Equal((float)expected[1500 + i].Delay, f[i]);
    }

    [Theory]
    [InlineData(700)]
    [InlineData(1)]
    [InlineData(4000)]
    [InlineData(100000)]
    public void CsvBlocksAreChunksWithTheFilesValues(int chunkRows)
    {
        var expected = HandParsed();
        var source = new CsvDataSource<double>(SlicePath("flights-slice.csv"), ["delay"], ["distance"], chunkRows: chunkRows);
        int max = Math.Min(chunkRows, 4000);
        Assert.Equal(((4000 + max - 1) / max, max, 4000L), (source.ChunkCount, source.MaxChunkRows, source.RowCount));
        var rows = new double[max];
        var ctx = new double[max];
        var seen = new List<double>();
        var order = Enumerable.Range(0, source.ChunkCount).Reverse().ToArray();
        var byChunk = new Dictionary<int, double[]>();
        foreach (int c in order)
        {
            int n = source.ReadChunk(c, rows, ctx, out long first);
            Assert.Equal((long)c * max, first);
            Assert.Equal((int)Math.Min(max, 4000 - first), n);
            for (int i = 0; i < n; i++) Assert.Equal((expected[first + i].Delay, expected[first + i].Distance), (rows[i], ctx[i]));
            byChunk[c] = rows.Take(n).ToArray();
        }
        Assert.Equal(expected.Select(e => e.Delay), Enumerable.Range(0, source.ChunkCount).SelectMany(c => byChunk[c]));
    }

    [Fact]
    public void CsvQuotesCrlfAndBlankLinesAreHandled()
    {
        string path = Temp(".csv");
        File.WriteAllText(path, "name,x,y\r\n\"a, \"\"quoted\"\"\nname\",1.5,2\r\n\r\nb,-3e2,4\r\n\"c\",5,6");
        var source = new CsvDataSource<double>(path, ["y", "x"], chunkRows: 2);
        Assert.Equal((3L, 2), (source.RowCount, source.ChunkCount));
        var rows = new double[4];
        Assert.Equal(2, source.ReadChunk(0, rows, default, out _));
        Assert.Equal([2, 1.5, 4, -300], rows);
        Assert.Equal(1, source.ReadChunk(1, rows, default, out long first));
        Assert.Equal((2L, 6.0, 5.0), (first, rows[0], rows[1]));
    }

    [Fact]
    public async Task ParquetNullsAreRefusedOrSkipped()
    {
        string path = Temp(".parquet");
        var a = new DataField<double?>("a");
        var b = new DataField<int?>("b");
        await using (var stream = File.Create(path))
        await using (ParquetWriter writer = await ParquetWriter.CreateAsync(new ParquetSchema(a, b), stream))
        {
            using (ParquetRowGroupWriter g = writer.CreateRowGroup())
            {
                await g.WriteAsync<double>(a, new double?[] { 1, 2, null, 4 });
                await g.WriteAsync<int>(b, new int?[] { 10, 20, 30, 40 });
            }
            using (ParquetRowGroupWriter g = writer.CreateRowGroup())
            {
                await g.WriteAsync<double>(a, new double?[] { 5, 6, 7 });
                await g.WriteAsync<int>(b, new int?[] { null, 60, 70 });
            }
        }
        var rows = new double[8];
        using (var strict = new ParquetDataSource<double>(path, ["a", "b"]))
        {
            Assert.Equal(7, strict.RowCount);
            var e = Assert.Throws<InvalidDataException>(() => strict.ReadChunk(0, rows, default, out _));
            Assert.Contains("row 2 has a null in column 'a'", e.Message);
            e = Assert.Throws<InvalidDataException>(() => strict.ReadChunk(1, rows, default, out _));
            Assert.Contains("row 4 has a null in column 'b'", e.Message);
        }
        using var skipping = new ParquetDataSource<double>(path, ["b", "a"], nulls: NullRows.Skip);
        Assert.Equal(-1, skipping.RowCount);
        Assert.Equal(5, FlowDataSource.CountRows(skipping));
        Assert.Equal(3, skipping.ReadChunk(0, rows, default, out _));
        Assert.Equal([10, 1, 20, 2, 40, 4], rows.Take(6));
        Assert.Equal(2, skipping.ReadChunk(1, rows, default, out long first));
        Assert.Equal((4L, 60.0, 6.0, 70.0, 7.0), (first, rows[0], rows[1], rows[2], rows[3]));
    }

    [Fact]
    public void CsvNullsAndBadValuesAreRefusedOrSkipped()
    {
        string path = Temp(".csv");
        File.WriteAllLines(path, ["x,y,label", "1,2,a", "3,,b", "5,6,c", "NA,8,d", "9,10,e"]);
        var strict = new CsvDataSource<float>(path, ["x", "y"], chunkRows: 2);
        var rows = new float[4];
        var e = Assert.Throws<InvalidDataException>(() => strict.ReadChunk(0, rows, default, out _));
        Assert.Contains("line 3: column 'y' is empty or null", e.Message);
        e = Assert.Throws<InvalidDataException>(() => strict.ReadChunk(1, rows, default, out _));
        Assert.Contains("line 5: column 'x'", e.Message);
        var skipping = new CsvDataSource<float>(path, ["x", "y"], nulls: NullRows.Skip, chunkRows: 2);
        Assert.Equal(-1, skipping.RowCount);
        Assert.Equal(3, FlowDataSource.CountRows(skipping));
        Assert.Equal(1, skipping.ReadChunk(1, rows, default, out _));
        Assert.Equal([5f, 6f], rows.Take(2));

        File.WriteAllLines(path, ["x,y", "1,2", "3,4", "5,abc"]);
        e = Assert.Throws<InvalidDataException>(() => new CsvDataSource<double>(path, ["x", "y"], chunkRows: 2).ReadChunk(1, new double[4], default, out _));
        Assert.True(e.Message.Contains("line 4: column 'y' holds 'abc', not a finite number"), e.Message);
        File.WriteAllLines(path, ["x,y", "1,2", "3"]);
        e = Assert.Throws<InvalidDataException>(() => new CsvDataSource<double>(path, ["x", "y"]).ReadChunk(0, new double[4], default, out _));
        Assert.Contains("line 3: 1 field, but the header has 2", e.Message);
    }

    [Fact]
    public void WrongColumnsGetClearExceptions()
    {
        string parquet = SlicePath("flights-slice.parquet"), csv = SlicePath("flights-slice.csv");
        var e = Assert.Throws<ArgumentException>(() => new ParquetDataSource<float>(parquet, ["delay", "dist"]));
        Assert.Contains("no column 'dist'", e.Message);
        Assert.Contains("'distance'", e.Message);
        Assert.Equal("columns", e.ParamName);
        e = Assert.Throws<ArgumentException>(() => new ParquetDataSource<float>(parquet, ["delay"], ["origin"]));
        Assert.Contains("Column 'origin'", e.Message);
        Assert.Contains("not a numeric column", e.Message);
        Assert.Equal("contextColumns", e.ParamName);
        Assert.Throws<ArgumentException>(() => new ParquetDataSource<float>(parquet, ["delay", "delay"]));
        e = Assert.Throws<ArgumentException>(() => new CsvDataSource<float>(csv, ["Delay"]));
        Assert.Contains("no column 'Delay'", e.Message);
        Assert.Contains("'delay'", e.Message);
        Assert.Throws<FileNotFoundException>(() => new ParquetDataSource<float>(Temp(".missing"), ["a"]));
        Assert.Throws<FileNotFoundException>(() => new CsvDataSource<float>(Temp(".missing"), ["a"]));
        // a source whose widths do not fit the flow
        using var source = new ParquetDataSource<float>(parquet, ["delay", "distance", "date"]);
        e = Assert.Throws<ArgumentException>(() => FlowTrainer.Train(new Tiny2D(seed: 1), source));
        Assert.Contains("Dim must be the flow's Dim (2); it is 3", e.Message);
    }

    [Fact]
    public void DamagedFilesGetClearExceptions()
    {
        byte[] good = File.ReadAllBytes(SlicePath("flights-slice.parquet"));
        string path = Temp(".parquet");
        File.WriteAllBytes(path, good.AsSpan(0, good.Length / 2).ToArray()); // truncated: no footer
        var e = Assert.Throws<InvalidDataException>(() => new ParquetDataSource<float>(path, ["delay"]));
        Assert.Contains(path, e.Message);
        File.WriteAllText(path, "date,delay\n2001-01-01,3\n"); // not Parquet at all
        Assert.Throws<InvalidDataException>(() => new ParquetDataSource<float>(path, ["delay"]));
        // the pages of the first row groups overwritten, footer intact: opening works, reading them fails clearly
        byte[] damaged = (byte[])good.Clone();
        for (int i = 4; i < good.Length / 3; i++) damaged[i] = (byte)(0xA5 ^ i);
        File.WriteAllBytes(path, damaged);
        using (var source = new ParquetDataSource<float>(path, ["delay", "distance"]))
        {
            var buffer = new float[source.MaxChunkRows * 2];
            e = Assert.Throws<InvalidDataException>(() => source.ReadChunk(0, buffer, default, out _));
            Assert.Contains("row group 0 cannot be read", e.Message);
        }
        string csv = Temp(".csv");
        File.WriteAllText(csv, "x,y\n1,2\n\"3,4\n5,6\n");
        e = Assert.Throws<InvalidDataException>(() => new CsvDataSource<float>(csv, ["x"]));
        Assert.Contains("never closed", e.Message);
        File.WriteAllText(csv, "");
        Assert.Throws<InvalidDataException>(() => new CsvDataSource<float>(csv, ["x"]));
    }

    [Fact]
    public void TrainingFromTheParquetSliceIsReproducibleAcrossThreads()
    {
        using var parquet = new ParquetDataSource<float>(SlicePath("flights-slice.parquet"), ["delay", "distance"]);
        Standardizer s = FlowDataSource.FitStandardizer(parquet);
        var csv = new CsvDataSource<float>(SlicePath("flights-slice.csv"), ["delay", "distance"], chunkRows: 1000);
        float[][] results = new float[3][];
        int k = 0;
        foreach ((IFlowDataSource<float> source, int threads) in new[] { ((IFlowDataSource<float>)parquet, 1), (parquet, 2), (csv, 2) })
        {
            var flow = new Tiny2D(seed: 3);
            var options = new TrainingOptions { Epochs = 2, BatchSize = 256, Threads = threads, Seed = 1, ShuffleBufferChunks = 2 };
            TrainingResult r = FlowTrainer.Train(flow, FlowDataSource.Standardize(source, s), options);
            Assert.Equal(TrainingStatus.Completed, r.Status);
            results[k++] = flow.Parameters.ToArray();
        }
        Assert.Equal(results[0], results[1]);
        Assert.NotEqual(results[0], results[2]); // other chunks (1000-row blocks): another order of the same rows
    }

    private static string Temp(string extension) => Path.Combine(Path.GetTempPath(), $"flowgen-data-{Guid.NewGuid():N}{extension}");
}
