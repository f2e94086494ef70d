using System;
using System.Buffers.Binary;
using System.IO;
using System.Runtime.InteropServices;
using System.Text;

namespace FlowGen;

/// <summary>A weights file that cannot be loaded into a model: corrupted, truncated, of another model or of another format version.</summary>
public sealed class FlowFormatException : IOException
{
    /// <summary>Creates the exception with a message that says what is wrong.</summary>
    public FlowFormatException(string message) : base(message) { }

    /// <summary>Creates the exception with a message and the underlying error.</summary>
    public FlowFormatException(string message, Exception inner) : base(message, inner) { }
}

/// <summary>
/// Saves and loads a flow's parameters in FlowGen's versioned checkpoint format (little-endian):
/// <code>
/// offset  size  field
///  0       8    magic "FLOWGEN\0"
///  8       4    format version (2)
/// 12       4    scalar size in bytes (4 = float, 8 = double)
/// 16       8    stack hash (FNV-1a of the model's StackSpec)
/// 24       4    parameter count
/// 28       4    Dim
/// 32       4    ContextDim
/// 36       4    flags (bit 0: data-dependent layers initialised)
/// 40       4    model name length L (UTF-8 bytes)
/// 44       4    stack specification length S (UTF-8 bytes)
/// 48       L    model name
/// 48+L     S    stack specification (the model's StackSpec JSON)
/// 48+L+S   …    parameters (count × scalar size)
/// end−8    8    FNV-1a 64 checksum of every preceding byte
/// </code>
/// Version 1 (before the stack specification) is refused with a <see cref="FlowFormatException"/> naming the version: its
/// stack hash was taken over the description, so it cannot be checked against today's models.
/// Loading checks every field before touching the model, so a failed load leaves the parameters as they were; saving writes a
/// temporary file beside the target and renames it over the target, so a crash never leaves a half-written checkpoint.
/// </summary>
public static class FlowCheckpoint
{
    private static ReadOnlySpan<byte> Magic => "FLOWGEN\0"u8;

    /// <summary>The current format version.</summary>
    public const int FormatVersion = 2;

    private const int FixedHeader = 48;
    private const int MaxNameBytes = 4096;

    /// <summary>Writes the flow's parameters to <paramref name="path"/> atomically (temporary file, then rename).</summary>
    /// <param name="flow">The flow.</param>
    /// <param name="path">The target file, in an existing folder.</param>
    /// <exception cref="DirectoryNotFoundException">The target's folder does not exist (it is not created).</exception>
    public static void Save<T>(ICouplingFlow<T> flow, string path) where T : unmanaged
    {
        ArgumentNullException.ThrowIfNull(flow);
        ArgumentException.ThrowIfNullOrEmpty(path);
        AtomicFile.Write(path, stream => Save(flow, stream));
    }

    /// <summary>Writes the flow's parameters to a stream.</summary>
    public static void Save<T>(ICouplingFlow<T> flow, Stream stream) where T : unmanaged
    {
        ArgumentNullException.ThrowIfNull(flow);
        ArgumentNullException.ThrowIfNull(stream);
        byte[] bytes = Serialize(flow);
        stream.Write(bytes);
    }

    /// <summary>The checkpoint bytes of a flow.</summary>
    public static byte[] Serialize<T>(ICouplingFlow<T> flow) where T : unmanaged
    {
        ArgumentNullException.ThrowIfNull(flow);
        int size = ScalarSize<T>();
        byte[] name = Encoding.UTF8.GetBytes(flow.ModelName);
        if (name.Length > MaxNameBytes) name = name.AsSpan(0, MaxNameBytes).ToArray();
        byte[] spec = Encoding.UTF8.GetBytes(flow.StackSpec);
        ReadOnlySpan<byte> payload = MemoryMarshal.AsBytes((ReadOnlySpan<T>)flow.Parameters);
        var bytes = new byte[FixedHeader + name.Length + spec.Length + payload.Length + 8];
        Span<byte> b = bytes;
        Magic.CopyTo(b);
        BinaryPrimitives.WriteInt32LittleEndian(b[8..], FormatVersion);
        BinaryPrimitives.WriteInt32LittleEndian(b[12..], size);
        BinaryPrimitives.WriteUInt64LittleEndian(b[16..], flow.StackHash);
        BinaryPrimitives.WriteInt32LittleEndian(b[24..], flow.ParameterCount);
        BinaryPrimitives.WriteInt32LittleEndian(b[28..], flow.Dim);
        BinaryPrimitives.WriteInt32LittleEndian(b[32..], flow.ContextDim);
        BinaryPrimitives.WriteInt32LittleEndian(b[36..], flow.IsDataInitialized ? 1 : 0);
        BinaryPrimitives.WriteInt32LittleEndian(b[40..], name.Length);
        BinaryPrimitives.WriteInt32LittleEndian(b[44..], spec.Length);
        name.CopyTo(b[FixedHeader..]);
        spec.CopyTo(b[(FixedHeader + name.Length)..]);
        Span<byte> data = b.Slice(FixedHeader + name.Length + spec.Length, payload.Length);
        payload.CopyTo(data);
        if (!BitConverter.IsLittleEndian) ReverseScalars(data, size);
        BinaryPrimitives.WriteUInt64LittleEndian(b[^8..], Fnv1a(b[..^8]));
        return bytes;
    }

