using Stork.IO;
using Stork.Onnx;

namespace Stork.Pipelines;

/// <summary>
/// The VAE decoder graph (<c>vae_decoder/</c>, or <c>vae/</c>): latents [1, C, h, w] in, an image [1, 3, 8h, 8w] in
/// [-1, 1] out, mapped to [0, 1] and H x W x 3 as diffusers' <c>VaeImageProcessor.postprocess(output_type="np")</c>:
/// <c>clamp(x / 2 + 0.5, 0, 1)</c>. Images are decoded one at a time (the result does not depend on the batch).
/// </summary>
internal sealed class VaeDecoder : ILatentDecoder
{
    private readonly OnnxGraph _graph;

    public VaeDecoder(ModelFolder folder, OnnxRuntimeOptions runtime)
    {
        var config = folder.Config("vae_decoder", "vae");
        var vae = VaeConfig.Read(config);
        ScaleFactor = vae.ScaleFactor;
        ScalingFactor = vae.ScalingFactor;
        ShiftFactor = vae.ShiftFactor;
        LatentChannels = vae.LatentChannels;

        _graph = OnnxGraph.Open("vae_decoder", folder.Graph("vae_decoder", "vae"), runtime,
            [PortSpec.Of("latent_sample", "latents", "z")], [PortSpec.Of("sample", "image")]);
        var input = _graph.Input("latent_sample");
        if (input.Rank != 4 || !input.IsFloat || input.Fixed(1) is { } c && c != LatentChannels)
        {
            throw new InvalidDataException($"vae_decoder: input {input.Describe()} is not float latents [B, {LatentChannels}, h, w].");
        }
    }

    /// <summary>diffusers' <c>vae_scale_factor</c>: 2^(len(block_out_channels) - 1).</summary>
    public static int ScaleFactorOf(JsonConfig config) => VaeConfig.Read(config).ScaleFactor;

    /// <summary>2^(len(block_out_channels) - 1): image pixels per latent pixel.</summary>
    public int ScaleFactor { get; }

    public double ScalingFactor { get; }

    public double ShiftFactor { get; }

    public int LatentChannels { get; }

    public TimeSpan RunTime => _graph.RunTime;

    /// <summary>
    /// Decodes latents [C, h, w] (already in the VAE's space: <c>z / scaling_factor + shift_factor</c>) into
    /// <paramref name="image"/>, H x W x 3 in [0, 1].
    /// </summary>
    public void Decode(ReadOnlySpan<float> latents, int height, int width, Span<float> image)
    {
        int outH = height * ScaleFactor, outW = width * ScaleFactor;
        using var input = new GraphTensor(_graph.Input("latent_sample").ElementType, [1, LatentChannels, height, width]);
        input.SetFloats(latents);
        using var outputs = _graph.Run([("latent_sample", input.Value)], ["sample"]);
        var shape = outputs[0].GetTensorTypeAndShape().Shape;
        if (shape.Length != 4 || shape[0] != 1 || shape[1] != 3 || shape[2] != outH || shape[3] != outW)
        {
            throw new InvalidDataException($"vae_decoder: output shape [{string.Join(", ", shape)}], expected [1, 3, {outH}, {outW}].");
        }

        var chw = new float[3 * outH * outW];
        GraphTensor.ReadFloats(outputs[0], chw);
        LatentBatch.ToUnitImage(chw, image);
    }

    /// <summary>The VAE input of diffusers' pipelines: <c>z / scaling_factor + shift_factor</c>, in place.</summary>
    public void Denormalize(Span<float> latents, int height, int width)
    {
        float scale = (float)ScalingFactor, shift = (float)ShiftFactor;
        for (int i = 0; i < latents.Length; i++)
        {
            latents[i] = (latents[i] / scale) + shift;
        }
    }

    public void Dispose() => _graph.Dispose();
}
