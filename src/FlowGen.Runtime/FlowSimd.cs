using System.Runtime.Intrinsics;

namespace FlowGen;

/// <summary>The vector width FlowGen's SIMD code runs at in this process.</summary>
public static class FlowSimd
{
    /// <summary>
    /// Bits per vector of generated tile code: 512 where <see cref="Vector512.IsHardwareAccelerated"/> (AVX-512), else 256
    /// where <see cref="Vector256.IsHardwareAccelerated"/> (AVX2), else 128. Fixed per process; results are the same at every width.
    /// </summary>
    public static int LaneBits => Vector512.IsHardwareAccelerated ? 512 : Vector256.IsHardwareAccelerated ? 256 : 128;
}
