namespace Stork.Schedules;

/// <summary>
/// How noise is mixed into data: <c>x_t = Alpha(t) x0 + Sigma(t) eps</c>, for continuous time <c>t</c> (double).
/// Sampling integrates the probability-flow ODE from <see cref="TMax"/> (noise) towards <see cref="TMin"/> (data).
/// Implementations are immutable and pure.
/// </summary>
public abstract class NoiseSchedule
{
    /// <summary>Smallest time the schedule is defined at (data end).</summary>
    public abstract double TMin { get; }

    /// <summary>Largest time the schedule is defined at (noise end).</summary>
    public abstract double TMax { get; }

    /// <summary>True for variance-preserving schedules (<c>Alpha^2 + Sigma^2 = 1</c>).</summary>
    public abstract bool IsVariancePreserving { get; }

    /// <summary>
    /// True when time is the flow-matching sigma (<c>x_t = (1 - t) x0 + t eps</c>): grids are flow sigma grids (shift,
    /// mu, spacing), solvers step the flow velocity, and <c>t = 0</c> is the data itself (no final denoising).
    /// </summary>
    public virtual bool IsFlowMatching => false;

    /// <summary>
    /// The number of training timesteps when time is a discrete timestep index (<c>0 .. TrainingTimesteps - 1</c>, as
    /// diffusers' discrete schedulers count); null when time is continuous.
    /// </summary>
    public virtual int? TrainingTimesteps => null;

    /// <summary>
    /// Where integration stops by default: the data end <see cref="TMin"/>, unless the schedule is singular or untrained
    /// there (continuous VP: <c>1e-3 T</c>).
    /// </summary>
    public virtual double DefaultEndTime => TMin;

    /// <summary>
    /// A diffusers timestep (<c>0 .. trainSteps</c>) in this schedule's time: <c>timestep / trainSteps</c>, kept inside
    /// [<see cref="TMin"/>, <see cref="TMax"/>], for continuous time (so a model trained from <c>t_min</c> = 1/T on is
    /// evaluated at <c>t_min</c> where diffusers' grids reach timestep 0, the continuous counterpart of
    /// <c>alphas_cumprod[0]</c>); the timestep itself for a discrete schedule.
    /// </summary>
    public virtual double TimeOfTimestep(double timestep, int trainSteps) => Math.Clamp(timestep / trainSteps, TMin, TMax);

    /// <summary>
    /// The diffusers-style timestep of time <paramref name="t"/> (what diffusers pipelines feed a network and report):
    /// <c>1000 t</c> for continuous time, the timestep itself for a discrete schedule.
    /// </summary>
    public virtual double DiffusersTimestep(double t) => 1000.0 * t;

    /// <summary>Signal scale alpha(t).</summary>
    public abstract double Alpha(double t);

    /// <summary>Noise scale sigma(t).</summary>
    public abstract double Sigma(double t);

    /// <summary>d alpha / dt.</summary>
    public abstract double AlphaDerivative(double t);

    /// <summary>d sigma / dt.</summary>
    public abstract double SigmaDerivative(double t);

    /// <summary>log alpha(t).</summary>
    public virtual double LogAlpha(double t) => Math.Log(Alpha(t));

    /// <summary>Half log signal-to-noise ratio, lambda(t) = log(alpha / sigma) (DPM-Solver's convention).</summary>
    public virtual double LogSnr(double t) => LogAlpha(t) - Math.Log(Sigma(t));

    /// <summary>The time at which <see cref="LogSnr"/> equals <paramref name="lambda"/> (LogSnr decreases with t).</summary>
    public virtual double TimeOfLogSnr(double lambda)
    {
        double lo = TMin, hi = TMax;
        for (int i = 0; i < 200 && hi - lo > 0; i++)
        {
            double mid = 0.5 * (lo + hi);
            if (mid == lo || mid == hi)
            {
                break;
            }

            if (LogSnr(mid) > lambda)
            {
                lo = mid;
            }
            else
            {
                hi = mid;
            }
        }

        return 0.5 * (lo + hi);
    }

    /// <summary>
    /// Coefficients of the probability-flow drift <c>dx/dt = A(t) x + B(t) eps</c>:
    /// <c>A = alpha'/alpha</c>, <c>B = sigma' - sigma alpha'/alpha</c>.
    /// </summary>
    public (double A, double B) Drift(double t)
    {
        double a = AlphaDerivative(t) / Alpha(t);
        return (a, SigmaDerivative(t) - (Sigma(t) * a));
    }

    /// <summary>
    /// Coefficients of the same drift written over the data prediction, <c>dx/dt = C(t) x + D(t) x0</c>:
    /// <c>C = sigma'/sigma</c>, <c>D = alpha' - alpha sigma'/sigma</c> (eps = (x - alpha x0) / sigma substituted; the form
    /// DPM-Solver++ integrates exactly).
    /// </summary>
    public (double C, double D) DataDrift(double t)
    {
        double c = SigmaDerivative(t) / Sigma(t);
        return (c, AlphaDerivative(t) - (Alpha(t) * c));
    }
}
