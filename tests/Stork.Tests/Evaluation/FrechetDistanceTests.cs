using Stork.Evaluation;

namespace Stork.Tests.Evaluation;

public class FrechetDistanceTests
{
    [Fact]
    public void DiagonalCovariancesGiveTheClosedForm()
    {
        double[] mu1 = [0.5, -1.0, 2.0], mu2 = [0.0, 1.0, 2.5];
        double[] d1 = [1.0, 4.0, 0.25], d2 = [2.0, 1.0, 0.25];
        double expected = 0.25 + 4.0 + 0.25;
        for (int i = 0; i < 3; i++)
        {
            expected += Math.Pow(Math.Sqrt(d1[i]) - Math.Sqrt(d2[i]), 2);
        }

        Assert.Equal(expected, FrechetDistance.Compute(mu1, Diag(d1), mu2, Diag(d2)), 10);
    }

    [Fact]
    public void IsInvariantUnderRotationAndZeroForIdenticalStatistics()
    {
        double[] c1 = Diag([1.0, 4.0]), c2 = Diag([3.0, 0.5]);
        double angle = 0.7;
        double[] r = [Math.Cos(angle), -Math.Sin(angle), Math.Sin(angle), Math.Cos(angle)];
        double[] mu = [0.3, -0.2];
        double plain = FrechetDistance.Compute(mu, c1, [0, 0], c2);
        double rotated = FrechetDistance.Compute(Rotate(r, mu), Conjugate(r, c1), [0, 0], Conjugate(r, c2));
        Assert.Equal(plain, rotated, 10);
        Assert.Equal(0.0, FrechetDistance.Compute(mu, Conjugate(r, c1), mu, Conjugate(r, c1)), 9);
    }

    [Fact]
    public void StatisticsAreTheSampleMeanAndUnbiasedCovariance()
    {
        float[] rows = [1, 2, 3, 6, 5, 4];
        var (mean, cov) = FrechetDistance.Statistics(rows, 3, 2);
        Assert.Equal([3.0, 4.0], mean);
        Assert.Equal(4.0, cov[0], 12);
        Assert.Equal(2.0, cov[1], 12);
        Assert.Equal(4.0, cov[3], 12);
    }

    private static double[] Diag(double[] d)
    {
        var m = new double[d.Length * d.Length];
        for (int i = 0; i < d.Length; i++)
        {
            m[(i * d.Length) + i] = d[i];
        }

        return m;
    }

    private static double[] Rotate(double[] r, double[] v) => [(r[0] * v[0]) + (r[1] * v[1]), (r[2] * v[0]) + (r[3] * v[1])];

    private static double[] Conjugate(double[] r, double[] c)
    {
        // R C R^T for 2 x 2.
        double[] rc = [(r[0] * c[0]) + (r[1] * c[2]), (r[0] * c[1]) + (r[1] * c[3]), (r[2] * c[0]) + (r[3] * c[2]), (r[2] * c[1]) + (r[3] * c[3])];
        return [(rc[0] * r[0]) + (rc[1] * r[1]), (rc[0] * r[2]) + (rc[1] * r[3]), (rc[2] * r[0]) + (rc[3] * r[1]), (rc[2] * r[2]) + (rc[3] * r[3])];
    }
}
