using Stork.Pipelines;
using Stork.Tests.Cli;

namespace Stork.Tests.Pipelines;

/// <summary>
/// <see cref="SchedulerComparison"/>: every cell is the pipeline run with its own solver and step count from the request's
/// seed, and its RMSE is measured against the reference run from the same noise.
/// </summary>
public sealed class SchedulerComparisonTests
{
    public static TheoryData<string> Folders() => new()
    {
        FashionFluxTests.Folder(),
        Path.Combine(PipelineCase.Root, "models", "sd15"),
    };

    [Theory]
    [MemberData(nameof(Folders))]
    public void EachCellIsItsOwnSolverFromTheSameNoise(string folder)
    {
        using var pipeline = TextToImage.Load(folder);
        var generation = new GenerationRequest { Prompt = "an ankle boot", Seed = 11 };
        var result = SchedulerComparison.Run(pipeline, new SchedulerComparisonRequest
        {
            Generation = generation,
            Schedulers = ["euler", "stork-4"],
            Steps = [2, 3],
            ReferenceScheduler = "dpm++2m",
            ReferenceSteps = 12,
        });

        GeneratedImages Alone(string scheduler, int steps) => pipeline.Generate(generation with
        {
            Scheduler = SchedulerChoice.Named(scheduler),
            Steps = steps,
        }).Images;

        var reference = Alone("dpm++2m", 12);
        Assert.Equal(reference.Pixels, result.Reference.Images.Pixels);
        Assert.Equal(SchedulerComparison.Rmse(Alone("dpm++2m", 6).Pixels, reference.Pixels), result.ReferenceError);
        foreach (var (row, scheduler) in new[] { (0, "euler"), (1, "stork-4") })
        {
            foreach (var (column, steps) in new[] { (0, 2), (1, 3) })
            {
                var cell = result.Cells[row, column];
                var alone = Alone(scheduler, steps);
                Assert.Equal(scheduler, cell.Scheduler);
                Assert.Equal(alone.Pixels, cell.Result.Images.Pixels);
                Assert.Equal(SchedulerComparison.Rmse(alone.Pixels, reference.Pixels), cell.Rmse);
                Assert.True(cell.Rmse > 0);
            }
        }

        // The rows differ (a cell that ran the other row's solver would equal it), and so do other seeds' runs.
        Assert.NotEqual(result.Cells[0, 0].Result.Images.Pixels, result.Cells[1, 0].Result.Images.Pixels);
        Assert.NotEqual(result.Cells[0, 0].Result.Images.Pixels,
            pipeline.Generate(generation with { Seed = 12, Scheduler = SchedulerChoice.Named("euler"), Steps = 2 }).Images.Pixels);
    }

    [Fact]
    public void CompareOnAModelFolderDrawsAGridWithErrors()
    {
        using var h = new CliHarness();
        var (code, stdout, stderr) = h.Run("compare", "--model", FashionFluxTests.Folder(), "--prompt", "a sneaker", "--schedulers", "euler,stork-4",
            "--steps", "2,4", "--reference", "euler:16", "--out", h.PathOf("grid.png"));
        Assert.True(code == 0, stderr);
        Assert.Contains("RMSE", stdout);
        Assert.Contains("reference: euler 16 steps", stdout);
        Assert.True(new FileInfo(h.PathOf("grid.png")).Length > 0);

        (code, _, stderr) = h.Run("compare", "--model", FashionFluxTests.Folder(), "--out", h.PathOf("none.png"));
        Assert.Equal(2, code);
        Assert.Contains("give --prompt", stderr);
        (code, _, stderr) = h.Run("compare", "--prompt", "a bag", "--reference", "rk45:10", "--out", h.PathOf("none.png"));
        Assert.Equal(2, code);
        Assert.Contains("--reference must be SOLVER:STEPS", stderr);
        Assert.False(File.Exists(h.PathOf("none.png")));
    }
}
