using System.Buffers.Binary;

namespace Stork.Imaging;

/// <summary>
/// The EXIF orientation of an input image and PIL's <c>ImageOps.exif_transpose</c> of it. The value (1 to 8) says where
/// the stored 0th row and 0th column lie in the upright picture (EXIF 2.3, tag 0x0112); the transpose maps each upright
/// pixel (x, y) of an upright picture from the stored raster, W x H:
/// 2 (x, y) ← (W-1-x, y); 3 ← (W-1-x, H-1-y); 4 ← (x, H-1-y); 5 ← (y, x); 6 ← (y, H-1-x); 7 ← (W-1-y, H-1-x);
/// 8 ← (W-1-y, x), the last four with width and height swapped.
/// </summary>
internal static class ExifOrientation
{
    /// <summary>The orientation in a JPEG's first APP1 <c>Exif</c> segment before the scan, or 1.</summary>
    public static int OfJpeg(ReadOnlySpan<byte> data)
    {
        int at = 2;
        while (at + 4 <= data.Length && data[at] == 0xFF)
        {
            byte marker = data[at + 1];
            if (marker is 0xDA or 0xD9)
            {
                break;
            }

            int length = BinaryPrimitives.ReadUInt16BigEndian(data[(at + 2)..]);
            if (length < 2 || at + 2 + length > data.Length)
            {
                break;
            }

            var segment = data.Slice(at + 4, length - 2);
            if (marker == 0xE1 && segment.Length > 6 && segment[..6].SequenceEqual("Exif\0\0"u8))
            {
                return OfTiff(segment[6..]);
            }

            at += 2 + length;
        }

        return 1;
    }

    /// <summary>The orientation in a PNG's <c>eXIf</c> chunk (TIFF data), or 1.</summary>
    public static int OfPng(ReadOnlySpan<byte> data)
    {
        long at = 8;
        while (at + 12 <= data.Length)
        {
            long length = BinaryPrimitives.ReadUInt32BigEndian(data[(int)at..]);
            if (at + 12 + length > data.Length)
            {
                break;
            }

            var type = data.Slice((int)at + 4, 4);
            if (type.SequenceEqual("eXIf"u8))
            {
                return OfTiff(data.Slice((int)at + 8, (int)length));
            }

            if (type.SequenceEqual("IEND"u8))
            {
                break;
            }

            at += 12 + length;
        }

        return 1;
    }

    /// <summary>Tag 0x0112 (SHORT) of IFD0 in TIFF data (<c>II</c> or <c>MM</c> byte order), or 1.</summary>
    private static int OfTiff(ReadOnlySpan<byte> tiff)
    {
        if (tiff.Length < 8)
        {
            return 1;
        }

        bool little = tiff[0] == (byte)'I' && tiff[1] == (byte)'I';
        if (!little && !(tiff[0] == (byte)'M' && tiff[1] == (byte)'M'))
        {
            return 1;
        }

        uint ifd = U32(tiff, 4, little);
        if (U16(tiff, 2, little) != 42 || ifd > (uint)tiff.Length - 2)
        {
            return 1;
        }

        int count = U16(tiff, (int)ifd, little);
        for (int k = 0; k < count; k++)
        {
            int entry = (int)ifd + 2 + (12 * k);
            if (entry + 12 > tiff.Length)
            {
                break;
            }

            if (U16(tiff, entry, little) == 0x0112 && U16(tiff, entry + 2, little) == 3)
            {
                int value = U16(tiff, entry + 8, little);
                return value is >= 1 and <= 8 ? value : 1;
            }
        }

        return 1;
    }

    private static ushort U16(ReadOnlySpan<byte> tiff, int at, bool little) =>
        little ? BinaryPrimitives.ReadUInt16LittleEndian(tiff[at..]) : BinaryPrimitives.ReadUInt16BigEndian(tiff[at..]);

    private static uint U32(ReadOnlySpan<byte> tiff, int at, bool little) =>
        little ? BinaryPrimitives.ReadUInt32LittleEndian(tiff[at..]) : BinaryPrimitives.ReadUInt32BigEndian(tiff[at..]);

    /// <summary>The upright picture of <paramref name="stored"/> for <paramref name="orientation"/> (itself for 1).</summary>
    public static Raster Apply(Raster stored, int orientation)
    {
        if (orientation is < 2 or > 8)
        {
            return stored;
        }

        int w = stored.Width, h = stored.Height;
        bool swap = orientation >= 5;
        int ow = swap ? h : w, oh = swap ? w : h;
        var pixels = new byte[stored.Pixels.Length];
        var source = stored.Pixels;
        for (int y = 0; y < oh; y++)
        {
            for (int x = 0; x < ow; x++)
            {
                var (sx, sy) = orientation switch
                {
                    2 => (w - 1 - x, y),
                    3 => (w - 1 - x, h - 1 - y),
                    4 => (x, h - 1 - y),
                    5 => (y, x),
                    6 => (y, h - 1 - x),
                    7 => (w - 1 - y, h - 1 - x),
                    _ => (w - 1 - y, x),
                };
                int from = ((sy * w) + sx) * 3, to = ((y * ow) + x) * 3;
                pixels[to] = source[from];
                pixels[to + 1] = source[from + 1];
                pixels[to + 2] = source[from + 2];
            }
        }

        return new Raster(ow, oh, pixels);
    }
}
