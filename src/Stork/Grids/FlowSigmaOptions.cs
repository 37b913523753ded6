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

    public void Validate()
    {
        if (TrainSteps < 2)
        {
            throw new ArgumentException($"train steps must be at least 2 (got {TrainSteps}).");
        }

        if (!(Shift > 0) || !double.IsFinite(Shift))
        {
            throw new ArgumentException($"shift must be a positive number (got {Shift}).");
        }

        if (Mu is { } mu && (!double.IsFinite(mu) || (TimeShiftType == TimeShiftType.Linear && !(mu > 0))))
        {
            throw new ArgumentException($"mu must be finite (and positive for a linear time shift), got {mu}.");
        }

        if (ShiftTerminal is { } st && !(st > 0 && st < 1))
        {
            throw new ArgumentException($"shift_terminal must be in (0, 1) (got {st}).");
        }
    }
}

/// <summary>Dynamic time-shift form (diffusers' <c>time_shift_type</c>).</summary>
public enum TimeShiftType
{
    Exponential,
    Linear,
}

/// <summary>How sigmas are spaced between their end points.</summary>
public enum SigmaSpacing
{
    Linear,
    Karras,
    Exponential,
    Beta,
}
