namespace Stork.Solvers.Stabilized;

/// <summary>
/// Options of a STORK solver (upstream names in brackets), with the defaults of the method as we recommend it: the
/// corrected variant, derivative order 2, a noise grid uniform in log-SNR down to 1e-3 T. Choosing
/// <see cref="StorkVariant.Upstream"/> switches every default that is not set explicitly to the authors' (derivative
/// order 1, their uniform noise grid, stopping_eps 1e-2), so <c>new StorkOptions { Variant = Upstream }</c> is the
/// authors' scheduler and <c>new StorkOptions()</c> the same solver as <c>SolverRegistry.Create("stork-4", ...)</c>.
/// </summary>
public sealed record StorkOptions
{
    private readonly int? _derivativeOrder;
    private readonly double? _stoppingEps;
    private readonly NoiseGrid? _noiseGrid;
    private readonly FlowSigmaBase? _flowSigmas;
    private readonly CorrectorMode? _corrector;
    private readonly TaylorVariable? _taylorVariable;

    /// <summary>
    /// Evaluation times given in place of the grid (a tuned grid, <see cref="Grids.TunedGrid"/>): one per step, strictly
    /// decreasing, the first the schedule's largest time; flow models then step to sigma 0, noise models map the last
    /// evaluation to x0. Null: the variant's own grid.
    /// </summary>
    public IReadOnlyList<double>? Times { get; init; }

    /// <summary>2 (RKG2 stages) or 4 (ROCK4 stages) [solver_order]. Default 4.</summary>
    public int Order { get; init; } = 4;

    /// <summary>Corrected (default: the method as published) or upstream (the authors' code, defects included).</summary>
    public StorkVariant Variant { get; init; } = StorkVariant.Corrected;

    /// <summary>Stabilised Runge-Kutta stages per step [s]. STORK-4 uses the smallest tabulated ROCK4 degree &gt;= it. Default 50.</summary>
    public int Substeps { get; init; } = 50;

    /// <summary>
    /// Order of the Taylor expansion of the model output used by the virtual stages [derivative_order]. Default 2
    /// (corrected), 1 (upstream).
    /// </summary>
    public int DerivativeOrder
    {
        get => _derivativeOrder ?? (Variant == StorkVariant.Upstream ? 1 : 2);
        init => _derivativeOrder = value;
    }

    /// <summary>
    /// Noise models: the time the integration stops at, as a fraction of the schedule's T [stopping_eps]. Default 1e-3
    /// (corrected, from <see cref="AutoCorrectorSteps"/> steps; below, <see cref="StoppingEpsAt"/> gives 1e-2), 1e-2
    /// (upstream).
    /// </summary>
    public double StoppingEps
    {
        get => _stoppingEps ?? (Variant == StorkVariant.Upstream ? 1e-2 : 1e-3);
        init => _stoppingEps = value;
    }

    /// <summary>
    /// The stopping time a solver with <paramref name="steps"/> steps uses: the one set, else the variant's default, except
    /// that the corrected variant stops at 1e-2 T below <see cref="AutoCorrectorSteps"/> steps (measured: with few steps
    /// the last steps between 1e-2 T and 1e-3 T, where a mixture's modes sharpen, cost more than they gain; see the README).
    /// </summary>
    public double StoppingEpsAt(int steps) =>
        _stoppingEps ?? (Variant == StorkVariant.Upstream || steps < AutoCorrectorSteps ? 1e-2 : 1e-3);

    /// <summary>
    /// Noise models: evaluation times uniform in log-SNR (default, corrected) or in time (the authors' spacing; the
    /// upstream variant always uses its own uniform grid).
    /// </summary>
    public NoiseGrid NoiseGrid
    {
        get => _noiseGrid ?? (Variant == StorkVariant.Upstream ? NoiseGrid.UniformTime : NoiseGrid.LogSnr);
        init => _noiseGrid = value;
    }

    /// <summary>
    /// Flow models without a pipeline grid: the unshifted sigmas the steps start at. Default
    /// <see cref="FlowSigmaBase.StepSigmas"/> (corrected: <c>linspace(1, 1/N, N)</c>, then 0, so every evaluation does
    /// work), <see cref="FlowSigmaBase.TrainingSigmas"/> (upstream: diffusers' scheduler grid, ending at the smallest
    /// training sigma). Sigmas a pipeline passes (<see cref="Grids.FlowSigmaOptions.BaseSigmas"/>) take precedence.
    /// </summary>
    public FlowSigmaBase FlowSigmas
    {
        get => _flowSigmas ?? (Variant == StorkVariant.Upstream ? FlowSigmaBase.TrainingSigmas : FlowSigmaBase.StepSigmas);
        init => _flowSigmas = value;
    }

    /// <summary>
    /// Corrected variant: when a step's model output arrives, re-integrate the previous step with the polynomial through
    /// it (UniC-style, in the prediction STORK integrates; no extra model evaluation, still one fused pass per step).
    /// Needs derivative order 1 or 2; raises the order by one. Default <see cref="CorrectorMode.Auto"/> (corrected: on from
    /// <see cref="AutoCorrectorSteps"/> steps on flow models), <see cref="CorrectorMode.Off"/> (upstream).
    /// </summary>
    public CorrectorMode Corrector
    {
        get => _corrector ?? (Variant == StorkVariant.Upstream ? CorrectorMode.Off : CorrectorMode.Auto);
        init => _corrector = value;
    }

