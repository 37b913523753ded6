using System.Text.Json.Nodes;
using Stork.Evaluation;
using Stork.Grids;
using Stork.Pipelines;
using Stork.Solvers.Catalog;
using Stork.Tests.Cli;
using Stork.Tests.Pipelines;
using Stork.Tuning;

namespace Stork.Tests.Tuning;

/// <summary>
/// <c>stork tune --model FOLDER</c> on the shipped text-to-image model <c>models/fashion-flux</c> (FLUX.1 layout, true CFG
/// 4 by its folder defaults): the search never loses to the solver's own grid on the calibration batch, is deterministic
/// and resumable, its grid file is taken by the solver in the pipeline (given, or carried by the folder), and bad input
/// is refused with one line.
/// </summary>
public sealed class PipelineGridTunerTests
{
    private static readonly string[] Prompts = ["a dress", "a sneaker"];

    private static PipelineGridTuner Tuner(ITextToImagePipeline pipeline, string solver = "stork-4", int steps = 5) =>
        new(pipeline, SolverSpec.Parse(solver, new SolverSettings()), steps, new GenerationRequest { Prompt = "" }, "euler", 40);

    [Fact]
    public void TuningIsNeverWorseOnTheCalibrationBatchDeterministicAndResumable()
    {
        using var pipeline = TextToImage.Load(FashionFluxTests.Folder(), new PipelineOptions { KeepLoaded = true });
        var tuner = Tuner(pipeline);
        Assert.Null(tuner.Mu); // fashion-flux: no dynamic shifting
        Assert.Equal(4.0, tuner.Settings.TrueCfgScale); // the folder's guidance by default
        Assert.Equal(1.0, tuner.DefaultTimes[0]);
        var batch = new PromptBatch(Prompts, 1, 3);
        var reference = tuner.Reference(batch);
        Assert.Equal(tuner.LatentShape(batch).Aggregate(1, (a, b) => a * b), reference.Length);
        var search = tuner.Search(batch, reference);
        var options = new TuneOptions { Budget = 8, Seed = 2 };
        var start = search.Start(options);
        Assert.Equal(start.Loss, tuner.Error(null, batch, reference));
        var states = new List<TuneState>();
        var full = search.Search(options, start, states.Add);
        Assert.True(full.Loss < start.Loss, $"tuned {full.Loss:E3}, default {start.Loss:E3}");
        var grid = tuner.Grid(full);
        Assert.Equal(full.Loss, tuner.Error(grid.Times, batch, reference));
        Assert.Equal("stork-4", grid.Solver);
        Assert.Equal(5, grid.Times.Count);

        // Same seed, same grid; resumed from a state saved mid-search, the same grid again.
        var again = search.Search(options, start);
        Assert.Equal(full.Logits, again.Logits);
        var resumed = search.Search(options, states[3]);
        Assert.Equal(full.Logits, resumed.Logits);
        Assert.Equal(full.Evaluations, resumed.Evaluations);
    }

