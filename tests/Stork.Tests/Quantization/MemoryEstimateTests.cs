using Stork.Onnx;
using Stork.Onnx.Quantization;
using Stork.Pipelines;
using Stork.Tests.Cli;
using Stork.Tests.Pipelines;

namespace Stork.Tests.Quantization;

/// <summary>The memory estimate checked before a run: its calibration points and the refusal before loading.</summary>
public sealed class MemoryEstimateTests : IDisposable
{
    private readonly string _temp = Directory.CreateTempSubdirectory("stork-mem-").FullName;

    /// <summary>
    /// A copy of the tiny SD1.5 folder (or <paramref name="source"/>) whose UNet weighs <paramref name="unetBytes"/> (a
    /// sparse file: no disk used), with the real SD1.5 UNet's head count.
    /// </summary>
    private string FolderWithUnet(long unetBytes, string? source = null, long textEncoderBytes = 0, long vaeBytes = 0)
    {
        source ??= Path.Combine(PipelineCase.Root, "models", "sd15");
        string root = Path.Combine(_temp, $"sd15-{unetBytes}-{textEncoderBytes}-{vaeBytes}-{Path.GetFileName(source)}");
        foreach (string file in Directory.EnumerateFiles(source, "*", SearchOption.AllDirectories))
        {
            string destination = Path.Combine(root, Path.GetRelativePath(source, file));
            Directory.CreateDirectory(Path.GetDirectoryName(destination)!);
            File.Copy(file, destination);
        }

        foreach (var (component, bytes) in (ReadOnlySpan<(string, long)>)[("unet", unetBytes), ("text_encoder", textEncoderBytes), ("vae_decoder", vaeBytes)])
        {
            if (bytes > 0)
            {
                using var data = new FileStream(Path.Combine(root, component, "model.onnx_data"), FileMode.Create);
                data.SetLength(bytes);
            }
        }

        // The real SD1.5 UNet's head count.
        string config = Path.Combine(root, "unet", "config.json");
        var node = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(config))!.AsObject();
        node["attention_head_dim"] = 8;
        node.Remove("num_attention_heads");
        File.WriteAllText(config, node.ToJsonString());
        return root;
    }

    /// <summary>
    /// A tiny SD1.5 folder in <paramref name="format"/> (fp32, or quantized with block 16, attention unfused as in the
    /// measured folders) whose UNet data file has the
    /// size of the real-size SD1.5 UNet in that format (sparse).
    /// </summary>
    private string RealSizeLike(string format)
    {
        string source = Path.Combine(PipelineCase.Root, "models", "sd15");
        if (format != "fp32")
        {
            string quantized = Path.Combine(_temp, "tiny-" + format);
            ModelQuantizer.QuantizeFolder(source, quantized, new QuantizationOptions { Weights = QuantizationOptions.ParseFormat(format), BlockSize = 16, FuseAttention = false });
            source = quantized;
        }

        long unet = format switch { "int8" => 997_897_562, "int4" => 555_113_084, _ => 3_439_309_715 };
        return FolderWithUnet(unet, source);
    }

    /// <summary>
    /// Peak RSS (kB, /usr/bin/time) of the real-size SD1.5 UNet, batch 2, with the CPU arena off (the project's
    /// sessions), measured with tools/realsize/unetprobe (docs/results/real-size-memory.md).
    /// </summary>
    [Theory]
    [InlineData("fp32", 256, 3_915_920)]
    [InlineData("fp32", 512, 7_748_096)]
    [InlineData("int8", 256, 1_535_644)]
    [InlineData("int8", 512, 5_438_984)]
    [InlineData("int4", 256, 1_318_724)]
    [InlineData("int4", 512, 5_023_560)]
    public void The_estimate_is_within_a_quarter_of_the_real_size_sd15_peaks(string format, int side, long peakKb)
    {
        var folder = ModelFolder.Open(RealSizeLike(format));
        var estimate = MemoryEstimate.For(folder, side, side, batch: 2, MemoryPolicy.Low);
        Assert.InRange(estimate.Total / (peakKb * 1024.0), 0.75, 1.25);

        // Leaving out the activations or the resident weights' format misses the same peaks.
        Assert.True((estimate.Total - estimate.Activations) / (peakKb * 1024.0) < 0.75 || side == 256);
        Assert.True(estimate.Weights > MemoryEstimate.ComponentBytes(Path.Combine(folder.Root, "unet")) || format == "fp32");
    }

    /// <summary>
    /// Peak RSS (kB) of the real-size SD1.5 UNet with fused attention (<c>stork quantize --weights fp32</c>; unetprobe,
    /// batch 2, arena off): the estimate reads the fusion from the graph. Without it, the 512 estimate is 1.6x the peak.
    /// </summary>
    [Theory]
    [InlineData(256, 3_696_924)]
    [InlineData(512, 4_702_400)]
    [InlineData(1024, 5_519_416)]
    public void A_fused_folder_estimate_is_within_a_quarter_of_its_real_size_peak(int side, long peakKb)
    {
        string tiny = Path.Combine(_temp, "tiny-fused");
        if (!Directory.Exists(tiny))
        {
            ModelQuantizer.QuantizeFolder(Path.Combine(PipelineCase.Root, "models", "sd15"), tiny, new QuantizationOptions { Weights = WeightFormat.Float32 });
        }

        var folder = ModelFolder.Open(FolderWithUnet(3_438_498_052, tiny));
        Assert.True(ModelQuantizer.HasFusedAttention(Path.Combine(folder.Root, "unet", "model.onnx")));
        var estimate = MemoryEstimate.For(folder, side, side, batch: 2, MemoryPolicy.Low);
        Assert.InRange(estimate.Total / (peakKb * 1024.0), 0.75, 1.25);

        long unfused = MemoryEstimate.DenoiserActivations(Path.Combine(folder.Root, "unet", "config.json"), unet: true, side, side, 2, fusedAttention: false);
        Assert.True((estimate.Total - estimate.Activations + unfused) / (peakKb * 1024.0) > 1.25 || side == 256);
        Assert.True(estimate.Activations > 0);
    }

    [Fact]
    public void Activations_grow_with_the_square_of_the_latent_positions()
    {
        var folder = ModelFolder.Open(FolderWithUnet(1000));
        var small = MemoryEstimate.For(folder, 256, 256, 2, false).Activations;
        var large = MemoryEstimate.For(folder, 512, 512, 2, false).Activations;
        Assert.InRange((double)large / small, 4.5, 16); // faster than the latent positions (4x): the attention scores
        Assert.Equal(2.0, (double)MemoryEstimate.For(folder, 256, 256, 4, false).Activations / small, 3);
    }

    [Fact]
    public void Kept_loaded_components_add_up()
    {
        var folder = ModelFolder.Open(FolderWithUnet(1000));
        var released = MemoryEstimate.For(folder, 64, 64, 1, keepLoaded: false);
        var kept = MemoryEstimate.For(folder, 64, 64, 1, keepLoaded: true);
        long all = ((string[])["unet", "text_encoder", "vae_decoder"]).Sum(c => MemoryEstimate.ComponentBytes(Path.Combine(folder.Root, c)));
        Assert.Equal(all, kept.Weights);
        Assert.True(released.Weights < kept.Weights);
    }

    [Fact]
    public void Generate_refuses_a_run_that_does_not_fit_before_loading_anything()
    {
        // A 1 TiB UNet (sparse, and not a valid graph: loading it would fail with another message).
        string folder = FolderWithUnet(1L << 40);
        using var h = new CliHarness();
        var (code, _, err) = h.Run("generate", "--model", folder, "--prompt", "a cat", "--height", "64", "--width", "64", "--steps", "2", "--out", h.PathOf("x.png"));
        Assert.Equal(2, code);
        Assert.Contains("this run (weights, the denoiser's activations, the runtime) needs about", err, StringComparison.Ordinal);
        Assert.False(File.Exists(h.PathOf("x.png")));
    }

    [Fact]
    public void Quantized_weights_count_what_onnx_runtime_keeps_resident_not_their_size_on_disk()
    {
        string int4 = Path.Combine(_temp, "sd15-int4");
        ModelQuantizer.QuantizeFolder(Path.Combine(PipelineCase.Root, "models", "sd15"), int4, new QuantizationOptions { Weights = WeightFormat.Int4, BlockSize = 16 });
        string unet = Path.Combine(int4, "unet");
        Assert.Equal(WeightFormat.Int4, ModelQuantizer.Detect(Path.Combine(unet, "model.onnx")));
        Assert.Null(ModelQuantizer.Detect(Path.Combine(PipelineCase.Root, "models", "sd15", "unet", "model.onnx")));
        long disk = MemoryEstimate.ComponentBytes(unet);
        Assert.Equal((long)(disk * MemoryEstimate.ResidentFactor(WeightFormat.Int4)), MemoryEstimate.ResidentBytes(unet));
        Assert.True(MemoryEstimate.ResidentFactor(WeightFormat.Int4) > 1);
    }

    [Fact]
    public void Every_text_encoder_counts_in_the_encoding_phase()
    {
        // A 4 GB text encoder beside a small UNet: the peak is the encoding phase, with every encoder of the folder.
        var folder = ModelFolder.Open(FolderWithUnet(1000, textEncoderBytes: 4L << 30));
        var estimate = MemoryEstimate.For(folder, 64, 64, 1, MemoryPolicy.Low);
        long encoders = Directory.GetDirectories(folder.Root, "text_encoder*").Sum(MemoryEstimate.ResidentBytes);
        Assert.Equal(encoders, estimate.Weights);
        Assert.True(encoders >= 4L << 30);
    }

    [Fact]
    public void The_vae_decoder_and_its_feature_maps_count_in_the_decoding_phase()
    {
        var folder = ModelFolder.Open(FolderWithUnet(1000, vaeBytes: 1L << 30));
        var estimate = MemoryEstimate.For(folder, 128, 128, 1, MemoryPolicy.Low);
        Assert.Equal(MemoryEstimate.ResidentBytes(Path.Combine(folder.Root, "vae_decoder")), estimate.Weights);
        Assert.Equal((long)(MemoryEstimate.VaeBytesPerPixel * 128 * 128), estimate.Activations);
    }

    [Fact]
    public void Balanced_keeps_the_denoiser_beside_each_other_phase()
    {
        var folder = ModelFolder.Open(FolderWithUnet(2L << 30, textEncoderBytes: 1L << 30));
        long unet = MemoryEstimate.ResidentBytes(Path.Combine(folder.Root, "unet"));
        long encoders = Directory.GetDirectories(folder.Root, "text_encoder*").Sum(MemoryEstimate.ResidentBytes);
        var low = MemoryEstimate.For(folder, 64, 64, 1, MemoryPolicy.Low);
        var balanced = MemoryEstimate.For(folder, 64, 64, 1, MemoryPolicy.Balanced);
        Assert.Equal(unet, low.Weights);
        Assert.Equal(unet + encoders, balanced.Weights);
        Assert.True(MemoryEstimate.For(folder, 64, 64, 1, MemoryPolicy.High).Total > balanced.Total);
    }

    [Theory]
    [InlineData(MemoryPolicy.Low, new[] { "text_encoder", "unet", "vae_decoder" })]
    [InlineData(MemoryPolicy.Balanced, new[] { "text_encoder", "vae_decoder" })]
    [InlineData(MemoryPolicy.High, new string[0])]
    public void The_policy_decides_what_the_second_prompt_loads_again_and_the_timings_list_each_load(MemoryPolicy policy, string[] reloaded)
    {
        var c = PipelineCase.Load(PipelineCase.Names("sd15-").First());
        using var pipeline = TextToImage.Load(c.ModelFolder, new PipelineOptions { Memory = policy });
        var request = new GenerationRequest { Prompt = c.Prompt, Steps = 2, Seed = 1, Scheduler = SchedulerChoice.Named("ddim") };
        var first = pipeline.Generate(request);
        Assert.Equal(["text_encoder", "unet", "vae_decoder"], first.Timings.Loads.Select(l => l.Component).Where(n => n != "tokenizer"));
        Assert.Equal(first.Timings.Loading, first.Timings.Loads.Aggregate(TimeSpan.Zero, (a, l) => a + l.Time));
        var second = pipeline.Generate(request);
        Assert.Equal(reloaded, second.Timings.Loads.Select(l => l.Component));
        Assert.Equal(first.Images.Pixels.ToArray(), second.Images.Pixels.ToArray());
        string json = ImageFiles.MetadataJson([second], []);
        foreach (string component in reloaded)
        {
            Assert.Contains($"\"component\": \"{component}\"", json, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Keep_loaded_is_the_high_policy()
    {
        Assert.Equal(MemoryPolicy.High, new PipelineOptions { KeepLoaded = true }.Memory);
        Assert.True(new PipelineOptions { Memory = MemoryPolicy.High }.KeepLoaded);
        Assert.False(new PipelineOptions { Memory = MemoryPolicy.Balanced }.KeepLoaded);
        var folder = ModelFolder.Open(FolderWithUnet(1000));
        Assert.Equal(MemoryEstimate.For(folder, 64, 64, 1, keepLoaded: true), MemoryEstimate.For(folder, 64, 64, 1, MemoryPolicy.High));
    }

    [Fact]
    public void The_cpu_arena_is_off_unless_asked_for()
    {
        Assert.False(OnnxSessions.UsesArena(new OnnxRuntimeOptions()));
        Assert.True(OnnxSessions.UsesArena(new OnnxRuntimeOptions { CpuArena = true }));
    }

    [Fact]
    public void Memory_option_rejects_unknown_policies_and_a_contradicting_keep_loaded()
    {
        using var h = new CliHarness();
        var (code, _, err) = h.Run("generate", "--memory", "huge", "--prompt", "a", "--out", h.PathOf("x.png"));
        Assert.Equal(2, code);
        Assert.Contains("--memory must be low, balanced or high", err, StringComparison.Ordinal);
        (code, _, err) = h.Run("generate", "--memory", "low", "--keep-loaded", "--prompt", "a", "--out", h.PathOf("x.png"));
        Assert.Equal(2, code);
        Assert.Contains("--keep-loaded means --memory high", err, StringComparison.Ordinal);
        Assert.False(File.Exists(h.PathOf("x.png")));
    }

    public void Dispose() => Directory.Delete(_temp, recursive: true);
}
