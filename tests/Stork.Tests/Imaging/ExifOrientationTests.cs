using System.Buffers.Binary;
using StbImageWriteSharp;
using Stork.Imaging;
using Stork.Tests.Shared;

namespace Stork.Tests.Imaging;

/// <summary>
/// EXIF orientation applied as diffusers' <c>load_image</c> (PIL's <c>ImageOps.exif_transpose</c>) does. The fixtures are
/// made here: one upright 24 x 16 picture of six 8 x 8 colour blocks, stored for each orientation 1-8 as the EXIF
/// definition says (where the stored 0th row and 0th column lie in the upright picture), written as a JPEG (quality 95,
/// APP1 <c>Exif</c> segment, both TIFF byte orders) and as a PNG (<c>eXIf</c> chunk); every one must read back upright.
/// </summary>
public class ExifOrientationTests
{
    private const int Wv = 24, Hv = 16;

    private static readonly Rgb[] Palette =
        [new(230, 20, 20), new(20, 230, 20), new(20, 20, 230), new(230, 230, 20), new(20, 230, 230), new(230, 20, 230)];

    private static Rgb Upright(int row, int col) => Palette[(row / 8 * 3) + (col / 8)];

    /// <summary>The stored raster for <paramref name="o"/>: row r, column c of the file, by the EXIF definition.</summary>
    private static Raster Stored(int o)
    {
        bool swap = o >= 5;
        var s = new Raster(swap ? Hv : Wv, swap ? Wv : Hv);
        for (int r = 0; r < s.Height; r++)
        {
            for (int c = 0; c < s.Width; c++)
            {
                s[c, r] = o switch
                {
                    1 => Upright(r, c), // top, left
                    2 => Upright(r, Wv - 1 - c), // top, right
                    3 => Upright(Hv - 1 - r, Wv - 1 - c), // bottom, right
                    4 => Upright(Hv - 1 - r, c), // bottom, left
                    5 => Upright(c, r), // left, top
                    6 => Upright(c, Wv - 1 - r), // right, top
                    7 => Upright(Hv - 1 - c, Wv - 1 - r), // right, bottom
                    _ => Upright(Hv - 1 - c, r), // left, bottom
                };
            }
        }

        return s;
    }

    /// <summary>TIFF data with IFD0 = Make ("Abc"), Orientation.</summary>
    private static byte[] Tiff(int orientation, bool little)
    {
        var t = new byte[8 + 2 + (2 * 12) + 4];
        void U16(int at, int v)
        {
            if (little)
            {
                BinaryPrimitives.WriteUInt16LittleEndian(t.AsSpan(at), (ushort)v);
            }
            else
            {
                BinaryPrimitives.WriteUInt16BigEndian(t.AsSpan(at), (ushort)v);
            }
        }

        void U32(int at, int v)
        {
            if (little)
            {
                BinaryPrimitives.WriteInt32LittleEndian(t.AsSpan(at), v);
            }
            else
            {
                BinaryPrimitives.WriteInt32BigEndian(t.AsSpan(at), v);
            }
        }

        t[0] = t[1] = (byte)(little ? 'I' : 'M');
        U16(2, 42);
        U32(4, 8);
        U16(8, 2);
        U16(10, 0x010F);
        U16(12, 2);
        U32(14, 4);
        "Abc\0"u8.CopyTo(t.AsSpan(18));
        U16(22, 0x0112);
        U16(24, 3);
        U32(26, 1);
        U16(30, orientation);
        return t;
    }

    private static byte[] Jpeg(int orientation)
    {
        var stored = Stored(orientation);
        using var s = new MemoryStream();
        new ImageWriter().WriteJpg(stored.Pixels, stored.Width, stored.Height, ColorComponents.RedGreenBlue, s, 95);
        byte[] jpeg = s.ToArray();
        byte[] tiff = Tiff(orientation, little: orientation % 2 == 0);
        var app1 = new List<byte> { 0xFF, 0xE1, 0, 0 };
        app1.AddRange("Exif\0\0"u8.ToArray());
        app1.AddRange(tiff);
        BinaryPrimitives.WriteUInt16BigEndian(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(app1)[2..], (ushort)(app1.Count - 2));
        return [.. jpeg[..2], .. app1, .. jpeg[2..]];
    }

