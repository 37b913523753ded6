using Stork.Solvers.Stabilized;
using Stork.Solvers.Standard;

namespace Stork.Solvers.Catalog;

/// <summary>
/// Solver names as users write them (<c>stork-4</c>, <c>dpm++2m</c>, ...), how each is built and which
/// <see cref="SolverSettings"/> it reads. Fixed-step solvers are <see cref="ISolver"/>s (<see cref="Create"/>); an
/// adaptive integrator (<c>rk45</c>, <see cref="IsAdaptive"/>) is an <see cref="IAdaptiveIntegrator"/>
/// (<see cref="CreateIntegrator"/>).
/// </summary>
public static class SolverRegistry
{
    private static readonly SolverSetting[] StorkReads =
        [SolverSetting.FlowGrid, SolverSetting.StorkVariant, SolverSetting.Substeps, SolverSetting.DerivativeOrder, SolverSetting.StoppingEps, SolverSetting.Grid,
            SolverSetting.Corrector, SolverSetting.BaseSigmas];

    private static readonly SolverSetting[] StandardReads = [SolverSetting.FlowGrid, SolverSetting.Grid, SolverSetting.Diffusers];

    private static readonly SolverSetting[] MultistepReads = [.. StandardReads, SolverSetting.SolverOrder];

    private static readonly Dictionary<string, Entry> Entries = new(StringComparer.OrdinalIgnoreCase)
    {
        ["stork-2"] = new("STORK-2: RKG2 stages with virtual (Taylor) model evaluations, one real evaluation per step", StorkReads,
            (m, n, s) => new Stork2(m, n, StorkOptions(m, s, 2), s.FlowGrid)),
        ["stork-4"] = new("STORK-4: ROCK4 stages with virtual (Taylor) model evaluations, one real evaluation per step", StorkReads,
            (m, n, s) => new Stork4(m, n, StorkOptions(m, s, 4), s.FlowGrid)),
        ["euler"] = new("Euler (FlowMatchEulerDiscreteScheduler; EulerDiscreteScheduler-style on noise models)", StandardReads,
            (m, n, s) => new EulerSolver(m, Grid(SolverFamily.Euler, m, n, s))),
        ["heun"] = new("Heun (FlowMatchHeunDiscreteScheduler): steps nodes, 2 steps - 1 model evaluations", StandardReads,
            (m, n, s) => new HeunSolver(m, Grid(SolverFamily.Heun, m, n, s))),
        ["ddim"] = new("DDIM, eta 0 (DDIMScheduler); on flow models the same step on FlowMatch sigmas (the flow Euler step unclipped)", StandardReads,
            (m, n, s) => new DdimSolver(m, Grid(SolverFamily.Ddim, m, n, s), s.Diffusers.ClipSample ? s.Diffusers.ClipSampleRange : null)),
        ["dpm++2m"] = new("DPM-Solver++ multistep, order 2 (DPMSolverMultistepScheduler)", MultistepReads,
            (m, n, s) => new DpmSolverPlusPlus(m, Grid(SolverFamily.DpmSolverPlusPlus, m, n, s), s.SolverOrder ?? 2, s.Diffusers)),
        ["dpm++3m"] = new("DPM-Solver++ multistep, order 3 (DPMSolverMultistepScheduler)", MultistepReads,
            (m, n, s) => new DpmSolverPlusPlus(m, Grid(SolverFamily.DpmSolverPlusPlus, m, n, s), s.SolverOrder ?? 3, s.Diffusers)),
        ["unipc"] = new("UniPC predictor-corrector, bh1/bh2, order 1-3 (UniPCMultistepScheduler)", [.. MultistepReads, SolverSetting.UniPcVariant],
            (m, n, s) => new UniPcSolver(m, Grid(SolverFamily.UniPc, m, n, s), s.SolverOrder ?? 2, s.UniPcVariant, s.Diffusers)),
        ["deis"] = new("DEIS multistep, order 1-3 (DEISMultistepScheduler)", MultistepReads,
            (m, n, s) => new DeisSolver(m, Grid(SolverFamily.Deis, m, n, s), s.SolverOrder ?? 2, s.Diffusers.LowerOrderFinal)),
        ["rk45"] = new("adaptive Dormand-Prince RK45 (relative and absolute tolerance): the accuracy reference; ignores the step count",
            [SolverSetting.RelativeTolerance, SolverSetting.AbsoluteTolerance], null,
            (m, s) => new Rk45Integrator(m, s.RelativeTolerance, s.AbsoluteTolerance)),
    };

