using System;
using System.Buffers.Binary;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Runtime.InteropServices;
using FlowGen.Tests.Infrastructure;
using FlowGen.Tests.Models;
using Xunit.Abstractions;

namespace FlowGen.Tests;

/// <summary>
/// A reader of weight files under test: how to make a target model, a valid file, and how to load one. Plug another
/// format in by adding one entry to <see cref="ReaderFuzzTests.Readers"/> — e.g. for a safetensors reader:
/// <code>
/// ["safetensors-bytes"] = () => ReaderUnderTest.For&lt;R8, float&gt;("safetensors-bytes", () => new R8(seed: 5),
///     f => FlowSafetensors.Serialize(f), (f, bytes) => FlowSafetensors.Deserialize(f, bytes),
///     new[] { typeof(FlowFormatException) }, SafetensorsFields),   // reseal: null (no checksum)
/// </code>
/// </summary>
public sealed class ReaderUnderTest
{
    public required string Name { get; init; }

    /// <summary>A fresh target model (its parameters are what a failed load must leave untouched).</summary>
    public required Func<object> CreateModel { get; init; }

    /// <summary>The valid-file factory: the bytes of a good file for the model made by <see cref="CreateModel"/> (trained parameters).</summary>
    public required Func<byte[]> ValidFile { get; init; }

    /// <summary>Loads the bytes into the model; throws on a bad file.</summary>
    public required Action<object, byte[]> Load { get; init; }

    /// <summary>The bytes of the model's parameters and state, to check that a failed load left them bit-identical.</summary>
    public required Func<object, byte[]> State { get; init; }

    /// <summary>Size of the model's parameters in bytes: the allocation bound is this plus <see cref="ReaderFuzzTests.AllocationSlack"/>.</summary>
    public required long ModelBytes { get; init; }

    /// <summary>Exception types the reader documents (exact types or base types).</summary>
    public required Type[] Documented { get; init; }

    /// <summary>Header fields worth editing with huge, negative and off-by-one values.</summary>
    public IReadOnlyList<HeaderField> Fields { get; init; } = Array.Empty<HeaderField>();

    /// <summary>Recomputes integrity checks after an edit (so that header edits reach the checks behind the checksum); null if none.</summary>
    public Func<byte[], byte[]>? Reseal { get; init; }

    /// <summary>Builds a reader for models of type <typeparamref name="TFlow"/> with scalar <typeparamref name="T"/>.</summary>
    public static ReaderUnderTest For<TFlow, T>(string name, Func<TFlow> create, Func<TFlow, byte[]> write, Action<TFlow, byte[]> load,
        Type[] documented, IReadOnlyList<HeaderField>? fields = null, Func<byte[], byte[]>? reseal = null)
        where TFlow : ICouplingFlow<T> where T : unmanaged
    {
        TFlow probe = create();
        return new ReaderUnderTest
        {
            Name = name,
            CreateModel = () => create()!,
            ValidFile = () =>
            {
                TFlow trained = create();
                Span<byte> p = MemoryMarshal.AsBytes(trained.Parameters);
                var rng = new FlowRandom(17);
                for (int i = 0; i < p.Length; i++) p[i] ^= (byte)(rng.NextUInt64() & 0x0F); // different, finite-ish parameters
                return write(trained);
            },
            Load = (f, bytes) => load((TFlow)f, bytes),
            State = f =>
            {
                var flow = (TFlow)f;
                byte[] state = MemoryMarshal.AsBytes(flow.Parameters).ToArray();
                return state.Append((byte)(flow.IsDataInitialized ? 0 : 1)).ToArray();
            },
            ModelBytes = MemoryMarshal.AsBytes(probe.Parameters).Length,
            Documented = documented,
            Fields = fields ?? Array.Empty<HeaderField>(),
            Reseal = reseal,
        };
    }
}

/// <summary>A header field: name, byte offset, size in bytes (4 or 8, little-endian).</summary>
public sealed record HeaderField(string Name, int Offset, int Size);

