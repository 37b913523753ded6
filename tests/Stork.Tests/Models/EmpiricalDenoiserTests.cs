using Stork.IO;
using Stork.Models;
using Stork.Predictions;
using Stork.Sampling;
using Stork.Schedules;

namespace Stork.Tests.Models;

public class EmpiricalDenoiserTests
{
    private static readonly NoiseSchedule Vp = new VpLinearSchedule(0.1, 20);

    private static double[] RandomPoints(int count, int d, long seed) =>
        GaussianNoise.Create(count * d, seed).Select(v => (double)v).ToArray();

    /// <summary>The first <paramref name="count"/> shipped training images, scaled to [-1, 1].</summary>
    private static EmpiricalDenoiser Shipped(int count, NoiseSchedule schedule, Prediction prediction)
    {
        var all = EmpiricalDenoiser.FromNpy(TestData.Shipped("fashion-mnist-train1000.npy"), schedule, prediction);
        var data = Enumerable.Range(0, count).SelectMany(all.Point).Select(v => (double)v).ToArray();
        return new EmpiricalDenoiser(data, all.SampleShape, schedule, prediction, all.DataRange);
    }

    [Theory]
    [InlineData(Prediction.FlowVelocity, false)]
    [InlineData(Prediction.Epsilon, true)]
    [InlineData(Prediction.VPrediction, true)]
    [InlineData(Prediction.Sample, false)]
    public void EqualsTheGaussianMixtureOfPointMasses(Prediction prediction, bool vp)
    {
        const int k = 5, d = 6;
        double[] points = RandomPoints(k, d, 1);
        var schedule = vp ? Vp : RectifiedFlowSchedule.Instance;
        var empirical = new EmpiricalDenoiser(points, [d], schedule, prediction);
        var mixture = new GaussianMixture(Enumerable.Repeat(1.0, k).ToArray(),
            Enumerable.Range(0, k).Select(i => points.AsSpan(i * d, d).ToArray()).ToArray(), new double[k]);
        var gmm = new GaussianMixtureDenoiser(mixture, schedule, prediction);
        float[] x = GaussianNoise.Create(3 * d, 2);
        foreach (double t in new[] { 0.9, 0.5, 0.1, 0.02 })
        {
            var a = new float[x.Length];
            var b = new float[x.Length];
            empirical.Predict(x, t, a);
            gmm.Predict(x, t, b);
            Assert.True(TestData.MaxRelativeError(a, b) < 1e-5, $"t = {t}: {TestData.MaxRelativeError(a, b):E2}");
        }
    }

    [Fact]
    public void VelocityAndEpsilonAreConsistent()
    {
        double[] points = RandomPoints(20, 16, 3);
        var flow = new EmpiricalDenoiser(points, [16], RectifiedFlowSchedule.Instance, Prediction.FlowVelocity);
        var eps = new EmpiricalDenoiser(points, [16], RectifiedFlowSchedule.Instance, Prediction.Epsilon);
        float[] x = GaussianNoise.Create(4 * 16, 4);
        foreach (double t in new[] { 0.95, 0.6, 0.3, 0.05 })
        {
            var v = new float[x.Length];
            var e = new float[x.Length];
            var converted = new float[x.Length];
            flow.Predict(x, t, v);
            eps.Predict(x, t, e);
            PredictionConverter.Convert(Prediction.Epsilon, Prediction.FlowVelocity, RectifiedFlowSchedule.Instance, t, x, e, converted);
            Assert.True(TestData.MaxRelativeError(converted, v, 1e-2) < 1e-4, $"t = {t}");
        }
    }

