using Stork.Models;
using Stork.Predictions;
using Stork.Sampling;
using Stork.Schedules;
using Stork.Solvers;

namespace Stork.Tests.Solvers;

public class StandardSolverAllocationTests
{
    public static TheoryData<string, string> Solvers() => new()
    {
        { "euler", "flow" }, { "heun", "flow" }, { "dpm++2m", "flow" }, { "dpm++3m", "flow" }, { "unipc", "flow" }, { "deis", "flow" },
        { "euler", "epsilon" }, { "heun", "v" }, { "ddim", "epsilon" }, { "ddim", "v" }, { "dpm++2m", "epsilon" }, { "dpm++3m", "sample" },
        { "unipc", "epsilon" }, { "deis", "epsilon" }, { "stork-4", "flow" }, { "rk45", "flow" }, { "rk45", "epsilon" },
        { "stork-2", "flow" }, { "stork-4", "epsilon" }, { "stork-2", "epsilon" }, { "stork-4", "v" },
    };

    [Theory]
    [MemberData(nameof(Solvers))]
    public void StepsAllocateNothingOnceWarm(string name, string prediction)
    {
        var mixture = GaussianMixture.Load(Golden.PathOf("baselines", "gmm8.json"));
        var p = PredictionNames.Parse(prediction);
        NoiseSchedule schedule = p == Prediction.FlowVelocity ? RectifiedFlowSchedule.Instance : VpDiscreteSchedule.FromBetaSchedule("linear");
        var denoiser = new GaussianMixtureDenoiser(mixture, schedule, p);
        var settings = new SolverSettings { SolverOrder = name == "unipc" ? 3 : null, RelativeTolerance = 1e-4, AbsoluteTolerance = 1e-4 };
        var solver = SolverRegistry.Create(name, ModelSpec.Of(denoiser), 20, settings);
        var x = GaussianNoise.Create(4 * mixture.Dimension, 5);
        var output = new float[x.Length];

        void RunOnce()
        {
            if (solver is ISolver and Stork.Solvers.IAdaptiveSolver adaptive)
            {
                adaptive.Run(denoiser, x, null, default);
                return;
            }

            solver.Reset();
            for (int i = 0; i < solver.Times.Count; i++)
            {
                denoiser.Predict(x, solver.Times[i], output);
                solver.Step(output, x);
            }
        }

        GaussianNoise.Fill(x, 5);
        RunOnce();
        GaussianNoise.Fill(x, 5);
        long before = GC.GetAllocatedBytesForCurrentThread();
        RunOnce();
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.Equal(0, allocated);
        Assert.All(x, v => Assert.True(float.IsFinite(v)));
    }
}
