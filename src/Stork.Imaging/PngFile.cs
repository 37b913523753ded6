using StbImageWriteSharp;
using Stork.IO;

namespace Stork.Imaging;

/// <summary>PNG encoding (StbImageWriteSharp) of a <see cref="Raster"/>; files are written whole or not at all.</summary>
public static class PngFile
{
    /// <summary>Encodes <paramref name="image"/> as an RGB PNG.</summary>
    public static byte[] Encode(Raster image)
    {
        using var stream = new MemoryStream();
        new ImageWriter().WritePng(image.Pixels, image.Width, image.Height, ColorComponents.RedGreenBlue, stream);
        return stream.ToArray();
    }

    /// <summary>Writes <paramref name="image"/> to <paramref name="path"/> as a PNG, atomically (whole or not at all).</summary>
    public static void Write(string path, Raster image) => AtomicFile.WriteAllBytes(path, Encode(image));
}
