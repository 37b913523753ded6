using System.Text.Json;

namespace Stork.Pipelines;

/// <summary>
/// The peak memory of a generation, estimated before anything is loaded: the runtime, the weights resident at the
/// worst phase (components are loaded in turn and released unless kept loaded) and the denoiser's activations.
/// Weights count as their size on disk (quantized folders included: ONNX Runtime keeps MatMulNBits and
/// DequantizeLinear weights packed). The activations are dominated by the unfused attention scores ONNX Runtime
/// holds, <see cref="AttentionBytesPerScore"/> bytes per (batch x heads x tokens^2), calibrated on the real-size
/// SD1.5 folder (tools/realsize/README.md): 4.04 GB peak at 256 x 256 and 10.2 GB at 512 x 512 for a 3.44 GB UNet.
/// </summary>
/// <param name="Runtime">The process and ONNX Runtime without any model.</param>
/// <param name="Weights">Weights resident at the peak.</param>
/// <param name="Activations">The denoiser's working memory at the peak.</param>
public sealed record MemoryEstimate(long Runtime, long Weights, long Activations)
{
    /// <summary>Bytes of the process and runtime before any model (measured: about 190 MB).</summary>
    public const long RuntimeBytes = 190L << 20;

    /// <summary>Bytes per attention score (batch x heads x tokens^2) at the peak: about six float32 copies.</summary>
    public const double AttentionBytesPerScore = 24.5;

    /// <summary>The estimated peak in bytes.</summary>
    public long Total => Runtime + Weights + Activations;

    /// <summary>
    /// The estimate for <paramref name="folder"/> at <paramref name="height"/> x <paramref name="width"/> with
    /// <paramref name="batch"/> images per denoiser call (twice the images under classifier-free guidance).
    /// </summary>
    public static MemoryEstimate For(ModelFolder folder, int height, int width, int batch, bool keepLoaded)
    {
        ArgumentNullException.ThrowIfNull(folder);
        string root = folder.Root;
        long Size(string component) => ComponentBytes(Path.Combine(root, component));
        string denoiser = Directory.Exists(Path.Combine(root, "transformer")) ? "transformer" : "unet";
        var encoders = Directory.GetDirectories(root, "text_encoder*").Select(d => ComponentBytes(d)).ToList();
        long vae = Math.Max(Size("vae_decoder"), Size("vae"));
        long denoiserBytes = Size(denoiser);
        long activations = DenoiserActivations(Path.Combine(root, denoiser, "config.json"), denoiser == "unet", height, width, batch);
        long weights = keepLoaded
            ? encoders.Sum() + denoiserBytes + vae
            : Math.Max(encoders.DefaultIfEmpty(0).Max(), Math.Max(denoiserBytes, vae));
        // The denoiser's activations come on top of the denoiser (or, kept loaded, on top of everything).
        long peakWeights = keepLoaded ? weights : Math.Max(weights, denoiserBytes);
        return new MemoryEstimate(RuntimeBytes, peakWeights, activations);
    }

    /// <summary>Bytes of the graph files of a component folder (<c>*.onnx</c>, external data).</summary>
    public static long ComponentBytes(string directory) =>
        !Directory.Exists(directory) ? 0 : Directory.EnumerateFiles(directory)
            .Where(f => !f.EndsWith(".json", StringComparison.Ordinal) && !f.EndsWith(".txt", StringComparison.Ordinal))
            .Sum(f => new FileInfo(f).Length);

    /// <summary>
    /// The denoiser's attention working set: batch x heads x tokens^2 x <see cref="AttentionBytesPerScore"/>, tokens
    /// being the latent positions at the finest attention level (UNet: height/8 x width/8) plus, for the transformers,
    /// the text tokens (joint attention; 512 assumed).
    /// </summary>
    public static long DenoiserActivations(string configPath, bool unet, int height, int width, int batch)
    {
        int heads = 8;
        if (File.Exists(configPath))
        {
            using var doc = JsonDocument.Parse(File.ReadAllText(configPath));
            var c = doc.RootElement;
            // diffusers' UNet2DConditionModel calls the head count attention_head_dim (SD1.5: 8); the transformers say num_attention_heads.
            foreach (string key in unet ? (string[])["num_attention_heads", "attention_head_dim"] : ["num_attention_heads"])
            {
                if (c.TryGetProperty(key, out var v) && v.ValueKind == JsonValueKind.Number)
                {
                    heads = v.GetInt32();
                    break;
                }

                if (c.TryGetProperty(key, out v) && v.ValueKind == JsonValueKind.Array && v.GetArrayLength() > 0)
                {
                    heads = v[0].GetInt32();
                    break;
                }
            }
        }

        double tokens = unet ? (height / 8.0) * (width / 8.0) : ((height / 16.0) * (width / 16.0)) + 512;
        return (long)(AttentionBytesPerScore * batch * heads * tokens * tokens);
    }
}
