using Stork.IO;
using Stork.Sampling;

namespace Stork.Cli;

/// <summary>
/// The initial noise: read from a .npy file (float32 or float64, validated against the model's sample shape from its
/// header, before its data is read) or seeded; either way the run's memory is checked against <see cref="MemoryBudget"/>.
/// </summary>
internal static class NoiseInput
{
    /// <summary>
    /// Loads or creates the noise. <paramref name="bytesPerSample"/> is what the run allocates per sample beyond the
    /// solver's buffers (images, outputs); the budget check names --batch or --noise.
    /// </summary>
    public static float[] Load(string? path, long? seed, int? batch, int[] sampleShape, out int batchSize, double bytesPerSample = 0)
    {
        long size = sampleShape.Aggregate(1L, (a, b) => a * b);
        if (path is null)
        {
            batchSize = batch ?? 4;
            if (batchSize < 1)
            {
                throw new CliException($"--batch must be at least 1 (got {batchSize}).");
            }

            int floats = MemoryBudget.Floats(batchSize, size, "--batch");
            MemoryBudget.Check(batchSize * ((size * MemoryBudget.SolverBytesPerFloat) + bytesPerSample),
                $"--batch {batchSize} ({size} values per sample)", "--batch");
            return GaussianNoise.Create(floats, seed ?? 0);
        }

        if (seed is not null || batch is not null)
        {
            throw new CliException("give either --noise or --seed/--batch, not both.");
        }

        if (!File.Exists(path) && !Directory.Exists(path))
        {
            throw new CliException($"noise file '{path}' does not exist.");
        }

        var header = NpyFile.ReadHeader(path);
        string expected = $"[batch, {string.Join(", ", sampleShape)}]";
        if (header.Shape.Length != sampleShape.Length + 1 || !header.Shape.AsSpan(1).SequenceEqual(sampleShape) || header.Shape[0] < 1)
        {
            throw new CliException($"noise '{path}' has shape [{string.Join(", ", header.Shape)}]; the model needs {expected}.");
        }

        if (!header.IsFloat)
        {
            throw new CliException($"noise '{path}' holds {header.DType} values; it must be float32 or float64.");
        }

        batchSize = header.Shape[0];
        MemoryBudget.Floats(batchSize, size, "the batch of --noise");
        MemoryBudget.Check(batchSize * ((size * (MemoryBudget.SolverBytesPerFloat + 8)) + bytesPerSample),
            $"--noise '{path}' ({batchSize} samples of {size} values)", "the batch of --noise");
        var array = NpyFile.Read(path, floatOnly: true);
        if (array.Data.Any(v => !double.IsFinite(v)))
        {
            throw new CliException($"noise '{path}' contains NaN or infinite values.");
        }

        return array.ToSingle();
    }
}
