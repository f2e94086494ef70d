using System;
using System.Collections.Generic;
using FlowGen;

namespace FlowGen.Demo;

/// <summary>A 2-D toy density the demo can sample from.</summary>
/// <param name="Name">The <c>--data</c> value.</param>
/// <param name="Description">What it is, for the console.</param>
/// <param name="Sample">Writes i.i.d. points, row-major [n, 2], drawn with the given generator.</param>
/// <param name="LogDensity">The exact log-density at (x, y), where known (FFJORD's benchmarks: <see cref="FfjordToys"/>).</param>
internal sealed record ToyDensity(string Name, string Description, Action<FlowRandom, Span<float>> Sample, Func<double, double, double>? LogDensity = null);

/// <summary>
/// The classic 2-D toy densities of the flow literature, generated procedurally from a seeded <see cref="FlowRandom"/>.
/// All but <c>moons</c> are FFJORD's <c>toy_data.py</c> benchmarks exactly (<see cref="FfjordToys"/>: Grathwohl et al. 2019,
/// reused by Residual Flows, NAF, SoS, UMNN and later papers), with their exact log-densities, so the demo prints the true
/// entropy next to the test NLL; <c>moons</c> (the default) is scikit-learn's <c>make_moons</c> with noise 0.05 unscaled,
/// <c>ffjord-moons</c> FFJORD's version (noise 0.1, ×2, shifted).
/// </summary>
internal static class ToyDensities
{
    /// <summary>The toy densities by <c>--data</c> name.</summary>
    public static readonly IReadOnlyDictionary<string, ToyDensity> All = new Dictionary<string, ToyDensity>(StringComparer.OrdinalIgnoreCase)
    {
        ["moons"] = new("moons", "two moons (make_moons, noise 0.05)", Moons),
        ["8gaussians"] = Ffjord("8gaussians", "eight Gaussians on a circle (FFJORD)"),
        ["checkerboard"] = Ffjord("checkerboard", "checkerboard, 8 uniform squares (FFJORD)"),
        ["rings"] = Ffjord("rings", "four concentric rings (FFJORD)"),
        ["ffjord-moons"] = Ffjord("moons", "two moons as in FFJORD (make_moons, noise 0.1, ×2 + (−1, −0.2))", "ffjord-moons"),
        ["pinwheel"] = Ffjord("pinwheel", "pinwheel, five arms (FFJORD)"),
        ["2spirals"] = Ffjord("2spirals", "two spirals (FFJORD)"),
        ["circles"] = Ffjord("circles", "two circles (make_circles, factor 0.5, noise 0.08, ×3; FFJORD)"),
    };

    private static ToyDensity Ffjord(string name, string description, string? demoName = null) =>
        new(demoName ?? name, description, (rng, xy) => FfjordToys.Sample(name, rng, xy), (x, y) => FfjordToys.LogDensity(name, x, y));

    /// <summary>
    /// scikit-learn's <c>make_moons</c>: the upper half of the unit circle and the lower half of the unit circle about (1, 0.5),
    /// plus isotropic Gaussian noise of standard deviation 0.05 — the level of the Keras RealNVP example and of most RealNVP
    /// tutorials (FFJORD uses 0.1 and scales by 2). make_moons spaces the angles evenly; here each point draws its moon and
    /// angle at random, so that two seeds give independent samples of the same density.
    /// </summary>
    private static void Moons(FlowRandom rng, Span<float> xy)
    {
        const double Noise = 0.05;
        for (int i = 0; i < xy.Length; i += 2)
        {
            double t = Math.PI * rng.NextDouble();
            bool upper = rng.NextDouble() < 0.5;
            double x = upper ? Math.Cos(t) : 1 - Math.Cos(t);
            double y = upper ? Math.Sin(t) : 0.5 - Math.Sin(t);
            xy[i] = (float)(x + Noise * rng.NextGaussian());
            xy[i + 1] = (float)(y + Noise * rng.NextGaussian());
        }
    }
}
