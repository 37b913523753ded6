using Stork.Imaging;

namespace Stork.Pipelines.ImageInputs;

/// <summary>
/// diffusers' <c>VaeImageProcessor.preprocess</c> on PIL images, for the images (<c>do_normalize</c>) and the masks
/// (<c>do_binarize</c>, <c>do_convert_grayscale</c>, no normalisation) of the image-input pipelines:
/// <list type="bullet">
/// <item>the default size is the image's, each side rounded down to a multiple of the processor's factor
/// (<c>get_default_height_width</c>);</item>
/// <item>an image of another size is resized with PIL's Lanczos filter (the processor's default <c>resample</c>), the
/// same bytes as PIL (<see cref="PilResize"/>); the aspect ratio is not kept (<c>resize_mode="default"</c>);</item>
/// <item>pixels become <c>float32(v) / 255</c>, images then <c>2x - 1</c> in float32, NCHW;</item>
/// <item>masks are converted to grey first (PIL's <c>L</c>: <c>(19595 R + 38470 G + 7471 B + 0x8000) &gt;&gt; 16</c>), then
/// binarised: values <c>&lt; 0.5</c> become 0, the rest 1 (so 128/255 and above repaint).</item>
/// </list>
/// </summary>
internal static class ImageProcessor
{
    /// <summary>The image's size with each side rounded down to a multiple of <paramref name="multiple"/>.</summary>
    public static (int Height, int Width) DefaultSize(Raster image, int multiple)
    {
        int h = image.Height - (image.Height % multiple), w = image.Width - (image.Width % multiple);
        if (h < multiple || w < multiple)
        {
            throw new ArgumentException($"the input image is {image.Width} x {image.Height} pixels; it must be at least {multiple} x {multiple}.");
        }

        return (h, w);
    }

    /// <summary>The image resized to <paramref name="height"/> x <paramref name="width"/> (PIL's Lanczos; a copy at its own size).</summary>
    public static Raster Resize(Raster image, int height, int width)
    {
        var resized = new Raster(width, height);
        Resized(image.Pixels, image.Width, image.Height, 3, width, height).CopyTo(resized.Pixels, 0);
        return resized;
    }

    /// <summary>The image at <paramref name="height"/> x <paramref name="width"/> as float32 [3, H, W] in [-1, 1].</summary>
    public static float[] Normalize(Raster image, int height, int width)
    {
        byte[] rgb = Resized(image.Pixels, image.Width, image.Height, 3, width, height);
        int plane = height * width;
        var chw = new float[3 * plane];
        for (int p = 0; p < plane; p++)
        {
            for (int c = 0; c < 3; c++)
            {
                float x = rgb[(p * 3) + c] / 255f;
                chw[(c * plane) + p] = (2f * x) - 1f;
            }
        }

        return chw;
    }

    /// <summary>The mask at <paramref name="height"/> x <paramref name="width"/>, grey, binarised: [H, W] of 0 and 1.</summary>
    public static float[] BinaryMask(Raster mask, int height, int width)
    {
        var grey = new byte[mask.Width * mask.Height];
        var px = mask.Pixels;
        for (int p = 0; p < grey.Length; p++)
        {
            grey[p] = (byte)(((px[3 * p] * 19595) + (px[(3 * p) + 1] * 38470) + (px[(3 * p) + 2] * 7471) + 0x8000) >> 16);
        }

        byte[] l = Resized(grey, mask.Width, mask.Height, 1, width, height);
        var m = new float[l.Length];
        for (int p = 0; p < l.Length; p++)
        {
            m[p] = l[p] / 255f < 0.5f ? 0f : 1f;
        }

        return m;
    }

    /// <summary>
    /// <c>torch.nn.functional.interpolate(mode="nearest")</c> of an [H, W] mask to [h, w]: source index
    /// <c>floor(i · H / h)</c> (pixel (8i, 8j) of each 8 x 8 block when H = 8h).
    /// </summary>
    public static float[] Nearest(ReadOnlySpan<float> mask, int height, int width, int h, int w)
    {
        var r = new float[h * w];
        float sy = (float)height / h, sx = (float)width / w;
        for (int i = 0; i < h; i++)
        {
            int y = Math.Min((int)MathF.Floor(i * sy), height - 1);
            for (int j = 0; j < w; j++)
            {
                int x = Math.Min((int)MathF.Floor(j * sx), width - 1);
                r[(i * w) + j] = mask[(y * width) + x];
            }
        }

        return r;
    }

    /// <summary>The masked image of the inpainting pipelines: <c>image · (mask &lt; 0.5)</c>, 0 where repainted.</summary>
    public static float[] MaskedImage(ReadOnlySpan<float> chw, ReadOnlySpan<float> mask)
    {
        int plane = mask.Length;
        var r = new float[chw.Length];
        for (int c = 0; c < 3; c++)
        {
            for (int p = 0; p < plane; p++)
            {
                r[(c * plane) + p] = chw[(c * plane) + p] * (mask[p] < 0.5f ? 1f : 0f);
            }
        }

        return r;
    }

    /// <summary>
    /// FLUX.1 Fill's mask channels: the full-resolution mask cut into <paramref name="factor"/> x <paramref name="factor"/>
    /// pixel blocks, [factor², h, w] with channel <c>factor·dy + dx</c> (diffusers' <c>view(B, h, 8, w, 8).permute(0, 2, 4, 1, 3)</c>).
    /// </summary>
    public static float[] BlockChannels(ReadOnlySpan<float> mask, int h, int w, int factor)
    {
        int width = w * factor;
        if (mask.Length != h * factor * width)
        {
            throw new ArgumentException($"a mask of {mask.Length} values is not {h * factor} x {width}.");
        }

        var r = new float[factor * factor * h * w];
        for (int dy = 0; dy < factor; dy++)
        {
            for (int dx = 0; dx < factor; dx++)
            {
                int c = (dy * factor) + dx;
                for (int i = 0; i < h; i++)
                {
                    for (int j = 0; j < w; j++)
                    {
                        r[(((c * h) + i) * w) + j] = mask[((((i * factor) + dy) * width) + (j * factor)) + dx];
                    }
                }
            }
        }

        return r;
    }

    private static byte[] Resized(byte[] pixels, int width, int height, int bands, int outWidth, int outHeight) =>
        width == outWidth && height == outHeight ? pixels : PilResize.Lanczos(pixels, width, height, bands, outWidth, outHeight);
}
