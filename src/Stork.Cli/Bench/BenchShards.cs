using System.CommandLine;
using Stork.Evaluation;
using Stork.Imaging;
using Stork.IO;
using Stork.Onnx;
using Stork.Sampling;
using Stork.Solvers;
using Stork.Solvers.Catalog;

namespace Stork.Cli.Bench;

/// <summary>
/// Sharded <c>stork bench quality</c> and <c>stork bench merge</c>. A shard takes a contiguous block of the run's
/// <c>--chunk</c> blocks of samples (so every sample is solved in the same batch as in a single run, from the same slice
/// of the seeded noise), and writes per cell the feature moments (count, sums, outer-product sums), the squared error
/// against the RK45 reference over its part of the first <c>--rmse-samples</c>, and its time. The merge adds the shards
/// and writes what a single run writes (quality.csv, which a later single run then uses as its cache; quality.md;
/// fd.png; rmse.png), except grid.png, which needs the model.
/// </summary>
internal static class BenchShards
{
    public static void RunShard(QualityBench bench, ShardSpec part, (string Key, string Title, string Model) run, IReadOnlyList<SolverSpec> specs, int[] counts,
        SolverSettings settings, OutputFiles files, string path, TextWriter stdout, TextWriter stderr, CancellationToken ct)
    {
        var (start, end) = bench.ShardSamples(part);
        float[] reference = [];
        if (Math.Min(end, bench.Settings.RmseSamples) > start)
        {
            ProgressDisplay.Run(stderr, "RK45 reference", 0, _ => reference = bench.ShardReference(part, settings, ct));
        }

        QualityShard shard = null!;
        ProgressDisplay.Run(stderr, $"bench quality shard {part} on {run.Model}", 0, progress => shard = bench.MeasureShard(part, run.Key, run.Title, specs, counts, reference, progress, ct));
        files.SetText(path, QualityShards.ToJson(shard));
        files.Commit(ct);
        stdout.WriteLine($"wrote {path}: shard {part}, samples {start} to {end - 1} of {bench.Settings.Samples}, {shard.Cells.Count} cell(s); merge with `stork bench merge`.");
    }

    public static Command CreateMerge(TextWriter stdout)
    {
        var shardFiles = new Argument<string[]>("shards") { Description = "The shards' quality.shard-I-of-N.json files (default: all of them in --out-dir).", Arity = ArgumentArity.ZeroOrMore };
        var outDir = new Option<string>("--out-dir") { Description = "Where quality.csv, quality.md, fd.png and rmse.png go (the shards' folder by default).", DefaultValueFactory = _ => "bench-quality" };
        var command = new Command("merge", "Merge the shards of a sharded `bench quality` run: Frechet statistics from the shards' feature sums and outer-product sums, RMSE from their squared errors.")
        {
            shardFiles,
            outDir,
        };
        command.SetAction((r, ct) =>
        {
            string dir = r.GetValue(outDir)!;
            var paths = r.GetValue(shardFiles) is { Length: > 0 } given ? given
                : Directory.Exists(dir) ? Directory.GetFiles(dir, "quality.shard-*-of-*.json").Order(StringComparer.Ordinal).ToArray() : [];
            if (paths.Length == 0)
            {
                throw new CliException($"no shard files given and none (quality.shard-*-of-*.json) in '{dir}'.");
            }

            var files = new OutputFiles();
            foreach (string p in paths)
            {
                files.Input(p);
            }

            foreach (string f in new[] { "quality.csv", "quality.md", "fd.png", "rmse.png" })
            {
                files.Output(Path.Combine(dir, f), "--out-dir", createFolder: true);
            }

            var merged = QualityShards.Merge(paths);
            string md = QualityTable.Markdown(merged.Rows, merged.Labels, merged.Counts, merged.Title);
            files.SetText(Path.Combine(dir, "quality.csv"), QualityTable.CsvText(merged.Key, merged.Rows));
            files.SetText(Path.Combine(dir, "quality.md"), md);
            files.Set(Path.Combine(dir, "fd.png"), QualityCharts.FdPlot(merged.Rows, merged.Labels, merged.Title));
            files.Set(Path.Combine(dir, "rmse.png"), QualityCharts.RmsePlot(merged.Rows, merged.Labels, merged.Title, merged.RmseSamples));
            files.Commit(ct);
            stdout.WriteLine(md);
            return Task.FromResult(0);
        });
        return command;
    }
}
