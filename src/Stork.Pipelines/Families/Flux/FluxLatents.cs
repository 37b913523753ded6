namespace Stork.Pipelines.Flux;

/// <summary>
/// FLUX.1's packed latents: 2x2 patches of the C latent channels as tokens, [B, (h/2)(w/2), 4C], exactly
/// diffusers' <c>_pack_latents</c> (view [B, C, h/2, 2, w/2, 2], permute (0, 2, 4, 1, 3, 5)) and its inverse, and the
/// positions <c>_prepare_latent_image_ids</c> gives each token: (0, row, column).
/// </summary>
public static class FluxLatents
{
    /// <summary>Packs one image's latents [C, h, w] into [(h/2)(w/2), 4C].</summary>
    public static void Pack(ReadOnlySpan<float> unpacked, int channels, int height, int width, Span<float> packed)
    {
        Require(unpacked.Length, packed.Length, channels, height, width);
        int h2 = height / 2, w2 = width / 2, c4 = channels * 4;
        for (int r = 0; r < h2; r++)
        {
            for (int c = 0; c < w2; c++)
            {
                int token = ((r * w2) + c) * c4;
                for (int ch = 0; ch < channels; ch++)
                {
                    int src = (ch * height * width) + (2 * r * width) + (2 * c);
                    int dst = token + (ch * 4);
                    packed[dst] = unpacked[src];
                    packed[dst + 1] = unpacked[src + 1];
                    packed[dst + 2] = unpacked[src + width];
                    packed[dst + 3] = unpacked[src + width + 1];
                }
            }
        }
    }

    /// <summary>Unpacks one image's [(h/2)(w/2), 4C] into [C, h, w] (diffusers' <c>_unpack_latents</c>).</summary>
    public static void Unpack(ReadOnlySpan<float> packed, int channels, int height, int width, Span<float> unpacked)
    {
        Require(unpacked.Length, packed.Length, channels, height, width);
        int h2 = height / 2, w2 = width / 2, c4 = channels * 4;
        for (int r = 0; r < h2; r++)
        {
            for (int c = 0; c < w2; c++)
            {
                int token = ((r * w2) + c) * c4;
                for (int ch = 0; ch < channels; ch++)
                {
                    int dst = (ch * height * width) + (2 * r * width) + (2 * c);
                    int src = token + (ch * 4);
                    unpacked[dst] = packed[src];
                    unpacked[dst + 1] = packed[src + 1];
                    unpacked[dst + width] = packed[src + 2];
                    unpacked[dst + width + 1] = packed[src + 3];
                }
            }
        }
    }

    /// <summary>The image-token positions [(h/2)(w/2), 3]: (0, row, column) in row-major order.</summary>
    public static long[] ImageIds(int height, int width)
    {
        int h2 = height / 2, w2 = width / 2;
        var ids = new long[h2 * w2 * 3];
        for (int r = 0; r < h2; r++)
        {
            for (int c = 0; c < w2; c++)
            {
                int k = ((r * w2) + c) * 3;
                ids[k + 1] = r;
                ids[k + 2] = c;
            }
        }

        return ids;
    }

    private static void Require(int unpacked, int packed, int channels, int height, int width)
    {
        if (height % 2 != 0 || width % 2 != 0)
        {
            throw new ArgumentException($"packed latents need an even latent height and width (got {height} x {width}).");
        }

        int n = channels * height * width;
        if (unpacked != n || packed != n)
        {
            throw new ArgumentException($"latents of {channels} x {height} x {width} hold {n} values (got {unpacked} and {packed}).");
        }
    }
}
