using Stork.Solvers;

namespace Stork.Pipelines;

/// <summary>
/// A pipeline's denoising loop: for each of the solver's evaluation times, the network on the current latents at
/// exactly that time, an optional look at the prediction (stepwise previews), then the solver's step; progress after
/// each step, cancellation between network calls. Non-finite latents at the end are an error.
/// </summary>
internal static class DenoisingLoop
{
    /// <summary>Called after evaluation <c>step</c> at <c>time</c> with the latents and the model output, before the step.</summary>
    public delegate void Preview(int step, double time, float[] latents, float[] modelOutput);

    /// <summary>The network as the loop calls it: latents and the solver's time in, the model output out.</summary>
    public delegate void Network(ReadOnlySpan<float> latents, double time, Span<float> output);

    public static void Run(Network network, ISolver solver, float[] latents, Preview? preview, IProgress<GenerationProgress>? progress,
        CancellationToken cancellationToken)
    {
        solver.Reset();
        var output = new float[latents.Length];
        var times = solver.Times;
        for (int i = 0; i < times.Count; i++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            network(latents, times[i], output);
            preview?.Invoke(i, times[i], latents, output);
            solver.Step(output, latents);
            progress?.Report(new GenerationProgress(GenerationStage.Denoising, i + 1, times.Count, times[i]));
        }

        if (latents.Any(v => !float.IsFinite(v)))
        {
            throw new InvalidDataException("the denoising loop produced non-finite latents.");
        }
    }
}
