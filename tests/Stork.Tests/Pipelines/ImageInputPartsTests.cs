using Stork.Imaging;
using Stork.Onnx;
using Stork.Pipelines;
using Stork.Pipelines.Flux;
using Stork.Pipelines.ImageInputs;

namespace Stork.Tests.Pipelines;

/// <summary>
/// The parts of the image-input pipelines against diffusers' intermediates (Data/pipelines, the <c>image-input</c>
/// cases): the PNG inputs read and preprocessed into exactly the tensors the VAE encoder got, the encoder's posterior
/// parameters, the mask tensors, the strength's first step and the noised initial latents.
/// </summary>
public class ImageInputPartsTests
{
    public static TheoryData<string> Cases() => new(PipelineCase.ImageInputNames());

    public static TheoryData<string> StrengthCases() =>
        new(PipelineCase.ImageInputNames().Where(n => PipelineCase.Load(n).Number("strength") is not null));

    private static bool IsFlux(PipelineCase c) => c.PipelineClass.StartsWith("Flux", StringComparison.Ordinal);

    private static bool IsSd3(PipelineCase c) => c.PipelineClass.StartsWith("StableDiffusion3", StringComparison.Ordinal);

    /// <summary>The images the case's VAE encoder calls received, in order, as the pipelines build them from the PNG inputs.</summary>
    private static List<float[]> EncoderInputs(PipelineCase c, int height, int width)
    {
        var inputs = new List<float[]>();
        if (c.Input("control_image") is { } control)
        {
            inputs.Add(ImageProcessor.Normalize(ImageFile.Read(control), height, width));
            return inputs;
        }

        var image = ImageProcessor.Normalize(ImageFile.Read(c.Input("image")!), height, width);
        int calls = c.Json.GetProperty("vae_encoder_calls").GetArrayLength() / 2;
        if (c.Input("mask") is { } maskFile)
        {
            var mask = ImageProcessor.BinaryMask(ImageFile.Read(maskFile), height, width);
            if (calls == 2)
            {
                inputs.Add(image);
            }

            inputs.Add(ImageProcessor.MaskedImage(image, mask));
            return inputs;
        }

        inputs.Add(image);
        return inputs;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void PngInputsPreprocessToTheEncoderInputsBitForBit(string name)
    {
        var c = PipelineCase.Load(name);
        var sample0 = c.Array("vae_encoder.0.sample.npy");
        int height = sample0.Shape[2], width = sample0.Shape[3];
        var inputs = EncoderInputs(c, height, width);
        for (int k = 0; k < inputs.Count; k++)
        {
            var expected = c.Array($"vae_encoder.{k}.sample.npy");
            Assert.Equal([1, 3, height, width], expected.Shape);
            Assert.Equal(expected.Data.Length, inputs[k].Length);
            for (int i = 0; i < inputs[k].Length; i++)
            {
                Assert.True(inputs[k][i] == (float)expected.Data[i], $"{name} call {k}: value {i} is {inputs[k][i]}, diffusers fed {expected.Data[i]}");
            }
        }
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void VaeEncoderGivesThePosteriorParameters(string name)
    {
        var c = PipelineCase.Load(name);
        var folder = ModelFolder.Open(c.ModelFolder);
        using var encoder = new VaeEncoder(folder, new OnnxRuntimeOptions());
        var sample = c.Array("vae_encoder.0.sample.npy");
        var parameters = encoder.Parameters(sample.ToSingle(), sample.Shape[2], sample.Shape[3]);
        var expected = c.Array("vae_encoder.0.latent_parameters.npy");
        Assert.Equal(expected.Data.Length, parameters.Length);

        // README: ONNX Runtime's encoder agrees with torch to <= 1.5e-5 relative L2 on the cases' images.
        double rel = Golden.RelativeL2(parameters, expected.Data);
        Assert.True(rel < 2e-5, $"{name}: latent_parameters relative L2 {rel:E3}");
    }

    [Theory]
    [MemberData(nameof(StrengthCases))]
    public void StrengthCutsTheScheduleAndNoisesTheImageLatentsAsDiffusers(string name)
    {
        var c = PipelineCase.Load(name);
        var folder = ModelFolder.Open(c.ModelFolder);
        int steps = c.Int("num_inference_steps");
        double strength = c.Number("strength")!.Value;
        string dir = TestData.TempDir();
        var choice = SchedulerChoice.FromConfig(c.WriteSchedulerConfig(dir));
        var expectedTimesteps = c.DenoiserTimesteps();

        // The image latents from diffusers' own encoder output, so that this checks the normalisation and the mixing only.
        var parameters = c.Array("vae_encoder.0.latent_parameters.npy");
        using var encoder = new VaeEncoder(folder, new OnnxRuntimeOptions());
        float[] x0 = encoder.Normalize(parameters.ToSingle());
        int channels = encoder.LatentChannels, h = parameters.Shape[2], w = parameters.Shape[3];
        var noise = c.Array(IsFlux(c) ? "latents_unpacked.npy" : "latents.npy").ToSingle();
        Assert.Equal(x0.Length * c.Int("num_images_per_prompt"), noise.Length);
        var initial = new float[x0.Length];
        if (IsFlux(c) || IsSd3(c))
        {
            int sequence = h / 2 * (w / 2);
            var scheduler = PipelineScheduler.Resolve(folder.SchedulerConfigPath, choice, steps, IsFlux(c) ? SchedulerKind.FlowPipelineSigmas : SchedulerKind.FlowOwnGrid, sequence);
            int start = Strength.StartIndex(steps, strength, StrengthRounding.RunCeiling);
            Assert.Equal(expectedTimesteps.Length, steps - start);
            var sigmas = c.Json.GetProperty("scheduler_sigmas").EnumerateArray().Select(e => e.GetDouble()).ToArray();
            Assert.Equal(sigmas[start], scheduler.Solver.Times[start], 6);
            NoiseMixing.Flow(x0, noise.AsSpan(0, x0.Length), scheduler.Solver.Times[start], initial);
            if (IsFlux(c))
            {
                var packed = new float[initial.Length];
                FluxLatents.Pack(initial, channels, h, w, packed);
                initial = packed;
            }
        }
        else
        {
            var scheduler = PipelineScheduler.Resolve(folder.SchedulerConfigPath, choice, steps, SchedulerKind.DiscreteVp, h * w);
            int start = Strength.StartIndex(steps, strength, StrengthRounding.RunFloor);
            Assert.Equal(expectedTimesteps.Length, steps - start);
            double t = scheduler.Solver.Times[start];
            Assert.Equal(expectedTimesteps[0], t * scheduler.TimestepScale, 3);
            var schedule = scheduler.Model.Schedule;
            if (strength == 1.0 && c.PipelineClass.Contains("Inpaint", StringComparison.Ordinal))
            {
                // SD inpainting at strength 1 starts from the noise times init_noise_sigma (is_strength_max).
                for (int i = 0; i < initial.Length; i++)
                {
                    initial[i] = noise[i] * (float)scheduler.InitialNoiseScale;
                }
            }
            else
            {
                NoiseMixing.Vp(x0, noise.AsSpan(0, x0.Length), schedule.Alpha(t), schedule.Sigma(t), 1.0, initial);
            }
        }

        var expected = c.Array("initial_latents.npy");
        double rel = Golden.RelativeL2(initial, expected.Data.AsSpan(0, initial.Length));
        Assert.True(rel < 1e-6, $"{name}: initial latents relative L2 {rel:E3}");
    }

    [Theory]
    [InlineData("sd15-inpaint-dpmpp2m-n8-cfg7.5-box")]
    [InlineData("sdxl-inpaint-ddim-n6-s0.8-cfg6-box")]
    [InlineData("flux-inpaint-dev-euler-n6-s0.85-g3.5-soft")]
    [InlineData("flux-fill-euler-n6-g30-soft")]
    public void MasksAreBinarisedAndBroughtToTheLatentGrid(string name)
    {
        var c = PipelineCase.Load(name);
        var sample = c.Array("vae_encoder.0.sample.npy");
        int height = sample.Shape[2], width = sample.Shape[3];
        var mask = ImageProcessor.BinaryMask(ImageFile.Read(c.Input("mask")!), height, width);
        Assert.Contains(mask, m => m == 1f);
        Assert.All(mask, m => Assert.True(m is 0f or 1f));
        var expected = c.Array("mask_latents.npy");
        float[] actual;
        if (c.PipelineClass == "FluxFillPipeline")
        {
            int h = height / 8, w = width / 8;
            var blocks = ImageProcessor.BlockChannels(mask, h, w, 8);
            actual = new float[blocks.Length];
            FluxLatents.Pack(blocks, 64, h, w, actual);
        }
        else if (IsFlux(c))
        {
            int h = height / 8, w = width / 8;
            var small = ImageProcessor.Nearest(mask, height, width, h, w);
            var channels = new float[16 * h * w];
            for (int ch = 0; ch < 16; ch++)
            {
                small.CopyTo(channels, ch * h * w);
            }

            actual = new float[channels.Length];
            FluxLatents.Pack(channels, 16, h, w, actual);
        }
        else
        {
            actual = ImageProcessor.Nearest(mask, height, width, height / 8, width / 8);
        }

        // SD batches the mask [negative, positive] under classifier-free guidance: every row is the same.
        Assert.Equal(0, expected.Data.Length % actual.Length);
        for (int i = 0; i < expected.Data.Length; i++)
        {
            Assert.True(actual[i % actual.Length] == (float)expected.Data[i], $"{name}: mask value {i} is {actual[i % actual.Length]}, diffusers {expected.Data[i]}");
        }
    }

    [Theory]
    [InlineData(6, 0.6, false, 3)]
    [InlineData(6, 0.6, true, 2)]
    [InlineData(8, 0.6, true, 3)]
    [InlineData(8, 0.5, false, 4)]
    [InlineData(6, 0.85, true, 0)]
    [InlineData(4, 1.0, false, 0)]
    public void StrengthRoundsAsEachFamily(int steps, double strength, bool ceiling, int start) =>
        Assert.Equal(start, Strength.StartIndex(steps, strength, ceiling ? StrengthRounding.RunCeiling : StrengthRounding.RunFloor));

    [Theory]
    [InlineData(0.0)]
    [InlineData(-0.1)]
    [InlineData(1.01)]
    [InlineData(double.NaN)]
    public void StrengthOutsideTheUnitIntervalIsRefused(double strength) =>
        Assert.Throws<ArgumentException>(() => Strength.StartIndex(10, strength, StrengthRounding.RunCeiling));

    [Fact]
    public void StrengthThatLeavesNoStepIsRefused() =>
        Assert.Contains("no step", Assert.Throws<ArgumentException>(() => Strength.StartIndex(4, 0.1, StrengthRounding.RunFloor)).Message, StringComparison.Ordinal);

    [Fact]
    public void MissingVaeEncoderIsOneClearError()
    {
        string dir = TestData.TempDir();
        File.WriteAllText(Path.Combine(dir, "model_index.json"), """{"_class_name": "FluxPipeline"}""");
        var e = Assert.Throws<InvalidDataException>(() => new VaeEncoder(ModelFolder.Open(dir), new OnnxRuntimeOptions()));
        Assert.Contains("vae_encoder", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void LanczosKeepsConstantsAndSizes()
    {
        var pixels = Enumerable.Repeat((byte)77, 37 * 23 * 3).ToArray();
        var r = PilResize.Lanczos(pixels, 37, 23, 3, 16, 40);
        Assert.Equal(16 * 40 * 3, r.Length);
        Assert.All(r, v => Assert.Equal(77, v));
        Assert.NotSame(pixels, PilResize.Lanczos(pixels, 37, 23, 3, 37, 23));
    }

    [Fact]
    public void LanczosHalvingAStepEdgeIsSymmetricAndRings()
    {
        // A dark-to-light step: halving keeps the mirror symmetry of the edge, and Lanczos-3 overshoots next to it
        // (PIL clamps the overshoot to 0..255), unlike a box or bilinear filter.
        int w = 16;
        var row = Enumerable.Range(0, w).Select(x => (byte)(x < w / 2 ? 40 : 200)).ToArray();
        var r = PilResize.Lanczos(row, w, 1, 1, w / 2, 1);
        for (int x = 0; x < w / 2; x++)
        {
            Assert.InRange(r[x] + r[(w / 2) - 1 - x], 239, 241);
        }

        Assert.True(r[(w / 4) - 2] < 40 && r[(w / 4) + 1] > 200, $"no ringing: {string.Join(", ", r)}");
    }

    [Fact]
    public void NearestTakesTheFirstPixelOfEachBlock()
    {
        var mask = new float[16 * 16];
        mask[(8 * 16) + 8] = 1f;
        mask[(9 * 16) + 9] = 1f;
        var small = ImageProcessor.Nearest(mask, 16, 16, 2, 2);
        Assert.Equal([0f, 0f, 0f, 1f], small);
    }
}

/// <summary>The shipped fashion-flux model's VAE encoder (tools/make_fashion_flux_vae_encoder.py) inverts its decoder.</summary>
public class FashionFluxEncoderTests
{
    [Fact]
    public void EncoderInvertsTheDecoderOnGrayImages()
    {
        string folderPath = Path.Combine(TestData.ShippedFolder() ?? throw new InvalidOperationException("models/ not found"), "fashion-flux");
        var folder = ModelFolder.Open(folderPath);
        using var encoder = new VaeEncoder(folder, new OnnxRuntimeOptions());
        using var decoder = new VaeDecoder(folder, new OnnxRuntimeOptions());
        Assert.Equal(4, encoder.ScaleFactor);
        var z = Stork.Sampling.GaussianNoise.Create(16 * 8 * 8, 7);
        for (int i = 0; i < z.Length; i++)
        {
            z[i] *= 0.1f;
        }

        var vaeInput = z.Select(v => (v / (float)decoder.ScalingFactor) + (float)decoder.ShiftFactor).ToArray();
        var image = new float[32 * 32 * 3];
        decoder.Decode(vaeInput, 8, 8, image);
        Assert.All(image, v => Assert.InRange(v, 1e-3f, 1f - 1e-3f));
        var chw = new float[3 * 32 * 32];
        for (int p = 0; p < 32 * 32; p++)
        {
            for (int c = 0; c < 3; c++)
            {
                chw[(c * 32 * 32) + p] = (2f * image[(p * 3) + c]) - 1f;
            }
        }

        var back = encoder.Encode(chw, 32, 32);
        Assert.Equal(z.Length, back.Length);
        for (int i = 0; i < z.Length; i++)
        {
            Assert.True(Math.Abs(back[i] - z[i]) < 1e-5, $"latent {i}: {back[i]} vs {z[i]}");
        }
    }
}
