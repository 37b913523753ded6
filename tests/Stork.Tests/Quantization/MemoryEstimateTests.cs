using Stork.Pipelines;
using Stork.Tests.Cli;
using Stork.Tests.Pipelines;

namespace Stork.Tests.Quantization;

/// <summary>The memory estimate checked before a run: its calibration points and the refusal before loading.</summary>
public sealed class MemoryEstimateTests : IDisposable
{
    private readonly string _temp = Directory.CreateTempSubdirectory("stork-mem-").FullName;

    /// <summary>A copy of the tiny SD1.5 folder whose UNet weighs <paramref name="unetBytes"/> (a sparse file: no disk used).</summary>
    private string FolderWithUnet(long unetBytes)
    {
        string source = Path.Combine(PipelineCase.Root, "models", "sd15");
        string root = Path.Combine(_temp, "sd15-" + unetBytes);
        foreach (string file in Directory.EnumerateFiles(source, "*", SearchOption.AllDirectories))
        {
            string destination = Path.Combine(root, Path.GetRelativePath(source, file));
            Directory.CreateDirectory(Path.GetDirectoryName(destination)!);
            File.Copy(file, destination);
        }

        using (var data = new FileStream(Path.Combine(root, "unet", "model.onnx_data"), FileMode.Create))
        {
            data.SetLength(unetBytes);
        }

        // The real SD1.5 UNet's head count.
        string config = Path.Combine(root, "unet", "config.json");
        var node = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(config))!.AsObject();
        node["attention_head_dim"] = 8;
        node.Remove("num_attention_heads");
        File.WriteAllText(config, node.ToJsonString());
        return root;
    }

    [Theory]
    [InlineData(256, 4.04e9)]
    [InlineData(512, 10.2e9)]
    public void The_estimate_is_within_a_quarter_of_the_real_size_sd15_peaks(int side, double measured)
    {
        var folder = ModelFolder.Open(FolderWithUnet(3_438_000_000));
        var estimate = MemoryEstimate.For(folder, side, side, batch: 2, keepLoaded: false);
        Assert.InRange(estimate.Total / measured, 0.75, 1.25);
        Assert.True(estimate.Weights >= 3_438_000_000);
    }

    [Fact]
    public void Activations_grow_with_the_square_of_the_latent_positions()
    {
        var folder = ModelFolder.Open(FolderWithUnet(1000));
        var small = MemoryEstimate.For(folder, 256, 256, 2, false).Activations;
        var large = MemoryEstimate.For(folder, 512, 512, 2, false).Activations;
        Assert.Equal(16.0, (double)large / small, 3);
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

    public void Dispose() => Directory.Delete(_temp, recursive: true);
}
