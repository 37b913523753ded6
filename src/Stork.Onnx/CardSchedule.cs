using System.Text.Json;
using Stork.Schedules;

namespace Stork.Onnx;

/// <summary>
/// The card's <c>schedule</c> object: <c>{"type": "rectified-flow"}</c>, <c>{"type": "vp-linear", "beta_min", "beta_max",
/// "t_min", "t_max"}</c>, <c>{"type": "vp-discrete", "beta_schedule", "beta_start", "beta_end", "train_steps"}</c> or
/// <c>{"type": "vp-cosine", "s", "t_max"}</c>.
/// </summary>
public sealed record CardSchedule(string Type, NoiseSchedule Schedule, double TrainedTMin, double TrainedTMax)
{
    /// <summary>
    /// Refuses a model evaluation at <paramref name="time"/> outside the trained range
    /// [<see cref="TrainedTMin"/>, <see cref="TrainedTMax"/>] (beyond a relative 1e-6 of it, for rounding in the grids):
    /// the network has never seen such times, and a grid or end time that reaches them is a mistake to fix, not to clamp.
    /// </summary>
    public void RequireTrained(double time, string cardPath)
    {
        double slack = 1e-6 * (TrainedTMax - TrainedTMin);
        if (time < TrainedTMin - slack || time > TrainedTMax + slack)
        {
            throw new ArgumentException(
                $"model card '{cardPath}': the solver evaluates the network at t = {time}, outside its trained range [{TrainedTMin}, {TrainedTMax}] (schedule.t_min / t_max); choose a grid or end time inside it.");
        }
    }

    /// <summary>The accepted values of the card's <c>schedule.type</c>.</summary>
    public static IReadOnlyList<string> Types { get; } = ["rectified-flow", "vp-linear", "vp-discrete", "vp-cosine"];

    internal static CardSchedule Parse(CardJson json, JsonElement root)
    {
        var s = json.Required(root, "schedule");
        string type = json.String(s, "type", "schedule.");
        const string p = "schedule.";
        try
        {
            switch (type)
            {
                case "rectified-flow":
                    return new(type, RectifiedFlowSchedule.Instance, 0.0, 1.0);
                case "vp-linear":
                    {
                        double tMin = json.OptionalNumber(s, "t_min", 0.0, p), tMax = json.OptionalNumber(s, "t_max", 1.0, p);
                        if (!(tMin >= 0 && tMax > tMin && tMax <= 1))
                        {
                            throw json.Error($"schedule needs 0 <= t_min < t_max <= 1 (got {tMin}, {tMax}).");
                        }

                        // The schedule carries the trained range, so that every solver's default grid stays inside it.
                        var schedule = new VpLinearSchedule(json.OptionalNumber(s, "beta_min", 0.1, p), json.OptionalNumber(s, "beta_max", 20.0, p)).WithTimeRange(tMin, tMax);
                        return new(type, schedule, tMin, tMax);
                    }

                case "vp-discrete":
                    {
                        int steps = CardJson.Optional(s, "train_steps") is null ? 1000 : json.Integer(s, "train_steps", p);
                        var schedule = VpDiscreteSchedule.FromBetaSchedule(json.OptionalString(s, "beta_schedule", p) ?? "linear",
                            json.OptionalNumber(s, "beta_start", 0.0001, p), json.OptionalNumber(s, "beta_end", 0.02, p), steps);
                        return new(type, schedule, schedule.TMin, schedule.TMax);
                    }

                case "vp-cosine":
                    {
                        var schedule = new VpCosineSchedule(json.OptionalNumber(s, "s", 0.008, p), json.OptionalNumber(s, "t_max", 0.9946, p));
                        return new(type, schedule, 0.0, schedule.TMax);
                    }

                default:
                    throw json.Error($"unknown schedule.type '{type}' (expected one of: {string.Join(", ", Types)}).");
            }
        }
        catch (ArgumentException e)
        {
            throw json.Error($"invalid schedule: {e.Message}");
        }
    }
}
