using System.Globalization;
using System.Text.Json;
using Stork.Imaging;
using Stork.IO;
using Stork.Pipelines;
using Stork.Tests.Pipelines;

namespace Stork.Tests.Cli;

/// <summary>
/// Issue 22, the rest of "where we stand": metadata that reproduces a run (every resolved solver option, sigmas or
/// timesteps by name, model hashes, versions) and <c>--from-metadata</c>; checks before work (an unwritable output,
/// stepwise images only on success); help built from the family table and the registry; progress with a loading stage
/// and live warnings; JSONL batches; the async API.
/// </summary>
public sealed class ReproducibleRunTests
{
    private static string Models => Path.GetDirectoryName(PipelineCase.Load("flux-schnell-euler-n4").ModelFolder)!;

    private static string Model(string name) => Path.Combine(Models, name);

    private static JsonElement Run0(string json) => JsonDocument.Parse(File.ReadAllText(json)).RootElement.GetProperty("runs")[0];

    [Fact]
    public void From_metadata_regenerates_the_same_bytes_from_the_png_and_the_json_and_an_override_changes_only_itself()
    {
        using var h = new CliHarness();
        string png = h.PathOf("md.png");
        var first = h.Run("generate", "--model", Model("flux-dev"), "--prompt", "a fox", "--height", "32", "--width", "32", "--steps", "4",
            "--scheduler", "stork-4", "--derivative-order", "2", "--substeps", "10", "--corrector", "on", "--seed", "7", "--out", png, "--metadata");
        Assert.True(first.Code == 0, first.Err);
        foreach (var (source, alias) in new[] { (png, "--from-metadata"), (h.PathOf("md.json"), "--config-from-metadata") })
        {
            string again = h.PathOf("again.png");
            var (code, _, err) = h.Run("generate", alias, source, "--out", again);
            Assert.True(code == 0, err);
            Assert.Equal(File.ReadAllBytes(png), File.ReadAllBytes(again));
        }

        var over = h.Run("generate", "--from-metadata", png, "--steps", "3", "--out", h.PathOf("three.png"), "--metadata");
        Assert.True(over.Code == 0, over.Err);
        var a = Run0(h.PathOf("md.json"));
        var b = Run0(h.PathOf("three.json"));
        var differ = a.EnumerateObject().Where(p => p.Name != "timings_seconds" && p.Value.GetRawText() != b.GetProperty(p.Name).GetRawText()).Select(p => p.Name);
        Assert.Equal(["steps", "sigmas"], differ);
    }

    [Fact]
    public void Metadata_records_every_resolved_solver_option_so_different_runs_differ()
    {
        using var h = new CliHarness();
        string[] common = ["generate", "--model", Model("flux-dev"), "--prompt", "a fox", "--height", "32", "--width", "32", "--steps", "4", "--scheduler", "stork-4", "--metadata"];
        Assert.Equal(0, h.Run([.. common, "--out", h.PathOf("d1.png")]).Code);
        Assert.Equal(0, h.Run([.. common, "--derivative-order", "2", "--out", h.PathOf("d2.png")]).Code);
        var d1 = Run0(h.PathOf("d1.json")).GetProperty("solver_options");
        var d2 = Run0(h.PathOf("d2.json")).GetProperty("solver_options");
        Assert.Equal("1", d1.GetProperty("derivative-order").GetString());
        Assert.Equal("2", d2.GetProperty("derivative-order").GetString());
        foreach (string key in new[] { "stork-variant", "substeps", "corrector", "grid", "shift" })
        {
            Assert.True(d1.TryGetProperty(key, out _), key);
        }

        var text = PngText.Read(File.ReadAllBytes(h.PathOf("d2.png"))).ToDictionary(p => p.Key, p => p.Value);
        Assert.Contains("derivative-order=2", text["solver"], StringComparison.Ordinal);
        Assert.Contains("ONNX Runtime", text["software"], StringComparison.Ordinal);
        var run = Run0(h.PathOf("d1.json"));
        Assert.StartsWith("sha256:", run.GetProperty("model_sha256").GetProperty("transformer/model.onnx").GetString(), StringComparison.Ordinal);
        Assert.False(string.IsNullOrEmpty(run.GetProperty("versions").GetProperty("onnx_runtime").GetString()));
    }

