using System;
using System.IO;
using System.Runtime.CompilerServices;
using System.Linq;
using System.Text;
using DiffPlex.Renderer;

namespace FlowGen.Tests.Infrastructure;

/// <summary>
/// Snapshot testing with Verify's conventions: the expected text is committed as Snapshots/{name}.verified.cs beside
/// the tests; on a mismatch the actual text is written to {name}.received.cs (git-ignored) and the test fails with a
/// unified line diff (DiffPlex) of verified → received, <see cref="ContextLines"/> lines of context around each change,
/// at most <see cref="MaxDiffLines"/> lines. Set FLOWGEN_ACCEPT=1 to overwrite the verified files; CI=true refuses to accept.
/// </summary>
public static class Snapshot
{
    /// <summary>Unchanged lines shown around each change of a mismatch diff.</summary>
    public const int ContextLines = 3;

    /// <summary>Longest diff put into a failure message; the rest is in the received file.</summary>
    public const int MaxDiffLines = 120;

    /// <param name="extension">of the snapshot files, with its dot (".cs" for generated code, ".md" for a table)</param>
    public static void Verify(string actual, string name, [CallerFilePath] string callerPath = "", string extension = ".cs")
    {
        string directory = Path.Combine(Path.GetDirectoryName(callerPath)!, "Snapshots");
        Directory.CreateDirectory(directory);
        string verified = Path.Combine(directory, name + ".verified" + extension);
        string received = Path.Combine(directory, name + ".received" + extension);
        string normalized = Normalize(actual);

        bool accept = Environment.GetEnvironmentVariable("FLOWGEN_ACCEPT") == "1";
        bool ci = string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase);
        if (accept && ci) throw new InvalidOperationException("FLOWGEN_ACCEPT is refused when CI=true: accept snapshots locally and commit them.");

        if (!File.Exists(verified))
        {
            if (accept)
            {
                File.WriteAllText(verified, normalized, new UTF8Encoding(false));
                if (File.Exists(received)) File.Delete(received);
                return;
            }
            File.WriteAllText(received, normalized, new UTF8Encoding(false));
            throw new Xunit.Sdk.XunitException($"No verified snapshot {verified}. The output was written to {received}; review it and rerun with FLOWGEN_ACCEPT=1 to accept.");
        }

        string expected = Normalize(File.ReadAllText(verified));
        if (expected == normalized)
        {
            if (File.Exists(received)) File.Delete(received);
            return;
        }
        if (accept)
        {
            File.WriteAllText(verified, normalized, new UTF8Encoding(false));
            if (File.Exists(received)) File.Delete(received);
            return;
        }
        File.WriteAllText(received, normalized, new UTF8Encoding(false));
        throw new Xunit.Sdk.XunitException(
            $"Snapshot {name} differs from {Path.GetFileName(verified)} (received: {received}; rerun with FLOWGEN_ACCEPT=1 to accept):\n" +
            Diff(expected, normalized, Path.GetFileName(verified), Path.GetFileName(received)));
    }

    /// <summary>
    /// A unified diff of two texts by lines ("--- a", "+++ b", "@@ -l,n +l,n @@" hunks with <see cref="ContextLines"/> lines of
    /// context), cut after <see cref="MaxDiffLines"/> lines.
    /// </summary>
    public static string Diff(string expected, string actual, string expectedName = "verified", string actualName = "received")
    {
        string diff = new UnidiffRenderer(contextLines: ContextLines).Generate(expected, actual, expectedName, actualName);
        string[] lines = diff.Replace("\r\n", "\n").TrimEnd('\n').Split('\n');
        if (lines.Length <= MaxDiffLines) return string.Join("\n", lines);
        int changed = lines.Count(l => l.Length > 0 && (l[0] == '+' || l[0] == '-') && !l.StartsWith("+++", StringComparison.Ordinal) && !l.StartsWith("---", StringComparison.Ordinal));
        return string.Join("\n", lines.Take(MaxDiffLines)) + $"\n… {lines.Length - MaxDiffLines} more diff lines ({changed} changed lines in all)";
    }

    private static string Normalize(string text) => text.Replace("\r\n", "\n").TrimStart('\uFEFF');
}
