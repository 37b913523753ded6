using Stork.IO;
using Stork.Sampling;

namespace Stork.Cli;

/// <summary>The initial noise: read from a .npy file (validated against the model's sample shape) or seeded.</summary>
internal static class NoiseInput
{
    public static float[] Load(string? path, long? seed, int? batch, int[] sampleShape, out int batchSize)
    {
        int size = sampleShape.Aggregate(1, (a, b) => a * b);
        if (path is null)
        {
            batchSize = batch ?? 4;
            if (batchSize < 1)
            {
                throw new CliException($"--batch must be at least 1 (got {batchSize}).");
            }

            return GaussianNoise.Create(checked(batchSize * size), seed ?? 0);
        }

        if (seed is not null || batch is not null)
        {
            throw new CliException("give either --noise or --seed/--batch, not both.");
        }

        if (!File.Exists(path))
        {
            throw new CliException($"noise file '{path}' does not exist.");
        }

        var array = NpyFile.Read(path);
        string expected = $"[batch, {string.Join(", ", sampleShape)}]";
        if (array.Shape.Length != sampleShape.Length + 1 || !array.Shape.AsSpan(1).SequenceEqual(sampleShape) || array.Shape[0] < 1)
        {
            throw new CliException($"noise '{path}' has shape [{string.Join(", ", array.Shape)}]; the model needs {expected}.");
        }

        if (array.Data.Any(v => !double.IsFinite(v)))
        {
            throw new CliException($"noise '{path}' contains NaN or infinite values.");
        }

        batchSize = array.Shape[0];
        return array.ToSingle();
    }
}
