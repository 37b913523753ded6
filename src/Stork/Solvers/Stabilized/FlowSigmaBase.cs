namespace Stork.Solvers.Stabilized;

/// <summary>The unshifted sigmas STORK's steps start at on a flow model when no pipeline passes its own.</summary>
public enum FlowSigmaBase
{
    /// <summary>
    /// diffusers' FlowMatchEulerDiscreteScheduler grid: <c>linspace(1, 1/T, N)</c> (T training steps), then 0. The last
    /// step only goes from 1/T to 0.
    /// </summary>
    TrainingSigmas,

    /// <summary>
    /// <c>linspace(1, 1/N, N)</c>, then 0 (the sigmas FLUX.1, SD3 and Qwen-Image pass): N equal steps in sigma before
    /// shifting, every one of them doing work.
    /// </summary>
    StepSigmas,
}
