using StbImageSharp;
using Stork.IO;

namespace Stork.Imaging;

/// <summary>
/// Reads PNG and JPEG files into RGB rasters through StbImageSharp (a port of stb_image), the way diffusers' inputs are
/// read by PIL's <c>Image.open(...).convert("RGB")</c>: grey is replicated into the three channels, a palette is
/// looked up, alpha (and a tRNS transparency) is dropped, not composited (PIL's RGBA to RGB conversion does the same),
/// 16-bit channels keep their high byte (PIL's RGB;16B and LA;16B modes). Where it can differ from PIL: 16-bit
/// greyscale PNGs (PIL opens them as I;16 and clips each value to 255 on conversion, which whitens almost any such
/// image; here the high byte is kept), JPEG pixels (stb_image's integer IDCT and chroma upsampling against libjpeg's:
/// at most a few levels on some pixels) and CMYK JPEGs (refused here). The EXIF orientation (tag 0x0112 of IFD0, in a
/// JPEG's APP1 <c>Exif</c> segment or a PNG's <c>eXIf</c> chunk) is applied as diffusers' <c>load_image</c> applies it
/// (PIL's <c>ImageOps.exif_transpose</c>: 2 mirror, 3 rotate 180, 4 flip, 5 transpose, 6 rotate 90 clockwise,
/// 7 transverse, 8 rotate 90 counter-clockwise); a missing, unknown or unreadable orientation leaves the pixels as
/// stored.
/// Hostile files are refused before any large allocation: the header is read first and images above
/// <see cref="MaxSide"/> pixels a side or <see cref="MaxPixels"/> pixels in all are refused (a small file that declares a
/// huge image, a decompression bomb, never reaches the decoder); truncated files (no PNG <c>IEND</c>, no JPEG end
/// marker) and anything the decoder rejects give one <see cref="InvalidDataException"/> naming the file.
/// </summary>
public static class ImageFile
{
    /// <summary>The largest width or height accepted.</summary>
    public const int MaxSide = 16384;

    /// <summary>The largest number of pixels accepted (64 Mi, below PIL's decompression-bomb error at 2 x 89 M).</summary>
    public const long MaxPixels = 1L << 26;

    /// <summary>The largest file accepted: 256 MiB.</summary>
    public const long MaxBytes = 256L << 20;

    private static ReadOnlySpan<byte> PngSignature => [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A];

    /// <summary>Reads <paramref name="path"/>; <paramref name="what"/> names it in errors ("input image", "mask").</summary>
    public static Raster Read(string path, string what = "image")
    {
        byte[] data = InputFile.ReadAllBytes(path, what, MaxBytes);
        return Decode(data, $"{what} '{path}'");
    }

    /// <summary>Decodes a PNG or JPEG held in memory; <paramref name="name"/> names it in errors.</summary>
    public static Raster Decode(byte[] data, string name = "image")
    {
        var (pixels, width, height, orientation) = DecodePixels(data, name, ColorComponents.RedGreenBlue);
        return ExifOrientation.Apply(new Raster(width, height, pixels), orientation);
    }

    /// <summary>
    /// The checked decode both <see cref="Decode"/> and <see cref="DecodeWithAlpha"/> use: signature, truncation, the declared
    /// size against the limits before any allocation, then the decoder's <paramref name="components"/> bytes and the
    /// file's EXIF orientation (not yet applied).
    /// </summary>
    private static (byte[] Pixels, int Width, int Height, int Orientation) DecodePixels(byte[] data, string name, ColorComponents components)
    {
        ArgumentNullException.ThrowIfNull(data);
        var format = Sniff(data) ?? throw new InvalidDataException($"{name} is neither a PNG nor a JPEG file.");
        if (format == "PNG" && (data.Length < 33 || !data.AsSpan(12, 4).SequenceEqual("IHDR"u8)))
        {
            throw new InvalidDataException($"{name} is a damaged PNG file (no IHDR chunk first).");
        }

        if (format == "PNG" && !HasPngEnd(data))
        {
            throw new InvalidDataException($"{name} is a truncated or damaged PNG file (no IEND chunk).");
        }

        if (format == "JPEG" && !HasJpegEnd(data))
        {
            throw new InvalidDataException($"{name} is a truncated JPEG file (no end-of-image marker).");
        }

        var (width, height) = HeaderSize(data, name, format);
        CheckSize(width, height, name);

        ImageResult result;
        try
        {
            result = ImageResult.FromMemory(data, components);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            throw new InvalidDataException($"{name} is not a readable {format} file: {e.Message}", e);
        }

        if (result is null || result.Width != width || result.Height != height || result.Data is null || result.Data.Length != width * height * (components == ColorComponents.RedGreenBlue ? 3 : 4))
        {
            throw new InvalidDataException($"{name}: the {format} decoder returned no image of the declared size.");
        }

        return (result.Data, result.Width, result.Height, format == "PNG" ? ExifOrientation.OfPng(data) : ExifOrientation.OfJpeg(data));
    }

