using System;
using System.Collections.Generic;
using System.Globalization;
using System.Numerics;

namespace FlowGen;

/// <summary>
/// Per-column standardisation of row-major data, s(x)ⱼ = (xⱼ − μⱼ) / σⱼ, fitted on training rows, with its inverse and
/// its log-determinant <see cref="LogDet"/> for reporting densities in the data's own units.
/// </summary>
/// <remarks>
/// <para>
/// Flows train best on data of unit scale (spline bounds, initialisations and learning rates assume it). Fit the
/// standardiser on the training rows only, apply it to every set (training, validation, test) and train and evaluate the
/// flow on the standardised rows; map samples back with <see cref="Inverse{T}(ReadOnlySpan{T})"/>.
/// </para>
/// <para>
/// Densities: s is affine with Jacobian diag(1/σ), so by the change of variables
/// log p(x) = log p′(s(x)) + <see cref="LogDet"/>, where p′ is the flow's density of the standardised rows and
/// LogDet = log|det ∂s/∂x| = −Σⱼ log σⱼ. Hence NLL in data units = NLL in standardised units − LogDet
/// (= NLL in standardised units + Σⱼ log σⱼ); e.g. <c>FlowTrainer.MeanNll(flow, s.Apply(test)) - s.LogDet</c>.
/// Standardising contexts (fit a second standardiser on them) changes no density of x and needs no correction.
/// </para>
/// <para>
/// Arithmetic: mean and standard deviation are accumulated in double (two passes: μⱼ = Σᵢ xᵢⱼ / n, then
/// σⱼ = √(Σᵢ (xᵢⱼ − μⱼ)² / n), the population standard deviation), and every element is mapped in double, rounded once to
/// T: <c>(T)((x − μ) / σ)</c> forwards, <c>(T)(y·σ + μ)</c> backwards.
/// </para>
/// <para>
/// A constant column (all its values equal: zero variance) cannot be standardised, and a density over it is degenerate:
/// <see cref="Fit{T}"/> throws an <see cref="ArgumentException"/> naming the column rather than silently using σ = 1.
/// Drop such a column before training.
/// </para>
/// </remarks>
public sealed class Standardizer
{
    private readonly double[] _mean, _std;

    /// <summary>A standardiser with given per-column means and standard deviations (e.g. stored with a model).</summary>
    /// <param name="mean">μ, one per column.</param>
    /// <param name="standardDeviation">σ, one per column, each positive and finite.</param>
    /// <exception cref="ArgumentException">The lengths differ or are zero, a mean is not finite, or a σ is not positive and finite.</exception>
    public Standardizer(ReadOnlySpan<double> mean, ReadOnlySpan<double> standardDeviation)
    {
        if (mean.IsEmpty) throw new ArgumentException("mean needs at least one column.", nameof(mean));
        if (standardDeviation.Length != mean.Length)
        {
            throw new ArgumentException($"standardDeviation.Length must equal mean.Length ({mean.Length}); it is {standardDeviation.Length}.", nameof(standardDeviation));
        }
        for (int j = 0; j < mean.Length; j++)
        {
            if (!double.IsFinite(mean[j])) throw new ArgumentException($"mean[{j}] is {mean[j]}; it must be finite.", nameof(mean));
            if (!(standardDeviation[j] > 0) || !double.IsFinite(standardDeviation[j]))
            {
                throw new ArgumentException($"standardDeviation[{j}] is {standardDeviation[j]}; it must be positive and finite.", nameof(standardDeviation));
            }
        }
        _mean = mean.ToArray();
        _std = standardDeviation.ToArray();
        double sum = 0;
        foreach (double s in _std) sum += Math.Log(s);
        LogDet = -sum;
    }

    /// <summary>Number of columns.</summary>
    public int Dim => _mean.Length;

    /// <summary>μⱼ, the column means.</summary>
    public IReadOnlyList<double> Mean => Array.AsReadOnly(_mean);

