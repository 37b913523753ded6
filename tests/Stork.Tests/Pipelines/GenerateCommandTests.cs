using System.Globalization;
using System.Text.Json;
using Stork.Imaging;
using Stork.IO;
using Stork.Pipelines;
using Stork.Tests.Cli;

namespace Stork.Tests.Pipelines;

/// <summary><c>stork generate</c> and <c>stork tokenize</c> on the tiny FLUX.1 folders, against diffusers' runs.</summary>
public sealed class GenerateCommandTests
{
    public static TheoryData<string> Cases() => PipelineCase.Flux();

    private static string[] CaseArguments(PipelineCase c, CliHarness h, string output)
    {
        var args = new List<string>
        {
            "generate", "--model", c.ModelFolder, "--prompt", c.Prompt, "--latents", c.File("latents.npy"),
            "--scheduler-config", c.WriteSchedulerConfig(h.Directory), "--out", output,
            "--steps", c.Int("num_inference_steps").ToString(CultureInfo.InvariantCulture),
            "--height", c.Int("height").ToString(CultureInfo.InvariantCulture),
            "--width", c.Int("width").ToString(CultureInfo.InvariantCulture),
            "--max-sequence-length", c.Int("max_sequence_length").ToString(CultureInfo.InvariantCulture),
            "--count", c.Int("num_images_per_prompt").ToString(CultureInfo.InvariantCulture),
        };
        if (c.NegativePrompt is { } neg)
        {
            args.AddRange(["--negative-prompt", neg]);
        }

        if (c.Number("guidance_scale") is { } g && g != 0)
        {
            args.AddRange(["--guidance", g.ToString("R", CultureInfo.InvariantCulture)]);
        }

        if (c.Number("true_cfg_scale") is { } t)
        {
            args.AddRange(["--true-cfg", t.ToString("R", CultureInfo.InvariantCulture)]);
        }

        return [.. args];
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Generate_reproduces_diffusers_from_the_prompt(string name)
    {
        var c = PipelineCase.Load(name);
        using var h = new CliHarness();
        string output = h.PathOf("x.npy");
        var (code, _, err) = h.Run(CaseArguments(c, h, output));
        Assert.True(code == 0, err);
        var image = NpyFile.Read(output);
        var golden = c.Array("image.npy");
        Assert.Equal(golden.Shape, image.Shape);
        double abs = PipelineCase.MaxAbs(image.ToSingle(), golden.Data);
        Assert.True(abs <= c.ImageTolerance, $"{name}: image max abs error {abs:E3} > {c.ImageTolerance:E3}");
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void The_library_tokenizes_as_diffusers_and_matches_its_latents(string name)
    {
        var c = PipelineCase.Load(name);
        using var h = new CliHarness();
        using var pipeline = TextToImage.Load(c.ModelFolder);
        var tokens = pipeline.Tokenize(c.Prompt, c.Int("max_sequence_length"));
        Assert.Equal(c.TextEncoderCalls("text_encoder")[0], tokens["tokenizer"].Ids);
        Assert.Equal(c.TextEncoderCalls("text_encoder_2")[0], tokens["tokenizer_2"].Ids);
        var result = pipeline.Generate(c.Request(c.WriteSchedulerConfig(h.Directory)));
        FluxGoldenTests.AssertMatches(c, result);
    }

    [Fact]
    public void Png_output_carries_the_settings_and_the_metadata_file_the_run()
    {
        var c = PipelineCase.Load("flux-schnell-euler-n4");
        using var h = new CliHarness();
        string output = h.PathOf("cat.png");
        var (code, stdout, err) = h.Run("generate", "--model", c.ModelFolder, "--prompt", "a tabby cat, «watercolour»", "--height", "64", "--width", "96",
            "--steps", "3", "--scheduler", "stork-2", "--seed", "5", "--count", "2", "--out", output, "--metadata");
        Assert.True(code == 0, err);
        Assert.Contains("cat-0.png", stdout);
        var text = PngText.Read(File.ReadAllBytes(h.PathOf("cat-1.png"))).ToDictionary(p => p.Key, p => p.Value);
        Assert.Equal("a tabby cat, «watercolour»", text["prompt"]);
        Assert.Equal("6", text["seed"]);
        Assert.Equal("3", text["steps"]);
        Assert.Equal("stork-2", text["scheduler"]);
        var png = StbImageSharp.ImageResult.FromMemory(File.ReadAllBytes(h.PathOf("cat-0.png")), StbImageSharp.ColorComponents.RedGreenBlue);
        Assert.Equal((96, 64), (png.Width, png.Height));
        using var meta = JsonDocument.Parse(File.ReadAllText(h.PathOf("cat.json")));
        var run = meta.RootElement.GetProperty("runs")[0];
        Assert.Equal([5L, 6L], run.GetProperty("seeds").EnumerateArray().Select(e => e.GetInt64()));
        Assert.Equal(3, run.GetProperty("sigmas").GetArrayLength());
    }

    [Fact]
    public void Image_k_of_a_batch_is_image_0_of_seed_plus_k_alone()
    {
        var model = PipelineCase.Load("flux-dev-euler-n6-g3.5").ModelFolder;
        using var h = new CliHarness();
        string[] common = ["generate", "--model", model, "--prompt", "a red fox", "--height", "64", "--width", "64", "--steps", "4", "--scheduler", "stork-4"];
        Assert.Equal(0, h.Run([.. common, "--seed", "10", "--count", "3", "--out", h.PathOf("batch.npy")]).Code);
        Assert.Equal(0, h.Run([.. common, "--seed", "12", "--out", h.PathOf("alone.npy")]).Code);
        Assert.Equal(0, h.Run([.. common, "--seed", "12", "--out", h.PathOf("again.npy")]).Code);
        var batch = NpyFile.Read(h.PathOf("batch.npy")).ToSingle();
        var alone = NpyFile.Read(h.PathOf("alone.npy")).ToSingle();
        int per = alone.Length;
        Assert.True(PipelineCase.MaxAbs(batch.AsSpan(2 * per, per), alone.Select(v => (double)v).ToArray()) < 1e-5);
        Assert.Equal(File.ReadAllBytes(h.PathOf("alone.npy")), File.ReadAllBytes(h.PathOf("again.npy")));
    }

    [Fact]
    public void Every_solver_runs_in_the_loop_on_the_pipelines_sigmas()
    {
        var model = PipelineCase.Load("flux-dev-euler-n6-g3.5").ModelFolder;
        using var h = new CliHarness();
        foreach (string solver in (string[])["euler", "heun", "dpm++2m", "dpm++3m", "unipc", "deis", "stork-2", "stork-4"])
        {
            string output = h.PathOf(solver + ".npy");
            var (code, _, err) = h.Run("generate", "--model", model, "--prompt", "a lighthouse", "--height", "64", "--width", "64", "--steps", "5",
                "--scheduler", solver, "--out", output, "--metadata");
            Assert.True(code == 0, $"{solver}: {err}");
            var image = NpyFile.Read(output).ToSingle();
            Assert.All(image, v => Assert.InRange(v, 0f, 1f));
            using var meta = JsonDocument.Parse(File.ReadAllText(h.PathOf(solver + ".json")));
            var sigmas = meta.RootElement.GetProperty("runs")[0].GetProperty("sigmas").EnumerateArray().Select(e => e.GetDouble()).ToArray();
            double mu = meta.RootElement.GetProperty("runs")[0].GetProperty("mu").GetDouble();
            var expected = TimeGridFlux(mu, 5);
            Assert.Equal(solver == "heun" ? 9 : 5, sigmas.Length);
            Assert.Equal(expected[0], sigmas[0], 1e-5);
            Assert.Equal(expected[1], sigmas[solver == "heun" ? 2 : 1], 1e-12);
        }
    }

    private static double[] TimeGridFlux(double mu, int n) =>
        Enumerable.Range(0, n).Select(i => 1.0 + (i * ((1.0 / n) - 1.0) / (n - 1))).Select(s => Math.Exp(mu) / (Math.Exp(mu) + ((1 / s) - 1))).ToArray();

    [Fact]
    public void Tokenize_prints_the_padded_ids_of_each_tokenizer()
    {
        var c = PipelineCase.Load("flux-dev-stork4-n6-truecfg2.5");
        using var h = new CliHarness();
        var (code, stdout, err) = h.Run("tokenize", "--model", c.ModelFolder, "--prompt", c.Prompt, "--max-sequence-length", "64");
        Assert.True(code == 0, err);
        using var doc = JsonDocument.Parse(stdout);
        Assert.Equal(c.TextEncoderCalls("text_encoder")[0], doc.RootElement.GetProperty("tokenizer").EnumerateArray().Select(e => e.GetInt32()));
        Assert.Equal(c.TextEncoderCalls("text_encoder_2")[0], doc.RootElement.GetProperty("tokenizer_2").EnumerateArray().Select(e => e.GetInt32()));
    }

    [Fact]
    public void An_over_long_prompt_is_truncated_with_a_warning()
    {
        var model = PipelineCase.Load("flux-schnell-euler-n4").ModelFolder;
        using var h = new CliHarness();
        string prompt = string.Join(" ", Enumerable.Repeat("a very long prompt about a cat", 20));
        var (code, _, err) = h.Run("generate", "--model", model, "--prompt", prompt, "--height", "32", "--width", "32", "--max-sequence-length", "16", "--out", h.PathOf("x.npy"));
        Assert.Equal(0, code);
        Assert.Contains("warning: the prompt was truncated", err);
        Assert.Contains("tokenizer_2", err);
    }

    [Fact]
    public void Outputs_that_would_replace_an_input_and_non_regular_inputs_are_refused_before_any_work()
    {
        var c = PipelineCase.Load("flux-schnell-euler-n4");
        using var h = new CliHarness();
        string latents = h.PathOf("l.npy");
        File.Copy(c.File("latents.npy"), latents);
        byte[] before = File.ReadAllBytes(latents);
        string[] common = ["generate", "--model", c.ModelFolder, "--prompt", "a cat", "--height", "128", "--width", "96"];
        var (code, _, err) = h.Run([.. common, "--latents", latents, "--out", latents]);
        Assert.Equal(2, code);
        Assert.Contains("overwrite the input", err);
        Assert.Equal(before, File.ReadAllBytes(latents));

        File.WriteAllText(h.PathOf("bad.npy"), "not an npy file");
        (code, _, err) = h.Run([.. common, "--latents", h.PathOf("bad.npy"), "--out", h.PathOf("x.npy")]);
        Assert.Equal(2, code);
        Assert.Single(err.Trim().Split('\n'));

        NpyFile.Write(h.PathOf("wrong.npy"), [1, 16, 10, 10], new float[1600]);
        (code, _, err) = h.Run([.. common, "--latents", h.PathOf("wrong.npy"), "--out", h.PathOf("x.npy")]);
        Assert.Equal(2, code);
        Assert.Contains("do not fit", err);
        Assert.False(File.Exists(h.PathOf("x.npy")));

        if (!OperatingSystem.IsWindows())
        {
            string fifo = h.PathOf("fifo.txt");
            using (var mk = System.Diagnostics.Process.Start("mkfifo", fifo))
            {
                mk.WaitForExit();
            }

            (code, _, err) = h.Run("generate", "--model", c.ModelFolder, "--prompt-file", fifo, "--out", h.PathOf("x.png"));
            Assert.Equal(2, code);
            Assert.StartsWith("error: ", err);
        }
    }

    [Fact]
    public void Tokenize_errors_are_one_line_and_exit_2()
    {
        using var h = new CliHarness();
        var (code, _, err) = h.Run("tokenize", "--model", "/nonexistent", "--prompt", "x");
        Assert.Equal(2, code);
        Assert.Single(err.Trim().Split('\n'));
        (code, _, err) = h.Run("tokenize", "--model", PipelineCase.Load("flux-schnell-euler-n4").ModelFolder, "--prompt", "x", "--max-sequence-length", "0");
        Assert.Equal(2, code);
        Assert.StartsWith("error: ", err);
    }

    public static TheoryData<string, string[]> BadInputs() => new()
    {
        { "not a model folder", ["--model", "/nonexistent-folder"] },
        { "size not a multiple of 16", ["--height", "72"] },
        { "unknown scheduler", ["--scheduler", "stork-9"] },
        { "both scheduler and config", ["--scheduler", "euler", "--scheduler-config", "x.json"] },
        { "missing scheduler config", ["--scheduler-config", "/nonexistent.json"] },
        { "bad output extension", ["--out", "x.jpg"] },
        { "max sequence length above 512", ["--max-sequence-length", "513"] },
        { "zero steps", ["--steps", "0"] },
        { "no prompt", ["--prompt"] },
        { "missing latents", ["--latents", "/nonexistent.npy"] },
        { "unknown device", ["--device", "tpu"] },
        { "unavailable device", ["--device", "cuda"] },
        { "sub-steps beyond the ROCK4 table", ["--scheduler", "stork-4", "--substeps", "149"] },
        { "negative true cfg", ["--true-cfg", "-1", "--negative-prompt", "x"] },
        { "adaptive solver", ["--scheduler", "rk45"] },
    };

    [Theory]
    [MemberData(nameof(BadInputs))]
    public void Bad_input_is_one_error_line_exit_2_and_no_file(string what, string[] change)
    {
        var model = PipelineCase.Load("flux-schnell-euler-n4").ModelFolder;
        using var h = new CliHarness();
        var args = new List<string> { "generate", "--model", model, "--prompt", "a cat", "--height", "32", "--width", "32", "--out", h.PathOf("x.png") };
        for (int i = 0; i < change.Length; i++)
        {
            int at = args.IndexOf(change[i]);
            bool hasValue = i + 1 < change.Length && !change[i + 1].StartsWith("--", StringComparison.Ordinal);
            if (at >= 0 && change[i] != "--prompt")
            {
                args[at + 1] = change[i + 1];
            }
            else if (at >= 0)
            {
                args.RemoveRange(at, 2);
            }
            else
            {
                args.Add(change[i]);
                if (hasValue)
                {
                    args.Add(change[i + 1]);
                }
            }

            if (hasValue)
            {
                i++;
            }
        }

        var (code, _, err) = h.Run([.. args]);
        Assert.True(code == 2, $"{what}: exit {code}, {err}");
        Assert.StartsWith("error: ", err);
        Assert.Single(err.Trim().Split('\n'));
        Assert.Empty(Directory.GetFiles(h.Directory, "x*"));
    }
}
