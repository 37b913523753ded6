namespace Stork.Grids;

/// <summary>
/// Time grids as pure functions. Each returns the times (schedule units, double, never rounded) at which a solver
/// steps: the evaluation times followed by the terminal time.
/// </summary>
public static class TimeGrid
{
    /// <summary>
    /// Flow-matching sigmas exactly as diffusers' FlowMatchEulerDiscreteScheduler.set_timesteps computes them
    /// (in double): <paramref name="steps"/> sigmas from 1 to the (shifted) smallest training sigma, shifted statically or
    /// dynamically, optionally stretched to a terminal value and re-spaced, then a terminal 0. Length steps + 1.
    /// With <see cref="FlowSigmaOptions.BaseSigmas"/> those replace the linspace, as <c>set_timesteps(sigmas=...)</c> does.
    /// </summary>
    public static double[] FlowSigmas(int steps, FlowSigmaOptions? options = null)
    {
        options ??= new FlowSigmaOptions();
        options.Validate();
        RequireSteps(steps);
        int trainSteps = options.TrainSteps;
        bool dynamic = options.Mu.HasValue;

        // Training sigmas are (1..T)/T; without dynamic shifting diffusers shifts them at construction, so the smallest
        // one (the grid's end point) is shifted once more below.
        double sigmaMin = 1.0 / trainSteps;
        double sigmaMax = 1.0;
        if (!dynamic)
        {
            sigmaMin = StaticShift(sigmaMin, options.Shift);
        }

        if (options.BaseSigmas is { } given && given.Count != steps)
        {
            throw new ArgumentException($"{given.Count} base sigmas were given for {steps} steps.");
        }

        var sigmas = new double[steps + 1];
        for (int i = 0; i < steps; i++)
        {
            double s = options.BaseSigmas is { } b ? b[i] : Linspace(sigmaMax * trainSteps, sigmaMin * trainSteps, steps, i) / trainSteps;
            sigmas[i] = dynamic ? TimeShift(options.Mu!.Value, s, options.TimeShiftType) : StaticShift(s, options.Shift);
        }

        if (options.ShiftTerminal is { } terminal)
        {
            if (steps < 2)
            {
                // The stretch maps the last shifted sigma to the terminal and the first stays 1: one sigma cannot be both.
                throw new ArgumentException($"a shift_terminal schedule needs at least 2 steps (got {steps}).", nameof(steps));
            }

            double scale = (1.0 - sigmas[steps - 1]) / (1.0 - terminal);
            for (int i = 0; i < steps; i++)
            {
                sigmas[i] = 1.0 - ((1.0 - sigmas[i]) / scale);
            }
        }

        Respace(sigmas.AsSpan(0, steps), options.Spacing);
        sigmas[steps] = 0.0;
        return sigmas;
    }

    /// <summary>The static shift <c>shift s / (1 + (shift - 1) s)</c>.</summary>
    public static double StaticShift(double sigma, double shift) => shift * sigma / (1.0 + ((shift - 1.0) * sigma));

    /// <summary>The dynamic shift of diffusers (<c>time_shift</c> with sigma = 1).</summary>
    public static double TimeShift(double mu, double t, TimeShiftType type) => type switch
    {
        TimeShiftType.Exponential => Math.Exp(mu) / (Math.Exp(mu) + ((1.0 / t) - 1.0)),
        _ => mu / (mu + ((1.0 / t) - 1.0)),
    };

    /// <summary>
    /// Resolution-dependent <c>mu</c> from the image sequence length (diffusers' <c>calculate_shift</c>): linear from
    /// (base_seq_len, base_shift) to (max_seq_len, max_shift).
    /// </summary>
    public static double MuFromSequenceLength(int imageSequenceLength, int baseSequenceLength = 256, int maxSequenceLength = 4096,
        double baseShift = 0.5, double maxShift = 1.15)
    {
        if (maxSequenceLength <= baseSequenceLength)
        {
            throw new ArgumentException("max sequence length must exceed the base sequence length.");
        }

        double m = (maxShift - baseShift) / (maxSequenceLength - baseSequenceLength);
        double b = baseShift - (m * baseSequenceLength);
        return (imageSequenceLength * m) + b;
    }

