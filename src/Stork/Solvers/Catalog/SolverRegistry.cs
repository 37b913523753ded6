using System.Globalization;
using Stork.Solvers.Stabilized;
using Stork.Solvers.Standard;

namespace Stork.Solvers.Catalog;

/// <summary>
/// Solver names as users write them (<c>stork-4</c>, <c>dpm++2m</c>, ...), how each is built and which
/// <see cref="SolverOption"/>s it reads. Fixed-step solvers are <see cref="ISolver"/>s (<see cref="Create"/>); an
/// adaptive integrator (<c>rk45</c>, <see cref="IsAdaptive"/>) is an <see cref="IAdaptiveIntegrator"/>
/// (<see cref="CreateIntegrator"/>).
/// </summary>
public static class SolverRegistry
{
    /// <summary>Separates a solver's name from a step count in a <see cref="ModelSpec.SolverOptions"/> key (<c>stork-4@20</c>).</summary>
    public const char StepCountSeparator = '@';

    private static readonly SolverOption[] StorkReads =
        [.. SolverOption.FlowGrid, SolverOption.StorkVariant, SolverOption.Substeps, SolverOption.DerivativeOrder, SolverOption.StoppingEps,
            SolverOption.Grid, SolverOption.Corrector, SolverOption.BaseSigmas, SolverOption.Taylor, SolverOption.GridFile, SolverOption.Tuned,
            SolverOption.LowerOrderFinal, SolverOption.PredictX0];

    private static readonly SolverOption[] StandardReads = [.. SolverOption.FlowGrid, SolverOption.Grid, SolverOption.GridFile, SolverOption.Tuned];

    private static readonly SolverOption[] MultistepReads = [.. StandardReads, SolverOption.SolverOrder];

    // STORK in text-to-image pipelines. Derivative order 1 on flow models: measured on the guided fashion-flux model and
    // the FLUX.1-shaped test graph (README, "Which STORK settings for FLUX.1"), order 2's extrapolation of a guided
    // velocity costs up to 40% in accuracy at 5-10 evaluations. The corrector's automatic mode was chosen on unguided
    // models; in pipelines it runs only when asked for.
    private static readonly PipelineDefaults StorkInPipelines = new(FlowDerivativeOrder: 1, Corrector: CorrectorMode.Off);

    private static readonly Dictionary<string, Entry> Entries = new(StringComparer.OrdinalIgnoreCase)
    {
        ["stork-2"] = new("STORK-2: RKG2 stages with virtual (Taylor) model evaluations, one real evaluation per step", StorkReads,
            (m, n, s) => new Stork2(m, n, StorkOptions(m, s, 2), s.FlowGrid), Pipeline: StorkInPipelines),
        ["stork-4"] = new("STORK-4: ROCK4 stages with virtual (Taylor) model evaluations, one real evaluation per step", StorkReads,
            (m, n, s) => new Stork4(m, n, StorkOptions(m, s, 4), s.FlowGrid), Pipeline: StorkInPipelines),
        ["euler"] = new("Euler (FlowMatchEulerDiscreteScheduler; EulerDiscreteScheduler-style on noise models)", StandardReads,
            (m, n, s) => new EulerSolver(m, Grid(SolverFamily.Euler, m, n, s))),
        ["heun"] = new("Heun (FlowMatchHeunDiscreteScheduler): steps nodes, 2 steps - 1 model evaluations", StandardReads,
            (m, n, s) => new HeunSolver(m, Grid(SolverFamily.Heun, m, n, s))),
        ["ab2"] = new("Adams-Bashforth 2 on the Euler grid: one evaluation per step, order 2", StandardReads,
            (m, n, s) => new AdamsBashforth2(m, Grid(SolverFamily.Euler, m, n, s))),
        ["ddim"] = new("DDIM, eta 0 (DDIMScheduler); on flow models the same step on FlowMatch sigmas (the flow Euler step unclipped)", [.. StandardReads, SolverOption.Clip],
            (m, n, s) => new DdimSolver(m, Grid(SolverFamily.Ddim, m, n, s), s.Diffusers.ClipSample ? s.Diffusers.ClipSampleRange : null)),
        ["dpm++2m"] = new("DPM-Solver++ multistep, order 2 (DPMSolverMultistepScheduler)", MultistepReads,
            (m, n, s) => new DpmSolverPlusPlus(m, Grid(SolverFamily.DpmSolverPlusPlus, m, n, s), s.SolverOrder ?? 2, s.Diffusers)),
        ["dpm++3m"] = new("DPM-Solver++ multistep, order 3 (DPMSolverMultistepScheduler)", MultistepReads,
            (m, n, s) => new DpmSolverPlusPlus(m, Grid(SolverFamily.DpmSolverPlusPlus, m, n, s), s.SolverOrder ?? 3, s.Diffusers)),
        ["unipc"] = new("UniPC predictor-corrector, bh1/bh2, order 1-3 (UniPCMultistepScheduler)", [.. MultistepReads, SolverOption.UniPcVariant],
            (m, n, s) => new UniPcSolver(m, Grid(SolverFamily.UniPc, m, n, s), s.SolverOrder ?? 2, s.UniPcVariant, s.Diffusers)),
        ["deis"] = new("DEIS multistep, order 1-3 (DEISMultistepScheduler)", MultistepReads,
            (m, n, s) => new DeisSolver(m, Grid(SolverFamily.Deis, m, n, s), s.SolverOrder ?? 2, s.Diffusers.LowerOrderFinal)),
        ["rk45"] = new("adaptive Dormand-Prince RK45 (relative and absolute tolerance): the accuracy reference; ignores the step count",
            [SolverOption.RelativeTolerance, SolverOption.AbsoluteTolerance, SolverOption.StoppingEps], null,
            (m, s) => new Rk45Integrator(m, s.RelativeTolerance, s.AbsoluteTolerance,
                s.StoppingEps is { } eps && !m.Schedule.IsFlowMatching ? eps * m.Schedule.TMax : null)),
    };