/// <summary>
/// Fuzzes weight-file readers with mutated valid files: bit flips, truncation, extension, insertions and deletions,
/// overwritten spans, and header edits (huge lengths and counts such as 2^40, negative values, wrong hash, wrong name,
/// off-by-one), with and without re-sealing the checksum. For every mutated file the reader throws only its documented
/// exception types, allocates at most the model's size plus <see cref="AllocationSlack"/> (GC.GetAllocatedBytesForCurrentThread
/// around the load), returns within <see cref="TimeBudget"/>, and on failure leaves the model bit-identical.
/// Short mode: <see cref="ShortMutations"/> per reader; <c>FLOWGEN_FUZZ=long</c>: <see cref="LongMutations"/>.
/// </summary>
public sealed class ReaderFuzzTests
{
    public const int ShortMutations = 1500;
    public const int LongMutations = 12_000;
    public const long AllocationSlack = 64 * 1024;
    private static readonly TimeSpan TimeBudget = TimeSpan.FromSeconds(5); // generous for a loaded machine: the slowest load seen is ~0.2 s

    private readonly ITestOutputHelper _output;

    public ReaderFuzzTests(ITestOutputHelper output) => _output = output;

    /// <summary>The checkpoint header of <see cref="FlowCheckpoint"/> (see its format table).</summary>
    private static readonly HeaderField[] CheckpointFields =
    {
        new("version", 8, 4), new("scalar size", 12, 4), new("stack hash", 16, 8), new("parameter count", 24, 4), new("dim", 28, 4),
        new("context", 32, 4), new("flags", 36, 4), new("name length", 40, 4), new("count+dim (as one 64-bit field)", 24, 8),
    };

    private static byte[] ResealCheckpoint(byte[] bytes)
    {
        if (bytes.Length < 8) return bytes;
        byte[] copy = (byte[])bytes.Clone();
        ulong hash = 0xcbf29ce484222325UL;
        foreach (byte b in copy.AsSpan(0, copy.Length - 8)) { hash ^= b; hash *= 0x100000001b3UL; }
        BinaryPrimitives.WriteUInt64LittleEndian(copy.AsSpan(copy.Length - 8), hash);
        return copy;
    }

    /// <summary>Every reader under test, by name. Add a line here to fuzz another format (see <see cref="ReaderUnderTest"/>).</summary>
    public static readonly Dictionary<string, Func<ReaderUnderTest>> Readers = new()
    {
        ["checkpoint-bytes"] = () => ReaderUnderTest.For<R8, float>("checkpoint-bytes", () => new R8(seed: 5),
            FlowCheckpoint.Serialize, (f, bytes) => FlowCheckpoint.Deserialize(f, bytes),
            new[] { typeof(FlowFormatException) }, CheckpointFields, ResealCheckpoint),
        ["checkpoint-stream"] = () => ReaderUnderTest.For<Tiny2DDouble, double>("checkpoint-stream", () => new Tiny2DDouble(seed: 5),
            FlowCheckpoint.Serialize, (f, bytes) => FlowCheckpoint.Load(f, new MemoryStream(bytes, writable: false)),
            new[] { typeof(FlowFormatException) }, CheckpointFields, ResealCheckpoint),
        ["checkpoint-unseekable-stream"] = () => ReaderUnderTest.For<WithActNorm3D, float>("checkpoint-unseekable-stream", () => new WithActNorm3D(seed: 5),
            FlowCheckpoint.Serialize, (f, bytes) => FlowCheckpoint.Load(f, new UnseekableStream(bytes)),
            new[] { typeof(FlowFormatException) }, CheckpointFields, ResealCheckpoint),
        ["safetensors-bytes"] = () => ReaderUnderTest.For<R8, float>("safetensors-bytes", () => new R8(seed: 5),
            f => FlowSafetensors.Serialize(f), (f, bytes) => FlowSafetensors.Deserialize(f, bytes),
            new[] { typeof(FlowFormatException) }, SafetensorsFields),
        ["safetensors-stream"] = () => ReaderUnderTest.For<Tiny2DDouble, double>("safetensors-stream", () => new Tiny2DDouble(seed: 5),
            f => FlowSafetensors.Serialize(f), (f, bytes) => FlowSafetensors.Load(f, new UnseekableStream(bytes)),
            new[] { typeof(FlowFormatException) }, SafetensorsFields),
    };

