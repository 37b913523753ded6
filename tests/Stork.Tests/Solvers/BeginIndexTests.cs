using Stork.Grids;
using Stork.Models;
using Stork.Predictions;
using Stork.Sampling;
using Stork.Schedules;
using Stork.Solvers;
using Stork.Solvers.Catalog;
using Stork.Solvers.Stabilized;
using Stork.Solvers.Standard;

namespace Stork.Tests.Solvers;

/// <summary>
/// <see cref="ISolver.Reset(int)"/>, diffusers' <c>set_begin_index</c> for image-to-image: a solver started inside its
/// grid steps exactly as a fresh solver on the rest of the grid (warm-up and start-up from that step on).
/// </summary>
public class BeginIndexTests
{
    private static readonly GaussianMixture Gmm = new(
        [0.5, 0.3, 0.2],
        [[0.5, -0.3, 0.8], [-0.6, 0.4, 0.1], [0.2, 0.9, -0.7]],
        [0.3, 0.4, 0.25]);

    private static float[] Run(ISolver solver, GaussianMixtureDenoiser model, float[] start, int begin)
    {
        var x = (float[])start.Clone();
        var output = new float[x.Length];
        solver.Reset(begin);
        for (int i = begin; i < solver.Times.Count; i++)
        {
            Assert.Equal(i, solver.StepIndex);
            model.Predict(x, solver.Times[i], output);
            solver.Step(output, x);
        }

        return x;
    }

    private static float[] Start(int n) => GaussianNoise.Create(n, 3);

    [Theory]
    [InlineData("stork-4", 2)]
    [InlineData("stork-2", 1)]
    [InlineData("stork-4", 3)]
    public void StorkFromABeginIndexIsStorkOnTheRestOfThePipelineSigmas(string name, int derivativeOrder)
    {
        const int steps = 10, begin = 4;
        var model = new GaussianMixtureDenoiser(Gmm, RectifiedFlowSchedule.Instance, Prediction.FlowVelocity);
        var spec = ModelSpec.Of(model);
        var baseSigmas = TimeGrid.PipelineSigmas(steps);
        var settings = new SolverSettings { DerivativeOrder = derivativeOrder, FlowGrid = new FlowSigmaOptions { Shift = 3.0, BaseSigmas = baseSigmas } };
        var full = SolverRegistry.Create(name, spec, steps, settings);
        var tail = SolverRegistry.Create(name, spec, steps - begin, settings with { FlowGrid = settings.FlowGrid with { BaseSigmas = baseSigmas[begin..] } });
        Assert.Equal(full.Times.Skip(begin), tail.Times);
        var start = Start(8 * Gmm.Dimension);
        Assert.Equal(Run(tail, model, start, 0), Run(full, model, start, begin));

        // Started from 0 again, the solver is the full-grid one (the start-up plans are made again).
        var again = SolverRegistry.Create(name, spec, steps, settings);
        Assert.Equal(Run(again, model, start, 0), Run(full, model, start, 0));
    }

    [Theory]
    [InlineData("dpm++2m")]
    [InlineData("dpm++3m")]
    [InlineData("unipc")]
    [InlineData("deis")]
    public void MultistepSolversWarmUpAgainAtTheBeginIndex(string name)
    {
        const int steps = 12, begin = 5;
        var schedule = new VpLinearSchedule(0.1, 20);
        var model = new GaussianMixtureDenoiser(Gmm, schedule, Prediction.Epsilon);
        var spec = ModelSpec.Of(model);
        var full = (StandardSolver)SolverRegistry.Create(name, spec, steps, new SolverSettings());
        var g = full.Grid;
        var tailGrid = StepGrid.FromNodes(g.Times[begin..], g.Alpha[begin..], g.Sigma[begin..], g.EndAlpha[^1], g.EndSigma[^1]);
        ISolver tail = full switch
        {
            DpmSolverPlusPlus d => new DpmSolverPlusPlus(spec, tailGrid, d.Order, new DiffusersOptions { LowerOrderFinal = true }),
            UniPcSolver => new UniPcSolver(spec, tailGrid, 2, UniPcVariant.Bh2, new DiffusersOptions { LowerOrderFinal = true }),
            _ => new DeisSolver(spec, tailGrid, 2, lowerOrderFinal: true),
        };
        var start = Start(8 * Gmm.Dimension);
        var a = Run(tail, model, start, 0);
        var b = Run(full, model, start, begin);
        Assert.Equal(a, b);
        Assert.Equal(begin, full.BeginIndex);
    }

    [Fact]
    public void BeginIndexOutsideTheGridIsRefused()
    {
        var model = new GaussianMixtureDenoiser(Gmm, RectifiedFlowSchedule.Instance, Prediction.FlowVelocity);
        var euler = SolverRegistry.Create("euler", ModelSpec.Of(model), 4, new SolverSettings());
        Assert.Throws<ArgumentOutOfRangeException>(() => euler.Reset(4));
        Assert.Throws<ArgumentOutOfRangeException>(() => euler.Reset(-1));
        var stork = SolverRegistry.Create("stork-4", ModelSpec.Of(model), 4, new SolverSettings());
        Assert.Throws<ArgumentOutOfRangeException>(() => stork.Reset(4));
    }
}
