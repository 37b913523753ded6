using Stork.Sampling;

namespace Stork.Tests.Solvers;

public class DiffusersBaselineGoldenTests
{
    public static TheoryData<string> Cases() => new(BaselineCase.Names);

    [Theory]
    [MemberData(nameof(Cases))]
    public void FinalSampleMatchesDiffusers(string name)
    {
        var c = Golden.Load("baselines", name);
        var (denoiser, solver) = BaselineCase.Build(c);
        var x = c.Noise.ToSingle();
        Sampler.Run(denoiser, solver, x);
        double err = Golden.RelativeL2(x, c.Final.Data);
        Console.WriteLine($"PARITY library {name}: {err:E3}");
        Assert.True(err < 1e-4, $"{name}: relative L2 error {err:E3}");
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void EvaluationTimesMatchDiffusers(string name)
    {
        var c = Golden.Load("baselines", name);
        var (_, solver) = BaselineCase.Build(c);
        var expected = BaselineCase.ModelTimes(c);
        Assert.Equal(expected.Length, solver.Times.Count);
        for (int i = 0; i < expected.Length; i++)
        {
            double mine = solver.Times[i];
            Assert.True(Math.Abs(mine - expected[i]) <= 1e-6 * Math.Abs(expected[i]), $"{name} time {i}: {mine} vs {expected[i]}");
        }
    }
}
