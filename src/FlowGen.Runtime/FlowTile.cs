using System;
using System.ComponentModel;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using FlowGen.Kernels;

namespace FlowGen;

/// <summary>
/// Support for generated code: moving row-major batches in and out of SIMD tiles, and argument checks.
/// A tile holds <c>lanes × TV.Count</c> samples (TV: the vector type, <see cref="Kernels.ISimd{TSelf}"/>); tile row r is <c>lanes</c> consecutive vectors holding
/// coordinate r of every sample (one sample per SIMD lane).
/// </summary>
/// <remarks>
/// Every value a flow writes to its caller goes through <see cref="Store{T, TV}"/>, <see cref="StoreRow{T, TV}"/> (batch tiles) or
/// <see cref="CanonicalNaN{T}"/> / <see cref="CopyCanonicalNaN{T}"/> (the single-sample path), which replace any NaN by
/// <c>T.NaN</c>. Which NaN an IEEE operation returns when two NaNs meet (x64 returns the first operand's) depends on the
/// order the JIT gives the operands of a commutative operation, and that order differs between the scalar and the
/// vector code of the same template; with one canonical NaN the two paths agree bit for bit on non-finite rows too.
/// Finite values are copied unchanged.
/// </remarks>
[EditorBrowsable(EditorBrowsableState.Never)]
public static class FlowTile
{
    /// <summary>Copies samples [first, first + count) of a row-major [n, dim] span into a tile: coordinate i goes to tile row rows[i]; lanes past count are zeroed.</summary>
    /// <remarks>An empty <paramref name="source"/> loads zeros.</remarks>
    public static void Load<T, TV>(ReadOnlySpan<T> source, int first, int count, int dim, int lanes, ReadOnlySpan<int> rows, ref TV tile) where T : unmanaged where TV : unmanaged, ISimd<TV>
    {
        ref T t = ref Unsafe.As<TV, T>(ref tile);
        int width = lanes * TV.Count;
        if (source.IsEmpty)
        {
            for (int i = 0; i < dim; i++) Unsafe.InitBlockUnaligned(ref Unsafe.As<T, byte>(ref Unsafe.Add(ref t, rows[i] * width)), 0, (uint)(width * Unsafe.SizeOf<T>()));
            return;
        }
        ref T src = ref Unsafe.Add(ref MemoryMarshal.GetReference(source), first * dim);
        for (int s = 0; s < count; s++)
        {
            ref T row = ref Unsafe.Add(ref src, s * dim);
            for (int i = 0; i < dim; i++) Unsafe.Add(ref t, rows[i] * width + s) = Unsafe.Add(ref row, i);
        }
        if (count < width)
        {
            for (int i = 0; i < dim; i++) Unsafe.InitBlockUnaligned(ref Unsafe.As<T, byte>(ref Unsafe.Add(ref t, rows[i] * width + count)), 0, (uint)((width - count) * Unsafe.SizeOf<T>()));
        }
    }

    /// <summary>Copies one row-major sample (dim values) into lanes [0, count) of tile rows 0 … dim − 1 (every sample the same); lanes past count are zeroed.</summary>
    public static void LoadShared<T, TV>(ReadOnlySpan<T> row, int count, int lanes, ref TV tile) where T : unmanaged where TV : unmanaged, ISimd<TV>
    {
        int width = lanes * TV.Count;
        Span<T> t = MemoryMarshal.CreateSpan(ref Unsafe.As<TV, T>(ref tile), row.Length * width);
        for (int i = 0; i < row.Length; i++)
        {
            t.Slice(i * width, count).Fill(row[i]);
            t.Slice(i * width + count, width - count).Clear();
        }
    }

    /// <summary>Writes tile rows to samples [first, first + count) of a row-major [n, dim] span: coordinate i comes from tile row rows[i]. NaNs are written as <c>T.NaN</c>.</summary>
    public static void Store<T, TV>(ref TV tile, ReadOnlySpan<int> rows, int lanes, Span<T> destination, int first, int count) where T : unmanaged, IFloatingPointIeee754<T> where TV : unmanaged, ISimd<TV>
    {
        int dim = rows.Length;
        ref T t = ref Unsafe.As<TV, T>(ref tile);
        int width = lanes * TV.Count;
        ref T dst = ref Unsafe.Add(ref MemoryMarshal.GetReference(destination), first * dim);
        for (int s = 0; s < count; s++)
        {
            ref T row = ref Unsafe.Add(ref dst, s * dim);
            for (int i = 0; i < dim; i++) Unsafe.Add(ref row, i) = CanonicalNaN(Unsafe.Add(ref t, rows[i] * width + s));
        }
    }

