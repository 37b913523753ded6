using Stork.Predictions;
using Stork.Solvers.Catalog;

namespace Stork.Solvers.Diffusers;

/// <summary>
/// What a diffusers <c>scheduler_config.json</c> selects: a registered solver with its settings, and what it says about
/// the model (parameterisation, betas, training steps, and whether its noise path is STORK's continuous VP).
/// </summary>
public sealed record SchedulerConfig
{
    /// <summary>The <c>_class_name</c>.</summary>
    public required string ClassName { get; init; }

    /// <summary>The registered solver name (<see cref="SolverRegistry"/>).</summary>
    public required string Solver { get; init; }

    /// <summary>The solver settings the configuration maps to.</summary>
    public required SolverSettings Settings { get; init; }

    /// <summary>The model's parameterisation [prediction_type].</summary>
    public required Prediction Prediction { get; init; }

    /// <summary>[beta_schedule].</summary>
    public string BetaSchedule { get; init; } = "linear";

    /// <summary>[beta_start].</summary>
    public double BetaStart { get; init; } = 0.0001;

    /// <summary>[beta_end].</summary>
    public double BetaEnd { get; init; } = 0.02;

    /// <summary>[num_train_timesteps].</summary>
    public int TrainSteps { get; init; } = 1000;

    /// <summary>
    /// True when a noise model should use the continuous linear VP through the first and last beta (STORKScheduler's
    /// noise path); false for the discrete alphas_cumprod every other diffusers scheduler uses.
    /// </summary>
    public bool ContinuousNoise { get; init; }
}
