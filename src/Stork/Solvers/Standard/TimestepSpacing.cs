namespace Stork.Solvers.Standard;

/// <summary>diffusers' <c>timestep_spacing</c>: how discrete timesteps are picked from the training range.</summary>
public enum TimestepSpacing
{
    /// <summary>Evenly spaced, end points included.</summary>
    Linspace,
    /// <summary>Multiples of the step ratio, counted from 0.</summary>
    Leading,
    /// <summary>Counted back from the last training step.</summary>
    Trailing,
}
