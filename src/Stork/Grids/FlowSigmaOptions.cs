namespace Stork.Grids;

/// <summary>How a flow model's sigma grid is built: the options of diffusers' FlowMatchEulerDiscreteScheduler.</summary>
public sealed record FlowSigmaOptions
{
    /// <summary>Training timesteps T (the training sigmas are 1/T ... 1).</summary>
    public int TrainSteps { get; init; } = 1000;

    /// <summary>Static shift: sigma -> shift sigma / (1 + (shift - 1) sigma). Ignored when <see cref="Mu"/> is set.</summary>
    public double Shift { get; init; } = 1.0;

    /// <summary>Dynamic (resolution-dependent) shift parameter; setting it selects dynamic shifting.</summary>
    public double? Mu { get; init; }

    /// <summary>Form of the dynamic shift.</summary>
    public TimeShiftType TimeShiftType { get; init; } = TimeShiftType.Exponential;

    /// <summary>If set, stretch the shifted grid so that its last sigma equals this value.</summary>
    public double? ShiftTerminal { get; init; }

    /// <summary>Re-space the sigmas (Karras, exponential, beta) between the shifted end points.</summary>
    public SigmaSpacing Spacing { get; init; } = SigmaSpacing.Linear;

    /// <summary>
    /// The unshifted sigmas a pipeline passes (diffusers' <c>set_timesteps(sigmas=...)</c>; FLUX.1, SD3 and Qwen-Image
    /// pass <c>linspace(1, 1/N, N)</c>), in place of the scheduler's own <c>linspace(1, 1/T shifted, N)</c>. They are
    /// then shifted, stretched and re-spaced as usual. Null: the scheduler's own. Its length must be the step count.
    /// </summary>
    public IReadOnlyList<double>? BaseSigmas { get; init; }

    /// <summary>Throws an <see cref="ArgumentException"/> naming the first invalid option (an <see cref="OptionException"/> keyed by the solver option's name).</summary>
    public void Validate()
    {
        if (TrainSteps < 2)
        {
            throw new ArgumentException($"train steps must be at least 2 (got {TrainSteps}).");
        }

        if (!(Shift > 0) || !double.IsFinite(Shift))
        {
            throw new OptionException("shift", $"must be a positive number (got {Shift}).");
        }

        if (Mu is { } mu && (!double.IsFinite(mu) || (TimeShiftType == TimeShiftType.Linear && !(mu > 0))))
        {
            throw new OptionException("mu", $"must be finite (and positive for a linear time shift), got {mu}.");
        }

        if (ShiftTerminal is { } st && !(st > 0 && st < 1))
        {
            throw new OptionException("shift-terminal", $"must be in (0, 1) (got {st}).");
        }

        if (BaseSigmas is { } b)
        {
            for (int i = 0; i < b.Count; i++)
            {
                if (!(b[i] > 0 && b[i] <= 1) || (i > 0 && !(b[i] < b[i - 1])))
                {
                    throw new ArgumentException($"base sigmas must decrease strictly within (0, 1] (sigma {i} is {b[i]}).");
                }
            }
        }
    }
}

/// <summary>Dynamic time-shift form (diffusers' <c>time_shift_type</c>).</summary>
public enum TimeShiftType
{
    /// <summary>exp(mu) / (exp(mu) + (1 / sigma - 1)).</summary>
    Exponential,
    /// <summary>mu / (mu + (1 / sigma - 1)).</summary>
    Linear,
}

/// <summary>How sigmas are spaced between their end points.</summary>
public enum SigmaSpacing
{
    /// <summary>Uniform in sigma.</summary>
    Linear,
    /// <summary>Karras et al. (2022): uniform in sigma^(1/7).</summary>
    Karras,
    /// <summary>Uniform in log sigma.</summary>
    Exponential,
    /// <summary>Quantiles of a Beta(0.6, 0.6) distribution (diffusers' <c>use_beta_sigmas</c>).</summary>
    Beta,
}
