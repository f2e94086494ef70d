using System;
using System.Buffers.Binary;
using System.Collections.Generic;
using System.IO;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace FlowGen;

/// <summary>
/// Reads and writes a flow's parameters in the <a href="https://github.com/huggingface/safetensors">safetensors</a> format,
/// with the tensor names of <see cref="ICouplingFlow{T}.ParameterTensors"/>, so that a PyTorch module with the same
/// architecture (<c>interop/python/flowgen_torch.py</c>) loads the file with <c>load_state_dict</c> directly.
/// <para>
/// Layout: an 8-byte little-endian header length N, N bytes of UTF-8 JSON (padded with spaces to a multiple of 8), then the
/// data buffer. Every tensor is stored row-major, little-endian, in PyTorch's convention: a dense weight is
/// <c>[out, in]</c> like <c>nn.Linear.weight</c>, i.e. the transpose of FlowGen's input-major storage (docs/model.md §5);
/// the transposition happens here. A file written by FlowGen holds the model's precision (F32 for float models, F64 for
/// double models) and the metadata <c>flowgen.model</c>, <c>flowgen.spec</c> (the <see cref="ICouplingFlow{T}.StackSpec"/>),
/// <c>flowgen.stack</c> (the <see cref="ICouplingFlow{T}.StackDescription"/>, for people), <c>flowgen.stack_hash</c>,
/// <c>flowgen.data_initialized</c> and <c>format = pt</c>.
/// </para>
/// <para>
/// Loading accepts F32 and F64 tensors into either model precision (a double tensor loaded into a float model is rounded to
/// nearest); any other dtype is rejected. The file must contain exactly the model's tensors with exactly their shapes, with
/// data offsets that tile the data buffer without holes or overlaps (as the format requires). If the file carries
/// <c>flowgen.spec</c> metadata it must equal the model's stack specification (so a file of another architecture with
/// coincidentally equal shapes is refused); a file written before the specification existed is checked by its
/// <c>flowgen.stack</c> description instead; a file with neither (e.g. a plain PyTorch <c>save_file(module.state_dict())</c>)
/// is matched by names, shapes and dtypes only. After loading, ActNorm layers count as data-initialised unless the file says
/// <c>flowgen.data_initialized = false</c>.
/// </para>
/// <para>
/// Everything is parsed and checked, and the values decoded into a temporary buffer, before the model is touched: a failed load
/// (<see cref="FlowFormatException"/>) leaves the parameters as they were. Allocation is bounded by the model (its parameter
/// count × 8 bytes for data) and by the bytes actually present (the header is at most <see cref="MaxHeaderBytes"/> and never
/// more than the file holds). Saving to a path writes a temporary file and renames it over the target.
/// </para>
/// </summary>
public static class FlowSafetensors
{
    /// <summary>The largest JSON header accepted (100 MB).</summary>
    public const long MaxHeaderBytes = 100_000_000;

    /// <summary>Metadata key holding the model's <see cref="ICouplingFlow{T}.StackDescription"/>.</summary>
    public const string StackMetadataKey = "flowgen.stack";

    /// <summary>Metadata key holding the model's <see cref="ICouplingFlow{T}.StackSpec"/> (JSON).</summary>
    public const string SpecMetadataKey = "flowgen.spec";

    /// <summary>Metadata key holding the model's name.</summary>
    public const string ModelMetadataKey = "flowgen.model";

    /// <summary>Metadata key holding the stack hash (16 hex digits).</summary>
    public const string StackHashMetadataKey = "flowgen.stack_hash";

    /// <summary>Metadata key holding "true" or "false": whether data-dependent layers (ActNorm) have been initialised.</summary>
    public const string DataInitializedMetadataKey = "flowgen.data_initialized";

    private const int MaxDepth = 8;

    // ------------------------------------------------------------------ saving

    /// <summary>Writes the flow's parameters to <paramref name="path"/> atomically (temporary file, then rename).</summary>
    /// <param name="flow">The flow.</param>
    /// <param name="path">The target file, in an existing folder.</param>
    /// <param name="metadata">Extra string metadata to store in <c>__metadata__</c> (keys starting with "flowgen." are reserved).</param>
    /// <exception cref="DirectoryNotFoundException">The target's folder does not exist (it is not created).</exception>
    public static void Save<T>(ICouplingFlow<T> flow, string path, IReadOnlyDictionary<string, string>? metadata = null) where T : unmanaged
    {
        ArgumentNullException.ThrowIfNull(flow);
        ArgumentException.ThrowIfNullOrEmpty(path);
        byte[] bytes = Serialize(flow, metadata);
        AtomicFile.Write(path, stream => stream.Write(bytes));
    }

