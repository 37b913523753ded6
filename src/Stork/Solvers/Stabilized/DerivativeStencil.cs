namespace Stork.Solvers.Stabilized;

/// <summary>
/// Finite-difference weights for the derivatives of the model output at the current time from the stored outputs
/// u0 (current, time tau0), u1 (tau1), ... The weights of derivative m go to <c>rows[m-1][offset + k]</c>.
/// </summary>
internal static class DerivativeStencil
{
    /// <summary>
    /// Exact derivatives at tau[0] of the interpolating polynomial through (tau[k], u_k), k = 0..q, for any spacing
    /// (Fornberg's algorithm, Math. Comp. 51, 1988). Derivatives above q are zero.
    /// </summary>
    public static void Exact(ReadOnlySpan<double> tau, int q, double[][] rows, int offset)
    {
        // c[m, k]: weight of node k in derivative m at z = tau[0], nodes 0..q.
        Span<double> c = stackalloc double[4 * 4];
        c.Clear();
        c[0] = 1.0;
        double z = tau[0];
        double c1 = 1.0;
        double c4 = tau[0] - z;
        for (int i = 1; i <= q; i++)
        {
            int mn = Math.Min(i, q);
            double c2 = 1.0;
            double c5 = c4;
            c4 = tau[i] - z;
            for (int j = 0; j < i; j++)
            {
                double c3 = tau[i] - tau[j];
                c2 *= c3;
                if (j == i - 1)
                {
                    for (int m = mn; m >= 1; m--)
                    {
                        c[(m * 4) + i] = c1 * ((m * c[((m - 1) * 4) + i - 1]) - (c5 * c[(m * 4) + i - 1])) / c2;
                    }

                    c[i] = -c1 * c5 * c[i - 1] / c2;
                }

                for (int m = mn; m >= 1; m--)
                {
                    c[(m * 4) + j] = ((c4 * c[(m * 4) + j]) - (m * c[((m - 1) * 4) + j])) / c3;
                }

                c[j] = c4 * c[j] / c3;
            }

            c1 = c2;
        }

        for (int m = 1; m <= 3; m++)
        {
            for (int k = 0; k <= q; k++)
            {
                rows[m - 1][offset + k] = m <= q ? c[(m * 4) + k] : 0.0;
            }
        }
    }

    /// <summary>
    /// The authors' formulas. Order 1: (u1 - u0) / h1. Order 2: the uniform three-point first derivative
    /// (-u2 + 4 u1 - 3 u0) / (2 h1) (used on non-uniform steps too) and the non-uniform second derivative.
    /// Steps h1 = tau1 - tau0, h2 = tau2 - tau1 (signed in the direction of the history).
    /// </summary>
    public static void Upstream(ReadOnlySpan<double> tau, int order, double[][] rows, int offset)
    {
        double h1 = tau[1] - tau[0];
        if (order == 1)
        {
            rows[0][offset] = -1.0 / h1;
            rows[0][offset + 1] = 1.0 / h1;
            return;
        }

        double h2 = tau[2] - tau[1];
        rows[0][offset] = -3.0 / (2.0 * h1);
        rows[0][offset + 1] = 4.0 / (2.0 * h1);
        rows[0][offset + 2] = -1.0 / (2.0 * h1);
        double s = 2.0 / (h1 * h2 * (h1 + h2));
        rows[1][offset] = s * h2;
        rows[1][offset + 1] = -s * (h1 + h2);
        rows[1][offset + 2] = s * h1;
    }
}
