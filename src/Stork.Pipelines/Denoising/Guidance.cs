namespace Stork.Pipelines.Denoising;

/// <summary>How a family combines a conditional and an unconditional prediction (diffusers' pipelines, in float32).</summary>
public enum GuidanceKind
{
    /// <summary>One pass per step (no negative prompt, or a scale of at most 1).</summary>
    None,

    /// <summary>
    /// Classifier-free guidance batched <c>[negative x Count, positive x Count]</c> in one call (SD, SDXL, SD3):
    /// <c>uncond + g (cond - uncond)</c>, on when guidance_scale is above 1 (the negative prompt defaults to empty).
    /// </summary>
    BatchedCfg,

    /// <summary>True CFG (FLUX.1): two passes per step, <c>neg + s (cond - neg)</c>, on with a negative prompt and a scale above 1.</summary>
    TrueCfg,

    /// <summary>
    /// True CFG with the norm rescale (Qwen-Image): two passes, <c>comb = neg + s (cond - neg)</c>, then
    /// <c>comb * ||cond|| / ||comb||</c> per row of the last axis.
    /// </summary>
    TrueCfgRescaled,
}

/// <summary>The one place where a guided prediction is combined from its two passes.</summary>
public static class Guidance
{
    /// <summary>
    /// Combines <paramref name="cond"/> and <paramref name="uncond"/> into <paramref name="output"/> as
    /// <paramref name="kind"/> says; <paramref name="width"/> is the last axis (the rows the rescale normalises).
    /// </summary>
    /// <exception cref="ArgumentException">The lengths differ or are not whole rows of <paramref name="width"/>.</exception>
    public static void Combine(GuidanceKind kind, ReadOnlySpan<float> cond, ReadOnlySpan<float> uncond, float scale, int width, Span<float> output)
    {
        if (width < 1 || cond.Length % width != 0 || uncond.Length != cond.Length || output.Length != cond.Length)
        {
            throw new ArgumentException($"cond, uncond and output must be equal whole rows of {width} values (got {cond.Length}, {uncond.Length}, {output.Length}).", nameof(width));
        }

        switch (kind)
        {
            case GuidanceKind.None:
                cond.CopyTo(output);
                return;
            case GuidanceKind.BatchedCfg or GuidanceKind.TrueCfg:
                for (int i = 0; i < cond.Length; i++)
                {
                    float u = uncond[i];
                    output[i] = u + (scale * (cond[i] - u));
                }

                return;
            default:
                for (int row = 0; row < cond.Length; row += width)
                {
                    double condNorm = 0, combNorm = 0;
                    for (int i = row; i < row + width; i++)
                    {
                        float comb = uncond[i] + (scale * (cond[i] - uncond[i]));
                        output[i] = comb;
                        condNorm += (double)cond[i] * cond[i];
                        combNorm += (double)comb * comb;
                    }

                    float ratio = (float)Math.Sqrt(condNorm) / (float)Math.Sqrt(combNorm);
                    for (int i = row; i < row + width; i++)
                    {
                        output[i] *= ratio;
                    }
                }

                return;
        }
    }
}