    /// <summary>Writes the flow's parameters to a stream.</summary>
    public static void Save<T>(ICouplingFlow<T> flow, Stream stream, IReadOnlyDictionary<string, string>? metadata = null) where T : unmanaged
    {
        ArgumentNullException.ThrowIfNull(flow);
        ArgumentNullException.ThrowIfNull(stream);
        stream.Write(Serialize(flow, metadata));
    }

    /// <summary>The safetensors bytes of a flow's parameters.</summary>
    public static byte[] Serialize<T>(ICouplingFlow<T> flow, IReadOnlyDictionary<string, string>? metadata = null) where T : unmanaged
    {
        ArgumentNullException.ThrowIfNull(flow);
        int size = ScalarSize<T>();
        string dtype = size == 4 ? "F32" : "F64";
        IReadOnlyList<ParameterTensor> tensors = flow.ParameterTensors;

        var json = new MemoryStream();
        using (var w = new Utf8JsonWriter(json, new JsonWriterOptions { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            w.WriteStartObject();
            w.WriteStartObject("__metadata__");
            w.WriteString("format", "pt");
            w.WriteString(ModelMetadataKey, flow.ModelName);
            w.WriteString(SpecMetadataKey, flow.StackSpec);
            w.WriteString(StackMetadataKey, flow.StackDescription);
            w.WriteString(StackHashMetadataKey, flow.StackHash.ToString("X16", System.Globalization.CultureInfo.InvariantCulture));
            w.WriteString(DataInitializedMetadataKey, flow.IsDataInitialized ? "true" : "false");
            if (metadata is not null)
            {
                foreach (KeyValuePair<string, string> kv in metadata)
                {
                    if (kv.Key is "format" || kv.Key.StartsWith("flowgen.", StringComparison.Ordinal))
                        throw new ArgumentException($"Metadata key '{kv.Key}' is reserved.", nameof(metadata));
                    w.WriteString(kv.Key, kv.Value);
                }
            }
            w.WriteEndObject();
            long offset = 0;
            foreach (ParameterTensor t in tensors)
            {
                w.WriteStartObject(t.Name);
                w.WriteString("dtype", dtype);
                w.WriteStartArray("shape");
                foreach (int s in t.Shape) w.WriteNumberValue(s);
                w.WriteEndArray();
                w.WriteStartArray("data_offsets");
                w.WriteNumberValue(offset);
                offset += (long)t.Length * size;
                w.WriteNumberValue(offset);
                w.WriteEndArray();
                w.WriteEndObject();
            }
            w.WriteEndObject();
        }
        int headerLength = checked((int)json.Length + 7) & ~7;   // pad with spaces to a multiple of 8
        long dataLength = 0;
        foreach (ParameterTensor t in tensors) dataLength += (long)t.Length * size;
        var bytes = new byte[checked(8 + headerLength + dataLength)];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, (ulong)headerLength);
        json.GetBuffer().AsSpan(0, (int)json.Length).CopyTo(bytes.AsSpan(8));
        bytes.AsSpan(8 + (int)json.Length, headerLength - (int)json.Length).Fill((byte)' ');

        Span<byte> data = bytes.AsSpan(8 + headerLength);
        ReadOnlySpan<T> parameters = flow.Parameters;
        int position = 0;
        foreach (ParameterTensor t in tensors)
        {
            ReadOnlySpan<T> block = parameters.Slice(t.Offset, t.Length);
            var (rows, columns) = FileMatrix(t);
            for (int e = 0; e < block.Length; e++)
            {
                int source = StorageIndex(t, rows, columns, e);
                WriteScalar(data.Slice(position, size), block[source]);
                position += size;
            }
        }
        return bytes;
    }

    // ------------------------------------------------------------------ loading

    /// <summary>Loads parameters from a safetensors file; throws <see cref="FlowFormatException"/> and leaves the flow untouched if it does not fit.</summary>
    public static void Load<T>(ICouplingFlow<T> flow, string path) where T : unmanaged
    {
        ArgumentNullException.ThrowIfNull(flow);
        ArgumentException.ThrowIfNullOrEmpty(path);
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read);
        Load(flow, stream);
    }

