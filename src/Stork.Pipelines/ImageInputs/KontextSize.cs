namespace Stork.Pipelines.ImageInputs;

/// <summary>
/// FLUX.1 Kontext's sizes (diffusers' <c>FluxKontextPipeline.__call__</c>): the output is <c>max_area</c> at the
/// requested aspect ratio, rounded down to multiples of 16; the reference image keeps its own size rounded down to
/// multiples of 16 or, with <c>_auto_resize</c>, takes the preferred Kontext resolution of the nearest aspect ratio.
/// Without a requested size: the default size, <c>max_area</c> 1024², auto-resize on; with one: <c>max_area = H · W</c>
/// and no auto-resize, so the output has the requested size and the image is encoded at its own.
/// </summary>
internal static class KontextSize
{
    /// <summary>(width, height) pairs Kontext was trained on.</summary>
    public static readonly (int Width, int Height)[] Preferred =
    [
        (672, 1568), (688, 1504), (720, 1456), (752, 1392), (800, 1328), (832, 1248), (880, 1184), (944, 1104), (1024, 1024),
        (1104, 944), (1184, 880), (1248, 832), (1328, 800), (1392, 752), (1456, 720), (1504, 688), (1568, 672),
    ];

    /// <summary>The output size and the size the reference image is encoded at.</summary>
    public static (int Height, int Width, int ImageHeight, int ImageWidth) Resolve(int imageHeight, int imageWidth, int? height, int? width,
        int defaultHeight, int defaultWidth, int multiple)
    {
        bool requested = height is not null || width is not null;
        int h = height ?? defaultHeight, w = width ?? defaultWidth;
        double maxArea = requested ? (double)h * w : 1024.0 * 1024.0;
        double aspect = (double)w / h;
        int outW = (int)Math.Round(Math.Sqrt(maxArea * aspect), MidpointRounding.ToEven) / multiple * multiple;
        int outH = (int)Math.Round(Math.Sqrt(maxArea / aspect), MidpointRounding.ToEven) / multiple * multiple;

        int ih = imageHeight - (imageHeight % multiple), iw = imageWidth - (imageWidth % multiple);
        if (!requested)
        {
            double ratio = (double)iw / ih;
            var best = Preferred.Select(p => (Distance: Math.Abs(ratio - ((double)p.Width / p.Height)), p.Width, p.Height)).Min();
            (iw, ih) = (best.Width / multiple * multiple, best.Height / multiple * multiple);
        }

        if (ih < multiple || iw < multiple || outH < multiple || outW < multiple)
        {
            throw new ArgumentException($"Kontext: the reference image ({imageWidth} x {imageHeight}) and the output must be at least {multiple} pixels a side.");
        }

        return (outH, outW, ih, iw);
    }
}
