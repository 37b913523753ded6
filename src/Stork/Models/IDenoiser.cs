using Stork.Predictions;
using Stork.Schedules;

namespace Stork.Models;

/// <summary>
/// A model to sample from: a batch of noisy samples and one continuous time in, the model output out.
/// The time is in the schedule's own units (sigma for flow, t in [0, 1] for continuous VP, the timestep for
/// discrete VP); how a network wants it fed is the implementation's business.
/// </summary>
public interface IDenoiser
{
    /// <summary>What <see cref="Predict"/> returns.</summary>
    Prediction Prediction { get; }

    /// <summary>The noise schedule the model was trained under.</summary>
    NoiseSchedule Schedule { get; }

    /// <summary>The shape of one sample (without the batch axis).</summary>
    IReadOnlyList<int> SampleShape { get; }

    /// <summary>Time grids tuned for this model per solver and step count (<see cref="Grids.TunedGrid"/>); none by default.</summary>
    IReadOnlyList<Grids.TunedGrid> TunedGrids => [];

    /// <summary>Solver options the model carries per solver name (<see cref="Solvers.ModelSpec.SolverOptions"/>); none by default.</summary>
    IReadOnlyDictionary<string, string> SolverOptions => new Dictionary<string, string>();

    /// <summary>
    /// Evaluates the model on <paramref name="samples"/> (batch x sample size, C order) at <paramref name="time"/>
    /// and writes the output (same layout) to <paramref name="output"/>.
    /// </summary>
    void Predict(ReadOnlySpan<float> samples, double time, Span<float> output);
}
