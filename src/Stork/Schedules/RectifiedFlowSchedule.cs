namespace Stork.Schedules;

/// <summary>Rectified flow (SD3, Flux): alpha = 1 - sigma, sigma = t, t in [0, 1].</summary>
public sealed class RectifiedFlowSchedule : NoiseSchedule
{
    /// <summary>The one instance (the schedule has no parameters).</summary>
    public static RectifiedFlowSchedule Instance { get; } = new();

    /// <inheritdoc />
    public override double TMin => 0.0;

    /// <inheritdoc />
    public override double TMax => 1.0;

    /// <inheritdoc />
    public override bool IsVariancePreserving => false;

    /// <inheritdoc />
    public override bool IsFlowMatching => true;

    /// <inheritdoc />
    public override double Alpha(double t) => 1.0 - t;

    /// <inheritdoc />
    public override double Sigma(double t) => t;

    /// <inheritdoc />
    public override double AlphaDerivative(double t) => -1.0;

    /// <inheritdoc />
    public override double SigmaDerivative(double t) => 1.0;

    /// <inheritdoc />
    public override double TimeOfLogSnr(double lambda) => 1.0 / (1.0 + Math.Exp(lambda));
}
