using Stork.IO;

namespace Stork.Pipelines.QwenImage;

/// <summary>
/// Qwen-Image's per-channel latent normalisation (<c>latents_mean</c>, <c>latents_std</c> of <c>AutoencoderKLQwenImage</c>'s
/// <c>config.json</c>), in float32 as diffusers computes it: <c>inv_c = 1.0 / tensor(latents_std)</c>; the encoder's
/// latents are <c>(z - mean_c) · inv_c</c>, the decoder's input <c>z / inv_c + mean_c</c>.
/// </summary>
internal sealed class QwenLatentStatistics
{
    private readonly float[] _mean;
    private readonly float[] _inverseStd;

    private QwenLatentStatistics(float[] mean, float[] inverseStd)
    {
        _mean = mean;
        _inverseStd = inverseStd;
    }

    /// <summary>Latent channels (<c>z_dim</c>).</summary>
    public int Channels => _mean.Length;

    /// <summary>Reads <c>z_dim</c>, <c>latents_mean</c> and <c>latents_std</c>; a missing or bad field names the file.</summary>
    public static QwenLatentStatistics Read(JsonConfig config)
    {
        int channels = config.Int("z_dim", 16);
        double[] mean = config.NumberArrayOrNull("latents_mean") ?? throw new InvalidDataException($"'{config.Path}': latents_mean is missing.");
        double[] std = config.NumberArrayOrNull("latents_std") ?? throw new InvalidDataException($"'{config.Path}': latents_std is missing.");
        if (mean.Length != channels || std.Length != channels || std.Any(s => !(s > 0)))
        {
            throw new InvalidDataException(
                $"'{config.Path}': latents_mean and latents_std must hold {channels} (z_dim) values, the std positive (got {mean.Length} and {std.Length}).");
        }

        return new QwenLatentStatistics([.. mean.Select(m => (float)m)], [.. std.Select(s => 1f / (float)s)]);
    }

    /// <summary>The encoder's side, in place over latents [C, plane]: <c>(z - mean_c) · inv_c</c>.</summary>
    public void Normalize(Span<float> latents, int plane)
    {
        for (int c = 0; c < Channels; c++)
        {
            var p = latents.Slice(c * plane, plane);
            float mean = _mean[c], inv = _inverseStd[c];
            for (int i = 0; i < p.Length; i++)
            {
                p[i] = (p[i] - mean) * inv;
            }
        }
    }

    /// <summary>The decoder's side, in place over latents [C, plane]: <c>z / inv_c + mean_c</c>.</summary>
    public void Denormalize(Span<float> latents, int plane)
    {
        for (int c = 0; c < Channels; c++)
        {
            var p = latents.Slice(c * plane, plane);
            float mean = _mean[c], inv = _inverseStd[c];
            for (int i = 0; i < p.Length; i++)
            {
                p[i] = (p[i] / inv) + mean;
            }
        }
    }
}