    [Theory]
    [InlineData("flux-schnell", "sigmas")]
    [InlineData("sd3", "timesteps")]
    [InlineData("sd15", "timesteps")]
    public void Times_are_named_by_what_they_are(string model, string name)
    {
        using var h = new CliHarness();
        var (code, _, err) = h.Run("generate", "--model", Model(model), "--prompt", "a fox", "--steps", "3", "--scheduler", "euler",
            "--height", "64", "--width", "64", "--out", h.PathOf("x.png"), "--metadata");
        Assert.True(code == 0, err);
        var run = Run0(h.PathOf("x.json"));
        Assert.True(run.TryGetProperty(name, out var times), name);
        Assert.False(run.TryGetProperty(name == "sigmas" ? "timesteps" : "sigmas", out _));
        // Sigmas of a flow model start at 1; timesteps near the training steps (1000).
        Assert.Equal(name == "sigmas", times[0].GetDouble() <= 1.0);
    }

    [Fact]
    public void An_unwritable_output_folder_fails_before_any_model_is_opened_without_internal_names()
    {
        if (!Directory.Exists("/sys/kernel"))
        {
            return; // a read-only file system (sysfs), unwritable even as root
        }

        using var h = new CliHarness();
        var (code, _, err) = h.Run("generate", "--model", h.PathOf("no-such-model"), "--prompt", "a coat", "--out", "/sys/kernel/x.png");
        Assert.Equal(2, code);
        Assert.Single(err.Trim().Split('\n'));
        Assert.Contains("--out '/sys/kernel/x.png'", err, StringComparison.Ordinal);
        Assert.DoesNotContain("model", err.Replace("--model", "", StringComparison.Ordinal), StringComparison.Ordinal);
        Assert.DoesNotContain(".tmp", err, StringComparison.Ordinal);
        Assert.DoesNotContain("stork-write-check", err, StringComparison.Ordinal);

        var steps = h.Run("generate", "--model", h.PathOf("no-such-model"), "--prompt", "a coat", "--out", h.PathOf("x.png"), "--stepwise-dir", "/sys/kernel/steps");
        Assert.Equal(2, steps.Code);
        Assert.Contains("--stepwise-dir", steps.Err, StringComparison.Ordinal);
    }

    [Fact]
    public void Stepwise_images_appear_only_when_the_run_succeeds()
    {
        var c = PipelineCase.Load("flux-schnell-euler-n4");
        using var h = new CliHarness();
        // Latents so large that the first step overflows: the run fails after the first step's preview.
        var latents = NpyFile.Read(c.File("latents.npy"));
        string huge = h.PathOf("huge.npy");
        NpyFile.Write(huge, latents.Shape, latents.Data.Select(v => (float)(v * 3e38)).ToArray());
        string[] args = ["generate", "--model", c.ModelFolder, "--prompt", c.Prompt, "--steps", "4", "--height", c.Int("height").ToString(CultureInfo.InvariantCulture),
            "--width", c.Int("width").ToString(CultureInfo.InvariantCulture), "--stepwise-dir", h.PathOf("steps"), "--out", h.PathOf("x.png")];
        var failed = h.Run([.. args, "--latents", huge]);
        Assert.Equal(2, failed.Code);
        Assert.Contains("non-finite", failed.Err, StringComparison.Ordinal);
        Assert.False(Directory.Exists(h.PathOf("steps")));
        Assert.False(File.Exists(h.PathOf("x.png")));

        var ok = h.Run([.. args, "--latents", c.File("latents.npy")]);
        Assert.True(ok.Code == 0, ok.Err);
        Assert.Equal(4, Directory.GetFiles(h.PathOf("steps"), "step-*.png").Length);
    }

