namespace Stork.Pipelines.ImageInputs;

/// <summary>
/// PIL's <c>Image.resize(size, Image.LANCZOS)</c> on 8-bit images, as Pillow's <c>Resample.c</c> computes it, so that an
/// input image of another size becomes the same bytes diffusers' <c>VaeImageProcessor.resize</c> feeds the VAE: the
/// separable Lanczos-3 filter widened by the scale when shrinking, the window bounds and weights in double, the
/// weights rounded to 22-bit fixed point, the horizontal pass first (rounded and clamped to 8 bits) and then the
/// vertical one. A size equal to the image's is a copy, as in PIL.
/// </summary>
internal static class PilResize
{
    private const int PrecisionBits = 32 - 8 - 2;

    /// <summary>Resizes <paramref name="pixels"/> (<paramref name="bands"/> interleaved bytes per pixel, row by row).</summary>
    public static byte[] Lanczos(byte[] pixels, int width, int height, int bands, int outWidth, int outHeight)
    {
        if (width < 1 || height < 1 || outWidth < 1 || outHeight < 1 || pixels.Length != checked(width * height * bands))
        {
            throw new ArgumentException($"cannot resize {width} x {height} x {bands} bytes ({pixels.Length}) to {outWidth} x {outHeight}.");
        }

        byte[] current = pixels;
        int w = width;
        if (outWidth != width)
        {
            var (bounds, k, ksize) = Coefficients(width, outWidth);
            var next = new byte[checked(outWidth * height * bands)];
            for (int y = 0; y < height; y++)
            {
                int row = y * width * bands, outRow = y * outWidth * bands;
                for (int x = 0; x < outWidth; x++)
                {
                    int min = bounds[2 * x], count = bounds[(2 * x) + 1];
                    for (int b = 0; b < bands; b++)
                    {
                        int ss = 1 << (PrecisionBits - 1);
                        for (int i = 0; i < count; i++)
                        {
                            ss += current[row + ((min + i) * bands) + b] * k[(x * ksize) + i];
                        }

                        next[outRow + (x * bands) + b] = Clip8(ss);
                    }
                }
            }

            current = next;
            w = outWidth;
        }

        if (outHeight != height)
        {
            var (bounds, k, ksize) = Coefficients(height, outHeight);
            var next = new byte[checked(w * outHeight * bands)];
            for (int y = 0; y < outHeight; y++)
            {
                int min = bounds[2 * y], count = bounds[(2 * y) + 1];
                for (int x = 0; x < w * bands; x++)
                {
                    int ss = 1 << (PrecisionBits - 1);
                    for (int i = 0; i < count; i++)
                    {
                        ss += current[((min + i) * w * bands) + x] * k[(y * ksize) + i];
                    }

                    next[(y * w * bands) + x] = Clip8(ss);
                }
            }

            current = next;
        }

        return ReferenceEquals(current, pixels) ? (byte[])pixels.Clone() : current;
    }

    private static byte Clip8(int ss) => (byte)Math.Clamp(ss >> PrecisionBits, 0, 255);

    /// <summary>Pillow's <c>precompute_coeffs</c> for the whole axis, then <c>normalize_coeffs_8bpc</c>.</summary>
    private static (int[] Bounds, int[] Weights, int KernelSize) Coefficients(int inSize, int outSize)
    {
        const double support0 = 3.0;
        double scale = (double)inSize / outSize;
        double filterScale = Math.Max(scale, 1.0);
        double support = support0 * filterScale;
        int ksize = ((int)Math.Ceiling(support) * 2) + 1;
        var bounds = new int[outSize * 2];
        var weights = new int[checked(outSize * ksize)];
        var k = new double[ksize];
        for (int xx = 0; xx < outSize; xx++)
        {
            double center = (xx + 0.5) * scale;
            double ss = 1.0 / filterScale;
            int xmin = (int)(center - support + 0.5);
            if (xmin < 0)
            {
                xmin = 0;
            }

            int xmax = (int)(center + support + 0.5);
            if (xmax > inSize)
            {
                xmax = inSize;
            }

            xmax -= xmin;
            double ww = 0.0;
            for (int x = 0; x < xmax; x++)
            {
                double w = Filter((x + xmin - center + 0.5) * ss);
                k[x] = w;
                ww += w;
            }

            for (int x = 0; x < xmax; x++)
            {
                double v = ww != 0.0 ? k[x] / ww : k[x];
                weights[(xx * ksize) + x] = v < 0 ? (int)(-0.5 + (v * (1 << PrecisionBits))) : (int)(0.5 + (v * (1 << PrecisionBits)));
            }

            bounds[2 * xx] = xmin;
            bounds[(2 * xx) + 1] = xmax;
        }

        return (bounds, weights, ksize);
    }

    private static double Filter(double x) => x is >= -3.0 and < 3.0 ? Sinc(x) * Sinc(x / 3.0) : 0.0;

    private static double Sinc(double x)
    {
        if (x == 0.0)
        {
            return 1.0;
        }

        x *= Math.PI;
        return Math.Sin(x) / x;
    }
}
