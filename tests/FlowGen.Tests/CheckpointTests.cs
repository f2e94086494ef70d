using System;
using System.IO;
using System.Linq;
using FlowGen.Tests.Models;

namespace FlowGen.Tests;

/// <summary>Checkpoints: round trip, identity checks, corruption and truncation, atomic writes.</summary>
public sealed class CheckpointTests : IDisposable
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "flowgen-checkpoints-" + Guid.NewGuid().ToString("N"));

    public CheckpointTests() => Directory.CreateDirectory(_directory);

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private static Tiny2D Trained()
    {
        var flow = new Tiny2D(seed: 1);
        var rng = new FlowRandom(2);
        Span<float> p = flow.Parameters;
        for (int i = 0; i < p.Length; i++) p[i] += 0.1f * (rng.NextSingle() - 0.5f);
        return flow;
    }

    [Fact]
    public void SaveAndLoadRestoreEveryParameterBitForBit()
    {
        Tiny2D flow = Trained();
        string path = Path.Combine(_directory, "a.flowgen");
        FlowCheckpoint.Save(flow, path);
        var loaded = new Tiny2D(seed: 99);
        FlowCheckpoint.Load(loaded, path);
        Assert.True(flow.Parameters.SequenceEqual(loaded.Parameters));
        Assert.Equal(flow.LogProb(new[] { 0.3f, -1.2f }), loaded.LogProb(new[] { 0.3f, -1.2f }));
        Assert.Empty(Directory.GetFiles(_directory, "*.tmp"));
    }

    [Fact]
    public void LoadingRestoresTheActNormInitialisedFlag()
    {
        var flow = new WithActNorm3D(seed: 1);
        flow.InitializeFromData(Enumerable.Range(0, 30).Select(i => (float)Math.Sin(i)).ToArray());
        byte[] bytes = FlowCheckpoint.Serialize(flow);
        var fresh = new WithActNorm3D();
        Assert.False(fresh.IsDataInitialized);
        FlowCheckpoint.Deserialize(fresh, bytes);
        Assert.True(fresh.IsDataInitialized);
    }

    [Fact]
    public void AnotherModelsCheckpointIsRefusedAndLeavesTheModelUntouched()
    {
        byte[] bytes = FlowCheckpoint.Serialize(Trained());
        var other = new Tiny2DDouble(seed: 3);
        double[] before = other.Parameters.ToArray();
        var ex = Assert.Throws<FlowFormatException>(() => FlowCheckpoint.Deserialize(other, bytes));
        Assert.Contains("float", ex.Message);
        Assert.True(before.AsSpan().SequenceEqual(other.Parameters));

        var r8 = new R8(seed: 3);
        float[] r8Before = r8.Parameters.ToArray();
        ex = Assert.Throws<FlowFormatException>(() => FlowCheckpoint.Deserialize(r8, bytes));
        Assert.Contains("another model", ex.Message);
        Assert.Contains(typeof(Tiny2D).FullName!, ex.Message);
        Assert.True(r8Before.AsSpan().SequenceEqual(r8.Parameters));
    }

    [Fact]
    public void TruncatedOrCorruptedFilesAreRefusedAndLeaveTheModelUntouched()
    {
        byte[] bytes = FlowCheckpoint.Serialize(Trained());
        var target = new Tiny2D(seed: 5);
        float[] before = target.Parameters.ToArray();
        void Refused(byte[] data, string fragment)
        {
            var ex = Assert.Throws<FlowFormatException>(() => FlowCheckpoint.Deserialize(target, data));
            Assert.Contains(fragment, ex.Message);
            Assert.True(before.AsSpan().SequenceEqual(target.Parameters), "a failed load changed the parameters");
        }
        Refused(bytes.AsSpan(0, bytes.Length - 100).ToArray(), "Truncated");
        Refused(bytes.AsSpan(0, 20).ToArray(), "shorter");
        Refused(Array.Empty<byte>(), "shorter");
        Refused(bytes.Concat(new byte[] { 1, 2, 3 }).ToArray(), "checksum");
        var flipped = (byte[])bytes.Clone();
        flipped[bytes.Length / 2] ^= 0x10;
        Refused(flipped, "checksum");
        var magic = (byte[])bytes.Clone();
        magic[0] = (byte)'X';
        Refused(magic, "FLOWGEN");
        var version = (byte[])bytes.Clone();
        version[8] = 3;
        Refused(version, "version 3");
        // a checkpoint of format 1 (before the stack specification) is refused with a message that names its version
        var old = (byte[])bytes.Clone();
        old[8] = 1;
        Refused(old, "format version 1 is not supported");
        var spec = (byte[])bytes.Clone();
        spec[44] = 0xFF; spec[45] = 0xFF; spec[46] = 0xFF; spec[47] = 0x7F;
        Refused(spec, "stack specification length");
        var name = (byte[])bytes.Clone();
        name[40] = 0xFF; name[41] = 0xFF; name[42] = 0xFF; name[43] = 0x7F;
        Refused(name, "name length");
    }

    [Fact]
    public void AFileLargerThanAnyCheckpointOfTheModelIsNotReadIntoMemory()
    {
        string path = Path.Combine(_directory, "huge.flowgen");
        using (var stream = File.Create(path)) stream.SetLength(64L << 20);
        var target = new Tiny2D();
        var ex = Assert.Throws<FlowFormatException>(() => FlowCheckpoint.Load(target, path));
        Assert.Contains("larger", ex.Message);
    }

    [Fact]
    public void SavingReplacesTheTargetAtomically()
    {
        string path = Path.Combine(_directory, "b.flowgen");
        File.WriteAllText(path, "an older file");
        Tiny2D flow = Trained();
        FlowCheckpoint.Save(flow, path);
        var loaded = new Tiny2D();
        FlowCheckpoint.Load(loaded, path);
        Assert.True(flow.Parameters.SequenceEqual(loaded.Parameters));
        Assert.Single(Directory.GetFiles(_directory));

        // a failing save leaves the previous checkpoint in place and no temporary file behind
        string blocked = Path.Combine(_directory, "dir.flowgen");
        Directory.CreateDirectory(blocked);
        Assert.ThrowsAny<IOException>(() => FlowCheckpoint.Save(flow, blocked));
        Assert.Empty(Directory.GetFiles(_directory, "*.tmp"));
    }

    [Fact]
    public void SavingIntoAMissingFolderThrowsAndCreatesNothing()
    {
        string missing = Path.Combine(_directory, "not", "there");
        string path = Path.Combine(missing, "c.flowgen");
        var e = Assert.Throws<DirectoryNotFoundException>(() => FlowCheckpoint.Save(Trained(), path));
        Assert.Contains($"the folder '{missing}' does not exist", e.Message, StringComparison.Ordinal);
        Assert.False(Directory.Exists(Path.Combine(_directory, "not")), "Save created a folder");
        Assert.Empty(Directory.EnumerateFileSystemEntries(_directory));

        // the same path works once the caller has created the folder
        Directory.CreateDirectory(missing);
        FlowCheckpoint.Save(Trained(), path);
        Assert.True(File.Exists(path));
    }
}