    // On flow models STORK walks the flow sigmas (shift, mu, terminal, spacing); a noise-grid override has no meaning there.
    private static StorkOptions StorkOptions(ModelSpec model, SolverSettings settings, int order)
    {
        if (model.Prediction == Predictions.Prediction.FlowVelocity && settings.Grid is not (GridKind.Native or GridKind.Flow))
        {
            throw new OptionException(SolverOption.Grid.Key,
                $"applies to noise models: STORK on flow models walks the flow sigmas (shift, mu, sigma spacing), not the {settings.Grid} grid.");
        }

        return settings.ToStorkOptions(order);
    }

    private static StepGrid Grid(SolverFamily family, ModelSpec model, int steps, SolverSettings settings) => settings.Times is { } times
        ? StandardGrids.Given(family, model, steps, times)
        : StandardGrids.Build(family, model, steps, settings.Grid, settings.FlowGrid, settings.Diffusers);

    /// <summary>The registered names.</summary>
    public static IReadOnlyCollection<string> Names => Entries.Keys;

    /// <summary>One line describing a solver.</summary>
    public static string Describe(string name) => Entries.TryGetValue(name, out var e) ? e.Description : "";

    /// <summary>Whether <paramref name="name"/> is a registered solver.</summary>
    public static bool Contains(string name) => Entries.ContainsKey(name);

    /// <summary>Whether <paramref name="name"/> is an adaptive integrator (built by <see cref="CreateIntegrator"/>, not <see cref="Create"/>).</summary>
    public static bool IsAdaptive(string name) => Find(name).CreateAdaptive is not null;

    /// <summary>
    /// The options solver <paramref name="name"/> reads; the others are ignored by it. Some apply to one kind of model
    /// only (<see cref="SolverOption.AppliesTo"/>).
    /// </summary>
    public static IReadOnlyList<SolverOption> Reads(string name) => Find(name).Reads;

    /// <summary>
    /// Builds a fixed-step solver; unknown names, adaptive integrators and invalid settings raise <see cref="ArgumentException"/>.
    /// </summary>
    public static ISolver Create(string name, ModelSpec model, int steps, SolverSettings settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        var entry = Find(name);
        if (entry.Create is null)
        {
            throw new ArgumentException($"{name} is an adaptive integrator: it chooses its own evaluation times and takes no step count.", nameof(name));
        }

        if (steps < 1)
        {
            throw new OptionException(nameof(steps), $"must be at least 1 (got {steps}).");
        }

        return entry.Create(model, steps, WithModelGrid(name, model, steps, settings));
    }

    /// <summary>
    /// The settings with the model's tuned grid for <paramref name="name"/> at <paramref name="steps"/> steps as their
    /// <see cref="SolverSettings.Times"/>, when the settings ask for the solver's native grid and take model grids
    /// (and the model's solver options, <see cref="WithModelOptions"/>).
    /// </summary>
    public static SolverSettings WithModelGrid(string name, ModelSpec model, int steps, SolverSettings settings)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(settings);
        settings = WithModelOptions(name, model, steps, settings);
        if (settings.Times is not null || !settings.UseModelGrids || settings.Grid != GridKind.Native)
        {
            return settings;
        }

