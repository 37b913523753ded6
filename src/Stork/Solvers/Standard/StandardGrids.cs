using Stork.Grids;
using Stork.Schedules;

namespace Stork.Solvers.Standard;

/// <summary>
/// The grids of the standard solvers: by default the timesteps / sigmas and final-step rule of the diffusers scheduler
/// each corresponds to (computed in double, never rounded except where diffusers picks integer timesteps of a discrete
/// model), or an override (<see cref="GridKind"/>).
/// </summary>
public static class StandardGrids
{
    /// <summary>
    /// The grid <paramref name="family"/> walks for <paramref name="steps"/> steps: the diffusers scheduler's own
    /// (<paramref name="grid"/> <see cref="GridKind.Native"/>, from <paramref name="diffusers"/> and, on flow models,
    /// <paramref name="flowGrid"/>) or an override.
    /// </summary>
    public static StepGrid Build(SolverFamily family, ModelSpec model, int steps, GridKind grid, FlowSigmaOptions flowGrid, DiffusersOptions diffusers)
    {
        if (steps < 1)
        {
            throw new OptionException(nameof(steps), $"must be at least 1 (got {steps}).");
        }

        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(flowGrid);
        ArgumentNullException.ThrowIfNull(diffusers);
        var d = diffusers;
        d.Validate();
        flowGrid.Validate();
        var schedule = model.Schedule;
        if (grid != GridKind.Native)
        {
            return Override(grid, schedule, steps, flowGrid, diffusers);
        }

        if (schedule.TrainingTimesteps is int modelSteps && modelSteps != d.TrainSteps)
        {
            throw new ArgumentException($"the model has {modelSteps} training timesteps, the scheduler num_train_timesteps {d.TrainSteps}.");
        }

        if (schedule.IsFlowMatching)
        {
            return FlowNative(family, schedule, steps, flowGrid, diffusers);
        }

        if (schedule is VpDiscreteSchedule discrete)
        {
            if (family == SolverFamily.Euler)
            {
                return EulerDiscrete(discrete, steps, d);
            }

            if (d.SigmaSpacing != SigmaSpacing.Linear && family is SolverFamily.DpmSolverPlusPlus or SolverFamily.UniPc or SolverFamily.Deis)
            {
                return SpacedSigmas(family, discrete, steps, d);
            }
        }

        if (d.SigmaSpacing != SigmaSpacing.Linear)
        {
            throw new ArgumentException(
                $"{family} does not take Karras, exponential or beta sigmas here: they need a discrete noise model (betas) and Euler, DPM-Solver++, UniPC or DEIS.");
        }

        return family switch
        {
            SolverFamily.Ddim => DdimNative(schedule, steps, d),
            SolverFamily.Euler or SolverFamily.Heun => StepGrid.Create(schedule, ToTimes(schedule, EulerTimesteps(steps, d), d.TrainSteps), null),
            _ => StepGrid.Create(schedule, ToTimes(schedule, MultistepTimesteps(steps, d), d.TrainSteps), VpTerminal(family, schedule, d)),
        };
    }

    /// <summary>
    /// A given grid (a tuned one, <see cref="Grids.TunedGrid"/>): the model is evaluated at <paramref name="times"/> and the
    /// last step lands on the clean end. On flow models UniPC and DEIS, which work in sigma / alpha, evaluate their first
    /// node 1e-6 below sigma 1, as diffusers' UniPC flow grid does.
    /// </summary>
    public static StepGrid Given(SolverFamily family, ModelSpec model, int steps, IReadOnlyList<double> times)
    {
        ArgumentNullException.ThrowIfNull(model);
        double[] t = Grids.TunedGrid.Check(times, steps, model.Schedule, upstream: false);
        if (model.Schedule.IsFlowMatching && family is SolverFamily.UniPc or SolverFamily.Deis && t[0] > 1.0 - 1e-6)
        {
            t[0] = 1.0 - 1e-6;
        }

        return StepGrid.Create(model.Schedule, t, null);
    }

