using Stork.Grids;

namespace Stork.Tuning;

/// <summary>
/// The search of <c>stork tune</c>, whatever runs the solver: the evaluation times of an N-step grid, parametrised
/// monotonically (<see cref="GridParametrisation"/>), searched from a default grid by a seeded coordinate search that
/// minimises an objective (the error to a converged reference on a calibration batch). Each sweep visits the logits in a
/// seeded random order, tries +step and -step on each and keeps any improvement; a sweep without one halves the step.
/// Deterministic for a seed; never worse than the default grid on the objective. <see cref="GridTuner"/> (a model and
/// its RK45 reference) and <c>Stork.Pipelines.PipelineGridTuner</c> (a text-to-image pipeline and its many-step run)
/// give it their objectives.
/// </summary>
public sealed class GridSearch
{
    private readonly Func<IReadOnlyList<double>?, CancellationToken, double> _error;

    /// <summary>
    /// A search over <paramref name="parametrisation"/> from <paramref name="defaultTimes"/>; <paramref name="error"/>
    /// gives the objective of a grid (null: the solver's default grid), infinity for a grid the solver refuses.
    /// </summary>
    public GridSearch(GridParametrisation parametrisation, IReadOnlyList<double> defaultTimes, Func<IReadOnlyList<double>?, CancellationToken, double> error)
    {
        ArgumentNullException.ThrowIfNull(parametrisation);
        ArgumentNullException.ThrowIfNull(defaultTimes);
        ArgumentNullException.ThrowIfNull(error);
        if (defaultTimes.Count != parametrisation.Steps)
        {
            throw new ArgumentException($"{defaultTimes.Count} default times for a {parametrisation.Steps}-step parametrisation.", nameof(defaultTimes));
        }

        Parametrisation = parametrisation;
        DefaultTimes = defaultTimes;
        _error = error;
    }

    /// <summary>The parametrisation searched.</summary>
    public GridParametrisation Parametrisation { get; }

    /// <summary>The grid the search starts from.</summary>
    public IReadOnlyList<double> DefaultTimes { get; }

    /// <summary>Number of steps (evaluation times, logits).</summary>
    public int Steps => Parametrisation.Steps;

    /// <summary>The state a new search starts from: the default grid's logits and error.</summary>
    public TuneState Start(TuneOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        double loss = _error(null, cancellationToken);
        return new TuneState(Parametrisation.Logits(DefaultTimes), loss, options.InitialStep, 0, 0, false, 1, loss);
    }

    /// <summary>
    /// Runs the coordinate search from <paramref name="state"/> until the budget is spent or the step falls below the
    /// minimum; <paramref name="checkpoint"/> receives the state after every objective evaluation (to save for resuming).
    /// Returns the final state; its logits give the tuned grid (<see cref="Times"/>).
    /// </summary>
    public TuneState Search(TuneOptions options, TuneState state, Action<TuneState>? checkpoint = null, IProgress<TuneProgress>? progress = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(state);
        if (state.Logits.Length != Steps)
        {
            throw new ArgumentException($"the state has {state.Logits.Length} logits; this search has {Steps} steps.");
        }

        var s = state with { Logits = (double[])state.Logits.Clone() };
        while (s.Evaluations < options.Budget && s.Step >= options.MinStep)
        {
            int[] order = Order(options.Seed, s.Sweep);
            for (int p = s.Position; p < Steps && s.Evaluations < options.Budget; p++)
            {
                int k = order[p];
                foreach (double sign in (ReadOnlySpan<double>)[1.0, -1.0])
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    var trial = (double[])s.Logits.Clone();
                    trial[k] += sign * s.Step;
                    double loss = _error(Parametrisation.Times(trial), cancellationToken);
                    s = s with { Evaluations = s.Evaluations + 1 };
                    bool better = loss < s.Loss;
                    if (better)
                    {
                        s = s with { Logits = trial, Loss = loss, Improved = true };
                    }

                    bool last = better || sign < 0 || s.Evaluations >= options.Budget;
                    s = last ? s with { Position = p + 1 } : s;
                    checkpoint?.Invoke(s);
                    progress?.Report(new TuneProgress(s.Evaluations, options.Budget, s.Loss));
                    if (last)
                    {
                        break;
                    }
                }
            }

            if (s.Position >= Steps)
            {
                s = s with { Sweep = s.Sweep + 1, Position = 0, Step = s.Improved ? s.Step : s.Step / 2, Improved = false };
                checkpoint?.Invoke(s);
            }
        }

        return s;
    }

    /// <summary>The evaluation times of a state.</summary>
    public double[] Times(TuneState state)
    {
        ArgumentNullException.ThrowIfNull(state);
        return Parametrisation.Times(state.Logits);
    }

    // A seeded permutation per sweep (SplitMix64 keys, sorted): the same seed and sweep give the same order everywhere.
    private int[] Order(long seed, int sweep)
    {
        var keys = new ulong[Steps];
        for (int k = 0; k < Steps; k++)
        {
            ulong z = unchecked((ulong)seed + (0x9E3779B97F4A7C15UL * (ulong)((sweep * 1000003L) + k + 1)));
            z = unchecked((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL);
            z = unchecked((z ^ (z >> 27)) * 0x94D049BB133111EBUL);
            keys[k] = z ^ (z >> 31);
        }

        return Enumerable.Range(0, Steps).OrderBy(k => keys[k]).ToArray();
    }
}
