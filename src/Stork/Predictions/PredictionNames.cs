namespace Stork.Predictions;

/// <summary>Names of <see cref="Prediction"/> as users write them (CLI, model cards, diffusers configurations).</summary>
public static class PredictionNames
{
    /// <summary>Parses a prediction name (case-insensitive); an unknown name is an <see cref="ArgumentException"/>.</summary>
    public static Prediction Parse(string name) => name.Trim().ToLowerInvariant() switch
    {
        "epsilon" or "eps" => Prediction.Epsilon,
        "v" or "v_prediction" or "v-prediction" => Prediction.VPrediction,
        "sample" or "x0" => Prediction.Sample,
        "flow" or "flow_prediction" or "velocity" => Prediction.FlowVelocity,
        _ => throw new ArgumentException($"unknown prediction type '{name}' (expected flow, epsilon, v_prediction or sample)."),
    };

    /// <summary>The name of <paramref name="p"/> as parsed by <see cref="Parse"/>.</summary>
    public static string ToName(Prediction p) => p switch
    {
        Prediction.Epsilon => "epsilon",
        Prediction.VPrediction => "v_prediction",
        Prediction.Sample => "sample",
        _ => "flow",
    };
}
