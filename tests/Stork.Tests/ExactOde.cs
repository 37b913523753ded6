using Stork.Models;
using Stork.Schedules;

namespace Stork.Tests;

/// <summary>
/// Reference solutions in double: classical RK4 on the probability-flow ODE dx/dt = alpha' E[x0|x] + sigma' E[eps|x]
/// of a Gaussian mixture, with many substeps between the requested times.
/// </summary>
internal static class ExactOde
{
    /// <summary>States at every time of <paramref name="times"/> (index 0 = the start), [times][batch * dim].</summary>
    public static double[][] Trajectory(GaussianMixture gmm, NoiseSchedule schedule, double[] start, double[] times, int substeps = 400)
    {
        var states = new double[times.Length][];
        states[0] = (double[])start.Clone();
        var x = (double[])start.Clone();
        for (int i = 0; i + 1 < times.Length; i++)
        {
            double h = (times[i + 1] - times[i]) / substeps;
            for (int k = 0; k < substeps; k++)
            {
                Rk4(gmm, schedule, x, times[i] + (k * h), h);
            }

            states[i + 1] = (double[])x.Clone();
        }

        return states;
    }

    /// <summary>The velocity field in double.</summary>
    public static double[] Velocity(GaussianMixture gmm, NoiseSchedule schedule, double t, double[] x) =>
        Posterior(gmm, schedule, t, x, (e, x0) => (schedule.AlphaDerivative(t) * x0) + (schedule.SigmaDerivative(t) * e));

    /// <summary>E[eps | x] in double.</summary>
    public static double[] Epsilon(GaussianMixture gmm, NoiseSchedule schedule, double t, double[] x) =>
        Posterior(gmm, schedule, t, x, (e, _) => e);

    private static double[] Posterior(GaussianMixture gmm, NoiseSchedule schedule, double t, double[] x, Func<double, double, double> combine)
    {
        int d = gmm.Dimension;
        var r = new double[x.Length];
        var e = new double[d];
        var x0 = new double[d];
        var scratch = new double[gmm.Components];
        for (int n = 0; n < x.Length / d; n++)
        {
            gmm.Posterior(x.AsSpan(n * d, d), schedule.Alpha(t), schedule.Sigma(t), e, x0, scratch);
            for (int i = 0; i < d; i++)
            {
                r[(n * d) + i] = combine(e[i], x0[i]);
            }
        }

        return r;
    }

    private static void Rk4(GaussianMixture g, NoiseSchedule s, double[] x, double t, double h)
    {
        var k1 = Velocity(g, s, t, x);
        var k2 = Velocity(g, s, t + (h / 2), Add(x, h / 2, k1));
        var k3 = Velocity(g, s, t + (h / 2), Add(x, h / 2, k2));
        var k4 = Velocity(g, s, t + h, Add(x, h, k3));
        for (int i = 0; i < x.Length; i++)
        {
            x[i] += h / 6 * (k1[i] + (2 * k2[i]) + (2 * k3[i]) + k4[i]);
        }
    }

    private static double[] Add(double[] x, double a, double[] y) => x.Select((v, i) => v + (a * y[i])).ToArray();
}
