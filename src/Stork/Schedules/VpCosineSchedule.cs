namespace Stork.Schedules;

/// <summary>
/// Continuous cosine VP schedule (Nichol and Dhariwal; DPM-Solver's <c>cosine</c>):
/// alpha(t) = f(t) / f(0), f(t) = cos(((t + s) / (1 + s)) pi / 2), t in [0, TMax] with TMax = 0.9946 by default.
/// </summary>
public sealed class VpCosineSchedule : VpSchedule
{
    private readonly double _logF0;

    /// <summary>The cosine schedule with offset <paramref name="offset"/> (the paper's s), truncated at <paramref name="tMax"/>.</summary>
    public VpCosineSchedule(double offset = 0.008, double tMax = 0.9946)
    {
        if (!(offset > 0) || !(tMax > 0) || tMax > 1.0)
        {
            throw new ArgumentException($"cosine schedule needs offset > 0 and 0 < t_max <= 1 (got {offset}, {tMax}).");
        }

        Offset = offset;
        TMax = tMax;
        _logF0 = Math.Log(Math.Cos(offset / (1.0 + offset) * Math.PI / 2.0));
    }

    /// <summary>The offset s of the cosine.</summary>
    public double Offset { get; }

    /// <inheritdoc />
    public override double TMin => 0.0;

    /// <inheritdoc />
    public override double TMax { get; }

    private double Angle(double t) => (t + Offset) / (1.0 + Offset) * Math.PI / 2.0;

    /// <inheritdoc />
    public override double LogAlpha(double t) => Math.Log(Math.Cos(Angle(t))) - _logF0;

    /// <inheritdoc />
    public override double Alpha(double t) => Math.Exp(LogAlpha(t));

    /// <inheritdoc />
    public override double Sigma(double t) => Math.Sqrt(-ScalarMath.ExpM1(2.0 * LogAlpha(t)));

    /// <inheritdoc />
    public override double AlphaDerivative(double t) =>
        -Alpha(t) * Math.Tan(Angle(t)) * Math.PI / (2.0 * (1.0 + Offset));

    /// <inheritdoc />
    public override double SigmaDerivative(double t)
    {
        double a = Alpha(t);
        return -a * AlphaDerivative(t) / Sigma(t);
    }

    /// <inheritdoc />
    public override double LogSnr(double t)
    {
        double la = LogAlpha(t);
        return la - (0.5 * Math.Log(-ScalarMath.ExpM1(2.0 * la)));
    }

    /// <inheritdoc />
    public override double TimeOfLogSnr(double lambda)
    {
        double logAlpha = -0.5 * ScalarMath.LogAddExp(0.0, -2.0 * lambda);
        double angle = Math.Acos(Math.Exp(logAlpha + _logF0));
        return (angle * 2.0 * (1.0 + Offset) / Math.PI) - Offset;
    }
}
