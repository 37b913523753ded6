using System.Diagnostics;
using Stork.Evaluation;
using Stork.Models;
using Stork.Sampling;
using Stork.Solvers.Catalog;

namespace Stork.Onnx;

/// <summary>
/// What a sample-quality run measures on one model with one classifier, from one seeded noise batch of
/// <see cref="QualityBenchSettings.Samples"/> samples: per cell (a solver at an NFE) the RMSE of the first
/// <see cref="QualityBenchSettings.RmseSamples"/> samples to an RK45 reference, the Frechet distance of all samples'
/// classifier features (clamped to the model's data range) to the test set's, the NFE used and the wall time. A single run
/// measures whole cells (<see cref="Measure"/>); a shard of a run measures its contiguous block of the run's chunks and
/// keeps the sums a merge adds up (<see cref="MeasureShard"/>), so that every sample is solved in the same batch, from the
/// same slice of the noise, as in a single run.
/// </summary>
public sealed class QualityBench
{
    private readonly IDenoiser _denoiser;
    private readonly OnnxClassifier _classifier;
    private readonly int _size;

    /// <summary>A run of <paramref name="denoiser"/> measured with <paramref name="classifier"/> (its card's test-set statistics).</summary>
    public QualityBench(IDenoiser denoiser, OnnxClassifier classifier, QualityBenchSettings settings)
    {
        ArgumentNullException.ThrowIfNull(denoiser);
        ArgumentNullException.ThrowIfNull(classifier);
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentOutOfRangeException.ThrowIfLessThan(settings.Samples, 2);
        ArgumentOutOfRangeException.ThrowIfLessThan(settings.RmseSamples, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(settings.RmseSamples, settings.Samples);
        ArgumentOutOfRangeException.ThrowIfLessThan(settings.Chunk, 1);
        _size = Sampler.SampleSize(denoiser);
        if (_size != classifier.Card.SampleSize)
        {
            throw new ArgumentException($"the classifier takes samples of {classifier.Card.SampleSize} values, the model makes {_size}.", nameof(classifier));
        }

        _denoiser = denoiser;
        _classifier = classifier;
        Settings = settings;
        (ReferenceMean, ReferenceCov) = ClassifierFeatures.TestStatistics(classifier.Card);
    }

    /// <summary>The run's sizes, seed, tolerance and data range.</summary>
    public QualityBenchSettings Settings { get; }

    /// <summary>The test set's feature mean.</summary>
    public double[] ReferenceMean { get; }

    /// <summary>The test set's feature covariance.</summary>
    public double[] ReferenceCov { get; }

    /// <summary>The whole run's noise: <see cref="QualityBenchSettings.Samples"/> samples from its seed.</summary>
    public float[] Noise() => GaussianNoise.Create(Settings.Samples * _size, Settings.Seed);

    /// <summary>
    /// One cell of a single run: <paramref name="spec"/> at <paramref name="nfe"/> from <paramref name="noise"/> (the
    /// whole run's), against <paramref name="reference"/> (the RK45 solution of its first samples).
    /// </summary>
    public QualityRow Measure(SolverSpec spec, int nfe, float[] noise, ReadOnlySpan<float> reference, IProgress<StepInfo>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(spec);
        ArgumentNullException.ThrowIfNull(noise);
        int n = Settings.Samples, nr = Settings.RmseSamples;
        var x = (float[])noise.Clone();
        var clock = Stopwatch.StartNew();
        int used = spec.SampleInChunks(_denoiser, nfe, x, Settings.Chunk, progress, cancellationToken);
        double seconds = clock.Elapsed.TotalSeconds;
        double rmse = OdeError.Rmse(x.AsSpan(0, nr * _size), reference);
        Clamp(x, Settings.Range);
        double fd = ClassifierFeatures.FrechetDistance(_classifier, x, n, Settings.Chunk, ReferenceMean, ReferenceCov, cancellationToken);
        return new QualityRow(spec.Label, spec.SettingsKey, nfe, used, n, fd, rmse, nr, seconds);
    }

    /// <summary>
    /// The samples [Start, End) of shard <paramref name="part"/>: its contiguous block of the run's chunks; every shard
    /// must get a chunk (an <see cref="OptionException"/> keyed <see cref="ShardSpec.Key"/> otherwise).
    /// </summary>
    public (int Start, int End) ShardSamples(ShardSpec part)
    {
        ArgumentNullException.ThrowIfNull(part);
        int n = Settings.Samples, chunk = Settings.Chunk;
        long blocks = (n + (long)chunk - 1) / chunk;
        part.CheckCovers(blocks, $"blocks of {chunk} samples (one chunk each)");
        var (firstBlock, blockCount) = part.Block(blocks);
        return ((int)(firstBlock * chunk), (int)Math.Min((firstBlock + blockCount) * chunk, n));
    }

    /// <summary>The RK45 reference of the shard's part of the first <see cref="QualityBenchSettings.RmseSamples"/> samples (empty when it has none).</summary>
    public float[] ShardReference(ShardSpec part, SolverSettings solverSettings, CancellationToken cancellationToken = default)
    {
        var (start, end) = ShardSamples(part);
        int rmseEnd = Math.Min(end, Settings.RmseSamples);
        if (rmseEnd <= start)
        {
            return [];
        }

        var mine = Noise().AsSpan(start * _size, (rmseEnd - start) * _size).ToArray();
        return OdeError.ReferenceSolution(_denoiser, mine, Settings.Tolerance, solverSettings, Settings.Chunk, cancellationToken);
    }

    /// <summary>
    /// Shard <paramref name="part"/> of the run's cells (<paramref name="specs"/> x <paramref name="counts"/>): per cell
    /// the feature moments about the test mean, the squared error against <paramref name="reference"/>
    /// (<see cref="ShardReference"/>) and the time, as the shard file <see cref="QualityShards.Merge"/> reads.
    /// </summary>
    public QualityShard MeasureShard(ShardSpec part, string key, string title, IReadOnlyList<SolverSpec> specs, IReadOnlyList<int> counts, float[] reference,
        IProgress<StepInfo>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(specs);
        ArgumentNullException.ThrowIfNull(counts);
        ArgumentNullException.ThrowIfNull(reference);
        var (start, end) = ShardSamples(part);
        float[] noise = Noise().AsSpan(start * _size, (end - start) * _size).ToArray();
        var cells = new List<QualityShardCell>();
        foreach (var spec in specs)
        {
            foreach (int nfe in counts)
            {
                var x = (float[])noise.Clone();
                var clock = Stopwatch.StartNew();
                int used = spec.SampleInChunks(_denoiser, nfe, x, Settings.Chunk, progress, cancellationToken);
                double seconds = clock.Elapsed.TotalSeconds;
                double sse = 0;
                for (int i = 0; i < reference.Length; i++)
                {
                    double d = (double)x[i] - reference[i];
                    sse += d * d;
                }

                Clamp(x, Settings.Range);
                var moments = ClassifierFeatures.Moments(_classifier, x, x.Length / _size, Settings.Chunk, ReferenceMean, cancellationToken); // sums about the test mean: no cancellation
                cells.Add(new QualityShardCell(spec.Label, spec.SettingsKey, nfe, used, moments, sse, reference.Length, seconds));
            }
        }

        return new QualityShard(key, part.Index, part.Count, Settings.Samples, Settings.RmseSamples, start, end, title,
            [.. specs.Select(s => s.Label)], [.. counts], ReferenceMean, ReferenceCov, cells);
    }

    private static void Clamp(float[] x, (double Min, double Max) range)
    {
        for (int i = 0; i < x.Length; i++)
        {
            x[i] = (float)Math.Clamp(x[i], range.Min, range.Max);
        }
    }
}

/// <summary>
/// The sizes of a quality run: <see cref="Samples"/> per cell (the Frechet distance), the first <see cref="RmseSamples"/>
/// also solved by RK45 at rtol = atol = <see cref="Tolerance"/>, <see cref="Chunk"/> samples per model call, the noise
/// <see cref="Seed"/>, and the model's data <see cref="Range"/> samples are clamped to before classifying.
/// </summary>
public sealed record QualityBenchSettings(int Samples, int RmseSamples, int Chunk, double Tolerance, long Seed, (double Min, double Max) Range);
