using Stork.Models;
using Stork.Predictions;
using Stork.Schedules;
using Stork.Solvers.Rock4;
using Stork.Solvers.Stabilized;

namespace Stork.Tests.Solvers;

/// <summary>
/// Test oracle: STORK written literally, stage by stage on whole tensors (double), the way the authors' code runs it.
/// Shares no arithmetic with the fused solver except the ROCK4 table and the RKG2 b_j; derivatives of the model output
/// come from a Vandermonde solve (corrected) or the authors' formulas (upstream). The corrected variant expands in lambda(t)
/// on noise models when its options say so, and with the corrector re-runs the previous step from its start once the next
/// output is known (polynomial through that output and the previous step's), before stepping on.
/// </summary>
internal sealed class LiteralStork(IDenoiser model, StorkOptions options, double[] times, double terminal)
{
    private readonly bool _upstream = options.Variant == StorkVariant.Upstream;
    private readonly bool _drift = model.Prediction != Prediction.FlowVelocity;

    // predict-x0: the output kept and expanded is the data prediction, in the ODE dx/dt = (sigma'/sigma) x + (alpha' - alpha sigma'/sigma) x0.
    private readonly bool _x0 = options.DataPrediction;
    private readonly List<double[]> _outputs = [];
    private readonly bool _lambda = options.Variant == StorkVariant.Corrected && model.Prediction != Prediction.FlowVelocity
        && options.TaylorVariable == TaylorVariable.LogSnr;

    /// <summary>The Taylor variable: t, or lambda(t).</summary>
    private double V(double t) => _lambda ? model.Schedule.LogSnr(t) : t;

    public double[] Run(double[] x)
    {
        x = (double[])x.Clone();
        double[]? previousSample = null;
        for (int i = 0; i < times.Length; i++)
        {
            double t = times[i];
            double[] u = Evaluate(x, t);
            _outputs.Insert(0, u);
            double[] seen = x;
            if (!_upstream && options.CorrectsAt(times.Length, !_drift) && i > 0)
            {
                // Step i - 1 again from its start, with the polynomial through u and the outputs its predictor used.
                int qc = Math.Min(options.DerivativeOrder, i - 1) + 1;
                x = Integrate(previousSample!, times[i - 1], t - times[i - 1], u, ExactDerivatives(i, qc), t);
            }

            if (_x0 && i == times.Length - 1 && (_drift || terminal == 0.0))
            {
                // The data prediction of the (corrected) sample: x0 = cx x + cp out, and u is it at the sample the model saw.
                double cx = PredictionConverter.Weights(model.Prediction, Prediction.Sample, model.Schedule, t).Cx;
                return u.Select((v, k) => v + (cx * (x[k] - seen[k]))).ToArray();
            }

            if (_drift && i == times.Length - 1)
            {
                double s = model.Schedule.Sigma(t), a = _upstream ? 1.0 : model.Schedule.Alpha(t);
                return x.Select((v, k) => (v - (s * u[k])) / a).ToArray();
            }

            double tn = i + 1 < times.Length ? times[i + 1] : terminal;
            double h = tn - t;
            double[] next;
            if (_upstream && i == 0)
            {
                next = Axpy(x, h, F(t, x, u));
            }
            else if (_upstream && i == 1 && options.DerivativeOrder == 2)
            {
                double[] f1 = F(t, x, u);
                double[] f0 = F(times[0], previousSample!, _outputs[1]);
                double h0 = _drift ? h : t - times[0];
                next = x.Select((v, k) => v + (1.5 * h * f1[k]) - (0.5 * h0 * f0[k])).ToArray();
            }
            else
            {
                int q = _upstream ? options.DerivativeOrder : Math.Min(options.DerivativeOrder, i);
                var derivatives = _upstream ? UpstreamDerivatives(i, q) : ExactDerivatives(i, q);
                next = Integrate(x, t, h, u, derivatives, t);
            }

            previousSample = x;
            x = next;
        }

        return x;
    }

    /// <summary>One step from (start, x) by h; the model output is u + its Taylor terms about <paramref name="center"/>.</summary>
    private double[] Integrate(double[] x, double start, double h, double[] u, List<double[]> derivatives, double center)
    {
        Func<double, double[], double[]> field = (c, y) => F(c, y, Taylor(u, derivatives, V(c) - V(center)));
        return options.Order == 2 ? Rkg2(x, start, h, field) : Rock4(x, start, h, field, u);
    }

