using Stork.Schedules;

namespace Stork.Onnx;

/// <summary>
/// How a network wants its time input: the card's <c>time_input</c>. Values are continuous; only an integer-typed
/// time input (a <see cref="Timestep"/> model exported with int64 timesteps) is ever rounded.
/// </summary>
public enum TimeInput
{
    /// <summary>sigma(t) (rectified flow: t itself).</summary>
    Sigma,

    /// <summary>1000 sigma(t) (diffusers' flow transformers).</summary>
    SigmaTimes1000,

    /// <summary>The continuous schedule time t in [0, 1].</summary>
    Time,

    /// <summary>1000 t.</summary>
    TimeTimes1000,

    /// <summary>The discrete schedule's timestep (a double in [0, T-1], not rounded).</summary>
    Timestep,
}

/// <summary>Parsing and evaluating <see cref="TimeInput"/>.</summary>
public static class TimeInputs
{
    /// <summary>The accepted card names of the time input.</summary>
    public static IReadOnlyList<string> Names { get; } = ["sigma", "sigma*1000", "t", "t*1000", "timestep"];

    /// <summary>Parses a card name of the time input (spaces ignored, case-insensitive).</summary>
    public static TimeInput Parse(string name) => name.Replace(" ", "", StringComparison.Ordinal).ToLowerInvariant() switch
    {
        "sigma" => TimeInput.Sigma,
        "sigma*1000" or "1000*sigma" => TimeInput.SigmaTimes1000,
        "t" => TimeInput.Time,
        "t*1000" or "1000*t" => TimeInput.TimeTimes1000,
        "timestep" => TimeInput.Timestep,
        _ => throw new ArgumentException($"unknown time_input '{name}' (expected one of: {string.Join(", ", Names)})."),
    };

    /// <summary>Why <paramref name="input"/> cannot feed a model under <paramref name="schedule"/>, or null.</summary>
    public static string? Incompatibility(TimeInput input, NoiseSchedule schedule) => (input, schedule) switch
    {
        (TimeInput.Timestep, not VpDiscreteSchedule) => "time_input 'timestep' needs a discrete schedule (vp-discrete).",
        (TimeInput.Time or TimeInput.TimeTimes1000, VpDiscreteSchedule) =>
            "a vp-discrete schedule's time is the timestep: use time_input 'timestep'.",
        _ => null,
    };

    /// <summary>The value fed to the network at schedule time <paramref name="t"/>.</summary>
    public static double Feed(TimeInput input, NoiseSchedule schedule, double t) => input switch
    {
        TimeInput.Sigma => schedule.Sigma(t),
        TimeInput.SigmaTimes1000 => 1000.0 * schedule.Sigma(t),
        TimeInput.Time or TimeInput.Timestep => t,
        TimeInput.TimeTimes1000 => 1000.0 * t,
        _ => throw new ArgumentOutOfRangeException(nameof(input)),
    };
}
