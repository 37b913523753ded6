using Stork.IO;
using Stork.Models;
using Stork.Predictions;
using Stork.Schedules;

namespace Stork.Onnx;

/// <summary>
/// A model to sample: an ONNX model card (<c>kind: denoiser</c>), a Gaussian-mixture JSON (weights, means, stds), or
/// <c>empirical:IMAGES.npy</c> (the exact denoiser of a set of images). The card fixes prediction and schedule; the
/// analytic models take them from here. Null means not given: then the <see cref="DenoiserHints"/> of the solver or
/// scheduler configuration decide, else the defaults (diffusers': linear betas 1e-4 to 0.02 over 1000 timesteps).
/// </summary>
public sealed record DenoiserSource
{
    /// <summary>The card or mixture JSON, or <c>empirical:</c> followed by the .npy of images.</summary>
    public required string Model { get; init; }

    /// <summary>What the model predicts (analytic models; a card's must agree): flow, epsilon, v_prediction or sample.</summary>
    public string? Prediction { get; init; }

    /// <summary>Noise models: diffusers' beta schedule (linear, scaled_linear, squaredcos_cap_v2).</summary>
    public string? BetaSchedule { get; init; }

    /// <summary>Noise models: first beta.</summary>
    public double? BetaStart { get; init; }

    /// <summary>Noise models: last beta.</summary>
    public double? BetaEnd { get; init; }

    /// <summary>Noise models: training timesteps T.</summary>
    public int? TrainSteps { get; init; }

    /// <summary>Noise models: <c>continuous</c> (the linear VP through the first and last beta) or <c>discrete</c> (alphas_cumprod).</summary>
    public string? NoiseSchedule { get; init; }
}

/// <summary>
/// What the chosen solver or scheduler configuration implies about the model when the source does not say: the noise
/// schedule kind (discrete alphas_cumprod for the diffusers solvers, STORK's continuous VP for STORK) and the
/// configuration's prediction type and betas. A source that says otherwise is an error.
/// </summary>
public sealed record DenoiserHints
{
    /// <summary>Noise models: discrete VP (true) or continuous linear VP (false) when the source does not say.</summary>
    public bool DiscreteNoise { get; init; }

    /// <summary>The configuration's prediction type.</summary>
    public Prediction? Prediction { get; init; }

    /// <summary>The configuration's beta schedule.</summary>
    public string? BetaSchedule { get; init; }

    /// <summary>The configuration's first beta.</summary>
    public double? BetaStart { get; init; }

    /// <summary>The configuration's last beta.</summary>
    public double? BetaEnd { get; init; }

    /// <summary>The configuration's training timesteps.</summary>
    public int? TrainSteps { get; init; }

    /// <summary>
    /// What sampling with <paramref name="solver"/> implies: STORK (the solvers that read its variant) walks its
    /// continuous noise path, the diffusers solvers alphas_cumprod; a scheduler <paramref name="config"/> says instead
    /// (its noise kind, prediction type and betas).
    /// </summary>
    public static DenoiserHints For(string solver, Solvers.Diffusers.SchedulerConfig? config) => config is null
        ? new DenoiserHints { DiscreteNoise = !Solvers.Catalog.SolverRegistry.Reads(solver).Contains(Solvers.Catalog.SolverOption.StorkVariant) }
        : new DenoiserHints
        {
            DiscreteNoise = !config.ContinuousNoise,
            Prediction = config.Prediction,
            BetaSchedule = config.BetaSchedule,
            BetaStart = config.BetaStart,
            BetaEnd = config.BetaEnd,
            TrainSteps = config.TrainSteps,
        };
}

/// <summary>
/// Loads a <see cref="DenoiserSource"/>. Errors about a source field are <see cref="OptionException"/>s keyed
/// <c>prediction</c>, <c>beta-schedule</c>, <c>beta-start</c>, <c>beta-end</c>, <c>train-steps</c> or <c>noise-schedule</c>;
/// a missing or malformed file is a <see cref="FileNotFoundException"/> or <see cref="InvalidDataException"/>.
/// </summary>
public static class DenoiserLoader
{
    /// <summary>The prefix of an empirical model: <c>empirical:IMAGES.npy</c>.</summary>
    public const string EmpiricalPrefix = "empirical:";

