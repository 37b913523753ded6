using System.Globalization;
using Stork.Grids;
using Stork.IO;
using Stork.Predictions;
using Stork.Schedules;
using Stork.Solvers;
using Stork.Solvers.Catalog;
using Stork.Solvers.Diffusers;
using Stork.Solvers.Stabilized;
using Stork.Solvers.Standard;

namespace Stork.Pipelines;

/// <summary>How a family's pipeline drives its scheduler (diffusers' <c>retrieve_timesteps</c> and <c>set_timesteps</c>).</summary>
internal enum SchedulerKind
{
    /// <summary>
    /// A flow transformer given the pipeline's own sigmas <c>linspace(1, 1/N, N)</c>, shifted as the configuration says,
    /// with <c>mu</c> from the image sequence length under dynamic shifting (FLUX.1, Qwen-Image).
    /// </summary>
    FlowPipelineSigmas,

    /// <summary>A flow transformer on the scheduler's own grid, ending at the shifted smallest training sigma, fed <c>1000 sigma</c> (SD3).</summary>
    FlowOwnGrid,

    /// <summary>
    /// A noise-predicting UNet on the discrete VP schedule of the configuration's betas, fed the scheduler's timestep
    /// (SD1.5/2.x, SDXL).
    /// </summary>
    DiscreteVp,
}

