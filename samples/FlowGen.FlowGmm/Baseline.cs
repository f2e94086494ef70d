using System;

namespace FlowGen.FlowGmm;

/// <summary>
/// The plain baseline: linear discriminant analysis on the labelled rows — class means and one pooled covariance, shrunk
/// toward the identity by one pseudo-observation, Σ = (W + I) / (n − K + 1) with W the within-class scatter (with one label
/// per class W = 0 and this is the nearest class mean); a row goes to the class of smallest Mahalanobis distance (equal priors).
/// </summary>
internal sealed class Lda
{
    private readonly int _dim, _classes;
    private readonly double[] _means;     // [K, d]
    private readonly double[,] _precision; // Σ⁻¹

    public Lda(ReadOnlySpan<double> x, ReadOnlySpan<int> y, int dim, int classes)
    {
        _dim = dim;
        _classes = classes;
        int n = y.Length;
        _means = new double[classes * dim];
        var counts = new int[classes];
        for (int i = 0; i < n; i++)
        {
            counts[y[i]]++;
            for (int j = 0; j < dim; j++) _means[y[i] * dim + j] += x[i * dim + j];
        }
        for (int c = 0; c < classes; c++)
            for (int j = 0; j < dim; j++) _means[c * dim + j] /= counts[c];
        var sigma = new double[dim, dim];
        for (int i = 0; i < n; i++)
            for (int a = 0; a < dim; a++)
                for (int b = 0; b < dim; b++)
                    sigma[a, b] += (x[i * dim + a] - _means[y[i] * dim + a]) * (x[i * dim + b] - _means[y[i] * dim + b]);
        for (int a = 0; a < dim; a++) sigma[a, a] += 1;
        for (int a = 0; a < dim; a++)
            for (int b = 0; b < dim; b++) sigma[a, b] /= n - classes + 1;
        _precision = Invert(sigma);
    }

    public void Classify(ReadOnlySpan<double> x, Span<int> labels)
    {
        var diff = new double[_dim];
        for (int i = 0; i < labels.Length; i++)
        {
            double best = double.PositiveInfinity;
            for (int c = 0; c < _classes; c++)
            {
                for (int j = 0; j < _dim; j++) diff[j] = x[i * _dim + j] - _means[c * _dim + j];
                double m = 0;
                for (int a = 0; a < _dim; a++)
                    for (int b = 0; b < _dim; b++) m += diff[a] * _precision[a, b] * diff[b];
                if (m < best) { best = m; labels[i] = c; }
            }
        }
    }

    /// <summary>Gauss–Jordan inverse with partial pivoting (Σ is symmetric positive definite here).</summary>
    private static double[,] Invert(double[,] m)
    {
        int d = m.GetLength(0);
        var a = (double[,])m.Clone();
        var inv = new double[d, d];
        for (int i = 0; i < d; i++) inv[i, i] = 1;
        for (int col = 0; col < d; col++)
        {
            int pivot = col;
            for (int r = col + 1; r < d; r++) if (Math.Abs(a[r, col]) > Math.Abs(a[pivot, col])) pivot = r;
            for (int k = 0; k < d; k++)
            {
                (a[col, k], a[pivot, k]) = (a[pivot, k], a[col, k]);
                (inv[col, k], inv[pivot, k]) = (inv[pivot, k], inv[col, k]);
            }
            double p = a[col, col];
            for (int k = 0; k < d; k++) { a[col, k] /= p; inv[col, k] /= p; }
            for (int r = 0; r < d; r++)
            {
                if (r == col) continue;
                double f = a[r, col];
                if (f == 0) continue;
                for (int k = 0; k < d; k++) { a[r, k] -= f * a[col, k]; inv[r, k] -= f * inv[col, k]; }
            }
        }
        return inv;
    }
}
