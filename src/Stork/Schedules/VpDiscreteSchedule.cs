namespace Stork.Schedules;

/// <summary>
/// Discrete-time VP schedule of a model trained on T integer timesteps (DDPM, Stable Diffusion), as diffusers defines it:
/// <c>alphas_cumprod[n] = prod_{i &lt;= n} (1 - beta_i)</c>, alpha^2 = alphas_cumprod. Time is the timestep itself,
/// a continuous double in [0, T-1]; between integers, log alpha is interpolated linearly (DPM-Solver's NoiseScheduleVP).
/// </summary>
public sealed class VpDiscreteSchedule : VpSchedule
{
    private readonly double[] _logAlpha;

    /// <summary>Creates the schedule from the betas of every training step.</summary>
    public VpDiscreteSchedule(IReadOnlyList<double> betas)
    {
        if (betas.Count < 2)
        {
            throw new ArgumentException("a discrete VP schedule needs at least two betas.");
        }

        _logAlpha = new double[betas.Count];
        double cum = 0.0;
        for (int i = 0; i < betas.Count; i++)
        {
            double b = betas[i];
            if (!(b > 0 && b < 1))
            {
                throw new ArgumentException($"beta[{i}] = {b} is outside (0, 1).");
            }

            cum += ScalarMath.Log1P(-b);
            _logAlpha[i] = 0.5 * cum;
        }

        Betas = betas.ToArray();
    }

    /// <summary>The betas the schedule was built from.</summary>
    public IReadOnlyList<double> Betas { get; }

    /// <summary>Number of training timesteps T.</summary>
    public int TrainSteps => _logAlpha.Length;

    /// <summary>diffusers' beta schedules: <c>linear</c>, <c>scaled_linear</c>, <c>squaredcos_cap_v2</c>.</summary>
    public static VpDiscreteSchedule FromBetaSchedule(string betaSchedule, double betaStart = 0.0001, double betaEnd = 0.02, int trainSteps = 1000) =>
        new(BetaSchedules.Create(betaSchedule, betaStart, betaEnd, trainSteps));

    /// <inheritdoc />
    public override int? TrainingTimesteps => TrainSteps;

    /// <summary>Time is the timestep index; the data end is timestep 0, where diffusers' discrete schedulers stop.</summary>
    public override double DefaultEndTime => TMin;

    /// <inheritdoc />
    public override double TimeOfTimestep(double timestep, int trainSteps) => timestep;

    /// <inheritdoc />
    public override double DiffusersTimestep(double t) => t;

    /// <inheritdoc />
    public override double TMin => 0.0;

    /// <inheritdoc />
    public override double TMax => _logAlpha.Length - 1;

    /// <summary>alphas_cumprod at an integer timestep, exactly as diffusers stores it.</summary>
    public double AlphasCumprod(int timestep) => Math.Exp(2.0 * _logAlpha[timestep]);

    /// <inheritdoc />
    public override double LogAlpha(double t)
    {
        if (t <= 0)
        {
            return _logAlpha[0] + (t * (_logAlpha[1] - _logAlpha[0]));
        }

        int n = _logAlpha.Length;
        if (t >= n - 1)
        {
            return _logAlpha[n - 1] + ((t - (n - 1)) * (_logAlpha[n - 1] - _logAlpha[n - 2]));
        }

        int i = (int)Math.Floor(t);
        double f = t - i;
        return f == 0 ? _logAlpha[i] : _logAlpha[i] + (f * (_logAlpha[i + 1] - _logAlpha[i]));
    }

    private double LogAlphaSlope(double t)
    {
        int n = _logAlpha.Length;
        int i = Math.Clamp((int)Math.Floor(t), 0, n - 2);
        return _logAlpha[i + 1] - _logAlpha[i];
    }

    /// <inheritdoc />
    public override double Alpha(double t) => Math.Exp(LogAlpha(t));

    /// <inheritdoc />
    public override double Sigma(double t) => Math.Sqrt(-ScalarMath.ExpM1(2.0 * LogAlpha(t)));

    /// <inheritdoc />
    public override double AlphaDerivative(double t) => Alpha(t) * LogAlphaSlope(t);

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
}
