using Stork.Grids;
using Stork.Models;
using Stork.Predictions;
using Stork.Schedules;
using Stork.Solvers;
using Stork.Solvers.Catalog;
using Stork.Solvers.Stabilized;

namespace Stork.Tests.Solvers;

/// <summary>The default flow grid of bare models (every step does work) and the corrector's contract.</summary>
public class StorkGridAndCorrectorTests
{
    private static readonly GaussianMixture Mixture = new([0.6, 0.4], [[0.5, -0.3], [-0.6, 0.4]], [0.3, 0.4]);

    private static ModelSpec Flow() => ModelSpec.Of(new GaussianMixtureDenoiser(Mixture, RectifiedFlowSchedule.Instance, Prediction.FlowVelocity));

    private static ModelSpec Eps() => ModelSpec.Of(new GaussianMixtureDenoiser(Mixture, new VpLinearSchedule(0.1, 20), Prediction.Epsilon));

    [Theory]
    [InlineData(4)]
    [InlineData(10)]
    public void CorrectedStorkOnABareFlowModelStepsThroughLinspaceOneToOneOverN(int steps)
    {
        var solver = new Stork4(Flow(), steps, new StorkOptions());
        for (int i = 0; i < steps; i++)
        {
            Assert.Equal(TimeGrid.Linspace(1.0, 1.0 / steps, steps, i), solver.Times[i], 15);
        }

        Assert.Equal(0.0, solver.TerminalTime);
    }

    [Theory]
    [InlineData(10, 1e-2)]
    [InlineData(19, 1e-2)]
    [InlineData(20, 1e-3)]
    [InlineData(50, 1e-3)]
    public void CorrectedStorkOnANoiseModelStopsAtOneHundredthBelowTwentySteps(int steps, double eps)
    {
        var solver = new Stork4(Eps(), steps, new StorkOptions());
        Assert.Equal(eps, solver.Times[^1], 12);
        var set = new Stork4(Eps(), steps, new StorkOptions { StoppingEps = 3e-3 });
        Assert.Equal(3e-3, set.Times[^1], 12);
    }

    [Fact]
    public void TheLogSnrTaylorVariableIsTheNoiseDefaultAndAnErrorOnFlowModels()
    {
        Assert.Equal(TaylorVariable.LogSnr, new StorkOptions().TaylorVariable);
        Assert.Equal(TaylorVariable.Time, new StorkOptions { Variant = StorkVariant.Upstream }.TaylorVariable);
        _ = new Stork4(Flow(), 8, new StorkOptions());
        Assert.Throws<ArgumentException>(() => new Stork4(Flow(), 8, new StorkOptions { TaylorVariable = TaylorVariable.LogSnr }));
        Assert.Equal("taylor", Assert.Throws<OptionException>(() => new StorkOptions { Variant = StorkVariant.Upstream, TaylorVariable = TaylorVariable.LogSnr }.Validate()).Key);
    }

    [Fact]
    public void TheShiftAppliesToTheStepSigmas()
    {
        var solver = new Stork4(Flow(), 5, new StorkOptions(), new FlowSigmaOptions { Shift = 3.0 });
        Assert.Equal(TimeGrid.StaticShift(0.2, 3.0), solver.Times[^1], 14);
    }

    [Fact]
    public void TrainingSigmasAndTheUpstreamVariantKeepDiffusersSchedulerGrid()
    {
        var training = new Stork4(Flow(), 10, new StorkOptions { FlowSigmas = FlowSigmaBase.TrainingSigmas });
        var upstream = new Stork4(Flow(), 10, new StorkOptions { Variant = StorkVariant.Upstream });
        Assert.Equal(1e-3, training.Times[^1], 15);
        Assert.Equal(training.Times, upstream.Times);
        Assert.Equal(FlowSigmaBase.TrainingSigmas, new StorkOptions { Variant = StorkVariant.Upstream }.FlowSigmas);
    }

    [Fact]
    public void SigmasAPipelinePassesTakePrecedence()
    {
        double[] given = [1.0, 0.7, 0.45, 0.2];
        var solver = new Stork4(Flow(), 4, new StorkOptions(), new FlowSigmaOptions { BaseSigmas = given });
        Assert.Equal(given, solver.Times);
    }

    [Fact]
    public void TheRegistryAndSpecKeysReachTheOptions()
    {
        var spec = Stork.Evaluation.SolverSpec.Parse("stork-4[corrector=true,base=training,eps=0.01]", new SolverSettings());
        var solver = (StorkSolver)SolverRegistry.Create("stork-4", Eps(), 10, spec.Settings);
        Assert.Equal(CorrectorMode.On, solver.Options.Corrector);
        Assert.Equal(FlowSigmaBase.TrainingSigmas, solver.Options.FlowSigmas);
        Assert.Equal(0.01, solver.Options.StoppingEps);
    }

