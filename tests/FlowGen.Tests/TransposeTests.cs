using System;

namespace FlowGen.Tests;

/// <summary>Kernel.Transpose (AVX shuffle blocks with a scalar fallback) against the plain definition, for every shape up to 19 × 19.</summary>
public class TransposeTests
{
    [Fact]
    public void TransposeMatchesTheDefinitionForEveryShape()
    {
        var rng = new Random(3);
        for (int rows = 1; rows <= 19; rows++)
        {
            for (int cols = 1; cols <= 19; cols++)
            {
                var f = new float[rows * cols];
                var d = new double[rows * cols];
                for (int i = 0; i < f.Length; i++) { f[i] = (float)rng.NextDouble(); d[i] = rng.NextDouble(); }
                // one guard element after the destination: nothing may be written past cols × rows
                var ft = new float[f.Length + 1];
                var dt = new double[d.Length + 1];
                ft[^1] = -7; dt[^1] = -7;
                Kernel.Transpose(ref f[0], rows, cols, ref ft[0]);
                Kernel.Transpose(ref d[0], rows, cols, ref dt[0]);
                for (int r = 0; r < rows; r++)
                {
                    for (int c = 0; c < cols; c++)
                    {
                        Assert.Equal(f[r * cols + c], ft[c * rows + r]);
                        Assert.Equal(d[r * cols + c], dt[c * rows + r]);
                    }
                }
                Assert.Equal(-7, ft[^1]);
                Assert.Equal(-7, dt[^1]);
            }
        }
    }
}
