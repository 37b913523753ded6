namespace Stork.Pipelines;

/// <summary>A VAE decoder as the pipelines use it: one image's latents [C, h, w] de-normalised, then decoded.</summary>
internal interface ILatentDecoder : IOnnxComponent
{
    /// <summary>Latent channels the decoder takes.</summary>
    int LatentChannels { get; }

    /// <summary>Image pixels per latent pixel.</summary>
    int ScaleFactor { get; }

    /// <summary>The pipeline's VAE input from its latents [C, h, w], in place.</summary>
    void Denormalize(Span<float> latents, int height, int width);

    /// <summary>Decodes de-normalised latents [C, h, w] into <paramref name="image"/>, H x W x 3 in [0, 1].</summary>
    void Decode(ReadOnlySpan<float> latents, int height, int width, Span<float> image);
}