    [Fact]
    public void TheCorrectorRunsFromTwentyStepsByDefaultAndIsRefusedWhereItDoesNotApply()
    {
        var options = new StorkOptions();
        Assert.Equal(CorrectorMode.Auto, options.Corrector);
        Assert.False(options.CorrectsAt(StorkOptions.AutoCorrectorSteps - 1, flowModel: true));
        Assert.True(options.CorrectsAt(StorkOptions.AutoCorrectorSteps, flowModel: true));
        Assert.False(options.CorrectsAt(50, flowModel: false));
        Assert.True((options with { Corrector = CorrectorMode.On }).CorrectsAt(5, flowModel: false));
        Assert.False((options with { DerivativeOrder = 3 }).CorrectsAt(50, flowModel: true));
        Assert.Equal(CorrectorMode.Off, new StorkOptions { Variant = StorkVariant.Upstream }.Corrector);
        Assert.Equal("corrector", Assert.Throws<OptionException>(() => new StorkOptions { Variant = StorkVariant.Upstream, Corrector = CorrectorMode.On }.Validate()).Key);
        Assert.Equal("corrector", Assert.Throws<OptionException>(() => new StorkOptions { DerivativeOrder = 3, Corrector = CorrectorMode.On }.Validate()).Key);
        new StorkOptions { DerivativeOrder = 2, Corrector = CorrectorMode.On }.Validate();
    }

    [Theory]
    [InlineData(19, 3)]
    [InlineData(20, 4)]
    public void AutoHoldsOneMoreOutputOnceTheCorrectorRuns(int steps, int buffers)
    {
        var solver = new Stork4(Flow(), steps, new StorkOptions());
        var x = new float[2];
        solver.Step(new float[2], x);
        Assert.Equal(buffers, solver.BufferCount);
    }

    /// <summary>
    /// On a flow model the corrector in PEC form is the next Adams-Bashforth order in disguise: after the start, derivative
    /// order d with the corrector walks the same predicted states as d + 1 without it (shown here for constant steps, where
    /// both are classical AB/AM: AB2 + AM3 folds to AB3). So the corrector's value is its start and its order, not extra
    /// information; the README reports both.
    /// </summary>
    [Fact]
    public void OnAFlowModelTheCorrectorFoldsIntoTheNextAdamsBashforthOrder()
    {
        var model = Flow();
        var corrected = new Stork4(model, 12, new StorkOptions { DerivativeOrder = 1, Corrector = CorrectorMode.On });
        var higher = new Stork4(model, 12, new StorkOptions { DerivativeOrder = 2, Corrector = CorrectorMode.Off });
        var outputs = Enumerable.Range(0, 12).Select(i => new[] { (float)Math.Sin(i), (float)Math.Cos(0.3 * i) }).ToArray();
        float[] a = [0.1f, -0.2f], b = [0.1f, -0.2f];
        var da = new List<float>();
        var db = new List<float>();
        for (int i = 0; i < 12; i++)
        {
            float[] before = [a[0], b[0]];
            corrected.Step(outputs[i], a);
            higher.Step(outputs[i], b);
            da.Add(a[0] - before[0]);
            db.Add(b[0] - before[1]);
        }

        // From step 3 on (both histories full) the increments agree: the same linear multistep method.
        for (int i = 3; i < 12; i++)
        {
            Assert.Equal(db[i], da[i], 5);
        }

        Assert.NotEqual(db[1], da[1], 5);
        Assert.Equal(3, corrected.BufferCount); // d + 2 stored outputs
    }

    /// <summary>
    /// Flow path with <see cref="StorkOptions.LowerOrderFinal"/>: the earlier steps are unchanged and the last one returns
    /// the data prediction at the last evaluation, x - sigma v on rectified flow (as the diffusers solvers end); without
    /// it the last step integrates to sigma 0 with the Taylor-extrapolated velocity, which differs. With the corrector
    /// the prediction is taken from the corrected sample (the correction of the step before is small, not zero).
    /// </summary>
    [Theory]
    [InlineData(8, CorrectorMode.Off)]
    [InlineData(20, CorrectorMode.Off)]
    [InlineData(20, CorrectorMode.On)]
    public void OnAFlowModelTheLowerOrderFinalStepReturnsTheDataPrediction(int steps, CorrectorMode corrector)
    {
        var denoiser = new GaussianMixtureDenoiser(Mixture, RectifiedFlowSchedule.Instance, Prediction.FlowVelocity);
        var model = ModelSpec.Of(denoiser);
        var final = new Stork4(model, steps, new StorkOptions { LowerOrderFinal = true, Corrector = corrector });
        var plain = new Stork4(model, steps, new StorkOptions { Corrector = corrector });
        float[] a = [0.9f, -1.1f, 0.3f, 0.2f], b = (float[])a.Clone(), v = new float[4];
        for (int i = 0; i < steps - 1; i++)
        {
            denoiser.Predict(a, final.Times[i], v);
            plain.Step(v, b);
            final.Step(v, a);
            Assert.Equal(b, a);
        }

        double sigma = final.Times[^1];
        denoiser.Predict(a, sigma, v);
        var dataPrediction = a.Select((x, j) => x - (sigma * v[j])).ToArray();
        plain.Step(v, b);
        final.Step(v, a);
        Assert.NotEqual(b, a);
        for (int j = 0; j < 4; j++)
        {
            if (corrector == CorrectorMode.Off)
            {
                Assert.Equal(dataPrediction[j], a[j], 5);
            }
            else
            {
                Assert.NotEqual(dataPrediction[j], a[j], 6);
                Assert.Equal(dataPrediction[j], a[j], 1);
            }
        }
    }
}
