using Stork.Predictions;
using Stork.Schedules;

namespace Stork.Tests.Schedules;

public class NoiseScheduleTests
{
    public static TheoryData<string> Schedules() => ["flow", "vp-linear", "vp-cosine", "vp-discrete"];

    private static NoiseSchedule Make(string name) => name switch
    {
        "flow" => RectifiedFlowSchedule.Instance,
        "vp-linear" => new VpLinearSchedule(0.1, 20),
        "vp-cosine" => new VpCosineSchedule(),
        _ => VpDiscreteSchedule.FromBetaSchedule("scaled_linear", 0.00085, 0.012),
    };

    private static double[] Times(NoiseSchedule s) =>
        [.. Enumerable.Range(1, 9).Select(i => s.TMin + ((s.TMax - s.TMin) * i / 10.3))];

    [Theory]
    [MemberData(nameof(Schedules))]
    public void DerivativesMatchFiniteDifferences(string name)
    {
        var s = Make(name);
        foreach (double t in Times(s))
        {
            double h = 1e-6 * (s.TMax - s.TMin);
            Assert.Equal((s.Alpha(t + h) - s.Alpha(t - h)) / (2 * h), s.AlphaDerivative(t), 5);
            Assert.Equal((s.Sigma(t + h) - s.Sigma(t - h)) / (2 * h), s.SigmaDerivative(t), 5);
        }
    }

    [Theory]
    [MemberData(nameof(Schedules))]
    public void TimeOfLogSnrInvertsLogSnr(string name)
    {
        var s = Make(name);
        foreach (double t in Times(s))
        {
            Assert.Equal(t, s.TimeOfLogSnr(s.LogSnr(t)), 7);
        }
    }

    [Fact]
    public void DiscreteScheduleMatchesAlphasCumprodAtIntegerTimesteps()
    {
        var s = VpDiscreteSchedule.FromBetaSchedule("linear");
        double cum = 1;
        for (int n = 0; n < 1000; n++)
        {
            cum *= 1 - (0.0001 + ((0.02 - 0.0001) * n / 999));
            if (n % 111 == 0)
            {
                Assert.Equal(cum, s.Alpha(n) * s.Alpha(n), 12);
            }
        }
    }

    [Theory]
    [InlineData(Prediction.Epsilon, Prediction.Sample)]
    [InlineData(Prediction.VPrediction, Prediction.Epsilon)]
    [InlineData(Prediction.FlowVelocity, Prediction.Epsilon)]
    [InlineData(Prediction.Sample, Prediction.FlowVelocity)]
    public void ConversionsRecoverTheTruth(Prediction from, Prediction to)
    {
        foreach (var s in new NoiseSchedule[] { RectifiedFlowSchedule.Instance, new VpLinearSchedule(0.1, 20) })
        {
            double t = 0.37, x0 = 0.8, eps = -1.3;
            double a = s.Alpha(t), b = s.Sigma(t);
            double x = (a * x0) + (b * eps);
            double Value(Prediction p) => p switch
            {
                Prediction.Epsilon => eps,
                Prediction.Sample => x0,
                Prediction.VPrediction => (a * eps) - (b * x0),
                _ => (s.AlphaDerivative(t) * x0) + (s.SigmaDerivative(t) * eps),
            };
            var (cx, cp) = PredictionConverter.Weights(from, to, s, t);
            Assert.Equal(Value(to), (cx * x) + (cp * Value(from)), 12);
        }
    }
}
