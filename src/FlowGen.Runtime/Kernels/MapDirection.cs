using System.ComponentModel;

namespace FlowGen.Kernels;

/// <summary>
/// Selects, at JIT time, which map a generated layer's backward pass differentiates: the forward map x → z
/// (<see cref="ForwardMap"/>) or the inverse map z → x (<see cref="InverseMap"/>). Generated code calls
/// <c>Backward&lt;TDirection&gt;</c>; the JIT compiles one specialisation per direction with the other branch removed.
/// For generated code; not meant to be used directly.
/// </summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public interface IMapDirection
{
    /// <summary>True for the inverse map.</summary>
    static abstract bool IsInverse { get; }
}

/// <summary>The forward map x → z (data to latent).</summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public readonly struct ForwardMap : IMapDirection
{
    /// <inheritdoc />
    public static bool IsInverse => false;
}

/// <summary>The inverse map z → x (latent to data).</summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public readonly struct InverseMap : IMapDirection
{
    /// <inheritdoc />
    public static bool IsInverse => true;
}
