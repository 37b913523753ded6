namespace Stork.Schedules;

/// <summary>
/// Continuous-time variance-preserving schedule with linear beta(t) = b0 + t (b1 - b0) on t in [0, 1]
/// (the DDPM / score-SDE "VP linear" path, and STORK's noise path):
/// log alpha(t) = -t^2 (b1 - b0) / 4 - t b0 / 2, sigma = sqrt(1 - alpha^2).
/// </summary>
public sealed class VpLinearSchedule : VpSchedule
{
    /// <summary>Creates the schedule from continuous betas (e.g. 0.1 and 20).</summary>
    public VpLinearSchedule(double betaMin = 0.1, double betaMax = 20.0)
        : this(betaMin, betaMax, 0.0, 1.0)
    {
    }

    private VpLinearSchedule(double betaMin, double betaMax, double tMin, double tMax)
    {
        if (!(tMin >= 0) || !(tMax > tMin) || !(tMax <= 1))
        {
            throw new ArgumentException($"VP linear schedule needs 0 <= t_min < t_max <= 1 (got {tMin}, {tMax}).");
        }

        TMin = tMin;
        TMax = tMax;
        if (!(betaMin > 0) || !(betaMax > betaMin) || double.IsInfinity(betaMax))
        {
            throw new ArgumentException($"VP linear schedule needs 0 < beta_min < beta_max (got {betaMin}, {betaMax}).");
        }

        BetaMin = betaMin;
        BetaMax = betaMax;
    }

    /// <summary>
    /// The same schedule for a model trained on times in [<paramref name="tMin"/>, <paramref name="tMax"/>] only (a model
    /// card's <c>t_min</c> / <c>t_max</c>): its <see cref="TMin"/> and <see cref="TMax"/>, so that default grids, stopping
    /// times and references stay inside the trained range.
    /// </summary>
    public VpLinearSchedule WithTimeRange(double tMin, double tMax) => new(BetaMin, BetaMax, tMin, tMax);

    /// <summary>The schedule diffusers' discrete linear betas (beta_start, beta_end over T steps) approximate: b = T beta.</summary>
    public static VpLinearSchedule FromDiscreteBetas(double betaStart, double betaEnd, int trainSteps) =>
        new(betaStart * trainSteps, betaEnd * trainSteps);

    /// <summary>beta(0).</summary>
    public double BetaMin { get; }

    /// <summary>beta(1).</summary>
    public double BetaMax { get; }

    /// <inheritdoc />
    public override double TMin { get; }

    /// <inheritdoc />
    public override double TMax { get; }

    /// <summary>beta(t).</summary>
    public double Beta(double t) => BetaMin + (t * (BetaMax - BetaMin));

    /// <inheritdoc />
    public override double LogAlpha(double t) => (-0.25 * t * t * (BetaMax - BetaMin)) - (0.5 * t * BetaMin);

    /// <inheritdoc />
    public override double Alpha(double t) => Math.Exp(LogAlpha(t));

    /// <inheritdoc />
    public override double Sigma(double t) => Math.Sqrt(-ScalarMath.ExpM1(2.0 * LogAlpha(t)));

    /// <inheritdoc />
    public override double AlphaDerivative(double t) => -0.5 * Beta(t) * Alpha(t);

    /// <inheritdoc />
    public override double SigmaDerivative(double t)
    {
        double a = Alpha(t);
        return 0.5 * Beta(t) * a * a / Sigma(t);
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
        // log alpha = -log(1 + e^{-2 lambda}) / 2; solve (d/4) t^2 + (b0/2) t + log alpha = 0 for t >= 0.
        double logAlpha = -0.5 * ScalarMath.LogAddExp(0.0, -2.0 * lambda);
        double d = BetaMax - BetaMin;
        return -4.0 * logAlpha / (BetaMin + Math.Sqrt((BetaMin * BetaMin) - (4.0 * d * logAlpha)));
    }
}
