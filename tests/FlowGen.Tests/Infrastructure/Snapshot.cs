using System;
using System.IO;
using System.Runtime.CompilerServices;
using System.Text;

namespace FlowGen.Tests.Infrastructure;

/// <summary>
/// Snapshot testing with Verify's conventions: the expected text is committed as Snapshots/{name}.verified.cs beside
/// the tests; on a mismatch the actual text is written to {name}.received.cs (git-ignored) and the test fails with the
/// first differing line. Set FLOWGEN_ACCEPT=1 to overwrite the verified files; CI=true refuses to accept.
/// </summary>
public static class Snapshot
{
    public static void Verify(string actual, string name, [CallerFilePath] string callerPath = "")
    {
        string directory = Path.Combine(Path.GetDirectoryName(callerPath)!, "Snapshots");
        Directory.CreateDirectory(directory);
        string verified = Path.Combine(directory, name + ".verified.cs");
        string received = Path.Combine(directory, name + ".received.cs");
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
        throw new Xunit.Sdk.XunitException($"Snapshot {name} differs ({FirstDifference(expected, normalized)}). Received: {received}. Rerun with FLOWGEN_ACCEPT=1 to accept.");
    }

    private static string Normalize(string text) => text.Replace("\r\n", "\n").TrimStart('\uFEFF');

    private static string FirstDifference(string expected, string actual)
    {
        string[] a = expected.Split('\n'), b = actual.Split('\n');
        for (int i = 0; i < Math.Max(a.Length, b.Length); i++)
        {
            string x = i < a.Length ? a[i] : "<end of file>", y = i < b.Length ? b[i] : "<end of file>";
            if (x != y) return $"line {i + 1}: expected «{x.Trim()}», got «{y.Trim()}»";
        }
        return "same lines";
    }
}
