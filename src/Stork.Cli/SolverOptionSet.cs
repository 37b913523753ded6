using System.CommandLine;
using Stork.Grids;
using Stork.Solvers;
using Stork.Solvers.Catalog;
using Stork.Solvers.Diffusers;
using Stork.Solvers.Stabilized;
using Stork.Solvers.Standard;

namespace Stork.Cli;

/// <summary>The options that configure a solver, shared by the commands that run one.</summary>
internal sealed class SolverOptionSet
{
    public Option<string> Scheduler { get; } = new("--scheduler")
    {
        Description = "Solver: " + string.Join(", ", SolverRegistry.Names) + ".",
        DefaultValueFactory = _ => "stork-4",
    };

    public Option<int> Steps { get; } = new("--steps") { Description = "Number of model evaluations (upstream num_inference_steps).", DefaultValueFactory = _ => 10 };

    public Option<int> Substeps { get; } = new("--substeps") { Description = "STORK: stabilised Runge-Kutta stages per step (upstream s).", DefaultValueFactory = _ => 50 };

    public Option<int?> DerivativeOrder { get; } = new("--derivative-order") { Description = "STORK: Taylor derivative order of the virtual evaluations: 1 or 2 upstream (default 1), 1-3 corrected (default 2)." };

    public Option<string> Variant { get; } = new("--stork-variant") { Description = "STORK arithmetic: corrected (the method as published; measured best, see README) or upstream (the authors' code, defects included).", DefaultValueFactory = _ => "corrected" };

    public Option<double> Shift { get; } = new("--shift") { Description = "Flow models: static sigma shift (diffusers shift / flow_shift).", DefaultValueFactory = _ => 1.0 };

    public Option<double?> Mu { get; } = new("--mu") { Description = "Flow models: dynamic shift mu (enables use_dynamic_shifting)." };

    public Option<string> TimeShift { get; } = new("--time-shift") { Description = "Flow models: dynamic shift form, exponential or linear.", DefaultValueFactory = _ => "exponential" };

    public Option<double?> ShiftTerminal { get; } = new("--shift-terminal") { Description = "Flow models: stretch the shifted sigmas to end at this value." };

    public Option<string> Spacing { get; } = new("--sigmas") { Description = "Flow models: sigma spacing, linear, karras, exponential or beta.", DefaultValueFactory = _ => "linear" };

    public Option<double?> StoppingEps { get; } = new("--stopping-eps") { Description = "STORK on noise models: stop integrating at this fraction of T (upstream stopping_eps; default 1e-2 upstream; corrected 1e-3 from 20 steps, 1e-2 below)." };

    public Option<string?> Corrector { get; } = new("--corrector") { Description = "STORK (corrected, derivative order 1 or 2): re-integrate each step with the next model output (UniC-style, no extra evaluation; raises the order by one): on, off or auto (default: on from 20 steps on flow models; see README)." };

    public Option<string?> BaseSigmas { get; } = new("--base-sigmas") { Description = "STORK on flow models: step (linspace(1, 1/N, N) then 0; corrected default) or training (diffusers' linspace(1, 1/T, N) then 0; upstream default)." };

    public Option<int?> SolverOrder { get; } = new("--solver-order") { Description = "Multistep solvers: order (dpm++2m: 2, dpm++3m: 3, unipc: 2, deis: 2 by default; 1 to 3)." };

    public Option<string> UniPcVariant { get; } = new("--unipc-variant") { Description = "UniPC: B(h), bh1 or bh2.", DefaultValueFactory = _ => "bh2" };

    public Option<double> RelativeTolerance { get; } = new("--rtol") { Description = "rk45: relative tolerance.", DefaultValueFactory = _ => 1e-5 };

    public Option<double> AbsoluteTolerance { get; } = new("--atol") { Description = "rk45: absolute tolerance.", DefaultValueFactory = _ => 1e-5 };

