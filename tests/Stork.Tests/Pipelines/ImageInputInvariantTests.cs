using Stork.Imaging;
using Stork.Onnx;
using Stork.Pipelines;
using Stork.Pipelines.ImageInputs;

namespace Stork.Tests.Pipelines;

/// <summary>
/// Image-input rules checked without a diffusers golden: SD3 inpainting (<c>StableDiffusion3InpaintPipeline</c>, no
/// public case) by its invariants and its blend, the strength defaults of every class as diffusers' signatures give
/// them, and the folders we refuse (SDXL refiners, SD3 transformers with mask channels).
/// </summary>
public sealed class ImageInputInvariantTests
{
    private const int Side = 64;

    private static string Model(string family) => Path.Combine(PipelineCase.Root, "models", family);

    private static Raster Picture(int width = 72, int height = 80)
    {
        var r = new Raster(width, height);
        for (int y = 0; y < height; y++)
        {
            for (int x = 0; x < width; x++)
            {
                r[x, y] = new Rgb((byte)(x * 3), (byte)(255 - (y * 3)), (byte)((x * y) % 253));
            }
        }

        return r;
    }

    private static Raster Filled(byte v, int width = 72, int height = 80) => new(width, height, new Rgb(v, v, v));

    private static GenerationRequest Sd3(int steps = 6) =>
        new() { Prompt = "a bowl of fruit", NegativePrompt = "ugly", GuidanceScale = 5.0, Height = Side, Width = Side, Steps = steps, Seed = 5 };

    [Fact]
    public void Sd3_inpaint_with_a_black_mask_returns_the_encoded_image()
    {
        using var pipeline = TextToImage.Load(Model("sd3"));
        var result = pipeline.Generate(Sd3() with { Image = Picture(), Mask = Filled(0), Strength = 0.5 });
        Assert.Equal("StableDiffusion3InpaintPipeline", result.Settings.Pipeline);
        using var encoder = new VaeEncoder(ModelFolder.Open(Model("sd3")), new OnnxRuntimeOptions());
        var z = encoder.Encode(ImageProcessor.Normalize(Picture(), Side, Side), Side, Side);
        Assert.Equal(z, result.FinalLatents);
    }

    [Fact]
    public void Sd3_inpaint_with_a_white_mask_is_img2img_and_rounds_as_sd3()
    {
        using var pipeline = TextToImage.Load(Model("sd3"));

        // 7 steps at 0.3: N·s = 2.1; SD3 drops int(7 - 2.1) = 4 and runs 3 (the SD1.5/SDXL rule would run 2).
        var img2img = pipeline.Generate(Sd3(7) with { Image = Picture(), Strength = 0.3 });
        var inpaint = pipeline.Generate(Sd3(7) with { Image = Picture(), Mask = Filled(255), Strength = 0.3 });
        Assert.Equal(3, inpaint.Settings.Times.Count);
        Assert.Equal(3, inpaint.Settings.StepsRun);
        Assert.Equal(img2img.FinalLatents, inpaint.FinalLatents);
    }

    [Fact]
    public void Sd3_strength_one_inpaint_starts_from_the_noise()
    {
        // is_strength_max: latents = noise, and the first sigma of SD3's shifted grid is exactly 1.
        using var pipeline = TextToImage.Load(Model("sd3"));
        var plain = pipeline.Generate(Sd3());
        var white = pipeline.Generate(Sd3() with { Image = Picture(), Mask = Filled(255), Strength = 1.0 });
        Assert.Equal(plain.FinalLatents, white.FinalLatents);
    }

