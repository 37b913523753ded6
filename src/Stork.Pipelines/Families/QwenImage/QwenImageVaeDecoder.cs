using System.Text.Json;
using Stork.IO;
using Stork.Onnx;

namespace Stork.Pipelines.QwenImage;

/// <summary>
/// Qwen-Image's VAE decoder graph (<c>AutoencoderKLQwenImage.decode</c> of the first frame): <c>latent_sample</c>
/// [B, C, 1, h, w] in, <c>sample</c> [B, 3, 1, 8h, 8w] in [-1, 1] out. Latents are de-normalised with the per-channel
/// <c>latents_mean</c> and <c>latents_std</c> of its <c>config.json</c>; the image is
/// <c>clamp(x[:, :, 0] / 2 + 0.5, 0, 1)</c> as H x W x 3. Images are decoded one at a time.
/// </summary>
internal sealed class QwenImageVaeDecoder : ILatentDecoder
{
    private readonly OnnxGraph _graph;
    private readonly QwenLatentStatistics _statistics;

    public QwenImageVaeDecoder(ModelFolder folder, OnnxRuntimeOptions runtime)
    {
        var config = folder.Config("vae_decoder", "vae");
        _statistics = QwenLatentStatistics.Read(config);
        LatentChannels = _statistics.Channels;
        ScaleFactor = ScaleFactorOf(config);

        _graph = OnnxGraph.Open("vae_decoder", folder.Graph("vae_decoder", "vae"), runtime,
            [PortSpec.Of("latent_sample", "latents", "z")], [PortSpec.Of("sample", "image")]);
        var input = _graph.Input("latent_sample");
        if (input.Rank != 5 || !input.IsFloat || input.Fixed(1) is { } c && c != LatentChannels || input.Fixed(2) is { } f && f != 1)
        {
            throw new InvalidDataException(
                $"vae_decoder: input {input.Describe()} is not float latents [B, {LatentChannels}, 1, h, w] (Qwen-Image's VAE decodes 5-D latents with one frame).");
        }
    }

    /// <summary>2^len(<c>temperal_downsample</c>): image pixels per latent pixel (8).</summary>
    public int ScaleFactor { get; }

    public int LatentChannels { get; }

    public TimeSpan RunTime => _graph.RunTime;

    /// <summary>diffusers' <c>vae_scale_factor</c>: 2 to the number of entries of <c>temperal_downsample</c>.</summary>
    public static int ScaleFactorOf(JsonConfig config)
    {
        if (config.Element("temperal_downsample") is not { ValueKind: JsonValueKind.Array } e || e.GetArrayLength() is < 1 or > 8)
        {
            throw new InvalidDataException($"'{config.Path}': temperal_downsample must be an array of 1 to 8 entries (its length sets the VAE scale factor).");
        }

        return 1 << e.GetArrayLength();
    }

    /// <summary>The pipeline's VAE input, in place: <c>z / (1 / std_c) + mean_c</c> over latents [C, h, w].</summary>
    public void Denormalize(Span<float> latents, int height, int width) => _statistics.Denormalize(latents, height * width);

    /// <summary>Decodes de-normalised latents [C, h, w] into <paramref name="image"/>, H x W x 3 in [0, 1].</summary>
    public void Decode(ReadOnlySpan<float> latents, int height, int width, Span<float> image)
    {
        int outH = height * ScaleFactor, outW = width * ScaleFactor;
        using var input = new GraphTensor(_graph.Input("latent_sample").ElementType, [1, LatentChannels, 1, height, width]);
        input.SetFloats(latents);
        using var outputs = _graph.Run([("latent_sample", input.Value)], ["sample"]);
        var shape = outputs[0].GetTensorTypeAndShape().Shape;
        if (shape.Length != 5 || shape[0] != 1 || shape[1] != 3 || shape[2] != 1 || shape[3] != outH || shape[4] != outW)
        {
            throw new InvalidDataException($"vae_decoder: output shape [{string.Join(", ", shape)}], expected [1, 3, 1, {outH}, {outW}].");
        }

        var chw = new float[3 * outH * outW];
        GraphTensor.ReadFloats(outputs[0], chw);
        LatentBatch.ToUnitImage(chw, image);
    }

    public void Dispose() => _graph.Dispose();
}
