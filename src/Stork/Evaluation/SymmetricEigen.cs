namespace Stork.Evaluation;

/// <summary>Eigen-decomposition of a symmetric matrix by cyclic Jacobi rotations (double; sizes of a few hundred).</summary>
public static class SymmetricEigen
{
    /// <summary>
    /// Eigenvalues of the symmetric <paramref name="n"/> x <paramref name="n"/> matrix <paramref name="a"/> (row-major,
    /// destroyed), and the eigenvectors as the columns of <paramref name="vectors"/> when it is given.
    /// </summary>
    public static double[] Decompose(double[] a, int n, double[]? vectors = null)
    {
        if (a.Length != n * n)
        {
            throw new ArgumentException("matrix size mismatch.");
        }

        var v = vectors ?? new double[n * n];
        Array.Clear(v);
        for (int i = 0; i < n; i++)
        {
            v[(i * n) + i] = 1.0;
        }

        for (int sweep = 0; sweep < 100; sweep++)
        {
            double off = 0, diag = 0;
            for (int i = 0; i < n; i++)
            {
                diag += a[(i * n) + i] * a[(i * n) + i];
                for (int j = i + 1; j < n; j++)
                {
                    off += a[(i * n) + j] * a[(i * n) + j];
                }
            }

            if (off <= 1e-30 * diag || off == 0)
            {
                break;
            }

            for (int p = 0; p < n; p++)
            {
                for (int q = p + 1; q < n; q++)
                {
                    double apq = a[(p * n) + q];
                    if (Math.Abs(apq) < 1e-300)
                    {
                        continue;
                    }

                    double app = a[(p * n) + p], aqq = a[(q * n) + q];
                    double theta = (aqq - app) / (2 * apq);
                    double t = Math.Sign(theta) / (Math.Abs(theta) + Math.Sqrt((theta * theta) + 1));
                    if (theta == 0)
                    {
                        t = 1;
                    }

                    double c = 1 / Math.Sqrt((t * t) + 1), s = t * c;
                    for (int k = 0; k < n; k++)
                    {
                        double akp = a[(k * n) + p], akq = a[(k * n) + q];
                        a[(k * n) + p] = (c * akp) - (s * akq);
                        a[(k * n) + q] = (s * akp) + (c * akq);
                    }

                    for (int k = 0; k < n; k++)
                    {
                        double apk = a[(p * n) + k], aqk = a[(q * n) + k];
                        a[(p * n) + k] = (c * apk) - (s * aqk);
                        a[(q * n) + k] = (s * apk) + (c * aqk);
                    }

                    for (int k = 0; k < n; k++)
                    {
                        double vkp = v[(k * n) + p], vkq = v[(k * n) + q];
                        v[(k * n) + p] = (c * vkp) - (s * vkq);
                        v[(k * n) + q] = (s * vkp) + (c * vkq);
                    }
                }
            }
        }

        var values = new double[n];
        for (int i = 0; i < n; i++)
        {
            values[i] = a[(i * n) + i];
        }

        return values;
    }
}
