using Stork.Onnx;
using Stork.Predictions;
using Stork.Schedules;

namespace Stork.Tests.Onnx;

public class OnnxDenoiserTests
{
    /// <summary>Runs a card's fixture: x [B, ...] at per-sample times t [B]; returns (mine, expected).</summary>
    internal static (float[] Mine, float[] Expected) RunFixture(OnnxDenoiser denoiser)
    {
        var card = denoiser.Card;
        float[] x = TestData.Floats(card.Fixture["x"]);
        float[] t = TestData.Floats(card.Fixture["t"]);
        float[] expected = TestData.Floats(card.Fixture["out"]);
        int size = card.SampleSize;
        Assert.Equal(x.Length, expected.Length);
        var mine = new float[x.Length];
        int batch = x.Length / size;
        for (int n = 0; n < batch; n++)
        {
            double time = ScheduleTime(card, t.Length == 1 ? t[0] : t[n]);
            denoiser.Predict(x.AsSpan(n * size, size), time, mine.AsSpan(n * size, size));
        }

        return (mine, expected);
    }

    /// <summary>The fixture's t is what the network was fed; map it back to schedule time.</summary>
    internal static double ScheduleTime(ModelCard card, double fed) => card.TimeInput switch
    {
        TimeInput.Time or TimeInput.Timestep => fed,
        TimeInput.TimeTimes1000 => fed / 1000.0,
        TimeInput.Sigma when card.NoiseSchedule is RectifiedFlowSchedule => fed,
        TimeInput.SigmaTimes1000 when card.NoiseSchedule is RectifiedFlowSchedule => fed / 1000.0,
        _ => throw new NotSupportedException("fixture time for this card"),
    };

    public static TheoryData<string> DenoiserCards() => TestData.Cards("denoiser");

    [Theory]
    [MemberData(nameof(DenoiserCards))]
    public void EveryCardMatchesItsFixture(string cardPath)
    {
        using var d = OnnxDenoiser.Load(cardPath);
        var (mine, expected) = RunFixture(d);
        double tolerance = d.Card.DType == TensorDType.Float16 ? 1e-2 : 1e-4;
        double err = TestData.ScaledError(mine, expected);
        Assert.True(err < tolerance, $"{d.Card.Name}: max relative error {err:E2}");
    }

    [Theory]
    [MemberData(nameof(DenoiserCards))]
    public void EveryCardIsDeterministicAcrossBatchSizes(string cardPath)
    {
        using var d = OnnxDenoiser.Load(cardPath);
        int size = d.Card.SampleSize;
        float[] x = Stork.Sampling.GaussianNoise.Create(3 * size, 11);
        double t = 0.5 * (d.Schedule.TMin + d.Schedule.TMax);
        var a = new float[x.Length];
        var b = new float[x.Length];
        var one = new float[size];
        d.Predict(x, t, a);
        d.Predict(x, t, b);
        d.Predict(x.AsSpan(2 * size, size), t, one);
        Assert.Equal(a, b);
        Assert.All(a, v => Assert.True(float.IsFinite(v)));
        Assert.True(TestData.MaxRelativeError(one, a.AsSpan(2 * size, size), 1e-2) < 1e-4);
        Assert.Equal(d.Card.SampleShape, d.SampleShape);
    }

    [Fact]
    public void TinyModelMatchesItsFixture()
    {
        using var d = OnnxDenoiser.Load(TestData.Onnx("tiny-flow.json"));
        Assert.Equal(Prediction.FlowVelocity, d.Prediction);
        Assert.IsType<RectifiedFlowSchedule>(d.Schedule);
        Assert.Equal([1, 8, 8], d.SampleShape);
        Assert.Null(d.FixedBatch);
        var (mine, expected) = RunFixture(d);
        Assert.True(TestData.MaxRelativeError(mine, expected) < 1e-4, $"max relative error {TestData.MaxRelativeError(mine, expected):E2}");
    }