    private static byte[] Png(int orientation)
    {
        byte[] png = PngFile.Encode(Stored(orientation));
        byte[] tiff = Tiff(orientation, little: orientation % 2 == 1);
        byte[] chunk = PngChunk.Of("eXIf", tiff);
        const int afterHeader = 8 + 25;
        return [.. png[..afterHeader], .. chunk, .. png[afterHeader..]];
    }


    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    [InlineData(5)]
    [InlineData(6)]
    [InlineData(7)]
    [InlineData(8)]
    public void Every_orientation_reads_upright(int orientation)
    {
        var png = ImageFile.Decode(Png(orientation));
        Assert.Equal((Wv, Hv), (png.Width, png.Height));
        for (int y = 0; y < Hv; y++)
        {
            for (int x = 0; x < Wv; x++)
            {
                Assert.Equal(Upright(y, x), png[x, y]);
            }
        }

        // JPEG: the block centres (8 x 8 blocks aligned with the codec's, so a few levels of loss at most).
        var jpeg = ImageFile.Decode(Jpeg(orientation));
        Assert.Equal((Wv, Hv), (jpeg.Width, jpeg.Height));
        for (int y = 4; y < Hv; y += 8)
        {
            for (int x = 4; x < Wv; x += 8)
            {
                Rgb want = Upright(y, x), got = jpeg[x, y];
                Assert.True(Math.Abs(want.R - got.R) <= 12 && Math.Abs(want.G - got.G) <= 12 && Math.Abs(want.B - got.B) <= 12,
                    $"orientation {orientation}: pixel ({x}, {y}) is {got}, upright {want}");
            }
        }
    }

    [Theory]
    [InlineData(1)]
    [InlineData(6)]
    [InlineData(7)]
    public void The_alpha_turns_upright_with_the_image(int orientation)
    {
        // An RGBA PNG whose alpha is the red channel: upright, alpha and red must still agree pixel by pixel.
        var stored = Stored(orientation);
        using var raw = new MemoryStream();
        for (int y = 0; y < stored.Height; y++)
        {
            raw.WriteByte(0);
            for (int x = 0; x < stored.Width; x++)
            {
                var c = stored[x, y];
                raw.Write([c.R, c.G, c.B, c.R]);
            }
        }

        using var z = new MemoryStream();
        using (var zl = new System.IO.Compression.ZLibStream(z, System.IO.Compression.CompressionLevel.Optimal, leaveOpen: true))
        {
            raw.Position = 0;
            raw.CopyTo(zl);
        }

        var ihdr = new byte[13];
        BinaryPrimitives.WriteInt32BigEndian(ihdr, stored.Width);
        BinaryPrimitives.WriteInt32BigEndian(ihdr.AsSpan(4), stored.Height);
        ihdr[8] = 8;
        ihdr[9] = 6;
        byte[] png = [.. PngChunk.Signature, .. PngChunk.Of("IHDR", ihdr), .. PngChunk.Of("eXIf", Tiff(orientation, little: true)),
            .. PngChunk.Of("IDAT", z.ToArray()), .. PngChunk.Of("IEND", [])];

        var (image, alpha) = ImageFile.DecodeWithAlpha(png);
        Assert.Equal((Wv, Hv), (image.Width, image.Height));
        Assert.Equal(ImageFile.Decode(png).Pixels, image.Pixels);
        for (int y = 0; y < Hv; y++)
        {
            for (int x = 0; x < Wv; x++)
            {
                Assert.Equal(Upright(y, x), image[x, y]);
                Assert.Equal(image[x, y].R, alpha[(y * Wv) + x]);
            }
        }
    }

    [Fact]
    public void Without_exif_or_with_a_bad_value_the_pixels_stay_as_stored()
    {
        var stored = Stored(6);
        var plain = ImageFile.Decode(PngFile.Encode(stored));
        Assert.Equal(stored.Pixels, plain.Pixels);

        byte[] bad = Png(6);
        int at = bad.AsSpan().IndexOf("eXIf"u8) + 4 + 30;
        bad[at] = 9;
        bad[at + 1] = 0;
        Assert.Equal(stored.Pixels, ImageFile.Decode(bad).Pixels);
    }
}
