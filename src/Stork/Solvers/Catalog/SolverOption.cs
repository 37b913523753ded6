using System.Globalization;
using Stork.Grids;
using Stork.Solvers.Stabilized;
using Stork.Solvers.Standard;

namespace Stork.Solvers.Catalog;

/// <summary>Which models a <see cref="SolverOption"/> means something for.</summary>
public enum OptionModels
{
    /// <summary>Flow and noise models.</summary>
    Any,

    /// <summary>Flow-matching models only.</summary>
    Flow,

    /// <summary>Noise (diffusion) models only.</summary>
    Noise,
}

/// <summary>
/// One solver option, declared once: its key (the word of the solver-spec mini-language, <c>stork-4[substeps=10]</c>,
/// and of a command line's flag), short aliases, the parser of its value and the <see cref="SolverSettings"/> property
/// it sets, which models it applies to and whether text-to-image pipelines take it. Which solvers read it is data on
/// the registry entries (<see cref="SolverRegistry.Reads"/>). A bad value or an option that does not apply raises an
/// <see cref="OptionException"/> whose key is <see cref="Key"/>.
/// </summary>
public sealed class SolverOption
{
    private readonly Func<SolverSettings, string, SolverSettings> _apply;
    private readonly Func<SolverSettings, string?> _format;

    private SolverOption(string key, string[] aliases, string description, OptionModels models, bool commandLine, bool pipelines,
        Func<SolverSettings, string?> format, Func<SolverSettings, string, SolverSettings> apply)
    {
        _format = format;
        Key = key;
        Aliases = aliases;
        Description = description;
        Models = models;
        CommandLine = commandLine;
        Pipelines = pipelines;
        _apply = apply;
    }

    /// <summary>The option's name: its key in a solver spec and, on a command line, the word of its flag.</summary>
    public string Key { get; }

    /// <summary>Short spec keys (<c>s</c> for substeps); <c>variant</c> means the variant of the solver that reads one.</summary>
    public IReadOnlyList<string> Aliases { get; }

    /// <summary>One line for help texts, with the values and the default.</summary>
    public string Description { get; }

    /// <summary>The models the option means something for.</summary>
    public OptionModels Models { get; }

    /// <summary>Whether a command line offers it as a flag (else only in solver specs).</summary>
    public bool CommandLine { get; }

    /// <summary>Whether text-to-image pipelines take it (they choose the time grid themselves).</summary>
    public bool Pipelines { get; }

    /// <summary>The registered solvers that read it.</summary>
    public IReadOnlyList<string> Readers => SolverRegistry.Names.Where(n => SolverRegistry.Reads(n).Contains(this)).ToList();

    /// <summary>
    /// <paramref name="settings"/> with this option set from its text <paramref name="value"/>; a value that does not parse
    /// or is out of range raises an <see cref="OptionException"/>.
    /// </summary>
    public SolverSettings Apply(SolverSettings settings, string value)
    {
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(value);
        return _apply(settings, value.Trim());
    }

    /// <summary>
    /// The option's value in <paramref name="settings"/> as the text <see cref="Apply"/> reads back (a choice's first word,
    /// numbers round-trip), or null where the settings leave it unset (the solver's own default then holds).
    /// </summary>
    public string? Format(SolverSettings settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        return _format(settings);
    }

    /// <summary>Whether the option means anything for <paramref name="model"/>.</summary>
    public bool AppliesTo(ModelSpec model)
    {
        ArgumentNullException.ThrowIfNull(model);
        return Models switch
        {
            OptionModels.Flow => model.Schedule.IsFlowMatching,
            OptionModels.Noise => !model.Schedule.IsFlowMatching,
            _ => true,
        };
    }

    /// <summary>
    /// Refuses the option (<see cref="OptionException"/>) when none of <paramref name="solvers"/> reads it, or when it does
    /// not apply to <paramref name="model"/> (when given): a setting that would be ignored is an error, not a silent no-op.
    /// </summary>
    public void CheckApplies(IReadOnlyCollection<string> solvers, ModelSpec? model)
    {
        ArgumentNullException.ThrowIfNull(solvers);
        if (!solvers.Any(s => SolverRegistry.Reads(s).Contains(this)))
        {
            throw new OptionException(Key, $"does not apply to {string.Join(", ", solvers)}: only {string.Join(", ", Readers)} read it.");
        }

        if (model is not null && !AppliesTo(model))
        {
            (string kind, string other) = model.Schedule.IsFlowMatching ? ("flow", "noise") : ("noise", "flow");
            throw new OptionException(Key, $"does not apply to {kind} models: it is for {other} models.");
        }
    }