    /// <summary>
    /// Discrete timesteps of DPMSolverMultistep / UniPCMultistep / DEISMultistep (N + 1 candidates, the last dropped).
    /// </summary>
    public static double[] MultistepTimesteps(int steps, DiffusersOptions d)
    {
        var r = Spaced(steps, steps + 1, d.Spacing ?? TimestepSpacing.Linspace, d, round: true);
        for (int i = 1; i < r.Length; i++)
        {
            // Rounded to integers, too many steps repeat a timestep: a zero step the multistep formulas divide by.
            if (!(r[i] < r[i - 1]))
            {
                throw new ArgumentException(
                    $"{steps} steps repeat the integer timestep {r[i]} of a model with {d.TrainSteps} training timesteps; use fewer steps (at most about {d.TrainSteps / 2}).",
                    nameof(steps));
            }
        }

        return r;
    }

    /// <summary>Discrete timesteps of DDIMScheduler (N candidates).</summary>
    public static double[] DdimTimesteps(int steps, DiffusersOptions d)
    {
        if (steps > d.TrainSteps)
        {
            throw new ArgumentException($"DDIM cannot take more steps ({steps}) than training timesteps ({d.TrainSteps}).");
        }

        return Spaced(steps, steps, d.Spacing ?? TimestepSpacing.Leading, d, round: true);
    }

    /// <summary>Timesteps of EulerDiscreteScheduler / HeunDiscreteScheduler (linspace ones are not rounded).</summary>
    public static double[] EulerTimesteps(int steps, DiffusersOptions d) =>
        Spaced(steps, steps, d.Spacing ?? TimestepSpacing.Linspace, d, round: false);

    /// <summary>
    /// EulerDiscreteScheduler on a discrete model: its timesteps (linspace ones fractional), the sigmas
    /// <c>sqrt((1 - alphas_cumprod) / alphas_cumprod)</c> interpolated linearly in the timestep (interpolation_type
    /// linear), or re-spaced (Karras, exponential, beta) with the timesteps their <c>_sigma_to_t</c> gives; then the
    /// final sigma (zero or the training sigma_min).
    /// </summary>
    public static StepGrid EulerDiscrete(VpDiscreteSchedule schedule, int steps, DiffusersOptions d)
    {
        double[] full = TrainingSigmas(schedule);
        double[] ts = EulerTimesteps(steps, d);
        var sigmas = new double[steps];
        for (int i = 0; i < steps; i++)
        {
            sigmas[i] = Interpolate(full, ts[i]);
        }

        if (d.SigmaSpacing != SigmaSpacing.Linear)
        {
            sigmas = Respaced(d.SigmaSpacing, sigmas[0], sigmas[^1], steps);
            double[] logs = full.Select(v => Math.Log(v)).ToArray();
            for (int i = 0; i < steps; i++)
            {
                ts[i] = SigmaToTimestep(sigmas[i], logs);
            }
        }

        double last = (d.FinalSigmas ?? FinalSigmas.Zero) == FinalSigmas.Zero ? 0.0 : full[0];
        return FromVeSigmas(ts, sigmas, last);
    }

