using Stork.Grids;
using Stork.Schedules;

namespace Stork.Tests.Grids;

public class TimeGridTests
{
    private static void AssertClose(double[] expected, double[] actual, double rel = 1e-6)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
        {
            Assert.True(Math.Abs(expected[i] - actual[i]) <= (rel * Math.Abs(expected[i])) + 1e-12, $"[{i}] {actual[i]} vs {expected[i]}");
        }
    }

    // Expected values: diffusers' FlowMatchEulerDiscreteScheduler.set_timesteps arithmetic (float32 training sigmas,
    // numpy float64 after that; scipy.stats.beta.ppf for beta sigmas), evaluated with numpy/scipy.
    [Fact]
    public void KarrasSigmasWithStaticShiftMatchDiffusers() => AssertClose(
        [1.0, 0.6014612101793759, 0.34762815921414036, 0.1917690706066582, 0.10009985595325105, 0.04888274089597824, 0.02199535684990522, 0.008928571759206787, 0.0],
        TimeGrid.FlowSigmas(8, new FlowSigmaOptions { Shift = 3.0, Spacing = SigmaSpacing.Karras }));

    [Fact]
    public void LinearDynamicShiftWithTerminalMatchesDiffusers() => AssertClose(
        [1.0, 0.818503731411679, 0.6301656541251657, 0.43459146587583264, 0.23135597207983383, 0.02, 0.0],
        TimeGrid.FlowSigmas(6, new FlowSigmaOptions { Mu = 1.1, TimeShiftType = TimeShiftType.Linear, ShiftTerminal = 0.02 }));

    [Fact]
    public void ExponentialDynamicShiftWithTerminalMatchesDiffusers() => AssertClose(
        [1.0, 0.8485602422956859, 0.6600762249552936, 0.41906154643290483, 0.1, 0.0],
        TimeGrid.FlowSigmas(5, new FlowSigmaOptions { Mu = 0.5, ShiftTerminal = 0.1 }));

    [Fact]
    public void ExponentialSigmasMatchDiffusers() => AssertClose(
        [1.0, 0.3162277685201733, 0.10000000158324832, 0.03162277735268442, 0.010000000316649667, 0.00316227778533515, 0.0010000000474974509, 0.0],
        TimeGrid.FlowSigmas(7, new FlowSigmaOptions { Spacing = SigmaSpacing.Exponential }));

    [Fact]
    public void BetaSigmasMatchDiffusers() => AssertClose(
        [1.0, 0.9430715780008574, 0.8250202409834941, 0.6719320894693447, 0.5019940178907921, 0.33205594631223934, 0.1789677947980899, 0.060916457780726775, 0.00398803578158412, 0.0],
        TimeGrid.FlowSigmas(9, new FlowSigmaOptions { Shift = 2.0, Spacing = SigmaSpacing.Beta }));

    [Theory]
    [InlineData("stork", "flow-stork4-n20-d2-s14-shift3")]
    [InlineData("stork", "flow-stork4-n12-d1-s24-mu0.8")]
    [InlineData("stork", "flow-stork2-n10-d1-s50")]
    public void FlowSigmasMatchTheTimestepsDiffusersStyleSchedulersRecorded(string group, string name)
    {
        var c = Golden.Load(group, name);
        var options = new FlowSigmaOptions { Shift = c.Get("shift", 1.0), Mu = c.Flag("use_dynamic_shifting") ? c.Get("mu", 0) : null };
        var sigmas = TimeGrid.FlowSigmas(c.Timesteps.Length, options);
        AssertClose(c.Timesteps, sigmas[..^1].Select(s => s * 1000).ToArray());
    }

    [Fact]
    public void MuFromSequenceLengthInterpolatesBaseAndMaxShift()
    {
        Assert.Equal(0.5, TimeGrid.MuFromSequenceLength(256), 12);
        Assert.Equal(1.15, TimeGrid.MuFromSequenceLength(4096), 12);
        Assert.Equal(0.63, TimeGrid.MuFromSequenceLength(1024), 12);
    }

    [Fact]
    public void UniformLogSnrGridIsUniformInLambda()
    {
        var schedule = new VpLinearSchedule(0.1, 20);
        var grid = TimeGrid.UniformLogSnr(schedule, 10, 1.0, 1e-3);
        var lambdas = grid.Select(schedule.LogSnr).ToArray();
        double step = lambdas[1] - lambdas[0];
        for (int i = 1; i < lambdas.Length; i++)
        {
            Assert.Equal(step, lambdas[i] - lambdas[i - 1], 9);
        }
    }

    [Fact]
    public void InvalidOptionsAreRejected()
    {
        Assert.Throws<ArgumentException>(() => TimeGrid.FlowSigmas(0));
        Assert.Equal("shift", Assert.Throws<OptionException>(() => TimeGrid.FlowSigmas(5, new FlowSigmaOptions { Shift = -1 })).Key);
        Assert.Equal("shift-terminal", Assert.Throws<OptionException>(() => TimeGrid.FlowSigmas(5, new FlowSigmaOptions { ShiftTerminal = 1.5 })).Key);
    }
}

public class ShiftTerminalStepTests
{
    [Fact]
    public void A_shift_terminal_schedule_of_one_step_is_a_clear_error()
    {
        var e = Assert.Throws<ArgumentException>(() => Stork.Grids.TimeGrid.FlowSigmas(1, new Stork.Grids.FlowSigmaOptions { ShiftTerminal = 0.02, Mu = 0.5 }));
        Assert.Contains("at least 2 steps", e.Message);
    }
}
