using System.Buffers.Binary;
using System.IO.Compression;
using System.Security.Cryptography;
using System.Text;
using Stork.Imaging;
using Stork.Tests.Shared;

namespace Stork.Server.Tests;

/// <summary>Input images for the image-input tests: a test picture, masks, an RGBA PNG writer and hostile files.</summary>
public static class TestImages
{
    /// <summary>A 32 x 32 picture: a gradient with a dark square in the middle.</summary>
    public static Raster Picture(int size = 32)
    {
        var r = new Raster(size, size);
        for (int y = 0; y < size; y++)
        {
            for (int x = 0; x < size; x++)
            {
                bool square = x >= size / 4 && x < 3 * size / 4 && y >= size / 4 && y < 3 * size / 4;
                r[x, y] = square ? new Rgb(30, 40, 60) : new Rgb((byte)(x * 255 / (size - 1)), (byte)(y * 255 / (size - 1)), 200);
            }
        }

        return r;
    }

    /// <summary>White (repaint) in the left half, black elsewhere.</summary>
    public static Raster LeftHalfMask(int size = 32)
    {
        var m = new Raster(size, size);
        for (int y = 0; y < size; y++)
        {
            for (int x = 0; x < size / 2; x++)
            {
                m[x, y] = new Rgb(255, 255, 255);
            }
        }

        return m;
    }

    public static string DataUrl(byte[] png) => "data:image/png;base64," + Convert.ToBase64String(png);

    public static string DataUrl(Raster image) => DataUrl(PngFile.Encode(image));

    /// <summary>The hash the library records for an input: sha256 of "W x H\n" and the RGB pixels.</summary>
    public static string Hash(Raster image)
    {
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        sha.AppendData(Encoding.ASCII.GetBytes($"{image.Width} x {image.Height}\n"));
        sha.AppendData(image.Pixels);
        return "sha256:" + Convert.ToHexStringLower(sha.GetHashAndReset());
    }

    /// <summary>An 8-bit RGBA PNG (colour type 6) of <paramref name="width"/> x <paramref name="height"/>.</summary>
    public static byte[] RgbaPng(int width, int height, Func<int, int, (byte R, byte G, byte B, byte A)> pixel)
    {
        var raw = new MemoryStream();
        for (int y = 0; y < height; y++)
        {
            raw.WriteByte(0);
            for (int x = 0; x < width; x++)
            {
                var (r, g, b, a) = pixel(x, y);
                raw.Write([r, g, b, a]);
            }
        }

        var compressed = new MemoryStream();
        using (var z = new ZLibStream(compressed, CompressionLevel.Optimal, leaveOpen: true))
        {
            z.Write(raw.ToArray());
        }

        var ihdr = new byte[13];
        BinaryPrimitives.WriteUInt32BigEndian(ihdr, (uint)width);
        BinaryPrimitives.WriteUInt32BigEndian(ihdr.AsSpan(4), (uint)height);
        ihdr[8] = 8;
        ihdr[9] = 6;
        return Png(("IHDR", ihdr), ("IDAT", compressed.ToArray()), ("IEND", []));
    }

    /// <summary>A PNG whose header declares <paramref name="width"/> x <paramref name="height"/> over a few bytes of data (a decompression bomb's header).</summary>
    public static byte[] HugeHeaderPng(uint width, uint height)
    {
        var ihdr = new byte[13];
        BinaryPrimitives.WriteUInt32BigEndian(ihdr, width);
        BinaryPrimitives.WriteUInt32BigEndian(ihdr.AsSpan(4), height);
        ihdr[8] = 8;
        ihdr[9] = 2;
        return Png(("IHDR", ihdr), ("IDAT", [0x78, 0x9C, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01]), ("IEND", []));
    }

    private static byte[] Png(params (string Type, byte[] Data)[] chunks)
    {
        return [.. PngChunk.Signature, .. chunks.SelectMany(c => PngChunk.Of(c.Type, c.Data))];
    }

}
