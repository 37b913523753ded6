using System.Globalization;
using Stork.Imaging;

namespace Stork.Server;

/// <summary>
/// Images sent to the server (base64 or data URLs in JSON, files in multipart forms), read with the library's reader
/// (<see cref="ImageFile"/>): the header's size is checked against <see cref="ServerLimits.MaxPixels"/> before anything is
/// decoded, and an unreadable image is one 400 naming the field. The mask conversions of the compatible APIs live here.
/// </summary>
internal static class ImageUploads
{
    /// <summary>A base64 PNG or JPEG, or a <c>data:image/...;base64,</c> URL; null or empty: none.</summary>
    public static byte[]? FromBase64(string? text, string field)
    {
        if (string.IsNullOrEmpty(text))
        {
            return null;
        }

        string payload = text;
        if (text.StartsWith("data:", StringComparison.OrdinalIgnoreCase))
        {
            int comma = text.IndexOf(',', StringComparison.Ordinal);
            if (comma < 0 || !text[..comma].EndsWith(";base64", StringComparison.OrdinalIgnoreCase))
            {
                throw new RequestException($"{field} is a data URL without ';base64,': send the PNG or JPEG file as base64.");
            }

            payload = text[(comma + 1)..];
        }

        try
        {
            return Convert.FromBase64String(payload);
        }
        catch (FormatException)
        {
            throw new RequestException($"{field} is not valid base64: send a PNG or JPEG file as base64 or as a data: URL.");
        }
    }

    /// <summary>Checks the declared size against the server's pixel limit, then decodes (RGB).</summary>
    public static Raster Decode(byte[] data, string field, ServerLimits limits) => DecodeWithAlpha(data, field, limits, alpha: false).Image;

    /// <summary>As <see cref="Decode"/>, with the alpha channel (255 everywhere without transparency) when <paramref name="alpha"/>.</summary>
    public static (Raster Image, byte[]? Alpha) DecodeWithAlpha(byte[] data, string field, ServerLimits limits, bool alpha = true)
    {
        try
        {
            var (width, height) = ImageFile.ReadSize(data, field);
            if ((long)width * height > limits.MaxPixels)
            {
                throw new RequestException(string.Create(CultureInfo.InvariantCulture,
                    $"{field} is {width} x {height} pixels; the server takes images of at most {limits.MaxPixels} pixels."));
            }

            if (!alpha)
            {
                return (ImageFile.Decode(data, field), null);
            }

            var (image, a) = ImageFile.DecodeWithAlpha(data, field);
            return (image, a);
        }
        catch (InvalidDataException e)
        {
            throw new RequestException(e.Message);
        }
    }

    /// <summary>A grey mask (R = G = B) from one byte per pixel.</summary>
    public static Raster Grey(int width, int height, ReadOnlySpan<byte> values)
    {
        var mask = new Raster(width, height);
        var pixels = mask.Pixels;
        for (int p = 0; p < values.Length; p++)
        {
            pixels[3 * p] = pixels[(3 * p) + 1] = pixels[(3 * p) + 2] = values[p];
        }

        return mask;
    }

    /// <summary>PIL's <c>convert("L")</c> of an RGB raster: (299 R + 587 G + 114 B) / 1000, rounded as PIL does.</summary>
    public static byte[] Luminance(Raster image)
    {
        var px = image.Pixels;
        var grey = new byte[image.Width * image.Height];
        for (int p = 0; p < grey.Length; p++)
        {
            grey[p] = (byte)(((px[3 * p] * 19595) + (px[(3 * p) + 1] * 38470) + (px[(3 * p) + 2] * 7471) + 0x8000) >> 16);
        }

        return grey;
    }

    /// <summary>
    /// OpenAI's image edits: the fully transparent pixels (alpha 0) of the mask are the ones to edit. Returns our mask
    /// (white = repaint, black = keep), or null when no pixel is fully transparent.
    /// </summary>
    public static Raster? FromTransparency(int width, int height, byte[] alpha)
    {
        var values = new byte[alpha.Length];
        bool any = false;
        for (int p = 0; p < alpha.Length; p++)
        {
            if (alpha[p] == 0)
            {
                values[p] = 255;
                any = true;
            }
        }

        return any ? Grey(width, height, values) : null;
    }

    /// <summary>
    /// Automatic1111's mask (<c>create_binary_mask</c>, then <c>mask_blur_x/y</c>, then <c>inpainting_mask_invert</c>):
    /// an RGBA mask whose alpha is not opaque everywhere is its alpha thresholded at 128, any other is its luminance;
    /// the blur is OpenCV's Gaussian blur as Automatic1111 calls it (kernel 2 ⌊2.5 σ + 0.5⌋ + 1, σ = the blur, reflected
    /// borders), horizontal then vertical; the pipeline then binarises the mask at 0.5 as diffusers does.
    /// </summary>
    public static Raster A1111Mask(Raster image, byte[] alpha, int blurX, int blurY, bool invert)
    {
        int w = image.Width, h = image.Height;
        byte[] values;
        if (alpha.Any(a => a != 255))
        {
            values = new byte[alpha.Length];
            for (int p = 0; p < alpha.Length; p++)
            {
                values[p] = alpha[p] > 128 ? (byte)255 : (byte)0;
            }
        }
        else
        {
            values = Luminance(image);
        }

        if (blurX > 0)
        {
            values = Blur(values, w, h, blurX, horizontal: true);
        }

        if (blurY > 0)
        {
            values = Blur(values, w, h, blurY, horizontal: false);
        }

        if (invert)
        {
            for (int p = 0; p < values.Length; p++)
            {
                values[p] = (byte)(255 - values[p]);
            }
        }

        return Grey(w, h, values);
    }

    /// <summary>One pass of OpenCV's <c>GaussianBlur</c> on 8-bit values (BORDER_REFLECT_101), along rows or columns.</summary>
    private static byte[] Blur(byte[] values, int width, int height, int sigma, bool horizontal)
    {
        int radius = (int)((2.5 * sigma) + 0.5);
        var kernel = new double[(2 * radius) + 1];
        double sum = 0;
        for (int k = -radius; k <= radius; k++)
        {
            kernel[k + radius] = Math.Exp(-(k * k) / (2.0 * sigma * sigma));
            sum += kernel[k + radius];
        }

        int n = horizontal ? width : height;
        var result = new byte[values.Length];
        for (int y = 0; y < height; y++)
        {
            for (int x = 0; x < width; x++)
            {
                int at = horizontal ? x : y;
                double acc = 0;
                for (int k = -radius; k <= radius; k++)
                {
                    int i = Reflect(at + k, n);
                    acc += kernel[k + radius] * values[horizontal ? (y * width) + i : (i * width) + x];
                }

                result[(y * width) + x] = (byte)Math.Clamp(Math.Round(acc / sum), 0, 255);
            }
        }

        return result;
    }

    private static int Reflect(int i, int n)
    {
        if (n == 1)
        {
            return 0;
        }

        while (i < 0 || i >= n)
        {
            i = i < 0 ? -i : (2 * n) - 2 - i;
        }

        return i;
    }
}
