using System;
using System.Buffers.Binary;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Runtime.InteropServices;
using CsCheck;
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
/// The mutations come from a CsCheck generator (<see cref="Mutations"/>) in a seeded stream; the first failing one is shrunk
/// (<see cref="Shrinking"/>) and reported with the CsCheck seed of the smallest failing mutation.
/// </summary>
[Trait("Category", "Slow")]
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
        Gen<Mutation> gen = Mutations(r, valid);
        var pcg = new PCG(MutationStream, (ulong)(GeneratorFuzzTests.Seed + reader.Sum(ch => (int)ch))); // stable across processes (string.GetHashCode is not)
        var failures = new List<string>();
        string? firstFailingSeed = null;
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
            ulong state = pcg.State;
            Mutation mutation = gen.Generate(pcg, null, out _);
            LoadResult result = LoadMutated(r, valid, target, mutation);
            maxAllocated = Math.Max(maxAllocated, result.Allocated);
            if (result.Elapsed > slowest) slowest = result.Elapsed;
            if (result.Problems.Count > 0)
            {
                firstFailingSeed ??= pcg.ToString(state);
                failures.AddRange(result.Problems.Select(p => $"mutation {i} (CsCheck seed \"{pcg.ToString(state)}\"): {p}"));
            }
            if (result.Outcome == "loaded") target = r.CreateModel(); // start the next mutation from an untouched model
            string kind = result.How.Split(' ')[0];
            outcomes[kind + " → " + result.Outcome] = outcomes.TryGetValue(kind + " → " + result.Outcome, out int n) ? n + 1 : 1;
            if (failures.Count > 20) break;
        }
        _output.WriteLine($"{reader}: {mutations} mutations of a {valid.Length:N0}-byte file (model {r.ModelBytes:N0} bytes); max allocated in one load {maxAllocated:N0} bytes; slowest {slowest.TotalMilliseconds:F1} ms");
        foreach (var (k, v) in outcomes) _output.WriteLine($"  {k}: {v}");
        if (failures.Count == 0) return;
        // shrink the first failing mutation: CsCheck looks for a smaller one (fewer, earlier, shorter edits) that fails too
        var failure = new Xunit.Sdk.XunitException(string.Join("\n", failures.Take(20)));
        throw Shrinking.Shrink(gen, firstFailingSeed!, m =>
        {
            LoadResult again = LoadMutated(r, valid, r.CreateModel(), m);
            if (again.Problems.Count > 0) throw new Xunit.Sdk.XunitException(string.Join("\n", again.Problems));
        }, m => m.Describe(valid.Length), failure);
    }

    /// <summary>The PCG stream of the mutations (any fixed value).</summary>
    private const uint MutationStream = 20261130;

    private sealed record LoadResult(string How, string Outcome, long Allocated, TimeSpan Elapsed, List<string> Problems);

    /// <summary>Loads the mutated file into <paramref name="target"/> and checks the contract of a refused load.</summary>
    private static LoadResult LoadMutated(ReaderUnderTest r, byte[] valid, object target, Mutation mutation)
    {
        (byte[] file, string how) = mutation.Apply(r, valid);
        byte[] before = r.State(target);
        var problems = new List<string>();
        var sw = Stopwatch.StartNew();
        long start = GC.GetAllocatedBytesForCurrentThread();
        Exception? error = null;
        try { r.Load(target, file); }
        catch (Exception ex) { error = ex; }
        long allocated = GC.GetAllocatedBytesForCurrentThread() - start;
        sw.Stop();
        string at = $"{how}, {file.Length} bytes";
        if (allocated > r.ModelBytes + AllocationSlack)
        {
            // The first load down a new path also pays one-time costs on this thread (type loading, tiered JIT, the
            // first throw of an exception type); the bound is on a load, so measure the same file once more and keep the smaller.
            long again = GC.GetAllocatedBytesForCurrentThread();
            try { r.Load(target, file); } catch (Exception) { } // the same file: the same outcome, so the model's state is as after the first load
            allocated = Math.Min(allocated, GC.GetAllocatedBytesForCurrentThread() - again);
        }
        if (allocated > r.ModelBytes + AllocationSlack) problems.Add($"{at}: allocated {allocated:N0} bytes (model {r.ModelBytes:N0})");
        if (sw.Elapsed > TimeBudget) problems.Add($"{at}: took {sw.Elapsed}");
        string outcome = "loaded";
        if (error is not null)
        {
            outcome = error.GetType().Name;
            if (!r.Documented.Any(t => t.IsInstanceOfType(error))) problems.Add($"{at}: undocumented {error.GetType()}: {error.Message}");
            if (!r.State(target).AsSpan().SequenceEqual(before)) problems.Add($"{at}: the failed load changed the model");
        }
        return new LoadResult(how, outcome, allocated, sw.Elapsed, problems);
    }

    /// <summary>
    /// Mutations of one valid file, composed from the parts of each kind (offsets, lengths, counts, header field and
    /// value, whether the checksum is recomputed); sizes grow with offsets, lengths and counts, so a failing mutation
    /// shrinks to few, short, early edits. Kinds as before: bit flips, truncation, extension, insertion, deletion,
    /// overwrite, name edit, and (twice as often) a header field set to an interesting value.
    /// </summary>
    internal static Gen<Mutation> Mutations(ReaderUnderTest r, byte[] valid)
    {
        int length = valid.Length;
        bool canReseal = r.Reseal is not null;
        Gen<bool> reseal = canReseal ? Gens.Chance(0.5) : Gens.Const(false);
        Gen<int> fill = Gens.WithSize(Gens.Int(0, int.MaxValue - 1), 0); // a seed of random bytes: any is as simple as another
        Gen<int> at = Gens.Int(0, length - 1);

        Gen<Mutation> bitFlips = Gens.ArrayOf(Gens.Int(0, length * 8 - 1), Gens.Int(1, 8)).Select(bits => (Mutation)new BitFlips(bits));
        Gen<Mutation> truncate = Gens.Frequency((1, Gens.Int(0, Math.Min(length, 64) - 1)), (2, Gens.Int(0, length - 1))).Select(n => (Mutation)new Truncate(n));
        Gen<Mutation> extend = Gen.Select(Gens.Frequency((3, Gens.Int(1, 15)), (1, Gens.Int(1, 199_999))), Gens.Maybe(0.5, fill), reseal,
            (extra, random, re) => (Mutation)new Extend(extra, random.Has ? random.Value : null, re));
        Gen<Mutation> insert = Gen.Select(at, Gens.Int(1, 63), fill, reseal, (a, n, seed, re) => (Mutation)new Insert(a, n, seed, re));
        Gen<Mutation> delete = Gen.Select(at, Gens.Int(1, 63), reseal, (a, n, re) => (Mutation)new Delete(a, n, re));
        Gen<Mutation> overwrite = Gen.Select(at, Gens.Int(1, 31), fill, (a, n, seed) => (Mutation)new Overwrite(a, n, seed));
        Gen<Mutation> name = Gen.Select(Gens.Chance(0.5), fill, (random, seed) => (Mutation)new NameEdit(random, seed));
        // the random header value is drawn as Gen.Long, biased to small magnitudes (lengths a reader might believe). It found
        // that FlowSafetensors.Load of an unseekable stream allocated an announced header length of up to 1 MiB before reading
        // it (e.g. 272 994 bytes for a 57 KB model: over the bound); the header is now read in 16 KiB chunks.
        Gen<Mutation> header = r.Fields.Count == 0
            ? bitFlips
            : Gen.Select(Gens.Int(0, r.Fields.Count - 1), Gens.Int(0, HeaderEdit.Interesting - 1), Gen.Long, canReseal ? Gens.Chance(0.75) : Gens.Const(false),
                (field, value, random, re) => (Mutation)new HeaderEdit(field, value, random, re));
        return Gens.Frequency((1, bitFlips), (1, truncate), (1, extend), (1, insert), (1, delete), (1, overwrite), (1, name), (2, header));
    }
}

