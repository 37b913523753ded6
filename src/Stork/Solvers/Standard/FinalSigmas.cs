namespace Stork.Solvers.Standard;

/// <summary>diffusers' <c>final_sigmas_type</c>: where the last step lands.</summary>
public enum FinalSigmas
{
    /// <summary>The clean end (sigma 0): the last step returns the data prediction.</summary>
    Zero,

    /// <summary>The smallest training noise level.</summary>
    SigmaMin,
}
