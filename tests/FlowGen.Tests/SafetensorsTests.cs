using System;
using System.Buffers.Binary;
using System.IO;
using System.Linq;
using System.Text;
using System.Text.Json.Nodes;
using FlowGen.Tests.Infrastructure;
using FlowGen.Tests.Models;

namespace FlowGen.Tests;

/// <summary>safetensors: round trips, PyTorch's tensor convention, precision conversion, and every malformation refused with the model untouched.</summary>
public sealed class SafetensorsTests : IDisposable
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "flowgen-safetensors-" + Guid.NewGuid().ToString("N"));

    public SafetensorsTests() => Directory.CreateDirectory(_directory);

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private static void Perturb<T>(ICouplingFlow<T> flow, int seed) where T : unmanaged
    {
        var rng = new FlowRandom((ulong)seed);
        Span<T> p = flow.Parameters;
        for (int i = 0; i < p.Length; i++)
        {
            double d = 0.2 * (rng.NextDouble() - 0.5);
            if (typeof(T) == typeof(float)) { float f = (float)d; p[i] = (T)(object)((float)(object)p[i]! + f); }
            else p[i] = (T)(object)((double)(object)p[i]! + d);
        }
    }

    private static Tiny2D Trained()
    {
        var flow = new Tiny2D(seed: 1);
        Perturb(flow, 2);
        return flow;
    }

    // ---- a minimal independent reader/writer of the container, for inspecting and corrupting files

    private static (JsonObject Header, byte[] Data) Split(byte[] file)
    {
        ulong n = BinaryPrimitives.ReadUInt64LittleEndian(file);
        var header = (JsonObject)JsonNode.Parse(Encoding.UTF8.GetString(file, 8, (int)n))!;
        return (header, file[(8 + (int)n)..]);
    }

    private static byte[] Join(string headerJson, byte[] data, ulong? announced = null)
    {
        byte[] h = Encoding.UTF8.GetBytes(headerJson);
        var file = new byte[8 + h.Length + data.Length];
        BinaryPrimitives.WriteUInt64LittleEndian(file, announced ?? (ulong)h.Length);
        h.CopyTo(file, 8);
        data.CopyTo(file, 8 + h.Length);
        return file;
    }

    private static byte[] Join(JsonObject header, byte[] data) => Join(header.ToJsonString(), data);

    private static byte[] Mutate(byte[] file, Action<JsonObject> change)
    {
        (JsonObject header, byte[] data) = Split(file);
        change(header);
        return Join(header, data);
    }

    // ---- round trips

    [Fact]
    public void FileRoundTripRestoresEveryParameterBitForBit()
    {
        Tiny2D flow = Trained();
        string path = Path.Combine(_directory, "a.safetensors");
        FlowSafetensors.Save(flow, path);
        var loaded = new Tiny2D(seed: 99);
        FlowSafetensors.Load(loaded, path);
        Assert.True(flow.Parameters.SequenceEqual(loaded.Parameters));
        Assert.Equal(flow.LogProb(new[] { 0.3f, -1.2f }), loaded.LogProb(new[] { 0.3f, -1.2f }));
        Assert.Empty(Directory.GetFiles(_directory, "*.tmp"));
    }

    [Fact]
    public void SavingIntoAMissingFolderThrowsAndCreatesNothing()
    {
        string missing = Path.Combine(_directory, "not", "there");
        string path = Path.Combine(missing, "m.safetensors");
        var e = Assert.Throws<DirectoryNotFoundException>(() => FlowSafetensors.Save(Trained(), path));
        Assert.Contains($"the folder '{missing}' does not exist", e.Message, StringComparison.Ordinal);
        Assert.False(Directory.Exists(Path.Combine(_directory, "not")), "Save created a folder");
        Assert.Empty(Directory.EnumerateFileSystemEntries(_directory));
    }

    [Fact]
    public void RoundTripsDoubleAndLuModelsThroughStreamsAndBytes()
    {
        var d = new Tiny2DDouble(seed: 3);
        Perturb(d, 4);
        var stream = new MemoryStream();
        FlowSafetensors.Save(d, stream);
        stream.Position = 0;
        var d2 = new Tiny2DDouble(seed: 5);
        FlowSafetensors.Load(d2, stream);
        Assert.True(d.Parameters.SequenceEqual(d2.Parameters));

        var lu = new SingleCoordinate4D(seed: 6);
        Perturb(lu, 7);
        var lu2 = new SingleCoordinate4D(seed: 8);
        FlowSafetensors.Deserialize(lu2, FlowSafetensors.Serialize(lu));
        Assert.True(lu.Parameters.SequenceEqual(lu2.Parameters));
        FlowSafetensors.Load(lu2, new UnseekableStream(maxRead: 7, bytes: FlowSafetensors.Serialize(lu)));
        Assert.True(lu.Parameters.SequenceEqual(lu2.Parameters));
    }

    [Fact]
    public void FileUsesPyTorchConventionAndMetadata()
    {
        Tiny2D flow = Trained();
        byte[] file = FlowSafetensors.Serialize(flow);
        ulong n = BinaryPrimitives.ReadUInt64LittleEndian(file);
        Assert.Equal(0UL, (8 + n) % 8);                                    // data buffer 8-byte aligned
        (JsonObject header, byte[] data) = Split(file);
        JsonObject meta = header["__metadata__"]!.AsObject();
        Assert.Equal("pt", (string?)meta["format"]);
        Assert.Equal(Tiny2D.StackDescription, (string?)meta[FlowSafetensors.StackMetadataKey]);
        Assert.Equal(((ICouplingFlow<float>)flow).ModelName, (string?)meta[FlowSafetensors.ModelMetadataKey]);
        Assert.Equal(Tiny2D.ParameterTensors.Count, header.Count - 1);
        foreach (ParameterTensor t in Tiny2D.ParameterTensors)
        {
            JsonObject e = header[t.Name]!.AsObject();
            Assert.Equal("F32", (string?)e["dtype"]);
            Assert.Equal(t.Shape, e["shape"]!.AsArray().Select(x => (int)x!).ToArray());
            int begin = (int)e["data_offsets"]![0]!;
            float[] values = Enumerable.Range(0, t.Length).Select(i => BinaryPrimitives.ReadSingleLittleEndian(data.AsSpan(begin + 4 * i))).ToArray();
            if (t.Transposed)
            {
                int outs = t.Shape[0], ins = t.Shape[1];
                for (int o = 0; o < outs; o++)
                    for (int i = 0; i < ins; i++)
                        Assert.Equal(flow.Parameters[t.Offset + i * outs + o], values[o * ins + i]);   // torch [out, in] = FlowGen [in, out]ᵀ
            }
            else
            {
                Assert.True(values.AsSpan().SequenceEqual(flow.Parameters.Slice(t.Offset, t.Length)));
            }
        }
    }

    [Fact]
    public void LoadsTheOtherPrecisionWithConversion()
    {
        Tiny2D flow = Trained();
        // the same tensors written as F64 without metadata (as a plain torch save_file of a double module would be)
        (JsonObject header, byte[] data) = Split(FlowSafetensors.Serialize(flow));
        header.Remove("__metadata__");
        var wide = new byte[data.Length * 2];
        for (int i = 0; i < data.Length / 4; i++)
            BinaryPrimitives.WriteDoubleLittleEndian(wide.AsSpan(8 * i), BinaryPrimitives.ReadSingleLittleEndian(data.AsSpan(4 * i)));
        foreach (var (key, node) in header)
        {
            node!["dtype"] = "F64";
            var off = node["data_offsets"]!.AsArray();
            long b = (long)off[0]!, e = (long)off[1]!;
            node["data_offsets"] = new JsonArray(2 * b, 2 * e);
        }
        var loaded = new Tiny2D(seed: 99);
        FlowSafetensors.Deserialize(loaded, Join(header, wide));
        Assert.True(flow.Parameters.SequenceEqual(loaded.Parameters));   // float → double → float is exact

        // a double value that is not a float rounds to nearest
        var tweaked = (byte[])wide.Clone();
        BinaryPrimitives.WriteDoubleLittleEndian(tweaked, 0.1);
        FlowSafetensors.Deserialize(loaded, Join(header, tweaked));
        string first = header.Where(kv => (long)kv.Value!["data_offsets"]![0]! == 0).Single().Key;
        ParameterTensor t = Tiny2D.ParameterTensors.Single(x => x.Name == first);
        Assert.Equal(0.1f, loaded.Parameters[t.Offset]);
    }

    [Fact]
    public void DataInitialisationFlagTravels()
    {
        ICouplingFlow<float> flow = new WithActNorm3D(seed: 1);
        Assert.False(flow.IsDataInitialized);
        ICouplingFlow<float> other = new WithActNorm3D(seed: 2);
        FlowSafetensors.Deserialize(other, FlowSafetensors.Serialize(flow));
        Assert.False(other.IsDataInitialized);

        var xs = new float[3 * 64];
        var rng = new FlowRandom(3);
        rng.FillGaussian(xs.AsSpan());
        flow.InitializeFromData(xs, default);
        Assert.True(flow.IsDataInitialized);
        FlowSafetensors.Deserialize(other, FlowSafetensors.Serialize(flow));
        Assert.True(other.IsDataInitialized);

        // a foreign file without FlowGen metadata counts as trained
        ICouplingFlow<float> fresh = new WithActNorm3D(seed: 4);
        FlowSafetensors.Deserialize(fresh, Mutate(FlowSafetensors.Serialize(new WithActNorm3D(seed: 5)), h => h.Remove("__metadata__")));
        Assert.True(fresh.IsDataInitialized);
    }

    [Fact]
    public void ReadMetadataReturnsTheStack()
    {
        string path = Path.Combine(_directory, "m.safetensors");
        FlowSafetensors.Save(Trained(), path, new System.Collections.Generic.Dictionary<string, string> { ["note"] = "hello" });
        var meta = FlowSafetensors.ReadMetadata(path);
        Assert.Equal(Tiny2D.StackDescription, meta[FlowSafetensors.StackMetadataKey]);
        Assert.Equal("hello", meta["note"]);
    }

    // ---- malformations: each refused with FlowFormatException, model untouched

    public static TheoryData<string> Malformations() => new()
    {
        "shorter than 8 bytes", "header length absurd", "header length beyond file", "header length zero",
        "bad json", "not an object", "trailing garbage in header", "duplicate key", "metadata not string",
        "wrong dtype", "unknown dtype", "wrong shape", "wrong rank", "missing tensor", "extra tensor", "missing field", "unknown field",
        "offsets reversed", "offsets wrong size", "offsets overlap", "offsets hole", "offsets out of range", "negative offset", "three offsets",
        "truncated data", "trailing bytes", "another model", "another model, no spec", "empty",
    };

    private static byte[] Malformed(string kind)
    {
        byte[] good = FlowSafetensors.Serialize(Trained());
        (JsonObject header, byte[] data) = Split(good);
        string first = Tiny2D.ParameterTensors[0].Name, second = Tiny2D.ParameterTensors[1].Name;
        JsonObject t0 = header[first]!.AsObject();
        switch (kind)
        {
            case "shorter than 8 bytes": return good[..5];
            case "empty": return Array.Empty<byte>();
            case "header length absurd": { var b = (byte[])good.Clone(); BinaryPrimitives.WriteUInt64LittleEndian(b, ulong.MaxValue - 3); return b; }
            case "header length beyond file": { var b = (byte[])good.Clone(); BinaryPrimitives.WriteUInt64LittleEndian(b, (ulong)good.Length); return b; }
            case "header length zero": { var b = (byte[])good.Clone(); BinaryPrimitives.WriteUInt64LittleEndian(b, 0); return b; }
            case "bad json": return Join(header.ToJsonString()[..^5] + "    ", data);
            case "not an object": return Join("[1, 2, 3]", data);
            case "trailing garbage in header": return Join(header.ToJsonString() + " {}", data);
            case "duplicate key":
            {
                string json = header.ToJsonString();
                string dup = "\"" + first + "\":" + t0.ToJsonString();
                return Join(json[..^1] + "," + dup + "}", data);
            }
            case "metadata not string": header["__metadata__"]!["format"] = 3; break;
            case "wrong dtype": t0["dtype"] = "I32"; break;
            case "unknown dtype": t0["dtype"] = "F16"; break;
            case "wrong shape": { var s = t0["shape"]!.AsArray(); t0["shape"] = new JsonArray((int)s[1]!, (int)s[0]!); break; }
            case "wrong rank": { int n = Tiny2D.ParameterTensors[0].Length; t0["shape"] = new JsonArray(n); break; }
            case "missing tensor": header.Remove(first); break;
            case "extra tensor": header["layers.99.bias"] = new JsonObject { ["dtype"] = "F32", ["shape"] = new JsonArray(0), ["data_offsets"] = new JsonArray(data.Length, data.Length) }; break;
            case "missing field": t0.Remove("dtype"); break;
            case "unknown field": t0["strides"] = new JsonArray(1); break;
            case "offsets reversed": { var o = t0["data_offsets"]!.AsArray(); t0["data_offsets"] = new JsonArray((long)o[1]!, (long)o[0]!); break; }
            case "offsets wrong size": { var o = t0["data_offsets"]!.AsArray(); t0["data_offsets"] = new JsonArray((long)o[0]!, (long)o[1]! - 4); break; }
            case "offsets overlap":
            {
                // point the second tensor at the first one's bytes (same size needed: use the biases' region shifted by 4)
                JsonObject t1 = header[second]!.AsObject();
                var o = t1["data_offsets"]!.AsArray();
                t1["data_offsets"] = new JsonArray((long)o[0]! - 4, (long)o[1]! - 4);
                break;
            }
            case "offsets hole":
            {
                JsonObject last = header.Where(kv => kv.Key != "__metadata__").OrderBy(kv => (long)kv.Value!["data_offsets"]![0]!).Last().Value!.AsObject();
                var o = last["data_offsets"]!.AsArray();
                last["data_offsets"] = new JsonArray((long)o[0]! + 4, (long)o[1]! + 4);
                return Join(header, data.Concat(new byte[4]).ToArray());
            }
            case "offsets out of range":
            {
                JsonObject last = header.Where(kv => kv.Key != "__metadata__").OrderBy(kv => (long)kv.Value!["data_offsets"]![0]!).Last().Value!.AsObject();
                var o = last["data_offsets"]!.AsArray();
                long len = (long)o[1]! - (long)o[0]!;
                last["data_offsets"] = new JsonArray((long)o[0]! + 1_000_000_000L, (long)o[0]! + 1_000_000_000L + len);
                break;
            }
            case "negative offset": { var o = t0["data_offsets"]!.AsArray(); t0["data_offsets"] = new JsonArray(-4, (long)o[1]! - 4 - (long)o[0]!); break; }
            case "three offsets": { var o = t0["data_offsets"]!.AsArray(); t0["data_offsets"] = new JsonArray((long)o[0]!, (long)o[1]!, 0); break; }
            case "truncated data": return good[..^3];
            case "trailing bytes": return good.Concat(new byte[8]).ToArray();
            case "another model": header["__metadata__"]![FlowSafetensors.SpecMetadataKey] = Tiny2DDouble.StackSpec; break;
            case "another model, no spec":
                // a file written before the stack specification is checked by its description
                header["__metadata__"]!.AsObject().Remove(FlowSafetensors.SpecMetadataKey);
                header["__metadata__"]![FlowSafetensors.StackMetadataKey] = Tiny2DDouble.StackDescription;
                break;
            default: throw new ArgumentException(kind);
        }
        return Join(header, data);
    }

    [Theory]
    [MemberData(nameof(Malformations))]
    public void MalformedFileIsRefusedAndTheModelIsUntouched(string kind)
    {
        byte[] bad = Malformed(kind);
        ICouplingFlow<float> flow = new Tiny2D(seed: 42);
        float[] before = flow.Parameters.ToArray();

        var fromBytes = Assert.Throws<FlowFormatException>(() => FlowSafetensors.Deserialize(flow, bad));
        Assert.False(string.IsNullOrWhiteSpace(fromBytes.Message));
        Assert.True(flow.Parameters.SequenceEqual(before));

        string path = Path.Combine(_directory, "bad.safetensors");
        File.WriteAllBytes(path, bad);
        Assert.Throws<FlowFormatException>(() => FlowSafetensors.Load(flow, path));
        Assert.Throws<FlowFormatException>(() => FlowSafetensors.Load(flow, new UnseekableStream(maxRead: 7, bytes: bad)));
        Assert.True(flow.Parameters.SequenceEqual(before));
        Assert.True(flow.IsDataInitialized);
    }

    [Fact]
    public void MessagesNameTheProblem()
    {
        var flow = new Tiny2D(seed: 1);
        Assert.Contains("I32", Assert.Throws<FlowFormatException>(() => FlowSafetensors.Deserialize(flow, Malformed("wrong dtype"))).Message);
        Assert.Contains("shape", Assert.Throws<FlowFormatException>(() => FlowSafetensors.Deserialize(flow, Malformed("wrong shape"))).Message);
        Assert.Contains("missing " + Tiny2D.ParameterTensors[0].Name, Assert.Throws<FlowFormatException>(() => FlowSafetensors.Deserialize(flow, Malformed("missing tensor"))).Message);
        Assert.Contains("unexpected layers.99.bias", Assert.Throws<FlowFormatException>(() => FlowSafetensors.Deserialize(flow, Malformed("extra tensor"))).Message);
        Assert.Contains("overlap", Assert.Throws<FlowFormatException>(() => FlowSafetensors.Deserialize(flow, Malformed("offsets overlap"))).Message);
        Assert.Contains("Truncated", Assert.Throws<FlowFormatException>(() => FlowSafetensors.Deserialize(flow, Malformed("truncated data"))).Message);
        Assert.Contains("limit", Assert.Throws<FlowFormatException>(() => FlowSafetensors.Deserialize(flow, Malformed("header length absurd"))).Message);
        Assert.Contains("another model", Assert.Throws<FlowFormatException>(() => FlowSafetensors.Deserialize(flow, Malformed("another model"))).Message);
        Assert.Contains("another model", Assert.Throws<FlowFormatException>(() => FlowSafetensors.Deserialize(flow, Malformed("another model, no spec"))).Message);
    }

    [Fact]
    public void AbsurdHeaderLengthOnANonSeekableStreamAllocatesOnlyWhatArrives()
    {
        // announces 99 MB of header but supplies 20 bytes: refused as truncated without allocating the announced size
        var bytes = new byte[28];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, 99_000_000);
        "{\"a\":1}"u8.CopyTo(bytes.AsSpan(8));
        var flow = new Tiny2D(seed: 1);
        long before = GC.GetAllocatedBytesForCurrentThread();
        Assert.Throws<FlowFormatException>(() => FlowSafetensors.Load(flow, new UnseekableStream(maxRead: 7, bytes: bytes)));
        Assert.True(GC.GetAllocatedBytesForCurrentThread() - before < 8_000_000);
    }

    [Fact]
    public void PlausibleHeaderLengthOnANonSeekableStreamAllocatesOnlyWhatArrives()
    {
        // announces 900 000 bytes of header (under any chunk a reader might allocate at once) but supplies 20: refused as
        // truncated after allocating one 16 KiB chunk, not the announced length
        var bytes = new byte[28];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, 900_000);
        "{\"a\":1}"u8.CopyTo(bytes.AsSpan(8));
        var flow = new Tiny2D(seed: 1);
        long before = GC.GetAllocatedBytesForCurrentThread();
        var error = Assert.Throws<FlowFormatException>(() => FlowSafetensors.Load(flow, new UnseekableStream(maxRead: 7, bytes: bytes)));
        Assert.Contains("20 of 900000", error.Message);
        Assert.True(GC.GetAllocatedBytesForCurrentThread() - before < 64_000);
    }
}