    public Option<string> Grid { get; } = new("--grid")
    {
        Description = "Standard solvers' time grid: native (the diffusers scheduler's own timesteps / sigmas and final step: FlowMatch sigmas "
            + "for euler/heun, use_flow_sigmas with flow_shift = --shift for dpm++*/unipc/deis, diffusers' timestep_spacing on noise models), "
            + "flow (FlowMatch sigmas with --shift/--mu/--sigmas; flow models), uniform-time, logsnr or karras (--steps times from the "
            + "noisiest time to 1/T (flow) or 0 (discrete VP) or 1e-3 T (continuous VP), then the clean end).",
        DefaultValueFactory = _ => "native",
    };

    public Option<string?> GridFile { get; } = new("--grid-file")
    {
        Description = "A tuned grid file (stork tune): every solver evaluates the model at its times (one per step, so --steps must match) and ends at the clean data. "
            + "Without it a model card's tuned grid for the solver and step count is the default.",
    };

    public Option<string?> SchedulerConfig { get; } = new("--scheduler-config")
    {
        Description = "A diffusers scheduler_config.json (_class_name + options) selecting the solver, grid and options: "
            + string.Join(", ", SchedulerConfigReader.ClassNames) + ". Unsupported options are errors; omitted ones take diffusers' "
            + "defaults. It replaces --scheduler and the solver options; --steps and --mu still apply.",
    };

    /// <summary>Most model evaluations (--steps, --nfe) a run may ask for.</summary>
    public const int MaxSteps = 10_000;

    /// <summary>Checks a step or NFE count against 1..<see cref="MaxSteps"/>.</summary>
    public static int CheckSteps(int steps, string option) => steps is >= 1 and <= MaxSteps
        ? steps
        : throw new CliException($"{option} must be 1 to {MaxSteps} (got {steps}).");

    /// <summary>--base-sigmas step|training, null when not given.</summary>
    private static FlowSigmaBase? ParseBaseSigmas(string? value)
    {
        try
        {
            return value is null ? null : Evaluation.SolverSpec.ParseFlowSigmas(value);
        }
        catch (ArgumentException e)
        {
            throw new CliException($"--base-sigmas: {e.Message}");
        }
    }

    /// <summary>--grid-file FILE: the tuned grid's times, null when not given.</summary>
    private static IReadOnlyList<double>? ReadGridFile(string? path)
    {
        try
        {
            return path is null ? null : Stork.Grids.TunedGrid.Load(path).Times;
        }
        catch (Exception e) when (e is InvalidDataException or IOException or UnauthorizedAccessException)
        {
            throw new CliException($"--grid-file: {e.Message}");
        }
    }

    /// <summary>--corrector on|off|auto, null when not given.</summary>
    public static CorrectorMode? ParseCorrector(string? value)
    {
        try
        {
            return value is null ? null : Evaluation.SolverSpec.ParseCorrector(value);
        }
        catch (ArgumentException e)
        {
            throw new CliException($"--corrector: {e.Message}");
        }
    }

    public IEnumerable<Option> All => [Scheduler, Steps, Substeps, DerivativeOrder, Variant, Shift, Mu, TimeShift, ShiftTerminal, Spacing, StoppingEps,
        Corrector, BaseSigmas, SolverOrder, UniPcVariant, RelativeTolerance, AbsoluteTolerance, Grid, GridFile, SchedulerConfig];