    /// <summary>Loads parameters from <paramref name="path"/>; throws <see cref="FlowFormatException"/> and leaves the flow untouched if the file does not fit.</summary>
    public static void Load<T>(ICouplingFlow<T> flow, string path) where T : unmanaged
    {
        ArgumentNullException.ThrowIfNull(flow);
        ArgumentException.ThrowIfNullOrEmpty(path);
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read);
        Load(flow, stream);
    }

    /// <summary>Loads parameters from a stream; throws <see cref="FlowFormatException"/> and leaves the flow untouched if the data does not fit.</summary>
    public static void Load<T>(ICouplingFlow<T> flow, Stream stream) where T : unmanaged
    {
        ArgumentNullException.ThrowIfNull(flow);
        ArgumentNullException.ThrowIfNull(stream);
        // never read more than the largest checkpoint this model can have
        long limit = FixedHeader + MaxNameBytes + Encoding.UTF8.GetByteCount(flow.StackSpec) + (long)flow.ParameterCount * ScalarSize<T>() + 8;
        Deserialize(flow, ReadAtMost(stream, limit));
    }

    /// <summary>Loads parameters from checkpoint bytes; throws <see cref="FlowFormatException"/> and leaves the flow untouched if they do not fit.</summary>
    public static void Deserialize<T>(ICouplingFlow<T> flow, ReadOnlySpan<byte> bytes) where T : unmanaged
    {
        ArgumentNullException.ThrowIfNull(flow);
        int size = ScalarSize<T>();
        if (bytes.Length < FixedHeader + 8) throw new FlowFormatException($"Not a FlowGen checkpoint: {bytes.Length} bytes is shorter than the {FixedHeader + 8}-byte minimum.");
        if (!bytes[..8].SequenceEqual(Magic)) throw new FlowFormatException("Not a FlowGen checkpoint: the file does not start with \"FLOWGEN\\0\".");
        int version = BinaryPrimitives.ReadInt32LittleEndian(bytes[8..]);
        if (version != FormatVersion)
        {
            throw new FlowFormatException(version == 1
                ? $"Checkpoint format version 1 is not supported (this FlowGen reads version {FormatVersion}): version 1 identified the model by a hash of its description, version 2 by its stack specification. Save the model again with this FlowGen."
                : $"Checkpoint format version {version} is not supported (this FlowGen reads version {FormatVersion}).");
        }
        int nameLength = BinaryPrimitives.ReadInt32LittleEndian(bytes[40..]);
        int specLength = BinaryPrimitives.ReadInt32LittleEndian(bytes[44..]);
        if (nameLength < 0 || nameLength > MaxNameBytes || FixedHeader + (long)nameLength + 8 > bytes.Length)
        {
            throw new FlowFormatException($"Corrupted checkpoint: model name length {nameLength} does not fit in {bytes.Length} bytes.");
        }
        if (specLength < 0 || FixedHeader + (long)nameLength + specLength + 8 > bytes.Length)
        {
            throw new FlowFormatException($"Corrupted checkpoint: stack specification length {specLength} does not fit in {bytes.Length} bytes.");
        }
        ulong stored = BinaryPrimitives.ReadUInt64LittleEndian(bytes[^8..]);
        ulong actual = Fnv1a(bytes[..^8]);
        int fileSize = BinaryPrimitives.ReadInt32LittleEndian(bytes[12..]);
        ulong hash = BinaryPrimitives.ReadUInt64LittleEndian(bytes[16..]);
        int count = BinaryPrimitives.ReadInt32LittleEndian(bytes[24..]);
        int dim = BinaryPrimitives.ReadInt32LittleEndian(bytes[28..]);
        int context = BinaryPrimitives.ReadInt32LittleEndian(bytes[32..]);
        int flags = BinaryPrimitives.ReadInt32LittleEndian(bytes[36..]);
        string name = Encoding.UTF8.GetString(bytes.Slice(FixedHeader, nameLength));
        long expectedLength = FixedHeader + (long)nameLength + specLength + (long)Math.Max(count, 0) * Math.Max(fileSize, 0) + 8;
        if (stored != actual)
        {
            if (bytes.Length < expectedLength) throw new FlowFormatException($"Truncated checkpoint: {bytes.Length} bytes, but the header of '{name}' announces {expectedLength}.");
            throw new FlowFormatException("Corrupted checkpoint: the checksum does not match the contents.");
        }
        if (fileSize != size)
        {
            throw new FlowFormatException($"Checkpoint holds {(fileSize == 8 ? "double" : fileSize == 4 ? "float" : fileSize + "-byte")} parameters but {flow.ModelName} is a {(size == 8 ? "double" : "float")} model.");
        }
        string spec = Encoding.UTF8.GetString(bytes.Slice(FixedHeader + nameLength, specLength));
        if (hash != flow.StackHash || spec != flow.StackSpec || count != flow.ParameterCount || dim != flow.Dim || context != flow.ContextDim)
        {
            throw new FlowFormatException(
                $"Checkpoint is of another model: '{name}' (Dim {dim}, context {context}, {count} parameters, stack hash 0x{hash:X16}) " +
                $"cannot be loaded into '{flow.ModelName}' (Dim {flow.Dim}, context {flow.ContextDim}, {flow.ParameterCount} parameters, stack hash 0x{flow.StackHash:X16}). " +
                $"The file's stack specification is {spec}; the model's is {flow.StackSpec}.");
        }
        if (bytes.Length != expectedLength) throw new FlowFormatException($"Corrupted checkpoint: {bytes.Length} bytes where {expectedLength} are expected.");
        ReadOnlySpan<byte> data = bytes.Slice(FixedHeader + nameLength + specLength, count * size);
        Span<byte> target = MemoryMarshal.AsBytes(flow.Parameters);
        if (target.Length != data.Length) throw new FlowFormatException($"'{flow.ModelName}' exposes {target.Length / size} parameters but declares {flow.ParameterCount}.");
        // everything checked: now the model changes (a straight copy that cannot fail half-way; no second copy of the parameters)
        data.CopyTo(target);
        if (!BitConverter.IsLittleEndian) ReverseScalars(target, size);
        flow.IsDataInitialized = (flags & 1) != 0;
    }

    /// <summary>
    /// Reads the rest of the stream into one buffer of at most <paramref name="limit"/> bytes (the largest checkpoint of the model):
    /// the exact remaining length for a seekable stream, otherwise one buffer of limit + 1 bytes. Memory is bounded by the model's
    /// size plus the header, whatever the stream holds.
    /// </summary>
    private static ReadOnlySpan<byte> ReadAtMost(Stream stream, long limit)
    {
        long capacity = limit + 1;
        if (stream.CanSeek)
        {
            long remaining = stream.Length - stream.Position;
            if (remaining > limit) throw new FlowFormatException($"Checkpoint is larger than any checkpoint of this model can be ({limit} bytes).");
            capacity = Math.Max(remaining, 0);
        }
        var buffer = new byte[capacity];
        // up to the buffer's length or the end of the stream: a short (truncated) file is reported by Deserialize with its sizes
        int filled = stream.ReadAtLeast(buffer, buffer.Length, throwOnEndOfStream: false);
        if (filled > limit || (stream.CanSeek && stream.Position < stream.Length))
        {
            throw new FlowFormatException($"Checkpoint is larger than any checkpoint of this model can be ({limit} bytes).");
        }
        return buffer.AsSpan(0, filled);
    }

    private static int ScalarSize<T>() where T : unmanaged
    {
        if (typeof(T) == typeof(float)) return 4;
        if (typeof(T) == typeof(double)) return 8;
        throw new NotSupportedException($"FlowGen models use float or double, not {typeof(T)}.");
    }

    private static void ReverseScalars(Span<byte> data, int size)
    {
        for (int i = 0; i + size <= data.Length; i += size) data.Slice(i, size).Reverse();
    }

    /// <summary>FNV-1a, 64 bits.</summary>
    internal static ulong Fnv1a(ReadOnlySpan<byte> data)
    {
        ulong hash = 0xcbf29ce484222325UL;
        foreach (byte b in data)
        {
            hash ^= b;
            hash *= 0x100000001b3UL;
        }
        return hash;
    }
}