    [Fact]
    public void Float16ModelIsConvertedAtTheBoundary()
    {
        using var d = OnnxDenoiser.Load(TestData.Onnx("tiny-flow-fp16.json"));
        Assert.Equal(TensorDType.Float16, d.Card.DType);
        var (mine, expected) = RunFixture(d);
        Assert.True(TestData.MaxRelativeError(mine, expected, 1e-1) < 1e-2, $"max relative error {TestData.MaxRelativeError(mine, expected, 1e-1):E2}");
    }

    [Fact]
    public void BatchesAndChunksGiveTheSameBytesAsSingleCalls()
    {
        float[] x = TestData.Floats(TestData.Onnx("tiny-flow.fixture-x.npy"));
        using var whole = OnnxDenoiser.Load(TestData.Onnx("tiny-flow.json"));
        using var chunked = OnnxDenoiser.Load(TestData.Onnx("tiny-flow.json"), new OnnxRuntimeOptions { MaxBatch = 2, IntraOpThreads = 1 });
        var a = new float[x.Length];
        var b = new float[x.Length];
        var c = new float[x.Length];
        whole.Predict(x, 0.37, a);
        chunked.Predict(x, 0.37, b);
        whole.Predict(x, 0.37, c);
        Assert.Equal(a, c);
        Assert.True(TestData.MaxRelativeError(a, b) < 1e-5);
        int size = whole.Card.SampleSize;
        var single = new float[size];
        whole.Predict(x.AsSpan(size, size), 0.37, single);
        Assert.True(TestData.MaxRelativeError(single, a.AsSpan(size, size)) < 1e-5);
    }

    [Fact]
    public void RejectsWrongBufferSizes()
    {
        using var d = OnnxDenoiser.Load(TestData.Onnx("tiny-flow.json"));
        Assert.Throws<ArgumentException>(() => d.Predict(new float[65], 0.5, new float[65]));
        Assert.Throws<ArgumentException>(() => d.Predict(new float[64], 0.5, new float[128]));
        Assert.Throws<ArgumentException>(() => d.Predict(new float[64], double.NaN, new float[64]));
    }

    [Theory]
    [InlineData("cuda")]
    [InlineData("dml")]
    public void MissingExecutionProviderIsAClearError(string provider)
    {
        var e = Assert.ThrowsAny<Exception>(() => OnnxDenoiser.Load(TestData.Onnx("tiny-flow.json"), new OnnxRuntimeOptions { ExecutionProvider = provider }));
        Assert.True(e is InvalidOperationException or InvalidDataException, e.GetType().Name);
        Assert.Contains(provider, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void UnknownExecutionProviderIsRejected()
    {
        var e = Assert.Throws<OptionException>(() => OnnxDenoiser.Load(TestData.Onnx("tiny-flow.json"), new OnnxRuntimeOptions { ExecutionProvider = "tpu" }));
        Assert.Equal("provider", e.Key);
        Assert.Contains("tpu", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(TimeInput.Sigma, 0.25, 0.25)]
    [InlineData(TimeInput.SigmaTimes1000, 0.25, 250.0)]
    public void FlowTimeIsFedAsTheCardSays(TimeInput input, double t, double fed) =>
        Assert.Equal(fed, TimeInputs.Feed(input, RectifiedFlowSchedule.Instance, t), 12);

    [Fact]
    public void VpTimeIsFedContinuously()
    {
        var vp = new VpLinearSchedule(0.1, 20);
        Assert.Equal(0.123456789, TimeInputs.Feed(TimeInput.Time, vp, 0.123456789), 15);
        Assert.Equal(123.456789, TimeInputs.Feed(TimeInput.TimeTimes1000, vp, 0.123456789), 9);
        Assert.Equal(vp.Sigma(0.3), TimeInputs.Feed(TimeInput.Sigma, vp, 0.3), 15);
        var discrete = VpDiscreteSchedule.FromBetaSchedule("linear");
        Assert.Equal(417.25, TimeInputs.Feed(TimeInput.Timestep, discrete, 417.25), 12);
    }
}
