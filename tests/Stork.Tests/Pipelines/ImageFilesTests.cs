using System.Text.Json;
using Stork.Imaging;
using Stork.IO;
using Stork.Pipelines;

namespace Stork.Tests.Pipelines;

/// <summary>A generation result saves itself: numbered PNGs with the settings in text chunks, diffusers' rounding, .npy, metadata JSON.</summary>
public class ImageFilesTests
{
    private static GenerationResult Result(float[] pixels, int count) => new()
    {
        Images = new GeneratedImages(pixels, count, 1, 2),
        FinalLatents = [],
        FinalLatentsShape = [0],
        Seeds = Enumerable.Range(0, count).Select(k => 7L + k).ToArray(),
        Settings = new ResolvedGeneration
        {
            Model = "m",
            Prompt = "a cat",
            Steps = 3,
            Height = 1,
            Width = 2,
            MaxSequenceLength = 8,
            Seed = 7,
            Count = count,
            Scheduler = "ab2",
            GuidanceScale = 3.5,
            Times = [1.0, 0.5, 0.25],
        },
        Timings = new GenerationTimings(TimeSpan.FromSeconds(1), TimeSpan.Zero, TimeSpan.Zero, TimeSpan.Zero, TimeSpan.Zero, TimeSpan.Zero),
    };

    [Fact]
    public void RasterRoundsLikeNumpyToPil()
    {
        // (x * 255).round(): half to even, then clipped to 0..255.
        var raster = ImageFiles.ToRaster(new GeneratedImages([0.5f, 0.25f, 0.2f, 1.2f, -0.1f, 1f], 1, 1, 2), 0);
        Assert.Equal([128, 64, 51, 255, 0, 255], raster.Pixels.Select(b => (int)b));
    }

    [Fact]
    public void SaveWritesNumberedPngsWithTextChunksAndMetadata()
    {
        string dir = TestData.TempDir();
        var result = Result([.. Enumerable.Range(0, 12).Select(i => i / 11f)], 2);
        var written = result.Save(Path.Combine(dir, "cat.png"), metadata: true);
        Assert.Equal(["cat-0.png", "cat-1.png", "cat.json"], written.Select(Path.GetFileName));
        var text = PngText.Read(File.ReadAllBytes(Path.Combine(dir, "cat-1.png"))).ToDictionary(p => p.Key, p => p.Value);
        Assert.Equal(("a cat", "8", "3", "ab2", "2x1", "3.5"), (text["prompt"], text["seed"], text["steps"], text["scheduler"], text["size"], text["guidance"]));
        using var json = JsonDocument.Parse(File.ReadAllText(Path.Combine(dir, "cat.json")));
        Assert.Equal(2, json.RootElement.GetProperty("files").GetArrayLength());
        Assert.Equal(0.25, json.RootElement.GetProperty("runs")[0].GetProperty("sigmas")[2].GetDouble());
    }

    [Fact]
    public void OneImageKeepsItsNameAndNpyHoldsTheBatch()
    {
        string dir = TestData.TempDir();
        var one = Result([0f, 0.25f, 0.5f, 0.75f, 1f, 0f], 1);
        Assert.Equal(["one.png"], one.Save(Path.Combine(dir, "one.png")).Select(Path.GetFileName));
        one.Save(Path.Combine(dir, "one.npy"));
        var array = NpyFile.Read(Path.Combine(dir, "one.npy"));
        Assert.Equal([1, 1, 2, 3], array.Shape);
        Assert.Equal(0.75, array.Data[3]);
    }
}
