using System.Text.Json;
using Stork.Imaging;
using Stork.IO;
using Stork.Onnx;
using Stork.Pipelines;
using Stork.Pipelines.Flux;
using Stork.Pipelines.ImageInputs;
using Stork.Tests.Cli;

namespace Stork.Tests.Pipelines;

/// <summary>
/// Qwen-Image's image inputs (diffusers' <c>QwenImageImg2ImgPipeline</c> and <c>QwenImageInpaintPipeline</c>) on the tiny
/// folder with its stand-in VAE encoder (tools/make_tiny_qwen_vae_encoder.py). There is no diffusers golden for them:
/// these are invariants that fail when the pipeline is wrong (strength 1 is text-to-image, a black mask returns the
/// encoded image, a white mask is img2img, the first latents are <c>scale_noise</c> by hand at the cut's sigma).
/// </summary>
public sealed class QwenImageImageInputTests
{
    private const int Side = 32;

    private static string Folder => Path.Combine(PipelineCase.Root, "models", "qwen-image");

    /// <summary>A 40 x 48 picture with structure in every channel (resized to 32 x 32 by the pipeline, Lanczos).</summary>
    private static Raster Picture()
    {
        var r = new Raster(40, 48);
        for (int y = 0; y < r.Height; y++)
        {
            for (int x = 0; x < r.Width; x++)
            {
                r[x, y] = new Rgb((byte)(x * 6), (byte)(y * 5), (byte)((x * y) % 251));
            }
        }

        return r;
    }

    private static GenerationRequest Request(int steps = 6, long seed = 3) =>
        new() { Prompt = "a red ankle boot", Height = Side, Width = Side, Steps = steps, Seed = seed };

    /// <summary>The tiny encoder through ONNX Runtime gives what the torch module gave at export (io_check pair).</summary>
    [Fact]
    public void Encoder_reproduces_the_exported_module()
    {
        var folder = ModelFolder.Open(Folder);
        using var encoder = new VaeEncoder(folder, new OnnxRuntimeOptions(), frameAxis: true);
        Assert.Equal(16, encoder.LatentChannels);
        Assert.Equal(8, encoder.ScaleFactor);
        var sample = NpyFile.Read(Path.Combine(Folder, "io_check", "vae_encoder.in.sample.npy"));
        Assert.Equal([1, 3, 1, 64, 48], sample.Shape);
        var parameters = encoder.Parameters(sample.ToSingle(), 64, 48);
        var expected = NpyFile.Read(Path.Combine(Folder, "io_check", "vae_encoder.out.latent_parameters.npy"));
        Assert.Equal([1, 32, 1, 8, 6], expected.Shape);
        Assert.True(Golden.RelativeL2(parameters, expected.Data) < 1e-5);
    }

    [Fact]
    public void Strength_one_is_text_to_image_with_the_same_noise()
    {
        using var pipeline = TextToImage.Load(Folder);
        var plain = pipeline.Generate(Request());
        var full = pipeline.Generate(Request() with { Image = Picture(), Strength = 1.0 });
        Assert.Equal("QwenImageImg2ImgPipeline", full.Settings.Pipeline);
        Assert.Equal(plain.Settings.Times, full.Settings.Times);

        // sigma_0 is exactly 1, so scale_noise keeps the noise alone: the same bytes as text-to-image.
        Assert.Equal(plain.FinalLatents, full.FinalLatents);

        // Below 1 the image matters, and the run has the cut's steps: int(6 - 6 * 0.5) = 3 dropped.
        var half = pipeline.Generate(Request() with { Image = Picture(), Strength = 0.5 });
        Assert.Equal(plain.Settings.Times.Skip(3), half.Settings.Times);
        Assert.True(Golden.RelativeL2(half.FinalLatents, plain.FinalLatents.Select(v => (double)v).ToArray()) > 1e-3);
    }

    [Fact]
    public void Default_strength_size_and_class_are_diffusers()
    {
        using var pipeline = TextToImage.Load(Folder);
        var img2img = pipeline.Generate(Request() with { Image = Picture() });
        Assert.Equal(0.6, img2img.Settings.Strength);

        // int(6 - 6 * 0.6) = int(2.4) = 2 steps dropped (the FLUX.1/SD3 rounding).
        Assert.Equal(4, img2img.Settings.Times.Count);
        var inpaint = pipeline.Generate(Request() with { Image = Picture(), Mask = new Raster(40, 48, new Rgb(255, 255, 255)) });
        Assert.Equal("QwenImageInpaintPipeline", inpaint.Settings.Pipeline);
        Assert.Equal(0.6, inpaint.Settings.Strength);

        // Without a size the output is the family's default (1024 x 1024 with the real VAE), never the image's.
        using var family = OpenFamily();
        var task = ImageTasks.Resolve(family, new ImageInputSet(Picture(), null, null, null));
        Assert.Equal(ImageTask.Img2Img, task.Task);
        Assert.False(ImageTasks.SizeFromImage(task, family));
    }

