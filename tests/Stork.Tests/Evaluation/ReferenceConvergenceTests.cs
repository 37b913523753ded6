using Stork.Evaluation;
using Stork.Models;
using Stork.Predictions;
using Stork.Sampling;
using Stork.Schedules;
using Stork.Solvers.Catalog;

namespace Stork.Tests.Evaluation;

/// <summary>
/// The RK45 reference converges and every solver converges to it (issue 25: the RMSE floor near 2.5e-2 on the trained
/// epsilon model came from a reference at rtol = atol = 1e-5 and from grids whose last evaluation is not the reference's
/// end point). On the public mixture gmm8 under a continuous VP schedule trained on [1e-3, 1] (as the shipped epsilon
/// card): the reference agrees with itself at two tolerances, and each solver whose grid ends where the reference ends
/// (t_min, then the data prediction) falls below 1e-3 with its order.
/// </summary>
public class ReferenceConvergenceTests
{
    private static readonly VpLinearSchedule Schedule = new VpLinearSchedule().WithTimeRange(1e-3, 1.0);

    private static GaussianMixtureDenoiser Model() =>
        new(GaussianMixture.Load(Golden.PathOf("stork", "gmm8.json")), Schedule, Prediction.Epsilon);

    private static float[] Noise(IDenoiser model) => GaussianNoise.Create(32 * Sampler.SampleSize(model), 11);

    [Fact]
    public void TheReferenceAgreesWithItselfAtTwoTolerances()
    {
        var model = Model();
        var noise = Noise(model);
        var loose = OdeError.ReferenceSolution(model, noise, 1e-6, new SolverSettings());
        var tight = OdeError.ReferenceSolution(model, noise, 1e-9, new SolverSettings());
        double rmse = OdeError.Rmse(loose, tight);
        Assert.True(rmse < 2e-5, $"RK45 at 1e-6 against 1e-9: {rmse:E2}");
    }

    [Theory]
    [InlineData("euler", 1.0, 3200)]
    [InlineData("ddim[clip=false,grid=logsnr]", 1.0, 3200)]
    [InlineData("dpm++2m[grid=logsnr]", 2.0, 200)]
    [InlineData("unipc[grid=logsnr]", 2.0, 200)]
    [InlineData("stork-4", 2.0, 200)]
    [InlineData("stork-2", 2.0, 200)]

    // DEIS once levelled off near 6.5e-4 here: its last step to the clean end kept order 2 (now first order, as DPM-Solver++'s).
    [InlineData("deis[grid=logsnr]", 2.0, 200)]
    public void EverySolverFallsBelow1e3WithItsOrder(string solver, double order, int top)
    {
        var model = Model();
        var noise = Noise(model);
        var reference = OdeError.ReferenceSolution(model, noise, 1e-9, new SolverSettings());
        var spec = SolverSpec.Parse(solver, new SolverSettings());
        int[] nfes = [top / 4, top / 2, top];
        var errors = nfes.Select(n => OdeError.Measure(model, spec, n, noise, reference).Rmse).ToArray();
        string seen = string.Join(", ", nfes.Zip(errors, (n, e) => $"{n}: {e:E2}"));
        Assert.True(errors[^1] < 1e-3, $"{solver}: {seen}");
        double observed = Math.Log2(errors[^2] / errors[^1]);
        Assert.True(observed > order - 0.4, $"{solver}: observed order {observed:F2} ({seen})");
    }
}