    /// <summary>
    /// The width and height a PNG or JPEG held in memory declares, read from its header only (nothing is decoded), so that
    /// a caller can apply a limit of its own first; a file that is neither, or whose header cannot be read, gives one
    /// <see cref="InvalidDataException"/> naming it.
    /// </summary>
    public static (int Width, int Height) ReadSize(byte[] data, string name = "image")
    {
        ArgumentNullException.ThrowIfNull(data);
        var format = Sniff(data) ?? throw new InvalidDataException($"{name} is neither a PNG nor a JPEG file.");
        var (w, h) = HeaderSize(data, name, format);
        return w is < 1 or > int.MaxValue || h is < 1 or > int.MaxValue
            ? throw new InvalidDataException($"{name} declares {w} x {h} pixels.")
            : ((int)w, (int)h);
    }

    /// <summary>
    /// The size a PNG's IHDR chunk (the first, read directly) or a JPEG's header declares, unchecked; nothing is decoded.
    /// </summary>
    private static (long Width, long Height) HeaderSize(byte[] data, string name, string format)
    {
        if (format == "PNG")
        {
            if (data.Length < 33 || !data.AsSpan(12, 4).SequenceEqual("IHDR"u8))
            {
                throw new InvalidDataException($"{name} is a damaged PNG file (no IHDR chunk first).");
            }

            return (System.Buffers.Binary.BinaryPrimitives.ReadUInt32BigEndian(data.AsSpan(16)),
                System.Buffers.Binary.BinaryPrimitives.ReadUInt32BigEndian(data.AsSpan(20)));
        }

        ImageInfo? info;
        try
        {
            using var header = new MemoryStream(data, writable: false);
            info = ImageInfo.FromStream(header);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            throw new InvalidDataException($"{name} is not a readable {format} file: {e.Message}", e);
        }

        return info is { } i ? (i.Width, i.Height)
            : throw new InvalidDataException($"{name} is not a readable {format} file (its header cannot be read; CMYK JPEGs are not supported).");
    }

    /// <summary>
    /// <see cref="Decode"/> (same checks, same RGB pixels), and the alpha channel as one byte per pixel, row by row: 255
    /// everywhere for a file without transparency, else its alpha (a tRNS colour or palette entry included). Masks whose
    /// transparent pixels mark a region (OpenAI's image edits, Automatic1111's RGBA masks) are read with it.
    /// </summary>
    public static (Raster Image, byte[] Alpha) DecodeWithAlpha(byte[] data, string name = "image")
    {
        // One decode to RGBA: RGB is its first three bytes (what convert("RGB") keeps), the alpha a grey image of its own,
        // both turned upright by the same EXIF orientation.
        var (rgba, width, height, orientation) = DecodePixels(data, name, ColorComponents.RedGreenBlueAlpha);
        var rgb = new byte[width * height * 3];
        var grey = new byte[rgb.Length];
        for (int p = 0; p < width * height; p++)
        {
            rgb[3 * p] = rgba[4 * p];
            rgb[(3 * p) + 1] = rgba[(4 * p) + 1];
            rgb[(3 * p) + 2] = rgba[(4 * p) + 2];
            grey[3 * p] = grey[(3 * p) + 1] = grey[(3 * p) + 2] = rgba[(4 * p) + 3];
        }

        var image = ExifOrientation.Apply(new Raster(width, height, rgb), orientation);
        var upright = ExifOrientation.Apply(new Raster(width, height, grey), orientation).Pixels;
        var alpha = new byte[upright.Length / 3];
        for (int p = 0; p < alpha.Length; p++)
        {
            alpha[p] = upright[3 * p];
        }

        return (image, alpha);
    }

    private static void CheckSize(long width, long height, string name)
    {
        if (width < 1 || height < 1 || width > MaxSide || height > MaxSide || width * height > MaxPixels)
        {
            throw new InvalidDataException(
                $"{name} declares {width} x {height} pixels; at most {MaxSide} a side and {MaxPixels} pixels in all are read.");
        }
    }

    private static string? Sniff(ReadOnlySpan<byte> data)
    {
        if (data.Length >= 8 && data[..8].SequenceEqual(PngSignature))
        {
            return "PNG";
        }

        return data.Length >= 3 && data[0] == 0xFF && data[1] == 0xD8 && data[2] == 0xFF ? "JPEG" : null;
    }

    /// <summary>Walks the PNG chunks (length, type, data, CRC) to an <c>IEND</c>, every chunk inside the file.</summary>
    private static bool HasPngEnd(ReadOnlySpan<byte> data)
    {
        long at = 8;
        while (at + 12 <= data.Length)
        {
            uint length = System.Buffers.Binary.BinaryPrimitives.ReadUInt32BigEndian(data[(int)at..]);
            var type = data.Slice((int)at + 4, 4);
            long next = at + 12 + length;
            if (next > data.Length)
            {
                return false;
            }

            if (type.SequenceEqual("IEND"u8))
            {
                return true;
            }

            at = next;
        }

        return false;
    }

    /// <summary>A JPEG must end with its end-of-image marker (FF D9), possibly followed by padding bytes.</summary>
    private static bool HasJpegEnd(ReadOnlySpan<byte> data)
    {
        int end = data.Length - 1;
        int stop = Math.Max(2, data.Length - 4096);
        while (end > stop && data[end] is 0x00 or 0x0A or 0x0D or 0x20 or 0xFF)
        {
            end--;
        }

        for (int k = end; k >= stop; k--)
        {
            if (data[k] == 0xD9 && data[k - 1] == 0xFF)
            {
                return true;
            }
        }

        return false;
    }
}