    /// <summary>σⱼ, the column (population) standard deviations.</summary>
    public IReadOnlyList<double> StandardDeviation => Array.AsReadOnly(_std);

    /// <summary>
    /// log|det ∂s/∂x| = −Σⱼ log σⱼ, the log-determinant of the standardisation per row (Σ accumulated in column order):
    /// log p(x) = log p′(s(x)) + LogDet, so NLL in data units = NLL in standardised units − LogDet.
    /// </summary>
    public double LogDet { get; }

    /// <summary>Fits the per-column mean and population standard deviation of row-major data.</summary>
    /// <param name="data">Rows, row-major [n, dim], n ≥ 2, all finite.</param>
    /// <param name="dim">Columns per row.</param>
    /// <returns>The fitted standardiser.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="dim"/> is less than 1.</exception>
    /// <exception cref="ArgumentException">The length is not a multiple of dim, there are fewer than 2 rows, a value is NaN or infinite,
    /// or a column is constant (zero variance; the message names it).</exception>
    public static Standardizer Fit<T>(ReadOnlySpan<T> data, int dim) where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(dim, 1);
        int n = FlowTile.RowCount(data.Length, dim, nameof(data));
        if (n < 2) throw new ArgumentException($"data needs at least 2 rows to fit a standard deviation; it has {n}.", nameof(data));
        var mean = new double[dim];
        var std = new double[dim];
        for (int i = 0; i < n; i++)
        {
            for (int j = 0; j < dim; j++)
            {
                T v = data[i * dim + j];
                if (!T.IsFinite(v)) throw new ArgumentException($"Row {i} of data has a non-finite value ({v}) at column {j}.", nameof(data));
                mean[j] += double.CreateTruncating(v);
            }
        }
        for (int j = 0; j < dim; j++) mean[j] /= n;
        for (int i = 0; i < n; i++)
        {
            for (int j = 0; j < dim; j++)
            {
                double d = double.CreateTruncating(data[i * dim + j]) - mean[j];
                std[j] += d * d;
            }
        }
        for (int j = 0; j < dim; j++)
        {
            std[j] = Math.Sqrt(std[j] / n);
            if (IsConstant(data, dim, j))
            {
                throw new ArgumentException(
                    $"Column {j} of data is constant ({data[j]}): its standard deviation is 0, so it cannot be standardised and a density over it is degenerate; drop the column.",
                    nameof(data));
            }
            if (!(std[j] > 0) || !double.IsFinite(std[j]))
            {
                throw new ArgumentException($"Column {j} of data has standard deviation {std[j]} in double (values too close together or too large); rescale it first.", nameof(data));
            }
        }
        return new Standardizer(mean, std);
    }

    private static bool IsConstant<T>(ReadOnlySpan<T> data, int dim, int column) where T : unmanaged, IFloatingPointIeee754<T>
    {
        T first = data[column];
        for (int k = column + dim; k < data.Length; k += dim)
        {
            if (data[k] != first) return false;
        }
        return true;
    }

    /// <summary>The standardised copy of row-major rows: yᵢⱼ = (T)((xᵢⱼ − μⱼ) / σⱼ).</summary>
    /// <param name="data">Rows, row-major [n, Dim].</param>
    /// <returns>A new array of the same length.</returns>
    /// <exception cref="ArgumentException">The length is not a multiple of <see cref="Dim"/>.</exception>
    public T[] Apply<T>(ReadOnlySpan<T> data) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var result = new T[data.Length];
        Apply(data, result);
        return result;
    }

    /// <summary>Writes the standardised rows to <paramref name="destination"/>: yᵢⱼ = (T)((xᵢⱼ − μⱼ) / σⱼ). The spans may be the same memory.</summary>
    /// <param name="data">Rows, row-major [n, Dim].</param>
    /// <param name="destination">As long as <paramref name="data"/>.</param>
    /// <exception cref="ArgumentException">A length does not fit.</exception>
    public void Apply<T>(ReadOnlySpan<T> data, Span<T> destination) where T : unmanaged, IFloatingPointIeee754<T>
    {
        CheckLengths(data.Length, destination.Length, nameof(data));
        int dim = _mean.Length;
        for (int k = 0; k < data.Length; k++)
        {
            int j = k % dim;
            destination[k] = T.CreateTruncating((double.CreateTruncating(data[k]) - _mean[j]) / _std[j]);
        }
    }

    /// <summary>Standardises row-major rows in place.</summary>
    /// <param name="data">Rows, row-major [n, Dim]; overwritten with the standardised rows.</param>
    /// <exception cref="ArgumentException">The length is not a multiple of <see cref="Dim"/>.</exception>
    public void ApplyInPlace<T>(Span<T> data) where T : unmanaged, IFloatingPointIeee754<T> => Apply<T>(data, data);

    /// <summary>The copy of standardised rows mapped back to the data's units: xᵢⱼ = (T)(yᵢⱼ·σⱼ + μⱼ).</summary>
    /// <param name="standardized">Standardised rows, row-major [n, Dim] (e.g. samples of a flow trained on standardised data).</param>
    /// <returns>A new array of the same length.</returns>
    /// <exception cref="ArgumentException">The length is not a multiple of <see cref="Dim"/>.</exception>
    public T[] Inverse<T>(ReadOnlySpan<T> standardized) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var result = new T[standardized.Length];
        Inverse(standardized, result);
        return result;
    }

    /// <summary>Writes standardised rows mapped back to the data's units to <paramref name="destination"/>: xᵢⱼ = (T)(yᵢⱼ·σⱼ + μⱼ). The spans may be the same memory.</summary>
    /// <param name="standardized">Standardised rows, row-major [n, Dim].</param>
    /// <param name="destination">As long as <paramref name="standardized"/>.</param>
    /// <exception cref="ArgumentException">A length does not fit.</exception>
    public void Inverse<T>(ReadOnlySpan<T> standardized, Span<T> destination) where T : unmanaged, IFloatingPointIeee754<T>
    {
        CheckLengths(standardized.Length, destination.Length, nameof(standardized));
        int dim = _mean.Length;
        for (int k = 0; k < standardized.Length; k++)
        {
            int j = k % dim;
            destination[k] = T.CreateTruncating(double.CreateTruncating(standardized[k]) * _std[j] + _mean[j]);
        }
    }

    /// <summary>Maps standardised rows back to the data's units in place.</summary>
    /// <param name="data">Standardised rows, row-major [n, Dim]; overwritten.</param>
    /// <exception cref="ArgumentException">The length is not a multiple of <see cref="Dim"/>.</exception>
    public void InverseInPlace<T>(Span<T> data) where T : unmanaged, IFloatingPointIeee754<T> => Inverse<T>(data, data);

    private void CheckLengths(int source, int destination, string sourceName)
    {
        FlowTile.RowCount(source, _mean.Length, sourceName);
        if (destination != source)
        {
            throw new ArgumentException($"destination.Length must be {source} ({sourceName}.Length); it is {destination}.", nameof(destination));
        }
    }

    /// <summary>The means, standard deviations and log-determinant, invariant culture.</summary>
    /// <returns>E.g. <c>Standardizer(Dim 2: mean [1.5, -0.5], std [1, 0.6], LogDet 0.5108)</c>.</returns>
    public override string ToString()
    {
        var c = CultureInfo.InvariantCulture;
        return string.Create(c, $"Standardizer(Dim {Dim}: mean [{string.Join(", ", Array.ConvertAll(_mean, m => m.ToString("G6", c)))}], std [{string.Join(", ", Array.ConvertAll(_std, s => s.ToString("G6", c)))}], LogDet {LogDet:G6})");
    }
}
