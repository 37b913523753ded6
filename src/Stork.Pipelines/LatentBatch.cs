using Stork.Pipelines.Flux;
using Stork.Predictions;
using Stork.Sampling;
using Stork.Solvers;

namespace Stork.Pipelines;

/// <summary>
/// A run's latents, image by image: the initial ones (given, or the noise of seed <c>Seed + k</c> for image k, drawn
/// on the unpacked [C, h, w] so that an image does not depend on the batch) and the decode of the final ones. FLUX.1 and
/// Qwen-Image keep their latents packed (<see cref="FluxLatents"/>); the SD families keep them as [C, h, w].
/// </summary>
internal static class LatentBatch
{
    /// <summary>
    /// The initial latents of <paramref name="count"/> images: <paramref name="given"/> ([N, C, h, w]; with
    /// <paramref name="packed"/> also [N, S, 4C]; with <paramref name="frameAxis"/> also [N, C, 1, h, w] or diffusers' draw
    /// [N, 1, C, h, w], the same values in the same order) or seeded noise.
    /// </summary>
    public static float[] Initial(LatentsInput? given, long seed, int count, int channels, int h, int w, bool packed, bool frameAxis,
        int height, int width, out long[]? seeds)
    {
        int per = checked(channels * h * w);
        var x = new float[checked(count * per)];
        var noise = new float[per];
        if (given is not null)
        {
            seeds = null;
            int[] s = given.Shape;
            bool isPacked = packed && s.Length == 3 && s[0] == count && s[1] == h / 2 * (w / 2) && s[2] == channels * 4;
            bool isPlain = (s.Length == 4 && s[0] == count && s[1] == channels && s[2] == h && s[3] == w)
                || (frameAxis && s.Length == 5 && s[0] == count && s[3] == h && s[4] == w
                    && ((s[1] == channels && s[2] == 1) || (s[1] == 1 && s[2] == channels)));
            if (!isPacked && !isPlain)
            {
                var expected = new List<string> { $"[{count}, {channels}, {h}, {w}]" };
                if (frameAxis)
                {
                    expected.Add($"[{count}, {channels}, 1, {h}, {w}]");
                    expected.Add($"[{count}, 1, {channels}, {h}, {w}]");
                }

                if (packed)
                {
                    expected.Add($"packed [{count}, {h / 2 * (w / 2)}, {channels * 4}]");
                }

                throw new ArgumentException(
                    $"latents of shape [{string.Join(", ", s)}] do not fit {count} image(s) of {height} x {width}: expected {string.Join(" or ", expected)}.",
                    nameof(given));
            }

            if (given.Values.Length != x.Length || given.Values.Any(v => !float.IsFinite(v)))
            {
                throw new ArgumentException("the latents must hold finite values, as many as their shape says.", nameof(given));
            }

            for (int k = 0; k < count; k++)
            {
                var src = given.Values.AsSpan(k * per, per);
                if (packed && !isPacked)
                {
                    FluxLatents.Pack(src, channels, h, w, x.AsSpan(k * per, per));
                }
                else
                {
                    src.CopyTo(x.AsSpan(k * per, per));
                }
            }

            return x;
        }

        seeds = new long[count];
        for (int k = 0; k < count; k++)
        {
            seeds[k] = seed + k;
            GaussianNoise.Fill(noise, seeds[k]);
            if (packed)
            {
                FluxLatents.Pack(noise, channels, h, w, x.AsSpan(k * per, per));
            }
            else
            {
                noise.CopyTo(x, k * per);
            }
        }

        return x;
    }

    /// <summary>Decodes the latents of <paramref name="count"/> images, one at a time.</summary>
    public static GeneratedImages Decode(ILatentDecoder vae, ReadOnlySpan<float> latents, int count, int channels, int h, int w, bool packed,
        CancellationToken cancellationToken)
    {
        if (vae.LatentChannels != channels)
        {
            throw new InvalidDataException($"vae_decoder: it takes {vae.LatentChannels} latent channels, the denoiser makes {channels}.");
        }

        int per = channels * h * w;
        int outH = h * vae.ScaleFactor, outW = w * vae.ScaleFactor;
        var pixels = new float[checked(count * outH * outW * 3)];
        var z = new float[per];
        for (int k = 0; k < count; k++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (packed)
            {
                FluxLatents.Unpack(latents.Slice(k * per, per), channels, h, w, z);
            }
            else
            {
                latents.Slice(k * per, per).CopyTo(z);
            }

            vae.Denormalize(z, h, w);
            vae.Decode(z, h, w, pixels.AsSpan(k * outH * outW * 3, outH * outW * 3));
        }

        return new GeneratedImages(pixels, count, outH, outW);
    }

    /// <summary>The clean latents a step's model output predicts (for stepwise previews).</summary>
    public static float[] PredictedClean(ModelSpec model, double time, ReadOnlySpan<float> x, ReadOnlySpan<float> output)
    {
        var x0 = new float[x.Length];
        PredictionConverter.Convert(model.Prediction, Prediction.Sample, model.Schedule, time, x, output, x0);
        return x0;
    }

    /// <summary>
    /// diffusers' <c>VaeImageProcessor.postprocess(output_type="np")</c> of one decoded image: <c>clamp(x / 2 + 0.5, 0, 1)</c>,
    /// C x H x W to H x W x 3.
    /// </summary>
    public static void ToUnitImage(ReadOnlySpan<float> chw, Span<float> image)
    {
        int plane = chw.Length / 3;
        for (int p = 0; p < plane; p++)
        {
            for (int ch = 0; ch < 3; ch++)
            {
                image[(p * 3) + ch] = Math.Clamp((chw[(ch * plane) + p] / 2f) + 0.5f, 0f, 1f);
            }
        }
    }
}