    /// <summary>Karras et al. (rho = 7) spacing between the end points, as diffusers' <c>_convert_to_karras</c>.</summary>
    public static double[] Karras(double sigmaMax, double sigmaMin, int count, double rho = 7.0)
    {
        var r = new double[count];
        double maxInv = Math.Pow(sigmaMax, 1.0 / rho), minInv = Math.Pow(sigmaMin, 1.0 / rho);
        for (int i = 0; i < count; i++)
        {
            double ramp = count == 1 ? 0.0 : (double)i / (count - 1);
            r[i] = Math.Pow(maxInv + (ramp * (minInv - maxInv)), rho);
        }

        return r;
    }

    /// <summary>Log-uniform spacing between the end points (diffusers' <c>_convert_to_exponential</c>).</summary>
    public static double[] Exponential(double sigmaMax, double sigmaMin, int count)
    {
        var r = new double[count];
        for (int i = 0; i < count; i++)
        {
            r[i] = Math.Exp(Linspace(Math.Log(sigmaMax), Math.Log(sigmaMin), count, i));
        }

        return r;
    }

    /// <summary>Beta-distribution spacing (Lee et al. 2024; diffusers' <c>_convert_to_beta</c>, alpha = beta = 0.6).</summary>
    public static double[] Beta(double sigmaMax, double sigmaMin, int count, double alpha = 0.6, double beta = 0.6)
    {
        var r = new double[count];
        for (int i = 0; i < count; i++)
        {
            double timestep = 1.0 - Linspace(0.0, 1.0, count, i);
            r[i] = sigmaMin + (BetaDistribution.InverseCdf(timestep, alpha, beta) * (sigmaMax - sigmaMin));
        }

        return r;
    }

    /// <summary>
    /// The unshifted sigmas FLUX.1, SD3 and Qwen-Image pass to their scheduler: <c>numpy.linspace(1, 1/N, N)</c>.
    /// </summary>
    public static double[] PipelineSigmas(int steps)
    {
        RequireSteps(steps);
        var r = new double[steps];
        for (int i = 0; i < steps; i++)
        {
            r[i] = Linspace(1.0, 1.0 / steps, steps, i);
        }

        return r;
    }

    /// <summary>Uniform time from <paramref name="tStart"/> to <paramref name="tEnd"/>: steps + 1 points.</summary>
    public static double[] UniformTime(int steps, double tStart, double tEnd)
    {
        RequireSteps(steps);
        var r = new double[steps + 1];
        for (int i = 0; i <= steps; i++)
        {
            r[i] = Linspace(tStart, tEnd, steps + 1, i);
        }

        return r;
    }

    /// <summary>Uniform in half log-SNR lambda between the two times (DPM-Solver's <c>logSNR</c> skip type).</summary>
    public static double[] UniformLogSnr(Schedules.NoiseSchedule schedule, int steps, double tStart, double tEnd)
    {
        RequireSteps(steps);
        double l0 = schedule.LogSnr(tStart), l1 = schedule.LogSnr(tEnd);
        var r = new double[steps + 1];
        r[0] = tStart;
        r[steps] = tEnd;
        for (int i = 1; i < steps; i++)
        {
            r[i] = schedule.TimeOfLogSnr(Linspace(l0, l1, steps + 1, i));
        }

        return r;
    }

    /// <summary>numpy.linspace(start, stop, count)[i], computed the way numpy does.</summary>
    public static double Linspace(double start, double stop, int count, int i)
    {
        if (count == 1)
        {
            return start;
        }

        if (i == count - 1)
        {
            return stop;
        }

        double step = (stop - start) / (count - 1);
        return start + (i * step);
    }

    private static void Respace(Span<double> sigmas, SigmaSpacing spacing)
    {
        if (spacing == SigmaSpacing.Linear)
        {
            return;
        }

        double max = sigmas[0], min = sigmas[^1];
        double[] r = spacing switch
        {
            SigmaSpacing.Karras => Karras(max, min, sigmas.Length),
            SigmaSpacing.Exponential => Exponential(max, min, sigmas.Length),
            _ => Beta(max, min, sigmas.Length),
        };
        r.CopyTo(sigmas);
    }

    private static void RequireSteps(int steps)
    {
        if (steps < 1)
        {
            throw new ArgumentException($"the number of steps must be at least 1 (got {steps}).");
        }
    }
}
