using System.CommandLine;
using Stork.Grids;
using Stork.Solvers;
using Stork.Solvers.Stork;

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

    public Option<double?> StoppingEps { get; } = new("--stopping-eps") { Description = "STORK on noise models: stop integrating at this fraction of T (upstream stopping_eps; default 1e-2 upstream, 1e-3 corrected)." };

    public IEnumerable<Option> All => [Scheduler, Steps, Substeps, DerivativeOrder, Variant, Shift, Mu, TimeShift, ShiftTerminal, Spacing, StoppingEps];

    public SolverSettings Read(ParseResult r)
    {
        string variant = r.GetValue(Variant)!;
        var storkVariant = variant.ToLowerInvariant() switch
        {
            "upstream" => StorkVariant.Upstream,
            "corrected" => StorkVariant.Corrected,
            _ => throw new CliException($"--stork-variant must be upstream or corrected (got '{variant}')."),
        };
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
        };
    }
}