    /// <summary>The file a model string names (the .npy of an empirical model).</summary>
    public static string FileOf(string model)
    {
        ArgumentNullException.ThrowIfNull(model);
        return model.StartsWith(EmpiricalPrefix, StringComparison.OrdinalIgnoreCase) ? model[EmpiricalPrefix.Length..] : model;
    }

    /// <summary>The files a loaded model was read from besides <see cref="FileOf"/> (an ONNX model's card and network).</summary>
    public static IReadOnlyList<string> FilesRead(IDenoiser denoiser) =>
        denoiser is OnnxDenoiser onnx ? [onnx.Card.CardPath, onnx.Card.OnnxPath] : [];

    /// <summary>Loads the model; dispose the result if it is <see cref="IDisposable"/> (ONNX models).</summary>
    public static IDenoiser Load(DenoiserSource source, DenoiserHints? hints = null, OnnxRuntimeOptions? runtime = null)
    {
        ArgumentNullException.ThrowIfNull(source);
        hints ??= new DenoiserHints();
        string path = source.Model;
        if (path.StartsWith(EmpiricalPrefix, StringComparison.OrdinalIgnoreCase))
        {
            string data = FileOf(path);
            if (string.IsNullOrWhiteSpace(data) || !File.Exists(data))
            {
                throw new FileNotFoundException($"empirical data set '{data}' does not exist (expected {EmpiricalPrefix}IMAGES.npy).", data);
            }

            var prediction = ResolvePrediction(source, hints, "an empirical model");
            return EmpiricalDenoiser.FromNpy(data, ScheduleFor(source, hints, prediction), prediction);
        }

        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"model file '{path}' does not exist.", path);
        }

        switch (JsonKind(path))
        {
            case "mixture":
                var prediction = ResolvePrediction(source, hints, "a Gaussian-mixture model");
                return new GaussianMixtureDenoiser(GaussianMixture.Load(path), ScheduleFor(source, hints, prediction), prediction);
            case "card":
                return LoadCard(source, hints, path, runtime);
            default:
                throw new InvalidDataException(
                    $"'{path}' is not a model this command can load (expected an ONNX model card with kind and onnx, or a Gaussian-mixture JSON with weights, means, stds).");
        }
    }

    /// <summary>An ONNX model: the card fixes prediction and schedule; a source or configuration that says otherwise is an error.</summary>
    private static OnnxDenoiser LoadCard(DenoiserSource source, DenoiserHints hints, string path, OnnxRuntimeOptions? runtime)
    {
        var card = ModelCard.Load(path);
        if (card.Kind != ModelKind.Denoiser)
        {
            throw new InvalidDataException($"model card '{path}' describes a {card.Kind.ToString().ToLowerInvariant()}, not a denoiser.");
        }

        string cardPrediction = PredictionNames.ToName(card.Prediction);
        if (Given(source) is { } given && given != card.Prediction)
        {
            throw new OptionException("prediction", $"{PredictionNames.ToName(given)} contradicts the model card '{path}' ({cardPrediction}).");
        }

        if (hints.Prediction is { } implied && implied != card.Prediction)
        {
            throw new ArgumentException($"the scheduler configuration's prediction {PredictionNames.ToName(implied)} contradicts the model card '{path}' ({cardPrediction}).");
        }

        if (source.NoiseSchedule is not null)
        {
            throw new OptionException("noise-schedule", $"does not apply to ONNX models: the model card '{path}' fixes the schedule ({card.Schedule!.Type}).");
        }

        return new OnnxDenoiser(card, runtime);
    }

    private static Prediction? Given(DenoiserSource source)
    {
        if (source.Prediction is not { } p)
        {
            return null;
        }

        try
        {
            return PredictionNames.Parse(p);
        }
        catch (ArgumentException)
        {
            throw new OptionException("prediction", $"must be flow, epsilon, v_prediction or sample (got '{p}').");
        }
    }

    private static Prediction ResolvePrediction(DenoiserSource source, DenoiserHints hints, string what)
    {
        var given = Given(source);
        if (given is not null && hints.Prediction is { } implied && implied != given)
        {
            throw new OptionException("prediction", $"{PredictionNames.ToName(given.Value)} contradicts the scheduler configuration's {PredictionNames.ToName(implied)}.");
        }

        return given ?? hints.Prediction ?? throw new OptionException("prediction", $"is required for {what}: flow or epsilon.");
    }

    /// <summary>Rectified flow for flow models, the noise schedule the source and hints pick for the others.</summary>
    private static NoiseSchedule ScheduleFor(DenoiserSource source, DenoiserHints hints, Prediction prediction) =>
        prediction == Prediction.FlowVelocity ? RectifiedFlowSchedule.Instance : NoiseModelSchedule(source, hints);

    /// <summary>The source's value, else the hint's, else the default; both given and different is an error.</summary>
    private static T Pick<T>(string key, T? given, T? implied, T fallback)
        where T : struct
    {
        if (implied is { } d)
        {
            return given is { } g && !EqualityComparer<T>.Default.Equals(g, d)
                ? throw new OptionException(key, $"{g} contradicts the scheduler configuration's {d}.")
                : d;
        }

        return given ?? fallback;
    }

    private static NoiseSchedule NoiseModelSchedule(DenoiserSource source, DenoiserHints hints)
    {
        string kind = source.NoiseSchedule ?? (hints.DiscreteNoise ? "discrete" : "continuous");
        string name = source.BetaSchedule ?? hints.BetaSchedule ?? "linear";
        if (hints.BetaSchedule is { } impliedName && source.BetaSchedule is { } givenName && givenName != impliedName)
        {
            throw new OptionException("beta-schedule", $"{givenName} contradicts the scheduler configuration's {impliedName}.");
        }

        double start = Pick("beta-start", source.BetaStart, hints.BetaStart, 0.0001), end = Pick("beta-end", source.BetaEnd, hints.BetaEnd, 0.02);
        int steps = Pick("train-steps", source.TrainSteps, hints.TrainSteps, 1000);
        switch (kind)
        {
            case "continuous":
                if (name is not ("linear" or "scaled_linear"))
                {
                    throw new OptionException("beta-schedule", $"must be linear or scaled_linear for the continuous noise schedule (got '{name}').");
                }

                // STORK's noise path: the continuous linear VP through the first and last discrete beta (times T).
                Check(start, end, steps);
                double[] betas = BetaSchedules.Create(name, start, end, steps);
                return VpLinearSchedule.FromDiscreteBetas(betas[0], betas[^1], steps);
            case "discrete":
                Check(start, end, steps);
                try
                {
                    return VpDiscreteSchedule.FromBetaSchedule(name, start, end, steps);
                }
                catch (ArgumentException e)
                {
                    throw new OptionException("beta-schedule", $"{name}: {e.Message}");
                }

            default:
                throw new OptionException("noise-schedule", $"must be continuous or discrete (got '{kind}').");
        }
    }

    private static void Check(double start, double end, int steps)
    {
        if (steps < 2)
        {
            throw new OptionException("train-steps", $"must be at least 2 (got {steps}).");
        }

        if (!(start > 0) || !(end > start) || !(end < 1))
        {
            throw new ArgumentException($"the betas must satisfy 0 < beta-start < beta-end < 1 (got {start}, {end}).");
        }
    }

    private static string? JsonKind(string path)
    {
        var json = JsonConfig.Parse(InputFile.ReadAllText(path, "model file"), path);
        return json.Has("onnx") && json.Has("kind") ? "card" : json.Has("means") ? "mixture" : null;
    }
}