    [Fact]
    public void A_black_mask_returns_the_encoded_image()
    {
        using var pipeline = TextToImage.Load(Folder);
        var picture = Picture();
        var result = pipeline.Generate(Request() with { Image = picture, Mask = new Raster(40, 48), Strength = 0.5 });

        // After the last step the blend takes the unnoised image latents wherever the mask is 0: everywhere.
        using var encoder = new VaeEncoder(ModelFolder.Open(Folder), new OnnxRuntimeOptions(), frameAxis: true);
        var z = encoder.Encode(ImageProcessor.Normalize(picture, Side, Side), Side, Side);
        var packed = new float[z.Length];
        FluxLatents.Pack(z, 16, Side / 8, Side / 8, packed);
        Assert.Equal(packed, result.FinalLatents);
    }

    [Fact]
    public void A_white_mask_is_img2img()
    {
        using var pipeline = TextToImage.Load(Folder);
        var img2img = pipeline.Generate(Request() with { Image = Picture(), Strength = 0.7 });
        var inpaint = pipeline.Generate(Request() with { Image = Picture(), Mask = new Raster(40, 48, new Rgb(255, 255, 255)), Strength = 0.7 });
        Assert.Equal(img2img.FinalLatents, inpaint.FinalLatents);

        // A mask that keeps the left half: that half is the encoded image at the end, the right half is not.
        var half = new Raster(40, 48);
        for (int y = 0; y < 48; y++)
        {
            for (int x = 20; x < 40; x++)
            {
                half[x, y] = new Rgb(255, 255, 255);
            }
        }

        var kept = pipeline.Generate(Request() with { Image = Picture(), Mask = half, Strength = 0.7 });
        Assert.NotEqual(img2img.FinalLatents, kept.FinalLatents);
    }

    /// <summary>
    /// The first latents by hand: Qwen-Image's sigmas (<c>linspace(1, 1/N, N)</c>, exponential shift at mu, stretched to
    /// <c>shift_terminal</c>) at the strength's cut, the encoder's mean normalised per channel with the configuration's
    /// <c>latents_mean</c>/<c>latents_std</c>, and <c>scale_noise</c> in float32.
    /// </summary>
    [Fact]
    public void First_latents_are_scale_noise_at_the_cut_sigma_by_hand()
    {
        const int steps = 6;
        const double strength = 0.5;
        var folder = ModelFolder.Open(Folder);
        using var config = JsonDocument.Parse(File.ReadAllText(Path.Combine(Folder, "scheduler", "scheduler_config.json")));
        double Get(string key) => config.RootElement.GetProperty(key).GetDouble();
        int tokens = Side / 16 * (Side / 16);
        double m = (Get("max_shift") - Get("base_shift")) / (Get("max_image_seq_len") - Get("base_image_seq_len"));
        double mu = (tokens * m) + Get("base_shift") - (m * Get("base_image_seq_len"));
        var sigmas = Enumerable.Range(0, steps).Select(i => 1.0 - (i * (1.0 - (1.0 / steps)) / (steps - 1)))
            .Select(t => Math.Exp(mu) / (Math.Exp(mu) + ((1 / t) - 1))).ToArray();
        double scale = (1 - sigmas[^1]) / (1 - Get("shift_terminal"));
        sigmas = [.. sigmas.Select(s => 1 - ((1 - s) / scale))];
        int start = (int)(steps - (steps * strength));
        Assert.Equal(3, start);

        var scheduler = PipelineScheduler.Resolve(folder.SchedulerConfigPath, null, steps, SchedulerKind.FlowPipelineSigmas, tokens);
        Assert.Equal(sigmas[start], scheduler.Solver.Times[start], 6);

        using var encoder = new VaeEncoder(folder, new OnnxRuntimeOptions(), frameAxis: true);
        var picture = Picture();
        var chw = ImageProcessor.Normalize(picture, Side, Side);
        var parameters = encoder.Parameters(chw, Side, Side);
        using var vae = JsonDocument.Parse(File.ReadAllText(Path.Combine(Folder, "vae_encoder", "config.json")));
        float[] mean = [.. vae.RootElement.GetProperty("latents_mean").EnumerateArray().Select(e => (float)e.GetDouble())];
        float[] std = [.. vae.RootElement.GetProperty("latents_std").EnumerateArray().Select(e => (float)e.GetDouble())];
        int plane = Side / 8 * (Side / 8);
        var noise = new float[16 * plane];
        for (int i = 0; i < noise.Length; i++)
        {
            noise[i] = (float)Math.Sin(i * 0.37) * 1.3f;
        }

        float s = (float)scheduler.Solver.Times[start];
        var unpacked = new float[noise.Length];
        for (int i = 0; i < unpacked.Length; i++)
        {
            float z = (parameters[i] - mean[i / plane]) * (1f / std[i / plane]);
            unpacked[i] = (s * noise[i]) + ((1f - s) * z);
        }

        var expected = new float[unpacked.Length];
        FluxLatents.Pack(unpacked, 16, Side / 8, Side / 8, expected);

        var packedNoise = new float[noise.Length];
        FluxLatents.Pack(noise, 16, Side / 8, Side / 8, packedNoise);
        var traits = new ImageConditioning.FamilyTraits(true, 16, ImageTasks.Rounding(OpenFamily()), true, scheduler.Model.Schedule.Alpha,
            scheduler.Model.Schedule.Sigma, scheduler.InitialNoiseScale);
        var prepared = ImageConditioning.Prepare(ImageTask.Img2Img, new ImageInputSet(picture, null, null, strength), encoder, traits, Side, Side, 1,
            packedNoise, scheduler.Solver, steps);
        Assert.Equal(start, prepared.Begin);
        Assert.Equal(expected, prepared.Initial);
    }

