namespace Stork.Solvers.Standard;

/// <summary>The standard solvers, each named after the diffusers scheduler whose grid and rules it follows.</summary>
public enum SolverFamily
{
    /// <summary>FlowMatchEulerDiscreteScheduler (flow) / EulerDiscreteScheduler (noise models).</summary>
    Euler,

    /// <summary>FlowMatchHeunDiscreteScheduler (flow) / HeunDiscreteScheduler (noise models).</summary>
    Heun,

    /// <summary>DDIMScheduler, eta = 0.</summary>
    Ddim,

    /// <summary>DPMSolverMultistepScheduler, dpmsolver++.</summary>
    DpmSolverPlusPlus,

    /// <summary>UniPCMultistepScheduler.</summary>
    UniPc,

    /// <summary>DEISMultistepScheduler.</summary>
    Deis,
}