/// <summary>
/// The solver of a pipeline run: the caller's choice (a registered name with settings, or a configuration file) or the
/// model folder's <c>scheduler/scheduler_config.json</c>, read once, on the family's time grid. A name is read as
/// <c>Class.from_config(model config)</c> would read the folder's configuration. A registered solver's pipeline defaults
/// (<see cref="SolverRegistry.WithPipelineDefaults"/>) fill what the caller left unset.
/// </summary>
/// <param name="Solver">The solver.</param>
/// <param name="Name">Its label: the name, and the configuration file it came from.</param>
/// <param name="Model">What the network predicts, on which schedule.</param>
/// <param name="TimestepScale">What the solver's time is multiplied by for the network.</param>
/// <param name="InitialNoiseScale">The factor of the initial noise (diffusers' <c>init_noise_sigma</c> in this library's VP state).</param>
/// <param name="Mu">The dynamic shift, when the configuration asks for one.</param>
/// <param name="SolverName">The registry name of <paramref name="Solver"/>.</param>
/// <param name="Settings">The settings it was built with, the pipeline's defaults applied.</param>
internal sealed record PipelineScheduler(ISolver Solver, string Name, ModelSpec Model, double TimestepScale, double InitialNoiseScale, double? Mu,
    string SolverName, SolverSettings Settings)
{
    /// <summary>Every option the solver reads, as this run resolved it (<see cref="SolverSettingsText.Resolved"/>).</summary>
    public Dictionary<string, string> ResolvedOptions(int steps) => SolverSettingsText.Resolved(SolverName, Settings, Model, steps, Solver);

    /// <summary>The model every flow transformer is: velocity on rectified flow.</summary>
    public static readonly ModelSpec Flow = new(Prediction.FlowVelocity, RectifiedFlowSchedule.Instance);

    // The diffusers class whose from_config reads the folder's configuration for a named solver (discrete VP).
    private static readonly Dictionary<string, string> ClassOfSolver = new(StringComparer.OrdinalIgnoreCase)
    {
        ["euler"] = "EulerDiscreteScheduler",
        ["ddim"] = "DDIMScheduler",
        ["dpm++2m"] = "DPMSolverMultistepScheduler",
        ["dpm++3m"] = "DPMSolverMultistepScheduler",
        ["unipc"] = "UniPCMultistepScheduler",
        ["deis"] = "DEISMultistepScheduler",
    };

    /// <summary>The solver for <paramref name="steps"/> steps of a <paramref name="kind"/> family.</summary>
    /// <param name="folderConfigPath">The model folder's scheduler configuration.</param>
    /// <param name="choice">The caller's choice, if any.</param>
    /// <param name="steps">num_inference_steps.</param>
    /// <param name="kind">How the family drives its scheduler.</param>
    /// <param name="imageTokens">Image tokens, for the dynamic shift of flow families.</param>
    /// <param name="folderGrids">
    /// The folder's tuned grids (<c>_stork_defaults.tuned_grids</c>, <see cref="FolderDefaults"/>): a solver on its native
    /// grid at a step count the folder has a grid for walks it, as a model card's <c>tuned_grids</c>, when the grid was
    /// tuned under this run's dynamic shift (<see cref="TunedGrid.Mu"/>).
    /// </param>
    public static PipelineScheduler Resolve(string folderConfigPath, SchedulerChoice? choice, int steps, SchedulerKind kind, int imageTokens,
        IReadOnlyList<TunedGrid>? folderGrids = null)
    {
        if (choice is { Name: not null, ConfigPath: not null })
        {
            throw new ArgumentException("choose the scheduler by name or by configuration file, not both.", nameof(choice));
        }

        string configPath = choice?.ConfigPath ?? folderConfigPath;
        if (!File.Exists(configPath))
        {
            throw new FileNotFoundException($"scheduler config '{configPath}' does not exist.", configPath);
        }

        string text = IO.InputFile.ReadAllText(configPath, "scheduler config");
        if (choice?.Name is { } n && SolverRegistry.IsAdaptive(n))
        {
            throw new ArgumentException(
                $"an adaptive solver ({n}) chooses its own evaluation times and is not supported in text-to-image pipelines; choose a fixed-step solver.", nameof(choice));
        }

        var resolved = kind == SchedulerKind.DiscreteVp
            ? Discrete(text, configPath, choice, steps, folderGrids ?? [])
            : FlowMatching(text, configPath, choice, steps, kind, imageTokens, folderGrids ?? []);
        string label = choice?.ConfigPath is { } p ? $"{resolved.Name} ({Path.GetFileName(p)})" : choice?.Name is null ? $"{resolved.Name} (model scheduler_config.json)" : resolved.Name;
        return resolved with { Name = label };
    }

    private static PipelineScheduler FlowMatching(string text, string configPath, SchedulerChoice? choice, int steps, SchedulerKind kind, int imageTokens,
        IReadOnlyList<TunedGrid> folderGrids)
    {
        var json = JsonConfig.Parse(text, configPath);
        double? mu = null;
        if (json.Bool("use_dynamic_shifting", false))
        {
            mu = TimeGrid.MuFromSequenceLength(imageTokens,
                json.Int("base_image_seq_len", 256), json.Int("max_image_seq_len", 4096),
                json.Number("base_shift", 0.5), json.Number("max_shift", 1.15));
        }

        var config = SchedulerConfigReader.Parse(text, mu, configPath);
        if (config.Prediction != Prediction.FlowVelocity)
        {
            throw new ArgumentException(
                $"{configPath}: prediction_type {PredictionNames.ToName(config.Prediction)} does not fit this pipeline, whose transformer predicts the flow velocity.");
        }

        string name;
        SolverSettings settings;
        if (choice?.Name is { } n)
        {
            name = n;
            var own = choice.Settings ?? new SolverSettings();
            // A given grid's sigmas are absolute: one tuned under another dynamic shift (another image size) does not fit.
            if (own.Times is not null && own.FlowGrid.Mu is { } tunedMu && !SameMu(tunedMu, mu))
            {
                throw new ArgumentException(string.Create(CultureInfo.InvariantCulture,
                    $"the given grid was tuned under mu = {tunedMu:0.####}; this run's dynamic shift is {(mu is { } m ? $"mu = {m:0.####} ({imageTokens} image tokens)" : "none")}: tune a grid for this image size."));
            }

            settings = SolverRegistry.WithPipelineDefaults(n, own with { FlowGrid = config.Settings.FlowGrid }, flow: true);
        }
        else
        {
            name = config.Solver;
            settings = choice?.Variant is { } v ? config.Settings with { StorkVariant = v } : config.Settings;
        }

        if (kind == SchedulerKind.FlowPipelineSigmas)
        {
            settings = settings with { FlowGrid = settings.FlowGrid with { BaseSigmas = TimeGrid.PipelineSigmas(steps) } };
        }

        settings = SolverRegistry.WithModelGrid(name, Flow with { TunedGrids = [.. folderGrids.Where(g => g.Mu is null ? mu is null : SameMu(g.Mu.Value, mu))] }, steps, settings);
        var solver = SolverRegistry.Create(name, Flow, steps, settings);
        return new PipelineScheduler(solver, name, Flow, kind == SchedulerKind.FlowOwnGrid ? 1000.0 : 1.0, 1.0, mu, name, settings);
    }

    // Dynamic shifts equal to the precision a grid file records them with.
    private static bool SameMu(double tuned, double? run) => run is { } m && Math.Abs(tuned - m) <= 1e-9 * Math.Max(1, Math.Abs(m));

    private static PipelineScheduler Discrete(string text, string configPath, SchedulerChoice? choice, int steps, IReadOnlyList<TunedGrid> folderGrids)
    {
        string name;
        SolverSettings settings;
        SchedulerConfig config;
        if (choice?.Name is { } n)
        {
            // Class.from_config(folder config): the model's betas, prediction type, spacing and offset carry over.
            config = SchedulerConfigReader.ParseAs(text, null, configPath, ClassOfSolver.GetValueOrDefault(n, "DDIMScheduler"));
            name = n;
            var own = choice.Settings ?? new SolverSettings();
            settings = ClassOfSolver.ContainsKey(n)
                ? config.Settings with
                {
                    SolverOrder = own.SolverOrder ?? config.Settings.SolverOrder,
                    UniPcVariant = own.UniPcVariant,
                    Grid = own.Grid,
                }
                : own with { Diffusers = own.Diffusers with { TrainSteps = config.TrainSteps, BetaStart = config.BetaStart } };
        }
        else
        {
            config = SchedulerConfigReader.Parse(text, null, configPath);
            name = config.Solver;
            settings = choice?.Variant is { } v ? config.Settings with { StorkVariant = v } : config.Settings;
        }

        if (config.Prediction == Prediction.FlowVelocity)
        {
            throw new ArgumentException($"{configPath}: prediction_type flow_prediction does not fit this pipeline, whose UNet predicts noise (epsilon or v).");
        }

        settings = SolverRegistry.WithPipelineDefaults(name, settings, flow: false);

        // Upstream STORK runs its own linear-VP drift through the first and last beta, the UNet fed 1000 t.
        bool upstream = settings.StorkVariant == StorkVariant.Upstream && SolverRegistry.Reads(name).Contains(SolverOption.StorkVariant);
        double[] betas = BetaSchedules.Create(config.BetaSchedule, config.BetaStart, config.BetaEnd, config.TrainSteps);
        NoiseSchedule schedule = upstream
            ? VpLinearSchedule.FromDiscreteBetas(betas[0], betas[^1], config.TrainSteps)
            : new VpDiscreteSchedule(betas);
        var model = new ModelSpec(config.Prediction, schedule);
        settings = upstream ? settings : SolverRegistry.WithModelGrid(name, model with { TunedGrids = [.. folderGrids.Where(g => g.Mu is null)] }, steps, settings);
        var solver = SolverRegistry.Create(name, model, steps, settings);
        // diffusers' Euler and Heun discrete schedulers start from noise of scale init_noise_sigma.
        double initial = solver is EulerSolver or HeunSolver ? StandardGrids.VeInitialNoiseScale(((StandardSolver)solver).Grid, settings.Diffusers) : 1.0;
        return new PipelineScheduler(solver, name, model, upstream ? config.TrainSteps : 1.0, initial, null, name, settings);
    }
}
