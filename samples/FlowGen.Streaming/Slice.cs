using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Text;
using Parquet;
using Parquet.Schema;

namespace FlowGen.Streaming;

/// <summary>
/// Writes the tests' slice of flights-3m.parquet: the first 1000 rows of row groups 0, 3, 6 and 10 (4000 flights from
/// different months), as Parquet in row groups of 1500, 1000, 1000 and 500 rows (unequal, so that chunk boundaries fall
/// inside the original groups), and as CSV with the same rows (date as ISO 8601 text). Read with Parquet.Net directly.
/// </summary>
public static class Slice
{
    private static readonly int[] SourceGroups = [0, 3, 6, 10];
    private static readonly int[] TargetGroups = [1500, 1000, 1000, 500];
    private const int RowsPerSourceGroup = 1000;

    public static async System.Threading.Tasks.Task WriteAsync(string file, string directory)
    {
        Directory.CreateDirectory(directory);
        var dates = new List<DateTime?>();
        var delays = new List<long?>();
        var distances = new List<long?>();
        var origins = new List<string?>();
        await using (ParquetReader reader = await ParquetReader.CreateAsync(file))
        {
            DataField[] fields = reader.Schema.GetDataFields();
            DataField F(string name) => fields.Single(f => f.Name == name);
            foreach (int g in SourceGroups)
            {
                using ParquetRowGroupReader group = reader.OpenRowGroupReader(g);
                int n = (int)group.RowCount;
                var d = new DateTime?[n];
                var delay = new long?[n];
                var distance = new long?[n];
                var origin = new string?[n];
                group.ReadAsync<DateTime>(F("date"), d.AsMemory()).AsTask().GetAwaiter().GetResult();
                group.ReadAsync<long>(F("delay"), delay.AsMemory()).AsTask().GetAwaiter().GetResult();
                group.ReadAsync<long>(F("distance"), distance.AsMemory()).AsTask().GetAwaiter().GetResult();
                group.ReadAsync(F("origin"), origin.AsMemory()).AsTask().GetAwaiter().GetResult();
                dates.AddRange(d.Take(RowsPerSourceGroup));
                delays.AddRange(delay.Take(RowsPerSourceGroup));
                distances.AddRange(distance.Take(RowsPerSourceGroup));
                origins.AddRange(origin.Take(RowsPerSourceGroup));
            }
        }

        var dateField = new DateTimeDataField("date", DateTimeFormat.Timestamp, isNullable: true);
        var delayField = new DataField<long?>("delay");
        var distanceField = new DataField<long?>("distance");
        var originField = new DataField<string>("origin");
        var schema = new ParquetSchema(dateField, delayField, distanceField, originField);
        string parquetPath = Path.Combine(directory, "flights-slice.parquet");
        using (var stream = File.Create(parquetPath))
        await using (ParquetWriter writer = await ParquetWriter.CreateAsync(schema, stream))
        {
            int start = 0;
            foreach (int size in TargetGroups)
            {
                using ParquetRowGroupWriter group = writer.CreateRowGroup();
                group.WriteAsync<DateTime>(dateField, dates.Skip(start).Take(size).ToArray().AsMemory()).GetAwaiter().GetResult();
                group.WriteAsync<long>(delayField, delays.Skip(start).Take(size).ToArray().AsMemory()).GetAwaiter().GetResult();
                group.WriteAsync<long>(distanceField, distances.Skip(start).Take(size).ToArray().AsMemory()).GetAwaiter().GetResult();
                group.WriteAsync(originField, origins.Skip(start).Take(size).Select(o => o ?? "").ToArray()).GetAwaiter().GetResult();
                start += size;
            }
        }

        var csv = new StringBuilder("date,delay,distance,origin\n");
        for (int i = 0; i < dates.Count; i++)
        {
            csv.Append(CultureInfo.InvariantCulture, $"{dates[i]:yyyy-MM-ddTHH:mm:ss},{delays[i]},{distances[i]},{origins[i]}\n");
        }
        File.WriteAllText(Path.Combine(directory, "flights-slice.csv"), csv.ToString());
        Console.WriteLine($"wrote {dates.Count} rows to {parquetPath} and flights-slice.csv");
    }
}