    /// <summary>
    /// <paramref name="settings"/> with the options of <paramref name="args"/> (<c>key=value,...</c>, a spec's bracket text)
    /// applied for <paramref name="solver"/>; a malformed pair, an unknown key, an option the solver does not read or a
    /// bad value raises an <see cref="ArgumentException"/> that names <paramref name="context"/> (the spec text).
    /// </summary>
    public static SolverSettings ApplyAll(string solver, string args, SolverSettings settings, string context)
    {
        ArgumentNullException.ThrowIfNull(args);
        var s = settings;
        foreach (string pair in args.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            int eq = pair.IndexOf('=');
            if (eq <= 0)
            {
                throw new ArgumentException($"solver '{context}': '{pair}' is not key=value.");
            }

            string key = pair[..eq].Trim();
            var option = Find(key, solver) ?? throw new ArgumentException(
                $"solver '{context}': unknown option '{key}' (expected one of: {string.Join(", ", All.Select(o => o.Aliases.Count == 0 ? o.Key : $"{o.Key} ({string.Join(", ", o.Aliases)})"))}).");
            try
            {
                option.CheckApplies([solver], null);
                s = option.Apply(s, pair[(eq + 1)..]);
            }
            catch (OptionException e)
            {
                // In a spec the option is a key of the text, not a front end's option: the message keeps the key.
                throw new ArgumentException($"solver '{context}': {e.Message}", e);
            }
        }

        return s;
    }

    /// <summary>The option named <paramref name="key"/> (or an alias) that <paramref name="solver"/> reads, else the only one so named; null if none.</summary>
    public static SolverOption? Find(string key, string? solver = null)
    {
        var named = All.Where(o => o.Key.Equals(key, StringComparison.OrdinalIgnoreCase)
            || o.Aliases.Contains(key, StringComparer.OrdinalIgnoreCase)).ToList();
        return named.Count <= 1 || solver is null || !SolverRegistry.Contains(solver)
            ? named.FirstOrDefault()
            : named.FirstOrDefault(o => SolverRegistry.Reads(solver).Contains(o)) ?? named[0];
    }

    /// <summary>STORK: stabilised Runge-Kutta stages per step.</summary>
    public static readonly SolverOption Substeps = Int("substeps", ["s"],
        "STORK: stabilised Runge-Kutta stages per step (upstream s; default 50).", OptionModels.Any, 1, int.MaxValue,
        s => s.Substeps, (s, v) => s with { Substeps = v }, pipelines: true);

    /// <summary>STORK: Taylor derivative order of the virtual evaluations.</summary>
    public static readonly SolverOption DerivativeOrder = Int("derivative-order", ["d"],
        "STORK: Taylor derivative order of the virtual evaluations: 1 or 2 upstream (default 1), 1-3 corrected (default 2; text-to-image pipelines on flow models take 1).",
        OptionModels.Any, int.MinValue, int.MaxValue, s => s.DerivativeOrder, (s, v) => s with { DerivativeOrder = v }, pipelines: true);

    /// <summary>STORK: which arithmetic.</summary>
    public static readonly SolverOption StorkVariant = Choice("stork-variant", ["variant"],
        "STORK arithmetic: corrected (the method as published; measured best, see README; the default, except for a STORKScheduler "
        + "configuration) or upstream (the authors' code, defects included).", OptionModels.Any,
        [(["upstream"], Stabilized.StorkVariant.Upstream), (["corrected"], Stabilized.StorkVariant.Corrected)],
        s => s.StorkVariant, (s, v) => s with { StorkVariant = v }, pipelines: true);