    /// <summary>Loads source[first … first + count) into the lanes of one tile row, zeroing the rest; an empty source loads zeros.</summary>
    public static void LoadRow<T, TV>(ReadOnlySpan<T> source, int first, int count, int lanes, ref TV row) where T : unmanaged where TV : unmanaged, ISimd<TV>
    {
        Span<T> target = MemoryMarshal.CreateSpan(ref Unsafe.As<TV, T>(ref row), lanes * TV.Count);
        target.Clear();
        if (!source.IsEmpty) source.Slice(first, count).CopyTo(target);
    }

    /// <summary>Writes the first count lanes of one tile row to destination[first …]. NaNs are written as <c>T.NaN</c>.</summary>
    public static void StoreRow<T, TV>(ref TV row, Span<T> destination, int first, int count) where T : unmanaged, IFloatingPointIeee754<T> where TV : unmanaged, ISimd<TV>
    {
        CopyCanonicalNaN(MemoryMarshal.CreateReadOnlySpan(ref Unsafe.As<TV, T>(ref row), count), destination.Slice(first, count));
    }

    /// <summary><paramref name="value"/>, or <c>T.NaN</c> when it is a NaN (of any sign or payload).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static T CanonicalNaN<T>(T value) where T : unmanaged, IFloatingPointIeee754<T> => T.IsNaN(value) ? T.NaN : value;

    /// <summary>Copies source to the start of destination (at least as long) with every NaN written as <c>T.NaN</c>.</summary>
    public static void CopyCanonicalNaN<T>(ReadOnlySpan<T> source, Span<T> destination) where T : unmanaged, IFloatingPointIeee754<T>
    {
        destination = destination.Slice(0, source.Length);
        for (int i = 0; i < source.Length; i++) destination[i] = CanonicalNaN(source[i]);
    }

    /// <summary>Throws <see cref="ArgumentException"/> unless <paramref name="length"/> equals <paramref name="expected"/>.</summary>
    public static void CheckLength(int length, int expected, string what, string paramName)
    {
        if (length != expected) ThrowLength(length, expected, what, paramName);
    }

    /// <summary>Throws <see cref="ArgumentException"/> unless <paramref name="length"/> is a multiple of <paramref name="dim"/>; returns the number of rows.</summary>
    public static int RowCount(int length, int dim, string paramName)
    {
        if (length % dim != 0)
        {
            throw new ArgumentException($"{paramName}.Length must be a multiple of Dim = {dim} (row-major [n, {dim}]); it is {length}.", paramName);
        }
        return length / dim;
    }

    /// <summary>Number of rows of the row-major [n, dim] batch that hold a NaN or ±∞ (0 when every value is finite).</summary>
    public static int CountNonFiniteRows(ReadOnlySpan<float> values, int dim) => CountNonFiniteRowsFrom(values, dim, Kernel.IndexOfNonFinite(values));

    /// <summary>Number of rows of the row-major [n, dim] batch that hold a NaN or ±∞ (0 when every value is finite).</summary>
    public static int CountNonFiniteRows(ReadOnlySpan<double> values, int dim) => CountNonFiniteRowsFrom(values, dim, Kernel.IndexOfNonFinite(values));

    /// <summary>Counts the rows with a non-finite value, starting at the row of the first one (found by the vectorised scan; −1: none).</summary>
    private static int CountNonFiniteRowsFrom<T>(ReadOnlySpan<T> values, int dim, int firstNonFinite) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (firstNonFinite < 0) return 0;
        int count = 0;
        for (int start = firstNonFinite / dim * dim; start < values.Length; start += dim)
        {
            foreach (T v in values.Slice(start, dim))
            {
                if (!T.IsFinite(v))
                {
                    count++;
                    break;
                }
            }
        }
        return count;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void ThrowLength(int length, int expected, string what, string paramName) =>
        throw new ArgumentException($"{paramName}.Length must be {expected} ({what}); it is {length}.", paramName);
}
