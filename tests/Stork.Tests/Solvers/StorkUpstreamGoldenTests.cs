using Stork.Grids;
using Stork.Models;
using Stork.Predictions;
using Stork.Sampling;
using Stork.Schedules;
using Stork.Solvers;
using Stork.Solvers.Stabilized;

namespace Stork.Tests.Solvers;

public class StorkUpstreamGoldenTests
{
    public static TheoryData<string> Cases() => new(Golden.CaseNames("stork"));

    internal static (IDenoiser Denoiser, StorkSolver Solver) Build(GoldenCase c)
    {
        var mixture = GaussianMixture.Load(c.ModelPath);
        bool flow = c.Scheduler.GetProperty("prediction_type").GetString() == "flow_prediction";
        var options = new StorkOptions
        {
            Order = (int)c.Get("solver_order", 4),
            Variant = StorkVariant.Upstream,
            Substeps = (int)c.Get("s", 50),
            DerivativeOrder = (int)c.Get("derivative_order", 1),
            StoppingEps = c.Get("stopping_eps", 1e-2),
        };
        int steps = (int)c.Get("num_inference_steps", 10);
        NoiseSchedule schedule = flow ? RectifiedFlowSchedule.Instance : VpLinearSchedule.FromDiscreteBetas(1e-4, 0.02, 1000);
        var denoiser = new GaussianMixtureDenoiser(mixture, schedule, flow ? Prediction.FlowVelocity : Prediction.Epsilon);
        var grid = new FlowSigmaOptions
        {
            Shift = c.Get("shift", 1.0),
            Mu = c.Flag("use_dynamic_shifting") ? c.Get("mu", 0.0) : null,
        };
        return (denoiser, StorkSolver.Create(ModelSpec.Of(denoiser), steps, options, grid));
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void FinalSampleMatchesTheAuthorsCode(string name)
    {
        var c = Golden.Load("stork", name);
        var (denoiser, solver) = Build(c);
        var x = c.Noise.ToSingle();
        Sampler.Run(denoiser, solver, x);
        double err = Golden.RelativeL2(x, c.Final.Data);
        Assert.True(err < 1e-6, $"{name}: relative L2 error {err:E3}");
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void EvaluationTimesMatchTheAuthorsTimesteps(string name)
    {
        var c = Golden.Load("stork", name);
        var (_, solver) = Build(c);
        var expected = c.Timesteps;
        Assert.Equal(expected.Length, solver.Times.Count);
        for (int i = 0; i < expected.Length; i++)
        {
            double mine = solver.Times[i] * 1000.0;
            Assert.True(Math.Abs(mine - expected[i]) <= 1e-6 * Math.Abs(expected[i]), $"{name} time {i}: {mine} vs {expected[i]}");
        }
    }
}
