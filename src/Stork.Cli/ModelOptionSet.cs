using System.CommandLine;
using System.Text.Json;
using Stork.Models;
using Stork.Onnx;
using Stork.Predictions;
using Stork.Schedules;

namespace Stork.Cli;

/// <summary>The options that pick a model, and loading it.</summary>
internal sealed class ModelOptionSet
{
    /// <summary>The prefix of <c>--model empirical:PATH</c>.</summary>
    public const string EmpiricalPrefix = "empirical:";

    public Option<string?> Model { get; } = new("--model")
    {
        Description = "Model: an ONNX model card JSON (kind denoiser; e.g. models/fashion-eps-unet.json), a Gaussian-mixture JSON " +
            "(weights, means, stds; needs --prediction), or empirical:IMAGES.npy, the exact denoiser of a set of images " +
            "(uint8 [N, H, W] scaled to [-1, 1]; needs --prediction; e.g. empirical:models/fashion-mnist-train1000.npy). " +
            "Default: the shipped flow model models/" + ShippedModels.DefaultCard + ".",
    };

    public Option<string?> Prediction { get; } = new("--prediction") { Description = "What the model predicts: flow or epsilon (v_prediction and sample too, for the corrected STORK and the diffusers solvers)." };

    public Option<string> BetaSchedule { get; } = new("--beta-schedule") { Description = "Noise models: diffusers beta schedule, linear or scaled_linear; STORK builds its continuous VP path from the first and last beta.", DefaultValueFactory = _ => "linear" };

    public Option<double> BetaStart { get; } = new("--beta-start") { Description = "Noise models: first beta.", DefaultValueFactory = _ => 0.0001 };

    public Option<double> BetaEnd { get; } = new("--beta-end") { Description = "Noise models: last beta.", DefaultValueFactory = _ => 0.02 };

    public Option<int> TrainSteps { get; } = new("--train-steps") { Description = "Noise models: training timesteps T (continuous time t = timestep / T).", DefaultValueFactory = _ => 1000 };

    public IEnumerable<Option> All => [Model, Prediction, BetaSchedule, BetaStart, BetaEnd, TrainSteps];

    /// <summary>Loads the model the options name (the shipped default when --model is absent); dispose it if it is <see cref="IDisposable"/>.</summary>
    public IDenoiser Load(ParseResult r, OnnxRuntimeOptions? runtime = null)
    {
        string? path = r.GetValue(Model);
        if (string.IsNullOrWhiteSpace(path))
        {
            path = ShippedModels.Default();
        }

        if (path.StartsWith(EmpiricalPrefix, StringComparison.OrdinalIgnoreCase))
        {
            return LoadEmpirical(r, path[EmpiricalPrefix.Length..]);
        }

        if (!File.Exists(path))
        {
            throw new CliException($"model file '{path}' does not exist.");
        }

        return ModelJsonKind(path) switch
        {
            "mixture" => LoadMixture(r, path),
            "card" => LoadCard(r, path, runtime),
            _ => throw new CliException(
                $"'{path}' is not a model this command can load (expected an ONNX model card with kind and onnx, or a Gaussian-mixture JSON with weights, means, stds)."),
        };
    }

    private IDenoiser LoadMixture(ParseResult r, string path)
    {
        var prediction = RequiredPrediction(r, "a Gaussian-mixture model");
        var mixture = GaussianMixture.Load(path);
        return new GaussianMixtureDenoiser(mixture, ScheduleFor(r, prediction), prediction);
    }

    private IDenoiser LoadEmpirical(ParseResult r, string path)
    {
        if (string.IsNullOrWhiteSpace(path) || !File.Exists(path))
        {
            throw new CliException($"empirical data set '{path}' does not exist (expected {EmpiricalPrefix}IMAGES.npy).");
        }

        var prediction = RequiredPrediction(r, "an empirical model");
        return EmpiricalDenoiser.FromNpy(path, ScheduleFor(r, prediction), prediction);
    }

    private IDenoiser LoadCard(ParseResult r, string path, OnnxRuntimeOptions? runtime)
    {
        var card = ModelCard.Load(path);
        if (card.Kind != ModelKind.Denoiser)
        {
            throw new CliException($"model card '{path}' describes a {card.Kind.ToString().ToLowerInvariant()}, not a denoiser.");
        }

        if (r.GetValue(Prediction) is { } p && ParsePrediction(p) != card.Prediction)
        {
            throw new CliException($"--prediction {p} contradicts the model card '{path}' ({PredictionNames.ToName(card.Prediction)}); leave it out.");
        }

        return new OnnxDenoiser(card, runtime);
    }

    private Prediction RequiredPrediction(ParseResult r, string what) =>
        ParsePrediction(r.GetValue(Prediction) ?? throw new CliException($"{what} needs --prediction flow|epsilon."));

    private static Prediction ParsePrediction(string p)
    {
        try
        {
            return PredictionNames.Parse(p);
        }
        catch (ArgumentException e)
        {
            throw new CliException(e.Message);
        }
    }

    /// <summary>Rectified flow for flow models, STORK's continuous VP path for the others.</summary>
    private NoiseSchedule ScheduleFor(ParseResult r, Prediction prediction) =>
        prediction == Predictions.Prediction.FlowVelocity ? RectifiedFlowSchedule.Instance : ContinuousVp(r);

    /// <summary>STORK's noise path: the continuous linear VP through the first and last discrete beta (times T).</summary>
    private VpLinearSchedule ContinuousVp(ParseResult r)
    {
        string name = r.GetValue(BetaSchedule)!;
        if (name is not ("linear" or "scaled_linear"))
        {
            throw new CliException($"--beta-schedule must be linear or scaled_linear (got '{name}').");
        }

        double start = r.GetValue(BetaStart), end = r.GetValue(BetaEnd);
        int steps = r.GetValue(TrainSteps);
        if (steps < 2)
        {
            throw new CliException($"--train-steps must be at least 2 (got {steps}).");
        }

        if (!(start > 0) || !(end > start) || !(end < 1))
        {
            throw new CliException($"betas must satisfy 0 < --beta-start < --beta-end < 1 (got {start}, {end}).");
        }

        double[] betas = BetaSchedules.Create(name, start, end, steps);
        return VpLinearSchedule.FromDiscreteBetas(betas[0], betas[^1], steps);
    }

    private static string? ModelJsonKind(string path)
    {
        try
        {
            using var doc = JsonDocument.Parse(File.ReadAllText(path));
            var root = doc.RootElement;
            return ModelCard.IsCard(root) ? "card"
                : root.ValueKind == JsonValueKind.Object && root.TryGetProperty("means", out _) ? "mixture"
                : null;
        }
        catch (JsonException e)
        {
            throw new CliException($"'{path}' is not valid JSON: {e.Message}");
        }
    }
}
