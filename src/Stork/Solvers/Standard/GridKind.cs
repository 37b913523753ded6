namespace Stork.Solvers.Standard;

/// <summary>
/// Which time grid a standard solver walks. <see cref="Native"/> is the grid of the diffusers scheduler the solver
/// corresponds to; the others override it (N evaluation times between fixed end points, then the clean end).
/// </summary>
public enum GridKind
{
    /// <summary>The diffusers scheduler's own timesteps / sigmas and final-step rule.</summary>
    Native,

    /// <summary>Flow models: FlowMatchEulerDiscreteScheduler's sigmas (shift, mu, terminal, spacing).</summary>
    Flow,

    /// <summary>Uniform in schedule time.</summary>
    UniformTime,

    /// <summary>Uniform in half log-SNR.</summary>
    LogSnr,

    /// <summary>Karras et al. (rho = 7) in sigma / alpha.</summary>
    Karras,
}
