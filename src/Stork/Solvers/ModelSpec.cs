using Stork.Predictions;
using Stork.Schedules;

namespace Stork.Solvers;

/// <summary>What a solver must know about the model it steps: its parameterisation and its noise schedule.</summary>
public sealed record ModelSpec(Prediction Prediction, NoiseSchedule Schedule)
{
    /// <summary>The spec of a denoiser.</summary>
    public static ModelSpec Of(Models.IDenoiser denoiser) => new(denoiser.Prediction, denoiser.Schedule);
}
