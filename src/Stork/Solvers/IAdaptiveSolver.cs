using Stork.Models;
using Stork.Sampling;

namespace Stork.Solvers;

/// <summary>
/// A solver that chooses its evaluation times as it goes (adaptive RK45): it owns its loop. <see cref="ISolver.Times"/>
/// lists the times it evaluated at, once it has run.
/// </summary>
public interface IAdaptiveSolver : ISolver
{
    /// <summary>Integrates from the noise in <paramref name="sample"/> to the end of the grid, in place.</summary>
    void Run(IDenoiser denoiser, Span<float> sample, IProgress<StepInfo>? progress, CancellationToken cancellationToken);
}
