using Stork.Models;
using Stork.Solvers;

namespace Stork.Sampling;

/// <summary>The sampling loop: one model call per evaluation time, then one solver step.</summary>
public static class Sampler
{
    /// <summary>
    /// Runs <paramref name="solver"/> over <paramref name="denoiser"/> from the initial noise in <paramref name="sample"/>
    /// (batch x sample size), leaving the result there. Reports after every evaluation; honours cancellation between them.
    /// </summary>
    public static void Run(IDenoiser denoiser, ISolver solver, Span<float> sample, IProgress<StepInfo>? progress = null,
        CancellationToken cancellationToken = default)
    {
        if (solver is IAdaptiveSolver adaptive)
        {
            adaptive.Run(denoiser, sample, progress, cancellationToken);
            return;
        }

        int size = SampleSize(denoiser);
        if (sample.Length == 0 || sample.Length % size != 0)
        {
            throw new ArgumentException($"the sample buffer holds {sample.Length} floats, not a whole batch of {size}.");
        }

        solver.Reset();
        var output = new float[sample.Length];
        var times = solver.Times;
        for (int i = 0; i < times.Count; i++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            denoiser.Predict(sample, times[i], output);
            solver.Step(output, sample);
            progress?.Report(new StepInfo(i + 1, times.Count, times[i]));
        }
    }

    /// <summary>Floats per sample of a denoiser.</summary>
    public static int SampleSize(IDenoiser denoiser)
    {
        int n = 1;
        foreach (int d in denoiser.SampleShape)
        {
            n *= d;
        }

        return n;
    }
}