    [Fact]
    public void Generate_help_is_built_from_the_family_table_and_the_registry()
    {
        using var h = new CliHarness();
        var (_, help, _) = h.Run("generate", "--help");
        string flat = string.Join(' ', help.Split((char[])['\n', '\r', ' '], StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains("Qwen-Image", flat, StringComparison.Ordinal);
        Assert.Contains("Qwen-Image 1024", flat, StringComparison.Ordinal);
        Assert.Contains("1 on flow models", flat, StringComparison.Ordinal);
        Assert.DoesNotContain("not measured under guidance", flat, StringComparison.Ordinal);
        Assert.DoesNotContain("at most 512)", flat, StringComparison.Ordinal);
        Assert.Contains(PipelineHelp.Scheduler, flat, StringComparison.Ordinal);
        Assert.DoesNotContain("rk45", PipelineHelp.Scheduler, StringComparison.Ordinal);
        foreach (var f in PipelineHelp.Families)
        {
            Assert.Contains(f.Name, flat, StringComparison.Ordinal);
        }
    }

    /// <summary>The help's table against the code: a folder of each family, its defaults and limits.</summary>
    [Theory]
    [InlineData("flux-dev", "FLUX.1-dev")]
    [InlineData("flux-schnell", "FLUX.1-schnell")]
    [InlineData("sd3", "SD3/3.5")]
    [InlineData("sd15", "SD1.5/2.x")]
    [InlineData("sdxl", "SDXL")]
    [InlineData("qwen-image", "Qwen-Image")]
    public void The_help_table_is_what_each_family_uses(string folder, string name)
    {
        var info = PipelineHelp.Families.Single(f => f.Name == name);
        using var pipeline = (TextToImagePipeline)TextToImage.Load(Model(folder));
        var family = pipeline.Family;
        var d = family.Defaults;
        Assert.Equal((info.Steps, info.GuidanceScale, info.TrueCfgScale, info.MaxSequenceLength), (d.Steps, d.GuidanceScale, d.TrueCfgScale, d.MaxSequenceLength));
        Assert.Equal(info.MaxSequenceLimit, family.MaxSequenceLimit);
        Assert.Equal(info.FlowModel, family.Scheduler != SchedulerKind.DiscreteVp);
        Assert.Equal(info.SizeMultiple, (family.VaeScale == 8 ? family.SizeMultiple : family.PatchSize * 8));
    }

    [Fact]
    public void A_jsonl_batch_runs_each_line_with_its_settings_and_a_bad_line_is_one_error_with_no_output()
    {
        using var h = new CliHarness();
        string batch = h.PathOf("b.jsonl");
        File.WriteAllLines(batch,
        [
            "{\"prompt\": \"a coat\", \"seed\": 3, \"steps\": 2, \"out\": \"" + h.PathOf("coat.png").Replace("\\", "\\\\", StringComparison.Ordinal) + "\"}",
            "",
            "{\"prompt\": \"a bag\", \"num_inference_steps\": 3, \"scheduler\": \"stork-2\", \"count\": 2}",
        ]);
        var (code, _, err) = h.Run("generate", "--batch-file", batch, "--out", h.PathOf("b.png"), "--metadata");
        Assert.True(code == 0, err);
        Assert.True(File.Exists(h.PathOf("coat.png")));
        Assert.True(File.Exists(h.PathOf("b-3-0.png")) && File.Exists(h.PathOf("b-3-1.png")));
        var runs = JsonDocument.Parse(File.ReadAllText(h.PathOf("b.json"))).RootElement.GetProperty("runs");
        Assert.Equal((3, 2), (runs[0].GetProperty("seed").GetInt32(), runs[0].GetProperty("steps").GetInt32()));
        Assert.Equal(("stork-2", 3), (runs[1].GetProperty("solver").GetString(), runs[1].GetProperty("steps").GetInt32()));

        // The same line alone gives the same bytes: a batch line is an ordinary run.
        var alone = h.Run("generate", "--prompt", "a coat", "--seed", "3", "--steps", "2", "--out", h.PathOf("alone.png"));
        Assert.True(alone.Code == 0, alone.Err);
        Assert.Equal(ImageFile.Read(h.PathOf("coat.png")).Pixels, ImageFile.Read(h.PathOf("alone.png")).Pixels);

        foreach (var (bad, expected) in new[]
        {
            ("{\"prompt\": \"x\", \"steps\": 0}", "line 2"),
            ("{\"prompt\": \"x\", \"sede\": 1}", "line 2: unknown key 'sede'"),
            ("{\"prompt\": \"x\", \"height\": 30}", "line 2"),
            ("not json", "line 2"),
            ("{\"prompt\": \"x\", \"scheduler\": \"rk45\"}", "line 2"),
        })
        {
            using var h2 = new CliHarness();
            File.WriteAllLines(h2.PathOf("b.jsonl"), ["{\"prompt\": \"fine\"}", bad]);
            var r = h2.Run("generate", "--batch-file", h2.PathOf("b.jsonl"), "--out", h2.PathOf("o.png"));
            Assert.Equal(2, r.Code);
            Assert.Single(r.Err.Trim().Split('\n'));
            Assert.Contains(expected, r.Err, StringComparison.Ordinal);
            Assert.Equal(["b.jsonl"], Directory.GetFiles(h2.Directory).Select(Path.GetFileName));
        }
    }

    [Fact]
    public async Task GenerateAsync_reports_a_loading_stage_and_warnings_as_they_happen_and_the_result_saves_itself()
    {
        string folder = Model("flux-schnell");
        using var pipeline = TextToImage.Load(folder);
        var stages = new List<GenerationStage>();
        var events = new List<string>();
        var progress = new SyncProgress(p =>
        {
            stages.Add(p.Stage);
            Assert.True(double.IsFinite(p.Time), $"{p.Stage}: time {p.Time}");
            events.Add("progress " + p.Stage);
        });
        var request = new GenerationRequest
        {
            Prompt = string.Join(' ', Enumerable.Repeat("a very long prompt", 200)),
            Steps = 2,
            Height = 32,
            Width = 32,
            OnWarning = w => events.Add("warning " + w),
        };
        var result = await pipeline.GenerateAsync(request, progress);
        Assert.Contains(GenerationStage.Loading, stages);
        int warning = events.FindIndex(e => e.StartsWith("warning ", StringComparison.Ordinal) && e.Contains("truncated", StringComparison.Ordinal));
        Assert.True(warning >= 0 && warning < events.IndexOf("progress Loading"), string.Join("\n", events));
        Assert.True(stages.IndexOf(GenerationStage.Loading) < stages.IndexOf(GenerationStage.Denoising));
        Assert.Equal(GenerationStage.Decoding, stages.Last(s => s != GenerationStage.Loading));
        string dir = TestData.TempDir();
        var written = result.Save(Path.Combine(dir, "x.png"), metadata: true);
        Assert.Equal(["x.png", "x.json"], written.Select(Path.GetFileName));
        Assert.Equal(result.Settings.Prompt, ImageFiles.ReadRuns(Path.Combine(dir, "x.png"))[0].Prompt);
    }

    private static string RepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Stork.slnx")))
            {
                return dir.FullName;
            }
        }

        throw new DirectoryNotFoundException($"Stork.slnx not found above {AppContext.BaseDirectory}");
    }