    // On flow models STORK walks the flow sigmas (shift, mu, terminal, spacing); a noise-grid override has no meaning there.
    private static StorkOptions StorkOptions(ModelSpec model, SolverSettings settings, int order)
    {
        if (model.Prediction == Predictions.Prediction.FlowVelocity && settings.Grid is not (GridKind.Native or GridKind.Flow))
        {
            throw new ArgumentException(
                $"STORK on flow models walks the flow sigmas (shift, mu, sigma spacing); the {settings.Grid} grid override applies to noise models.",
                nameof(settings));
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
    /// The settings solver <paramref name="name"/> reads; the others are ignored by it. Some apply to one kind of model
    /// only (<see cref="AppliesTo"/>).
    /// </summary>
    public static IReadOnlyList<SolverSetting> Reads(string name) => Find(name).Reads;

    /// <summary>
    /// Whether <paramref name="setting"/> means anything for <paramref name="model"/>: the flow sigma grid only on flow
    /// models, the STORK stopping time only on noise models, the rest on both.
    /// </summary>
    public static bool AppliesTo(SolverSetting setting, ModelSpec model)
    {
        ArgumentNullException.ThrowIfNull(model);
        bool flow = model.Schedule.IsFlowMatching;
        return setting switch
        {
            SolverSetting.FlowGrid or SolverSetting.BaseSigmas => flow,
            SolverSetting.StoppingEps => !flow,
            _ => true,
        };
    }

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
            throw new ArgumentException($"steps must be at least 1 (got {steps}).", nameof(steps));
        }

        return entry.Create(model, steps, WithModelGrid(name, model, steps, settings));
    }

    /// <summary>
    /// The settings with the model's tuned grid for <paramref name="name"/> at <paramref name="steps"/> steps as their
    /// <see cref="SolverSettings.Times"/>, when the settings ask for the solver's native grid and take model grids.
    /// </summary>
    private static SolverSettings WithModelGrid(string name, ModelSpec model, int steps, SolverSettings settings)
    {
        if (settings.Times is not null || !settings.UseModelGrids || settings.Grid != GridKind.Native)
        {
            return settings;
        }

        var tuned = model.TunedGrids.FirstOrDefault(g => string.Equals(g.Solver, name, StringComparison.OrdinalIgnoreCase) && g.Times.Count == steps);
        return tuned is null ? settings : settings with { Times = tuned.Times };
    }

    /// <summary>Builds an adaptive integrator (<see cref="IsAdaptive"/>); other names raise <see cref="ArgumentException"/>.</summary>
    public static IAdaptiveIntegrator CreateIntegrator(string name, ModelSpec model, SolverSettings settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        var entry = Find(name);
        return entry.CreateAdaptive is { } create
            ? create(model, settings)
            : throw new ArgumentException($"{name} is a fixed-step solver, not an adaptive integrator.", nameof(name));
    }

    private static Entry Find(string name) => Entries.TryGetValue(name, out var entry)
        ? entry
        : throw new ArgumentException($"unknown scheduler '{name}' (expected one of: {string.Join(", ", Names)}).");

    private sealed record Entry(
        string Description,
        SolverSetting[] Reads,
        Func<ModelSpec, int, SolverSettings, ISolver>? Create,
        Func<ModelSpec, SolverSettings, IAdaptiveIntegrator>? CreateAdaptive = null);
}
