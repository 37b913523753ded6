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

    public Option<string> BetaSchedule { get; } = new("--beta-schedule") { Description = "Noise models: diffusers beta schedule, linear or scaled_linear (squaredcos_cap_v2 too for the discrete schedule); the continuous VP runs through the first and last beta.", DefaultValueFactory = _ => "linear" };

    public Option<double> BetaStart { get; } = new("--beta-start") { Description = "Noise models: first beta.", DefaultValueFactory = _ => 0.0001 };

    public Option<double> BetaEnd { get; } = new("--beta-end") { Description = "Noise models: last beta.", DefaultValueFactory = _ => 0.02 };

    public Option<int> TrainSteps { get; } = new("--train-steps") { Description = "Noise models: training timesteps T (continuous time t = timestep / T).", DefaultValueFactory = _ => 1000 };

    public Option<string?> NoiseSchedule { get; } = new("--noise-schedule")
    {
        Description = "Noise models: continuous (the linear VP through the first and last beta, t = timestep / T; STORK's noise path) or "
            + "discrete (diffusers' alphas_cumprod at integer timesteps). Default: continuous for stork-* and STORKScheduler, discrete for the "
            + "diffusers solvers and their scheduler configs.",
    };

    public IEnumerable<Option> All => [Model, Prediction, BetaSchedule, BetaStart, BetaEnd, TrainSteps, NoiseSchedule];

    /// <summary>
    /// Loads the model the options name (the shipped default when --model is absent); <paramref name="defaults"/> fill in
    /// what the command line leaves out. Dispose the result if it is <see cref="IDisposable"/> (ONNX models).
    /// </summary>
    public IDenoiser Load(ParseResult r, ModelDefaults? defaults = null, OnnxRuntimeOptions? runtime = null)
    {
        _defaults = defaults ?? new ModelDefaults();
        string? path = r.GetValue(Model);
        if (string.IsNullOrWhiteSpace(path))
        {
            path = ShippedModels.Default();
        }
        else if (!path.StartsWith(EmpiricalPrefix, StringComparison.OrdinalIgnoreCase))
        {
            path = ShippedModels.Resolve(path);
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

    private ModelDefaults _defaults = new();

    /// <summary>Declares the model files the options name as inputs (outputs may not replace them).</summary>
    public void DeclareInputs(ParseResult r, OutputFiles files)
    {
        string? path = r.GetValue(Model);
        if (path is not null && path.StartsWith(EmpiricalPrefix, StringComparison.OrdinalIgnoreCase))
        {
            path = path[EmpiricalPrefix.Length..];
        }

        files.Input(path);
    }

    /// <summary>Declares the files a loaded model was read from (an ONNX model's network, the shipped card).</summary>
    public static void DeclareInputs(IDenoiser denoiser, OutputFiles files)
    {
        if (denoiser is OnnxDenoiser onnx)
        {
            files.Input(onnx.Card.CardPath);
            files.Input(onnx.Card.OnnxPath);
        }
    }

    private GaussianMixtureDenoiser LoadMixture(ParseResult r, string path)
    {
        var prediction = ResolvePrediction(r, "a Gaussian-mixture model");
        var mixture = GaussianMixture.Load(path);
        return new GaussianMixtureDenoiser(mixture, ScheduleFor(r, prediction), prediction);
    }

    private EmpiricalDenoiser LoadEmpirical(ParseResult r, string path)
    {
        path = string.IsNullOrWhiteSpace(path) ? path : ShippedModels.Resolve(path);
        if (string.IsNullOrWhiteSpace(path) || !File.Exists(path))
        {
            throw new CliException($"empirical data set '{path}' does not exist (expected {EmpiricalPrefix}IMAGES.npy).");
        }

        var prediction = ResolvePrediction(r, "an empirical model");
        return EmpiricalDenoiser.FromNpy(path, ScheduleFor(r, prediction), prediction);
    }

    /// <summary>An ONNX model: the card fixes prediction and schedule; options that say otherwise are errors.</summary>
    private OnnxDenoiser LoadCard(ParseResult r, string path, OnnxRuntimeOptions? runtime)
    {
        var card = ModelCard.Load(path);
        if (card.Kind != ModelKind.Denoiser)
        {
            throw new CliException($"model card '{path}' describes a {card.Kind.ToString().ToLowerInvariant()}, not a denoiser.");
        }

        Prediction? given = r.GetValue(Prediction) is { } p ? ParsePrediction(p) : null;
        foreach (var (what, implied) in new[] { ("--prediction", given), ("the scheduler configuration's prediction", _defaults.Prediction) })
        {
            if (implied is { } other && other != card.Prediction)
            {
                throw new CliException(
                    $"{what} {PredictionNames.ToName(other)} contradicts the model card '{path}' ({PredictionNames.ToName(card.Prediction)}).");
            }
        }

        if (r.GetResult(NoiseSchedule) is { Implicit: false })
        {
            throw new CliException($"--noise-schedule does not apply to ONNX models: the model card '{path}' fixes the schedule ({card.Schedule!.Type}).");
        }

        return new OnnxDenoiser(card, runtime);
    }

    private Prediction ResolvePrediction(ParseResult r, string what)
    {
        Prediction? given = r.GetValue(Prediction) is { } p ? ParsePrediction(p) : null;
        if (given is not null && _defaults.Prediction is { } implied && implied != given)
        {
            throw new CliException($"--prediction {PredictionNames.ToName(given.Value)} contradicts the scheduler configuration's {PredictionNames.ToName(implied)}.");
        }

        return given ?? _defaults.Prediction ?? throw new CliException($"{what} needs --prediction flow|epsilon.");
    }

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

    /// <summary>Rectified flow for flow models, the noise schedule the options and defaults pick for the others.</summary>
    private NoiseSchedule ScheduleFor(ParseResult r, Prediction prediction) =>
        prediction == Predictions.Prediction.FlowVelocity ? RectifiedFlowSchedule.Instance : NoiseModelSchedule(r);

    /// <summary>A value from the command line, else from the defaults, else the option's default; both given and different is an error.</summary>
    private static T Pick<T>(ParseResult r, Option<T> option, T? implied)
        where T : struct
    {
        bool explicitly = r.GetResult(option) is { Implicit: false };
        T value = r.GetValue(option);
        if (implied is { } d)
        {
            if (explicitly && !EqualityComparer<T>.Default.Equals(value, d))
            {
                throw new CliException($"{option.Name} {value} contradicts the scheduler configuration's {d}.");
            }

            return d;
        }

        return value;
    }

    private NoiseSchedule NoiseModelSchedule(ParseResult r)
    {
        string kind = r.GetValue(NoiseSchedule) ?? (_defaults.DiscreteNoise ? "discrete" : "continuous");
        string name = r.GetValue(BetaSchedule)!;
        if (_defaults.BetaSchedule is { } implied)
        {
            if (r.GetResult(BetaSchedule) is { Implicit: false } && name != implied)
            {
                throw new CliException($"--beta-schedule {name} contradicts the scheduler configuration's {implied}.");
            }

            name = implied;
        }

        double start = Pick(r, BetaStart, _defaults.BetaStart), end = Pick(r, BetaEnd, _defaults.BetaEnd);
        int steps = Pick(r, TrainSteps, _defaults.TrainSteps);
        switch (kind)
        {
            case "continuous":
                return ContinuousVp(name, start, end, steps);
            case "discrete":
                Check(start, end, steps);
                try
                {
                    return VpDiscreteSchedule.FromBetaSchedule(name, start, end, steps);
                }
                catch (ArgumentException e)
                {
                    throw new CliException($"--beta-schedule: {e.Message}");
                }

            default:
                throw new CliException($"--noise-schedule must be continuous or discrete (got '{kind}').");
        }
    }

    /// <summary>STORK's noise path: the continuous linear VP through the first and last discrete beta (times T).</summary>
    private static VpLinearSchedule ContinuousVp(string name, double start, double end, int steps)
    {
        if (name is not ("linear" or "scaled_linear"))
        {
            throw new CliException($"--beta-schedule must be linear or scaled_linear for the continuous noise schedule (got '{name}').");
        }

        Check(start, end, steps);
        double[] betas = BetaSchedules.Create(name, start, end, steps);
        return VpLinearSchedule.FromDiscreteBetas(betas[0], betas[^1], steps);
    }

    private static void Check(double start, double end, int steps)
    {
        if (steps < 2)
        {
            throw new CliException($"--train-steps must be at least 2 (got {steps}).");
        }

        if (!(start > 0) || !(end > start) || !(end < 1))
        {
            throw new CliException($"betas must satisfy 0 < --beta-start < --beta-end < 1 (got {start}, {end}).");
        }
    }

    private static string? ModelJsonKind(string path)
    {
        try
        {
            using var doc = JsonDocument.Parse(Stork.IO.InputFile.ReadAllText(path, "model file"));
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
