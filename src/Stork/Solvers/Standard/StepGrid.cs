using Stork.Schedules;

namespace Stork.Solvers.Standard;

/// <summary>
/// The nodes a step-by-step solver walks: the model-evaluation times with their (alpha, sigma), and for every step the
/// (alpha, sigma) it lands on. Normally step i lands on node i + 1 and the last step on the terminal node; the terminal
/// node may be the clean end (alpha 1, sigma 0), which no schedule time need represent. All values are double.
/// </summary>
public sealed class StepGrid
{
    private StepGrid(double[] times, double[] alpha, double[] sigma, double[] endAlpha, double[] endSigma)
    {
        Times = times;
        Alpha = alpha;
        Sigma = sigma;
        EndAlpha = endAlpha;
        EndSigma = endSigma;
    }

    /// <summary>Model-evaluation times in schedule units.</summary>
    public double[] Times { get; }

    /// <summary>alpha at each evaluation time.</summary>
    public double[] Alpha { get; }

    /// <summary>sigma at each evaluation time.</summary>
    public double[] Sigma { get; }

    /// <summary>alpha where step i lands.</summary>
    public double[] EndAlpha { get; }

    /// <summary>sigma where step i lands.</summary>
    public double[] EndSigma { get; }

    /// <summary>Number of steps (= evaluation times).</summary>
    public int Count => Times.Length;

    /// <summary>
    /// A grid whose step i lands on evaluation node i + 1 and whose last step lands on <paramref name="terminalTime"/>,
    /// or on the clean end (alpha 1, sigma 0) when it is null.
    /// </summary>
    public static StepGrid Create(NoiseSchedule schedule, IReadOnlyList<double> times, double? terminalTime)
    {
        var (ta, ts) = terminalTime is { } t ? (schedule.Alpha(t), schedule.Sigma(t)) : (1.0, 0.0);
        return Create(schedule, times, ta, ts);
    }

    /// <summary>As <see cref="Create(NoiseSchedule, IReadOnlyList{double}, double?)"/> with an explicit terminal (alpha, sigma).</summary>
    public static StepGrid Create(NoiseSchedule schedule, IReadOnlyList<double> times, double terminalAlpha, double terminalSigma)
    {
        int n = times.Count;
        if (n < 1)
        {
            throw new ArgumentException("a grid needs at least one evaluation time.");
        }

        var a = new double[n];
        var s = new double[n];
        var ea = new double[n];
        var es = new double[n];
        for (int i = 0; i < n; i++)
        {
            double t = times[i];
            if (!double.IsFinite(t))
            {
                throw new ArgumentException($"grid time {i} is not finite.");
            }

            a[i] = schedule.Alpha(t);
            s[i] = schedule.Sigma(t);
        }

        for (int i = 0; i < n - 1; i++)
        {
            ea[i] = a[i + 1];
            es[i] = s[i + 1];
        }

        ea[n - 1] = terminalAlpha;
        es[n - 1] = terminalSigma;
        return new StepGrid(times.ToArray(), a, s, ea, es);
    }

    /// <summary>
    /// A grid whose nodes carry their own (alpha, sigma) rather than the schedule's at their times: diffusers' Karras,
    /// exponential or beta sigmas, whose model-evaluation timesteps are rounded or interpolated apart from the sigmas the
    /// step arithmetic uses. Step i lands on node i + 1, the last on (<paramref name="terminalAlpha"/>, <paramref name="terminalSigma"/>).
    /// </summary>
    public static StepGrid FromNodes(IReadOnlyList<double> times, IReadOnlyList<double> alpha, IReadOnlyList<double> sigma, double terminalAlpha, double terminalSigma)
    {
        int n = times.Count;
        if (n < 1 || alpha.Count != n || sigma.Count != n)
        {
            throw new ArgumentException("a grid needs at least one node, each with a time, an alpha and a sigma.");
        }

        var ea = new double[n];
        var es = new double[n];
        for (int i = 0; i < n - 1; i++)
        {
            ea[i] = alpha[i + 1];
            es[i] = sigma[i + 1];
        }

        ea[n - 1] = terminalAlpha;
        es[n - 1] = terminalSigma;
        return new StepGrid(times.ToArray(), alpha.ToArray(), sigma.ToArray(), ea, es);
    }

    /// <summary>A grid with explicit landing points per step (DDIM's <c>t - T / N</c> rule).</summary>
    public static StepGrid WithEnds(NoiseSchedule schedule, IReadOnlyList<double> times, double[] endAlpha, double[] endSigma)
    {
        var g = Create(schedule, times, null);
        if (endAlpha.Length != g.Count || endSigma.Length != g.Count)
        {
            throw new ArgumentException("one landing point per step is needed.");
        }

        endAlpha.CopyTo(g.EndAlpha, 0);
        endSigma.CopyTo(g.EndSigma, 0);
        return g;
    }

    /// <summary>Half log-SNR log(alpha / sigma) (+infinity at the clean end).</summary>
    public static double Lambda(double alpha, double sigma) => Math.Log(alpha) - Math.Log(sigma);
}
