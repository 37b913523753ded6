using Stork.Solvers;

namespace Stork.Pipelines.ImageInputs;

/// <summary>
/// A solver run from evaluation <c>begin</c> of its full grid (<see cref="ISolver.Reset(int)"/>, diffusers'
/// <c>set_begin_index</c> after a strength cut the schedule), seen by the sampling loop as a solver whose times are the
/// rest of the grid.
/// </summary>
internal sealed class SolverFromIndex : ISolver
{
    private readonly ISolver _inner;
    private readonly int _begin;
    private readonly double[] _times;

    public SolverFromIndex(ISolver inner, int begin)
    {
        ArgumentNullException.ThrowIfNull(inner);
        if (begin < 0 || begin >= inner.Times.Count)
        {
            throw new ArgumentOutOfRangeException(nameof(begin), $"the first step must be 0 to {inner.Times.Count - 1} (got {begin}).");
        }

        _inner = inner;
        _begin = begin;
        _times = [.. inner.Times.Skip(begin)];
        _inner.Reset(begin);
    }

    /// <summary>The solver on the full grid.</summary>
    public ISolver Inner => _inner;

    /// <summary>The evaluation of the full grid this run starts at.</summary>
    public int Begin => _begin;

    public IReadOnlyList<double> Times => _times;

    public int StepIndex => _inner.StepIndex - _begin;

    public void Step(ReadOnlySpan<float> modelOutput, Span<float> sample) => _inner.Step(modelOutput, sample);

    public void Reset() => _inner.Reset(_begin);

    public void Reset(int beginIndex) => _inner.Reset(_begin + beginIndex);
}
