using Stork.Evaluation;

namespace Stork.Tests.Evaluation;

/// <summary>Mergeable Frechet statistics: shards' moments merged give the single run's mean, covariance and distance.</summary>
public sealed class FeatureMomentsTests
{
    private static float[] Features(int rows, int dim, int seed)
    {
        var rng = new Random(seed);
        var x = new float[rows * dim];
        for (int n = 0; n < rows; n++)
        {
            double common = rng.NextDouble();
            for (int i = 0; i < dim; i++)
            {
                // Offset and correlated, like classifier features: a mean far from 0 tests the sums' cancellation.
                x[(n * dim) + i] = (float)(3.0 + (0.5 * i / dim) + common + (0.7 * (rng.NextDouble() - 0.5)));
            }
        }

        return x;
    }

    [Fact]
    public void Three_shards_merged_give_the_single_run_frechet_distance()
    {
        const int rows = 3001, dim = 16;
        var all = Features(rows, dim, 1);
        var (mean, cov) = FrechetDistance.Statistics(all, rows, dim);
        var reference = FrechetDistance.Statistics(Features(2000, dim, 2), 2000, dim);
        double single = FrechetDistance.Compute(mean, cov, reference.Mean, reference.Covariance);

        var shards = new List<FeatureMoments>();
        for (int i = 0; i < 3; i++)
        {
            long start = (long)rows * i / 3, end = (long)rows * (i + 1) / 3;
            var m = new FeatureMoments(dim);
            m.Add(all.AsSpan((int)(start * dim), (int)((end - start) * dim)));
            // Through the shard file's representation: count, sums, outer sums.
            shards.Add(new FeatureMoments(m.Count, [.. m.Sum], [.. m.OuterSum]));
        }

        var merged = FeatureMoments.Merge(shards).ToStatistics();
        Assert.Equal(rows, FeatureMoments.Merge(shards).Count);
        for (int i = 0; i < dim; i++)
        {
            Assert.Equal(mean[i], merged.Mean[i], 1e-12);
        }

        for (int i = 0; i < cov.Length; i++)
        {
            Assert.True(Math.Abs(cov[i] - merged.Covariance[i]) <= 1e-11 * (1 + Math.Abs(cov[i])), $"cov[{i}]: {cov[i]} vs {merged.Covariance[i]}");
        }

        double fd = FrechetDistance.Compute(merged.Mean, merged.Covariance, reference.Mean, reference.Covariance);
        Assert.True(Math.Abs(fd - single) <= 1e-9 * Math.Abs(single), $"merged FD {fd:R} vs single-run {single:R}");
    }

    [Fact]
    public void Bad_moments_are_argument_errors()
    {
        Assert.Throws<ArgumentException>(() => new FeatureMoments(0));
        Assert.Throws<ArgumentException>(() => new FeatureMoments(2, [1.0, 2.0], [1.0]));
        Assert.Throws<ArgumentException>(() => FeatureMoments.Merge([new FeatureMoments(2), new FeatureMoments(3)]));
        Assert.Throws<ArgumentException>(() => new FeatureMoments(3).Add(new float[4]));
        Assert.Throws<InvalidOperationException>(() => new FeatureMoments(3).ToStatistics());
    }
}
