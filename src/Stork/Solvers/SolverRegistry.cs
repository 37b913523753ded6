using Stork.Solvers.Standard;
using Stork.Solvers.Stork;

namespace Stork.Solvers;

/// <summary>Solver names as users write them (<c>stork-4</c>, <c>dpm++2m</c>, ...) and how each is built.</summary>
public static class SolverRegistry
{
    private static readonly Dictionary<string, (string Description, Func<ModelSpec, int, SolverSettings, ISolver> Create)> Entries =
        new(StringComparer.OrdinalIgnoreCase)
        {
            ["stork-2"] = ("STORK-2: RKG2 stages with virtual (Taylor) model evaluations, one real evaluation per step",
                (m, n, s) => new Stork2(m, n, StorkOptions(m, s, 2), s.FlowGrid)),
            ["stork-4"] = ("STORK-4: ROCK4 stages with virtual (Taylor) model evaluations, one real evaluation per step",
                (m, n, s) => new Stork4(m, n, StorkOptions(m, s, 4), s.FlowGrid)),
            ["euler"] = ("Euler (FlowMatchEulerDiscreteScheduler; EulerDiscreteScheduler-style on noise models)",
                (m, n, s) => new EulerSolver(m, Grid(SolverFamily.Euler, m, n, s))),
            ["heun"] = ("Heun (FlowMatchHeunDiscreteScheduler): steps nodes, 2 steps - 1 model evaluations",
                (m, n, s) => new HeunSolver(m, Grid(SolverFamily.Heun, m, n, s))),
            ["ddim"] = ("DDIM, eta 0 (DDIMScheduler), noise models",
                (m, n, s) => new DdimSolver(m, Grid(SolverFamily.Ddim, m, n, s), s.Diffusers.ClipSample ? s.Diffusers.ClipSampleRange : null)),
            ["dpm++2m"] = ("DPM-Solver++ multistep, order 2 (DPMSolverMultistepScheduler)",
                (m, n, s) => new DpmSolverPlusPlus(m, Grid(SolverFamily.DpmSolverPlusPlus, m, n, s), s.SolverOrder ?? 2, s.Diffusers)),
            ["dpm++3m"] = ("DPM-Solver++ multistep, order 3 (DPMSolverMultistepScheduler)",
                (m, n, s) => new DpmSolverPlusPlus(m, Grid(SolverFamily.DpmSolverPlusPlus, m, n, s), s.SolverOrder ?? 3, s.Diffusers)),
            ["unipc"] = ("UniPC predictor-corrector, bh1/bh2, order 1-3 (UniPCMultistepScheduler)",
                (m, n, s) => new UniPcSolver(m, Grid(SolverFamily.UniPc, m, n, s), s.SolverOrder ?? 2, s.UniPcVariant, s.Diffusers)),
            ["deis"] = ("DEIS multistep, order 1-3 (DEISMultistepScheduler)",
                (m, n, s) => new DeisSolver(m, Grid(SolverFamily.Deis, m, n, s), s.SolverOrder ?? 2, s.Diffusers.LowerOrderFinal)),
            ["rk45"] = ("adaptive Dormand-Prince RK45 (relative and absolute tolerance): the accuracy reference; ignores the step count",
                (m, n, s) => new Rk45Solver(m, s.RelativeTolerance, s.AbsoluteTolerance)),
        };

    // On flow models STORK walks the flow sigmas (shift, mu, terminal, spacing); a noise-grid override has no meaning there.
    private static StorkOptions StorkOptions(ModelSpec model, SolverSettings settings, int order)
    {
        if (model.Prediction == Predictions.Prediction.FlowVelocity && settings.Grid is not (GridKind.Native or GridKind.Flow))
        {
            throw new ArgumentException(
                $"STORK on flow models walks the flow sigmas (shift, mu, sigma spacing); the {settings.Grid} grid override applies to noise models.",
                nameof(settings.Grid));
        }

        return settings.ToStorkOptions(order);
    }

    private static StepGrid Grid(SolverFamily family, ModelSpec model, int steps, SolverSettings settings) =>
        StandardGrids.Build(family, model, steps, settings);

    /// <summary>The registered names.</summary>
    public static IReadOnlyCollection<string> Names => Entries.Keys;

    /// <summary>One line describing a solver.</summary>
    public static string Describe(string name) => Entries.TryGetValue(name, out var e) ? e.Description : "";

    /// <summary>Whether <paramref name="name"/> is a registered solver.</summary>
    public static bool Contains(string name) => Entries.ContainsKey(name);

    /// <summary>Builds a solver; unknown names and invalid settings raise <see cref="ArgumentException"/>.</summary>
    public static ISolver Create(string name, ModelSpec model, int steps, SolverSettings settings)
    {
        if (!Entries.TryGetValue(name, out var entry))
        {
            throw new ArgumentException($"unknown scheduler '{name}' (expected one of: {string.Join(", ", Names)}).");
        }

        if (steps < 1)
        {
            throw new ArgumentException($"steps must be at least 1 (got {steps}).", nameof(steps));
        }

        return entry.Create(model, steps, settings);
    }
}
