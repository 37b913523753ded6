using Stork.Predictions;
using Stork.Schedules;

namespace Stork.Solvers;

/// <summary>What a solver must know about the model it steps: its parameterisation and its noise schedule.</summary>
public sealed record ModelSpec(Prediction Prediction, NoiseSchedule Schedule)
{
    /// <summary>Tuned grids the model carries (a model card's <c>tuned_grids</c>): a solver at that step count walks them by default.</summary>
    public IReadOnlyList<Grids.TunedGrid> TunedGrids { get; init; } = [];

    /// <summary>
    /// Solver options the model carries per solver name (a model card's <c>solver_options</c>, spec text such as
    /// <c>stopping-eps=0.05</c>): a solver takes them where its settings leave the option unset.
    /// </summary>
    public IReadOnlyDictionary<string, string> SolverOptions { get; init; } = new Dictionary<string, string>();

    /// <summary>The spec of a denoiser.</summary>
    public static ModelSpec Of(Models.IDenoiser denoiser)
    {
        ArgumentNullException.ThrowIfNull(denoiser);
        return new(denoiser.Prediction, denoiser.Schedule) { TunedGrids = denoiser.TunedGrids, SolverOptions = denoiser.SolverOptions };
    }
}
