using Stork.Pipelines;
using Stork.Solvers;
using Stork.Solvers.Catalog;
using Stork.Solvers.Stabilized;

namespace Stork.Tests.Pipelines;

/// <summary>The solver a flow pipeline builds: its sigmas, and STORK's pipeline default (derivative order 1, measured).</summary>
public sealed class PipelineSchedulerTests
{
    private static string SchedulerConfig => Path.Combine(PipelineCase.Root, "models", "flux-dev", "scheduler", "scheduler_config.json");

    [Fact]
    public void Stork_in_a_flow_pipeline_defaults_to_derivative_order_1_and_keeps_an_explicit_order()
    {
        var byDefault = (StorkSolver)PipelineScheduler.Resolve(SchedulerConfig, SchedulerChoice.Named("stork-4"), 8, SchedulerKind.FlowPipelineSigmas, 48).Solver;
        Assert.Equal((StorkVariant.Corrected, 1), (byDefault.Options.Variant, byDefault.Options.DerivativeOrder));
        var explicitOrder = (StorkSolver)PipelineScheduler.Resolve(SchedulerConfig, SchedulerChoice.Named("stork-4", new SolverSettings { DerivativeOrder = 2 }), 8, SchedulerKind.FlowPipelineSigmas, 48).Solver;
        Assert.Equal(2, explicitOrder.Options.DerivativeOrder);
    }

    [Fact]
    public void The_pipeline_sigmas_are_linspace_1_to_1_over_n_with_mu_from_the_sequence_length()
    {
        var resolved = PipelineScheduler.Resolve(SchedulerConfig, SchedulerChoice.Named("euler"), 4, SchedulerKind.FlowPipelineSigmas, 48);
        double mu = resolved.Mu!.Value;
        Assert.Equal(0.5 + ((48 - 256) * (1.15 - 0.5) / (4096 - 256)), mu, 12);
        double[] expected = [1.0, 0.75, 0.5, 0.25];
        for (int i = 0; i < 4; i++)
        {
            double s = expected[i];
            Assert.Equal(Math.Exp(mu) / (Math.Exp(mu) + ((1 / s) - 1)), resolved.Solver.Times[i], 12);
        }
    }
}
