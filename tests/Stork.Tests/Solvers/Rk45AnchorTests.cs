using Stork.Models;
using Stork.Predictions;
using Stork.Sampling;
using Stork.Schedules;
using Stork.Solvers;
using Stork.Solvers.Standard;

namespace Stork.Tests.Solvers;

public class Rk45AnchorTests
{
    [Theory]
    [InlineData("gmm8-flow")]
    [InlineData("gmm8-eps")]
    public void TightToleranceMatchesTheExactSolution(string anchor)
    {
        var noise = IO.NpyFile.Read(Golden.PathOf("anchors", anchor + ".noise.npy"));
        var exact = IO.NpyFile.Read(Golden.PathOf("anchors", anchor + ".exact.npy"));
        var mixture = GaussianMixture.Load(Golden.PathOf("anchors", "gmm8.json"));
        bool flow = anchor.EndsWith("flow", StringComparison.Ordinal);
        NoiseSchedule schedule = flow ? RectifiedFlowSchedule.Instance : VpLinearSchedule.FromDiscreteBetas(1e-4, 0.02, 1000);
        var denoiser = new GaussianMixtureDenoiser(mixture, schedule, flow ? Prediction.FlowVelocity : Prediction.Epsilon);
        var solver = new Rk45Integrator(ModelSpec.Of(denoiser), 1e-9, 1e-9);
        var x = noise.ToSingle();
        Sampler.Integrate(denoiser, solver, x);
        double err = Golden.RelativeL2(x, exact.Data);
        Console.WriteLine($"RK45 {anchor}: relative L2 {err:E3}, {solver.Times.Count} evaluations, {solver.AcceptedSteps} accepted, {solver.RejectedSteps} rejected");
        Assert.True(err < 2e-6, $"{anchor}: relative L2 error {err:E3}");
    }

    [Fact]
    public void LooserToleranceCostsFewerEvaluations()
    {
        var mixture = GaussianMixture.Load(Golden.PathOf("anchors", "gmm8.json"));
        var denoiser = new GaussianMixtureDenoiser(mixture, RectifiedFlowSchedule.Instance, Prediction.FlowVelocity);
        var noise = IO.NpyFile.Read(Golden.PathOf("anchors", "gmm8-flow.noise.npy"));
        int Count(double tol)
        {
            var s = new Rk45Integrator(ModelSpec.Of(denoiser), tol, tol);
            Sampler.Integrate(denoiser, s, noise.ToSingle());
            return s.Times.Count;
        }

        Assert.True(Count(1e-3) < Count(1e-7));
    }
}