    /// <summary>The safetensors header: an 8-byte little-endian length of the JSON that follows (no checksum).</summary>
    private static readonly HeaderField[] SafetensorsFields = { new("header length", 0, 8) };

    public static TheoryData<string> ReaderNames() => new(Readers.Keys);

    public static bool LongMode => GeneratorFuzzTests.LongMode;

    [Theory]
    [MemberData(nameof(ReaderNames))]
    public void MutatedFilesAreRefusedCleanly(string reader)
    {
        ReaderUnderTest r = Readers[reader]();
        byte[] valid = r.ValidFile();
        int mutations = LongMode ? LongMutations : ShortMutations;
        var rng = new Random(GeneratorFuzzTests.Seed + reader.Sum(ch => (int)ch)); // stable across processes (string.GetHashCode is not)
        var failures = new List<string>();
        var outcomes = new SortedDictionary<string, int>(StringComparer.Ordinal);
        long maxAllocated = 0;
        TimeSpan slowest = TimeSpan.Zero;

        // the valid file itself loads and the allocation measurement works
        {
            object model = r.CreateModel();
            r.Load(model, valid);
            r.Load(model, valid); // warm (JIT) before measuring
        }
        object target = r.CreateModel();
        for (int i = 0; i < mutations; i++)
        {
            (byte[] file, string how) = Mutate(r, valid, rng);
            byte[] before = r.State(target);
            string outcome;
            long allocated;
            var sw = Stopwatch.StartNew();
            long start = GC.GetAllocatedBytesForCurrentThread();
            Exception? error = null;
            try { r.Load(target, file); }
            catch (Exception ex) { error = ex; }
            allocated = GC.GetAllocatedBytesForCurrentThread() - start;
            sw.Stop();
            maxAllocated = Math.Max(maxAllocated, allocated);
            if (sw.Elapsed > slowest) slowest = sw.Elapsed;
            string at = $"mutation {i} ({how}, {file.Length} bytes)";
            if (allocated > r.ModelBytes + AllocationSlack) failures.Add($"{at}: allocated {allocated:N0} bytes (model {r.ModelBytes:N0})");
            if (sw.Elapsed > TimeBudget) failures.Add($"{at}: took {sw.Elapsed}");
            if (error is null)
            {
                outcome = "loaded";
                target = r.CreateModel(); // start the next mutation from an untouched model
            }
            else
            {
                outcome = error.GetType().Name;
                if (!r.Documented.Any(t => t.IsInstanceOfType(error))) failures.Add($"{at}: undocumented {error.GetType()}: {error.Message}");
                if (!r.State(target).AsSpan().SequenceEqual(before)) failures.Add($"{at}: the failed load changed the model");
            }
            string kind = how.Split(' ')[0];
            outcomes[kind + " → " + outcome] = outcomes.TryGetValue(kind + " → " + outcome, out int n) ? n + 1 : 1;
            if (failures.Count > 20) break;
        }
        _output.WriteLine($"{reader}: {mutations} mutations of a {valid.Length:N0}-byte file (model {r.ModelBytes:N0} bytes); max allocated in one load {maxAllocated:N0} bytes; slowest {slowest.TotalMilliseconds:F1} ms");
        foreach (var (k, v) in outcomes) _output.WriteLine($"  {k}: {v}");
        Assert.True(failures.Count == 0, string.Join("\n", failures.Take(20)));
    }

