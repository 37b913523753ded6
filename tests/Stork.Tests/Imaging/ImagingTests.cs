using StbImageSharp;
using Stork.Imaging;

namespace Stork.Tests.Imaging;

public class ImagingTests
{
    private static ImageResult Decode(byte[] png) => ImageResult.FromMemory(png, ColorComponents.RedGreenBlue);

    [Theory]
    [InlineData(-1.0f, 0)]
    [InlineData(1.0f, 255)]
    [InlineData(0.0f, 128)]
    [InlineData(-3.0f, 0)]
    [InlineData(7.5f, 255)]
    [InlineData(float.NaN, 0)]
    public void MapsTheDataRangeToBytesWithClamping(float v, byte expected) =>
        Assert.Equal(expected, SampleImage.ToByte(v, -1, 1));

    [Fact]
    public void PngRoundTripsThroughStbImage()
    {
        float[] sample = Enumerable.Range(0, 12).Select(i => (i / 5.5f) - 1f).ToArray();
        var raster = SampleImage.Render(sample, [1, 3, 4], (-1, 1), scale: 2);
        Assert.Equal((8, 6), (raster.Width, raster.Height));
        string path = Path.Combine(TestData.TempDir(), "one.png");
        PngFile.Write(path, raster);
        var decoded = Decode(File.ReadAllBytes(path));
        Assert.Equal(8, decoded.Width);
        Assert.Equal(6, decoded.Height);
        Assert.Equal(raster.Pixels, decoded.Data);
        Assert.Equal(SampleImage.ToByte(sample[5], -1, 1), decoded.Data[((1 * 2 * 8) + (1 * 2)) * 3]);
    }

    [Fact]
    public void RendersColourSamplesPlaneByPlane()
    {
        float[] rgb = [1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0];
        var raster = SampleImage.Render(rgb, [3, 2, 2], (0, 1));
        Assert.Equal(new Rgb(255, 0, 0), raster[0, 0]);
        Assert.Equal(new Rgb(0, 255, 0), raster[1, 0]);
        Assert.Equal(new Rgb(0, 0, 255), raster[0, 1]);
    }

    [Fact]
    public void BatchGridHasTheExpectedGeometryAndIsDeterministic()
    {
        float[] batch = Enumerable.Range(0, 5 * 16).Select(i => (float)Math.Sin(i)).ToArray();
        var grid = SampleImage.RenderBatch(batch, [1, 4, 4], (-1, 1), scale: 3, gap: 2);
        Assert.Equal((3 * 14) + 2, grid.Width);
        Assert.Equal((2 * 14) + 2, grid.Height);
        Assert.Equal(Rgb.Background, grid[0, 0]);
        Assert.Equal(PngFile.Encode(grid), PngFile.Encode(SampleImage.RenderBatch(batch, [1, 4, 4], (-1, 1), scale: 3, gap: 2)));
    }

    [Fact]
    public void NonImageShapesAreRejected()
    {
        Assert.False(SampleImage.IsImage([8]));
        Assert.False(SampleImage.IsImage([2, 4, 4]));
        Assert.True(SampleImage.IsImage([3, 4, 4]));
        Assert.Throws<ArgumentException>(() => SampleImage.Render(new float[8], [8], (-1, 1)));
    }

    [Fact]
    public void TheFontCoversPrintableAscii()
    {
        for (char c = ' '; c <= '~'; c++)
        {
            int set = 0;
            for (int y = 0; y < BitmapFont.GlyphHeight; y++)
            {
                for (int x = 0; x < BitmapFont.GlyphWidth; x++)
                {
                    set += BitmapFont.IsSet(c, x, y) ? 1 : 0;
                }
            }

            Assert.True(c == ' ' ? set == 0 : set > 0, $"glyph '{c}'");
        }

        Assert.Equal((29, 7), BitmapFont.Measure("NFE 5"));
    }

    [Fact]
    public void LabelledGridDrawsLabelsAndCells()
    {
        var cell = new Raster(10, 10, Rgb.Gray(200));
        var cells = new Raster[2, 3];
        for (int r = 0; r < 2; r++)
        {
            for (int c = 0; c < 3; c++)
            {
                cells[r, c] = cell;
            }
        }

        var image = LabelledGrid.Compose(cells, ["euler", "stork-4"], ["NFE 5", "NFE 10", "NFE 20"], "title", textScale: 1, gap: 4);
        int textPixels = 0, cellPixels = 0;
        for (int y = 0; y < image.Height; y++)
        {
            for (int x = 0; x < image.Width; x++)
            {
                textPixels += image[x, y] == Rgb.Text ? 1 : 0;
                cellPixels += image[x, y] == Rgb.Gray(200) ? 1 : 0;
            }
        }

        Assert.Equal(600, cellPixels);
        Assert.True(textPixels > 100);
        var decoded = Decode(PngFile.Encode(image));
        Assert.Equal(image.Pixels, decoded.Data);
    }
}
