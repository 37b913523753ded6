using Stork.Models;

namespace Stork.Solvers;

/// <summary>
/// An ODE integrator that chooses its evaluation times as it goes (adaptive RK45) and therefore owns its loop. It is not
/// an <see cref="ISolver"/>: there is no step for a caller to drive, so callers dispatch to it explicitly
/// (<c>Sampler.Integrate</c> runs it; text-to-image pipelines, which drive fixed steps, refuse it).
/// </summary>
public interface IAdaptiveIntegrator
{
    /// <summary>The model-evaluation times of the last run, in the order they were evaluated (empty before a run).</summary>
    IReadOnlyList<double> Times { get; }

    /// <summary>
    /// Integrates from the noise in <paramref name="sample"/> to the end of the schedule, in place. Reports the time
    /// reached after every accepted step; honours cancellation between steps.
    /// </summary>
    void Integrate(IDenoiser denoiser, Span<float> sample, IProgress<double>? progress, CancellationToken cancellationToken);
}
