using Stork.Grids;
using Stork.Pipelines;
using Stork.Schedules;
using Stork.Solvers;
using Stork.Solvers.Catalog;
using Stork.Solvers.Standard;

namespace Stork.Tests.Pipelines;

/// <summary>SD3, SD1.5 and SDXL export variants, scheduler choices and errors on the tiny folders.</summary>
public sealed class StableDiffusionGraphBindingTests : IDisposable
{
    private readonly string _temp = Directory.CreateTempSubdirectory("stork-sd-bind-").FullName;

    private static string Variant(string name) => Path.Combine(PipelineCase.Root, "variants", name);

    [Fact]
    public void The_legacy_onnx_layout_int32_ids_and_a_batch_timestep_reproduces_diffusers()
    {
        var c = PipelineCase.Load("sd15-dpmpp2m-n8-cfg7.5");
        using var folder = new TinyFolder("sd15");
        folder.Replace("unet/model.onnx", Variant("sd15-unet-legacy.onnx"));
        folder.Replace("text_encoder/model.onnx", Variant("sd15-text_encoder-int32.onnx"));
        folder.Write("model_index.json", File.ReadAllText(folder.PathOf("model_index.json")).Replace("\"StableDiffusionPipeline\"", "\"OnnxStableDiffusionPipeline\"", StringComparison.Ordinal));
        using var pipeline = TextToImage.Load(folder.Root);
        Assert.Equal("StableDiffusionPipeline", pipeline.Folder.PipelineClass);
        StableDiffusionGoldenTests.AssertMatches(c, pipeline.Generate(c.Request(c.WriteSchedulerConfig(_temp))));
    }

    [Fact]
    public void A_static_batch_of_one_runs_guidance_as_separate_passes()
    {
        var c = PipelineCase.Load("sdxl-dpmpp2m-n6-cfg5");
        using var folder = new TinyFolder("sdxl");
        folder.Replace("unet/model.onnx", Variant("sdxl-unet-static-batch1.onnx"));
        using var pipeline = TextToImage.Load(folder.Root);
        StableDiffusionGoldenTests.AssertMatches(c, pipeline.Generate(c.Request(c.WriteSchedulerConfig(_temp))));
    }

    [Fact]
    public void Float16_transformer_inputs_and_outputs_are_fed_in_the_graphs_type()
    {
        var c = PipelineCase.Load("sd3-euler-n5-cfg5");
        using var folder = new TinyFolder("sd3");
        folder.Replace("transformer/model.onnx", Variant("sd3-transformer-fp16-io.onnx"));
        using var pipeline = TextToImage.Load(folder.Root);
        var result = pipeline.Generate(c.Request(c.WriteSchedulerConfig(_temp)));
        double abs = PipelineCase.MaxAbs(result.Images.Pixels, c.Array("image.npy").Data);
        Assert.True(abs < 2e-2, $"float16 I/O moved the image by {abs}");
    }

