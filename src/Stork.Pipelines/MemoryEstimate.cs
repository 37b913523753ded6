using System.Text.Json;
using Stork.Onnx.Quantization;

namespace Stork.Pipelines;

/// <summary>
/// The peak memory of a generation, estimated before anything is loaded: the runtime, the weights resident at the
/// worst phase (which components are loaded together follows the <see cref="MemoryPolicy"/>) and that phase's working
/// memory (the denoiser's activations, or the VAE decoder's). Weights count as their size on disk times what ONNX
/// Runtime keeps resident per byte of that format (<see cref="ResidentFactor"/>); the denoiser's activations are
/// dominated (unless its attention is fused) by the attention scores, <see cref="AttentionBytesPerScore"/> bytes per (batch x heads x
/// tokens^2), the VAE's by its full-resolution feature maps, <see cref="VaeBytesPerPixel"/> per output pixel. All
/// calibrated on the real-size SD1.5 folder (docs/results/real-size-memory.md).
/// </summary>
/// <param name="Runtime">The process and ONNX Runtime without any model.</param>
/// <param name="Weights">Weights resident at the peak.</param>
/// <param name="Activations">The working memory at the peak.</param>
public sealed record MemoryEstimate(long Runtime, long Weights, long Activations)
{
    /// <summary>Bytes of the process and runtime before any model (measured: about 190 MB).</summary>
    public const long RuntimeBytes = 190L << 20;

    /// <summary>
    /// Bytes per attention score (batch x heads x tokens^2) at the denoiser's peak, ONNX Runtime's CPU arena off (the
    /// project's sessions; fit: 13.95).
    /// </summary>
    public const double AttentionBytesPerScore = 14.0;

    /// <summary>Bytes per latent position and batch item at the denoiser's peak: its feature maps (fit: 67.3 kB).</summary>
    public const double BytesPerPosition = 67_000;


    /// <summary>Bytes per output pixel at the VAE decoder's peak (one image at a time; real-size SD1.5 VAE at 512 x 512: 3.09 kB).</summary>
    public const double VaeBytesPerPixel = 3100;

    /// <summary>The estimated peak in bytes.</summary>
    public long Total => Runtime + Weights + Activations;

    /// <summary>
    /// Resident bytes per byte on disk of a graph's weights in <paramref name="format"/> (null: float32). float32 is
    /// read once (1.0); int8/int4 stay packed, plus the Conv weights DequantizeLinear expands per call (fit on the four
    /// int8/int4 peaks: 1.00-1.40, taken as 1.15); float16 on the CPU folds its casts, so float32 copies sit beside the
    /// float16 data (3.2, from the one fp16 peak, measured with the CPU arena on, not re-measured with it off).
    /// </summary>
    public static double ResidentFactor(WeightFormat? format) => format switch
    {
        WeightFormat.Int8 or WeightFormat.Int4 => 1.15,
        WeightFormat.Float16 => 3.2,
        _ => 1.0,
    };

    /// <summary>The estimate as <see cref="For(ModelFolder, int, int, int, MemoryPolicy)"/> with <see cref="MemoryPolicy.High"/> for <paramref name="keepLoaded"/>, else <see cref="MemoryPolicy.Low"/>.</summary>
    public static MemoryEstimate For(ModelFolder folder, int height, int width, int batch, bool keepLoaded) =>
        For(folder, height, width, batch, keepLoaded ? MemoryPolicy.High : MemoryPolicy.Low);

