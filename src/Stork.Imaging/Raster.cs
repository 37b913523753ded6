namespace Stork.Imaging;

/// <summary>An RGB image in memory (8 bits per channel, row-major), with the few drawing operations the CLI needs.</summary>
public sealed class Raster
{
    /// <summary>A <paramref name="width"/> x <paramref name="height"/> image filled with <paramref name="fill"/>.</summary>
    public Raster(int width, int height, Rgb fill = default)
    {
        if (width < 1 || height < 1 || (long)width * height > 1L << 28)
        {
            throw new ArgumentException($"image size {width}x{height} is out of range.");
        }

        Width = width;
        Height = height;
        Pixels = new byte[width * height * 3];
        Fill(fill);
    }

    /// <summary>An image over <paramref name="pixels"/> (RGB bytes, row by row; taken, not copied).</summary>
    internal Raster(int width, int height, byte[] pixels)
    {
        if (width < 1 || height < 1 || (long)width * height > 1L << 28 || pixels.Length != width * height * 3)
        {
            throw new ArgumentException($"image size {width}x{height} with {pixels.Length} bytes is out of range.");
        }

        Width = width;
        Height = height;
        Pixels = pixels;
    }

    /// <summary>Width in pixels.</summary>
    public int Width { get; }

    /// <summary>Height in pixels.</summary>
    public int Height { get; }

    /// <summary>RGB bytes, row by row.</summary>
    public byte[] Pixels { get; }

    /// <summary>The pixel at column <paramref name="x"/>, row <paramref name="y"/> (0, 0 is the top-left corner).</summary>
    public Rgb this[int x, int y]
    {
        get
        {
            int i = ((y * Width) + x) * 3;
            return new Rgb(Pixels[i], Pixels[i + 1], Pixels[i + 2]);
        }

        set
        {
            if ((uint)x >= (uint)Width || (uint)y >= (uint)Height)
            {
                return;
            }

            int i = ((y * Width) + x) * 3;
            Pixels[i] = value.R;
            Pixels[i + 1] = value.G;
            Pixels[i + 2] = value.B;
        }
    }

    /// <summary>Sets every pixel to <paramref name="color"/>.</summary>
    public void Fill(Rgb color)
    {
        for (int i = 0; i < Pixels.Length; i += 3)
        {
            Pixels[i] = color.R;
            Pixels[i + 1] = color.G;
            Pixels[i + 2] = color.B;
        }
    }

    /// <summary>Copies <paramref name="source"/> with its top-left corner at (x, y), clipped to this image.</summary>
    public void Draw(Raster source, int x, int y)
    {
        for (int sy = 0; sy < source.Height; sy++)
        {
            int ty = y + sy;
            if ((uint)ty >= (uint)Height)
            {
                continue;
            }

            int x0 = Math.Max(0, -x), x1 = Math.Min(source.Width, Width - x);
            if (x1 <= x0)
            {
                continue;
            }

            Array.Copy(source.Pixels, ((sy * source.Width) + x0) * 3, Pixels, ((ty * Width) + x + x0) * 3, (x1 - x0) * 3);
        }
    }

    /// <summary>Draws <paramref name="text"/> in the built-in <see cref="BitmapFont"/> at (x, y), each font pixel scale x scale.</summary>
    public void DrawText(string text, int x, int y, Rgb color, int scale = 1) => BitmapFont.Draw(this, text, x, y, color, scale);
}