    /// <summary>Loads parameters from a stream (read to its end); throws <see cref="FlowFormatException"/> and leaves the flow untouched if the data does not fit.</summary>
    public static void Load<T>(ICouplingFlow<T> flow, Stream stream) where T : unmanaged
    {
        ArgumentNullException.ThrowIfNull(flow);
        ArgumentNullException.ThrowIfNull(stream);
        ScalarSize<T>();
        long? available = null;
        if (stream.CanSeek) available = stream.Length - stream.Position;

        Span<byte> prefix = stackalloc byte[8];
        int got = stream.ReadAtLeast(prefix, prefix.Length, throwOnEndOfStream: false);
        if (got < 8) throw new FlowFormatException($"Not a safetensors file: {got} bytes is shorter than the 8-byte header length.");
        ulong announced = BinaryPrimitives.ReadUInt64LittleEndian(prefix);
        CheckHeaderLength(announced, available);
        byte[] header = ReadHeader(stream, (int)announced);
        Header parsed = ParseHeader(header);
        long dataLength = Validate(flow, parsed);
        if (available is long a && 8 + (long)announced + dataLength != a)
        {
            throw new FlowFormatException(8 + (long)announced + dataLength > a
                ? $"Truncated safetensors file: the header announces {8 + (long)announced + dataLength} bytes, the file has {a}."
                : $"Corrupted safetensors file: {a - 8 - (long)announced - dataLength} bytes after the last tensor.");
        }
        // decode tensor by tensor, in file order, through a small buffer: memory is the model's size plus the header
        var values = new T[flow.ParameterCount];
        var byName = new Dictionary<string, ParameterTensor>(StringComparer.Ordinal);
        foreach (ParameterTensor t in flow.ParameterTensors) byName.Add(t.Name, t);
        var order = new List<Entry>(parsed.Tensors.Values);
        order.Sort((x, y) => x.Begin.CompareTo(y.Begin));
        byte[] chunk = new byte[8192];
        long read = 0;
        foreach (Entry e in order)
        {
            ParameterTensor t = byName[e.Name];
            int size = DtypeSize(e.Dtype), perChunk = chunk.Length / size;
            for (int first = 0; first < t.Length; first += perChunk)
            {
                int count = Math.Min(perChunk, t.Length - first);
                int n = stream.ReadAtLeast(chunk.AsSpan(0, count * size), count * size, throwOnEndOfStream: false);
                read += n;
                if (n < count * size) throw new FlowFormatException($"Truncated safetensors file: the data has {read} of {dataLength} bytes.");
                DecodeInto(t, size, chunk.AsSpan(0, count * size), first, values.AsSpan(t.Offset, t.Length));
            }
        }
        Span<byte> probe = stackalloc byte[1];
        if (stream.Read(probe) != 0) throw new FlowFormatException("Corrupted safetensors file: bytes after the last tensor.");
        Commit(flow, parsed, values);
    }

    /// <summary>Loads parameters from safetensors bytes; throws <see cref="FlowFormatException"/> and leaves the flow untouched if they do not fit.</summary>
    public static void Deserialize<T>(ICouplingFlow<T> flow, ReadOnlySpan<byte> bytes) where T : unmanaged
    {
        ArgumentNullException.ThrowIfNull(flow);
        ScalarSize<T>();
        if (bytes.Length < 8) throw new FlowFormatException($"Not a safetensors file: {bytes.Length} bytes is shorter than the 8-byte header length.");
        ulong announced = BinaryPrimitives.ReadUInt64LittleEndian(bytes);
        CheckHeaderLength(announced, bytes.Length - 8);
        Header parsed = ParseHeader(bytes.Slice(8, (int)announced));
        long dataLength = Validate(flow, parsed);
        long actual = bytes.Length - 8 - (long)announced;
        if (actual < dataLength) throw new FlowFormatException($"Truncated safetensors file: the header announces {dataLength} data bytes, {actual} are present.");
        if (actual > dataLength) throw new FlowFormatException($"Corrupted safetensors file: {actual - dataLength} bytes after the last tensor.");
        T[] values = Decode(flow, parsed, bytes[(8 + (int)announced)..]);
        Commit(flow, parsed, values);
    }

