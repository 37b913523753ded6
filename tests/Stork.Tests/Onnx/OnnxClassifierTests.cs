using Stork.Onnx;
using Xunit.Abstractions;

namespace Stork.Tests.Onnx;

public class OnnxClassifierTests(ITestOutputHelper output)
{
    internal static void CheckFixture(OnnxClassifier classifier, double tolerance)
    {
        var card = classifier.Card;
        float[] x = TestData.Floats(card.Fixture["x"]);
        float[] features = TestData.Floats(card.Fixture["features"]);
        float[] logits = TestData.Floats(card.Fixture["logits"]);
        int batch = x.Length / card.SampleSize;
        Assert.Equal(batch * classifier.FeatureDim, features.Length);
        Assert.Equal(batch * classifier.Classes, logits.Length);
        var f = new float[features.Length];
        var l = new float[logits.Length];
        classifier.Run(x, f, l);
        Assert.True(TestData.ScaledError(f, features) < tolerance, $"features: {TestData.ScaledError(f, features):E2}");
        Assert.True(TestData.ScaledError(l, logits) < tolerance, $"logits: {TestData.ScaledError(l, logits):E2}");
    }

    public static TheoryData<string> ClassifierCards() => TestData.Cards("classifier");

    [Theory]
    [MemberData(nameof(ClassifierCards))]
    public void EveryClassifierMatchesItsFixtureAndHasStats(string cardPath)
    {
        using var c = OnnxClassifier.Load(cardPath);
        CheckFixture(c, 1e-4);
        if (c.Card.TestStats.TryGetValue("mean", out string? mean) && c.Card.TestStats.TryGetValue("cov", out string? cov))
        {
            Assert.Equal([c.FeatureDim], Stork.IO.NpyFile.Read(mean).Shape);
            Assert.Equal([c.FeatureDim, c.FeatureDim], Stork.IO.NpyFile.Read(cov).Shape);
        }
    }

    [Theory]
    [InlineData("fashion-classifier.json")]
    [InlineData("fashion-classifier-pooled.json")]
    public void ShippedClassifiersRecogniseTheTrainingImages(string card)
    {
        using var c = OnnxClassifier.Load(TestData.Shipped(card));
        Assert.Equal(128, c.FeatureDim);
        Assert.Equal(10, c.Classes);
        Assert.Equal(10, c.Card.ClassNames.Count);
        var images = Stork.IO.NpyFile.Read(TestData.Shipped("fashion-mnist-train1000.npy"));
        var labels = Stork.IO.NpyFile.Read(TestData.Shipped("fashion-mnist-train1000-labels.npy"));
        const int n = 200;
        // uint8 pixels to the card's data range, as the empirical denoiser and the samples use it.
        var (lo, hi) = c.Card.DataRange;
        float[] x = images.Data.Take(n * 784).Select(v => (float)(lo + (v / 255.0 * (hi - lo)))).ToArray();
        int[] predicted = c.Predict(x);
        double accuracy = predicted.Where((p, i) => p == (int)labels.Data[i]).Count() / (double)n;
        Assert.True(accuracy > 0.85, $"accuracy {accuracy:P1}");
    }

    /// <summary>
    /// The Frechet-distance floor of each shipped classifier (README, round five): the 1,000 shipped training images
    /// against the card's test statistics, what a perfect sampler scores at that sample size; the same images with
    /// noise (sigma 0.2 in [-1, 1]) must score worse, or the features and statistics measure nothing.
    /// </summary>
    [Theory]
    [InlineData("fashion-classifier.json")]
    [InlineData("fashion-classifier-pooled.json")]
    public void RealImagesSetTheFloorAndNoisyOnesScoreAbove(string card)
    {
        using var c = OnnxClassifier.Load(TestData.Shipped(card));
        var (mean, cov) = ClassifierFeatures.TestStatistics(c.Card);
        var images = Stork.IO.NpyFile.Read(TestData.Shipped("fashion-mnist-train1000.npy"));
        var (lo, hi) = c.Card.DataRange;
        float[] x = images.Data.Select(v => (float)(lo + (v / 255.0 * (hi - lo)))).ToArray();
        int n = x.Length / c.Card.SampleSize;
        double floor = ClassifierFeatures.FrechetDistance(c, x, n, 250, mean, cov);
        var rng = new Random(0);
        float[] noisy = x.Select(v => v + (float)(0.2 * NormalSample(rng))).ToArray();
        double worse = ClassifierFeatures.FrechetDistance(c, noisy, n, 250, mean, cov);
        output.WriteLine($"{card}: {n} training images {floor:F3}, with noise 0.2 {worse:F3}");
        Assert.True(floor >= 0 && worse > 2 * floor, $"{floor} vs {worse}");
    }

    private static double NormalSample(Random rng) => Math.Sqrt(-2 * Math.Log(1 - rng.NextDouble())) * Math.Cos(2 * Math.PI * rng.NextDouble());

    [Fact]
    public void TinyClassifierMatchesItsFixture()
    {
        using var c = OnnxClassifier.Load(TestData.Onnx("tiny-classifier.json"));
        Assert.Equal(4, c.FeatureDim);
        Assert.Equal(3, c.Classes);
        CheckFixture(c, 1e-4);
    }

    [Fact]
    public void PredictTakesTheLargestLogitAndChunksBatches()
    {
        float[] x = TestData.Floats(TestData.Onnx("tiny-classifier.fixture-x.npy"));
        float[] logits = TestData.Floats(TestData.Onnx("tiny-classifier.fixture-logits.npy"));
        using var c = OnnxClassifier.Load(TestData.Onnx("tiny-classifier.json"), new OnnxRuntimeOptions { MaxBatch = 2 });
        int[] classes = c.Predict(x);
        for (int i = 0; i < classes.Length; i++)
        {
            var row = logits.AsSpan(i * 3, 3);
            Assert.Equal(row.IndexOf(row.ToArray().Max()), classes[i]);
        }
    }
}
