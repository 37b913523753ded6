namespace Stork.Pipelines.ImageInputs;

/// <summary>How a family's pipelines turn a strength into the first step they run (<c>get_timesteps</c>).</summary>
internal enum StrengthRounding
{
    /// <summary>SD1.5/2.x and SDXL: <c>t_start = N - int(N · s)</c>; N · s rounds down (6 steps at 0.6 run 3).</summary>
    RunFloor,

    /// <summary>FLUX.1 and SD3: <c>t_start = int(N - N · s)</c> in floats; N · s rounds up (6 steps at 0.6 run 4).</summary>
    RunCeiling,
}

/// <summary>
/// The strength of image-to-image and inpainting: the schedule is set for all N steps, then the first <c>t_start</c>
/// are dropped (diffusers' <c>get_timesteps</c> and <c>set_begin_index(t_start)</c>). Strength 1 runs every step.
/// </summary>
internal static class Strength
{
    /// <summary>The number of leading steps a strength drops; a strength outside (0, 1] or one that leaves no step is an error.</summary>
    public static int StartIndex(int steps, double strength, StrengthRounding rounding)
    {
        Validate(strength);
        int start = rounding switch
        {
            StrengthRounding.RunFloor => Math.Max(steps - Math.Min((int)(steps * strength), steps), 0),
            _ => (int)Math.Max(steps - Math.Min(steps * strength, steps), 0),
        };
        if (steps - start < 1)
        {
            throw new ArgumentException(
                $"strength {strength} with {steps} steps leaves no step to run (this family runs {(rounding == StrengthRounding.RunFloor ? "int(N · strength)" : "N - int(N - N · strength)")} of N); raise the strength or the steps.");
        }

        return start;
    }

    /// <summary>Strength must be in (0, 1].</summary>
    public static void Validate(double strength)
    {
        if (!(strength > 0 && strength <= 1))
        {
            throw new ArgumentException($"the strength must be in (0, 1] (got {strength}).");
        }
    }
}