    /// <summary>
    /// The estimate for <paramref name="folder"/> at <paramref name="height"/> x <paramref name="width"/> with
    /// <paramref name="batch"/> images per denoiser call (twice the images under classifier-free guidance). The phases:
    /// text encoding (every text encoder loaded together), denoising (the denoiser and its activations), decoding (the
    /// VAE decoder and its feature maps, one image at a time); <paramref name="policy"/> says what else stays loaded.
    /// </summary>
    public static MemoryEstimate For(ModelFolder folder, int height, int width, int batch, MemoryPolicy policy)
    {
        ArgumentNullException.ThrowIfNull(folder);
        string root = folder.Root;
        string denoiser = Directory.Exists(Path.Combine(root, "transformer")) ? "transformer" : "unet";
        long encoders = Directory.GetDirectories(root, "text_encoder*").Sum(ResidentBytes);
        long vae = Math.Max(ResidentBytes(Path.Combine(root, "vae_decoder")), ResidentBytes(Path.Combine(root, "vae")));
        long denoiserBytes = ResidentBytes(Path.Combine(root, denoiser));
        long activations = DenoiserActivations(Path.Combine(root, denoiser, "config.json"), denoiser == "unet", height, width, batch,
            FusedAttention(Path.Combine(root, denoiser)));
        long vaeActivations = (long)(VaeBytesPerPixel * height * width);

        // (weights, working memory) of each phase under the policy; the peak is the phase with the largest sum.
        long keptDenoiser = policy == MemoryPolicy.Low ? 0 : denoiserBytes;
        long keptOthers = policy == MemoryPolicy.High ? encoders + vae : 0;
        (long Weights, long Work)[] phases = policy == MemoryPolicy.High
            ? [(encoders + denoiserBytes + vae, Math.Max(activations, vaeActivations))]
            :
            [
                (encoders + keptDenoiser, 0),
                (denoiserBytes + keptOthers, activations),
                (vae + keptDenoiser, vaeActivations),
            ];
        var peak = phases.MaxBy(p => p.Weights + p.Work);
        return new MemoryEstimate(RuntimeBytes, peak.Weights, peak.Work);
    }

    /// <summary>Bytes of the graph files of a component folder (<c>*.onnx</c>, external data).</summary>
    public static long ComponentBytes(string directory) =>
        !Directory.Exists(directory) ? 0 : Directory.EnumerateFiles(directory)
            .Where(f => !f.EndsWith(".json", StringComparison.Ordinal) && !f.EndsWith(".txt", StringComparison.Ordinal))
            .Sum(f => new FileInfo(f).Length);

    /// <summary>
    /// Bytes a component folder keeps resident once loaded: <see cref="ComponentBytes"/> times the
    /// <see cref="ResidentFactor"/> of its graph's weight format (<see cref="ModelQuantizer.Detect"/>).
    /// </summary>
    public static long ResidentBytes(string directory)
    {
        long bytes = ComponentBytes(directory);
        if (bytes == 0)
        {
            return 0;
        }

        return (long)(bytes * ResidentFactor(Format(directory)));
    }

    /// <summary>The weight format of a component folder's <c>model.onnx</c> (null: float32, or a graph file over 64 MiB).</summary>
    private static WeightFormat? Format(string directory) => SmallGraph(directory) is { } graph ? ModelQuantizer.Detect(graph) : null;

    /// <summary>Whether a component folder's <c>model.onnx</c> has fused attention (false for a graph file over 64 MiB).</summary>
    private static bool FusedAttention(string directory) => SmallGraph(directory) is { } graph && ModelQuantizer.HasFusedAttention(graph);

    private static string? SmallGraph(string directory)
    {
        string graph = Path.Combine(directory, "model.onnx");
        return File.Exists(graph) && new FileInfo(graph).Length <= (64L << 20) ? graph : null;
    }

    /// <summary>
    /// The denoiser's working set: batch x heads x tokens^2 x <see cref="AttentionBytesPerScore"/> (the unfused
    /// attention scores) plus batch x tokens x <see cref="BytesPerPosition"/> (the feature maps); tokens are the latent
    /// positions at the finest attention level (UNet: height/8 x width/8) plus, for the transformers, the text tokens
    /// (joint attention; 512 assumed). Calibrated on the SD1.5 UNet only.
    /// </summary>
    public static long DenoiserActivations(string configPath, bool unet, int height, int width, int batch) =>
        DenoiserActivations(configPath, unet, height, width, batch, fusedAttention: false);

    /// <summary>
    /// As <see cref="DenoiserActivations(string, bool, int, int, int)"/>; with <paramref name="fusedAttention"/> (the
    /// graph runs ONNX Runtime's MultiHeadAttention: flash attention on the CPU, no scores held) the feature maps alone,
    /// batch x tokens x <see cref="BytesPerPosition"/> (the real-size SD1.5 UNet's fused peaks at 256, 512 and 1024:
    /// estimate / peak 1.00, 0.87, 1.03).
    /// </summary>
    public static long DenoiserActivations(string configPath, bool unet, int height, int width, int batch, bool fusedAttention)
    {
        double positions = unet ? (height / 8.0) * (width / 8.0) : ((height / 16.0) * (width / 16.0)) + 512;
        if (fusedAttention)
        {
            return (long)(BytesPerPosition * batch * positions);
        }

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

        double tokens = positions;
        return (long)((AttentionBytesPerScore * batch * heads * tokens * tokens) + (BytesPerPosition * batch * tokens));
    }
}
