using Stork.Sampling;

namespace Stork.Cli;

/// <summary><c>--noise FILE</c> or <c>--seed</c>/<c>--batch</c>: the run's initial noise (<see cref="NoiseBatch"/>).</summary>
internal static class NoiseInput
{
    /// <summary>
    /// Loads or creates the noise. <paramref name="bytesPerSample"/> is what the run allocates per sample beyond the
    /// solver's buffers (images, outputs).
    /// </summary>
    public static float[] Load(string? path, long? seed, int? batch, int[] sampleShape, out int batchSize, double bytesPerSample = 0)
    {
        if (path is null)
        {
            batchSize = batch ?? 4;
            return NoiseBatch.Seeded(batchSize, seed ?? 0, sampleShape, bytesPerSample, "--batch");
        }

        return seed is not null || batch is not null
            ? throw new CliException("give either --noise or --seed/--batch, not both.")
            : NoiseBatch.Read(path, sampleShape, bytesPerSample, "the batch of --noise", out batchSize);
    }
}
