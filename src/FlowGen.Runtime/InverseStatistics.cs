using System;
using System.ComponentModel;

namespace FlowGen;

/// <summary>
/// Per-thread counters of the numerical inverses (sum-of-squares and deep sigmoidal couplings), for measurement only. They
/// count when the process starts with the runtime switch <c>FlowGen.InverseStatistics</c> on: in the project file
/// <c>&lt;RuntimeHostConfigurationOption Include="FlowGen.InverseStatistics" Value="true" /&gt;</c> (or
/// <c>AppContext.SetSwitch("FlowGen.InverseStatistics", true)</c> before the first inversion). The switch is read once
/// (<see cref="IsEnabled"/>): when it is off, the JIT removes the counting from the inverse altogether. The generated code
/// is the same either way. One record is one inversion of one coupling coordinate for one sample, or for one SIMD group of
/// samples (then the counts are those of its slowest lane).
/// </summary>
[EditorBrowsable(EditorBrowsableState.Advanced)]
public static class InverseStatistics
{
    /// <summary>The name of the runtime switch that turns the counters on.</summary>
    public const string SwitchName = "FlowGen.InverseStatistics";

    // read once: a static readonly field is a constant to the JIT when it compiles the inverses (tier 1)
    private static readonly bool s_enabled = AppContext.TryGetSwitch(SwitchName, out bool enabled) && enabled;

    /// <summary>Whether the inverses record into these counters: the switch <see cref="SwitchName"/> as it was when this class was first used.</summary>
    public static bool IsEnabled => s_enabled;

    [ThreadStatic] private static long _calls, _growthSteps, _iterations, _unconverged;
    [ThreadStatic] private static int _maxGrowth, _maxIterations;

    /// <summary>Records one inversion: bracket doublings, root-finding iterations, and whether a lane hit the iteration limit.</summary>
    public static void Record(int growthSteps, int iterations, bool unconverged)
    {
        _calls++;
        _growthSteps += growthSteps;
        _iterations += iterations;
        if (unconverged) _unconverged++;
        _maxGrowth = Math.Max(_maxGrowth, growthSteps);
        _maxIterations = Math.Max(_maxIterations, iterations);
    }

    /// <summary>Clears this thread's counters.</summary>
    public static void Reset()
    {
        _calls = _growthSteps = _iterations = _unconverged = 0;
        _maxGrowth = _maxIterations = 0;
    }

    /// <summary>Inversions recorded on this thread.</summary>
    public static long Calls => _calls;

    /// <summary>Mean root-finding iterations per inversion.</summary>
    public static double MeanIterations => _calls == 0 ? 0 : (double)_iterations / _calls;

    /// <summary>Mean bracket doublings per inversion.</summary>
    public static double MeanGrowthSteps => _calls == 0 ? 0 : (double)_growthSteps / _calls;

    /// <summary>The most root-finding iterations of one inversion.</summary>
    public static int MaxIterations => _maxIterations;

    /// <summary>The most bracket doublings of one inversion.</summary>
    public static int MaxGrowthSteps => _maxGrowth;

    /// <summary>Inversions in which a lane hit the iteration limit (its output is NaN).</summary>
    public static long Unconverged => _unconverged;
}