    /// <summary>STORK on noise models: where integration stops.</summary>
    public static readonly SolverOption StoppingEps = Number("stopping-eps", ["eps"],
        "STORK on noise models: stop integrating at this fraction of T (upstream stopping_eps; default 1e-2 upstream; corrected 1e-3 from 20 "
        + "steps, 1e-2 below); rk45: its end time (default t_min). Both then return the data prediction there.", OptionModels.Noise, s => s.StoppingEps, (s, v) => s with { StoppingEps = v });

    /// <summary>STORK: the no-cost corrector.</summary>
    public static readonly SolverOption Corrector = Choice("corrector", [],
        "STORK (corrected, derivative order 1 or 2): re-integrate each step with the next model output (UniC-style, no extra evaluation; "
        + "raises the order by one): on, off or auto (default: on from 20 steps on flow models; off in pipelines; see README).", OptionModels.Any,
        [(["on", "true"], CorrectorMode.On), (["off", "false"], CorrectorMode.Off), (["auto"], CorrectorMode.Auto)],
        s => s.Corrector, (s, v) => s with { Corrector = v }, pipelines: true);

    /// <summary>STORK on flow models: the base sigma grid.</summary>
    public static readonly SolverOption BaseSigmas = Choice("base-sigmas", ["base"],
        "STORK on flow models: step (linspace(1, 1/N, N) then 0; corrected default) or training (diffusers' linspace(1, 1/T, N) then 0; "
        + "upstream default).", OptionModels.Flow,
        [(["step", "steps"], FlowSigmaBase.StepSigmas), (["training", "train"], FlowSigmaBase.TrainingSigmas)],
        s => s.FlowSigmas, (s, v) => s with { FlowSigmas = v });

    /// <summary>STORK on flow models: the last step first order (the data prediction at the last evaluation).</summary>
    public static readonly SolverOption LowerOrderFinal = Choice("lower-order-final", [],
        "STORK on flow models: the last step, to sigma 0, first order: the sample is the data prediction at the last evaluation, as "
        + "diffusers' multistep solvers end (true or false; default false).", OptionModels.Flow,
        [(["true", "on"], true), (["false", "off"], false)], s => s.LowerOrderFinal, (s, v) => s with { LowerOrderFinal = v }, commandLine: false);

    /// <summary>STORK: expand the data prediction instead of epsilon or the velocity.</summary>
    public static readonly SolverOption PredictX0 = Choice("predict-x0", ["data-prediction"],
        "STORK (corrected): the virtual evaluations expand the data prediction x0 instead of epsilon or the velocity, the ODE written "
        + "over it (diffusers' predict_x0, DPM-Solver++'s choice; true or false; default false).", OptionModels.Any,
        [(["true", "on"], true), (["false", "off"], false)], s => s.DataPrediction, (s, v) => s with { DataPrediction = v }, commandLine: false);

    /// <summary>STORK on noise models: the Taylor variable.</summary>
    public static readonly SolverOption Taylor = Choice("taylor", [],
        "STORK on noise models: the Taylor variable, time or logsnr (default: logsnr corrected, time upstream).", OptionModels.Any,
        [(["time", "t"], TaylorVariable.Time), (["logsnr", "lambda"], TaylorVariable.LogSnr)],
        s => s.TaylorVariable, (s, v) => s with { TaylorVariable = v }, commandLine: false);

    /// <summary>Multistep solvers: order.</summary>
    public static readonly SolverOption SolverOrder = Int("solver-order", ["order"],
        "Multistep solvers: order (dpm++2m: 2, dpm++3m: 3, unipc: 2, deis: 2 by default; 1 to 3).", OptionModels.Any, 1, 3,
        s => s.SolverOrder, (s, v) => s with { SolverOrder = v }, pipelines: true);

    /// <summary>UniPC: B(h).</summary>
    public static readonly SolverOption UniPcVariant = Choice("unipc-variant", ["variant"],
        "UniPC: B(h), bh1 or bh2 (default bh2).", OptionModels.Any,
        [(["bh1"], Standard.UniPcVariant.Bh1), (["bh2"], Standard.UniPcVariant.Bh2)],
        s => s.UniPcVariant, (s, v) => s with { UniPcVariant = v }, pipelines: true);

    /// <summary>RK45: relative tolerance.</summary>
    public static readonly SolverOption RelativeTolerance = Number("rtol", [], "rk45: relative tolerance (default 1e-5).", OptionModels.Any,
        s => s.RelativeTolerance, (s, v) => s with { RelativeTolerance = v });