    private double[] Evaluate(double[] x, double t)
    {
        var input = x.Select(v => (float)v).ToArray();
        var output = new float[input.Length];
        model.Predict(input, t, output);
        var target = _x0 ? Prediction.Sample : _drift ? Prediction.Epsilon : Prediction.FlowVelocity;
        var (cx, cp) = PredictionConverter.Weights(model.Prediction, target, model.Schedule, t);
        return output.Select((v, k) => (cp * v) + (cx * x[k])).ToArray();
    }

    private double[] F(double c, double[] y, double[] u)
    {
        double alpha = model.Schedule.Alpha(c), sigma = model.Schedule.Sigma(c);
        double da = model.Schedule.AlphaDerivative(c), ds = model.Schedule.SigmaDerivative(c);
        if (_x0)
        {
            return y.Select((v, k) => (ds / sigma * v) + ((da - (alpha * ds / sigma)) * u[k])).ToArray();
        }

        if (!_drift)
        {
            return u;
        }

        return y.Select((v, k) => (da / alpha * v) + ((ds - (sigma * da / alpha)) * u[k])).ToArray();
    }

    private static double[] Taylor(double[] u, List<double[]> d, double delta)
    {
        var r = (double[])u.Clone();
        double factor = 1.0;
        for (int m = 0; m < d.Count; m++)
        {
            factor *= delta / (m + 1);
            for (int k = 0; k < r.Length; k++)
            {
                r[k] += factor * d[m][k];
            }
        }

        return r;
    }

    private List<double[]> UpstreamDerivatives(int i, int q)
    {
        double h1 = times[i - 1] - times[i];
        var u0 = _outputs[0];
        var u1 = _outputs[1];
        if (q == 1)
        {
            return [u0.Select((v, k) => (u1[k] - v) / h1).ToArray()];
        }

        double h2 = times[i - 2] - times[i - 1];
        var u2 = _outputs[2];
        var d1 = u0.Select((v, k) => (-u2[k] + (4 * u1[k]) - (3 * v)) / (2 * h1)).ToArray();
        var d2 = u0.Select((v, k) => 2 / (h1 * h2 * (h1 + h2)) * ((u2[k] * h1) - (u1[k] * (h1 + h2)) + (v * h2))).ToArray();
        return [d1, d2];
    }

    private List<double[]> ExactDerivatives(int i, int q)
    {
        // Interpolating polynomial p(s) = sum_m a_m s^m / m!, s = tau - t: solve the Vandermonde system per component.
        var result = new List<double[]>();
        if (q == 0)
        {
            return result;
        }

        int n = q + 1, len = _outputs[0].Length;
        var a = new double[n, n];
        for (int r = 0; r < n; r++)
        {
            double s = V(times[i - r]) - V(times[i]);
            double f = 1.0;
            for (int m = 0; m < n; m++)
            {
                a[r, m] = f;
                f *= s / (m + 1);
            }
        }

        for (int m = 1; m < n; m++)
        {
            result.Add(new double[len]);
        }

        for (int k = 0; k < len; k++)
        {
            var rhs = Enumerable.Range(0, n).Select(r => _outputs[r][k]).ToArray();
            var coef = Solve((double[,])a.Clone(), rhs);
            for (int m = 1; m < n; m++)
            {
                result[m - 1][k] = coef[m];
            }
        }

        return result;
    }

    private static double[] Solve(double[,] a, double[] b)
    {
        int n = b.Length;
        for (int c = 0; c < n; c++)
        {
            int p = c;
            for (int r = c + 1; r < n; r++)
            {
                if (Math.Abs(a[r, c]) > Math.Abs(a[p, c]))
                {
                    p = r;
                }
            }

            for (int k = 0; k < n; k++)
            {
                (a[c, k], a[p, k]) = (a[p, k], a[c, k]);
            }

            (b[c], b[p]) = (b[p], b[c]);
            for (int r = c + 1; r < n; r++)
            {
                double f = a[r, c] / a[c, c];
                for (int k = c; k < n; k++)
                {
                    a[r, k] -= f * a[c, k];
                }

                b[r] -= f * b[c];
            }
        }

        var x = new double[n];
        for (int r = n - 1; r >= 0; r--)
        {
            double s = b[r];
            for (int k = r + 1; k < n; k++)
            {
                s -= a[r, k] * x[k];
            }

            x[r] = s / a[r, r];
        }

        return x;
    }