    [Fact]
    public void TheExactOdeLandsOnATrainingImage()
    {
        var denoiser = Shipped(50, RectifiedFlowSchedule.Instance, Prediction.FlowVelocity);
        int d = denoiser.Dimension;
        float[] x = GaussianNoise.Create(2 * d, 7);
        var v = new float[x.Length];
        const int steps = 100;
        for (int k = 0; k < steps; k++)
        {
            double s = 1.0 - ((double)k / steps), next = 1.0 - ((double)(k + 1) / steps);
            denoiser.Predict(x, s, v);
            for (int i = 0; i < x.Length; i++)
            {
                x[i] += (float)((next - s) * v[i]);
            }
        }

        for (int n = 0; n < 2; n++)
        {
            float[] sample = x.AsSpan(n * d, d).ToArray();
            double best = Enumerable.Range(0, denoiser.Count).Min(j =>
            {
                float[] p = denoiser.Point(j);
                double worst = 0;
                for (int i = 0; i < d; i++)
                {
                    worst = Math.Max(worst, Math.Abs(sample[i] - p[i]));
                }

                return worst;
            });
            Assert.True(best < 1e-4, $"sample {n} is {best:E2} from the nearest training image");
        }
    }

    [Fact]
    public void StaysFiniteAndExactAtTinySigma()
    {
        var denoiser = Shipped(20, Vp, Prediction.Epsilon);
        int d = denoiser.Dimension;
        double t = 1e-7, a = Vp.Alpha(t), b = Vp.Sigma(t);
        float[] eps = GaussianNoise.Create(d, 9);
        float[] point = denoiser.Point(3);
        var x = new float[d];
        for (int i = 0; i < d; i++)
        {
            x[i] = (float)((a * point[i]) + (b * eps[i]));
        }

        var e = new float[d];
        denoiser.Predict(x, t, e);
        Assert.All(e, v => Assert.True(float.IsFinite(v)));
        // Float32 x carries ~6e-8 absolute error, amplified by 1/b.
        Assert.True(TestData.MaxRelativeError(e, eps, 1.0) < 0.05, $"{TestData.MaxRelativeError(e, eps, 1.0):E2}");

        var sample = new EmpiricalDenoiser(Enumerable.Range(0, 20).SelectMany(denoiser.Point).Select(f => (double)f).ToArray(),
            denoiser.SampleShape, RectifiedFlowSchedule.Instance, Prediction.Sample);
        var x0 = new float[d];
        sample.Predict(x, 0.0, x0);
        Assert.Equal(point, x0);
    }

    [Fact]
    public void LoadsUint8ImagesIntoMinusOneToOne()
    {
        string path = TestData.Shipped("fashion-mnist-train1000.npy");
        var raw = NpyFile.Read(path);
        Assert.Equal([1000, 28, 28], raw.Shape);
        var denoiser = EmpiricalDenoiser.FromNpy(path, RectifiedFlowSchedule.Instance, Prediction.FlowVelocity);
        Assert.Equal(1000, denoiser.Count);
        Assert.Equal([1, 28, 28], denoiser.SampleShape);
        Assert.Equal((-1.0, 1.0), denoiser.DataRange);
        float[] p = denoiser.Point(1);
        for (int i = 0; i < p.Length; i++)
        {
            Assert.Equal((raw.Data[784 + i] / 127.5) - 1.0, p[i], 5);
        }
    }

    [Fact]
    public void BatchesAreDeterministicAndIndependent()
    {
        double[] points = RandomPoints(30, 10, 5);
        var denoiser = new EmpiricalDenoiser(points, [10], Vp, Prediction.Epsilon);
        float[] x = GaussianNoise.Create(8 * 10, 6);
        var all = new float[x.Length];
        var again = new float[x.Length];
        denoiser.Predict(x, 0.3, all);
        denoiser.Predict(x, 0.3, again);
        Assert.Equal(all, again);
        var one = new float[10];
        denoiser.Predict(x.AsSpan(50, 10), 0.3, one);
        Assert.Equal(all.AsSpan(50, 10).ToArray(), one);
    }

    [Fact]
    public void RejectsBadData()
    {
        Assert.Throws<ArgumentException>(() => new EmpiricalDenoiser(new double[7], [2, 2], Vp, Prediction.Epsilon));
        Assert.Throws<ArgumentException>(() => new EmpiricalDenoiser([double.NaN, 0, 0, 0], [4], Vp, Prediction.Epsilon));
        var d = new EmpiricalDenoiser(new double[8], [4], Vp, Prediction.Epsilon);
        Assert.Throws<ArgumentException>(() => d.Predict(new float[6], 0.5, new float[6]));
    }
}
