using System.Text.Json;
using System.Text.Json.Nodes;
using Stork.Models;
using Stork.Predictions;
using Stork.Schedules;
using Stork.Solvers;
using Stork.Solvers.Catalog;
using Stork.Solvers.Diffusers;

namespace Stork.Tests.Solvers;

/// <summary>A golden diffusers baseline case: its scheduler_config.json, model and solver.</summary>
internal static class BaselineCase
{
    public static IEnumerable<string> Names => Golden.CaseNames("baselines");

    /// <summary>A real scheduler_config.json built from the case's <c>class</c> and <c>config</c>.</summary>
    public static string SchedulerConfigJson(GoldenCase c)
    {
        var node = new JsonObject { ["_class_name"] = c.Json.GetProperty("class").GetString() };
        foreach (var p in c.Json.GetProperty("config").EnumerateObject())
        {
            node[p.Name] = JsonNode.Parse(p.Value.GetRawText());
        }

        return node.ToJsonString();
    }

    public static int Steps(GoldenCase c) => c.Json.GetProperty("num_inference_steps").GetInt32();

    public static double[] ModelTimes(GoldenCase c) =>
        c.Json.GetProperty("model_times").EnumerateArray().Select(e => e.GetDouble()).ToArray();

    /// <summary>The model a configuration describes (flow, or a discrete / continuous VP with its betas).</summary>
    public static IDenoiser Model(SchedulerConfig config, string mixturePath)
    {
        NoiseSchedule schedule = config.Prediction == Prediction.FlowVelocity
            ? RectifiedFlowSchedule.Instance
            : config.ContinuousNoise
                ? VpLinearSchedule.FromDiscreteBetas(config.BetaStart, config.BetaEnd, config.TrainSteps)
                : VpDiscreteSchedule.FromBetaSchedule(config.BetaSchedule, config.BetaStart, config.BetaEnd, config.TrainSteps);
        return new GaussianMixtureDenoiser(GaussianMixture.Load(mixturePath), schedule, config.Prediction);
    }

    public static (IDenoiser Denoiser, ISolver Solver) Build(GoldenCase c)
    {
        var config = SchedulerConfigReader.Parse(SchedulerConfigJson(c));
        var denoiser = Model(config, c.ModelPath);
        return (denoiser, SolverRegistry.Create(config.Solver, ModelSpec.Of(denoiser), Steps(c), config.Settings));
    }
}
