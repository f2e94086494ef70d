using System;
using System.Collections.Generic;
using FlowGen;

namespace FlowGen.Demo;

/// <summary>A 2-D toy density the demo can sample from.</summary>
/// <param name="Name">The <c>--data</c> value.</param>
/// <param name="Description">What it is, for the console.</param>
/// <param name="Sample">Writes i.i.d. points, row-major [n, 2], drawn with the given generator.</param>
internal sealed record ToyDensity(string Name, string Description, Action<FlowRandom, Span<float>> Sample);

/// <summary>
/// The classic 2-D toy densities of the flow literature, generated procedurally from a seeded <see cref="FlowRandom"/>.
/// 8 Gaussians, checkerboard and rings follow FFJORD's <c>toy_data.py</c> (Grathwohl et al. 2019), which Residual Flows,
/// NAF, SoS, UMNN and later papers reuse; the two moons follow scikit-learn's <c>make_moons</c>.
/// </summary>
internal static class ToyDensities
{
    /// <summary>The toy densities by <c>--data</c> name.</summary>
    public static readonly IReadOnlyDictionary<string, ToyDensity> All = new Dictionary<string, ToyDensity>(StringComparer.OrdinalIgnoreCase)
    {
        ["moons"] = new("moons", "two moons (make_moons, noise 0.05)", Moons),
        ["8gaussians"] = new("8gaussians", "eight Gaussians on a circle (FFJORD)", EightGaussians),
        ["checkerboard"] = new("checkerboard", "checkerboard, 8 uniform squares (FFJORD)", Checkerboard),
        ["rings"] = new("rings", "four concentric rings (FFJORD)", Rings),
    };

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

    /// <summary>FFJORD's 8 Gaussians: centres 4·(cos kπ/4, sin kπ/4), standard deviation 0.5, everything divided by 1.414.</summary>
    private static void EightGaussians(FlowRandom rng, Span<float> xy)
    {
        for (int i = 0; i < xy.Length; i += 2)
        {
            double angle = Math.PI / 4 * rng.NextInt(8);
            xy[i] = (float)((4 * Math.Cos(angle) + 0.5 * rng.NextGaussian()) / 1.414);
            xy[i + 1] = (float)((4 * Math.Sin(angle) + 0.5 * rng.NextGaussian()) / 1.414);
        }
    }

    /// <summary>FFJORD's checkerboard: uniform on the 8 black squares of side 2 of a 4 × 4 board covering [−4, 4]².</summary>
    private static void Checkerboard(FlowRandom rng, Span<float> xy)
    {
        for (int i = 0; i < xy.Length; i += 2)
        {
            double x1 = 4 * rng.NextDouble() - 2;
            double x2 = rng.NextDouble() - 2 * rng.NextInt(2) + Math.Abs(Math.Floor(x1) % 2);
            xy[i] = (float)(2 * x1);
            xy[i + 1] = (float)(2 * x2);
        }
    }

    /// <summary>FFJORD's rings: circles of radius 3, 2.25, 1.5 and 0.75 with equal mass, plus Gaussian noise of standard deviation 0.08.</summary>
    private static void Rings(FlowRandom rng, Span<float> xy)
    {
        const double Noise = 0.08;
        for (int i = 0; i < xy.Length; i += 2)
        {
            double radius = 0.75 * (1 + rng.NextInt(4));
            double t = 2 * Math.PI * rng.NextDouble();
            xy[i] = (float)(radius * Math.Cos(t) + Noise * rng.NextGaussian());
            xy[i + 1] = (float)(radius * Math.Sin(t) + Noise * rng.NextGaussian());
        }
    }
}