    private static double[] Axpy(double[] x, double a, double[] y) => x.Select((v, k) => v + (a * y[k])).ToArray();

    private static double[] Lin(double a, double[] x, double b, double[] y, double c, double[] z) =>
        x.Select((v, k) => (a * v) + (b * y[k]) + (c * z[k])).ToArray();

    private double[] Rkg2(double[] x, double t, double h, Func<double, double[], double[]> f)
    {
        int s = options.Substeps;
        double[] f0 = f(t, x);
        double w = 6.0 / ((s + 4.0) * (s - 1.0));
        double[] y2 = x, y1 = Axpy(x, h * w, f0);
        for (int j = 2; j <= s; j++)
        {
            double b = Rkg2Recurrence.B(j), bm1 = Rkg2Recurrence.B(j - 1), bm2 = Rkg2Recurrence.B(j - 2);
            double mu = (2.0 * j + 1) * b / (j * bm1), nu = -(j + 1.0) * b / (j * bm2);
            double mt = mu * w, gt = -mt * (1 - (j * (j + 1.0) * bm1 / 2));
            // Upstream: the RKL2 abscissa; corrected: the RKG2 abscissa c_{j-1} of the paper, in closed form.
            double stage = _upstream
                ? (j == 2 ? 4.0 / (3.0 * ((s * s) + s - 2)) : (((j - 1.0) * (j - 1)) + (j - 1) - 2) / ((s * s) + s - 2.0))
                : (j == 2 ? w : (j - 2.0) * (j + 3.0) / ((s + 4.0) * (s - 1.0)));
            double[] fj = f(t + (stage * h), y1);
            double[] y = Lin(mu, y1, nu, y2, 1 - mu - nu, x).Select((v, k) => v + (h * mt * fj[k]) + (h * gt * f0[k])).ToArray();
            (y1, y2) = (y, y1);
        }

        return y1;
    }

    private double[] Rock4(double[] x, double t, double h, Func<double, double[], double[]> f, double[] output)
    {
        var rc = Rock4Table.Default.Select(options.Substeps);

        // Upstream's first stage on noise models adds the model output (epsilon) itself, not the drift.
        double[] stage1 = Axpy(x, h * rc.Mu[1], _upstream && _drift ? output : f(t, x));
        double ci1 = t + (h * rc.Mu[1]), ci2 = ci1, ci3;
        double[] yjm1, yjm2, y;
        if (_upstream)
        {
            (yjm1, yjm2, y, ci3) = (x, stage1, x, ci1);
        }
        else
        {
            (yjm1, yjm2, y, ci3) = (stage1, x, stage1, t);
        }

        for (int j = 2; j <= rc.Degree; j++)
        {
            double[] fj = f(ci1, yjm1);
            double a = h * rc.Mu[j], b = 1 + rc.Kappa[j], c = -rc.Kappa[j];
            ci1 = a + (b * ci2) + (c * ci3);
            y = Lin(1, fj, b, yjm1, c, yjm2).Select((v, k) => v + ((a - 1) * fj[k])).ToArray();
            (yjm2, yjm1) = (yjm1, y);
            (ci3, ci2) = (ci2, ci1);
        }

        var p = rc.Fpa;
        var w = rc.Fpb;
        double[] k1 = f(ci1, y);
        double[] k2 = f(ci1 + (h * p[0]), Axpy(y, h * p[0], k1));
        double[] k3 = f(ci1 + (h * (p[1] + p[2])), Lin(1, y, h * p[1], k1, h * p[2], k2));
        double[] z = Lin(1, y, h * p[3], k1, h * p[4], k2).Select((v, k) => v + (h * p[5] * k3[k])).ToArray();
        double[] k4 = f(ci1 + (h * (p[3] + p[4] + p[5])), z);
        return y.Select((v, k) => v + (h * ((w[0] * k1[k]) + (w[1] * k2[k]) + (w[2] * k3[k]) + (w[3] * k4[k])))).ToArray();
    }
}