    /// <summary>
    /// DPMSolverMultistep / UniPCMultistep / DEISMultistep with use_karras_sigmas, use_exponential_sigmas or
    /// use_beta_sigmas on a discrete model: the training sigmas' range re-spaced, each evaluated at the integer timestep
    /// <c>_sigma_to_t</c> gives (rounded for Karras, truncated by the int64 cast otherwise), the step arithmetic on the
    /// re-spaced sigmas themselves; the final sigma as the scheduler's final_sigmas_type says.
    /// </summary>
    public static StepGrid SpacedSigmas(SolverFamily family, VpDiscreteSchedule schedule, int steps, DiffusersOptions d)
    {
        double[] full = TrainingSigmas(schedule);
        double[] logs = full.Select(v => Math.Log(v)).ToArray();
        double[] sigmas = Respaced(d.SigmaSpacing, full[^1], full[0], steps);
        var ts = new double[steps];
        for (int i = 0; i < steps; i++)
        {
            double t = SigmaToTimestep(sigmas[i], logs);
            ts[i] = d.SigmaSpacing == SigmaSpacing.Karras ? Math.Round(t, MidpointRounding.ToEven) : Math.Truncate(t);
        }

        var final = family == SolverFamily.Deis ? FinalSigmas.SigmaMin : d.FinalSigmas ?? FinalSigmas.Zero;
        double last = final == FinalSigmas.Zero ? 0.0 : family == SolverFamily.DpmSolverPlusPlus ? full[0] : sigmas[^1];
        return FromVeSigmas(ts, sigmas, last);
    }

    /// <summary>
    /// diffusers' <c>init_noise_sigma</c> of the schedulers whose state is <c>x0 + sigma eps</c> (EulerDiscrete, Heun):
    /// the largest sigma, or <c>sqrt(sigma^2 + 1)</c> with leading spacing. On this library's VP state the initial noise
    /// is scaled by it times alpha at the first node.
    /// </summary>
    public static double VeInitialNoiseScale(StepGrid grid, DiffusersOptions d)
    {
        double max = 0;
        for (int i = 0; i < grid.Count; i++)
        {
            max = Math.Max(max, grid.Sigma[i] / grid.Alpha[i]);
        }

        double init = (d.Spacing ?? TimestepSpacing.Linspace) == TimestepSpacing.Leading ? Math.Sqrt((max * max) + 1.0) : max;
        return init * grid.Alpha[0];
    }

    /// <summary>diffusers' <c>_sigma_to_t</c>: the fractional timestep of a sigma, interpolated in log sigma.</summary>
    public static double SigmaToTimestep(double sigma, IReadOnlyList<double> logSigmas)
    {
        double ls = Math.Log(Math.Max(sigma, 1e-10));
        int count = 0;
        for (int i = 0; i < logSigmas.Count; i++)
        {
            if (ls - logSigmas[i] >= 0)
            {
                count = i + 1;
            }
        }

        int low = Math.Min(Math.Max(count - 1, 0), logSigmas.Count - 2);
        double lo = logSigmas[low], hi = logSigmas[low + 1];
        double w = Math.Clamp((lo - ls) / (lo - hi), 0.0, 1.0);
        return ((1.0 - w) * low) + (w * (low + 1));
    }

    private static double[] TrainingSigmas(VpDiscreteSchedule schedule)
    {
        var full = new double[schedule.TrainSteps];
        for (int i = 0; i < full.Length; i++)
        {
            double ac = schedule.AlphasCumprod(i);
            full[i] = Math.Sqrt((1.0 - ac) / ac);
        }

        return full;
    }

    private static double Interpolate(double[] values, double t)
    {
        if (t <= 0)
        {
            return values[0];
        }

        if (t >= values.Length - 1)
        {
            return values[^1];
        }

        int i = (int)Math.Floor(t);
        double f = t - i;
        return f == 0 ? values[i] : values[i] + (f * (values[i + 1] - values[i]));
    }

    private static double[] Respaced(SigmaSpacing spacing, double sigmaMax, double sigmaMin, int steps) => spacing switch
    {
        SigmaSpacing.Karras => TimeGrid.Karras(sigmaMax, sigmaMin, steps),
        SigmaSpacing.Exponential => TimeGrid.Exponential(sigmaMax, sigmaMin, steps),
        SigmaSpacing.Beta => TimeGrid.Beta(sigmaMax, sigmaMin, steps),
        _ => throw new ArgumentException($"sigma spacing {spacing} is not a re-spacing."),
    };

