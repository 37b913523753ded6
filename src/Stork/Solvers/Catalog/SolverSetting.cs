namespace Stork.Solvers.Catalog;

/// <summary>
/// One property of <see cref="SolverSettings"/>: what a solver family declares it reads (<see cref="SolverRegistry.Reads"/>),
/// so that a front end can refuse a setting the chosen solver would ignore.
/// </summary>
public enum SolverSetting
{
    /// <summary><see cref="SolverSettings.FlowGrid"/>: the flow-model sigma grid (flow models only).</summary>
    FlowGrid,

    /// <summary><see cref="SolverSettings.StorkVariant"/>.</summary>
    StorkVariant,

    /// <summary><see cref="SolverSettings.Substeps"/>.</summary>
    Substeps,

    /// <summary><see cref="SolverSettings.DerivativeOrder"/>.</summary>
    DerivativeOrder,

    /// <summary><see cref="SolverSettings.StoppingEps"/> (noise models only).</summary>
    StoppingEps,

    /// <summary><see cref="SolverSettings.SolverOrder"/>.</summary>
    SolverOrder,

    /// <summary><see cref="SolverSettings.UniPcVariant"/>.</summary>
    UniPcVariant,

    /// <summary><see cref="SolverSettings.RelativeTolerance"/>.</summary>
    RelativeTolerance,

    /// <summary><see cref="SolverSettings.AbsoluteTolerance"/>.</summary>
    AbsoluteTolerance,

    /// <summary><see cref="SolverSettings.Grid"/>.</summary>
    Grid,

    /// <summary><see cref="SolverSettings.Diffusers"/>.</summary>
    Diffusers,

    /// <summary><see cref="SolverSettings.Corrector"/> (STORK).</summary>
    Corrector,

    /// <summary><see cref="SolverSettings.FlowSigmas"/> (STORK on flow models).</summary>
    BaseSigmas,
}
