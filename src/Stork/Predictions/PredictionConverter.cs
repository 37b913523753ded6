using Stork.Schedules;

namespace Stork.Predictions;

/// <summary>
/// The one place that converts between parameterisations. Every prediction is a linear form
/// <c>p = P x0 + Q eps</c> in the unknowns (x0, eps); with <c>x = alpha x0 + sigma eps</c> any other form is
/// <c>q = cx x + cp p</c> with scalar weights computed here in double.
/// </summary>
public static class PredictionConverter
{
    /// <summary>Weights (cx, cp) such that <c>to = cx * x + cp * from</c> at time <paramref name="t"/>.</summary>
    public static (double Cx, double Cp) Weights(Prediction from, Prediction to, NoiseSchedule schedule, double t)
    {
        if (from == to)
        {
            return (0.0, 1.0);
        }

        double alpha = schedule.Alpha(t), sigma = schedule.Sigma(t);
        var (p, q) = Form(from, schedule, t);
        var (c, d) = Form(to, schedule, t);
        double det = (alpha * q) - (sigma * p);
        if (det == 0 || !double.IsFinite(det))
        {
            throw new InvalidOperationException(
                $"cannot convert {from} to {to} at t = {t}: the prediction does not determine the sample there.");
        }

        return (((c * q) - (d * p)) / det, ((d * alpha) - (c * sigma)) / det);
    }

    /// <summary>
    /// Weights (cx, cp) such that <c>to = cx * x + cp * from</c> where the sample is <c>alpha x0 + sigma eps</c>, for the
    /// parameterisations that need only (alpha, sigma): epsilon, sample and v.
    /// </summary>
    public static (double Cx, double Cp) Weights(Prediction from, Prediction to, double alpha, double sigma)
    {
        if (from == to)
        {
            return (0.0, 1.0);
        }

        var (p, q) = Form(from, alpha, sigma);
        var (c, d) = Form(to, alpha, sigma);
        double det = (alpha * q) - (sigma * p);
        if (det == 0 || !double.IsFinite(det))
        {
            throw new InvalidOperationException($"cannot convert {from} to {to} at alpha = {alpha}, sigma = {sigma}.");
        }

        return (((c * q) - (d * p)) / det, ((d * alpha) - (c * sigma)) / det);
    }

    private static (double P, double Q) Form(Prediction prediction, double alpha, double sigma) =>
        prediction switch
        {
            Prediction.Epsilon => (0.0, 1.0),
            Prediction.Sample => (1.0, 0.0),
            Prediction.VPrediction => (-sigma, alpha),
            _ => throw new ArgumentException($"{prediction} needs the schedule's derivatives, not only (alpha, sigma)."),
        };

    /// <summary>Writes <c>to</c> into <paramref name="destination"/> from the sample and a <c>from</c> output.</summary>
    public static void Convert(Prediction from, Prediction to, NoiseSchedule schedule, double t,
        ReadOnlySpan<float> sample, ReadOnlySpan<float> output, Span<float> destination)
    {
        if (from == to)
        {
            output.CopyTo(destination);
            return;
        }

        var (cx, cp) = Weights(from, to, schedule, t);
        LinearCombination.Combine(destination, (float)cp, output, (float)cx, sample);
    }

    /// <summary>The linear form (P, Q) of a prediction at time t: <c>prediction = P x0 + Q eps</c>.</summary>
    public static (double P, double Q) Form(Prediction prediction, NoiseSchedule schedule, double t) =>
        prediction switch
        {
            Prediction.Epsilon => (0.0, 1.0),
            Prediction.Sample => (1.0, 0.0),
            Prediction.VPrediction => (-schedule.Sigma(t), schedule.Alpha(t)),
            Prediction.FlowVelocity => (schedule.AlphaDerivative(t), schedule.SigmaDerivative(t)),
            _ => throw new ArgumentOutOfRangeException(nameof(prediction)),
        };
}
