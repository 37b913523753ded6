using Stork.Predictions;
using Stork.Schedules;
using Stork.Solvers;
using Stork.Solvers.Catalog;
using Stork.Solvers.Diffusers;
using Stork.Solvers.Stabilized;
using Stork.Solvers.Standard;

namespace Stork.Pipelines;

/// <summary>
/// Builds the solver of a UNet pipeline (SD1.5/2.x, SDXL) the way diffusers drives its scheduler: the discrete VP
/// schedule of the configuration's betas, its prediction type, timestep spacing and steps offset, the UNet fed the
/// scheduler's timestep cast to float. A solver name is read as <c>Class.from_config(model config)</c> would read the
/// folder's configuration (betas, spacing, offset carry over, other classes' options are ignored). Upstream STORK runs
/// its own linear-VP drift through the first and last beta, the UNet fed <c>1000 t</c>.
/// </summary>
internal static class DiscreteScheduler
{
    /// <summary>
    /// The solver, its label, the model spec it steps, what the solver's time is multiplied by for the UNet, and the
    /// factor of the initial noise (diffusers' <c>init_noise_sigma</c> in this library's VP state).
    /// </summary>
    public sealed record Resolved(ISolver Solver, string Name, ModelSpec Model, double TimestepScale, double InitialNoiseScale);

    private static readonly Dictionary<string, string> ClassOfSolver = new(StringComparer.OrdinalIgnoreCase)
    {
        ["euler"] = "EulerDiscreteScheduler",
        ["ddim"] = "DDIMScheduler",
        ["dpm++2m"] = "DPMSolverMultistepScheduler",
        ["dpm++3m"] = "DPMSolverMultistepScheduler",
        ["unipc"] = "UniPCMultistepScheduler",
        ["deis"] = "DEISMultistepScheduler",
    };

    public static Resolved Create(string folderConfigPath, SchedulerChoice? choice, int steps)
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

        string json = File.ReadAllText(configPath);
        string name;
        SolverSettings settings;
        SchedulerConfig config;
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

            // Class.from_config(folder config): the model's betas, prediction type, spacing and offset carry over.
            config = SchedulerConfigReader.ParseAs(json, null, configPath, ClassOfSolver.GetValueOrDefault(n, "DDIMScheduler"));
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
            config = SchedulerConfigReader.Parse(json, null, configPath);
            name = config.Solver;
            settings = choice?.Variant is { } v ? config.Settings with { StorkVariant = v } : config.Settings;
        }

        if (config.Prediction == Prediction.FlowVelocity)
        {
            throw new ArgumentException($"{configPath}: prediction_type flow_prediction does not fit this pipeline, whose UNet predicts noise (epsilon or v).");
        }

        bool stork = name.StartsWith("stork-", StringComparison.OrdinalIgnoreCase);
        bool upstream = stork && settings.StorkVariant == StorkVariant.Upstream;
        if (stork && settings.Corrector is null)
        {
            // The corrector's automatic mode was chosen on unguided models; in pipelines it runs only when asked for.
            settings = settings with { Corrector = CorrectorMode.Off };
        }
        double[] betas = BetaSchedules.Create(config.BetaSchedule, config.BetaStart, config.BetaEnd, config.TrainSteps);
        NoiseSchedule schedule = upstream
            ? VpLinearSchedule.FromDiscreteBetas(betas[0], betas[^1], config.TrainSteps)
            : new VpDiscreteSchedule(betas);
        var model = new ModelSpec(config.Prediction, schedule);
        var solver = SolverRegistry.Create(name, model, steps, settings);
        double initial = 1.0;
        if (solver is StandardSolver standard && name.ToLowerInvariant() is "euler" or "heun")
        {
            initial = StandardGrids.VeInitialNoiseScale(standard.Grid, settings.Diffusers);
        }

        string label = choice?.ConfigPath is { } p ? $"{name} ({Path.GetFileName(p)})" : choice?.Name is null ? $"{name} (model scheduler_config.json)" : name;
        return new Resolved(solver, label, model, upstream ? config.TrainSteps : 1.0, initial);
    }
}