    private static StepGrid FromVeSigmas(double[] timesteps, double[] sigmas, double lastSigma)
    {
        var a = new double[sigmas.Length];
        var s = new double[sigmas.Length];
        for (int i = 0; i < sigmas.Length; i++)
        {
            a[i] = 1.0 / Math.Sqrt((sigmas[i] * sigmas[i]) + 1.0);
            s[i] = sigmas[i] * a[i];
        }

        double ta = 1.0 / Math.Sqrt((lastSigma * lastSigma) + 1.0);
        return StepGrid.FromNodes(timesteps, a, s, ta, lastSigma * ta);
    }

    /// <summary>
    /// diffusers' timestep_spacing: the first <paramref name="steps"/> (descending) of <paramref name="candidates"/>
    /// timesteps spaced linspace (rounded where the scheduler rounds), leading (integer ratio plus steps_offset) or trailing.
    /// </summary>
    private static double[] Spaced(int steps, int candidates, TimestepSpacing spacing, DiffusersOptions d, bool round)
    {
        int t = d.TrainSteps;
        var r = new double[steps];
        switch (spacing)
        {
            case TimestepSpacing.Linspace:
                for (int i = 0; i < steps; i++)
                {
                    double v = TimeGrid.Linspace(0, t - 1, candidates, candidates - 1 - i);
                    r[i] = round ? Math.Round(v) : v;
                }

                break;
            case TimestepSpacing.Leading:
                int ratio = t / candidates;
                for (int i = 0; i < steps; i++)
                {
                    r[i] = ((candidates - 1 - i) * ratio) + d.StepsOffset;
                }

                break;
            default:
                return Trailing(steps, t);
        }

        return r;
    }

    /// <summary>
    /// Flow sigmas of DPMSolverMultistep / DEISMultistep with <c>use_flow_sigmas</c>: 1 - linspace(1, 1/T, N + 1),
    /// shifted, reversed, the trailing 0 dropped.
    /// </summary>
    public static double[] DpmFlowSigmas(int steps, int trainSteps, double shift)
    {
        var r = new double[steps];
        for (int i = 0; i < steps; i++)
        {
            double s = 1.0 - TimeGrid.Linspace(1.0, 1.0 / trainSteps, steps + 1, steps - i);
            r[i] = TimeGrid.StaticShift(s, shift);
        }

        return r;
    }

    /// <summary>
    /// Flow sigmas of UniPCMultistep with <c>use_flow_sigmas</c>: linspace(1, 1/T, N + 1)[:-1], shifted (static or
    /// dynamic), stretched to the terminal, the first moved 1e-6 below 1.
    /// </summary>
    public static double[] UniPcFlowSigmas(int steps, FlowSigmaOptions o)
    {
        var r = new double[steps];
        for (int i = 0; i < steps; i++)
        {
            double s = TimeGrid.Linspace(1.0, 1.0 / o.TrainSteps, steps + 1, i);
            r[i] = o.Mu is { } mu ? TimeGrid.TimeShift(mu, s, o.TimeShiftType) : TimeGrid.StaticShift(s, o.Shift);
        }

        if (o.ShiftTerminal is { } terminal)
        {
            double scale = (1.0 - r[^1]) / (1.0 - terminal);
            for (int i = 0; i < steps; i++)
            {
                r[i] = 1.0 - ((1.0 - r[i]) / scale);
            }
        }

        if (Math.Abs(r[0] - 1.0) < 1e-6)
        {
            r[0] -= 1e-6;
        }

        return r;
    }