/// <summary>One edit of a valid weight file.</summary>
public abstract record Mutation
{
    /// <summary>The mutated copy of <paramref name="valid"/> and a description ("kind …": the first word names the kind).</summary>
    public abstract (byte[] File, string How) Apply(ReaderUnderTest r, byte[] valid);

    /// <summary>The description of the edit of a file of <paramref name="length"/> bytes (for shrunk failures).</summary>
    public string Describe(int length) => this + $" (of a {length}-byte file)";

    protected static byte[] Bytes(int seed, int length)
    {
        var bytes = new byte[length];
        new Random(seed).NextBytes(bytes);
        return bytes;
    }

    protected static byte[] Sealed(ReaderUnderTest r, byte[] file, bool reseal) => reseal && r.Reseal is not null ? r.Reseal(file) : file;
}

public sealed record BitFlips(int[] Bits) : Mutation
{
    public override (byte[] File, string How) Apply(ReaderUnderTest r, byte[] valid)
    {
        byte[] f = (byte[])valid.Clone();
        foreach (int bit in Bits) f[bit / 8] ^= (byte)(1 << (bit % 8));
        return (f, $"bitflip ×{Bits.Length}");
    }

    public override string ToString() => $"BitFlips {{ Bits = [{string.Join(", ", Bits)}] }}";
}

