using Stork.Solvers.Rock4;

namespace Stork.Solvers.Stabilized;

/// <summary>
/// Abdulle's ROCK4 (three-term Chebyshev recurrence of degree m, then a four-stage finishing procedure) run on
/// coefficient vectors. Upstream swaps the two previous stage values after the first stage and takes stage 1's time
/// as the previous-previous stage time; the corrected variant keeps Y_{j-1} = Y_1, Y_{j-2} = Y_0 and their own times.
/// </summary>
internal static class Rock4Recurrence
{
    public static void Run(Rock4Coefficients rc, double t, double h, StageField field, StageBuffers b, bool upstream, Span<double> result)
    {
        int n = field.Size;
        var x = b.X.AsSpan(0, n);
        var f0 = b.F0.AsSpan(0, n);
        var y = b.Y.AsSpan(0, n);
        var y1 = b.Y1.AsSpan(0, n);
        var y2 = b.Y2.AsSpan(0, n);
        var f = b.F.AsSpan(0, n);
        field.Evaluate(t, x, f0);

        // Stage 1: Y1 = x + h mu_1 f(t, x).
        double c1 = t + (h * rc.Mu[1]);
        double c2, c3;
        if (upstream)
        {
            // Y_{j-1} <- x, Y_{j-2} <- x + h mu_1 f0; both previous times <- stage 1's; the running stage stays x.
            // On the noise path upstream's first stage adds the raw model output (epsilon), not the drift
            // (STORKScheduler.step_noise_4, "Y_j_1 = sample + temp1 * model_output"): in coefficients, the basis vector
            // of the current output.
            if (field.IsDrift)
            {
                f0.Clear();
                f0[StageField.CurrentIndex] = 1.0;
            }

            for (int k = 0; k < n; k++)
            {
                y2[k] = x[k] + (h * rc.Mu[1] * f0[k]);
            }

            x.CopyTo(y1);
            x.CopyTo(y);
            c2 = c1;
            c3 = c1;
        }
        else
        {
            for (int k = 0; k < n; k++)
            {
                y1[k] = x[k] + (h * rc.Mu[1] * f0[k]);
            }

            x.CopyTo(y2);
            y1.CopyTo(y);
            c2 = c1;
            c3 = t;
        }

        for (int j = 2; j <= rc.Degree; j++)
        {
            field.Evaluate(c1, y1, f);
            double a = h * rc.Mu[j], bb = 1.0 + rc.Kappa[j], cc = -rc.Kappa[j];
            c1 = a + (bb * c2) + (cc * c3);
            for (int k = 0; k < n; k++)
            {
                y[k] = (a * f[k]) + (bb * y1[k]) + (cc * y2[k]);
            }

            y1.CopyTo(y2);
            y.CopyTo(y1);
            c3 = c2;
            c2 = c1;
        }

        // Finishing procedure (an explicit four-stage Runge-Kutta method from Y at time c1).
        var fpa = rc.Fpa;
        var fpb = rc.Fpb;
        var k1 = b.K1.AsSpan(0, n);
        var k2 = b.K2.AsSpan(0, n);
        var k3 = b.K3.AsSpan(0, n);
        var k4 = b.K4.AsSpan(0, n);
        var z = b.Z.AsSpan(0, n);
        field.Evaluate(c1, y, k1);
        for (int k = 0; k < n; k++)
        {
            z[k] = y[k] + (h * fpa[0] * k1[k]);
        }

        field.Evaluate(c1 + (h * fpa[0]), z, k2);
        for (int k = 0; k < n; k++)
        {
            z[k] = y[k] + (h * ((fpa[1] * k1[k]) + (fpa[2] * k2[k])));
        }

        field.Evaluate(c1 + (h * fpa[1]) + (h * fpa[2]), z, k3);
        for (int k = 0; k < n; k++)
        {
            z[k] = y[k] + (h * ((fpa[3] * k1[k]) + (fpa[4] * k2[k]) + (fpa[5] * k3[k])));
        }

        field.Evaluate(c1 + (h * fpa[3]) + (h * fpa[4]) + (h * fpa[5]), z, k4);
        for (int k = 0; k < n; k++)
        {
            result[k] = y[k] + (h * ((fpb[0] * k1[k]) + (fpb[1] * k2[k]) + (fpb[2] * k3[k]) + (fpb[3] * k4[k])));
        }
    }
}
