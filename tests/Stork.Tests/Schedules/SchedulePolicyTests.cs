using Stork.Schedules;

namespace Stork.Tests.Schedules;

/// <summary>What each schedule says about itself, in place of type tests at the call sites.</summary>
public class SchedulePolicyTests
{
    [Fact]
    public void EachScheduleStatesItsTimeAxis()
    {
        var flow = RectifiedFlowSchedule.Instance;
        var discrete = VpDiscreteSchedule.FromBetaSchedule("linear");
        var linear = new VpLinearSchedule();
        var cosine = new VpCosineSchedule();

        Assert.True(flow.IsFlowMatching);
        Assert.All(new NoiseSchedule[] { discrete, linear, cosine }, s => Assert.False(s.IsFlowMatching));
        Assert.All(new NoiseSchedule[] { discrete, linear, cosine }, s => Assert.True(s.IsVariancePreserving));

        Assert.Equal(1000, discrete.TrainingTimesteps);
        Assert.Null(linear.TrainingTimesteps);
        Assert.Null(flow.TrainingTimesteps);

        // Flow and discrete models integrate to the data end; continuous VP stops at 1e-3 T.
        Assert.Equal(0.0, flow.DefaultEndTime);
        Assert.Equal(0.0, discrete.DefaultEndTime);
        Assert.Equal(1e-3, linear.DefaultEndTime);
        Assert.Equal(1e-3 * cosine.TMax, cosine.DefaultEndTime);

        Assert.Equal(499.0, discrete.TimeOfTimestep(499, 1000));
        Assert.Equal(0.499, linear.TimeOfTimestep(499, 1000));
        Assert.Equal(250.0, discrete.DiffusersTimestep(250));
        Assert.Equal(250.0, flow.DiffusersTimestep(0.25));
    }
}
