using Stork.Grids;
using Stork.Models;
using Stork.Predictions;
using Stork.Sampling;
using Stork.Schedules;
using Stork.Solvers;
using Stork.Solvers.Catalog;
using Xunit.Abstractions;

namespace Stork.Tests.Solvers;

/// <summary>The claims of <c>ab2</c> (CONTRIBUTING's worked solver example): exact for a velocity linear in time from the second step, order 2.</summary>
public class AdamsBashforth2Tests(ITestOutputHelper log)
{
    /// <summary>A "model" whose velocity is c0 + c1 t, independent of the sample.</summary>
    private sealed class LinearVelocity(double c0, double c1) : IDenoiser
    {
        public Prediction Prediction => Prediction.FlowVelocity;

        public NoiseSchedule Schedule => RectifiedFlowSchedule.Instance;

        public IReadOnlyList<int> SampleShape => [1];

        public double Integral(double t0, double t1) => (c0 * (t1 - t0)) + (c1 * ((t1 * t1) - (t0 * t0)) / 2);

        public void Predict(ReadOnlySpan<float> samples, double time, Span<float> output) => output.Fill((float)(c0 + (c1 * time)));
    }

    [Fact]
    public void AVelocityLinearInTimeIsIntegratedExactlyFromTheSecondStep()
    {
        var model = new LinearVelocity(0.7, -1.3);
        var settings = new SolverSettings { FlowGrid = new FlowSigmaOptions { Shift = 3 } };
        var solver = SolverRegistry.Create("ab2", ModelSpec.Of(model), 8, settings);
        var times = solver.Times;
        float[] x = [0.25f], output = new float[1];
        for (int i = 0; i < times.Count; i++)
        {
            if (i == 1)
            {
                // Euler's first step is not exact for a sloped velocity; from exact values, every later step is.
                x[0] = (float)(0.25 + model.Integral(times[0], times[1]));
            }

            model.Predict(x, times[i], output);
            solver.Step(output, x);
        }

        Assert.Equal(0.25 + model.Integral(times[0], 0), x[0], 1e-5);
    }

    [Theory]
    [InlineData("flow", 20)]
    [InlineData("eps", 40)]
    public void ObservedConvergenceOrderIsTwo(string kind, int n)
    {
        double[] errors = [Error(kind, n), Error(kind, 2 * n)];
        double observed = Math.Log2(errors[0] / errors[1]);
        log.WriteLine($"ab2 on {kind}: errors {errors[0]:E3} {errors[1]:E3}, order {observed:F2}");
        Assert.InRange(observed, 1.7, 2.3);
    }

    /// <summary>RMSE of ab2 at <paramref name="steps"/> against the exact ODE solution of a Gaussian mixture over the same time span.</summary>
    private static double Error(string kind, int steps)
    {
        var gmm = new GaussianMixture([0.5, 0.3, 0.2], [[0.5, -0.3, 0.8], [-0.6, 0.4, 0.1], [0.2, 0.9, -0.7]], [0.3, 0.4, 0.25]);
        bool flow = kind == "flow";
        NoiseSchedule schedule = flow ? RectifiedFlowSchedule.Instance : new VpLinearSchedule(0.1, 20);
        var model = new GaussianMixtureDenoiser(gmm, schedule, flow ? Prediction.FlowVelocity : Prediction.Epsilon);

        // A uniform-time grid ending at 0.05 on the noise model keeps clear of the stiff clean end; on the flow model shift 0.5
        // packs the FlowMatch sigmas towards sigma = 0, so that the asymptotic order shows above the float32 floor.
        var settings = flow
            ? new SolverSettings { FlowGrid = new FlowSigmaOptions { Shift = 0.5 } }
            : new SolverSettings();
        var solver = flow
            ? SolverRegistry.Create("ab2", ModelSpec.Of(model), steps, settings)
            : new Stork.Solvers.Standard.AdamsBashforth2(ModelSpec.Of(model), Stork.Solvers.Standard.StepGrid.Create(schedule,
                Enumerable.Range(0, steps).Select(i => 1 - (0.95 * i / steps)).ToArray(), 0.05));
        double end = flow ? 0 : 0.05;
        var start = GaussianNoise.Create(8 * gmm.Dimension, 5).Select(v => (double)v).ToArray();
        var exact = ExactOde.Trajectory(gmm, schedule, start, [solver.Times[0], end], 4000)[^1];
        var x = start.Select(v => (float)v).ToArray();
        Sampler.Run(model, solver, x);
        return Math.Sqrt(x.Select((v, k) => (v - exact[k]) * (v - exact[k])).Average());
    }
}
