using System.CommandLine;
using Stork.IO;
using Stork.Pipelines;
using Stork.Solvers;
using Stork.Solvers.Catalog;
using Stork.Solvers.Diffusers;

namespace Stork.Cli;

/// <summary>
/// The options that configure a solver, shared by the commands that run one: <c>--scheduler</c>, <c>--steps</c>,
/// <c>--scheduler-config</c> and one flag <c>--KEY</c> per <see cref="SolverOption"/> (the table declares each once;
/// library errors carry the key, which <see cref="CliApp"/> maps back to the flag). A flag the chosen solvers do not
/// read, or that does not apply to the model, is an error (<see cref="SolverOption.CheckApplies"/>).
/// </summary>
internal sealed class SolverOptionSet
{
    private readonly List<(Option<string?> Flag, SolverOption Option)> _flags;

    /// <summary>The set for <c>sample</c>-like commands, or with <paramref name="pipelines"/> the options a text-to-image pipeline takes.</summary>
    public SolverOptionSet(bool pipelines = false)
    {
        Pipelines = pipelines;
        string names = string.Join(", ", SolverRegistry.Names);
        Scheduler = pipelines
            ? new("--scheduler") { Description = PipelineHelp.Scheduler + " Options may follow in brackets, e.g. stork-4[grid-file=F] (a stork tune grid)." }
            : new("--scheduler") { Description = $"Solver: {names}.", DefaultValueFactory = _ => "stork-4" };
        SchedulerConfig = new("--scheduler-config")
        {
            Description = pipelines
                ? "A diffusers scheduler_config.json in place of the model's (a STORKScheduler configuration runs the authors' arithmetic unless --stork-variant says otherwise)."
                : "A diffusers scheduler_config.json (_class_name + options) selecting the solver, grid and options: "
                    + string.Join(", ", SchedulerConfigReader.ClassNames) + ". Unsupported options are errors; omitted ones take diffusers' "
                    + "defaults. It replaces --scheduler and the solver options; --steps, --mu and --stork-variant still apply.",
        };
        // Pipelines take the options they read, and on the command line a tuned grid file (not over HTTP: the server reads no paths).
        _flags = SolverOption.All.Where(o => o.CommandLine && (!pipelines || o.Pipelines || o == SolverOption.GridFile))
            .Select(o => (new Option<string?>("--" + o.Key) { Description = pipelines ? PipelineHelp.SolverOption(o) : o.Description }, o)).ToList();
    }

    /// <summary>Whether this is the pipelines' set (no --steps; the pipeline picks the grid).</summary>
    public bool Pipelines { get; }

    public Option<string?> Scheduler { get; }

    public Option<int> Steps { get; } = new("--steps") { Description = "Number of model evaluations (upstream num_inference_steps).", DefaultValueFactory = _ => 10 };

    public Option<string?> SchedulerConfig { get; }

    /// <summary>The flags that set solver options (the defaults of <c>compare</c> and <c>bench</c>).</summary>
    public IEnumerable<Option> Settings => _flags.Select(f => f.Flag);

    /// <summary>Every option of the set.</summary>
    public IEnumerable<Option> All => Pipelines ? [Scheduler, .. Settings, SchedulerConfig] : [Scheduler, Steps, .. Settings, SchedulerConfig];

    /// <summary>Most model evaluations (--steps, --nfe) a run may ask for.</summary>
    public const int MaxSteps = 10_000;

    /// <summary>Checks a step or NFE count against 1..<see cref="MaxSteps"/>.</summary>
    public static int CheckSteps(int steps, string option) => steps is >= 1 and <= MaxSteps
        ? steps
        : throw new CliException($"{option} must be 1 to {MaxSteps} (got {steps}).");

    /// <summary>The solver options given on the command line, with their text.</summary>
    private IEnumerable<(SolverOption Option, string Value)> Given(ParseResult r) =>
        _flags.Where(f => r.GetResult(f.Flag) is { Implicit: false }).Select(f => (f.Option, r.GetValue(f.Flag)!));

