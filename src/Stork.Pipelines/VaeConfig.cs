using Stork.IO;

namespace Stork.Pipelines;

/// <summary>
/// A VAE's latent scaling from its <c>config.json</c> (diffusers' <c>AutoencoderKL</c>): the pixel-to-latent scale factor
/// 2^(len(block_out_channels) - 1), <c>scaling_factor</c>, <c>shift_factor</c> and <c>latent_channels</c>; shared by the
/// encoder and the decoder.
/// </summary>
internal readonly record struct VaeConfig(int ScaleFactor, double ScalingFactor, double ShiftFactor, int LatentChannels)
{
    /// <summary>Reads and checks the fields; a bad value is an <see cref="InvalidDataException"/> naming the file.</summary>
    public static VaeConfig Read(JsonConfig config)
    {
        var blocks = config.IntArray("block_out_channels");
        if (blocks.Length < 1 || blocks.Length > 8)
        {
            throw new InvalidDataException($"'{config.Path}': block_out_channels must have 1 to 8 entries (got {blocks.Length}).");
        }

        double scaling = config.Number("scaling_factor", 0.18215);
        if (!(scaling > 0))
        {
            throw new InvalidDataException($"'{config.Path}': scaling_factor must be positive (got {scaling}).");
        }

        return new VaeConfig(1 << (blocks.Length - 1), scaling, config.NumberOrNull("shift_factor") ?? 0.0, config.Int("latent_channels", 4));
    }
}