    /// <summary>The README's runnable tour block (what tools/check_packages.sh runs with the installed tool): its lines.</summary>
    private static List<string> TourLines()
    {
        var lines = File.ReadAllLines(Path.Combine(RepoRoot(), "README.md")).ToList();
        int marker = lines.FindIndex(l => l.Contains("<!-- tour: runnable -->", StringComparison.Ordinal));
        Assert.True(marker >= 0, "README: no runnable tour block");
        int open = lines.FindIndex(marker, l => l.StartsWith("```bash", StringComparison.Ordinal));
        int close = lines.FindIndex(open + 1, l => l.StartsWith("```", StringComparison.Ordinal));
        return lines[(open + 1)..close];
    }

    [Fact]
    public void The_readme_tour_names_no_repository_files_and_only_shipped_models()
    {
        var tour = TourLines();
        Assert.Contains(tour, l => l.StartsWith("./stork generate", StringComparison.Ordinal));
        foreach (string line in tour.Where(l => l.StartsWith("./stork", StringComparison.Ordinal)))
        {
            Assert.DoesNotContain("tests/", line, StringComparison.Ordinal);
            var words = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            for (int i = 0; i + 1 < words.Length; i++)
            {
                if (words[i] == "--model")
                {
                    string model = words[i + 1].Replace("empirical:", "", StringComparison.Ordinal);
                    string shipped = model.StartsWith("models/", StringComparison.Ordinal) ? model["models/".Length..] : model;
                    string folder = Path.GetDirectoryName(TestData.Shipped("fashion-flow-unet.json"))!;
                    Assert.True(File.Exists(Path.Combine(folder, shipped)) || Directory.Exists(Path.Combine(folder, shipped)), line);
                }
            }
        }

        // Run here as the packages check runs them with the installed tool (its files in a scratch folder, not the working
        // directory, which other tests share): the generate lines of the tour.
        using var h = new CliHarness();
        foreach (string line in tour.Where(l => l.StartsWith("./stork generate", StringComparison.Ordinal)))
        {
            string command = line.Split("  #", 2)[0].Trim();
            var args = Words(command["./stork ".Length..]).Select(a => a.EndsWith(".png", StringComparison.Ordinal) || a.EndsWith(".jsonl", StringComparison.Ordinal) ? h.PathOf(a) : a).ToArray();
            if (args.Contains("--batch-file"))
            {
                File.WriteAllText(h.PathOf("batch.jsonl"), "{\"prompt\": \"a bag\", \"seed\": 3, \"steps\": 10, \"out\": " + JsonSerializer.Serialize(h.PathOf("bag.png")) + "}\n");
            }

            var (code, _, err) = h.Run(args);
            Assert.True(code == 0, $"{line}: {err}");
        }

        Assert.Equal(File.ReadAllBytes(h.PathOf("coat.png")), File.ReadAllBytes(h.PathOf("coat-again.png")));
        Assert.True(File.Exists(h.PathOf("bag.png")));
    }