    [Fact]
    public void TheCommandWritesAGridThatGenerateTakesResumesAndRefusesBadInput()
    {
        using var h = new CliHarness();
        string prompts = h.PathOf("prompts.txt");
        File.WriteAllText(prompts, "a dress\n\na sneaker\n");
        string grid = h.PathOf("grid.json");
        string[] tune = ["tune", "--model", FashionFluxTests.Folder(), "--solver", "unipc", "--nfe", "5", "--calibration", "1", "--validation", "1",
            "--budget", "4", "--reference", "euler:20", "--prompt-file", prompts, "--out", grid];
        var (code, stdout, stderr) = h.Run(tune);
        Assert.True(code == 0, stderr);
        Assert.Contains("latent RMSE to euler x 20", stdout, StringComparison.Ordinal);
        var written = TunedGrid.Load(grid);
        Assert.Equal(5, written.Times.Count);
        Assert.Null(written.Mu);
        var json = JsonNode.Parse(File.ReadAllText(grid))!;
        Assert.True((double)json["calibration_rmse_tuned"]! <= (double)json["calibration_rmse_default"]!);
        Assert.Equal(4.0, (double)json["true_cfg_scale"]!);
        Assert.StartsWith("stork tune --model ", (string)json["command"]!, StringComparison.Ordinal);
        string first = File.ReadAllText(grid);

        // A rerun resumes from the state file and the cached reference: the same file.
        (code, _, stderr) = h.Run(tune);
        Assert.True(code == 0, stderr);
        Assert.Contains("resuming", stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("computing the reference", stderr, StringComparison.Ordinal);
        Assert.Equal(first, File.ReadAllText(grid));

        // Generate walks it, at its step count only.
        (code, _, stderr) = h.Run("generate", "--prompt", "a dress", "--scheduler", $"unipc[grid-file={grid}]", "--steps", "5", "--out", h.PathOf("a.png"));
        Assert.True(code == 0, stderr);
        (code, _, stderr) = h.Run("generate", "--prompt", "a dress", "--scheduler", $"unipc[grid-file={grid}]", "--steps", "6", "--out", h.PathOf("b.png"));
        AssertRefused(code, stderr, "5 times");
        Assert.False(File.Exists(h.PathOf("b.png")));

        // A prompt file without prompts, a reference that is not SOLVER:STEPS: one line, exit 2, no output.
        File.WriteAllText(prompts, "\n \n");
        string other = h.PathOf("other.json");
        (code, _, stderr) = h.Run([.. tune[..^4], "--prompt-file", prompts, "--out", other]);
        AssertRefused(code, stderr, "prompt");
        (code, _, stderr) = h.Run([.. tune[..^6], "--reference", "rk45:20", "--out", other]);
        AssertRefused(code, stderr, "--reference");
        (code, _, stderr) = h.Run([.. tune[..^4], "--prompt-file", h.PathOf("missing.txt"), "--out", other]);
        AssertRefused(code, stderr, "missing.txt");
        (code, _, stderr) = h.Run([.. tune[..^2], "--reference-tol", "1e-5", "--out", other]);
        AssertRefused(code, stderr, "--reference-tol");
        Assert.False(File.Exists(other));
    }

    [Fact]
    public void AFolderCarriesItsGridsAndAGridOfAnotherDynamicShiftIsRefused()
    {
        string dir = TestData.TempDir();
        try
        {
            // A copy of fashion-flux whose _stork_defaults lists a grid for stork-4 at 5 steps.
            foreach (string f in Directory.GetFiles(FashionFluxTests.Folder(), "*", SearchOption.AllDirectories))
            {
                string to = Path.Combine(dir, Path.GetRelativePath(FashionFluxTests.Folder(), f));
                Directory.CreateDirectory(Path.GetDirectoryName(to)!);
                File.Copy(f, to);
            }

            double[] times = [1.0, 0.8, 0.55, 0.3, 0.1];
            File.WriteAllText(Path.Combine(dir, "stork-4.5.grid.json"), new TunedGrid("stork-4", 5, times).ToJson());
            File.WriteAllText(Path.Combine(dir, "shifted.grid.json"), new TunedGrid("stork-4", 5, [1.0, 0.9, 0.7, 0.5, 0.2]) { Mu = 0.7 }.ToJson());
            string index = Path.Combine(dir, "model_index.json");
            var root = JsonNode.Parse(File.ReadAllText(index))!;
            root["_stork_defaults"]!["tuned_grids"] = new JsonArray("stork-4.5.grid.json", "shifted.grid.json");
            File.WriteAllText(index, root.ToJsonString());

            using var pipeline = TextToImage.Load(dir);
            GenerationResult Run(string spec, int steps) => pipeline.Generate(new GenerationRequest
            {
                Prompt = "a bag",
                Steps = steps,
                Scheduler = SchedulerChoice.Named(SolverSpec.Parse(spec, new SolverSettings()).Name, SolverSpec.Parse(spec, new SolverSettings()).Settings),
            });

            // The folder's grid (mu none, as this run) is stork-4's default at 5 steps; the mu = 0.7 one is not applied.
            Assert.Equal(times, Run("stork-4", 5).Settings.Times);
            Assert.NotEqual(times, Run("stork-4[tuned=false]", 5).Settings.Times);
            Assert.NotEqual(times, Run("unipc", 5).Settings.Times);
            Assert.Equal(6, Run("stork-4", 6).Settings.Times.Count);

            // Given explicitly, a grid tuned under another dynamic shift is refused, with one line.
            var e = Assert.Throws<ArgumentException>(() => Run($"stork-4[grid-file={Path.Combine(dir, "shifted.grid.json")}]", 5));
            Assert.Contains("mu = 0.7", e.Message, StringComparison.Ordinal);
            using var h = new CliHarness();
            var (code, _, stderr) = h.Run("generate", "--model", dir, "--prompt", "a bag", "--steps", "5",
                "--scheduler", $"stork-4[grid-file={Path.Combine(dir, "shifted.grid.json")}]", "--out", h.PathOf("x.png"));
            AssertRefused(code, stderr, "mu = 0.7");

            // A listed grid that is not there is a folder error.
            root["_stork_defaults"]!["tuned_grids"] = new JsonArray("absent.grid.json");
            File.WriteAllText(index, root.ToJsonString());
            var bad = Assert.Throws<InvalidDataException>(() => TextToImage.Load(dir));
            Assert.Contains("absent.grid.json", bad.Message, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    private static void AssertRefused(int code, string stderr, string mention)
    {
        Assert.True(code == 2, $"exit {code}: {stderr}");
        Assert.StartsWith("error: ", stderr, StringComparison.Ordinal);
        Assert.Single(stderr.TrimEnd().Split('\n'));
        Assert.Contains(mention, stderr, StringComparison.Ordinal);
    }
}
