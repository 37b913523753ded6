using Stork.Models;
using Stork.Predictions;
using Stork.Sampling;
using Stork.Schedules;
using Stork.Solvers;
using Stork.Solvers.Catalog;
using Stork.Solvers.Stabilized;

namespace Stork.Tests.Solvers;

/// <summary>One way to build a solver: the registry and the constructors with default options give the same solver.</summary>
public class SolverConstructionTests
{
    [Theory]
    [InlineData(2, "flow")]
    [InlineData(4, "flow")]
    [InlineData(4, "eps")]
    [InlineData(2, "eps")]
    public void Default_options_and_the_registry_build_the_same_stork(int order, string kind)
    {
        var mixture = GaussianMixture.Load(Golden.PathOf("stork", "gmm8.json"));
        bool flow = kind == "flow";
        NoiseSchedule schedule = flow ? RectifiedFlowSchedule.Instance : VpLinearSchedule.FromDiscreteBetas(1e-4, 0.02, 1000);
        var model = new GaussianMixtureDenoiser(mixture, schedule, flow ? Prediction.FlowVelocity : Prediction.Epsilon);
        var spec = ModelSpec.Of(model);
        ISolver direct = order == 2 ? new Stork2(spec, 10, new StorkOptions { Order = 2 }) : new Stork4(spec, 10, new StorkOptions());
        ISolver registry = SolverRegistry.Create($"stork-{order}", spec, 10, new SolverSettings());
        Assert.Equal(registry.Times, direct.Times);
        var a = GaussianNoise.Create(4 * 8, seed: 5);
        var b = (float[])a.Clone();
        Sampler.Run(model, direct, a);
        Sampler.Run(model, registry, b);
        Assert.Equal(b, a);
        var options = ((StorkSolver)direct).Options;
        Assert.Equal((StorkVariant.Corrected, 2), (options.Variant, options.DerivativeOrder));
    }

    [Fact]
    public void Choosing_upstream_switches_the_unset_defaults_to_the_authors()
    {
        var upstream = new StorkOptions { Variant = StorkVariant.Upstream };
        Assert.Equal((1, 1e-2, NoiseGrid.UniformTime), (upstream.DerivativeOrder, upstream.StoppingEps, upstream.NoiseGrid));
        var explicitOrder = new StorkOptions { Variant = StorkVariant.Upstream, DerivativeOrder = 2 };
        Assert.Equal(2, explicitOrder.DerivativeOrder);
        var corrected = new StorkOptions();
        Assert.Equal((2, 1e-3, NoiseGrid.LogSnr), (corrected.DerivativeOrder, corrected.StoppingEps, corrected.NoiseGrid));
    }
}