    private static Family OpenFamily() => FamilyTable.Open(ModelFolder.Open(Folder), new PipelineOptions());

    [Fact]
    public void Given_noise_may_have_diffusers_draw_shape()
    {
        using var pipeline = TextToImage.Load(Folder);
        var noise = new float[16 * 4 * 4];
        for (int i = 0; i < noise.Length; i++)
        {
            noise[i] = (float)Math.Cos(i * 0.21);
        }

        var a = pipeline.Generate(Request() with { Image = Picture(), Latents = new LatentsInput(noise, [1, 1, 16, 4, 4]) });
        var b = pipeline.Generate(Request() with { Image = Picture(), Latents = new LatentsInput(noise, [1, 16, 4, 4]) });
        Assert.Equal(a.FinalLatents, b.FinalLatents);
    }

    [Fact]
    public void The_command_runs_img2img_and_refuses_what_the_pipelines_cannot_use()
    {
        using var h = new CliHarness();
        string image = h.PathOf("in.png");
        PngFile.Write(image, Picture());
        string mask = h.PathOf("mask.png");
        PngFile.Write(mask, new Raster(40, 48, new Rgb(255, 255, 255)));
        string small = h.PathOf("small.png");
        PngFile.Write(small, new Raster(16, 16));
        string[] Args(string output, params string[] extra) =>
            ["generate", "--model", Folder, "--prompt", "a boot", "--steps", "4", "--height", "32", "--width", "32", "--out", output, .. extra];

        var (code, stdout, err) = h.Run(Args(h.PathOf("ok.npy"), "--image", image, "--strength", "0.5"));
        Assert.True(code == 0, err);
        Assert.Equal([1, Side, Side, 3], NpyFile.Read(h.PathOf("ok.npy")).Shape);
        Assert.Contains("4 steps, 2 run at strength 0.5", stdout, StringComparison.Ordinal);

        using var noEncoder = new TinyFolder("qwen-image");
        Directory.Delete(noEncoder.PathOf("vae_encoder"), recursive: true);
        var cases = new List<(string What, string[] Args, string Expect)>
        {
            ("control image", Args(h.PathOf("bad.npy"), "--image", image, "--control-image", image), "control"),
            ("mask of another shape", Args(h.PathOf("bad.npy"), "--image", image, "--mask", small), "same size"),
            ("mask without image", Args(h.PathOf("bad.npy"), "--mask", mask), "mask"),
            ("strength 0", Args(h.PathOf("bad.npy"), "--image", image, "--strength", "0"), "strength"),
            ("missing vae_encoder", [.. Args(h.PathOf("bad.npy"), "--image", image).Select(a => a == Folder ? noEncoder.Root : a)], "vae_encoder"),
        };
        foreach (var (what, args, expect) in cases)
        {
            var (c, _, e) = h.Run(args);
            string[] lines = e.Split('\n', StringSplitOptions.RemoveEmptyEntries);
            Assert.True(c == 2, $"{what}: exit {c}, stderr {e}");
            Assert.True(lines.Length == 1 && lines[0].StartsWith("error: ", StringComparison.Ordinal), $"{what}: {e}");
            Assert.Contains(expect, lines[0], StringComparison.Ordinal);
            Assert.False(File.Exists(h.PathOf("bad.npy")), what);
        }
    }
}
