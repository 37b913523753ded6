using System.Globalization;
using System.Text.Json.Nodes;
using Stork.IO;

namespace Stork.Evaluation;

/// <summary>
/// The shards of a sharded sample-quality run (<c>stork bench quality --shard</c>) merged into the rows a single run
/// writes: Frechet statistics from the shards' feature sums and outer-product sums, RMSE from their squared errors.
/// A shard file (<see cref="Format"/>) holds the run's key, its shard index and count, the sample counts, the solvers
/// and NFEs, the reference statistics and one cell per (solver, NFE).
/// </summary>
public static class QualityShards
{
    /// <summary>The <c>format</c> value of a shard file.</summary>
    public const string Format = "stork bench quality shard v1";

    /// <summary>
    /// Reads and merges the shard files at <paramref name="paths"/>; files of another run, a missing or repeated shard,
    /// or damaged files are an <see cref="InvalidDataException"/>.
    /// </summary>
    public static MergedQuality Merge(IReadOnlyList<string> paths)
    {
        ArgumentNullException.ThrowIfNull(paths);
        var shards = paths.Select(Read).ToList();
        if (shards.Count == 0)
        {
            throw new ArgumentException("no shard files to merge.", nameof(paths));
        }

        var first = shards[0];
        string key = first.RequiredString("key");
        int count = first.Int("shards");
        foreach (var s in shards.Where(s => s.RequiredString("key") != key || s.Int("shards") != count))
        {
            throw new InvalidDataException($"'{s.Path}' belongs to another run than '{first.Path}' (key or shard count differ).");
        }

        var indices = shards.Select(s => s.Int("shard")).Order().ToList();
        if (!indices.SequenceEqual(Enumerable.Range(0, count)))
        {
            var missing = Enumerable.Range(0, count).Except(indices).ToList();
            var twice = indices.GroupBy(i => i).Where(g => g.Count() > 1).Select(g => g.Key).ToList();
            throw new InvalidDataException($"the run has {count} shards; "
                + (missing.Count > 0 ? $"missing shard(s) {string.Join(", ", missing)}" : $"shard(s) {string.Join(", ", twice)} given twice") + ".");
        }

        var refMean = first.NumberArray("reference_mean");
        var refCov = first.NumberArray("reference_cov");
        int n = first.Int("samples"), nr = first.Int("rmse_samples");
        var cells0 = first.Sections("cells");
        var cells = shards.Select(s => s.Sections("cells") is { } a && a.Count == cells0.Count ? a
            : throw new InvalidDataException($"'{s.Path}' has another number of cells than '{first.Path}'.")).ToList();
        var rows = new List<QualityRow>();
        for (int c = 0; c < cells0.Count; c++)
        {
            var parts = cells.Select(a => a[c]).ToList();
            FeatureMoments moments;
            try
            {
                moments = FeatureMoments.Merge(parts.Select(p => new FeatureMoments((long)p.Number("count"), p.NumberArray("sum"), p.NumberArray("outer_sum"), refMean)));
            }
            catch (ArgumentException e)
            {
                throw new InvalidDataException($"the shard files do not fit together or are damaged ({e.Message}).", e);
            }

            if (moments.Count != n)
            {
                throw new InvalidDataException($"the shards hold {moments.Count} samples of cell {c}, the run has {n}.");
            }

            var (mean, cov) = moments.ToStatistics();
            double fd = FrechetDistance.Compute(mean, cov, refMean, refCov);
            double sse = parts.Sum(p => p.Number("sse"));
            double values = parts.Sum(p => Math.Floor(p.Number("sse_values")));
            var cell = cells0[c];
            rows.Add(new QualityRow(cell.RequiredString("solver"), cell.String("settings") ?? "", cell.Int("requested_nfe"),
                cell.Int("nfe"), n, fd, Math.Sqrt(sse / values), nr, parts.Sum(p => p.Number("seconds"))));
        }

        string title = (first.String("title") ?? "") + string.Create(CultureInfo.InvariantCulture, $" ({count} shards)");
        return new MergedQuality(key, rows, first.StringArray("solvers"), first.IntArray("nfe"), title, nr);
    }

    /// <summary>The shard file's text (<see cref="Format"/>): <paramref name="shard"/>'s description and its cells.</summary>
    public static string ToJson(QualityShard shard)
    {
        ArgumentNullException.ThrowIfNull(shard);
        static JsonArray Numbers(IEnumerable<double> values) => new([.. values.Select(v => (JsonNode)JsonValue.Create(v))]);
        var cells = new JsonArray();
        foreach (var c in shard.Cells)
        {
            cells.Add(new JsonObject
            {
                ["solver"] = c.Solver,
                ["settings"] = c.Settings,
                ["requested_nfe"] = c.RequestedNfe,
                ["nfe"] = c.Nfe,
                ["count"] = c.Moments.Count,
                ["sum"] = Numbers(c.Moments.Sum), // of the features less reference_mean
                ["outer_sum"] = Numbers(c.Moments.OuterSum),
                ["sse"] = c.Sse,
                ["sse_values"] = c.SseValues,
                ["seconds"] = c.Seconds,
            });
        }

        return new JsonObject
        {
            ["format"] = Format,
            ["key"] = shard.Key,
            ["shard"] = shard.Shard,
            ["shards"] = shard.Shards,
            ["samples"] = shard.Samples,
            ["rmse_samples"] = shard.RmseSamples,
            ["first_sample"] = shard.FirstSample,
            ["end_sample"] = shard.EndSample,
            ["title"] = shard.Title,
            ["solvers"] = new JsonArray([.. shard.Solvers.Select(s => (JsonNode)JsonValue.Create(s))]),
            ["nfe"] = new JsonArray([.. shard.Nfe.Select(c => (JsonNode)JsonValue.Create(c))]),
            ["reference_mean"] = Numbers(shard.ReferenceMean),
            ["reference_cov"] = Numbers(shard.ReferenceCov),
            ["cells"] = cells,
        }.ToJsonString();
    }

    private static JsonConfig Read(string path)
    {
        var json = JsonConfig.Parse(InputFile.ReadAllText(path, "bench shard file", 1L << 30), path,
            $"'{path}' (a bench quality shard file)", m => new InvalidDataException(m));
        return json.String("format") == Format ? json : throw json.Error($"not a {Format} file.");
    }
}

/// <summary>The merged run: its key, one row per cell, the solvers' labels, the NFEs, the title and the RMSE sample count.</summary>
public sealed record MergedQuality(string Key, IReadOnlyList<QualityRow> Rows, IReadOnlyList<string> Labels, IReadOnlyList<int> Counts, string Title, int RmseSamples);

/// <summary>One shard of a sample-quality run: which samples of which run, and its cells.</summary>
public sealed record QualityShard(string Key, int Shard, int Shards, int Samples, int RmseSamples, int FirstSample, int EndSample, string Title,
    IReadOnlyList<string> Solvers, IReadOnlyList<int> Nfe, IReadOnlyList<double> ReferenceMean, IReadOnlyList<double> ReferenceCov, IReadOnlyList<QualityShardCell> Cells);

/// <summary>One (solver, NFE) cell of a shard: the feature moments and squared error over the shard's samples, and its time.</summary>
public sealed record QualityShardCell(string Solver, string Settings, int RequestedNfe, int Nfe, FeatureMoments Moments, double Sse, long SseValues, double Seconds);
