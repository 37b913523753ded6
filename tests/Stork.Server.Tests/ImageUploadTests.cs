using Stork.Imaging;
using Stork.Pipelines;

namespace Stork.Server.Tests;

/// <summary>The library pieces the server's image inputs stand on, and the Automatic1111 mask conversion.</summary>
public sealed class ImageUploadTests
{
    [Fact]
    public void ReadSize_reads_the_header_only_and_DecodeWithAlpha_returns_the_alpha_plane()
    {
        Assert.Equal((60000, 50000), ImageFile.ReadSize(TestImages.HugeHeaderPng(60000, 50000)));
        Assert.Throws<InvalidDataException>(() => ImageFile.Decode(TestImages.HugeHeaderPng(60000, 50000)));
        Assert.Throws<InvalidDataException>(() => ImageFile.ReadSize("GIF89a----------------------------------"u8.ToArray()));

        byte[] rgba = TestImages.RgbaPng(4, 2, (x, y) => ((byte)(10 * x), (byte)(20 * y), 7, (byte)(x == 1 ? 0 : 200 + y)));
        var (image, alpha) = ImageFile.DecodeWithAlpha(rgba);
        Assert.Equal((4, 2), (image.Width, image.Height));
        Assert.Equal(new Rgb(30, 20, 7), image[3, 1]);
        Assert.Equal(new byte[] { 200, 0, 200, 200, 201, 0, 201, 201 }, alpha);
        // Without transparency the alpha plane is opaque everywhere.
        Assert.All(ImageFile.DecodeWithAlpha(PngFile.Encode(TestImages.Picture())).Alpha, a => Assert.Equal(255, a));
    }

    [Fact]
    public void Automatic1111_masks_take_the_alpha_or_the_luminance_blur_symmetrically_and_invert()
    {
        var white = TestImages.LeftHalfMask();
        var opaque = Enumerable.Repeat((byte)255, 32 * 32).ToArray();
        var sharp = ImageUploads.A1111Mask(white, opaque, 0, 0, invert: false);
        Assert.Equal(white.Pixels, sharp.Pixels);
        Assert.Equal(0, ImageUploads.A1111Mask(white, opaque, 0, 0, invert: true)[3, 3].R);

        // A step edge blurred with sigma 4 (kernel 21): symmetric about the edge, monotone, untouched far from it.
        var soft = ImageUploads.A1111Mask(white, opaque, 4, 4, invert: false);
        for (int y = 0; y < 32; y++)
        {
            Assert.Equal(255, soft[0, y].R);
            Assert.Equal(0, soft[31, y].R);
            Assert.InRange(soft[15, y].R + soft[16, y].R, 254, 256);
            for (int x = 1; x < 32; x++)
            {
                Assert.True(soft[x, y].R <= soft[x - 1, y].R);
            }
        }

        // An RGBA mask whose alpha varies: the alpha, thresholded at 128, whatever the colour.
        var alpha = new byte[32 * 32];
        alpha[5] = 200;
        alpha[6] = 128;
        var fromAlpha = ImageUploads.A1111Mask(white, alpha, 0, 0, invert: false);
        Assert.Equal(255, fromAlpha[5, 0].R);
        Assert.Equal(0, fromAlpha[6, 0].R);
        Assert.Equal(0, fromAlpha[0, 0].R);
    }

    [Fact]
    public void Openai_masks_repaint_only_fully_transparent_pixels()
    {
        var mask = ImageUploads.FromTransparency(3, 1, [0, 1, 255])!;
        Assert.Equal(new byte[] { 255, 255, 255, 0, 0, 0, 0, 0, 0 }, mask.Pixels);
        Assert.Null(ImageUploads.FromTransparency(2, 1, [1, 255]));
    }

    [Fact]
    public void The_pipeline_checks_image_inputs_without_running()
    {
        using var pipeline = TextToImage.Load(TestServer.ShippedFluxFolder());
        var picture = TestImages.Picture(64);
        var resolved = pipeline.Check(new GenerationRequest { Prompt = "x", Image = picture, Mask = TestImages.Picture(64), Strength = 0.5 });
        Assert.Equal((32, 32), (resolved.Width, resolved.Height));
        Assert.Contains("strength", Assert.Throws<ArgumentException>(() => pipeline.Check(new GenerationRequest { Prompt = "x", Image = picture, Strength = 1.5 })).Message,
            StringComparison.Ordinal);
        Assert.Contains("same size", Assert.Throws<ArgumentException>(() => pipeline.Check(new GenerationRequest { Prompt = "x", Image = picture, Mask = TestImages.Picture() })).Message,
            StringComparison.Ordinal);
        Assert.Contains("control image", Assert.Throws<ArgumentException>(() => pipeline.Check(new GenerationRequest { Prompt = "x", ControlImage = picture })).Message,
            StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => pipeline.Check(new GenerationRequest { Prompt = "x", Steps = 0 }));
    }
}
