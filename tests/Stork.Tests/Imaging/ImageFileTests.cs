using System.Buffers.Binary;
using System.IO.Compression;
using StbImageWriteSharp;
using Stork.Imaging;
using Stork.Tests.Shared;

namespace Stork.Tests.Imaging;

/// <summary>
/// Reading input images as diffusers' PIL <c>convert("RGB")</c> does, and refusing hostile files before decoding.
/// Palette and 16-bit PNGs are written here chunk by chunk (zlib from the BCL, CRC-32 below).
/// </summary>
public class ImageFileTests
{
    private static byte[] Png(int width, int height, byte bitDepth, byte colorType, byte[] raw, params (string Type, byte[] Data)[] extra)
    {
        using var file = new MemoryStream();
        file.Write([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]);
        var ihdr = new byte[13];
        BinaryPrimitives.WriteInt32BigEndian(ihdr, width);
        BinaryPrimitives.WriteInt32BigEndian(ihdr.AsSpan(4), height);
        ihdr[8] = bitDepth;
        ihdr[9] = colorType;
        Chunk(file, "IHDR", ihdr);
        foreach (var (type, data) in extra)
        {
            Chunk(file, type, data);
        }

        using var z = new MemoryStream();
        using (var zs = new ZLibStream(z, CompressionLevel.Optimal, leaveOpen: true))
        {
            zs.Write(raw);
        }

        Chunk(file, "IDAT", z.ToArray());
        Chunk(file, "IEND", []);
        return file.ToArray();
    }

    private static void Chunk(Stream s, string type, byte[] data) => s.Write(PngChunk.Of(type, data));


    /// <summary>Raw scanlines with filter byte 0.</summary>
    private static byte[] Rows(int height, int rowBytes, Func<int, int, byte> value)
    {
        var raw = new byte[height * (rowBytes + 1)];
        for (int y = 0; y < height; y++)
        {
            for (int x = 0; x < rowBytes; x++)
            {
                raw[(y * (rowBytes + 1)) + 1 + x] = value(y, x);
            }
        }

        return raw;
    }

    [Fact]
    public void GreyIsReplicatedIntoThreeChannels()
    {
        var png = Png(3, 2, 8, 0, Rows(2, 3, (y, x) => (byte)((y * 3) + x + 10)));
        var r = ImageFile.Decode(png);
        Assert.Equal((3, 2), (r.Width, r.Height));
        Assert.Equal(new Rgb(14, 14, 14), r[1, 1]);
    }

    [Fact]
    public void PaletteIsLookedUpAndItsTransparencyDropped()
    {
        byte[] palette = [255, 0, 0, 0, 255, 0, 0, 0, 255];
        var png = Png(2, 1, 8, 3, Rows(1, 2, (_, x) => (byte)(x + 1)), ("PLTE", palette), ("tRNS", [0, 0, 0]));
        var r = ImageFile.Decode(png);
        Assert.Equal(new Rgb(0, 255, 0), r[0, 0]);
        Assert.Equal(new Rgb(0, 0, 255), r[1, 0]);
    }

    [Fact]
    public void AlphaIsDroppedNotComposited()
    {
        // PIL's RGBA -> RGB keeps the colour of a fully transparent pixel.
        var png = Png(1, 1, 8, 6, Rows(1, 4, (_, x) => x switch { 0 => 10, 1 => 20, 2 => 30, _ => 0 }));
        Assert.Equal(new Rgb(10, 20, 30), ImageFile.Decode(png)[0, 0]);
    }

    [Fact]
    public void SixteenBitChannelsKeepTheirHighByte()
    {
        // RGB, 16 bits: 0x1234, 0xABCD, 0x00FF -> 0x12, 0xAB, 0x00 (PIL's RGB;16B).
        byte[] px = [0x12, 0x34, 0xAB, 0xCD, 0x00, 0xFF];
        var png = Png(1, 1, 16, 2, Rows(1, 6, (_, x) => px[x]));
        Assert.Equal(new Rgb(0x12, 0xAB, 0x00), ImageFile.Decode(png)[0, 0]);
    }

    [Fact]
    public void JpegIsDecoded()
    {
        var raster = new Raster(16, 16, new Rgb(200, 100, 50));
        using var s = new MemoryStream();
        new ImageWriter().WriteJpg(raster.Pixels, 16, 16, ColorComponents.RedGreenBlue, s, 95);
        var r = ImageFile.Decode(s.ToArray());
        var p = r[5, 5];
        Assert.True(Math.Abs(p.R - 200) <= 3 && Math.Abs(p.G - 100) <= 3 && Math.Abs(p.B - 50) <= 3, $"{p}");
    }

    [Fact]
    public void TruncatedFilesAreRefused()
    {
        var png = PngFile.Encode(new Raster(32, 32, new Rgb(1, 2, 3)));
        var e = Assert.Throws<InvalidDataException>(() => ImageFile.Decode(png[..(png.Length - 20)], "input image 'x.png'"));
        Assert.Contains("truncated", e.Message, StringComparison.Ordinal);
        Assert.Contains("x.png", e.Message, StringComparison.Ordinal);

        var raster = new Raster(16, 16, new Rgb(200, 100, 50));
        using var s = new MemoryStream();
        new ImageWriter().WriteJpg(raster.Pixels, 16, 16, ColorComponents.RedGreenBlue, s, 90);
        var jpeg = s.ToArray();
        Assert.Contains("truncated", Assert.Throws<InvalidDataException>(() => ImageFile.Decode(jpeg[..(jpeg.Length / 2)])).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void HugeDimensionsAreRefusedBeforeDecoding()
    {
        // A decompression bomb: a few hundred bytes that declare 60000 x 60000 pixels (10 GB as RGB).
        var png = Png(60000, 60000, 8, 0, new byte[1000]);
        Assert.True(png.Length < 2000);
        var e = Assert.Throws<InvalidDataException>(() => ImageFile.Decode(png));
        Assert.Contains("60000 x 60000", e.Message, StringComparison.Ordinal);

        // Within the side limit but over the pixel budget.
        Assert.Throws<InvalidDataException>(() => ImageFile.Decode(Png(16384, 16384, 8, 2, new byte[100])));
    }

    [Fact]
    public void OtherFormatsAndDamagedDataAreOneClearError()
    {
        Assert.Contains("neither a PNG nor a JPEG", Assert.Throws<InvalidDataException>(() => ImageFile.Decode("GIF89a......"u8.ToArray())).Message, StringComparison.Ordinal);

        // A complete chunk structure whose compressed data is garbage.
        var bad = Png(8, 8, 8, 2, []);
        var garbage = Png(8, 8, 8, 2, Rows(8, 24, (_, _) => 7));
        int idat = garbage.AsSpan().IndexOf("IDAT"u8);
        for (int i = idat + 6; i < idat + 20; i++)
        {
            garbage[i] ^= 0x5A;
        }

        Assert.Throws<InvalidDataException>(() => ImageFile.Decode(garbage));
        Assert.Throws<InvalidDataException>(() => ImageFile.Decode(bad));
    }

    [Fact]
    public void ReadChecksTheFileFirst()
    {
        string dir = TestData.TempDir();
        Assert.Throws<InvalidDataException>(() => ImageFile.Read(Path.Combine(dir, "missing.png"), "input image"));
        File.WriteAllBytes(Path.Combine(dir, "empty.png"), []);
        Assert.Throws<InvalidDataException>(() => ImageFile.Read(Path.Combine(dir, "empty.png"), "mask"));
    }
}