    /// <summary>
    /// The blend after step i is <c>(1 - m) · scale_noise(x0, σ_{i+1}, noise) + m · latents</c>: the next sigma of the
    /// run, not the current one, and the unnoised image after the last step.
    /// </summary>
    [Fact]
    public void Sd3_blend_renoises_the_image_to_the_next_sigma()
    {
        const int steps = 6;
        var folder = ModelFolder.Open(Model("sd3"));
        using var family = FamilyTable.Open(folder, new PipelineOptions());
        using var encoder = new VaeEncoder(folder, new OnnxRuntimeOptions());
        int h = Side / 8, w = Side / 8, n = 16 * h * w;
        var scheduler = PipelineScheduler.Resolve(folder.SchedulerConfigPath, null, steps, SchedulerKind.FlowOwnGrid, h / 2 * (w / 2));
        var noise = new float[n];
        for (int i = 0; i < n; i++)
        {
            noise[i] = (float)Math.Sin(i * 0.61);
        }

        // Mask: the left half kept (black), the right half repainted (white).
        var mask = new Raster(72, 80);
        for (int y = 0; y < 80; y++)
        {
            for (int x = 36; x < 72; x++)
            {
                mask[x, y] = new Rgb(255, 255, 255);
            }
        }

        var task = ImageTasks.Resolve(family, new ImageInputSet(Picture(), mask, null, 0.5));
        Assert.Equal(ImageTask.Inpaint, task.Task);
        var traits = new ImageConditioning.FamilyTraits(false, 16, ImageTasks.Rounding(family), true, scheduler.Model.Schedule.Alpha,
            scheduler.Model.Schedule.Sigma, scheduler.InitialNoiseScale);
        var c = ImageConditioning.Prepare(task.Task, new ImageInputSet(Picture(), mask, null, 0.5), encoder, traits, Side, Side, 1, noise,
            scheduler.Solver, steps);
        Assert.Equal(3, c.Begin);
        var x0 = encoder.Encode(ImageProcessor.Normalize(Picture(), Side, Side), Side, Side);
        var latents = Enumerable.Repeat(7f, n).ToArray();
        c.Blend(0, latents);
        float next = (float)c.Solver.Times[1];
        for (int ch = 0; ch < 16; ch++)
        {
            for (int y = 0; y < h; y++)
            {
                for (int x = 0; x < w; x++)
                {
                    int i = (ch * h * w) + (y * w) + x;
                    float expected = x < w / 2 ? (next * noise[i]) + ((1f - next) * x0[i]) : 7f;
                    Assert.Equal(expected, latents[i]);
                }
            }
        }

        var last = Enumerable.Repeat(7f, n).ToArray();
        c.Blend(c.Solver.Times.Count - 1, last);
        Assert.Equal(x0[0], last[0]);
        Assert.Equal(7f, last[w - 1]);
    }

    /// <summary>diffusers' <c>__call__</c> defaults of <c>strength</c>, read from each class's signature.</summary>
    [Theory]
    [InlineData("sd15", false, "StableDiffusionImg2ImgPipeline", 0.8)]
    [InlineData("sd15", true, "StableDiffusionInpaintPipeline", 1.0)]
    [InlineData("sdxl", false, "StableDiffusionXLImg2ImgPipeline", 0.3)]
    [InlineData("sdxl", true, "StableDiffusionXLInpaintPipeline", 0.9999)]
    [InlineData("sd3", false, "StableDiffusion3Img2ImgPipeline", 0.6)]
    [InlineData("sd3", true, "StableDiffusion3InpaintPipeline", 0.6)]
    [InlineData("flux-dev", false, "FluxImg2ImgPipeline", 0.6)]
    [InlineData("flux-dev", true, "FluxInpaintPipeline", 0.6)]
    [InlineData("flux-fill", true, "FluxFillPipeline", 1.0)]
    [InlineData("qwen-image", false, "QwenImageImg2ImgPipeline", 0.6)]
    [InlineData("qwen-image", true, "QwenImageInpaintPipeline", 0.6)]
    public void Strength_defaults_are_diffusers(string folder, bool mask, string pipelineClass, double strength)
    {
        using var family = FamilyTable.Open(ModelFolder.Open(Model(folder)), new PipelineOptions());
        var task = ImageTasks.Resolve(family, new ImageInputSet(Picture(), mask ? Filled(255) : null, null, null));
        Assert.Equal(pipelineClass, task.PipelineClass);
        Assert.Equal(strength, task.Strength);
    }

    [Fact]
    public void A_strength_without_an_image_is_refused()
    {
        using var pipeline = TextToImage.Load(Model("qwen-image"));
        var ex = Assert.Throws<ArgumentException>(() => pipeline.Generate(new GenerationRequest { Prompt = "x", Height = 32, Width = 32, Steps = 2, Strength = 0.5 }));
        Assert.Contains("needs an input image", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Sdxl_refiner_folders_are_refused()
    {
        using var folder = new TinyFolder("sdxl");
        string index = File.ReadAllText(folder.PathOf("model_index.json"));
        folder.Write("model_index.json", index.Replace("\"StableDiffusionXLPipeline\",", "\"StableDiffusionXLImg2ImgPipeline\", \"requires_aesthetics_score\": true,", StringComparison.Ordinal));
        using var family = FamilyTable.Open(ModelFolder.Open(folder.Root), new PipelineOptions());
        var ex = Assert.Throws<ArgumentException>(() => ImageTasks.Resolve(family, new ImageInputSet(Picture(), null, null, null)));
        Assert.Contains("requires_aesthetics_score", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Sd3_transformers_with_mask_channels_are_refused()
    {
        using var folder = new TinyFolder("sd3");
        string config = File.ReadAllText(folder.PathOf("transformer/config.json"));
        folder.Write("transformer/config.json", config.Replace("\"in_channels\": 16", "\"in_channels\": 33", StringComparison.Ordinal));
        var ex = Assert.Throws<InvalidDataException>(() => TextToImage.Load(folder.Root));
        Assert.Contains("33", ex.Message, StringComparison.Ordinal);
    }
}