    /// <summary>Shell words of a tour line (double-quoted strings kept whole).</summary>
    private static List<string> Words(string line)
    {
        var words = new List<string>();
        var parts = line.Split('"');
        for (int i = 0; i < parts.Length; i++)
        {
            if (i % 2 == 1)
            {
                words.Add(parts[i]);
            }
            else
            {
                words.AddRange(parts[i].Split(' ', StringSplitOptions.RemoveEmptyEntries));
            }
        }

        return words;
    }

    [Fact]
    public void Stork_pipelines_depends_on_no_tokenizer_package_it_does_not_use() =>
        Assert.DoesNotContain("PackageReference Include=\"Microsoft.ML.Tokenizers", File.ReadAllText(Path.Combine(RepoRoot(), "src/Stork.Pipelines/Stork.Pipelines.csproj")), StringComparison.Ordinal);

    [Theory]
    [InlineData("src/Stork.Pipelines/Stork.Pipelines.csproj")]
    [InlineData("src/Stork.Cli/Stork.Cli.csproj")]
    [InlineData("docs/package-readme.md")]
    public void Package_descriptions_name_every_family(string file)
    {
        string text = File.ReadAllText(Path.Combine(RepoRoot(), file));
        foreach (string family in new[] { "FLUX.1", "SD3", "SD1.5", "SDXL", "Qwen-Image" })
        {
            Assert.Contains(family, text, StringComparison.Ordinal);
        }
    }

    [Theory]
    [InlineData(GenerationStage.Loading, "m [1/1]: loading")]
    [InlineData(GenerationStage.EncodingText, "m [1/1]: encoding text")]
    [InlineData(GenerationStage.Denoising, "m [1/1]")]
    public void The_progress_bar_names_each_stage(GenerationStage stage, string expected) =>
        Assert.Equal(expected, Stork.Cli.GenerateCommand.StageText(stage, "m [1/1]"));

    private sealed class SyncProgress(Action<GenerationProgress> report) : IProgress<GenerationProgress>
    {
        public void Report(GenerationProgress value) => report(value);
    }
}
