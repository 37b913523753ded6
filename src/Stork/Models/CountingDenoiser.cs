using Stork.Predictions;
using Stork.Schedules;

namespace Stork.Models;

/// <summary>Wraps a denoiser and counts its evaluations (the honest NFE of a run).</summary>
public sealed class CountingDenoiser(IDenoiser inner) : IDenoiser
{
    /// <summary>Number of <see cref="Predict"/> calls so far.</summary>
    public int Evaluations { get; private set; }

    /// <inheritdoc />
    public Prediction Prediction => inner.Prediction;

    /// <inheritdoc />
    public NoiseSchedule Schedule => inner.Schedule;

    /// <inheritdoc />
    public IReadOnlyList<int> SampleShape => inner.SampleShape;

    /// <inheritdoc />
    public IReadOnlyList<Grids.TunedGrid> TunedGrids => inner.TunedGrids;

    /// <inheritdoc />
    public IReadOnlyDictionary<string, string> SolverOptions => inner.SolverOptions;

    /// <inheritdoc />
    public void Predict(ReadOnlySpan<float> samples, double time, Span<float> output)
    {
        Evaluations++;
        inner.Predict(samples, time, output);
    }
}