    /// <summary>One random mutation of a valid file and its description.</summary>
    internal static (byte[] File, string How) Mutate(ReaderUnderTest r, byte[] valid, Random rng)
    {
        byte[] f = (byte[])valid.Clone();
        switch (rng.Next(9))
        {
            case 0:
            {
                int flips = 1 + rng.Next(8);
                for (int k = 0; k < flips; k++) { int bit = rng.Next(f.Length * 8); f[bit / 8] ^= (byte)(1 << (bit % 8)); }
                return (f, $"bitflip ×{flips}");
            }
            case 1:
            {
                int len = rng.Next(3) == 0 ? rng.Next(Math.Min(f.Length, 64)) : rng.Next(f.Length);
                return (f.AsSpan(0, len).ToArray(), $"truncate to {len}");
            }
            case 2:
            {
                int extra = rng.Next(4) == 0 ? rng.Next(1, 200_000) : rng.Next(1, 16);
                var ext = new byte[f.Length + extra];
                f.CopyTo(ext, 0);
                if (rng.Next(2) == 0) rng.NextBytes(ext.AsSpan(f.Length));
                return (rng.Next(2) == 0 && r.Reseal is not null ? r.Reseal(ext) : ext, $"extend by {extra}");
            }
            case 3:
            {
                int at = rng.Next(f.Length), len = rng.Next(1, 64);
                var ins = new byte[len];
                rng.NextBytes(ins);
                byte[] g = f.Take(at).Concat(ins).Concat(f.Skip(at)).ToArray();
                return (rng.Next(2) == 0 && r.Reseal is not null ? r.Reseal(g) : g, $"insert {len} at {at}");
            }
            case 4:
            {
                int at = rng.Next(f.Length), len = Math.Min(rng.Next(1, 64), f.Length - at);
                byte[] g = f.Take(at).Concat(f.Skip(at + len)).ToArray();
                return (rng.Next(2) == 0 && r.Reseal is not null ? r.Reseal(g) : g, $"delete {len} at {at}");
            }
            case 5:
            {
                int at = rng.Next(f.Length), len = Math.Min(rng.Next(1, 32), f.Length - at);
                rng.NextBytes(f.AsSpan(at, len));
                return (f, $"overwrite {len} at {at}");
            }
            case 6:
            {
                // the name: other bytes of the same length (still a valid file: names are informative), or invalid UTF-8
                int nameLength = f.Length >= 44 ? BinaryPrimitives.ReadInt32LittleEndian(f.AsSpan(40)) : 0;
                if (nameLength > 0 && 44 + nameLength <= f.Length)
                {
                    if (rng.Next(2) == 0) f.AsSpan(44, nameLength).Fill((byte)'X'); else rng.NextBytes(f.AsSpan(44, nameLength));
                }
                return (r.Reseal is not null ? r.Reseal(f) : f, "name edited");
            }
            default:
            {
                if (r.Fields.Count == 0) goto case 0;
                HeaderField field = r.Fields[rng.Next(r.Fields.Count)];
                if (field.Offset + field.Size > f.Length) return (f, "header (too short)");
                long old = field.Size == 4 ? BinaryPrimitives.ReadInt32LittleEndian(f.AsSpan(field.Offset)) : BinaryPrimitives.ReadInt64LittleEndian(f.AsSpan(field.Offset));
                long[] interesting = { 0, -1, 1, old + 1, old - 1, old * 2, int.MaxValue, int.MinValue, 1L << 40, -(1L << 40), long.MaxValue, long.MinValue, 1L << 31, uint.MaxValue, rng.NextInt64() };
                long v = interesting[rng.Next(interesting.Length)];
                if (field.Size == 4) BinaryPrimitives.WriteInt32LittleEndian(f.AsSpan(field.Offset), unchecked((int)v));
                else BinaryPrimitives.WriteInt64LittleEndian(f.AsSpan(field.Offset), v);
                bool reseal = rng.Next(4) != 0 && r.Reseal is not null;
                return (reseal ? r.Reseal!(f) : f, $"header {field.Name} = {v}{(reseal ? " (resealed)" : "")}");
            }
        }
    }
}
