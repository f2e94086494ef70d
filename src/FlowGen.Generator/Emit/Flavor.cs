namespace FlowGen.Generator.Emit;

/// <summary>
/// The two shapes of emitted element-wise code. <see cref="Tile"/> works on a batch tile: every value is a vector
/// <c>TV</c> (the runtime's <c>ISimd&lt;TV&gt;</c>, as wide as the hardware accelerates) holding one quantity for TV.Count
/// samples, inside a loop over the tile's
/// <c>Lanes</c> vectors (index <c>k</c>). <see cref="One"/> works on a single sample with scalars. Both are
/// emitted from the same templates, so every sample goes through the same IEEE operations on either path
/// and the results agree bit for bit.
/// </summary>
internal sealed class Flavor
{
    private Flavor(bool isTile, string t)
    {
        IsTile = isTile;
        T = t;
    }

    public static Flavor Tile(string t) => new(true, t);

    public static Flavor One(string t) => new(false, t);

    public bool IsTile { get; }

    /// <summary>The scalar type (float or double).</summary>
    public string T { get; }

    /// <summary>The type of one value in element-wise code.</summary>
    public string V => IsTile ? Vector : T;

    /// <summary>The vector type parameter of tile code.</summary>
    public const string Vector = "TV";

    /// <summary>The constraint of <see cref="Vector"/>, after a tile method's parameter list.</summary>
    public const string VectorConstraint = " where TV : unmanaged, ISimd<TV>";

    /// <summary>The type parameter list of a method of this flavor: "&lt;TV&gt;" for tiles (with <paramref name="others"/> first), else the others alone.</summary>
    public string TypeParameters(string others = "") =>
        IsTile ? "<" + (others.Length == 0 ? Vector : others + ", " + Vector) + ">" : others.Length == 0 ? "" : "<" + others + ">";

    /// <summary>The constraint clause of a method of this flavor ("" for one sample).</summary>
    public string Constraint => IsTile ? VectorConstraint : "";

    /// <summary>Suffix of single-sample method names.</summary>
    public string Suffix => IsTile ? "" : "One";

    /// <summary>The element of row <paramref name="row"/> (an int expression) of a buffer, at the current lane vector k for tiles.</summary>
    public string Row(string buffer, string row)
    {
        if (IsTile)
        {
            if (row == "0") return $"Unsafe.Add(ref {buffer}, k)";
            bool simple = true;
            foreach (char ch in row) simple &= char.IsLetterOrDigit(ch) || ch == '_';
            return simple ? $"Unsafe.Add(ref {buffer}, {row} * Lanes + k)" : $"Unsafe.Add(ref {buffer}, ({row}) * Lanes + k)";
        }
        return row == "0" ? buffer : $"Unsafe.Add(ref {buffer}, {row})";
    }

    public string Row(string buffer, int row) => Row(buffer, row.ToString(System.Globalization.CultureInfo.InvariantCulture));

    /// <summary>A reference to the start of row <paramref name="row"/> (what dense kernels take).</summary>
    public string RowStart(string buffer, int row)
    {
        if (row == 0) return $"ref {buffer}";
        return IsTile ? $"ref Unsafe.Add(ref {buffer}, {row} * Lanes)" : $"ref Unsafe.Add(ref {buffer}, {row})";
    }

    /// <summary>A reference to the start of row <paramref name="row"/> (a named constant or an expression), as dense kernels take it.</summary>
    public string RowRef(string buffer, string row) =>
        IsTile ? $"ref Unsafe.Add(ref {buffer}, {(IsSimple(row) ? row : "(" + row + ")")} * Lanes)" : $"ref Unsafe.Add(ref {buffer}, {row})";

    private static bool IsSimple(string row)
    {
        foreach (char ch in row)
        {
            if (!char.IsLetterOrDigit(ch) && ch != '_') return false;
        }
        return true;
    }

    /// <summary>Broadcasts a scalar expression to the flavor's value type.</summary>
    public string Splat(string scalar) => IsTile ? $"TV.Create({scalar})" : scalar;
}
