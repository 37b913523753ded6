namespace Stork.Solvers.Stabilized;

/// <summary>
/// The s-stage second-order Runge-Kutta-Gegenbauer recurrence (Skaras, O'Sullivan, Meyer, Ramos; J. Comput. Phys. 2021)
/// run on coefficient vectors. Upstream evaluates stage j's virtual output at the Runge-Kutta-Legendre abscissa;
/// the corrected variant uses the RKG2 abscissae, obtained by running the same recurrence on f = 1.
/// </summary>
internal static class Rkg2Recurrence
{
    /// <summary>b_j of RKG2 (b_0 = 1, b_1 = 1/3 as upstream).</summary>
    public static double B(int j) => j switch
    {
        0 => 1.0,
        1 => 1.0 / 3.0,
        _ => 4.0 * (j - 1) * (j + 4) / (3.0 * j * (j + 1) * (j + 2) * (j + 3)),
    };

    /// <summary>Writes into <paramref name="result"/> the coefficients of one step from t to t + h (h may be negative).</summary>
    public static void Run(int s, double t, double h, StageField field, StageBuffers b, bool upstream, Span<double> result)
    {
        int n = field.Size;
        var x = b.X.AsSpan(0, n);
        var f0 = b.F0.AsSpan(0, n);
        var y = b.Y.AsSpan(0, n);
        var y1 = b.Y1.AsSpan(0, n);
        var y2 = b.Y2.AsSpan(0, n);
        var f = b.F.AsSpan(0, n);
        field.Evaluate(t, x, f0);

        double w = 6.0 / ((s + 4.0) * (s - 1.0));
        x.CopyTo(y2);
        for (int k = 0; k < n; k++)
        {
            y1[k] = x[k] + (h * w * f0[k]);
        }

        double c2 = 0.0, c1 = w;
        for (int j = 2; j <= s; j++)
        {
            double mu = (2.0 * j + 1.0) * B(j) / (j * B(j - 1));
            double nu = -(j + 1.0) * B(j) / (j * B(j - 2));
            double muTilde = mu * w;
            double gammaTilde = -muTilde * (1.0 - (j * (j + 1.0) * B(j - 1) / 2.0));
            double stage = upstream
                ? (j == 2 ? 4.0 / (3.0 * ((s * s) + s - 2.0)) : ((double)((j - 1) * (j - 1)) + (j - 1) - 2.0) / ((s * s) + s - 2.0))
                : c1;
            field.Evaluate(t + (stage * h), y1, f);
            for (int k = 0; k < n; k++)
            {
                y[k] = (mu * y1[k]) + (nu * y2[k]) + ((1.0 - mu - nu) * x[k]) + (h * muTilde * f[k]) + (h * gammaTilde * f0[k]);
            }

            double c = (mu * c1) + (nu * c2) + muTilde + gammaTilde;
            c2 = c1;
            c1 = c;
            y1.CopyTo(y2);
            y.CopyTo(y1);
        }

        y1.CopyTo(result);
    }
}
