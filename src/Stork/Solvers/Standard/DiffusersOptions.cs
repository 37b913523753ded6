namespace Stork.Solvers.Standard;

/// <summary>
/// The diffusers scheduler options the standard solvers honour (diffusers' names in brackets). A null value means
/// "the default of the scheduler the solver corresponds to".
/// </summary>
public sealed record DiffusersOptions
{
    /// <summary>Training timesteps T [num_train_timesteps].</summary>
    public int TrainSteps { get; init; } = 1000;

    /// <summary>[timestep_spacing]; null: leading for DDIM, linspace otherwise.</summary>
    public TimestepSpacing? Spacing { get; init; }

    /// <summary>[steps_offset].</summary>
    public int StepsOffset { get; init; }

    /// <summary>[final_sigmas_type]; null: sigma_min for DEIS, zero otherwise.</summary>
    public FinalSigmas? FinalSigmas { get; init; }

    /// <summary>[lower_order_final]: lower the order on the last steps when there are fewer than 15.</summary>
    public bool LowerOrderFinal { get; init; } = true;

    /// <summary>DPM-Solver++: [euler_at_final].</summary>
    public bool EulerAtFinal { get; init; }

    /// <summary>DPM-Solver++ second order: [solver_type] heun instead of midpoint.</summary>
    public bool DpmHeun { get; init; }

    /// <summary>DDIM: [clip_sample].</summary>
    public bool ClipSample { get; init; } = true;

    /// <summary>DDIM: [clip_sample_range].</summary>
    public double ClipSampleRange { get; init; } = 1.0;

    /// <summary>DDIM: [set_alpha_to_one].</summary>
    public bool SetAlphaToOne { get; init; } = true;

    /// <summary>UniPC: steps whose corrector is skipped [disable_corrector].</summary>
    public IReadOnlyList<int> DisableCorrector { get; init; } = [];

    /// <summary>
    /// Discrete noise models: the sigma spacing [use_karras_sigmas, use_exponential_sigmas, use_beta_sigmas] of
    /// EulerDiscrete, DPMSolverMultistep, UniPCMultistep and DEISMultistep; the model is evaluated at the timesteps
    /// diffusers derives from those sigmas.
    /// </summary>
    public Grids.SigmaSpacing SigmaSpacing { get; init; } = Grids.SigmaSpacing.Linear;

    /// <summary>First beta [beta_start]: DPM-Solver's sigma_min end point with flow sigmas uses it.</summary>
    public double BetaStart { get; init; } = 0.0001;

    /// <summary>Throws an <see cref="ArgumentException"/> naming the first invalid option.</summary>
    public void Validate()
    {
        if (TrainSteps < 2)
        {
            throw new ArgumentException($"num_train_timesteps must be at least 2 (got {TrainSteps}).");
        }

        if (StepsOffset < 0 || StepsOffset >= TrainSteps)
        {
            throw new ArgumentException($"steps_offset must be in [0, {TrainSteps}) (got {StepsOffset}).");
        }

        if (!(ClipSampleRange > 0))
        {
            throw new ArgumentException($"clip_sample_range must be positive (got {ClipSampleRange}).");
        }
    }
}
