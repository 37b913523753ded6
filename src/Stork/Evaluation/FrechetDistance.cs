namespace Stork.Evaluation;

/// <summary>
/// Frechet distance between Gaussians fitted to two feature sets (the FID formula):
/// <c>|mu1 - mu2|^2 + tr(C1 + C2 - 2 (C1^{1/2} C2 C1^{1/2})^{1/2})</c>, in double.
/// </summary>
public static class FrechetDistance
{
    /// <summary>Mean and covariance (unbiased, n - 1) of <paramref name="count"/> feature rows of size <paramref name="dim"/>.</summary>
    public static (double[] Mean, double[] Covariance) Statistics(ReadOnlySpan<float> features, int count, int dim)
    {
        if (count < 2 || features.Length != count * dim)
        {
            throw new ArgumentException("statistics need at least two feature rows of the stated size.");
        }

        var mean = new double[dim];
        for (int n = 0; n < count; n++)
        {
            for (int i = 0; i < dim; i++)
            {
                mean[i] += features[(n * dim) + i];
            }
        }

        for (int i = 0; i < dim; i++)
        {
            mean[i] /= count;
        }

        var cov = new double[dim * dim];
        var row = new double[dim];
        for (int n = 0; n < count; n++)
        {
            for (int i = 0; i < dim; i++)
            {
                row[i] = features[(n * dim) + i] - mean[i];
            }

            for (int i = 0; i < dim; i++)
            {
                double ri = row[i];
                for (int j = i; j < dim; j++)
                {
                    cov[(i * dim) + j] += ri * row[j];
                }
            }
        }

        for (int i = 0; i < dim; i++)
        {
            for (int j = i; j < dim; j++)
            {
                double c = cov[(i * dim) + j] / (count - 1);
                cov[(i * dim) + j] = c;
                cov[(j * dim) + i] = c;
            }
        }

        return (mean, cov);
    }

    /// <summary>The distance between N(mu1, c1) and N(mu2, c2).</summary>
    public static double Compute(double[] mu1, double[] c1, double[] mu2, double[] c2)
    {
        int n = mu1.Length;
        if (mu2.Length != n || c1.Length != n * n || c2.Length != n * n)
        {
            throw new ArgumentException("the two sets of statistics differ in dimension.");
        }

        double meanTerm = 0;
        for (int i = 0; i < n; i++)
        {
            meanTerm += (mu1[i] - mu2[i]) * (mu1[i] - mu2[i]);
        }

        // S = C1^{1/2} from the eigen-decomposition of C1 (negative round-off eigenvalues clipped to 0).
        var vectors = new double[n * n];
        var values = SymmetricEigen.Decompose((double[])c1.Clone(), n, vectors);
        var s = new double[n * n];
        for (int i = 0; i < n; i++)
        {
            for (int j = 0; j < n; j++)
            {
                double sum = 0;
                for (int k = 0; k < n; k++)
                {
                    sum += vectors[(i * n) + k] * Math.Sqrt(Math.Max(values[k], 0)) * vectors[(j * n) + k];
                }

                s[(i * n) + j] = sum;
            }
        }

        // M = S C2 S is symmetric positive semi-definite; tr sqrt(C1 C2) = sum sqrt(eig(M)).
        var m = Multiply(Multiply(s, c2, n), s, n);
        for (int i = 0; i < n; i++)
        {
            for (int j = i + 1; j < n; j++)
            {
                double avg = 0.5 * (m[(i * n) + j] + m[(j * n) + i]);
                m[(i * n) + j] = avg;
                m[(j * n) + i] = avg;
            }
        }

        double traceSqrt = SymmetricEigen.Decompose(m, n).Sum(v => Math.Sqrt(Math.Max(v, 0)));
        double trace = 0;
        for (int i = 0; i < n; i++)
        {
            trace += c1[(i * n) + i] + c2[(i * n) + i];
        }

        return meanTerm + trace - (2 * traceSqrt);
    }

    private static double[] Multiply(double[] a, double[] b, int n)
    {
        var r = new double[n * n];
        for (int i = 0; i < n; i++)
        {
            for (int k = 0; k < n; k++)
            {
                double aik = a[(i * n) + k];
                if (aik == 0)
                {
                    continue;
                }

                for (int j = 0; j < n; j++)
                {
                    r[(i * n) + j] += aik * b[(k * n) + j];
                }
            }
        }

        return r;
    }
}
