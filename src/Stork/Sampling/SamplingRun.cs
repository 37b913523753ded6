using Stork.Models;
using Stork.Solvers;
using Stork.Solvers.Catalog;

namespace Stork.Sampling;

/// <summary>
/// One registered solver built for one model and run from given noise (<c>stork sample</c>): a fixed-step solver
/// through <see cref="Sampler.Run"/>, or an adaptive integrator (RK45) through <see cref="Sampler.Integrate"/>.
/// Build it first (a bad combination fails before any sampling), then <see cref="Run"/>.
/// </summary>
public sealed class SamplingRun
{
    private static readonly System.Text.Json.JsonSerializerOptions IndentedJson = new() { WriteIndented = true };
    private readonly IDenoiser _denoiser;
    private readonly ISolver? _solver;
    private readonly IAdaptiveIntegrator? _integrator;

    private SamplingRun(IDenoiser denoiser, string name, ISolver? solver, IAdaptiveIntegrator? integrator)
    {
        _denoiser = denoiser;
        Solver = name;
        _solver = solver;
        _integrator = integrator;
    }

    /// <summary>The solver's registered name.</summary>
    public string Solver { get; }

    /// <summary>Whether the solver chooses its own steps (then <see cref="PlannedEvaluations"/> is 0).</summary>
    public bool IsAdaptive => _integrator is not null;

    /// <summary>Model evaluations a fixed-step solver makes; 0 for an adaptive integrator (unknown in advance).</summary>
    public int PlannedEvaluations => _solver?.Times.Count ?? 0;

    /// <summary>The times the model is (or, after an adaptive run, was) evaluated at.</summary>
    public IReadOnlyList<double> Times => _solver?.Times ?? _integrator!.Times;

    /// <summary>
    /// Builds <paramref name="solver"/> for <paramref name="denoiser"/>: at <paramref name="steps"/> evaluations for a
    /// fixed-step solver; an adaptive integrator chooses its own (its tolerances are in <paramref name="settings"/>).
    /// </summary>
    public static SamplingRun Create(IDenoiser denoiser, string solver, int steps, SolverSettings settings)
    {
        ArgumentNullException.ThrowIfNull(denoiser);
        var spec = ModelSpec.Of(denoiser);
        return SolverRegistry.IsAdaptive(solver)
            ? new SamplingRun(denoiser, solver, null, SolverRegistry.CreateIntegrator(solver, spec, settings))
            : new SamplingRun(denoiser, solver, SolverRegistry.Create(solver, spec, steps, settings), null);
    }

    /// <summary>
    /// The model-evaluation times as indented JSON: <c>nfe</c>, <c>times</c> (schedule units) and <c>timesteps</c> (the
    /// model's, as diffusers numbers them).
    /// </summary>
    public string TimesJson() => System.Text.Json.JsonSerializer.Serialize(new
    {
        nfe = Times.Count,
        times = Times,
        timesteps = Times.Select(_denoiser.Schedule.DiffusersTimestep).ToArray(),
    }, IndentedJson);

    /// <summary>
    /// Runs from the initial noise in <paramref name="sample"/> (batch x sample size), leaving the samples there; reports
    /// after every evaluation (an adaptive run: after every accepted step, total 0), honours cancellation between them.
    /// </summary>
    public void Run(Span<float> sample, IProgress<StepInfo>? progress = null, CancellationToken cancellationToken = default)
    {
        if (_integrator is not null)
        {
            Sampler.Integrate(_denoiser, _integrator, sample, progress, cancellationToken);
        }
        else
        {
            Sampler.Run(_denoiser, _solver!, sample, progress, cancellationToken);
        }
    }
}