    /// <summary>The solver name, its settings, and the scheduler configuration when one was given.</summary>
    public (string Name, SolverSettings Settings, SchedulerConfig? Config) Resolve(ParseResult r)
    {
        if (r.GetValue(SchedulerConfig) is not { } path)
        {
            return (r.GetValue(Scheduler)!, Read(r), null);
        }

        Option[] covered = [Scheduler, Substeps, DerivativeOrder, Shift, TimeShift, ShiftTerminal, Spacing, StoppingEps, Corrector, BaseSigmas, SolverOrder, UniPcVariant,
            RelativeTolerance, AbsoluteTolerance, Grid, GridFile];
        foreach (var o in covered)
        {
            if (r.GetResult(o) is { Implicit: false })
            {
                throw new CliException($"{o.Name} cannot be combined with --scheduler-config; set the option in the configuration.");
            }
        }

        if (!File.Exists(path))
        {
            throw new CliException($"scheduler config '{path}' does not exist.");
        }

        SchedulerConfig config;
        try
        {
            config = SchedulerConfigReader.Load(path, r.GetValue(Mu));
        }
        catch (ArgumentException e)
        {
            throw new CliException(FlagNames.Map(e.Message));
        }

        // A STORKScheduler configuration is the authors' code (upstream) unless --stork-variant says otherwise.
        var settings = r.GetResult(Variant) is { Implicit: false }
            ? config.Settings with { StorkVariant = ParseVariant(r.GetValue(Variant)!) }
            : config.Settings;
        return (config.Solver, settings, config);
    }

    private static StorkVariant ParseVariant(string variant) => variant.ToLowerInvariant() switch
    {
        "upstream" => StorkVariant.Upstream,
        "corrected" => StorkVariant.Corrected,
        _ => throw new CliException($"--stork-variant must be upstream or corrected (got '{variant}')."),
    };

    public SolverSettings Read(ParseResult r)
    {
        var storkVariant = ParseVariant(r.GetValue(Variant)!);
        Solvers.Standard.UniPcVariant uniPc;
        GridKind gridKind;
        try
        {
            uniPc = GridKindNames.ParseUniPcVariant(r.GetValue(UniPcVariant)!);
            gridKind = GridKindNames.Parse(r.GetValue(Grid)!);
        }
        catch (ArgumentException e)
        {
            throw new CliException($"--unipc-variant / --grid: {e.Message}");
        }

        if (r.GetValue(SolverOrder) is { } order && order is < 1 or > 3)
        {
            throw new CliException($"--solver-order must be 1, 2 or 3 (got {order}).");
        }
        string ts = r.GetValue(TimeShift)!;
        var timeShift = ts.ToLowerInvariant() switch
        {
            "exponential" => TimeShiftType.Exponential,
            "linear" => TimeShiftType.Linear,
            _ => throw new CliException($"--time-shift must be exponential or linear (got '{ts}')."),
        };
        string sp = r.GetValue(Spacing)!;
        var spacing = sp.ToLowerInvariant() switch
        {
            "linear" => SigmaSpacing.Linear,
            "karras" => SigmaSpacing.Karras,
            "exponential" => SigmaSpacing.Exponential,
            "beta" => SigmaSpacing.Beta,
            _ => throw new CliException($"--sigmas must be linear, karras, exponential or beta (got '{sp}')."),
        };
        var grid = new FlowSigmaOptions
        {
            Shift = r.GetValue(Shift),
            Mu = r.GetValue(Mu),
            TimeShiftType = timeShift,
            ShiftTerminal = r.GetValue(ShiftTerminal),
            Spacing = spacing,
        };
        try
        {
            grid.Validate();
        }
        catch (ArgumentException e)
        {
            throw new CliException(e.Message);
        }

        return new SolverSettings
        {
            FlowGrid = grid,
            StorkVariant = storkVariant,
            Substeps = r.GetValue(Substeps),
            DerivativeOrder = r.GetValue(DerivativeOrder),
            StoppingEps = r.GetValue(StoppingEps),
            Corrector = ParseCorrector(r.GetValue(Corrector)),
            FlowSigmas = ParseBaseSigmas(r.GetValue(BaseSigmas)),
            SolverOrder = r.GetValue(SolverOrder),
            UniPcVariant = uniPc,
            RelativeTolerance = r.GetValue(RelativeTolerance),
            AbsoluteTolerance = r.GetValue(AbsoluteTolerance),
            Grid = gridKind,
            Times = ReadGridFile(r.GetValue(GridFile)),
        };
    }
}
