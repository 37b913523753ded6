using Stork.IO;
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

    internal static CardSchedule Parse(JsonConfig json)
    {
        var s = json.RequiredSection("schedule");
        string type = s.RequiredString("type");
        try
        {
            switch (type)
            {
                case "rectified-flow":
                    return new(type, RectifiedFlowSchedule.Instance, 0.0, 1.0);
                case "vp-linear":
                    {
                        double tMin = s.Number("t_min", 0.0), tMax = s.Number("t_max", 1.0);
                        if (!(tMin >= 0 && tMax > tMin && tMax <= 1))
                        {
                            throw json.Error($"schedule needs 0 <= t_min < t_max <= 1 (got {tMin}, {tMax}).");
                        }

                        // The schedule carries the trained range, so that every solver's default grid stays inside it.
                        var schedule = new VpLinearSchedule(s.Number("beta_min", 0.1), s.Number("beta_max", 20.0)).WithTimeRange(tMin, tMax);
                        return new(type, schedule, tMin, tMax);
                    }

                case "vp-discrete":
                    {
                        int steps = s.Int("train_steps", 1000);
                        var schedule = VpDiscreteSchedule.FromBetaSchedule(s.String("beta_schedule") ?? "linear",
                            s.Number("beta_start", 0.0001), s.Number("beta_end", 0.02), steps);
                        return new(type, schedule, schedule.TMin, schedule.TMax);
                    }

                case "vp-cosine":
                    {
                        var schedule = new VpCosineSchedule(s.Number("s", 0.008), s.Number("t_max", 0.9946));
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
