namespace Stork.Pipelines.QwenImage;

/// <summary>
/// Qwen-Image's true classifier-free guidance with the norm rescale (diffusers' <c>QwenImagePipeline</c>):
/// <c>comb = uncond + s (cond - uncond)</c>, then <c>comb * ||cond|| / ||comb||</c> with the norms over the last axis,
/// one per packed token.
/// </summary>
public static class TrueCfg
{
    /// <summary>Combines <paramref name="cond"/> and <paramref name="uncond"/> ([N, width] each) into <paramref name="output"/>.</summary>
    /// <exception cref="ArgumentException">The lengths differ or are not whole rows of <paramref name="width"/>.</exception>
    public static void Combine(ReadOnlySpan<float> cond, ReadOnlySpan<float> uncond, float scale, int width, Span<float> output)
    {
        if (width < 1 || cond.Length % width != 0 || uncond.Length != cond.Length || output.Length != cond.Length)
        {
            throw new ArgumentException($"cond, uncond and output must be equal whole rows of {width} values (got {cond.Length}, {uncond.Length}, {output.Length}).", nameof(width));
        }

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
    }
}
