using System.ComponentModel;

namespace FlowGen.Kernels;

/// <summary>
/// For generated code: the shape of a dense layer as a type, so that the kernels of <see cref="Dense"/> are specialised to
/// it by the JIT (a value type argument gets its own compiled code, in which <see cref="In"/> and <see cref="Out"/> are
/// constants). Implementations are empty structs such as
/// <c>struct Shape_4x64 : IDenseShape { public static int In => 4; public static int Out => 64; }</c>.
/// </summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public interface IDenseShape
{
    /// <summary>Inputs of the layer (rows of the input-major weight matrix).</summary>
    static abstract int In { get; }

    /// <summary>Outputs of the layer (columns of the weight matrix, length of the bias).</summary>
    static abstract int Out { get; }
}