    /// <summary>The settings the given flags describe, on top of the defaults.</summary>
    public SolverSettings Read(ParseResult r)
    {
        var settings = new SolverSettings();
        foreach (var (option, value) in Given(r))
        {
            settings = option.Apply(settings, value);
        }

        settings.FlowGrid.Validate();
        return settings;
    }

    /// <summary>Refuses every given flag that none of <paramref name="solvers"/> reads or that does not apply to <paramref name="model"/> (when known).</summary>
    public void Check(ParseResult r, IReadOnlyCollection<string> solvers, ModelSpec? model)
    {
        foreach (var (option, _) in Given(r))
        {
            option.CheckApplies(solvers, model);
        }
    }

    /// <summary>The solver name, its settings, and the scheduler configuration when one was given.</summary>
    public (string Name, SolverSettings Settings, SchedulerConfig? Config) Resolve(ParseResult r)
    {
        if (r.GetValue(SchedulerConfig) is not { } path)
        {
            return (r.GetValue(Scheduler)!, Read(r), null);
        }

        RefuseWithConfig(r, [Scheduler], SolverOption.Mu);
        if (!File.Exists(path))
        {
            throw new CliException($"scheduler config '{path}' does not exist.");
        }

        var config = SchedulerConfigReader.Load(path, Given(r).Any(g => g.Option == SolverOption.Mu) ? Read(r).FlowGrid.Mu : null);
        return (config.Solver, Variant(r, config.Settings), config);
    }

    /// <summary>
    /// The pipeline's scheduler: the model's own (null), a configuration file, or a named solver with the given options,
    /// checked against the solver (the pipeline picks the grid for the model).
    /// </summary>
    public SchedulerChoice? ResolveChoice(ParseResult r)
    {
        string? name = r.GetValue(Scheduler);
        string? path = r.GetValue(SchedulerConfig);
        if (name is not null && path is not null)
        {
            throw new CliException("give either --scheduler or --scheduler-config, not both.");
        }

        var variant = Given(r).Any(g => g.Option == SolverOption.StorkVariant) ? Read(r).StorkVariant : (Solvers.Stabilized.StorkVariant?)null;
        if (path is not null)
        {
            RefuseWithConfig(r, []);
            InputFile.Check(path, "scheduler config", InputFile.MaxTextBytes);
            return new SchedulerChoice { ConfigPath = path, Variant = variant };
        }

        if (name is null)
        {
            if (Given(r).Any(g => g.Option != SolverOption.StorkVariant))
            {
                throw new CliException("solver options need --scheduler (the model's own scheduler configuration takes none).");
            }

            return variant is null ? null : new SchedulerChoice { Variant = variant };
        }

        if (name.Contains('[', StringComparison.Ordinal))
        {
            // A spec with options in brackets (as bench and tune take), on top of the flags: e.g. stork-4[grid-file=F].
            var spec = Stork.Evaluation.SolverSpec.Parse(name, Read(r));
            Check(r, [spec.Name], null);
            return SchedulerChoice.Named(spec.Name, spec.Settings);
        }

        SolverRegistry.Require(name);
        Check(r, [name], null);
        return SchedulerChoice.Named(name, Read(r));
    }

    /// <summary>A STORKScheduler configuration is the authors' code (upstream) unless --stork-variant says otherwise.</summary>
    private SolverSettings Variant(ParseResult r, SolverSettings settings) =>
        Given(r).FirstOrDefault(g => g.Option == SolverOption.StorkVariant) is { Option: not null } v ? v.Option.Apply(settings, v.Value) : settings;

    /// <summary>Options a scheduler configuration replaces (all but --stork-variant and <paramref name="kept"/>) are errors beside it.</summary>
    private void RefuseWithConfig(ParseResult r, Option[] more, params SolverOption[] kept)
    {
        var given = more.Where(o => r.GetResult(o) is { Implicit: false })
            .Concat(_flags.Where(f => f.Option != SolverOption.StorkVariant && !kept.Contains(f.Option) && r.GetResult(f.Flag) is { Implicit: false }).Select(f => f.Flag));
        if (given.FirstOrDefault() is { } o)
        {
            throw new CliException($"{o.Name} cannot be combined with --scheduler-config; set the option in the configuration.");
        }
    }
}
