using Microsoft.ML.OnnxRuntime;
using Stork.Cli;
using Stork.Pipelines.Hub;
using Stork.Sampling;
using Stork.Tests.Pipelines;

namespace Stork.Tests.Cli;

/// <summary>
/// What a new user meets first (issue 22): help named <c>stork</c>, suggestions for typos, plain messages for numbers,
/// shipped models by name from any folder, announced job-array shards, prompts from standard input, seed lists and
/// random seeds, and ONNX Runtime's own log kept off stderr.
/// </summary>
public sealed class NewcomerTests
{
    private static string Tiny => PipelineCase.Load("flux-schnell-euler-n4").ModelFolder;

    [Fact]
    public void Help_names_the_program_stork()
    {
        using var h = new CliHarness();
        var root = h.Run("--help");
        Assert.Equal(0, root.Code);
        Assert.Contains("stork [command] [options]", root.Out, StringComparison.Ordinal);
        Assert.Contains("pull", root.Out, StringComparison.Ordinal);
        Assert.DoesNotContain("Stork.Cli", root.Out, StringComparison.Ordinal);
        var generate = h.Run("generate", "--help");
        Assert.Contains("stork generate [options]", generate.Out, StringComparison.Ordinal);
    }

    [Fact]
    public void Bare_stork_prints_the_help_and_one_error_line()
    {
        using var h = new CliHarness();
        var (code, stdout, stderr) = h.Run();
        Assert.Equal(2, code);
        Assert.Contains("stork [command] [options]", stdout, StringComparison.Ordinal);
        Assert.Single(stderr.Trim().Split('\n'));
        Assert.Contains("generate", stderr, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("'generate'", "genrate", "--prompt", "x")]
    [InlineData("'--prompt'", "generate", "--promt", "x")]
    [InlineData("'--steps'", "sample", "--stesp", "4")]
    [InlineData("'merge'", "bench", "merj")]
    public void A_mistyped_command_or_option_gets_a_suggestion(string suggestion, params string[] args)
    {
        using var h = new CliHarness();
        var (code, _, stderr) = h.Run(args);
        Assert.Equal(2, code);
        Assert.Single(stderr.Trim().Split('\n'));
        Assert.Contains("did you mean " + suggestion, stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("Required command", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void A_command_group_without_its_command_lists_the_commands()
    {
        using var h = new CliHarness();
        var (code, _, stderr) = h.Run("bench");
        Assert.Equal(2, code);
        Assert.Single(stderr.Trim().Split('\n'));
        Assert.Contains("quality", stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("Required command", stderr, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("--steps", "abc")]
    [InlineData("--guidance", "lots")]
    [InlineData("--height", "1e3")]
    public void A_number_that_does_not_parse_gets_a_plain_message(string option, string value)
    {
        using var h = new CliHarness();
        var (code, _, stderr) = h.Run("generate", "--prompt", "a coat", option, value);
        Assert.Equal(2, code);
        Assert.Single(stderr.Trim().Split('\n'));
        Assert.Contains(option, stderr, StringComparison.Ordinal);
        Assert.Contains($"'{value}'", stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("System.", stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("`1", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void Generate_takes_up_to_10000_steps_as_the_readme_says()
    {
        using var h = new CliHarness();
        var (code, _, stderr) = h.Run("generate", "--model", Tiny, "--prompt", "a cat", "--height", "32", "--width", "32", "--steps", "10001",
            "--out", h.PathOf("x.png"));
        Assert.Equal(2, code);
        Assert.Contains("1 to 10000", stderr, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("fashion-flux")]
    [InlineData("models/fashion-flux")]
    [InlineData("fashion-eps-unet")]
    [InlineData("models/fashion-eps-unet.json")]
    [InlineData("fashion-flow-unet.json")]
    [InlineData("models/fashion-mnist-train1000.npy")]
    public void Shipped_models_resolve_by_name_from_any_folder(string name)
    {
        // The test runs in its output folder, where no models/ folder is: the names resolve beside the program.
        Assert.False(Directory.Exists(Path.Combine(Directory.GetCurrentDirectory(), "models")));
        string path = ModelLocator.Resolve(name);
        Assert.True(File.Exists(path) || Directory.Exists(path), path);
        Assert.Contains("models", path, StringComparison.Ordinal);
    }

    [Fact]
    public void The_readme_tour_names_work_in_the_cli_from_any_folder()
    {
        using var h = new CliHarness();
        var sample = h.Run("sample", "--model", "models/fashion-eps-unet.json", "--steps", "2", "--batch", "1", "--out", h.PathOf("s.png"));
        Assert.True(sample.Code == 0, sample.Err);
        var generate = h.Run("generate", "--model", "fashion-flux", "--prompt", "a coat", "--steps", "2", "--out", h.PathOf("g.png"));
        Assert.True(generate.Code == 0, generate.Err);
        Assert.True(File.Exists(h.PathOf("g.png")));
    }

    private static Func<string, string?> Env(params (string Key, string Value)[] vars) => name => vars.FirstOrDefault(v => v.Key == name).Value;

    [Fact]
    public void An_environment_shard_is_announced_with_its_variable()
    {
        var stderr = new StringWriter();
        var part = ShardOption.ForRun(null, Env(("SLURM_ARRAY_TASK_ID", "2"), ("SLURM_ARRAY_TASK_COUNT", "4")), 8, "image(s)", stderr);
        Assert.Equal(new ShardSpec(2, 4), part);
        Assert.Contains("shard 2/4 from SLURM_ARRAY_TASK_ID", stderr.ToString(), StringComparison.Ordinal);
        Assert.Contains("--shard 0/1", stderr.ToString(), StringComparison.Ordinal);

        var quiet = new StringWriter();
        Assert.Equal(ShardSpec.Whole, ShardOption.ForRun(null, Env(), 8, "image(s)", quiet));
        Assert.Equal(new ShardSpec(1, 2), ShardOption.ForRun("1/2", Env(("SLURM_ARRAY_TASK_ID", "2"), ("SLURM_ARRAY_TASK_COUNT", "4")), 8, "image(s)", quiet));
        Assert.Equal("", quiet.ToString());
    }

    [Fact]
    public void A_job_array_task_with_a_small_run_renders_it_whole_and_says_so()
    {
        var stderr = new StringWriter();
        var part = ShardOption.ForRun(null, Env(("SLURM_ARRAY_TASK_ID", "1"), ("SLURM_ARRAY_TASK_MIN", "0"), ("SLURM_ARRAY_TASK_COUNT", "4")), 1, "image(s)", stderr);
        Assert.Equal(ShardSpec.Whole, part);
        Assert.Contains("SLURM_ARRAY_TASK_ID", stderr.ToString(), StringComparison.Ordinal);
        Assert.Contains("whole run", stderr.ToString(), StringComparison.Ordinal);

        var k8s = new StringWriter();
        Assert.Equal(ShardSpec.Whole, ShardOption.ForRun(null, Env(("JOB_COMPLETION_INDEX", "3")), 8, "image(s)", k8s));
        Assert.Contains("STORK_SHARD_COUNT", k8s.ToString(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("SLURM_ARRAY_TASK_ID", "x", "SLURM_ARRAY_TASK_COUNT", "4")]
    [InlineData("SLURM_ARRAY_TASK_ID", "7", "SLURM_ARRAY_TASK_COUNT", "4")]
    [InlineData("JOB_COMPLETION_INDEX", "5", "STORK_SHARD_COUNT", "5")]
    [InlineData("JOB_COMPLETION_INDEX", "1", "SLURM_ARRAY_TASK_ID", "1")]
    [InlineData("SLURM_ARRAY_TASK_STEP", "2", "SLURM_ARRAY_TASK_ID", "1")]
    public void Every_environment_shard_error_names_the_variable_and_the_way_out(string k1, string v1, string k2, string v2)
    {
        var env = Env((k1, v1), (k2, v2), ("SLURM_ARRAY_TASK_COUNT", "4"));
        var e = Assert.Throws<OptionException>(() => ShardOption.ForRun(null, env, 100, "image(s)", new StringWriter()));
        Assert.Equal(ShardSpec.Key, e.Key);
        Assert.Contains(k1, e.Message, StringComparison.Ordinal);
        Assert.Contains("0/1 for the whole run", e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("--", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Generate_announces_an_environment_shard_on_stderr()
    {
        // Through the command itself: the process environment is not touched, the announcement is made by ForRun (above);
        // here --shard from the option is silent and a bad --shard names the way out.
        using var h = new CliHarness();
        var (code, _, stderr) = h.Run("generate", "--model", Tiny, "--prompt", "a cat", "--height", "32", "--width", "32", "--shard", "1/2",
            "--out", h.PathOf("x.npy"));
        Assert.Equal(2, code);
        Assert.StartsWith("error: --shard 1/2: the run has 1 image(s)", stderr, StringComparison.Ordinal);
        Assert.Contains("(0/1 is the whole run)", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void Seed_lists_ranges_and_random_seeds()
    {
        Assert.Equal([1L, 5, 9], SeedList.Parse("1,5,9").Explicit);
        Assert.Equal([5L, 6, 7, 8], SeedList.Parse("5..8").Explicit);
        Assert.Equal(new SeedList(42, null), SeedList.Parse("42"));
        Assert.Equal(new SeedList(0, null), SeedList.Parse(null));
        Assert.False(SeedList.Parse("42").Drawn);
        var drawn = SeedList.Parse("random");
        Assert.True(drawn.Drawn);
        Assert.Null(drawn.Explicit);
        foreach (string bad in new[] { "x", "1,,2", "9..5", "0..100", "1.5" })
        {
            Assert.Equal(SeedList.Key, Assert.Throws<OptionException>(() => SeedList.Parse(bad)).Key);
        }

        using var h = new CliHarness();
        var random = h.Run("generate", "--model", Tiny, "--prompt", "a cat", "--height", "32", "--width", "32", "--steps", "1", "--seed", "random", "--out", h.PathOf("r.npy"));
        Assert.True(random.Code == 0, random.Err);
        Assert.Matches(@"seed: \d+ \(--seed random; pass --seed \d+ to repeat the run\)", random.Err);
        var wrong = h.Run("generate", "--model", Tiny, "--prompt", "a cat", "--seed", "9..5", "--out", h.PathOf("w.npy"));
        Assert.Equal("error: --seed 9..5: a range runs upward over 1 to 64 seeds.", wrong.Err.Trim());
    }

    [Fact]
    public void A_seed_list_gives_one_image_per_seed_equal_to_each_seed_alone()
    {
        using var h = new CliHarness();
        string[] common = ["generate", "--model", Tiny, "--prompt", "a cat", "--height", "32", "--width", "32", "--steps", "2"];
        var list = h.Run([.. common, "--seed", "3,11", "--out", h.PathOf("l.png")]);
        Assert.True(list.Code == 0, list.Err);
        var eleven = h.Run([.. common, "--seed", "11", "--out", h.PathOf("e.png")]);
        Assert.True(eleven.Code == 0, eleven.Err);
        var three = h.Run([.. common, "--seed", "3", "--out", h.PathOf("t.png")]);
        Assert.True(three.Code == 0, three.Err);
        Assert.Equal(File.ReadAllBytes(h.PathOf("t.png")), File.ReadAllBytes(h.PathOf("l-0.png")));
        Assert.Equal(File.ReadAllBytes(h.PathOf("e.png")), File.ReadAllBytes(h.PathOf("l-1.png")));

        var clash = h.Run([.. common, "--seed", "3,11", "--count", "3", "--out", h.PathOf("c.png")]);
        Assert.Equal(2, clash.Code);
        Assert.Contains("--count", clash.Err, StringComparison.Ordinal);
    }

    [Fact]
    public void A_random_seed_is_printed_and_recorded_in_the_png()
    {
        using var h = new CliHarness();
        var run = h.Run("generate", "--model", Tiny, "--prompt", "a cat", "--height", "32", "--width", "32", "--steps", "2", "--seed", "random",
            "--out", h.PathOf("r.png"));
        Assert.True(run.Code == 0, run.Err);
        string seed = run.Err.Split("seed: ", 2)[1].Split(' ', 2)[0];
        var text = Stork.Imaging.PngText.Read(File.ReadAllBytes(h.PathOf("r.png")));
        Assert.Equal(seed, text.Single(kv => kv.Key == "seed").Value);
    }

    [Fact]
    public void Onnx_runtime_s_own_log_is_off()
    {
        // Its coloured lines would reach stderr before the one error line; the failure reaches the user as an exception.
        Assert.Equal(OrtLoggingLevel.ORT_LOGGING_LEVEL_FATAL, Stork.Onnx.OnnxSessions.LogLevel);
        using var session = Stork.Onnx.OnnxDenoiser.Load(ModelLocator.Resolve("fashion-flow-unet"));
        Assert.Equal(OrtLoggingLevel.ORT_LOGGING_LEVEL_FATAL, OrtEnv.Instance().EnvLogLevel);
    }
}

/// <summary>Tests that replace the process's standard input run alone.</summary>
[CollectionDefinition(nameof(StandardInput), DisableParallelization = true)]
public sealed class StandardInput
{
}

/// <summary><c>--prompt-file -</c> and <c>/dev/stdin</c> read standard input.</summary>
[Collection(nameof(StandardInput))]
public sealed class PromptFileFromStandardInputTests
{
    [Theory]
    [InlineData("-")]
    [InlineData("/dev/stdin")]
    public void Prompts_come_from_standard_input(string name)
    {
        string model = PipelineCase.Load("flux-schnell-euler-n4").ModelFolder;
        using var h = new CliHarness();
        var saved = Console.In;
        try
        {
            Console.SetIn(new StringReader("a cat\r\n\r\na dog on a hill\n"));
            var run = h.Run("generate", "--model", model, "--prompt-file", name, "--height", "32", "--width", "32", "--steps", "2",
                "--out", h.PathOf("p.png"));
            Assert.True(run.Code == 0, run.Err);
        }
        finally
        {
            Console.SetIn(saved);
        }

        string Prompt(string f) => Stork.Imaging.PngText.Read(File.ReadAllBytes(h.PathOf(f))).Single(kv => kv.Key == "prompt").Value;
        Assert.Equal("a cat", Prompt("p-0.png"));
        Assert.Equal("a dog on a hill", Prompt("p-1.png"));
    }
}
