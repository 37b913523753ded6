using System.Text.Json.Nodes;
using Stork.Models;
using Stork.Onnx;
using Stork.Predictions;
using Stork.Schedules;
using Stork.Solvers;
using Stork.Solvers.Catalog;
using Stork.Solvers.Stabilized;
using Stork.Solvers.Standard;

namespace Stork.Tests.Solvers;

/// <summary>
/// A model card's <c>solver_options</c>: per solver, spec options that become that solver's defaults on the model where
/// the settings leave them unset; explicit settings and <c>tuned=false</c> win; bad entries are card errors.
/// </summary>
public class ModelSolverOptionsTests
{
    private static readonly GaussianMixture Mixture = new([0.6, 0.4], [[0.5, -0.3], [-0.6, 0.4]], [0.3, 0.4]);

    private static ModelSpec Eps(Dictionary<string, string> options) =>
        ModelSpec.Of(new GaussianMixtureDenoiser(Mixture, new VpLinearSchedule(0.1, 20), Prediction.Epsilon)) with { SolverOptions = options };

    [Fact]
    public void CarriedOptionsAreDefaultsThatExplicitSettingsAndTunedFalseOverride()
    {
        var model = Eps(new() { ["STORK-4"] = "stopping-eps=0.05" });
        var carried = (StorkSolver)SolverRegistry.Create("stork-4", model, 10, new SolverSettings());
        Assert.Equal(0.05, carried.Times[^1], 12);
        var explicitly = (StorkSolver)SolverRegistry.Create("stork-4", model, 10, new SolverSettings { StoppingEps = 0.02 });
        Assert.Equal(0.02, explicitly.Times[^1], 12);
        var untuned = (StorkSolver)SolverRegistry.Create("stork-4", model, 10, new SolverSettings { UseModelGrids = false });
        Assert.Equal(1e-2, untuned.Times[^1], 12);
        var other = (StorkSolver)SolverRegistry.Create("stork-2", model, 10, new SolverSettings());
        Assert.Equal(1e-2, other.Times[^1], 12);
    }

    [Fact]
    public void AnEntryForAStepCountComesFirstAtThatCountAndTheSolversEntryFillsTheRest()
    {
        var model = Eps(new() { ["stork-4"] = "stopping-eps=0.05,predict-x0=true", ["stork-4@20"] = "stopping-eps=0.03,corrector=on" });
        var at10 = (StorkSolver)SolverRegistry.Create("stork-4", model, 10, new SolverSettings());
        Assert.Equal(0.05, at10.Times[^1], 12);
        Assert.True(at10.Options.DataPrediction);
        Assert.Equal(CorrectorMode.Auto, at10.Options.Corrector);
        var at20 = (StorkSolver)SolverRegistry.Create("stork-4", model, 20, new SolverSettings());
        Assert.Equal(0.03, at20.Times[^1], 12);
        Assert.True(at20.Options.DataPrediction);
        Assert.Equal(CorrectorMode.On, at20.Options.Corrector);
        var explicitly = (StorkSolver)SolverRegistry.Create("stork-4", model, 20, new SolverSettings { StoppingEps = 0.02 });
        Assert.Equal(0.02, explicitly.Times[^1], 12);
        Assert.Equal(CorrectorMode.On, explicitly.Options.Corrector);
        var untuned = (StorkSolver)SolverRegistry.Create("stork-4", model, 20, new SolverSettings { UseModelGrids = false });
        Assert.Equal(1e-3, untuned.Times[^1], 12);
        Assert.Equal(CorrectorMode.Auto, untuned.Options.Corrector);
        var alone = Eps(new() { ["STORK-4@20"] = "stopping-eps=0.03" });
        Assert.Equal(0.03, ((StorkSolver)SolverRegistry.Create("stork-4", alone, 20, new SolverSettings())).Times[^1], 12);
        Assert.Equal(1e-2, ((StorkSolver)SolverRegistry.Create("stork-4", alone, 19, new SolverSettings())).Times[^1], 12);
    }

    [Fact]
    public void ACarriedGridHoldsWhereTheSettingsLeaveTheSolversOwn()
    {
        var model = Eps(new() { ["stork-4@20"] = "grid=uniform-time,d=1" });
        var carried = (StorkSolver)SolverRegistry.Create("stork-4", model, 20, new SolverSettings());
        Assert.Equal(NoiseGrid.UniformTime, carried.Options.NoiseGrid);
        Assert.Equal(1, carried.Options.DerivativeOrder);
        double step = carried.Times[0] - carried.Times[1];
        Assert.All(Enumerable.Range(1, carried.Times.Count - 1), i => Assert.Equal(step, carried.Times[i - 1] - carried.Times[i], 9));
        var explicitly = (StorkSolver)SolverRegistry.Create("stork-4", model, 20, new SolverSettings { Grid = GridKind.LogSnr });
        Assert.Equal(NoiseGrid.LogSnr, explicitly.Options.NoiseGrid);
        Assert.Equal(NoiseGrid.LogSnr, ((StorkSolver)SolverRegistry.Create("stork-4", model, 10, new SolverSettings())).Options.NoiseGrid);
    }

