using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Runtime.Intrinsics;
using Xunit;
using Xunit.Abstractions;

namespace FlowGen.Tests;

/// <summary>
/// Results do not depend on the SIMD width: samples/FlowGen.AotSample (five models: affine with ActNorm, LU and permutations;
/// spline, sum-of-squares, deep-sigmoidal and additive couplings in double; a conditional flow; a mixture base; a Student-t
/// base) prints every log-density, log-det, latent, inverse, sample, NLL gradient and trained value; it is run in child
/// processes at each vector width this CPU accelerates (DOTNET_PreferredVectorBitWidth = 128, 256, and the default: 512 bits
/// with AVX-512) and every printed number must be the same bits. .ci/aot-check also compares NativeAOT builds.
/// </summary>
public class VectorWidthTests(ITestOutputHelper output)
{
    private static string SampleDll()
    {
        string configuration = AppContext.BaseDirectory.Contains($"{Path.DirectorySeparatorChar}Debug{Path.DirectorySeparatorChar}") ? "Debug" : "Release";
        string dll = Path.Combine(Path.GetDirectoryName(ReadmeTests.RepositoryFile("samples/FlowGen.AotSample/FlowGen.AotSample.csproj"))!, "bin", configuration, "net10.0", "FlowGen.AotSample.dll");
        Assert.True(File.Exists(dll), $"{dll} is missing (the test project builds it: ProjectReference)");
        return dll;
    }

    private static (string Header, string[] Numbers) Run(string dll, int? bits)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add(dll);
        start.ArgumentList.Add("--no-timing");
        start.Environment.Remove("DOTNET_PreferredVectorBitWidth");
        start.Environment.Remove("DOTNET_MaxVectorTBitWidth");
        if (bits is int b) start.Environment["DOTNET_PreferredVectorBitWidth"] = b.ToString(System.Globalization.CultureInfo.InvariantCulture);
        using var process = Process.Start(start)!;
        var stderr = process.StandardError.ReadToEndAsync();
        string stdout = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        Assert.True(process.ExitCode == 0, $"FlowGen.AotSample at {bits?.ToString() ?? "the default"} bits exited with {process.ExitCode}: {stderr.Result}");
        string[] lines = stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        return (lines[0], lines.Where(l => !l.StartsWith('#')).ToArray());
    }

    [Fact]
    public void EveryResultIsTheSameAtEveryVectorWidth()
    {
        string dll = SampleDll();
        var widths = new List<int?> { null };
        if (Vector512.IsHardwareAccelerated) widths.Add(256);
        if (Vector256.IsHardwareAccelerated) widths.Add(128);
        var reference = Run(dll, null);
        output.WriteLine($"default: {reference.Header}; {reference.Numbers.Length} lines");
        Assert.Contains($"width {FlowSimd.LaneBits} bits", reference.Header);
        Assert.True(reference.Numbers.Length >= 40, $"the sample printed too little to compare: {reference.Numbers.Length} lines");
        foreach (int? bits in widths.Skip(1))
        {
            var run = Run(dll, bits);
            output.WriteLine($"DOTNET_PreferredVectorBitWidth={bits}: {run.Header}");
            Assert.Contains($"width {bits} bits", run.Header);
            Assert.Equal(reference.Numbers.Length, run.Numbers.Length);
            for (int i = 0; i < run.Numbers.Length; i++)
                Assert.True(reference.Numbers[i] == run.Numbers[i], $"line {i} differs at {bits} bits:\n  {FlowSimd.LaneBits}: {reference.Numbers[i]}\n  {bits}: {run.Numbers[i]}");
        }
    }
}
