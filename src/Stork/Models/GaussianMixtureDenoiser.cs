using Stork.Predictions;
using Stork.Schedules;

namespace Stork.Models;

/// <summary>
/// The exact denoiser of a <see cref="GaussianMixture"/> under any schedule and parameterisation, computed in double:
/// the output is <c>P E[x0|x] + Q E[eps|x]</c> for the linear form (P, Q) of the requested prediction.
/// </summary>
public sealed class GaussianMixtureDenoiser : IDenoiser
{
    private readonly GaussianMixture _mixture;

    /// <summary>The exact denoiser of <paramref name="mixture"/> noised along <paramref name="schedule"/>, predicting <paramref name="prediction"/>.</summary>
    public GaussianMixtureDenoiser(GaussianMixture mixture, NoiseSchedule schedule, Prediction prediction)
    {
        _mixture = mixture;
        Schedule = schedule;
        Prediction = prediction;
        SampleShape = [mixture.Dimension];
    }

    /// <inheritdoc />
    public Prediction Prediction { get; }

    /// <inheritdoc />
    public NoiseSchedule Schedule { get; }

    /// <inheritdoc />
    public IReadOnlyList<int> SampleShape { get; }

    /// <summary>The data distribution.</summary>
    public GaussianMixture Mixture => _mixture;

    /// <inheritdoc />
    public void Predict(ReadOnlySpan<float> samples, double time, Span<float> output)
    {
        int d = _mixture.Dimension;
        if (samples.Length % d != 0 || output.Length != samples.Length)
        {
            throw new ArgumentException($"samples must be [batch, {d}] and output the same size.");
        }

        double a = Schedule.Alpha(time), b = Schedule.Sigma(time);
        var (p, q) = PredictionConverter.Form(Prediction, Schedule, time);
        Span<double> e = d <= 512 ? stackalloc double[d] : new double[d];
        Span<double> x0 = d <= 512 ? stackalloc double[d] : new double[d];
        Span<double> scratch = _mixture.Components <= 512 ? stackalloc double[_mixture.Components] : new double[_mixture.Components];
        Span<double> xd = d <= 512 ? stackalloc double[d] : new double[d];
        for (int n = 0; n < samples.Length / d; n++)
        {
            var xs = samples.Slice(n * d, d);
            for (int i = 0; i < d; i++)
            {
                xd[i] = xs[i];
            }

            _mixture.Posterior(xd, a, b, e, x0, scratch);
            var o = output.Slice(n * d, d);
            for (int i = 0; i < d; i++)
            {
                o[i] = (float)((p * x0[i]) + (q * e[i]));
            }
        }
    }
}
