using Stork.Models;
using Stork.Solvers;

namespace Stork.Sampling;

/// <summary>
/// A look at the loop (k-diffusion's <c>callback</c>): evaluation <paramref name="step"/> at <paramref name="time"/>
/// with the sample and the model output. After the step the sample may be changed in place (an inpainting blend).
/// </summary>
public delegate void StepCallback(int step, double time, Span<float> sample, ReadOnlySpan<float> modelOutput);

/// <summary>The sampling loop: one model call per evaluation time, then one solver step.</summary>
public static class Sampler
{
    /// <summary>
    /// Runs <paramref name="solver"/> over <paramref name="denoiser"/> from the initial noise in <paramref name="sample"/>
    /// (batch x sample size), leaving the result there. Reports after every evaluation; honours cancellation between them.
    /// The callbacks (k-diffusion's <c>callback</c>): <paramref name="evaluated"/> after each model evaluation, before the
    /// solver's step (the sample is the one the model saw: previews of the predicted clean sample); <paramref name="stepped"/>
    /// after each step (the sample is the new one: checks, blends).
    /// </summary>
    [System.Diagnostics.CodeAnalysis.SuppressMessage("Design", "CA1068:CancellationToken parameters must come last",
        Justification = "The callbacks came after progress and cancellation; callers that pass those two by position stay source-compatible.")]
    public static void Run(IDenoiser denoiser, ISolver solver, Span<float> sample, IProgress<StepInfo>? progress = null,
        CancellationToken cancellationToken = default, StepCallback? evaluated = null, StepCallback? stepped = null)
    {
        ArgumentNullException.ThrowIfNull(denoiser);
        ArgumentNullException.ThrowIfNull(solver);
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
            evaluated?.Invoke(i, times[i], sample, output);
            solver.Step(output, sample);
            stepped?.Invoke(i, times[i], sample, output);
            progress?.Report(new StepInfo(i + 1, times.Count, times[i]));
        }
    }

    /// <summary>
    /// Runs the adaptive <paramref name="integrator"/> over <paramref name="denoiser"/> from the initial noise in
    /// <paramref name="sample"/>, leaving the result there. Reports after every accepted step (the total is 0: unknown in
    /// advance); honours cancellation between steps.
    /// </summary>
    public static void Integrate(IDenoiser denoiser, IAdaptiveIntegrator integrator, Span<float> sample, IProgress<StepInfo>? progress = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(integrator);
        var reached = progress is null ? null : new AcceptedSteps(integrator, progress);
        integrator.Integrate(denoiser, sample, reached, cancellationToken);
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

    // An accepted step of an adaptive integrator as sampling progress: evaluations so far, total unknown, time reached.
    private sealed class AcceptedSteps(IAdaptiveIntegrator integrator, IProgress<StepInfo> progress) : IProgress<double>
    {
        public void Report(double value) => progress.Report(new StepInfo(integrator.Times.Count, 0, value));
    }
}