public sealed record Truncate(int Length) : Mutation
{
    public override (byte[] File, string How) Apply(ReaderUnderTest r, byte[] valid) => (valid.AsSpan(0, Length).ToArray(), $"truncate to {Length}");
}

/// <summary>Extra bytes at the end: zeros, or random bytes from <see cref="FillSeed"/>.</summary>
public sealed record Extend(int Extra, int? FillSeed, bool Reseal) : Mutation
{
    public override (byte[] File, string How) Apply(ReaderUnderTest r, byte[] valid)
    {
        var ext = new byte[valid.Length + Extra];
        valid.CopyTo(ext, 0);
        if (FillSeed is int seed) Bytes(seed, Extra).CopyTo(ext, valid.Length);
        return (Sealed(r, ext, Reseal), $"extend by {Extra}");
    }
}

public sealed record Insert(int At, int Length, int FillSeed, bool Reseal) : Mutation
{
    public override (byte[] File, string How) Apply(ReaderUnderTest r, byte[] valid)
    {
        byte[] g = valid.Take(At).Concat(Bytes(FillSeed, Length)).Concat(valid.Skip(At)).ToArray();
        return (Sealed(r, g, Reseal), $"insert {Length} at {At}");
    }
}

public sealed record Delete(int At, int Length, bool Reseal) : Mutation
{
    public override (byte[] File, string How) Apply(ReaderUnderTest r, byte[] valid)
    {
        int len = Math.Min(Length, valid.Length - At);
        byte[] g = valid.Take(At).Concat(valid.Skip(At + len)).ToArray();
        return (Sealed(r, g, Reseal), $"delete {len} at {At}");
    }
}

public sealed record Overwrite(int At, int Length, int FillSeed) : Mutation
{
    public override (byte[] File, string How) Apply(ReaderUnderTest r, byte[] valid)
    {
        byte[] f = (byte[])valid.Clone();
        int len = Math.Min(Length, f.Length - At);
        Bytes(FillSeed, len).CopyTo(f, At);
        return (f, $"overwrite {len} at {At}");
    }
}

/// <summary>
/// The checkpoint name: other bytes of the same length (still a valid file: names are informative) — 'X's, or random
/// bytes (possibly invalid UTF-8); the checksum is recomputed.
/// </summary>
public sealed record NameEdit(bool RandomBytes, int FillSeed) : Mutation
{
    public override (byte[] File, string How) Apply(ReaderUnderTest r, byte[] valid)
    {
        byte[] f = (byte[])valid.Clone();
        int nameLength = f.Length >= 44 ? BinaryPrimitives.ReadInt32LittleEndian(f.AsSpan(40)) : 0;
        if (nameLength > 0 && 44 + nameLength <= f.Length)
        {
            if (RandomBytes) Bytes(FillSeed, nameLength).CopyTo(f, 44); else f.AsSpan(44, nameLength).Fill((byte)'X');
        }
        return (Sealed(r, f, reseal: true), "name edited");
    }
}

/// <summary>A header field set to one of the interesting values (0, ±1, off by one, doubled, 2^31, 2^40, extremes, random).</summary>
public sealed record HeaderEdit(int Field, int Value, long RandomValue, bool Reseal) : Mutation
{
    public const int Interesting = 15;

    public override (byte[] File, string How) Apply(ReaderUnderTest r, byte[] valid)
    {
        byte[] f = (byte[])valid.Clone();
        HeaderField field = r.Fields[Field];
        if (field.Offset + field.Size > f.Length) return (f, "header (too short)");
        long old = field.Size == 4 ? BinaryPrimitives.ReadInt32LittleEndian(f.AsSpan(field.Offset)) : BinaryPrimitives.ReadInt64LittleEndian(f.AsSpan(field.Offset));
        long[] interesting = { 0, -1, 1, old + 1, old - 1, old * 2, int.MaxValue, int.MinValue, 1L << 40, -(1L << 40), long.MaxValue, long.MinValue, 1L << 31, uint.MaxValue, RandomValue };
        long v = interesting[Value];
        if (field.Size == 4) BinaryPrimitives.WriteInt32LittleEndian(f.AsSpan(field.Offset), unchecked((int)v));
        else BinaryPrimitives.WriteInt64LittleEndian(f.AsSpan(field.Offset), v);
        bool reseal = Reseal && r.Reseal is not null;
        return (reseal ? r.Reseal!(f) : f, $"header {field.Name} = {v}{(reseal ? " (resealed)" : "")}");
    }
}