/// <summary>Writes a file atomically: to a temporary file in the same directory (flushed to disk), then renamed over the target.</summary>
internal static class AtomicFile
{
    /// <summary>
    /// Runs <paramref name="write"/> on a temporary file beside <paramref name="path"/> and renames it to the target; on failure the
    /// temporary file is removed and the target is untouched. The folder must exist: a missing folder is a
    /// <see cref="DirectoryNotFoundException"/> naming it (folders are never created: a mistyped path should not silently
    /// become a new directory tree).
    /// </summary>
    public static void Write(string path, Action<Stream> write)
    {
        string full = Path.GetFullPath(path);
        string directory = Path.GetDirectoryName(full)!;
        if (!Directory.Exists(directory))
        {
            throw new DirectoryNotFoundException($"Cannot save '{full}': the folder '{directory}' does not exist. FlowGen does not create folders; create it first (Directory.CreateDirectory).");
        }
        string temp = Path.Combine(directory, "." + Path.GetFileName(full) + "." + Guid.NewGuid().ToString("N") + ".tmp");
        try
        {
            using (var stream = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16, FileOptions.WriteThrough))
            {
                write(stream);
                stream.Flush(flushToDisk: true);
            }
            File.Move(temp, full, overwrite: true);
        }
        catch
        {
            try { File.Delete(temp); } catch (IOException) { } catch (UnauthorizedAccessException) { }
            throw;
        }
    }
}