    private static StepGrid FlowNative(SolverFamily family, NoiseSchedule schedule, int steps, FlowSigmaOptions flowGrid, DiffusersOptions diffusers)
    {
        var o = flowGrid;
        var d = diffusers;
        if (o.BaseSigmas is not null)
        {
            // A pipeline's own sigmas (set_timesteps(sigmas=...)): every solver walks them, then steps to 0. UniPC and
            // DEIS work in sigma / alpha, infinite at sigma = 1: as diffusers' UniPC flow grid does, their first sigma
            // moves 1e-6 below 1 (the model is evaluated there).
            double[] given = TimeGrid.FlowSigmas(steps, o)[..^1];
            if (family is SolverFamily.UniPc or SolverFamily.Deis && given[0] > 1.0 - 1e-6)
            {
                given[0] = 1.0 - 1e-6;
            }

            return StepGrid.Create(schedule, given, null);
        }

        switch (family)
        {
            case SolverFamily.Euler:
            case SolverFamily.Heun:
            case SolverFamily.Ddim:
                // DDIM (eta 0) on rectified flow is the flow Euler step: it walks FlowMatchEuler's sigmas.
                double[] sigmas = TimeGrid.FlowSigmas(steps, o);
                return StepGrid.Create(schedule, sigmas[..^1], null);
        }

        if (d.SigmaSpacing != SigmaSpacing.Linear)
        {
            throw new ArgumentException($"{family} with flow sigmas does not take use_karras_sigmas, use_exponential_sigmas or use_beta_sigmas here.");
        }

        if (o.Spacing != SigmaSpacing.Linear)
        {
            throw new OptionException("sigmas", $"must be linear for {family} with flow sigmas (got {o.Spacing}); for Karras spacing use the karras grid.");
        }

        if (family == SolverFamily.UniPc)
        {
            double[] u = UniPcFlowSigmas(steps, o);
            return StepGrid.Create(schedule, u, (d.FinalSigmas ?? FinalSigmas.Zero) == FinalSigmas.Zero ? null : u[^1]);
        }

        if (o.ShiftTerminal is not null)
        {
            throw new ArgumentException($"{family} with flow sigmas does not support a shift terminal.");
        }

        if (o.Mu is not null && o.TimeShiftType != TimeShiftType.Exponential)
        {
            throw new ArgumentException($"{family} supports dynamic shifting only with the exponential time shift (flow_shift = exp(mu)).");
        }

        double shift = o.Mu is { } mu ? Math.Exp(mu) : o.Shift;
        double[] f = DpmFlowSigmas(steps, o.TrainSteps, shift);
        if (family == SolverFamily.Deis)
        {
            // DEISMultistep repeats the last sigma: its final step is the identity.
            return StepGrid.Create(schedule, f, f[^1]);
        }

        if ((d.FinalSigmas ?? FinalSigmas.Zero) == FinalSigmas.Zero)
        {
            return StepGrid.Create(schedule, f, null);
        }

        // DPMSolverMultistep's sigma_min is the discrete model's sqrt((1 - alphas_cumprod[0]) / alphas_cumprod[0]), even with flow sigmas.
        double ac0 = 1.0 - d.BetaStart;
        return StepGrid.Create(schedule, f, Math.Sqrt((1.0 - ac0) / ac0));
    }

    private static double? VpTerminal(SolverFamily family, NoiseSchedule schedule, DiffusersOptions d)
    {
        var final = family == SolverFamily.Deis ? FinalSigmas.SigmaMin : d.FinalSigmas ?? FinalSigmas.Zero;
        if (final == FinalSigmas.Zero)
        {
            return null;
        }

        if (schedule.TrainingTimesteps is not null)
        {
            return 0.0;
        }

        // A continuous schedule: the time whose log-SNR is that of alphas_cumprod[0] = 1 - beta_start.
        return schedule.TimeOfLogSnr(0.5 * Math.Log((1.0 - d.BetaStart) / d.BetaStart));
    }

