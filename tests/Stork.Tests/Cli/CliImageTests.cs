using StbImageSharp;
using Stork.Cli;
using Stork.IO;

namespace Stork.Tests.Cli;

public class CliImageTests
{
    internal static (int Code, string Out, string Err) Run(params string[] args)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        int code = CliApp.Run(args, stdout, stderr);
        return (code, stdout.ToString(), stderr.ToString());
    }

    private static ImageResult ReadPng(string path) => ImageResult.FromMemory(File.ReadAllBytes(path), ColorComponents.RedGreenBlue);

    [Fact]
    public void SamplesAnOnnxModelToAPngGrid()
    {
        string dir = TestData.TempDir();
        string png = Path.Combine(dir, "s.png");
        var (code, stdout, stderr) = Run("sample", "--model", TestData.Onnx("tiny-flow.json"), "--batch", "6", "--steps", "4",
            "--substeps", "5", "--scale", "2", "--out", png);
        Assert.True(code == 0, stderr);
        Assert.Equal("", stderr);
        Assert.Contains("6 samples", stdout);
        var image = ReadPng(png);
        // 6 samples: 3 columns x 2 rows of 16 px tiles with 2 px gaps.
        Assert.Equal((3 * 18) + 2, image.Width);
        Assert.Equal((2 * 18) + 2, image.Height);
        string again = Path.Combine(dir, "again.png");
        Assert.Equal(0, Run("sample", "--model", TestData.Onnx("tiny-flow.json"), "--batch", "6", "--steps", "4",
            "--substeps", "5", "--scale", "2", "--out", again).Code);
        Assert.Equal(File.ReadAllBytes(png), File.ReadAllBytes(again));
    }

    [Fact]
    public void SampleWithNoOptionsUsesTheShippedFlowModel()
    {
        string dir = TestData.TempDir();
        string png = Path.Combine(dir, "samples.png");
        string? card = ShippedModels.Find(ShippedModels.DefaultCard);
        var (code, stdout, stderr) = Run("sample", "--out", png);
        if (card is null)
        {
            Assert.Equal(2, code);
            Assert.Contains("pass --model", stderr);
            Assert.False(File.Exists(png));
            return;
        }

        Assert.True(code == 0, stderr);
        Assert.Contains("4 samples, 10 model evaluations (stork-4)", stdout);
        var image = ReadPng(png);
        Assert.Equal((2 * ((28 * 4) + 2)) + 2, image.Width);
        Assert.Equal(image.Width, image.Height);
        // Fashion-MNIST: dark background, bright garments; a real model's samples are neither blank nor noise-grey.
        double mean = image.Data.Average(b => (double)b);
        Assert.InRange(mean, 10, 200);
    }

    [Fact]
    public void WritesRawSamplesAsNpy()
    {
        string npy = Path.Combine(TestData.TempDir(), "s.npy");
        var (code, _, stderr) = Run("sample", "--model", TestData.Onnx("tiny-flow-fp16.json"), "--batch", "3", "--steps", "3",
            "--substeps", "5", "--out", npy);
        Assert.True(code == 0, stderr);
        var array = NpyFile.Read(npy);
        Assert.Equal([3, 1, 8, 8], array.Shape);
        Assert.All(array.Data, v => Assert.True(double.IsFinite(v)));
    }

    [Fact]
    public void SamplesTheEmpiricalModel()
    {
        string png = Path.Combine(TestData.TempDir(), "e.png");
        var (code, stdout, stderr) = Run("sample", "--model", "empirical:" + TestData.Shipped("fashion-mnist-train1000.npy"),
            "--prediction", "epsilon", "--batch", "2", "--steps", "5", "--scale", "1", "--out", png);
        Assert.True(code == 0, stderr);
        Assert.Contains("2 samples", stdout);
        var image = ReadPng(png);
        Assert.Equal((2 * 30) + 2, image.Width);
    }

    [Theory]
    [InlineData("the model needs --prediction", "empirical:{shipped}")]
    [InlineData("does not exist", "empirical:nowhere.npy")]
    [InlineData("does not exist", "nowhere.json")]
    public void ModelErrorsAreOneLineWithExitCode2(string message, string model)
    {
        string dir = TestData.TempDir();
        string png = Path.Combine(dir, "x.png");
        model = model.Replace("{shipped}", TestData.Shipped("fashion-mnist-train1000.npy"), StringComparison.Ordinal);
        var (code, _, stderr) = Run("sample", "--model", model, "--out", png);
        Assert.Equal(2, code);
        Assert.StartsWith("error: ", stderr);
        Assert.Single(stderr.TrimEnd().Split('\n'));
        if (message != "the model needs --prediction")
        {
            Assert.Contains(message, stderr);
        }
        else
        {
            Assert.StartsWith("error: --prediction is required for an empirical model: flow or epsilon.", stderr);
        }

        Assert.Empty(Directory.GetFiles(dir));
    }

    [Fact]
    public void CardThatDoesNotMatchItsNetworkIsAUsageError()
    {
        string dir = TestData.TempDir();
        File.Copy(TestData.Onnx("tiny-flow.onnx"), Path.Combine(dir, "tiny-flow.onnx"));
        string card = Path.Combine(dir, "card.json");
        File.WriteAllText(card, File.ReadAllText(TestData.Onnx("tiny-flow.json")).Replace("\"sample\": \"x\"", "\"sample\": \"pixels\"", StringComparison.Ordinal));
        var (code, _, stderr) = Run("sample", "--model", card, "--out", Path.Combine(dir, "x.png"));
        Assert.Equal(2, code);
        Assert.Contains("does not match its card", stderr);
        Assert.False(File.Exists(Path.Combine(dir, "x.png")));
    }

    [Fact]
    public void GaussianMixturesCannotBeDrawn()
    {
        string dir = TestData.TempDir();
        var (code, _, stderr) = Run("sample", "--model", Golden.PathOf("stork", "gmm8.json"), "--prediction", "flow", "--out", Path.Combine(dir, "g.png"));
        Assert.Equal(2, code);
        Assert.Contains("not images", stderr);
        Assert.Empty(Directory.GetFiles(dir));
    }

    [Fact]
    public void RejectsUnknownOutputFormats()
    {
        var (code, _, stderr) = Run("sample", "--model", TestData.Onnx("tiny-flow.json"), "--out", Path.Combine(TestData.TempDir(), "x.jpg"));
        Assert.Equal(2, code);
        Assert.Contains(".png or .npy", stderr);
    }

    [Fact]
    public void CompareDrawsOneLabelledGrid()
    {
        string png = Path.Combine(TestData.TempDir(), "grid.png");
        var (code, stdout, stderr) = Run("compare", "--model", TestData.Onnx("tiny-flow.json"), "--schedulers", "stork-2,stork-4",
            "--steps", "3,6", "--substeps", "5", "--batch", "2", "--out", png);
        Assert.True(code == 0, stderr);
        Assert.Equal("", stderr);
        Assert.Contains("2 schedulers x 2 step counts", stdout);
        Assert.Contains("stork-4", stdout);
        var image = ReadPng(png);
        Assert.True(image.Width > 2 * 2 * 16 * 2);
        Assert.True(image.Height > 2 * 16);
    }

    [Theory]
    [InlineData("--schedulers", "stork-4,bogus", "unknown scheduler 'bogus'")]
    [InlineData("--steps", "5,x", "positive integers")]
    [InlineData("--steps", "5,5", "twice")]
    [InlineData("--out", "grid.npy", "must end in .png")]
    public void CompareValidatesBeforeSampling(string option, string value, string message)
    {
        string dir = TestData.TempDir();
        string[] args = option == "--out"
            ? ["compare", "--model", TestData.Onnx("tiny-flow.json"), "--out", Path.Combine(dir, value)]
            : ["compare", "--model", TestData.Onnx("tiny-flow.json"), "--out", Path.Combine(dir, "grid.png"), option, value];
        var (code, _, stderr) = Run(args);
        Assert.Equal(2, code);
        Assert.Contains(message, stderr);
        Assert.Empty(Directory.GetFiles(dir));
    }
}
