using System.CommandLine;
using System.Text.Json;
using Stork.Models;
using Stork.Predictions;
using Stork.Schedules;

namespace Stork.Cli;

/// <summary>The options that pick a model, and loading it.</summary>
internal sealed class ModelOptionSet
{
    public Option<string?> Model { get; } = new("--model") { Description = "Model: a Gaussian-mixture JSON (weights, means, stds)." };

    public Option<string?> Prediction { get; } = new("--prediction") { Description = "What the model predicts: flow or epsilon (v_prediction and sample too, for the corrected STORK and the diffusers solvers)." };

    public Option<string> BetaSchedule { get; } = new("--beta-schedule") { Description = "Noise models: diffusers beta schedule, linear or scaled_linear; STORK builds its continuous VP path from the first and last beta.", DefaultValueFactory = _ => "linear" };

    public Option<double> BetaStart { get; } = new("--beta-start") { Description = "Noise models: first beta.", DefaultValueFactory = _ => 0.0001 };

    public Option<double> BetaEnd { get; } = new("--beta-end") { Description = "Noise models: last beta.", DefaultValueFactory = _ => 0.02 };

    public Option<int> TrainSteps { get; } = new("--train-steps") { Description = "Noise models: training timesteps T (continuous time t = timestep / T).", DefaultValueFactory = _ => 1000 };

    public IEnumerable<Option> All => [Model, Prediction, BetaSchedule, BetaStart, BetaEnd, TrainSteps];

    /// <summary>Loads the model the options name.</summary>
    public IDenoiser Load(ParseResult r)
    {
        string? path = r.GetValue(Model);
        if (string.IsNullOrWhiteSpace(path))
        {
            throw new CliException("--model is required: a Gaussian-mixture JSON file.");
        }

        if (!File.Exists(path))
        {
            throw new CliException($"model file '{path}' does not exist.");
        }

        if (IsGaussianMixture(path))
        {
            return LoadMixture(r, path);
        }

        throw new CliException($"'{path}' is not a model this command can load (expected a Gaussian-mixture JSON with weights, means, stds).");
    }

    private IDenoiser LoadMixture(ParseResult r, string path)
    {
        string? p = r.GetValue(Prediction) ?? throw new CliException("a Gaussian-mixture model needs --prediction flow|epsilon.");
        Prediction prediction;
        try
        {
            prediction = PredictionNames.Parse(p);
        }
        catch (ArgumentException e)
        {
            throw new CliException(e.Message);
        }

        var mixture = GaussianMixture.Load(path);
        NoiseSchedule schedule = prediction == Predictions.Prediction.FlowVelocity ? RectifiedFlowSchedule.Instance : ContinuousVp(r);
        return new GaussianMixtureDenoiser(mixture, schedule, prediction);
    }

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

    private static bool IsGaussianMixture(string path)
    {
        try
        {
            using var doc = JsonDocument.Parse(File.ReadAllText(path));
            return doc.RootElement.ValueKind == JsonValueKind.Object && doc.RootElement.TryGetProperty("means", out _);
        }
        catch (JsonException e)
        {
            throw new CliException($"'{path}' is not valid JSON: {e.Message}");
        }
    }
}
