using Stork.Predictions;

namespace Stork.Cli;

/// <summary>
/// What the chosen solver or scheduler configuration implies about the model when the command line does not say:
/// the noise schedule kind (discrete alphas_cumprod for the diffusers solvers, STORK's continuous VP for STORK) and
/// the configuration's prediction type and betas.
/// </summary>
internal sealed record ModelDefaults
{
    /// <summary>Noise models: discrete VP (true) or continuous linear VP (false) when --noise-schedule is not given.</summary>
    public bool DiscreteNoise { get; init; }

    public Prediction? Prediction { get; init; }

    public string? BetaSchedule { get; init; }

    public double? BetaStart { get; init; }

    public double? BetaEnd { get; init; }

    public int? TrainSteps { get; init; }
}
