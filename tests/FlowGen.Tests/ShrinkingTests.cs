using System;
using System.Collections.Generic;
using System.Linq;
using System.Text.RegularExpressions;
using FlowGen.Tests.Infrastructure;
using FlowGen.Tests.Reference;

namespace FlowGen.Tests;

/// <summary>
/// The CsCheck generators shrink: a property that fails on big configs is reported with a small failing config and the
/// seed that reproduces it (what the oracle and gradient suites do with a real failure, here with a property of the
/// config alone, so nothing is compiled).
/// </summary>
public sealed class ShrinkingTests
{
    private readonly Xunit.Abstractions.ITestOutputHelper _output;

    public ShrinkingTests(Xunit.Abstractions.ITestOutputHelper output) => _output = output;

    private static bool HasSpline(FlowConfig c) => c.Resolve().Any(l => l.Type == ReferenceLayerType.Coupling && l.Kind == CouplingKind.Spline);

    /// <summary>The "bug": any config with a spline coupling and Dim ≥ 5 fails.</summary>
    private static void Property(FlowConfig c)
    {
        if (HasSpline(c) && c.Dim >= 5) throw new InvalidOperationException($"spline with Dim {c.Dim}");
    }

    [Fact]
    public void AFailingConfigShrinksToASmallOne()
    {
        // a big failing config of the oracle stream
        FlowConfig big = new ConfigGenerator(20261128).Take(400).First(c => HasSpline(c) && c.Dim >= 20 && c.CouplingCount >= 8);
        ConfigOrigins.Origin origin = ConfigOrigins.Of(big)!;
        Assert.NotNull(origin);
        Assert.Equal(big.Describe(), ConfigGenerator.FromSeed(origin.Seed).Describe()); // the seed reproduces it

        Exception failure = Assert.ThrowsAny<Exception>(() => Property(big));
        Exception shrunk = Shrinking.Shrink(origin.Gen, origin.Seed, Property, Shrinking.Print, failure, seconds: 3);
        _output.WriteLine(shrunk.Message);
        Assert.IsType<ShrunkFailure>(shrunk);
        Assert.StartsWith(failure.Message, shrunk.Message, StringComparison.Ordinal);
        Assert.Contains("shrunk by CsCheck", shrunk.Message, StringComparison.Ordinal);

        Match seed = Regex.Match(shrunk.Message, "seed: \"([^\"]+)\"");
        Assert.True(seed.Success, shrunk.Message);
        FlowConfig small = ConfigGenerator.FromSeed(seed.Groups[1].Value);
        Assert.ThrowsAny<Exception>(() => Property(small)); // still fails
        Assert.Contains(small.ToAttributeSource("Shrunk"), shrunk.Message, StringComparison.Ordinal);
        Assert.True(small.Dim <= 8 && small.CouplingCount <= 3,
            $"shrunk only from {big.CouplingCount} couplings, Dim {big.Dim} to {small.CouplingCount} couplings, Dim {small.Dim}: {small.Describe()}");
    }

    [Fact]
    public void AFailureThatDoesNotReproduceFromItsSeedIsReportedAsIs()
    {
        FlowConfig config = new ConfigGenerator(5).Next();
        ConfigOrigins.Origin origin = ConfigOrigins.Of(config)!;
        var failure = new InvalidOperationException("flaky");
        Exception reported = Shrinking.Shrink(origin.Gen, origin.Seed, _ => { }, Shrinking.Print, failure, seconds: 3);
        Assert.Contains("flaky", reported.Message, StringComparison.Ordinal);
        Assert.Contains("passes when checked alone", reported.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void SizesGrowWithTheModel()
    {
        // over many draws, the configs of smallest size are small models, the largest are big ones
        var gen = FlowConfigGen.For();
        var pcg = new CsCheck.PCG(1, 42);
        var drawn = Enumerable.Range(0, 500).Select(_ => (Config: gen.Generate(pcg, null, out CsCheck.Size size), Size: size)).ToList();
        var ordered = drawn.OrderBy(d => d.Size, Comparer<CsCheck.Size>.Create((a, b) => CsCheck.Size.IsLessThan(a, b) ? -1 : CsCheck.Size.IsLessThan(b, a) ? 1 : 0)).ToList();
        double Mean(IEnumerable<(FlowConfig Config, CsCheck.Size Size)> part) => part.Average(d => (double)d.Config.ParameterCount);
        Assert.True(Mean(ordered.Take(50)) * 4 < Mean(ordered.Skip(450)),
            $"mean parameter count of the 50 smallest {Mean(ordered.Take(50)):F0}, of the 50 largest {Mean(ordered.Skip(450)):F0}");
    }
}
