namespace Stork.Solvers;

/// <summary>
/// A sampler's step rule, in the shape a diffusers-style pipeline drives: every model-evaluation time is known before the
/// first step (<see cref="Times"/>); for each of them in turn the caller evaluates the model on the current sample at
/// exactly that time and calls <see cref="Step"/>, which updates the sample in place. After the last call the sample is
/// the result. A solver is created for one grid and one sample size; it allocates its history on the first step and
/// nothing after.
/// </summary>
public interface ISolver
{
    /// <summary>Model-evaluation times, in the schedule's units, in the order <see cref="Step"/> consumes them.</summary>
    IReadOnlyList<double> Times { get; }

    /// <summary>Number of <see cref="Step"/> calls made so far (the index of the next evaluation time).</summary>
    int StepIndex { get; }

    /// <summary>
    /// Consumes the model output (in the model's own parameterisation) evaluated on <paramref name="sample"/> at
    /// <c>Times[StepIndex]</c> and advances <paramref name="sample"/> in place.
    /// </summary>
    void Step(ReadOnlySpan<float> modelOutput, Span<float> sample);

    /// <summary>Forgets the history so that the same solver can sample again.</summary>
    void Reset();

    /// <summary>
    /// Forgets the history and starts at evaluation time <paramref name="beginIndex"/>, skipping the earlier ones
    /// (diffusers' <c>set_begin_index</c>, as image-to-image runs it after a strength cut the schedule): the step there is
    /// treated as the first (multistep warm-up, STORK's start-up), while what depends on the end of the grid
    /// (lower-order final steps) stays as on the full grid. Solvers that cannot start inside their grid accept only 0.
    /// </summary>
    void Reset(int beginIndex)
    {
        if (beginIndex != 0)
        {
            throw new NotSupportedException($"{GetType().Name} cannot start inside its grid (begin index {beginIndex}).");
        }

        Reset();
    }
}
