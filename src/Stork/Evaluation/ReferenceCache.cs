using Stork.IO;
using Stork.Models;
using Stork.Sampling;
using Stork.Solvers.Catalog;

namespace Stork.Evaluation;

/// <summary>
/// The converged RK45 solution of a noise batch (<see cref="OdeError.ReferenceSolution"/>) cached in a <c>.npy</c> file,
/// so that a repeated or resumed run (<c>stork bench quality</c>, <c>stork tune</c>) does not solve it again. With a key,
/// <c>FILE.key</c> beside it names the run the cache belongs to; a cache of another key is solved again silently, a
/// damaged one with a warning.
/// </summary>
public static class ReferenceCache
{
    /// <summary>
    /// The cached solution at <paramref name="path"/> when it is whole (shape, finite values) and, with
    /// <paramref name="key"/>, its key matches; else the solution, solved and written there.
    /// </summary>
    public static float[] GetOrSolve(string path, string? key, IDenoiser denoiser, float[] noise, double tolerance, SolverSettings settings, int chunk,
        Action<string>? warning = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(denoiser);
        ArgumentNullException.ThrowIfNull(noise);
        int[] shape = [noise.Length / Sampler.SampleSize(denoiser), .. denoiser.SampleShape];
        return GetOrCompute(path, key, shape, () => OdeError.ReferenceSolution(denoiser, noise, tolerance, settings, chunk, cancellationToken), warning, cancellationToken);
    }

    /// <summary>
    /// The cached reference at <paramref name="path"/> of shape <paramref name="shape"/> when it is whole (shape, finite
    /// values) and, with <paramref name="key"/>, its key matches; else <paramref name="compute"/>'s, written there. Any
    /// converged solution (RK45 on a model, a pipeline's many-step run) is cached this way.
    /// </summary>
    public static float[] GetOrCompute(string path, string? key, int[] shape, Func<float[]> compute, Action<string>? warning = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(path);
        ArgumentNullException.ThrowIfNull(shape);
        ArgumentNullException.ThrowIfNull(compute);
        if (Directory.Exists(path))
        {
            throw new IOException($"'{path}' is a folder; remove it so that the reference can be cached there.");
        }

        string keyPath = path + ".key";
        if (File.Exists(path) && (key is null || (File.Exists(keyPath) && File.ReadAllText(keyPath) == key)))
        {
            if (Read(path, shape) is { } cached)
            {
                return cached;
            }

            warning?.Invoke($"the cached reference '{path}' is damaged; computing it again.");
        }

        float[] x = compute();
        cancellationToken.ThrowIfCancellationRequested();
        long count = shape.Aggregate(1L, (a, b) => a * b);
        if (x.Length != count)
        {
            throw new ArgumentException($"the reference has {x.Length} values; its shape [{string.Join(", ", shape)}] holds {count}.");
        }

        NpyFile.Write(path, shape, x);
        if (key is not null)
        {
            AtomicFile.WriteAllText(keyPath, key);
        }

        return x;
    }

    private static float[]? Read(string path, int[] shape)
    {
        try
        {
            var header = NpyFile.ReadHeader(path);
            if (header.Shape.SequenceEqual(shape) && header.IsFloat)
            {
                var cached = NpyFile.Read(path, floatOnly: true);
                if (cached.Data.All(double.IsFinite))
                {
                    return cached.ToSingle();
                }
            }
        }
        catch (InvalidDataException)
        {
        }

        return null;
    }
}