        var tuned = model.TunedGrids.FirstOrDefault(g => string.Equals(g.Solver, name, StringComparison.OrdinalIgnoreCase) && g.Times.Count == steps);
        return tuned is null ? settings : settings with { Times = tuned.Times };
    }

    /// <summary>
    /// The settings with the options the model carries for <paramref name="name"/> (<see cref="ModelSpec.SolverOptions"/>)
    /// where the settings leave them unset, when the settings take model defaults (<see cref="SolverSettings.UseModelGrids"/>).
    /// An entry for the step count (<c>name@steps</c>, e.g. <c>stork-4@20</c>) comes first; the solver's entry for every
    /// step count (<c>name</c>) fills what it leaves unset.
    /// </summary>
    public static SolverSettings WithModelOptions(string name, ModelSpec model, int steps, SolverSettings settings)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(settings);
        if (!settings.UseModelGrids || model.SolverOptions.Count == 0)
        {
            return settings;
        }

        var empty = new SolverSettings();
        foreach (string key in new[] { OptionsKey(name, steps), name })
        {
            var text = model.SolverOptions.FirstOrDefault(kv => string.Equals(kv.Key, key, StringComparison.OrdinalIgnoreCase)).Value;
            if (text is null)
            {
                continue;
            }

            var carried = SolverOption.ApplyAll(name, text, empty, $"{key}[{text}]");
            foreach (var option in Reads(name))
            {
                if (option.Format(carried) is { } value && option.Format(empty) is null && option.Format(settings) is null)
                {
                    settings = option.Apply(settings, value);
                }
            }
        }

        return settings;
    }

    /// <summary>
    /// Splits a <see cref="ModelSpec.SolverOptions"/> key into the solver's name and the step count it is for
    /// (<c>stork-4@20</c>: 20; <c>stork-4</c>: every step count, null). A step count that is not a whole number of at
    /// least 1 raises <see cref="ArgumentException"/>.
    /// </summary>
    public static (string Solver, int? Steps) SplitOptionsKey(string key)
    {
        ArgumentNullException.ThrowIfNull(key);
        int at = key.IndexOf(StepCountSeparator, StringComparison.Ordinal);
        if (at < 0)
        {
            return (key, null);
        }

        string solver = key[..at], count = key[(at + 1)..];
        // Written as the lookup writes it (no sign, no leading zero), so a key that parses is a key that is found.
        return int.TryParse(count, NumberStyles.None, CultureInfo.InvariantCulture, out int steps) && steps >= 1 && key == OptionsKey(solver, steps)
            ? (solver, steps)
            : throw new ArgumentException($"'{count}' after '{StepCountSeparator}' is not a step count (a whole number of at least 1, as in stork-4{StepCountSeparator}20).");
    }

    private static string OptionsKey(string solver, int steps) => $"{solver}{StepCountSeparator}{steps.ToString(CultureInfo.InvariantCulture)}";

    /// <summary>Builds an adaptive integrator (<see cref="IsAdaptive"/>); other names raise <see cref="ArgumentException"/>.</summary>
    public static IAdaptiveIntegrator CreateIntegrator(string name, ModelSpec model, SolverSettings settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        var entry = Find(name);
        return entry.CreateAdaptive is { } create
            ? create(model, settings)
            : throw new ArgumentException($"{name} is a fixed-step solver, not an adaptive integrator.", nameof(name));
    }

    /// <summary>
    /// <paramref name="settings"/> with the values text-to-image pipelines use for solver <paramref name="name"/> where
    /// the caller left them unset (<see cref="PipelineDefaults"/>; the derivative order on flow models only).
    /// </summary>
    public static SolverSettings WithPipelineDefaults(string name, SolverSettings settings, bool flow)
    {
        ArgumentNullException.ThrowIfNull(settings);
        if (Find(name).Pipeline is not { } d)
        {
            return settings;
        }

        if (flow && d.FlowDerivativeOrder is { } order && settings.DerivativeOrder is null)
        {
            settings = settings with { DerivativeOrder = order };
        }

        return d.Corrector is { } corrector && settings.Corrector is null ? settings with { Corrector = corrector } : settings;
    }

    /// <summary>Checks that <paramref name="name"/> is registered: the one "unknown scheduler" error, an <see cref="ArgumentException"/>.</summary>
    public static void Require(string name) => Find(name);

    private static Entry Find(string name) => Entries.TryGetValue(name, out var entry)
        ? entry
        : throw new ArgumentException($"unknown scheduler '{name}' (expected one of: {string.Join(", ", Names)}).");

    private sealed record Entry(
        string Description,
        SolverOption[] Reads,
        Func<ModelSpec, int, SolverSettings, ISolver>? Create,
        Func<ModelSpec, SolverSettings, IAdaptiveIntegrator>? CreateAdaptive = null,
        PipelineDefaults? Pipeline = null);
}

/// <summary>
/// What text-to-image pipelines set for a solver where the caller leaves it unset (registry data, see
/// <see cref="SolverRegistry.WithPipelineDefaults"/>).
/// </summary>
/// <param name="FlowDerivativeOrder">The derivative order on flow models.</param>
/// <param name="Corrector">The corrector mode.</param>
public sealed record PipelineDefaults(int? FlowDerivativeOrder = null, CorrectorMode? Corrector = null);
