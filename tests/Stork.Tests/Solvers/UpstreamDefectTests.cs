using Stork.Grids;
using Stork.Models;
using Stork.Predictions;
using Stork.Schedules;
using Stork.Solvers;
using Stork.Solvers.Stabilized;

namespace Stork.Tests.Solvers;

/// <summary>
/// The authors' STORKScheduler defects that the upstream variant reproduces and the corrected variant fixes, each shown
/// on a model simple enough to integrate by hand (docs/stork.md lists them).
/// </summary>
public class UpstreamDefectTests
{
    /// <summary>A "model" whose flow velocity is a + b t, whatever the sample.</summary>
    private sealed class LinearVelocity(double a, double b) : IDenoiser
    {
        public Prediction Prediction => Prediction.FlowVelocity;

        public NoiseSchedule Schedule => RectifiedFlowSchedule.Instance;

        public IReadOnlyList<int> SampleShape => [1];

        public void Predict(ReadOnlySpan<float> samples, double time, Span<float> output) => output.Fill((float)(a + (b * time)));
    }

    private static double StepError(StorkVariant variant, int order, int derivativeOrder, int substeps, int step)
    {
        var model = new LinearVelocity(0.4, -1.3);
        var options = new StorkOptions { Order = order, Variant = variant, Substeps = substeps, DerivativeOrder = derivativeOrder };
        var solver = StorkSolver.Create(ModelSpec.Of(model), 6, options, new FlowSigmaOptions { Shift = 3.0 });
        var x = new float[1];
        var output = new float[1];
        double error = 0;
        for (int i = 0; i <= step; i++)
        {
            double t = solver.Times[i], tn = solver.Times[i + 1];
            x[0] = 0.5f;
            model.Predict(x, t, output);
            solver.Step(output, x);
            double exact = 0.5 + (0.4 * (tn - t)) + (-1.3 * 0.5 * ((tn * tn) - (t * t)));
            error = Math.Abs(x[0] - exact);
        }

        return error;
    }

    [Fact]
    public void Rkg2_stage_times_upstream_make_stork2_first_order_on_a_velocity_linear_in_time()
    {
        // Defect 2: upstream evaluates RKG2 stage j at the Runge-Kutta-Legendre abscissa; the corrected variant is exact.
        Assert.True(StepError(StorkVariant.Upstream, 2, 1, 5, 3) > 1e-3);
        Assert.True(StepError(StorkVariant.Corrected, 2, 1, 5, 3) < 1e-6);
    }

    [Fact]
    public void Flow_startup_at_derivative_order_2_mixes_step_sizes_upstream()
    {
        // Defect 6: step 1 is x - 1.5 h1 v1 + 0.5 h0 v0 (an Adams-Bashforth form for equal steps) on unequal steps.
        Assert.True(StepError(StorkVariant.Upstream, 4, 2, 50, 1) > 1e-3);
        Assert.True(StepError(StorkVariant.Corrected, 4, 2, 50, 1) < 1e-6);
    }

    [Fact]
    public void Upstream_order_2_first_derivative_uses_the_uniform_stencil_on_non_uniform_steps()
    {
        // Defect 3: (-u2 + 4 u1 - 3 u0) / (2 h1) is exact only for equal steps; on v = t^2 with unequal steps it is not.
        double[] tau = [0.5, 0.7, 1.0];
        var rows = new[] { new double[5], new double[5], new double[5] };
        DerivativeStencil.Upstream(tau, 2, rows, 1);
        double upstream = (rows[0][1] * (tau[0] * tau[0])) + (rows[0][2] * (tau[1] * tau[1])) + (rows[0][3] * (tau[2] * tau[2]));
        Array.ForEach(rows, r => Array.Clear(r));
        DerivativeStencil.Exact(tau, 2, rows, 1);
        double exact = (rows[0][1] * (tau[0] * tau[0])) + (rows[0][2] * (tau[1] * tau[1])) + (rows[0][3] * (tau[2] * tau[2]));
        Assert.Equal(2 * tau[0], exact, 1e-12);
        Assert.True(Math.Abs(upstream - (2 * tau[0])) > 1e-2, $"upstream derivative {upstream} vs {2 * tau[0]}");
    }

    [Fact]
    public void Upstream_final_map_omits_the_division_by_alpha_on_noise_models()
    {
        // Defect 5: the last evaluation maps to x - sigma eps (upstream) instead of (x - sigma eps) / alpha.
        var schedule = VpLinearSchedule.FromDiscreteBetas(1e-4, 0.02, 1000);
        double[] final = new double[2];
        foreach (var (variant, k) in new[] { (StorkVariant.Upstream, 0), (StorkVariant.Corrected, 1) })
        {
            var options = new StorkOptions { Order = 4, Variant = variant, Substeps = 10, DerivativeOrder = 1, StoppingEps = 0.05, NoiseGrid = NoiseGrid.UniformTime };
            var solver = StorkSolver.Create(new ModelSpec(Prediction.Epsilon, schedule), 3, options);
            var x = new float[] { 0.8f };
            for (int i = 0; i < solver.Times.Count; i++)
            {
                solver.Step([0.25f], x);
            }

            final[k] = x[0];
        }

        Assert.NotEqual(final[0], final[1], 3);
    }
}
