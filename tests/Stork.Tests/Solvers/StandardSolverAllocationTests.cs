using Stork.Models;
using Stork.Predictions;
using Stork.Sampling;
using Stork.Schedules;
using Stork.Solvers;
using Stork.Solvers.Catalog;

namespace Stork.Tests.Solvers;

public class StandardSolverAllocationTests
{
    /// <summary>Every registered solver on flow and epsilon models (DDIM: noise models only), plus v and x0 cases.</summary>
    public static TheoryData<string, string> Solvers()
    {
        var data = new TheoryData<string, string>();
        foreach (string name in SolverRegistry.Names.Order(StringComparer.Ordinal))
        {
            if (name != "ddim")
            {
                data.Add(name, "flow");
            }

            data.Add(name, "epsilon");
        }

        data.Add("heun", "v");
        data.Add("ddim", "v");
        data.Add("dpm++3m", "sample");
        data.Add("stork-4", "v");
        return data;
    }

    /// <summary>Every registered fixed-step solver on flow and epsilon models (the reference is rk45 itself).</summary>
    public static TheoryData<string, string> FixedStepSolvers()
    {
        var data = new TheoryData<string, string>();
        foreach (var row in Solvers())
        {
            if ((string)row[0] != "rk45" && (string)row[1] is "flow" or "epsilon")
            {
                data.Add((string)row[0], (string)row[1]);
            }
        }

        return data;
    }

    /// <summary>Every registered solver converges: its error against a tight RK45 solution falls from 10 to 40 steps.</summary>
    [Theory]
    [MemberData(nameof(FixedStepSolvers))]
    public void EveryRegisteredSolverConverges(string name, string prediction)
    {
        var mixture = GaussianMixture.Load(Golden.PathOf("baselines", "gmm8.json"));
        var p = PredictionNames.Parse(prediction);
        NoiseSchedule schedule = p == Prediction.FlowVelocity ? RectifiedFlowSchedule.Instance : VpDiscreteSchedule.FromBetaSchedule("linear");
        var denoiser = new GaussianMixtureDenoiser(mixture, schedule, p);
        var spec = ModelSpec.Of(denoiser);
        float[] Solve(ISolver solver)
        {
            var x = GaussianNoise.Create(8 * mixture.Dimension, 9);
            Sampler.Run(denoiser, solver, x);
            return x;
        }

        var reference = GaussianNoise.Create(8 * mixture.Dimension, 9);
        Sampler.Integrate(denoiser, SolverRegistry.CreateIntegrator("rk45", spec, new SolverSettings { RelativeTolerance = 1e-7, AbsoluteTolerance = 1e-7 }), reference);
        double Error(int steps)
        {
            // DDIM's default clip_sample clips x0 to [-1, 1], which changes the ODE; convergence is checked without it.
            var settings = new SolverSettings { Diffusers = new Stork.Solvers.Standard.DiffusersOptions { ClipSample = false } };
            var x = Solve(SolverRegistry.Create(name, spec, steps, settings));
            return Math.Sqrt(x.Select((v, k) => (v - reference[k]) * (double)(v - reference[k])).Average());
        }

        double coarse = Error(10), fine = Error(40);
        Assert.True(fine < coarse, $"{name} on {prediction}: error {fine:E2} at 40 steps, {coarse:E2} at 10");
    }

    [Theory]
    [MemberData(nameof(Solvers))]
    public void StepsAllocateNothingOnceWarm(string name, string prediction)
    {
        var mixture = GaussianMixture.Load(Golden.PathOf("baselines", "gmm8.json"));
        var p = PredictionNames.Parse(prediction);
        NoiseSchedule schedule = p == Prediction.FlowVelocity ? RectifiedFlowSchedule.Instance : VpDiscreteSchedule.FromBetaSchedule("linear");
        var denoiser = new GaussianMixtureDenoiser(mixture, schedule, p);
        var settings = new SolverSettings { SolverOrder = name == "unipc" ? 3 : null, RelativeTolerance = 1e-4, AbsoluteTolerance = 1e-4 };
        var x = GaussianNoise.Create(4 * mixture.Dimension, 5);
        var output = new float[x.Length];
        var integrator = SolverRegistry.IsAdaptive(name) ? SolverRegistry.CreateIntegrator(name, ModelSpec.Of(denoiser), settings) : null;
        var solver = integrator is null ? SolverRegistry.Create(name, ModelSpec.Of(denoiser), 20, settings) : null;

        void RunOnce()
        {
            if (solver is null)
            {
                integrator!.Integrate(denoiser, x, null, default);
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
