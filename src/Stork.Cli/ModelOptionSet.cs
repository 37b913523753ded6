using System.CommandLine;
using Stork.IO;
using Stork.Models;
using Stork.Onnx;

namespace Stork.Cli;

/// <summary>The options that pick a model (<see cref="DenoiserSource"/>); <see cref="DenoiserLoader"/> loads it.</summary>
internal sealed class ModelOptionSet
{
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

    private const string EmpiricalPrefix = "empirical:";

    public IEnumerable<Option> All => [Model, Prediction, BetaSchedule, BetaStart, BetaEnd, TrainSteps, NoiseSchedule];

    /// <summary>The model the options name (the shipped default when --model is absent); options left out are null.</summary>
    public DenoiserSource Read(ParseResult r)
    {
        T? Given<T>(Option<T> o)
            where T : struct => r.GetResult(o) is { Implicit: false } ? r.GetValue(o) : null;
        string? path = r.GetValue(Model);
        return new DenoiserSource
        {
            Model = string.IsNullOrWhiteSpace(path) ? ShippedModels.Default()
                : path.StartsWith(EmpiricalPrefix, StringComparison.OrdinalIgnoreCase) ? EmpiricalPrefix + (string.IsNullOrWhiteSpace(path[EmpiricalPrefix.Length..]) ? "" : ShippedModels.Resolve(path[EmpiricalPrefix.Length..]))
                : ShippedModels.Resolve(path),
            Prediction = r.GetValue(Prediction),
            BetaSchedule = r.GetResult(BetaSchedule) is { Implicit: false } ? r.GetValue(BetaSchedule) : null,
            BetaStart = Given(BetaStart),
            BetaEnd = Given(BetaEnd),
            TrainSteps = Given(TrainSteps),
            NoiseSchedule = r.GetValue(NoiseSchedule),
        };
    }

    /// <summary>Loads the model (<see cref="DenoiserLoader.Load"/>); dispose the result if it is <see cref="IDisposable"/>.</summary>
    public IDenoiser Load(ParseResult r, DenoiserHints? hints = null, OnnxRuntimeOptions? runtime = null) => DenoiserLoader.Load(Read(r), hints, runtime);

    /// <summary>Declares the model files the options name as inputs (outputs may not replace them).</summary>
    public void DeclareInputs(ParseResult r, OutputFiles files)
    {
        if (r.GetValue(Model) is { } path)
        {
            files.Input(DenoiserLoader.FileOf(path));
        }
    }

    /// <summary>Declares the files a loaded model was read from (an ONNX model's network, the shipped card).</summary>
    public static void DeclareInputs(IDenoiser denoiser, OutputFiles files)
    {
        foreach (string f in DenoiserLoader.FilesRead(denoiser))
        {
            files.Input(f);
        }
    }
}
