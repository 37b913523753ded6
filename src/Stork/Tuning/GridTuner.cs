using Stork.Evaluation;
using Stork.Grids;
using Stork.Models;
using Stork.Sampling;
using Stork.Solvers;
using Stork.Solvers.Catalog;
using Stork.Solvers.Standard;

namespace Stork.Tuning;

/// <summary>Search settings of <see cref="GridTuner"/>.</summary>
public sealed record TuneOptions
{
    /// <summary>Objective evaluations (each one solver run over the calibration batch) the search may spend. Default 120.</summary>
    public int Budget { get; init; } = 120;

    /// <summary>Seed of the coordinate order of each sweep.</summary>
    public long Seed { get; init; }

    /// <summary>First step of the coordinate search, in logit units. Default 0.5.</summary>
    public double InitialStep { get; init; } = 0.5;

    /// <summary>The search stops when its step falls below this. Default 0.03.</summary>
    public double MinStep { get; init; } = 0.03;

    /// <summary>Samples per solver call (bounds memory).</summary>
    public int Chunk { get; init; } = 64;
}

/// <summary>
/// Where a search stands: the best logits and their error, the coordinate step, the sweep and the position in it, the
/// objective evaluations spent. Saving it after every evaluation and passing it back makes a search resumable: the
/// resumed search continues exactly as the uninterrupted one would.
/// </summary>
public sealed record TuneState(double[] Logits, double Loss, double Step, int Sweep, int Position, bool Improved, int Evaluations, double DefaultLoss);

/// <summary>Progress of a search: objective evaluations spent, the budget, the best error so far.</summary>
public readonly record struct TuneProgress(int Evaluations, int Budget, double BestLoss);

/// <summary>
/// Tunes the evaluation times of one solver at one number of model evaluations for one model (issue 25, in the spirit of
/// LD3 / Align Your Steps): the objective is the RMSE, over a calibration batch, between the solver's samples and the
/// converged ODE solution from the same noise (<see cref="OdeError.ReferenceSolution"/>). The grid is parametrised
/// monotonically (<see cref="GridParametrisation"/>: softmax of free logits for the increments in sigma or log-SNR) and
/// searched from the solver's default grid by a seeded coordinate search: each sweep visits the logits in a seeded random
/// order, tries +step and -step on each and keeps any improvement; a sweep without one halves the step. Deterministic
/// for a seed; never worse than the default grid on the calibration batch.
/// </summary>
public sealed class GridTuner
{
    private readonly IDenoiser _denoiser;
    private readonly SolverSpec _spec;
    private readonly ModelSpec _model;

    /// <summary>A tuner for <paramref name="spec"/> at <paramref name="nfe"/> model evaluations on <paramref name="denoiser"/>.</summary>
    public GridTuner(IDenoiser denoiser, SolverSpec spec, int nfe)
    {
        ArgumentNullException.ThrowIfNull(denoiser);
        ArgumentNullException.ThrowIfNull(spec);
        if (spec.IsAdaptive)
        {
            throw new ArgumentException($"{spec.Label} chooses its own steps; tune a fixed-step solver.");
        }

        _denoiser = denoiser;
        _spec = spec with { Settings = spec.Settings with { UseModelGrids = false, Times = null } };
        _model = ModelSpec.Of(denoiser) with { TunedGrids = [] };
        Nfe = nfe;
        var solver = _spec.CreateForNfe(_model, nfe);
        var nodes = solver is StandardSolver standard ? standard.Grid.Times : solver.Times.ToArray();
        Steps = nodes.Length;
        DefaultTimes = nodes;
        DefaultTimes[0] = _model.Schedule.TMax;
        // A solver told where to stop on a noise model (stopping-eps) is tuned for grids that end there.
        Parametrisation = new GridParametrisation(_model.Schedule, Steps,
            _spec.Settings.StoppingEps is { } eps && !_model.Schedule.IsFlowMatching ? eps * _model.Schedule.TMax : null);
    }

    /// <summary>The model evaluations the grid is tuned for.</summary>
    public int Nfe { get; }

    /// <summary>The solver's step count at that budget (one evaluation time per step).</summary>
    public int Steps { get; }

    /// <summary>The solver's default evaluation times (its first moved to the schedule's largest time).</summary>
    public double[] DefaultTimes { get; }

    /// <summary>The parametrisation searched.</summary>
    public GridParametrisation Parametrisation { get; }

    /// <summary>
    /// RMSE against <paramref name="reference"/> of the solver from <paramref name="noise"/> on <paramref name="times"/>
    /// (null: its default grid); infinity when the solver refuses the grid.
    /// </summary>
    public double Error(IReadOnlyList<double>? times, ReadOnlySpan<float> noise, ReadOnlySpan<float> reference, int chunk = 64, CancellationToken cancellationToken = default)
    {
        ISolver solver;
        try
        {
            solver = times is null
                ? _spec.CreateForNfe(_model, Nfe)
                : SolverRegistry.Create(_spec.Name, _model, Steps, _spec.Settings with { Times = times });
        }
        catch (ArgumentException)
        {
            return double.PositiveInfinity;
        }

        var x = noise.ToArray();
        int size = Sampler.SampleSize(_denoiser);
        for (int start = 0; start < x.Length; start += chunk * size)
        {
            int length = Math.Min(chunk * size, x.Length - start);
            Sampler.Run(_denoiser, solver, x.AsSpan(start, length), null, cancellationToken);
        }

        double rmse = OdeError.Rmse(x, reference);
        return double.IsFinite(rmse) ? rmse : double.PositiveInfinity;
    }

    /// <summary>The state a new search starts from: the default grid's logits and error.</summary>
    public TuneState Start(ReadOnlySpan<float> noise, ReadOnlySpan<float> reference, TuneOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        return Search(noise, reference, options.Chunk).Start(options, cancellationToken);
    }

    /// <summary>
    /// Runs the coordinate search (<see cref="GridSearch"/>) from <paramref name="state"/> until the budget is spent or the
    /// step falls below the minimum; <paramref name="checkpoint"/> receives the state after every objective evaluation (to
    /// save for resuming). Returns the final state; its logits give the tuned grid (<see cref="Grid"/>).
    /// </summary>
    public TuneState Search(ReadOnlySpan<float> noise, ReadOnlySpan<float> reference, TuneOptions options, TuneState state,
        Action<TuneState>? checkpoint = null, IProgress<TuneProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        return Search(noise, reference, options.Chunk).Search(options, state, checkpoint, progress, cancellationToken);
    }

    /// <summary>The grid of a state.</summary>
    public TunedGrid Grid(TuneState state)
    {
        ArgumentNullException.ThrowIfNull(state);
        return new TunedGrid(_spec.Name, Nfe, Parametrisation.Times(state.Logits));
    }

    /// <summary>The search over the calibration <paramref name="noise"/> against its <paramref name="reference"/> solutions (solved in chunks of <paramref name="chunk"/>).</summary>
    public GridSearch Search(ReadOnlySpan<float> noise, ReadOnlySpan<float> reference, int chunk)
    {
        float[] x = noise.ToArray(), y = reference.ToArray();
        return new GridSearch(Parametrisation, DefaultTimes, (times, ct) => Error(times, x, y, chunk, ct));
    }
}