    [Theory]
    [InlineData("sd15", 100, 128, "multiples of 8")]
    [InlineData("sdxl", 128, 60, "multiples of 8")]
    [InlineData("sd3", 120, 128, "multiples of 16")]
    public void Sizes_the_vae_cannot_take_are_refused(string family, int height, int width, string message)
    {
        using var pipeline = TextToImage.Load(Path.Combine(PipelineCase.Root, "models", family));
        var e = Assert.Throws<ArgumentException>(() => pipeline.Generate(new GenerationRequest
        {
            Prompt = "a cat",
            Height = height,
            Width = width,
            Steps = 2,
            Scheduler = SchedulerChoice.Named("euler"),
        }));
        Assert.Contains(message, e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("sd15", "unet")]
    [InlineData("sd15", "text_encoder")]
    [InlineData("sdxl", "text_encoder_2")]
    [InlineData("sd3", "text_encoder_3")]
    [InlineData("sd3", "transformer")]
    public void A_missing_component_is_a_clear_error(string family, string component)
    {
        using var folder = new TinyFolder(family);
        Directory.Delete(folder.PathOf(component), recursive: true);
        var e = Assert.Throws<InvalidDataException>(() => TextToImage.Load(folder.Root));
        Assert.Contains($"'{component}/'", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("sd15", "unet/model.onnx", "encoder_hidden_states", "encoder_hidden_stateX", "encoder_hidden_states")]
    [InlineData("sdxl", "unet/model.onnx", "time_ids", "time_idX", "time_ids")]
    [InlineData("sd3", "transformer/model.onnx", "pooled_projections", "pooled_projectionX", "pooled_projections")]
    public void A_renamed_denoiser_input_is_a_clear_error_listing_expected_and_found_names(string family, string graph, string name, string renamed, string expected)
    {
        using var folder = new TinyFolder(family);
        folder.RenameInGraph(graph, name, renamed);
        using var pipeline = TextToImage.Load(folder.Root);
        var e = Assert.Throws<InvalidDataException>(() => pipeline.Generate(new GenerationRequest { Prompt = "a cat", Steps = 2, Height = 64, Width = 64, Scheduler = SchedulerChoice.Named("euler") }));
        Assert.Contains(expected, e.Message, StringComparison.Ordinal);
        Assert.Contains(renamed, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Text_encoders_without_hidden_states_are_a_clear_error_for_sdxl()
    {
        using var folder = new TinyFolder("sdxl");
        File.Copy(Path.Combine(PipelineCase.Root, "models", "sd15", "text_encoder", "model.onnx"), folder.PathOf("text_encoder/model.onnx"), overwrite: true);
        using var pipeline = TextToImage.Load(folder.Root);
        var e = Assert.Throws<InvalidDataException>(() => pipeline.Generate(new GenerationRequest { Prompt = "a cat", Steps = 2, Height = 64, Width = 64 }));
        Assert.Contains("hidden_states", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void The_sd15_folders_pndm_scheduler_is_refused_naming_the_solvers_to_use()
    {
        using var pipeline = TextToImage.Load(Path.Combine(PipelineCase.Root, "models", "sd15"));
        var e = Assert.Throws<ArgumentException>(() => pipeline.Generate(new GenerationRequest { Prompt = "a cat", Steps = 2, Height = 64, Width = 64 }));
        Assert.Contains("PNDMScheduler", e.Message, StringComparison.Ordinal);
        Assert.Contains("dpm++2m", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_solver_name_reads_the_folders_configuration_as_from_config_does()
    {
        // DPMSolverMultistepScheduler.from_config(SDXL's Euler configuration): leading spacing, steps_offset 1.
        var c = PipelineCase.Load("sdxl-dpmpp2m-n6-cfg5");
        using var pipeline = TextToImage.Load(c.ModelFolder);
        var request = c.Request(c.WriteSchedulerConfig(_temp)) with { Scheduler = SchedulerChoice.Named("dpm++2m") };
        StableDiffusionGoldenTests.AssertMatches(c, pipeline.Generate(request));
    }

    [Fact]
    public void The_sdxl_folders_euler_scheduler_runs_with_leading_timesteps()
    {
        using var pipeline = TextToImage.Load(Path.Combine(PipelineCase.Root, "models", "sdxl"));
        var result = pipeline.Generate(new GenerationRequest { Prompt = "a cat", Steps = 5, Height = 64, Width = 64, Seed = 3 });
        Assert.Equal([801.0, 601, 401, 201, 1], result.Settings.Times);
        Assert.All(result.Images.Pixels, v => Assert.InRange(v, 0f, 1f));
        Assert.Equal(5.0, result.Settings.GuidanceScale);
    }

    [Theory]
    [InlineData("stork-4", Stork.Solvers.Stabilized.StorkVariant.Upstream, new[] { 875.0, 750, 625, 500, 375, 250, 125, 10 })]
    [InlineData("stork-4", Stork.Solvers.Stabilized.StorkVariant.Corrected, null)]
    [InlineData("stork-2", Stork.Solvers.Stabilized.StorkVariant.Corrected, null)]
    public void Stork_runs_on_the_unet_in_both_variants(string name, Stork.Solvers.Stabilized.StorkVariant variant, double[]? timesteps)
    {
        using var pipeline = TextToImage.Load(Path.Combine(PipelineCase.Root, "models", "sd15"));
        var result = pipeline.Generate(new GenerationRequest
        {
            Prompt = "a cat",
            Steps = 8,
            Height = 64,
            Width = 64,
            Scheduler = SchedulerChoice.Named(name, new SolverSettings { StorkVariant = variant }),
        });
        Assert.All(result.FinalLatents, v => Assert.True(float.IsFinite(v)));
        if (timesteps is not null)
        {
            Assert.Equal(timesteps, result.Settings.Times.Select(t => Math.Round(t, 9)));
        }
        else
        {
            Assert.Equal(999.0, result.Settings.Times[0], 9);
        }
    }

    [Theory]
    [InlineData("DPMSolverMultistepScheduler", "use_karras_sigmas")]
    [InlineData("DPMSolverMultistepScheduler", "use_exponential_sigmas")]
    [InlineData("UniPCMultistepScheduler", "use_karras_sigmas")]
    [InlineData("DEISMultistepScheduler", "use_beta_sigmas")]
    [InlineData("EulerDiscreteScheduler", "use_karras_sigmas")]
    public void Respaced_sigmas_span_the_training_range_and_feed_diffusers_timesteps(string cls, string flag)
    {
        string config = Path.Combine(_temp, cls + flag + ".json");
        File.WriteAllText(config, $$"""{"_class_name": "{{cls}}", "beta_start": 0.00085, "beta_end": 0.012, "beta_schedule": "scaled_linear", "{{flag}}": true}""");
        using var pipeline = TextToImage.Load(Path.Combine(PipelineCase.Root, "models", "sd15"));
        var result = pipeline.Generate(new GenerationRequest { Prompt = "a cat", Steps = 10, Height = 64, Width = 64, Scheduler = SchedulerChoice.FromConfig(config) });
        var times = result.Settings.Times;
        Assert.Equal(10, times.Count);
        Assert.True(times.Zip(times.Skip(1)).All(p => p.First >= p.Second), string.Join(", ", times));
        if (cls != "EulerDiscreteScheduler")
        {
            Assert.All(times, t => Assert.Equal(Math.Floor(t), t));
            Assert.Equal(999.0, times[0]);
        }

        Assert.All(result.Images.Pixels, v => Assert.InRange(v, 0f, 1f));
    }

    [Fact]
    public void Karras_dpm_nodes_are_karras_sigmas_between_the_training_extremes()
    {
        var schedule = VpDiscreteSchedule.FromBetaSchedule("scaled_linear", 0.00085, 0.012);
        var d = new DiffusersOptions { SigmaSpacing = Stork.Grids.SigmaSpacing.Karras };
        var grid = StandardGrids.Build(SolverFamily.DpmSolverPlusPlus, new ModelSpec(Stork.Predictions.Prediction.Epsilon, schedule), 20, GridKind.Native, new FlowSigmaOptions(), d);
        double Ve(double a, double s) => s / a;
        double max = Math.Sqrt((1 - schedule.AlphasCumprod(999)) / schedule.AlphasCumprod(999));
        double min = Math.Sqrt((1 - schedule.AlphasCumprod(0)) / schedule.AlphasCumprod(0));
        Assert.Equal(max, Ve(grid.Alpha[0], grid.Sigma[0]), 10);
        Assert.Equal(min, Ve(grid.Alpha[^1], grid.Sigma[^1]), 10);
        var karras = Stork.Grids.TimeGrid.Karras(max, min, 20);
        for (int i = 0; i < 20; i++)
        {
            Assert.Equal(karras[i], Ve(grid.Alpha[i], grid.Sigma[i]), 10);
        }

        Assert.Equal(999.0, grid.Times[0]);
        Assert.Equal(0.0, grid.Times[^1]);
        Assert.Equal(0.0, grid.EndSigma[^1]);
    }

    public void Dispose() => Directory.Delete(_temp, recursive: true);
}