    /// <summary>Reads only the <c>__metadata__</c> of a safetensors file (e.g. <c>flowgen.stack</c>), checking the header's syntax.</summary>
    public static IReadOnlyDictionary<string, string> ReadMetadata(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read);
        Span<byte> prefix = stackalloc byte[8];
        if (stream.ReadAtLeast(prefix, prefix.Length, throwOnEndOfStream: false) < 8) throw new FlowFormatException("Not a safetensors file: shorter than the 8-byte header length.");
        ulong announced = BinaryPrimitives.ReadUInt64LittleEndian(prefix);
        CheckHeaderLength(announced, stream.Length - 8);
        return ParseHeader(ReadHeader(stream, (int)announced)).Metadata;
    }

    // ------------------------------------------------------------------ parsing and validation

    private sealed class Entry(string name, string dtype, long[] shape, long begin, long end)
    {
        public string Name { get; } = name;
        public string Dtype { get; } = dtype;
        public long[] Shape { get; } = shape;
        public long Begin { get; } = begin;
        public long End { get; } = end;
    }

    private sealed class Header
    {
        public Dictionary<string, string> Metadata { get; } = new(StringComparer.Ordinal);
        public Dictionary<string, Entry> Tensors { get; } = new(StringComparer.Ordinal);
    }

    private static void CheckHeaderLength(ulong announced, long? available)
    {
        if (announced < 2) throw new FlowFormatException($"Not a safetensors file: header length {announced} is too short for a JSON object.");
        if (announced > MaxHeaderBytes) throw new FlowFormatException($"Not a safetensors file: header length {announced} exceeds the {MaxHeaderBytes}-byte limit.");
        if (available is long a && (long)announced > a)
            throw new FlowFormatException($"Truncated safetensors file: header length {announced} exceeds the {a} bytes that follow it.");
    }

    private static Header ParseHeader(ReadOnlySpan<byte> json)
    {
        var header = new Header();
        if (json.Length == 0 || json[0] != (byte)'{') throw new FlowFormatException("Corrupted safetensors header: it does not start with '{'.");
        try
        {
            var reader = new Utf8JsonReader(json, new JsonReaderOptions { CommentHandling = JsonCommentHandling.Disallow, AllowTrailingCommas = false, MaxDepth = MaxDepth });
            Expect(ref reader, JsonTokenType.StartObject, "the header");
            var seen = new HashSet<string>(StringComparer.Ordinal);
            while (true)
            {
                Next(ref reader, "the header");
                if (reader.TokenType == JsonTokenType.EndObject) break;
                string key = reader.GetString()!;
                if (!seen.Add(key)) throw new FlowFormatException($"Corrupted safetensors header: key '{key}' appears twice.");
                if (key == "__metadata__") ReadMetadata(ref reader, header.Metadata);
                else header.Tensors.Add(key, ReadEntry(ref reader, key));
            }
            if (reader.Read()) throw new FlowFormatException("Corrupted safetensors header: content after the closing '}'.");
        }
        catch (JsonException e)
        {
            throw new FlowFormatException($"Corrupted safetensors header: invalid JSON ({e.Message}).", e);
        }
        catch (InvalidOperationException e)
        {
            throw new FlowFormatException($"Corrupted safetensors header: {e.Message}", e);
        }
        return header;
    }

    private static void Next(ref Utf8JsonReader reader, string where)
    {
        if (!reader.Read()) throw new FlowFormatException($"Corrupted safetensors header: {where} ends early.");
    }

    private static void Expect(ref Utf8JsonReader reader, JsonTokenType type, string where)
    {
        Next(ref reader, where);
        if (reader.TokenType != type) throw new FlowFormatException($"Corrupted safetensors header: expected {Describe(type)} in {where}, found {Describe(reader.TokenType)}.");
    }

    private static string Describe(JsonTokenType type) => type switch
    {
        JsonTokenType.StartObject => "an object",
        JsonTokenType.StartArray => "an array",
        JsonTokenType.String => "a string",
        JsonTokenType.Number => "a number",
        JsonTokenType.EndArray => "']'",
        JsonTokenType.EndObject => "'}'",
        JsonTokenType.True or JsonTokenType.False => "a boolean",
        JsonTokenType.Null => "null",
        _ => type.ToString(),
    };

    private static void ReadMetadata(ref Utf8JsonReader reader, Dictionary<string, string> metadata)
    {
        Expect(ref reader, JsonTokenType.StartObject, "__metadata__");
        while (true)
        {
            Next(ref reader, "__metadata__");
            if (reader.TokenType == JsonTokenType.EndObject) return;
            string key = reader.GetString()!;
            Expect(ref reader, JsonTokenType.String, $"__metadata__ value '{key}' (metadata values are strings)");
            if (!metadata.TryAdd(key, reader.GetString()!)) throw new FlowFormatException($"Corrupted safetensors header: metadata key '{key}' appears twice.");
        }
    }

    // Tensor entries are parsed without building any message string: "where" texts are made only when throwing, so a
    // header costs little more than its own tensors (names, shapes, offsets).
    private static string Where(string tensor, string? field) => field is null ? $"tensor '{tensor}'" : $"tensor '{tensor}' {field}";

    private static void Next(ref Utf8JsonReader reader, string tensor, string? field)
    {
        if (!reader.Read()) throw new FlowFormatException($"Corrupted safetensors header: {Where(tensor, field)} ends early.");
    }

    private static void Expect(ref Utf8JsonReader reader, JsonTokenType type, string tensor, string? field)
    {
        Next(ref reader, tensor, field);
        if (reader.TokenType != type) throw new FlowFormatException($"Corrupted safetensors header: expected {Describe(type)} in {Where(tensor, field)}, found {Describe(reader.TokenType)}.");
    }

    private static Entry ReadEntry(ref Utf8JsonReader reader, string name)
    {
        Expect(ref reader, JsonTokenType.StartObject, name, null);
        string? dtype = null;
        long[]? shape = null, offsets = null;
        while (true)
        {
            Next(ref reader, name, null);
            if (reader.TokenType == JsonTokenType.EndObject) break;
            if (reader.ValueTextEquals("dtype"u8) && dtype is null)
            {
                Expect(ref reader, JsonTokenType.String, name, "dtype");
                dtype = reader.ValueTextEquals("F32"u8) ? "F32" : reader.ValueTextEquals("F64"u8) ? "F64" : reader.GetString()!;
            }
            else if (reader.ValueTextEquals("shape"u8) && shape is null) shape = ReadIntegers(ref reader, name, "shape");
            else if (reader.ValueTextEquals("data_offsets"u8) && offsets is null) offsets = ReadIntegers(ref reader, name, "data_offsets");
            else
            {
                string field = reader.GetString()!;
                throw new FlowFormatException(field is "dtype" or "shape" or "data_offsets"
                    ? $"Corrupted safetensors header: {Where(name, null)} has '{field}' twice."
                    : $"Corrupted safetensors header: {Where(name, null)} has an unknown field '{field}'.");
            }
        }
        if (dtype is null || shape is null || offsets is null)
        {
            string missing = dtype is null ? "dtype" : shape is null ? "shape" : "data_offsets";
            throw new FlowFormatException($"Corrupted safetensors header: {Where(name, null)} has no '{missing}'.");
        }
        if (offsets.Length != 2) throw new FlowFormatException($"Corrupted safetensors header: {Where(name, "data_offsets")} has {offsets.Length} numbers, not 2.");
        if (offsets[1] < offsets[0]) throw new FlowFormatException($"Corrupted safetensors header: {Where(name, "data_offsets")} [{offsets[0]}, {offsets[1]}] end before they begin.");
        return new Entry(name, dtype, shape, offsets[0], offsets[1]);
    }

    private static long[] ReadIntegers(ref Utf8JsonReader reader, string tensor, string field)
    {
        Expect(ref reader, JsonTokenType.StartArray, tensor, field);
        Span<long> values = stackalloc long[64];
        int count = 0;
        while (true)
        {
            Next(ref reader, tensor, field);
            if (reader.TokenType == JsonTokenType.EndArray) return values[..count].ToArray();
            if (reader.TokenType != JsonTokenType.Number || !reader.TryGetInt64(out long v) || v < 0)
                throw new FlowFormatException($"Corrupted safetensors header: {Where(tensor, field)} must hold non-negative integers.");
            if (count == values.Length) throw new FlowFormatException($"Corrupted safetensors header: {Where(tensor, field)} is too long.");
            values[count++] = v;
        }
    }

    private static int DtypeSize(string dtype) => dtype switch { "F32" => 4, "F64" => 8, _ => 0 };

    /// <summary>Checks the header against the model; returns the data length the header announces.</summary>
    private static long Validate<T>(ICouplingFlow<T> flow, Header header) where T : unmanaged
    {
        if (header.Metadata.TryGetValue(SpecMetadataKey, out string? spec))
        {
            if (!string.Equals(spec, flow.StackSpec, StringComparison.Ordinal))
            {
                header.Metadata.TryGetValue(ModelMetadataKey, out string? other);
                throw new FlowFormatException(
                    $"Safetensors file is of another model: '{other ?? "?"}' with stack specification\n{spec}\ncannot be loaded into '{flow.ModelName}' with stack specification\n{flow.StackSpec}");
            }
        }
        else if (header.Metadata.TryGetValue(StackMetadataKey, out string? stack) && !string.Equals(Normalize(stack), Normalize(flow.StackDescription), StringComparison.Ordinal))
        {
            header.Metadata.TryGetValue(ModelMetadataKey, out string? other);
            throw new FlowFormatException(
                $"Safetensors file is of another model: '{other ?? "?"}' with stack\n{stack}\ncannot be loaded into '{flow.ModelName}' with stack\n{flow.StackDescription}");
        }
        IReadOnlyList<ParameterTensor> tensors = flow.ParameterTensors;
        var missing = new List<string>();
        var expected = new HashSet<string>(StringComparer.Ordinal);
        foreach (ParameterTensor t in tensors)
        {
            expected.Add(t.Name);
            if (!header.Tensors.TryGetValue(t.Name, out Entry? e)) { missing.Add(t.Name); continue; }
            int size = DtypeSize(e.Dtype);
            if (size == 0) throw new FlowFormatException($"Safetensors tensor '{t.Name}' has dtype {e.Dtype}; FlowGen reads F32 and F64.");
            if (!ShapeEquals(e.Shape, t.Shape))
                throw new FlowFormatException($"Safetensors tensor '{t.Name}' has shape [{string.Join(", ", e.Shape)}]; {flow.ModelName} expects [{string.Join(", ", t.Shape)}].");
            if (e.End - e.Begin != (long)t.Length * size)
                throw new FlowFormatException($"Corrupted safetensors header: tensor '{t.Name}' data_offsets [{e.Begin}, {e.End}] span {e.End - e.Begin} bytes, but {e.Dtype}[{string.Join(", ", e.Shape)}] needs {(long)t.Length * size}.");
        }
        var extra = new List<string>();
        foreach (string name in header.Tensors.Keys) if (!expected.Contains(name)) extra.Add(name);
        if (missing.Count > 0 || extra.Count > 0)
        {
            var sb = new StringBuilder($"Safetensors file does not hold the tensors of {flow.ModelName}:");
            if (missing.Count > 0) sb.Append(" missing ").Append(string.Join(", ", missing)).Append('.');
            if (extra.Count > 0) sb.Append(" unexpected ").Append(string.Join(", ", extra)).Append('.');
            throw new FlowFormatException(sb.ToString());
        }
        // the data buffer must be tiled exactly: sorted by offset, each tensor starts where the previous one ended
        var entries = new List<Entry>(header.Tensors.Values);
        entries.Sort((a, b) => a.Begin != b.Begin ? a.Begin.CompareTo(b.Begin) : a.End.CompareTo(b.End));
        long end = 0;
        foreach (Entry e in entries)
        {
            if (e.Begin < end) throw new FlowFormatException($"Corrupted safetensors header: tensor '{e.Name}' data_offsets [{e.Begin}, {e.End}] overlap the previous tensor (ending at {end}).");
            if (e.Begin > end) throw new FlowFormatException($"Corrupted safetensors header: a hole in the data buffer before tensor '{e.Name}' ({end} to {e.Begin}).");
            end = e.End;
        }
        return end;
    }

    private static string Normalize(string s) => s.Replace("\r\n", "\n", StringComparison.Ordinal).TrimEnd('\n');

    private static bool ShapeEquals(long[] file, IReadOnlyList<int> model)
    {
        if (file.Length != model.Count) return false;
        for (int i = 0; i < file.Length; i++) if (file[i] != model[i]) return false;
        return true;
    }

    private static T[] Decode<T>(ICouplingFlow<T> flow, Header header, ReadOnlySpan<byte> data) where T : unmanaged
    {
        var values = new T[flow.ParameterCount];
        foreach (ParameterTensor t in flow.ParameterTensors)
        {
            Entry e = header.Tensors[t.Name];
            DecodeInto(t, DtypeSize(e.Dtype), data.Slice((int)e.Begin, (int)(e.End - e.Begin)), 0, values.AsSpan(t.Offset, t.Length));
        }
        return values;
    }

    /// <summary>The tensor as the file's row-major matrix: [out, in] for a dense weight, one row otherwise.</summary>
    private static (int Rows, int Columns) FileMatrix(ParameterTensor t)
    {
        int rows = t.Shape.Count == 2 ? t.Shape[0] : 1;
        return (rows, t.Length / Math.Max(rows, 1));
    }

    /// <summary>Where file element e (element (r, c) of the [out, in] tensor) lives in the tensor's block: (c, r), input-major, when FlowGen stores it transposed.</summary>
    private static int StorageIndex(ParameterTensor t, int rows, int columns, int e) => t.Transposed ? (e % columns) * rows + e / columns : e;

    /// <summary>Decodes the file's elements first … first + n − 1 (file order, PyTorch layout) of tensor t into its block.</summary>
    private static void DecodeInto<T>(ParameterTensor t, int size, ReadOnlySpan<byte> source, int first, Span<T> block) where T : unmanaged
    {
        var (rows, columns) = FileMatrix(t);
        int n = source.Length / size;
        for (int k = 0; k < n; k++)
        {
            int target = StorageIndex(t, rows, columns, first + k);
            block[target] = size == 4
                ? FromDouble<T>(BinaryPrimitives.ReadSingleLittleEndian(source.Slice(k * 4, 4)))
                : FromDouble<T>(BinaryPrimitives.ReadDoubleLittleEndian(source.Slice(k * 8, 8)));
        }
    }

    private static void Commit<T>(ICouplingFlow<T> flow, Header header, T[] values) where T : unmanaged
    {
        bool initialized = !header.Metadata.TryGetValue(DataInitializedMetadataKey, out string? flag) || flag != "false";
        // everything checked: now the model changes
        values.CopyTo(flow.Parameters);
        flow.IsDataInitialized = initialized;
    }

    // ------------------------------------------------------------------ helpers

    private static T FromDouble<T>(double value) where T : unmanaged
    {
        if (typeof(T) == typeof(float)) { float f = (float)value; return System.Runtime.CompilerServices.Unsafe.As<float, T>(ref f); }
        return System.Runtime.CompilerServices.Unsafe.As<double, T>(ref value);
    }

    private static void WriteScalar<T>(Span<byte> target, T value) where T : unmanaged
    {
        if (typeof(T) == typeof(float)) BinaryPrimitives.WriteSingleLittleEndian(target, System.Runtime.CompilerServices.Unsafe.As<T, float>(ref value));
        else BinaryPrimitives.WriteDoubleLittleEndian(target, System.Runtime.CompilerServices.Unsafe.As<T, double>(ref value));
    }

    private static int ScalarSize<T>() where T : unmanaged
    {
        if (typeof(T) == typeof(float)) return 4;
        if (typeof(T) == typeof(double)) return 8;
        throw new NotSupportedException($"FlowGen models use float or double, not {typeof(T)}.");
    }

    /// <summary>
    /// Reads the <paramref name="count"/>-byte header in 16 KiB chunks kept as they arrive, so that a lying length costs no more
    /// than the bytes present plus one chunk, also on a stream that cannot tell its length; a short stream is a
    /// <see cref="FlowFormatException"/> saying how many bytes there were.
    /// </summary>
    private static byte[] ReadHeader(Stream stream, int count)
    {
        const int Chunk = 1 << 14;
        var chunks = new List<byte[]>();
        int have = 0;
        while (have < count)
        {
            int want = Math.Min(Chunk, count - have);
            var chunk = new byte[want];
            int got = stream.ReadAtLeast(chunk, want, throwOnEndOfStream: false);
            have += got;
            if (got < want) throw new FlowFormatException($"Truncated safetensors file: the header has {have} of {count} bytes.");
            chunks.Add(chunk);
        }
        if (chunks.Count == 1) return chunks[0];
        var header = new byte[count];
        int at = 0;
        foreach (byte[] c in chunks) { c.CopyTo(header, at); at += c.Length; }
        return header;
    }
}
