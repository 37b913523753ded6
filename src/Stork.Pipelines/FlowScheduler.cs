using Stork.Grids;
using Stork.Predictions;
using Stork.Schedules;
using Stork.Solvers;
using Stork.Solvers.Catalog;
using Stork.Solvers.Diffusers;

namespace Stork.Pipelines;

/// <summary>
/// Builds the solver of a flow-matching pipeline (FLUX.1, SD3, Qwen-Image) the way diffusers' <c>retrieve_timesteps</c>
/// drives a scheduler: the pipeline's own unshifted sigmas <c>linspace(1, 1/N, N)</c>, shifted statically or, when the
/// configuration sets <c>use_dynamic_shifting</c>, with <c>mu = calculate_shift(image_seq_len, ...)</c> from the same
/// configuration's <c>base_image_seq_len</c>, <c>max_image_seq_len</c>, <c>base_shift</c>, <c>max_shift</c>.
/// </summary>
internal static class FlowScheduler
{
    public sealed record Resolved(ISolver Solver, string Name, double? Mu);

    /// <summary>The model every flow pipeline's transformer is: velocity on rectified flow.</summary>
    public static readonly ModelSpec Flow = new(Prediction.FlowVelocity, RectifiedFlowSchedule.Instance);

    /// <summary>
    /// The solver for <paramref name="steps"/> steps: <paramref name="choice"/>'s name or configuration file, else the
    /// model folder's configuration; always on the pipeline's sigmas.
    /// </summary>
    /// <param name="folderConfigPath">The model folder's scheduler configuration.</param>
    /// <param name="choice">The caller's choice, if any.</param>
    /// <param name="steps">num_inference_steps.</param>
    /// <param name="imageSequenceLength">Image tokens, for the dynamic shift.</param>
    /// <param name="pipelineSigmas">
    /// True when the pipeline passes <c>sigmas = linspace(1, 1/N, N)</c> (FLUX.1, Qwen-Image); false when it passes
    /// none (SD3), so the scheduler's own grid runs, ending at the shifted smallest training sigma.
    /// </param>
    public static Resolved Create(string folderConfigPath, SchedulerChoice? choice, int steps, int imageSequenceLength, bool pipelineSigmas = true)
    {
        if (choice is { Name: not null, ConfigPath: not null })
        {
            throw new ArgumentException("choose the scheduler by name or by configuration file, not both.");
        }

        string configPath = choice?.ConfigPath ?? folderConfigPath;
        if (!File.Exists(configPath))
        {
            throw new FileNotFoundException($"scheduler config '{configPath}' does not exist.", configPath);
        }

        var json = JsonConfig.Load(configPath);
        double? mu = null;
        if (json.Bool("use_dynamic_shifting", false))
        {
            mu = TimeGrid.MuFromSequenceLength(imageSequenceLength,
                json.Int("base_image_seq_len", 256), json.Int("max_image_seq_len", 4096),
                json.Number("base_shift", 0.5), json.Number("max_shift", 1.15));
        }

        var config = SchedulerConfigReader.Parse(Stork.IO.InputFile.ReadAllText(configPath, "scheduler config"), mu, configPath);
        if (config.Prediction != Prediction.FlowVelocity)
        {
            throw new ArgumentException(
                $"{configPath}: prediction_type {PredictionNames.ToName(config.Prediction)} does not fit this pipeline, whose transformer predicts the flow velocity.");
        }

        string name;
        SolverSettings settings;
        if (choice?.Name is { } n)
        {
            if (!SolverRegistry.Contains(n))
            {
                throw new ArgumentException($"unknown scheduler '{n}' (expected one of: {string.Join(", ", SolverRegistry.Names)}).");
            }

            if (SolverRegistry.IsAdaptive(n))
            {
                throw new ArgumentException(
                    $"an adaptive solver ({n}) chooses its own evaluation times and is not supported in text-to-image pipelines; choose a fixed-step solver.");
            }

            name = n;
            settings = (choice.Settings ?? new SolverSettings()) with { FlowGrid = config.Settings.FlowGrid };

            // STORK in a flow pipeline: derivative order 1 unless set. Measured on the guided fashion-flux model and the
            // FLUX.1-shaped test graph (README, "Which STORK settings for FLUX.1"): order 2's extrapolation of a guided
            // velocity costs up to 40% in accuracy at 5-10 evaluations; order 1 is the most accurate there.
            if (n.StartsWith("stork-", StringComparison.OrdinalIgnoreCase) && settings.DerivativeOrder is null)
            {
                settings = settings with { DerivativeOrder = 1 };
            }

            // The corrector's automatic mode was chosen on unguided models; in pipelines it runs only when asked for.
            if (n.StartsWith("stork-", StringComparison.OrdinalIgnoreCase) && settings.Corrector is null)
            {
                settings = settings with { Corrector = Stork.Solvers.Stabilized.CorrectorMode.Off };
            }
        }
        else
        {
            name = config.Solver;
            settings = choice?.Variant is { } v ? config.Settings with { StorkVariant = v } : config.Settings;
        }

        if (pipelineSigmas)
        {
            settings = settings with { FlowGrid = settings.FlowGrid with { BaseSigmas = TimeGrid.PipelineSigmas(steps) } };
        }

        var solver = SolverRegistry.Create(name, Flow, steps, settings);
        string label = choice?.ConfigPath is { } p ? $"{name} ({Path.GetFileName(p)})" : choice?.Name is null ? $"{name} (model scheduler_config.json)" : name;
        return new Resolved(solver, label, mu);
    }
}
