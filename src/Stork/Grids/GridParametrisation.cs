using Stork.Schedules;

namespace Stork.Grids;

/// <summary>
/// A monotone parametrisation of an N-step grid by N free numbers (logits): the grid runs in a coordinate u from the
/// schedule's largest time to its default end (flow models: u = sigma, from 1 to 0; noise models: u = log-SNR, from
/// lambda(T) to lambda(end)), and the softmax of the logits gives the N increments of u: N - 1 between the evaluation
/// times and the last one from the final evaluation to the end. Any logits give a valid, strictly decreasing grid that
/// starts at T and stays inside the model's range.
/// </summary>
public sealed class GridParametrisation
{
    private readonly NoiseSchedule _schedule;
    private readonly double _u0;
    private readonly double _uEnd;

    /// <summary>The parametrisation of <paramref name="steps"/>-step grids on <paramref name="schedule"/>.</summary>
    public GridParametrisation(NoiseSchedule schedule, int steps)
        : this(schedule, steps, null)
    {
    }

    /// <summary>
    /// The parametrisation of <paramref name="steps"/>-step grids on <paramref name="schedule"/> ending at
    /// <paramref name="endTime"/> on noise models (where the solver stops and takes the data prediction; null: the
    /// schedule's default end).
    /// </summary>
    public GridParametrisation(NoiseSchedule schedule, int steps, double? endTime)
    {
        ArgumentNullException.ThrowIfNull(schedule);
        if (steps < 1)
        {
            throw new ArgumentException($"steps must be at least 1 (got {steps}).", nameof(steps));
        }

        _schedule = schedule;
        Steps = steps;
        Flow = schedule.IsFlowMatching;
        _u0 = U(schedule.TMax);
        double end = Flow ? schedule.TMin : endTime ?? schedule.DefaultEndTime;
        if (!Flow && !(end >= schedule.TMin && end < schedule.TMax))
        {
            throw new ArgumentException($"the end time {end} must lie in [{schedule.TMin}, {schedule.TMax}).", nameof(endTime));
        }

        EndTime = end;
        _uEnd = U(end);
    }

    /// <summary>Where the grids end (flow: the data end; noise: where the solver stops and takes the data prediction).</summary>
    public double EndTime { get; }

    /// <summary>Number of steps (evaluation times), also the number of logits.</summary>
    public int Steps { get; }

    private bool Flow { get; }

    private double U(double t) => Flow ? t : _schedule.LogSnr(t);

    /// <summary>The evaluation times of <paramref name="logits"/>.</summary>
    public double[] Times(IReadOnlyList<double> logits)
    {
        ArgumentNullException.ThrowIfNull(logits);
        if (logits.Count != Steps)
        {
            throw new ArgumentException($"{logits.Count} logits for {Steps} steps.");
        }

        double max = logits.Max();
        var w = logits.Select(z => Math.Exp(z - max)).ToArray();
        double total = w.Sum();
        var times = new double[Steps];
        times[0] = _schedule.TMax;
        double acc = 0;
        for (int k = 1; k < Steps; k++)
        {
            acc += w[k - 1] / total;
            double u = _u0 + ((_uEnd - _u0) * acc);
            double t = Flow ? u : _schedule.TimeOfLogSnr(u);
            times[k] = Math.Clamp(t, _schedule.TMin, _schedule.TMax);
        }

        return times;
    }

    /// <summary>
    /// Logits whose grid is <paramref name="times"/> (a solver's default grid, the starting point of a search); an
    /// increment below 1e-4 of the range (a grid that ends at the end point itself) is raised to it.
    /// </summary>
    public double[] Logits(IReadOnlyList<double> times)
    {
        ArgumentNullException.ThrowIfNull(times);
        if (times.Count != Steps)
        {
            throw new ArgumentException($"{times.Count} times for {Steps} steps.");
        }

        var z = new double[Steps];
        double span = _uEnd - _u0;
        for (int k = 0; k < Steps; k++)
        {
            double from = k == 0 ? _u0 : U(times[k]);
            double to = k + 1 < Steps ? U(times[k + 1]) : _uEnd;
            z[k] = Math.Log(Math.Max((to - from) / span, 1e-4));
        }

        return z;
    }
}