    private static StepGrid DdimNative(NoiseSchedule schedule, int steps, DiffusersOptions d)
    {
        double[] ts = DdimTimesteps(steps, d);
        int stride = d.TrainSteps / steps;
        var ea = new double[steps];
        var es = new double[steps];
        for (int i = 0; i < steps; i++)
        {
            double prev = ts[i] - stride;
            if (prev >= 0)
            {
                double t = TimeOfTimestep(schedule, prev, d.TrainSteps);
                ea[i] = schedule.Alpha(t);
                es[i] = schedule.Sigma(t);
            }
            else if (d.SetAlphaToOne)
            {
                ea[i] = 1.0;
                es[i] = 0.0;
            }
            else
            {
                double t = TimeOfTimestep(schedule, 0, d.TrainSteps);
                ea[i] = schedule.Alpha(t);
                es[i] = schedule.Sigma(t);
            }
        }

        return StepGrid.WithEnds(schedule, ToTimes(schedule, ts, d.TrainSteps), ea, es);
    }

    private static StepGrid Override(GridKind kind, NoiseSchedule schedule, int steps, FlowSigmaOptions flowGrid, DiffusersOptions diffusers)
    {
        bool flow = schedule.IsFlowMatching;
        int trainSteps = diffusers.TrainSteps;
        if (kind == GridKind.Flow)
        {
            if (!flow)
            {
                throw new OptionException("grid", "flow is for flow models; use uniform-time, logsnr or karras on noise models.");
            }

            return StepGrid.Create(schedule, TimeGrid.FlowSigmas(steps, flowGrid)[..^1], null);
        }

        double start, end;
        if (flow)
        {
            start = kind == GridKind.UniformTime ? 1.0 : 1.0 - (1.0 / trainSteps);
            end = 1.0 / trainSteps;
        }
        else
        {
            start = schedule.TMax;
            end = schedule.DefaultEndTime;
        }

        var times = new double[steps];
        switch (kind)
        {
            case GridKind.UniformTime:
                for (int i = 0; i < steps; i++)
                {
                    times[i] = TimeGrid.Linspace(start, end, steps, i);
                }

                break;
            case GridKind.LogSnr:
                double l0 = schedule.LogSnr(start), l1 = schedule.LogSnr(end);
                for (int i = 0; i < steps; i++)
                {
                    times[i] = i == 0 ? start : i == steps - 1 ? end : schedule.TimeOfLogSnr(TimeGrid.Linspace(l0, l1, steps, i));
                }

                break;
            default:
                double r0 = schedule.Sigma(start) / schedule.Alpha(start), r1 = schedule.Sigma(end) / schedule.Alpha(end);
                double[] rho = TimeGrid.Karras(r0, r1, steps);
                for (int i = 0; i < steps; i++)
                {
                    times[i] = i == 0 ? start : i == steps - 1 ? end : schedule.TimeOfLogSnr(-Math.Log(rho[i]));
                }

                break;
        }

        return StepGrid.Create(schedule, times, null);
    }

    private static double[] Trailing(int steps, int trainSteps)
    {
        // numpy: round(arange(T, 0, -T / N)) - 1.
        double ratio = (double)trainSteps / steps;
        int count = (int)Math.Ceiling(trainSteps / ratio);
        var r = new double[count];
        for (int k = 0; k < count; k++)
        {
            r[k] = Math.Round(trainSteps - (k * ratio)) - 1;
        }

        if (count != steps)
        {
            throw new ArgumentException($"trailing spacing gives {count} timesteps for {steps} steps.");
        }

        return r;
    }

    /// <summary>A diffusers timestep in schedule time: itself for a discrete model, timestep / T for a continuous one.</summary>
    public static double TimeOfTimestep(NoiseSchedule schedule, double timestep, int trainSteps) =>
        schedule.TimeOfTimestep(timestep, trainSteps);

    private static double[] ToTimes(NoiseSchedule schedule, double[] timesteps, int trainSteps)
    {
        var r = new double[timesteps.Length];
        for (int i = 0; i < r.Length; i++)
        {
            r[i] = TimeOfTimestep(schedule, timesteps[i], trainSteps);
        }

        return r;
    }
}
