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

    /// <summary>
    /// rk45 takes stopping-eps as its end time on noise models (the reference of a solver that stops there) and returns
    /// the data prediction there: the same as integrating to that time and converting by hand.
    /// </summary>
    [Fact]
    public void StoppingEpsSetsTheEndTimeOnNoiseModels()
    {
        var mixture = GaussianMixture.Load(Golden.PathOf("anchors", "gmm8.json"));
        var schedule = new VpLinearSchedule(0.1, 20);
        var denoiser = new GaussianMixtureDenoiser(mixture, schedule, Prediction.Epsilon);
        var model = ModelSpec.Of(denoiser);
        var settings = new Stork.Solvers.Catalog.SolverSettings { StoppingEps = 0.05, RelativeTolerance = 1e-6, AbsoluteTolerance = 1e-6 };
        var integrator = (Rk45Integrator)Stork.Solvers.Catalog.SolverRegistry.CreateIntegrator("rk45", model, settings);
        Assert.Equal(0.05, integrator.EndTime, 15);
        Assert.Equal(schedule.DefaultEndTime, ((Rk45Integrator)Stork.Solvers.Catalog.SolverRegistry.CreateIntegrator("rk45", model, settings with { StoppingEps = null })).EndTime);
        var noise = IO.NpyFile.Read(Golden.PathOf("anchors", "gmm8-eps.noise.npy")).ToSingle();
        var x = (float[])noise.Clone();
        Sampler.Integrate(denoiser, integrator, x);
        var direct = (float[])noise.Clone();
        Sampler.Integrate(denoiser, new Rk45Integrator(model, 1e-6, 1e-6, 0.05), direct);
        Assert.Equal(direct, x);
        Assert.Equal(0.05, integrator.Times[^1], 15);
    }
}