    /// <summary>
    /// Flow models: the last step, to sigma 0, is first order: the sample is the model's data prediction at the last
    /// evaluation (as diffusers' multistep solvers end with lower_order_final and final sigma zero, and as the noise path
    /// always ends). False: the last step integrates to sigma 0 like the others. Default false.
    /// </summary>
    public bool LowerOrderFinal { get; init; }

    /// <summary>
    /// Corrected variant: the virtual evaluations expand the data prediction x0 instead of epsilon (noise models) or the
    /// velocity (flow models), and the stages integrate the ODE written over it,
    /// <c>dx/dt = (sigma'/sigma) x + (alpha' - alpha sigma'/sigma) x0</c> (<see cref="Schedules.NoiseSchedule.DataDrift"/>;
    /// on rectified flow <c>dx/dsigma = (x - x0) / sigma</c>): the DPM-Solver++ / UniPC choice of what to extrapolate.
    /// A run that ends at the clean data returns the last evaluation's data prediction. Default false (as published).
    /// </summary>
    public bool DataPrediction { get; init; }

    /// <summary>The step count from which <see cref="CorrectorMode.Auto"/> turns the corrector on (measured; see the README).</summary>
    public const int AutoCorrectorSteps = 20;

    /// <summary>
    /// Whether a solver with <paramref name="steps"/> steps runs the corrector; <see cref="CorrectorMode.Auto"/> runs it on
    /// flow models only (<paramref name="flowModel"/>): on the trained epsilon models it lost at 5 to 20 steps (on the
    /// first one, Frechet distance 1577 vs 569 at 20), although it wins on the analytic noise problems.
    /// </summary>
    public bool CorrectsAt(int steps, bool flowModel) => Corrector switch
    {
        CorrectorMode.On => true,
        CorrectorMode.Auto => flowModel && Variant == StorkVariant.Corrected && DerivativeOrder <= 2 && steps >= AutoCorrectorSteps,
        _ => false,
    };

    /// <summary>
    /// Noise models: the variable of the virtual evaluations' Taylor polynomial. Default
    /// <see cref="TaylorVariable.LogSnr"/> (corrected: epsilon is smooth in lambda, the DPM-Solver observation; measured
    /// 2.4x lower ODE error at 10 evaluations on the public mixture), <see cref="TaylorVariable.Time"/> (upstream).
    /// Flow models always expand the velocity in sigma; setting LogSnr for one is an error.
    /// </summary>
    public TaylorVariable TaylorVariable
    {
        get => _taylorVariable ?? (Variant == StorkVariant.Upstream ? TaylorVariable.Time : TaylorVariable.LogSnr);
        init => _taylorVariable = value;
    }

    /// <summary>Whether <see cref="TaylorVariable"/> was set rather than defaulted.</summary>
    internal bool TaylorVariableIsSet => _taylorVariable is not null;

    /// <summary>Throws an <see cref="ArgumentException"/> naming the first invalid option.</summary>
    public void Validate()
    {
        if (Order is not (2 or 4))
        {
            throw new ArgumentException($"STORK order must be 2 or 4 (got {Order}).");
        }

        int minS = Order == 2 ? 2 : 1;
        int maxS = Order == 2 ? 10_000 : Rock4.Rock4Table.Default.MaxDegree;
        if (Substeps < minS || Substeps > maxS)
        {
            throw new OptionException("substeps", Order == 4
                ? $"must be between 1 and {maxS} for STORK-4, the largest degree of the ROCK4 table (got {Substeps})."
                : $"must be between 2 and {maxS} for STORK-2 (got {Substeps}).");
        }

        int maxD = Variant == StorkVariant.Upstream ? 2 : 3;
        if (DerivativeOrder < 1 || DerivativeOrder > maxD)
        {
            throw new OptionException("derivative-order", Variant == StorkVariant.Upstream
                ? $"must be 1 or 2 for upstream STORK (got {DerivativeOrder}): its order-3 formulas are wrong; the corrected variant has order 3."
                : $"must be 1, 2 or 3 (got {DerivativeOrder}).");
        }

        if (Variant == StorkVariant.Upstream && TaylorVariable != TaylorVariable.Time)
        {
            throw new OptionException("taylor", "logsnr belongs to the corrected variant: upstream STORK expands in time.");
        }

        if (Corrector == CorrectorMode.On && Variant == StorkVariant.Upstream)
        {
            throw new OptionException("corrector", "belongs to the corrected variant: upstream STORK has none.");
        }

        if (DataPrediction && Variant == StorkVariant.Upstream)
        {
            throw new OptionException("predict-x0", "belongs to the corrected variant: upstream STORK expands epsilon.");
        }

        if (Corrector == CorrectorMode.On && DerivativeOrder > 2)
        {
            throw new OptionException("corrector", $"works with derivative order 1 or 2 (got {DerivativeOrder}).");
        }

        if (!(StoppingEps > 0 && StoppingEps < 1))
        {
            throw new OptionException("stopping-eps", $"must be in (0, 1) (got {StoppingEps}).");
        }
    }
}
