namespace Stork.Imaging;

/// <summary>
/// Turns samples into pictures: a sample of shape [C, H, W] (C = 1 or 3, NCHW) or [H, W], whose values span the model's
/// data range, becomes an RGB raster with that range mapped linearly onto [0, 255] (clamped, rounded).
/// </summary>
public static class SampleImage
{
    /// <summary>Height, width and channels of an image sample shape; throws <see cref="ArgumentException"/> for other shapes.</summary>
    public static (int Channels, int Height, int Width) Geometry(IReadOnlyList<int> shape) => shape.Count switch
    {
        2 => (1, shape[0], shape[1]),
        3 when shape[0] is 1 or 3 => (shape[0], shape[1], shape[2]),
        _ => throw new ArgumentException(
            $"samples of shape [{string.Join(", ", shape)}] are not images (expected [1, H, W], [3, H, W] or [H, W]); write a .npy instead."),
    };

    /// <summary>True when <paramref name="shape"/> can be drawn.</summary>
    public static bool IsImage(IReadOnlyList<int> shape) =>
        shape.Count == 2 || (shape.Count == 3 && shape[0] is 1 or 3);

    /// <summary>One pixel value: <paramref name="v"/> in [min, max] to [0, 255], clamped; NaN maps to 0.</summary>
    public static byte ToByte(float v, double min, double max)
    {
        double u = (v - min) / (max - min) * 255.0;
        return u >= 255 ? (byte)255 : u > 0 ? (byte)Math.Round(u, MidpointRounding.AwayFromZero) : (byte)0;
    }

    /// <summary>Draws one sample, each pixel scale x scale.</summary>
    public static Raster Render(ReadOnlySpan<float> sample, IReadOnlyList<int> shape, (double Min, double Max) range, int scale = 1)
    {
        var (c, h, w) = Geometry(shape);
        if (sample.Length != c * h * w)
        {
            throw new ArgumentException($"a sample of shape [{string.Join(", ", shape)}] has {c * h * w} values, not {sample.Length}.");
        }

        if (scale < 1)
        {
            throw new ArgumentException($"scale must be at least 1 (got {scale}).");
        }

        if (!(range.Max > range.Min))
        {
            throw new ArgumentException($"data range must have min < max (got [{range.Min}, {range.Max}]).");
        }

        var image = new Raster(w * scale, h * scale);
        int plane = h * w;
        for (int y = 0; y < h; y++)
        {
            for (int x = 0; x < w; x++)
            {
                int i = (y * w) + x;
                byte r = ToByte(sample[i], range.Min, range.Max);
                var color = c == 3
                    ? new Rgb(r, ToByte(sample[plane + i], range.Min, range.Max), ToByte(sample[(2 * plane) + i], range.Min, range.Max))
                    : Rgb.Gray(r);
                for (int dy = 0; dy < scale; dy++)
                {
                    for (int dx = 0; dx < scale; dx++)
                    {
                        image[(x * scale) + dx, (y * scale) + dy] = color;
                    }
                }
            }
        }

        return image;
    }

    /// <summary>
    /// Draws a batch ([batch, ...shape]) as a grid of <paramref name="columns"/> columns (default: the smallest
    /// square that holds the batch) with <paramref name="gap"/> background pixels between and around the samples.
    /// </summary>
    public static Raster RenderBatch(ReadOnlySpan<float> samples, IReadOnlyList<int> shape, (double Min, double Max) range,
        int scale = 1, int? columns = null, int gap = 2)
    {
        var (c, h, w) = Geometry(shape);
        int size = c * h * w;
        if (samples.Length == 0 || samples.Length % size != 0)
        {
            throw new ArgumentException($"the batch holds {samples.Length} values, not a whole number of samples of {size}.");
        }

        int batch = samples.Length / size;
        int cols = columns ?? (int)Math.Ceiling(Math.Sqrt(batch));
        if (cols < 1 || gap < 0)
        {
            throw new ArgumentException("a grid needs at least one column and a non-negative gap.");
        }

        cols = Math.Min(cols, batch);
        int rows = (batch + cols - 1) / cols;
        int cw = w * scale, ch = h * scale;
        var grid = new Raster((cols * (cw + gap)) + gap, (rows * (ch + gap)) + gap, Rgb.Background);
        for (int n = 0; n < batch; n++)
        {
            var tile = Render(samples.Slice(n * size, size), shape, range, scale);
            grid.Draw(tile, gap + ((n % cols) * (cw + gap)), gap + ((n / cols) * (ch + gap)));
        }

        return grid;
    }
}
