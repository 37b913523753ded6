using System.Globalization;
using Stork.IO;
using Stork.Pipelines;
using Stork.Pipelines.Denoising;
using Stork.Pipelines.QwenImage;
using Stork.Tests.Cli;
using Xunit.Abstractions;

namespace Stork.Tests.Pipelines;

/// <summary>diffusers' QwenImagePipeline on the tiny ONNX models, number for number (Data/pipelines, qwen-image-*).</summary>
public sealed class QwenImageGoldenTests(ITestOutputHelper output) : IDisposable
{
    private readonly string _temp = Directory.CreateTempSubdirectory("stork-qwen-").FullName;

    public static TheoryData<string> Cases() => new(PipelineCase.Names("qwen-image-"));

    [Theory]
    [MemberData(nameof(Cases))]
    public void Golden_ids_through_the_library_reproduce_diffusers(string name)
    {
        var c = PipelineCase.Load(name);
        var result = c.RunFromTokens(_temp);
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{name}: image max abs {PipelineCase.MaxAbs(result.Images.Pixels, c.Array("image.npy").Data):E3} (tolerance {c.ImageTolerance:E3}), final latents rel L2 {Golden.RelativeL2(result.FinalLatents, c.Array("final_latents.npy").Data):E3} (tolerance {c.LatentsTolerance:E3})"));
        FluxGoldenTests.AssertMatches(c, result);
        Assert.Equal(c.Number("mu")!.Value, result.Settings.Mu!.Value, 1e-12);
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void The_library_tokenizes_as_diffusers_and_matches_its_latents(string name)
    {
        var c = PipelineCase.Load(name);
        using var pipeline = TextToImage.Load(c.ModelFolder);
        Assert.IsType<QwenImageFamily>(((TextToImagePipeline)pipeline).Family);
        var calls = c.TextEncoderCalls("text_encoder");
        Assert.Equal(calls[0], pipeline.Tokenize(c.Prompt)["tokenizer"].Ids);
        if (c.NegativePrompt is { } neg)
        {
            Assert.Equal(calls[1], pipeline.Tokenize(neg)["tokenizer"].Ids);
        }

        var result = pipeline.Generate(c.Request(c.WriteSchedulerConfig(_temp)));
        FluxGoldenTests.AssertMatches(c, result);
        Assert.Empty(result.Warnings);
    }

    /// <summary>stork generate with the latents as diffusers took them (packed) and unpacked as [N, 16, 1, h, w] and [N, 16, h, w].</summary>
    [Theory]
    [InlineData("qwen-image-euler-n6-truecfg4", "latents.npy")]
    [InlineData("qwen-image-stork4-n6", "latents.npy")]
    [InlineData("qwen-image-stork4-n6", "latents_unpacked.npy")]
    [InlineData("qwen-image-euler-n6-truecfg4", "latents_4d")]
    public void Generate_reproduces_diffusers_from_the_prompt(string name, string latents)
    {
        var c = PipelineCase.Load(name);
        using var h = new CliHarness();
        string latentsPath = c.File("latents_unpacked.npy");
        if (latents == "latents_4d")
        {
            var five = NpyFile.Read(latentsPath);
            latentsPath = h.PathOf("l4.npy");
            NpyFile.Write(latentsPath, [five.Shape[0], five.Shape[1], five.Shape[3], five.Shape[4]], five.ToSingle());
        }
        else
        {
            latentsPath = c.File(latents);
        }

        string output = h.PathOf("x.npy");
        var args = new List<string>
        {
            "generate", "--model", c.ModelFolder, "--prompt", c.Prompt, "--latents", latentsPath,
            "--scheduler-config", c.WriteSchedulerConfig(h.Directory), "--out", output,
            "--steps", c.Int("num_inference_steps").ToString(CultureInfo.InvariantCulture),
            "--height", c.Int("height").ToString(CultureInfo.InvariantCulture),
            "--width", c.Int("width").ToString(CultureInfo.InvariantCulture),
        };
        if (c.NegativePrompt is { } neg)
        {
            args.AddRange(["--negative-prompt", neg]);
        }

        var (code, _, err) = h.Run([.. args]);
        Assert.True(code == 0, err);
        var image = NpyFile.Read(output);
        var golden = c.Array("image.npy");
        Assert.Equal(golden.Shape, image.Shape);
        double abs = PipelineCase.MaxAbs(image.ToSingle(), golden.Data);
        Assert.True(abs <= c.ImageTolerance, $"{name}: image max abs error {abs:E3} > {c.ImageTolerance:E3}");
    }

    [Fact]
    public void Tokenize_prints_the_templated_ids()
    {
        var c = PipelineCase.Load("qwen-image-euler-n6-truecfg4");
        using var h = new CliHarness();
        var (code, stdout, err) = h.Run("tokenize", "--model", c.ModelFolder, "--prompt", c.Prompt);
        Assert.True(code == 0, err);
        var ids = System.Text.Json.JsonDocument.Parse(stdout).RootElement.GetProperty("tokenizer").EnumerateArray().Select(e => e.GetInt32());
        Assert.Equal(c.TextEncoderCalls("text_encoder")[0], ids);
    }

    /// <summary>The positions the transformer got at the first step, and the true-CFG combination of its outputs.</summary>
    [Fact]
    public void Positions_and_true_cfg_match_the_first_step()
    {
        foreach (string name in PipelineCase.Names("qwen-image-"))
        {
            var c = PipelineCase.Load(name);
            string prefix = name.Contains("euler", StringComparison.Ordinal) ? "denoiser.cond." : "denoiser.";
            var img = c.Array(prefix + "img_ids.npy");
            var txt = c.Array(prefix + "txt_ids.npy");
            int h = 2 * (c.Int("height") / 16), w = 2 * (c.Int("width") / 16);
            Assert.Equal(img.Data.Select(v => (long)v), QwenImagePositions.ImageIds(h, w));
            Assert.Equal(txt.Data.Select(v => (long)v), QwenImagePositions.TextIds(txt.Shape[0], h, w));
        }

        // Euler case: the golden outputs of the first step, combined, against the first Euler step of the trajectory.
        var e = PipelineCase.Load("qwen-image-euler-n6-truecfg4");
        float[] cond = e.Array("denoiser.cond.out_hidden_states.npy").ToSingle();
        float[] uncond = e.Array("denoiser.uncond.out_hidden_states.npy").ToSingle();
        var comb = new float[cond.Length];
        Guidance.Combine(GuidanceKind.TrueCfgRescaled, cond, uncond, 4f, 64, comb);
        float[] x0 = e.Array("latents.npy").ToSingle();
        var sigmas = e.Json.GetProperty("scheduler_sigmas").EnumerateArray().Select(v => v.GetDouble()).ToArray();
        var step = new float[x0.Length];
        for (int i = 0; i < step.Length; i++)
        {
            step[i] = x0[i] + ((float)(sigmas[1] - sigmas[0]) * comb[i]);
        }

        var trajectory = e.Array("trajectory.npy");
        var second = trajectory.Data.AsSpan(x0.Length, x0.Length).ToArray();
        Assert.True(Golden.RelativeL2(step, second) < 1e-5, "first Euler step with true CFG");
    }

    [Fact]
    public void Size_not_a_multiple_of_16_is_an_argument_error()
    {
        var c = PipelineCase.Load("qwen-image-stork4-n6");
        using var pipeline = TextToImage.Load(c.ModelFolder);
        var ex = Assert.Throws<ArgumentException>(() => pipeline.Generate(new GenerationRequest { Prompt = "x", Height = 100, Width = 96, Steps = 2 }));
        Assert.Contains("multiples of 16", ex.Message, StringComparison.Ordinal);
        Assert.Contains("100 x 96", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Missing_component_is_invalid_data()
    {
        using var folder = new TinyFolder("qwen-image");
        File.Delete(folder.PathOf("transformer/model.onnx"));
        var ex = Assert.Throws<InvalidDataException>(() => TextToImage.Load(folder.Root));
        Assert.Contains("model.onnx", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Renamed_mask_input_is_invalid_data()
    {
        using var folder = new TinyFolder("qwen-image");
        folder.RenameInGraph("text_encoder/model.onnx", "attention_mask", "attention_masq");
        using var pipeline = TextToImage.Load(folder.Root);
        var ex = Assert.Throws<InvalidDataException>(() => pipeline.Generate(new GenerationRequest { Prompt = "x", Height = 64, Width = 64, Steps = 2 }));
        Assert.Contains("attention_mask", ex.Message, StringComparison.Ordinal);

        using var second = new TinyFolder("qwen-image");
        second.RenameInGraph("transformer/model.onnx", "encoder_hidden_states_mask", "encoder_hidden_states_masq");
        using var p2 = TextToImage.Load(second.Root);
        ex = Assert.Throws<InvalidDataException>(() => p2.Generate(new GenerationRequest { Prompt = "x", Height = 64, Width = 64, Steps = 2 }));
        Assert.Contains("encoder_hidden_states_mask", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Four_dimensional_vae_is_invalid_data()
    {
        using var folder = new TinyFolder("qwen-image");
        folder.Replace("vae_decoder/model.onnx", Path.Combine(PipelineCase.Root, "models", "flux-dev", "vae_decoder", "model.onnx"));
        using var pipeline = TextToImage.Load(folder.Root);
        var ex = Assert.Throws<InvalidDataException>(() => pipeline.Generate(new GenerationRequest { Prompt = "x", Height = 64, Width = 64, Steps = 2 }));
        Assert.Contains("[B, 16, 1, h, w]", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Prompt_over_the_limits_is_truncated_with_warnings()
    {
        var c = PipelineCase.Load("qwen-image-stork4-n6");
        using var pipeline = TextToImage.Load(c.ModelFolder);
        string prompt = string.Join(' ', Enumerable.Repeat("cat", 1100));
        var result = pipeline.Generate(new GenerationRequest { Prompt = prompt, Height = 32, Width = 32, Steps = 2, MaxSequenceLength = 64 });
        Assert.Contains(result.Warnings, w => w.Contains("1058", StringComparison.Ordinal));
        Assert.Contains(result.Warnings, w => w.Contains("max_sequence_length", StringComparison.Ordinal));
        Assert.True(pipeline.Tokenize(prompt)["tokenizer"].Truncated);
    }

    [Fact]
    public void Defaults_are_diffusers()
    {
        var c = PipelineCase.Load("qwen-image-stork4-n6");
        using var pipeline = TextToImage.Load(c.ModelFolder);
        Assert.Equal(new GenerationDefaults(50, null, 1024, 1024, 512, "model scheduler_config.json", TrueCfgScale: 4.0), pipeline.Defaults);
    }

    public void Dispose() => Directory.Delete(_temp, recursive: true);
}
