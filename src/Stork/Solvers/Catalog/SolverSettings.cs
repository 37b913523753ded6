using Stork.Grids;
using Stork.Solvers.Stabilized;
using Stork.Solvers.Standard;

namespace Stork.Solvers.Catalog;

/// <summary>
/// Every option a solver may take, with upstream / diffusers defaults. Each solver reads the ones that apply to it
/// (<see cref="SolverRegistry.Reads"/> lists them); each property is set by name and text through its
/// <see cref="SolverOption"/>; <see cref="SolverRegistry"/> builds solvers from a name and these settings.
/// </summary>
public sealed record SolverSettings
{
    /// <summary>Flow-model sigma grid (shift, mu, time-shift type, terminal, spacing).</summary>
    public FlowSigmaOptions FlowGrid { get; init; } = new();

    /// <summary>STORK: which arithmetic (default: corrected, chosen by measurement; see the README).</summary>
    public StorkVariant StorkVariant { get; init; } = StorkVariant.Corrected;

    /// <summary>STORK: stabilised Runge-Kutta stages per step (upstream <c>s</c>).</summary>
    public int Substeps { get; init; } = 50;

    /// <summary>STORK: Taylor derivative order (upstream <c>derivative_order</c>); null: 1 upstream, 2 corrected.</summary>
    public int? DerivativeOrder { get; init; }

    /// <summary>
    /// STORK on noise models: where integration stops, as a fraction of T (upstream <c>stopping_eps</c>);
    /// null: 1e-2 upstream (the authors' default); corrected 1e-3 from 20 steps, 1e-2 below (StorkOptions.StoppingEpsAt).
    /// </summary>
    public double? StoppingEps { get; init; }

    /// <summary>STORK: the no-cost corrector (null: the variant's default, auto corrected, off upstream).</summary>
    public CorrectorMode? Corrector { get; init; }

    /// <summary>STORK on flow models: the last step first order, to the data prediction (null: the solver's default).</summary>
    public bool? LowerOrderFinal { get; init; }

    /// <summary>STORK: expand the data prediction instead of epsilon or the velocity (null: the solver's default, as published).</summary>
    public bool? DataPrediction { get; init; }

    /// <summary>STORK on flow models without pipeline sigmas: the base sigma grid (null: the variant's default).</summary>
    public FlowSigmaBase? FlowSigmas { get; init; }

    /// <summary>STORK on noise models: the Taylor variable (null: log-SNR corrected, time upstream).</summary>
    public TaylorVariable? TaylorVariable { get; init; }

    /// <summary>Multistep solvers: order (DPM-Solver++, UniPC, DEIS); null means the solver's default.</summary>
    public int? SolverOrder { get; init; }

    /// <summary>UniPC: B(h) = h (bh1) or e^h - 1 (bh2).</summary>
    public UniPcVariant UniPcVariant { get; init; } = UniPcVariant.Bh2;

    /// <summary>RK45: relative tolerance.</summary>
    public double RelativeTolerance { get; init; } = 1e-5;

    /// <summary>RK45: absolute tolerance.</summary>
    public double AbsoluteTolerance { get; init; } = 1e-5;

    /// <summary>The time grid of the standard solvers: their diffusers scheduler's own, or an override.</summary>
    public GridKind Grid { get; init; } = GridKind.Native;

    /// <summary>
    /// Evaluation times in place of any grid, for every solver (a tuned grid file, <see cref="Grids.TunedGrid"/>): one
    /// per step, strictly decreasing from the schedule's largest time; the last step goes to the clean end. Null: the
    /// solver's grid (<see cref="Grid"/>, or the model's tuned grid for this solver and step count, <see cref="UseModelGrids"/>).
    /// </summary>
    public IReadOnlyList<double>? Times { get; init; }

    /// <summary>
    /// Whether a solver on its native grid takes the tuned grid the model carries for it and its step count
    /// (<see cref="ModelSpec.TunedGrids"/>, from a model card). Default true; false measures the untuned default.
    /// </summary>
    public bool UseModelGrids { get; init; } = true;

    /// <summary>The diffusers scheduler options of the standard solvers (timestep spacing, final sigmas, DDIM clipping...).</summary>
    public DiffusersOptions Diffusers { get; init; } = new();

    /// <summary>
    /// These settings with the diffusers solvers' training timesteps set to those of <paramref name="schedule"/> when it
    /// has its own (a discrete model trained with other than diffusers' default of 1000).
    /// </summary>
    public SolverSettings WithTrainingTimestepsOf(Schedules.NoiseSchedule schedule)
    {
        ArgumentNullException.ThrowIfNull(schedule);
        return schedule.TrainingTimesteps is int steps && steps != Diffusers.TrainSteps ? this with { Diffusers = Diffusers with { TrainSteps = steps } } : this;
    }

    /// <summary>The STORK options these settings describe, for the given order.</summary>
    public StorkOptions ToStorkOptions(int order)
    {
        bool upstream = StorkVariant == StorkVariant.Upstream;
        var grid = Grid switch
        {
            GridKind.Native => upstream ? NoiseGrid.UniformTime : NoiseGrid.LogSnr,
            GridKind.LogSnr => NoiseGrid.LogSnr,
            GridKind.UniformTime or GridKind.Flow => NoiseGrid.UniformTime,
            _ => throw new OptionException(SolverOption.Grid.Key, $"must be logsnr or uniform-time for STORK on noise models (got {Grid})."),
        };
        if (upstream && grid != NoiseGrid.UniformTime)
        {
            throw new OptionException(SolverOption.Grid.Key, "applies to the corrected STORK variant: upstream STORK uses its own uniform noise grid.");
        }

        var options = new StorkOptions { Order = order, Variant = StorkVariant, Substeps = Substeps, NoiseGrid = grid, Times = Times };
        options = DerivativeOrder is { } d ? options with { DerivativeOrder = d } : options;
        options = Corrector is { } c ? options with { Corrector = c } : options;
        options = FlowSigmas is { } f ? options with { FlowSigmas = f } : options;
        options = TaylorVariable is { } tv ? options with { TaylorVariable = tv } : options;
        options = LowerOrderFinal is { } lof ? options with { LowerOrderFinal = lof } : options;
        options = DataPrediction is { } x0 ? options with { DataPrediction = x0 } : options;
        return StoppingEps is { } eps ? options with { StoppingEps = eps } : options;
    }
}
