using Stork.Evaluation;
using Stork.Grids;
using Stork.Models;
using Stork.Predictions;
using Stork.Sampling;
using Stork.Schedules;
using Stork.Solvers;
using Stork.Solvers.Catalog;
using Stork.Tuning;

namespace Stork.Tests.Tuning;

public class GridTunerTests
{
    private static GaussianMixtureDenoiser Model(NoiseSchedule schedule, Prediction prediction) =>
        new(GaussianMixture.Load(Golden.PathOf("stork", "gmm8.json")), schedule, prediction);

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void TheParametrisationIsMonotoneAndRoundTripsAGrid(bool flow)
    {
        NoiseSchedule schedule = flow ? RectifiedFlowSchedule.Instance : new VpLinearSchedule().WithTimeRange(1e-3, 1.0);
        var p = new GridParametrisation(schedule, 6);
        var rng = new Random(3);
        for (int trial = 0; trial < 50; trial++)
        {
            var z = Enumerable.Range(0, 6).Select(_ => (rng.NextDouble() - 0.5) * 8).ToArray();
            var t = p.Times(z);
            Assert.Equal(schedule.TMax, t[0]);
            for (int i = 1; i < t.Length; i++)
            {
                Assert.True(t[i] < t[i - 1] && t[i] >= schedule.TMin, $"times {string.Join(", ", t)}");
            }

            var back = p.Times(p.Logits(t));
            for (int i = 0; i < t.Length; i++)
            {
                Assert.Equal(t[i], back[i], 1e-9);
            }
        }
    }

    [Fact]
    public void TuningIsSeededReproducibleResumableAndNeverWorseOnTheCalibrationBatch()
    {
        var model = Model(new VpLinearSchedule().WithTimeRange(1e-3, 1.0), Prediction.Epsilon);
        int size = Sampler.SampleSize(model);
        var noise = GaussianNoise.Create(16 * size, 5);
        var reference = OdeError.ReferenceSolution(model, noise, 1e-8, new SolverSettings());
        var tuner = new GridTuner(model, SolverSpec.Parse("unipc", new SolverSettings()), 8);
        var options = new TuneOptions { Budget = 30, Seed = 4 };
        var start = tuner.Start(noise, reference, options);
        var states = new List<TuneState>();
        var full = tuner.Search(noise, reference, options, start, states.Add);
        Assert.True(full.Loss < start.Loss, $"tuned {full.Loss:E2}, default {start.Loss:E2}");
        Assert.Equal(full.Loss, tuner.Error(tuner.Grid(full).Times, noise, reference));

        // The same seed gives the same grid; resuming from a saved state mid-search gives it too.
        var again = tuner.Search(noise, reference, options, start);
        Assert.Equal(full.Logits, again.Logits);
        var resumed = tuner.Search(noise, reference, options, states[states.Count / 2]);
        Assert.Equal(full.Logits, resumed.Logits);
        Assert.Equal(full.Evaluations, resumed.Evaluations);
    }

    [Theory]
    [InlineData("euler")]
    [InlineData("heun")]
    [InlineData("ddim")]
    [InlineData("dpm++2m")]
    [InlineData("unipc")]
    [InlineData("deis")]
    [InlineData("stork-4")]
    [InlineData("stork-2")]
    public void EveryFixedStepSolverWalksAGivenGridOnFlowAndNoiseModels(string solver)
    {
        foreach (var (schedule, prediction) in new (NoiseSchedule, Prediction)[]
                 { (RectifiedFlowSchedule.Instance, Prediction.FlowVelocity), (new VpLinearSchedule().WithTimeRange(1e-3, 1.0), Prediction.Epsilon) })
        {
            var model = Model(schedule, prediction);
            var times = new GridParametrisation(schedule, 5).Times([0.1, -0.3, 0.2, 0.0, 0.4]);
            var s = SolverRegistry.Create(solver, ModelSpec.Of(model), 5, new SolverSettings { Times = times });
            var nodes = s is Stork.Solvers.Standard.StandardSolver standard ? standard.Grid.Times : s.Times.ToArray();
            for (int i = 1; i < 5; i++)
            {
                Assert.Equal(times[i], nodes[i]);
            }

            var x = GaussianNoise.Create(4 * Sampler.SampleSize(model), 1);
            Sampler.Run(model, s, x);
            Assert.All(x, v => Assert.True(float.IsFinite(v)));
        }
    }

    [Fact]
    public void AGridFileRoundTripsAndBadFilesAreRefused()
    {
        string dir = Path.Combine(Path.GetTempPath(), "stork-grid-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        try
        {
            var grid = new TunedGrid("stork-4", 3, [1.0, 0.5, 0.1]);
            string path = Path.Combine(dir, "g.json");
            File.WriteAllText(path, grid.ToJson(new Dictionary<string, object?> { ["note"] = "x" }));
            var back = TunedGrid.Load(path);
            Assert.Equal(grid.Solver, back.Solver);
            Assert.Equal(grid.Times, back.Times);
            File.WriteAllText(path, "{\"format\": \"stork-grid/1\", \"solver\": \"euler\", \"nfe\": 3, \"times\": [1.0, 0.5, 0.5]}");
            Assert.Throws<InvalidDataException>(() => TunedGrid.Load(path));
            var spec = ModelSpec.Of(Model(RectifiedFlowSchedule.Instance, Prediction.FlowVelocity));
            Assert.Throws<ArgumentException>(() => SolverRegistry.Create("euler", spec, 4, new SolverSettings { Times = [1.0, 0.5, 0.1] }));
            Assert.Throws<ArgumentException>(() => SolverRegistry.Create("euler", spec, 3, new SolverSettings { Times = [0.9, 0.5, 0.1] }));
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }
}
