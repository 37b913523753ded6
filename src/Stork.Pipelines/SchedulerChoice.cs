using Stork.Solvers;
using Stork.Solvers.Catalog;

namespace Stork.Pipelines;

/// <summary>
/// Which solver runs a pipeline's denoising loop: a registered name with its settings (<c>stork-2</c>, <c>dpm++2m</c>,
/// ...), or a diffusers <c>scheduler_config.json</c>. Either way it walks the pipeline's own time grid (FLUX.1: sigmas
/// <c>linspace(1, 1/N, N)</c>, shifted as the model folder's scheduler configuration says, with <c>mu</c> from the
/// image sequence length when it asks for dynamic shifting).
/// </summary>
public sealed record SchedulerChoice
{
    /// <summary>A <see cref="SolverRegistry"/> name.</summary>
    public string? Name { get; init; }

    /// <summary>
    /// Options of the named solver (STORK variant, sub-steps, derivative order, solver order, ...). Its flow grid is
    /// replaced by the pipeline's. In flow pipelines STORK's derivative order defaults to 1 (measured best under guidance).
    /// </summary>
    public SolverSettings? Settings { get; init; }

    /// <summary>A diffusers scheduler configuration file, used in place of the model folder's.</summary>
    public string? ConfigPath { get; init; }

    /// <summary>
    /// With a configuration (the folder's or <see cref="ConfigPath"/>): the STORK arithmetic to use in place of the one
    /// the configuration implies (a <c>STORKScheduler</c> configuration means the authors' code, upstream).
    /// </summary>
    public Solvers.Stabilized.StorkVariant? Variant { get; init; }

    /// <summary>A solver by registry name (see <see cref="SolverRegistry"/>), with optional settings.</summary>
    public static SchedulerChoice Named(string name, SolverSettings? settings = null) => new() { Name = name, Settings = settings };

    /// <summary>A diffusers scheduler configuration file.</summary>
    public static SchedulerChoice FromConfig(string path) => new() { ConfigPath = path };
}
