using Stork.Onnx;

namespace Stork.Pipelines.ImageInputs;

/// <summary>
/// The VAE encoder graph (<c>vae_encoder/</c> of Optimum's layout): an image [1, 3, H, W] in [-1, 1] in, the parameters
/// of diffusers' <c>DiagonalGaussianDistribution</c> [1, 2C, H/8, W/8] out (mean, then log-variance). The latents are
/// the posterior mean (diffusers' <c>retrieve_latents(..., sample_mode="argmax")</c>), then
/// <c>(mean - shift_factor) · scaling_factor</c> in float32 (FLUX.1, SD3; SD1.5/SDXL have no shift). Images are encoded
/// one at a time. Qwen-Image's VAE (<c>AutoencoderKLQwenImage</c>, a causal 3-D VAE) encodes a one-frame video instead:
/// <c>sample</c> [1, 3, 1, H, W] to <c>latent_parameters</c> [1, 2C, 1, H/8, W/8], normalised per channel with
/// <c>latents_mean</c> and <c>latents_std</c> (<see cref="QwenImage.QwenLatentStatistics"/>, as its pipelines'
/// <c>_encode_vae_image</c>).
/// </summary>
internal sealed class VaeEncoder : IDisposable
{
    private readonly OnnxGraph _graph;
    private readonly QwenImage.QwenLatentStatistics? _statistics;

    /// <summary>Opens <c>vae_encoder/</c>; <paramref name="frameAxis"/> for Qwen-Image's 3-D VAE (one frame).</summary>
    public VaeEncoder(ModelFolder folder, OnnxRuntimeOptions runtime, bool frameAxis = false)
    {
        RequireIn(folder);

        var config = File.Exists(Path.Combine(folder.Root, "vae_encoder", "config.json"))
            ? folder.Config("vae_encoder")
            : folder.Config("vae_decoder", "vae");
        if (frameAxis)
        {
            _statistics = QwenImage.QwenLatentStatistics.Read(config);
            ScaleFactor = QwenImage.QwenImageVaeDecoder.ScaleFactorOf(config);
            ScalingFactor = 1.0;
            LatentChannels = _statistics.Channels;
        }
        else
        {
            var vae = VaeConfig.Read(config);
            ScaleFactor = vae.ScaleFactor;
            ScalingFactor = vae.ScalingFactor;
            ShiftFactor = vae.ShiftFactor;
            LatentChannels = vae.LatentChannels;
        }

        _graph = OnnxGraph.Open("vae_encoder", folder.Graph("vae_encoder"), runtime,
            [PortSpec.Of("sample", "pixel_values", "image")], [PortSpec.Of("latent_parameters", "latent_dist", "latent_sample")]);
        var input = _graph.Input("sample");
        int rank = frameAxis ? 5 : 4;
        if (input.Rank != rank || !input.IsFloat || input.Fixed(1) is { } c && c != 3 || frameAxis && input.Fixed(2) is { } t && t != 1)
        {
            throw new InvalidDataException(
                $"vae_encoder: input {input.Describe()} is not a float image {(frameAxis ? "[B, 3, 1, H, W] (Qwen-Image's VAE encodes one frame)" : "[B, 3, H, W]")}.");
        }
    }

    /// <summary>Image inputs need <c>vae_encoder/model.onnx</c>: checked before any work.</summary>
    public static void RequireIn(ModelFolder folder)
    {
        if (!File.Exists(Path.Combine(folder.Root, "vae_encoder", "model.onnx")))
        {
            throw new InvalidDataException(
                $"model folder '{folder.Root}' has no vae_encoder/model.onnx: image inputs need the VAE encoder (Optimum exports it beside vae_decoder/).");
        }
    }

    /// <summary>Image pixels per latent pixel.</summary>
    public int ScaleFactor { get; }

    public double ScalingFactor { get; }

    public double ShiftFactor { get; }

    public int LatentChannels { get; }

    public TimeSpan RunTime => _graph.RunTime;

    /// <summary>Encodes an image [3, H, W] in [-1, 1]: the normalised posterior mean [C, H/f, W/f].</summary>
    public float[] Encode(ReadOnlySpan<float> chw, int height, int width) => Normalize(Parameters(chw, height, width));

    /// <summary>The graph's <c>latent_parameters</c> [2C, H/f, W/f] of one image.</summary>
    public float[] Parameters(ReadOnlySpan<float> chw, int height, int width)
    {
        if (height % ScaleFactor != 0 || width % ScaleFactor != 0 || chw.Length != 3 * height * width)
        {
            throw new ArgumentException($"vae_encoder: an image of {height} x {width} (multiples of {ScaleFactor}) needs {3 * height * width} values, got {chw.Length}.");
        }

        int h = height / ScaleFactor, w = width / ScaleFactor;
        bool frame = _statistics is not null;
        using var input = new GraphTensor(_graph.Input("sample").ElementType, frame ? [1, 3, 1, height, width] : [1, 3, height, width]);
        input.SetFloats(chw);
        using var outputs = _graph.Run([("sample", input.Value)], ["latent_parameters"]);
        var shape = outputs[0].GetTensorTypeAndShape().Shape;
        long[] expected = frame ? [1, 2 * LatentChannels, 1, h, w] : [1, 2 * LatentChannels, h, w];
        if (!shape.SequenceEqual(expected))
        {
            throw new InvalidDataException(
                $"vae_encoder: output shape [{string.Join(", ", shape)}], expected [{string.Join(", ", expected)}] (mean and log-variance of {LatentChannels} channels).");
        }

        var parameters = new float[2 * LatentChannels * h * w];
        GraphTensor.ReadFloats(outputs[0], parameters);
        return parameters;
    }

    /// <summary>
    /// The mean half of <paramref name="parameters"/>, shifted and scaled: <c>(mean - shift) · scale</c> in float32, or
    /// per channel for Qwen-Image.
    /// </summary>
    public float[] Normalize(ReadOnlySpan<float> parameters)
    {
        int n = parameters.Length / 2;
        if (_statistics is not null)
        {
            var normalized = parameters[..n].ToArray();
            _statistics.Normalize(normalized, n / LatentChannels);
            return normalized;
        }

        float scale = (float)ScalingFactor, shift = (float)ShiftFactor;
        var z = new float[n];
        for (int i = 0; i < n; i++)
        {
            z[i] = ShiftFactor == 0.0 ? parameters[i] * scale : (parameters[i] - shift) * scale;
        }

        return z;
    }

    public void Dispose() => _graph.Dispose();
}
