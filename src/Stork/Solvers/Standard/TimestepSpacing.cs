namespace Stork.Solvers.Standard;

/// <summary>diffusers' <c>timestep_spacing</c>: how discrete timesteps are picked from the training range.</summary>
public enum TimestepSpacing
{
    Linspace,
    Leading,
    Trailing,
}
