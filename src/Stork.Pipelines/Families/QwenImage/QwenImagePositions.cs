namespace Stork.Pipelines.QwenImage;

/// <summary>
/// The rotary positions the Qwen-Image transformer graph takes in place of diffusers' <c>img_shapes</c>, in FLUX.1's
/// form (int64 [N, 3]): <c>QwenEmbedRope</c> with <c>scale_rope</c>, whose rows and columns are centred, and the text
/// continuing after the image's largest half-extent.
/// </summary>
public static class QwenImagePositions
{
    /// <summary>
    /// The image-token positions [(h/2)(w/2), 3] of a latent grid <paramref name="latentHeight"/> x
    /// <paramref name="latentWidth"/>: token (r, c) of the packed H' x W' grid gets
    /// <c>(0, r - (H' - H'//2), c - (W' - W'//2))</c>, row-major.
    /// </summary>
    public static long[] ImageIds(int latentHeight, int latentWidth)
    {
        int h2 = latentHeight / 2, w2 = latentWidth / 2;
        int rowOffset = h2 - (h2 / 2), columnOffset = w2 - (w2 / 2);
        var ids = new long[checked(h2 * w2 * 3)];
        for (int r = 0; r < h2; r++)
        {
            for (int c = 0; c < w2; c++)
            {
                int k = ((r * w2) + c) * 3;
                ids[k + 1] = r - rowOffset;
                ids[k + 2] = c - columnOffset;
            }
        }

        return ids;
    }

    /// <summary>
    /// The text-token positions [<paramref name="textLength"/>, 3]: token j gets <c>m + j</c> on every axis, with
    /// <c>m = max(H'//2, W'//2)</c> of the packed grid.
    /// </summary>
    public static long[] TextIds(int textLength, int latentHeight, int latentWidth)
    {
        long m = Math.Max(latentHeight / 2 / 2, latentWidth / 2 / 2);
        var ids = new long[checked(textLength * 3)];
        for (int j = 0; j < textLength; j++)
        {
            ids[(3 * j) + 0] = ids[(3 * j) + 1] = ids[(3 * j) + 2] = m + j;
        }

        return ids;
    }
}
