using System.Globalization;
using Stork.IO;

namespace Stork.Sampling;

/// <summary>
/// The initial noise of a run: seeded (<see cref="GaussianNoise"/>) or read from a .npy file (float32 or float64,
/// checked against the model's sample shape from its header, before its data is read); either way the run's memory is
/// checked against <see cref="MemoryBudget"/> first. <c>change</c> names, in the caller's words, what makes the run
/// smaller when it does not fit.
/// </summary>
public static class NoiseBatch
{
    /// <summary>
    /// <paramref name="batch"/> samples of <paramref name="sampleShape"/> from <paramref name="seed"/>;
    /// <paramref name="bytesPerSample"/> is what the run allocates per sample beyond the solver's buffers.
    /// </summary>
    public static float[] Seeded(int batch, long seed, IReadOnlyList<int> sampleShape, double bytesPerSample, string change)
    {
        ArgumentNullException.ThrowIfNull(sampleShape);
        if (batch < 1)
        {
            throw new OptionException("batch", string.Create(CultureInfo.InvariantCulture, $"must be at least 1 (got {batch})."));
        }

        long size = Size(sampleShape);
        int floats = MemoryBudget.Floats(batch, size, change);
        MemoryBudget.Check(batch * ((size * MemoryBudget.SolverBytesPerFloat) + bytesPerSample),
            string.Create(CultureInfo.InvariantCulture, $"a batch of {batch} ({size} values per sample)"), change);
        return GaussianNoise.Create(floats, seed);
    }

    /// <summary>
    /// The noise in <paramref name="path"/>, shaped [batch, ...<paramref name="sampleShape"/>] (<paramref name="batch"/>:
    /// its first axis); non-finite values are refused.
    /// </summary>
    public static float[] Read(string path, IReadOnlyList<int> sampleShape, double bytesPerSample, string change, out int batch)
    {
        ArgumentNullException.ThrowIfNull(path);
        ArgumentNullException.ThrowIfNull(sampleShape);
        if (!File.Exists(path) && !Directory.Exists(path))
        {
            throw new FileNotFoundException($"noise file '{path}' does not exist.", path);
        }

        long size = Size(sampleShape);
        var header = NpyFile.ReadHeader(path);
        string expected = $"[batch, {string.Join(", ", sampleShape)}]";
        if (header.Shape.Length != sampleShape.Count + 1 || !header.Shape.AsSpan(1).SequenceEqual(sampleShape.ToArray()) || header.Shape[0] < 1)
        {
            throw new InvalidDataException($"noise '{path}' has shape [{string.Join(", ", header.Shape)}]; the model needs {expected}.");
        }

        if (!header.IsFloat)
        {
            throw new InvalidDataException($"noise '{path}' holds {header.DType} values; it must be float32 or float64.");
        }

        batch = header.Shape[0];
        MemoryBudget.Floats(batch, size, change);
        MemoryBudget.Check(batch * ((size * (MemoryBudget.SolverBytesPerFloat + 8)) + bytesPerSample),
            string.Create(CultureInfo.InvariantCulture, $"the noise '{path}' ({batch} samples of {size} values)"), change);
        var array = NpyFile.Read(path, floatOnly: true);
        if (array.Data.Any(v => !double.IsFinite(v)))
        {
            throw new InvalidDataException($"noise '{path}' contains NaN or infinite values.");
        }

        return array.ToSingle();
    }

    private static long Size(IReadOnlyList<int> sampleShape) => sampleShape.Aggregate(1L, (a, b) => a * b);
}
