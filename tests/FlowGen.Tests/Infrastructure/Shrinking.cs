using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using CsCheck;
using FlowGen.Tests.Reference;

namespace FlowGen.Tests.Infrastructure;

/// <summary>
/// Shrinking of failures found in a fixed, seeded sample. The suites check many random cases drawn once from a CsCheck
/// generator (compiled together, which is what keeps them fast); when one fails, <see cref="Shrink{T}"/> hands its seed to
/// CsCheck's <c>Sample</c>, which replays it and then searches, for at most <see cref="Seconds"/> seconds, for failing cases
/// of smaller size (fewer couplings, smaller Dim, …; see <see cref="Gens"/>). The test then fails with the original failure,
/// the smallest failing case and the CsCheck seed that reproduces it. Set FLOWGEN_SHRINK_SECONDS (default 60; 0: no shrinking).
/// </summary>
public static class Shrinking
{
    public static int Seconds =>
        int.TryParse(Environment.GetEnvironmentVariable("FLOWGEN_SHRINK_SECONDS"), NumberStyles.Integer, CultureInfo.InvariantCulture, out int s) ? Math.Max(0, s) : 60;

    /// <summary>
    /// Runs <paramref name="check"/> on every model in order; the first that fails is shrunk: candidate configs are compiled
    /// one by one (<see cref="GeneratedModels.Build"/>) and checked the same way. <paramref name="applies"/> says which configs
    /// the check is meant for (the models' own filter, e.g. double only), so that shrinking stays within them.
    /// </summary>
    public static void ForEachModel(IEnumerable<ModelUnderTest> models, Action<ModelUnderTest> check, Func<FlowConfig, bool>? applies = null) =>
        ForEach(models, m => m.Config, check, c => GeneratedModels.Build([c], "Shrunk")[0], applies);

    /// <summary>
    /// Runs <paramref name="check"/> on every item in order; on the first failure, shrinks the item's config (whose CsCheck
    /// generator and seed <see cref="ConfigOrigins"/> knows) through <paramref name="rebuild"/> and <paramref name="check"/>.
    /// </summary>
    /// <param name="threads">CsCheck threads checking candidates (default: one per core; 1 when <paramref name="rebuild"/> is not thread-safe)</param>
    public static void ForEach<TItem>(IEnumerable<TItem> items, Func<TItem, FlowConfig> configOf, Action<TItem> check, Func<FlowConfig, TItem> rebuild,
        Func<FlowConfig, bool>? applies = null, int threads = -1)
    {
        foreach (TItem item in items)
        {
            try
            {
                check(item);
            }
            catch (Exception failure) when (failure is not ShrunkFailure)
            {
                FlowConfig config = configOf(item);
                ConfigOrigins.Origin? origin = ConfigOrigins.Of(config);
                if (origin is null) throw;
                throw Shrink(origin.Gen, origin.Seed, c =>
                {
                    if (applies is not null && !applies(c)) return;
                    check(rebuild(c));
                }, Print, failure, threads);
            }
        }
    }

    /// <summary>A config as a failure message shows it: its description and the declaration to paste.</summary>
    public static string Print(FlowConfig config) => config.Describe() + "\n" + config.ToAttributeSource("Shrunk");

    /// <summary>
    /// The exception to throw for <paramref name="failure"/> of the case of <paramref name="seed"/>: CsCheck looks for smaller
    /// failing cases of <paramref name="gen"/> for <see cref="Seconds"/> seconds; the message has the original failure, the
    /// smallest failing case and its seed, and that case's failure.
    /// </summary>
    public static Exception Shrink<T>(Gen<T> gen, string seed, Action<T> property, Func<T, string> print, Exception failure, int threads = -1, int? seconds = null)
    {
        int budget = seconds ?? Seconds;
        if (budget == 0) return new ShrunkFailure(failure.Message + "\n(not shrunk: FLOWGEN_SHRINK_SECONDS=0)", failure);
        // replay first: a failure that does not come back from its seed (it depended on state) cannot be shrunk
        try
        {
            property(gen.Generate(PCG.Parse(seed), null, out _));
            return new ShrunkFailure(failure.Message + $"\n(not shrunk: the case of CsCheck seed \"{seed}\" passes when checked alone)", failure);
        }
        catch (Exception)
        {
        }
        try
        {
            gen.Sample(property, seed: seed, time: budget, threads: threads, print: print);
        }
        catch (CsCheckException shrunk)
        {
            return new ShrunkFailure(
                failure.Message + $"\n\n--- shrunk by CsCheck (searched {budget} s; FLOWGEN_SHRINK_SECONDS) ---\n" + shrunk.Message +
                "\n--- failure of the smallest case ---\n" + (shrunk.InnerException?.Message ?? "(none)"), failure);
        }
        return new ShrunkFailure(failure.Message + $"\n(not shrunk: CsCheck found no failure from seed \"{seed}\")", failure);
    }
}

/// <summary>A failure with its shrunk case (not shrunk again by an enclosing check).</summary>
public sealed class ShrunkFailure(string message, Exception inner) : Xunit.Sdk.XunitException(message, inner);