    /// <summary>RK45: absolute tolerance.</summary>
    public static readonly SolverOption AbsoluteTolerance = Number("atol", [], "rk45: absolute tolerance (default 1e-5).", OptionModels.Any,
        s => s.AbsoluteTolerance, (s, v) => s with { AbsoluteTolerance = v });

    /// <summary>The standard solvers' time grid.</summary>
    public static readonly SolverOption Grid = Choice("grid", [],
        "Standard solvers' time grid: native (the diffusers scheduler's own timesteps / sigmas and final step: FlowMatch sigmas for euler/heun, "
        + "use_flow_sigmas with flow_shift = shift for dpm++*/unipc/deis, diffusers' timestep_spacing on noise models; the default), flow "
        + "(FlowMatch sigmas with shift, mu and sigmas; flow models), uniform-time, logsnr or karras (steps times from the noisiest time to 1/T "
        + "(flow) or 0 (discrete VP) or 1e-3 T (continuous VP), then the clean end).", OptionModels.Any,
        [(["native"], GridKind.Native), (["flow"], GridKind.Flow), (["uniform-time", "uniform"], GridKind.UniformTime),
            (["logsnr", "log-snr"], GridKind.LogSnr), (["karras"], GridKind.Karras)],
        s => s.Grid == GridKind.Native ? null : s.Grid, (s, v) => s with { Grid = v }); // native: the solver's own, i.e. unset (a model card's grid may then hold)

    /// <summary>Flow models: static sigma shift.</summary>
    public static readonly SolverOption Shift = Number("shift", [], "Flow models: static sigma shift (diffusers shift / flow_shift; default 1).",
        OptionModels.Flow, s => s.FlowGrid.Shift, (s, v) => s with { FlowGrid = s.FlowGrid with { Shift = v } });

    /// <summary>Flow models: dynamic shift mu.</summary>
    public static readonly SolverOption Mu = Number("mu", [], "Flow models: dynamic shift mu (enables use_dynamic_shifting).",
        OptionModels.Flow, s => s.FlowGrid.Mu, (s, v) => s with { FlowGrid = s.FlowGrid with { Mu = v } });

    /// <summary>Flow models: the dynamic shift's form.</summary>
    public static readonly SolverOption TimeShift = Choice("time-shift", [], "Flow models: dynamic shift form, exponential (default) or linear.",
        OptionModels.Flow, [(["exponential"], TimeShiftType.Exponential), (["linear"], TimeShiftType.Linear)],
        s => s.FlowGrid.TimeShiftType, (s, v) => s with { FlowGrid = s.FlowGrid with { TimeShiftType = v } });

    /// <summary>Flow models: the terminal of the shifted sigmas.</summary>
    public static readonly SolverOption ShiftTerminal = Number("shift-terminal", [], "Flow models: stretch the shifted sigmas to end at this value.",
        OptionModels.Flow, s => s.FlowGrid.ShiftTerminal, (s, v) => s with { FlowGrid = s.FlowGrid with { ShiftTerminal = v } });

    /// <summary>Flow models: sigma spacing.</summary>
    public static readonly SolverOption Sigmas = Choice("sigmas", [], "Flow models: sigma spacing, linear (default), karras, exponential or beta.",
        OptionModels.Flow,
        [(["linear"], SigmaSpacing.Linear), (["karras"], SigmaSpacing.Karras), (["exponential"], SigmaSpacing.Exponential), (["beta"], SigmaSpacing.Beta)],
        s => s.FlowGrid.Spacing, (s, v) => s with { FlowGrid = s.FlowGrid with { Spacing = v } });

    /// <summary>DDIM: diffusers' clip_sample.</summary>
    public static readonly SolverOption Clip = Choice("clip", [], "DDIM: clip the predicted x0 to the clip range (diffusers clip_sample; default true).",
        OptionModels.Any, [(["true"], true), (["false"], false)], s => s.Diffusers.ClipSample, (s, v) => s with { Diffusers = s.Diffusers with { ClipSample = v } },
        commandLine: false);