    [Theory]
    [InlineData("stork-4", "stork-4", null)]
    [InlineData("stork-4@20", "stork-4", 20)]
    [InlineData("dpm++2m@1", "dpm++2m", 1)]
    public void AKeyNamesTheSolverAndOptionallyAStepCount(string key, string solver, int? steps) =>
        Assert.Equal((solver, steps), SolverRegistry.SplitOptionsKey(key));

    [Fact]
    public void TheShippedFlowCardCarriesLowerOrderFinalForStorkAndItsChoiceAtTwentySteps()
    {
        var card = ModelCard.Load(TestData.Shipped("fashion-flow-unet.json"));
        var model = new ModelSpec(Prediction.FlowVelocity, card.NoiseSchedule) { SolverOptions = card.SolverOptions };
        Assert.True(((StorkSolver)SolverRegistry.Create("stork-4", model, 20, new SolverSettings())).Options.LowerOrderFinal);
        Assert.False(((StorkSolver)SolverRegistry.Create("stork-4", model, 20, new SolverSettings { UseModelGrids = false })).Options.LowerOrderFinal);

        // At 20 steps (README, round five): derivative order 1 and no corrector; other step counts keep the library's.
        var at20 = (StorkSolver)SolverRegistry.Create("stork-4", model, 20, new SolverSettings());
        Assert.Equal((1, CorrectorMode.Off), (at20.Options.DerivativeOrder, at20.Options.Corrector));
        var at10 = (StorkSolver)SolverRegistry.Create("stork-4", model, 10, new SolverSettings());
        Assert.Equal((2, CorrectorMode.Auto), (at10.Options.DerivativeOrder, at10.Options.Corrector));
    }

    [Fact]
    public void TheShippedEpsilonCardRunsStorkOnTheDataPredictionStopsItAtFiveHundredthsAndStepsUniformlyAtTwenty()
    {
        var card = ModelCard.Load(TestData.Shipped("fashion-eps-unet.json"));
        var model = new ModelSpec(Prediction.Epsilon, card.NoiseSchedule) { SolverOptions = card.SolverOptions, TunedGrids = card.TunedGrids };
        foreach (int steps in new[] { 5, 10, 20 })
        {
            var stork = (StorkSolver)SolverRegistry.Create("stork-4", model, steps, new SolverSettings());
            Assert.Equal(0.05, stork.Times[^1], 12);
            Assert.True(stork.Options.DataPrediction);
        }

        // At 20 steps (README, round five): uniform in time and derivative order 1; other step counts keep log-SNR and 2.
        var at20 = (StorkSolver)SolverRegistry.Create("stork-4", model, 20, new SolverSettings());
        Assert.Equal((NoiseGrid.UniformTime, 1), (at20.Options.NoiseGrid, at20.Options.DerivativeOrder));
        var at10 = (StorkSolver)SolverRegistry.Create("stork-4", model, 10, new SolverSettings());
        Assert.Equal((NoiseGrid.LogSnr, 2), (at10.Options.NoiseGrid, at10.Options.DerivativeOrder));

        var untuned = (StorkSolver)SolverRegistry.Create("stork-4", model, 20, new SolverSettings { UseModelGrids = false });
        Assert.Equal(1e-3, untuned.Times[^1], 12);
        Assert.False(untuned.Options.DataPrediction);
        Assert.Equal(NoiseGrid.LogSnr, untuned.Options.NoiseGrid);
        Assert.DoesNotContain(card.TunedGrids, g => g.Solver == "stork-4");
    }

    [Theory]
    [InlineData("{\"nosuch\": \"s=3\"}", "nosuch")]
    [InlineData("{\"stork-4\": \"nosuch=3\"}", "nosuch")]
    [InlineData("{\"stork-4\": \"stopping-eps=0.05\"}", "flow")]
    [InlineData("{\"stork-4\": \"substeps=7\"}", "substeps")]
    [InlineData("{\"stork-4\": 3}", "solver_options")]
    [InlineData("{\"stork-4@0\": \"lower-order-final=true\"}", "step count")]
    [InlineData("{\"stork-4@ten\": \"lower-order-final=true\"}", "step count")]
    [InlineData("{\"stork-4@+2\": \"lower-order-final=true\"}", "step count")]
    [InlineData("{\"stork-4@020\": \"lower-order-final=true\"}", "step count")]
    [InlineData("{\"nosuch@20\": \"s=3\"}", "nosuch")]
    [InlineData("{\"stork-4@20\": \"stopping-eps=0.05\"}", "flow")]
    public void ABadEntryIsACardError(string options, string expected)
    {
        using var h = new Cli.CliHarness();
        string models = Path.GetDirectoryName(TestData.Shipped("fashion-flow-unet.json"))!;
        var json = JsonNode.Parse(File.ReadAllText(Path.Combine(models, "fashion-flow-unet.json")))!.AsObject();
        json["onnx"] = Path.Combine(models, "fashion-flow-unet.onnx");
        json.Remove("tuned_grids");
        json.Remove("fixture");
        json["solver_options"] = JsonNode.Parse(options);
        string path = h.PathOf("card.json");
        File.WriteAllText(path, json.ToJsonString());
        var e = Assert.Throws<InvalidDataException>(() => ModelCard.Load(path));
        Assert.Contains(expected, e.Message, StringComparison.OrdinalIgnoreCase);
    }
}
