using Stork.Evaluation;
using Stork.IO;

namespace Stork.Onnx;

/// <summary>
/// Frechet distance in a classifier's feature space: the reference statistics its card ships (<c>test_stats</c>: mean
/// and covariance of the test set's features) and the distance of a batch of samples to them.
/// </summary>
public static class ClassifierFeatures
{
    /// <summary>The test-set feature mean and covariance named by the card's <c>test_stats</c>; an <see cref="InvalidDataException"/> when missing or mis-sized.</summary>
    public static (double[] Mean, double[] Cov) TestStatistics(ModelCard card)
    {
        ArgumentNullException.ThrowIfNull(card);
        if (!card.TestStats.TryGetValue("mean", out string? mean) || !card.TestStats.TryGetValue("cov", out string? cov))
        {
            throw new InvalidDataException($"classifier card '{card.CardPath}' has no test_stats (mean, cov).");
        }

        string dir = Path.GetDirectoryName(card.CardPath) ?? ".";
        var m = NpyFile.Read(Path.Combine(dir, mean)).Data;
        var c = NpyFile.Read(Path.Combine(dir, cov)).Data;
        if (m.Length != card.FeatureDim || c.Length != card.FeatureDim * card.FeatureDim)
        {
            throw new InvalidDataException($"classifier test statistics do not match its feature dimension {card.FeatureDim}.");
        }

        return (m, c);
    }

    /// <summary>
    /// The Frechet distance between the features of the <paramref name="count"/> samples in <paramref name="samples"/>
    /// (classified <paramref name="chunk"/> at a time) and the reference statistics.
    /// </summary>
    public static double FrechetDistance(OnnxClassifier net, float[] samples, int count, int chunk, double[] refMean, double[] refCov, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(net);
        ArgumentOutOfRangeException.ThrowIfLessThan(chunk, 1);
        int size = net.Card.SampleSize, dim = net.FeatureDim;
        var features = new float[count * dim];
        for (int start = 0; start < count; start += chunk)
        {
            cancellationToken.ThrowIfCancellationRequested();
            int n = Math.Min(chunk, count - start);
            var logits = new float[n * net.Classes];
            net.Run(samples.AsSpan(start * size, n * size), features.AsSpan(start * dim, n * dim), logits);
        }

        var (mean, cov) = Evaluation.FrechetDistance.Statistics(features, count, dim);
        return Evaluation.FrechetDistance.Compute(mean, cov, refMean, refCov);
    }

    /// <summary>
    /// The feature moments (sums about <paramref name="shift"/>) of the <paramref name="count"/> samples in
    /// <paramref name="samples"/>, classified <paramref name="chunk"/> at a time: what a shard of a quality run keeps.
    /// </summary>
    public static FeatureMoments Moments(OnnxClassifier net, float[] samples, int count, int chunk, double[] shift, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(net);
        ArgumentOutOfRangeException.ThrowIfLessThan(chunk, 1);
        int size = net.Card.SampleSize, dim = net.FeatureDim;
        var moments = new FeatureMoments(shift);
        for (int start = 0; start < count; start += chunk)
        {
            cancellationToken.ThrowIfCancellationRequested();
            int n = Math.Min(chunk, count - start);
            var features = new float[n * dim];
            net.Run(samples.AsSpan(start * size, n * size), features, new float[n * net.Classes]);
            moments.Add(features);
        }

        return moments;
    }
}