    /// <summary>A tuned time grid file (<c>stork tune</c>): the solver evaluates the model at its times.</summary>
    public static readonly SolverOption GridFile = new("grid-file", [],
        "A tuned grid file (stork tune): the solver evaluates the model at its times (one per step, so the step count must match) and ends at "
        + "the clean data. Without it a model card's (or a model folder's) tuned grid for the solver and step count is the default.", OptionModels.Any, true, false, _ => null,
        (s, path) =>
        {
            try
            {
                // A pipeline-tuned grid records its dynamic shift: the run's mu setting, which a pipeline under another refuses.
                var grid = Grids.TunedGrid.Load(path);
                return s with { Times = grid.Times, FlowGrid = grid.Mu is { } mu ? s.FlowGrid with { Mu = mu } : s.FlowGrid };
            }
            catch (Exception e) when (e is InvalidDataException or IOException or UnauthorizedAccessException)
            {
                throw new OptionException("grid-file", $"'{path}': {e.Message}");
            }
        });

    /// <summary>Whether a model card's tuned grids are the default.</summary>
    public static readonly SolverOption Tuned = Choice("tuned", [], "Take the model card's tuned grid for the solver and step count (default true; false: the solver's own grid).",
        OptionModels.Any, [(["true"], true), (["false"], false)], s => s.UseModelGrids, (s, v) => s with { UseModelGrids = v }, commandLine: false);

    /// <summary>Every option, in the order of help texts.</summary>
    public static IReadOnlyList<SolverOption> All { get; } =
    [
        Substeps, DerivativeOrder, StorkVariant, Shift, Mu, TimeShift, ShiftTerminal, Sigmas, StoppingEps, Corrector, BaseSigmas, Taylor,
        LowerOrderFinal, PredictX0, SolverOrder, UniPcVariant, RelativeTolerance, AbsoluteTolerance, Grid, GridFile, Tuned, Clip,
    ];

    /// <summary>The options of the flow sigma grid (<see cref="SolverSettings.FlowGrid"/>).</summary>
    public static IReadOnlyList<SolverOption> FlowGrid { get; } = [Shift, Mu, TimeShift, ShiftTerminal, Sigmas];

    /// <inheritdoc />
    public override string ToString() => Key;

    private static SolverOption Int(string key, string[] aliases, string description, OptionModels models, int min, int max,
        Func<SolverSettings, int?> get, Func<SolverSettings, int, SolverSettings> set, bool pipelines = false) =>
        new(key, aliases, description, models, true, pipelines, s => get(s)?.ToString(CultureInfo.InvariantCulture), (s, text) =>
        {
            if (!int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out int v))
            {
                throw new OptionException(key, $"must be an integer (got '{text}').");
            }

            return v >= min && v <= max ? set(s, v) : throw new OptionException(key, $"must be {min} to {max} (got {v}).");
        });

    private static SolverOption Number(string key, string[] aliases, string description, OptionModels models,
        Func<SolverSettings, double?> get, Func<SolverSettings, double, SolverSettings> set) =>
        new(key, aliases, description, models, true, false, s => get(s)?.ToString("R", CultureInfo.InvariantCulture), (s, text) =>
            double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double v) && double.IsFinite(v)
                ? set(s, v)
                : throw new OptionException(key, $"must be a number (got '{text}')."));

    private static SolverOption Choice<T>(string key, string[] aliases, string description, OptionModels models, (string[] Words, T Value)[] words,
        Func<SolverSettings, object?> get, Func<SolverSettings, T, SolverSettings> set, bool commandLine = true, bool pipelines = false) =>
        new(key, aliases, description, models, commandLine, pipelines,
            s => get(s) is { } current ? words.First(w => Equals(w.Value, current)).Words[0] : null, (s, text) =>
        {
            foreach (var (names, value) in words)
            {
                if (names.Contains(text, StringComparer.OrdinalIgnoreCase))
                {
                    return set(s, value);
                }
            }

            string[] first = words.Select(w => w.Words[0]).ToArray();
            string expected = first.Length == 2 ? $"{first[0]} or {first[1]}" : $"{string.Join(", ", first[..^1])} or {first[^1]}";
            throw new OptionException(key, $"must be {expected} (got '{text}').");
        });
}
