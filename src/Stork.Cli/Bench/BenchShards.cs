using System.CommandLine;
using System.Diagnostics;
using Stork.Evaluation;
using Stork.IO;
using Stork.Models;
using Stork.Onnx;
using Stork.Sampling;
using Stork.Solvers;
using Stork.Solvers.Catalog;
using static Stork.Cli.Bench.BenchQualityCommand;

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
    internal sealed record ShardRun(ShardSpec Part, string Key, string Title, int Samples, int RmseSamples, int Chunk, double Tolerance, long Seed,
        (double Min, double Max) Range, double[] RefMean, double[] RefCov);

    public static void RunShard(ShardRun run, IDenoiser denoiser, OnnxClassifier net, IReadOnlyList<SolverSpec> specs, int[] counts,
        SolverSettings settings, OutputFiles files, string path, TextWriter stdout, TextWriter stderr, CancellationToken ct)
    {
        int n = run.Samples, chunk = run.Chunk, size = Sampler.SampleSize(denoiser);
        long blocks = (n + (long)chunk - 1) / chunk;
        run.Part.CheckCovers(blocks, $"blocks of --chunk {chunk} samples");
        var (firstBlock, blockCount) = run.Part.Block(blocks);
        int start = (int)(firstBlock * chunk), end = (int)Math.Min((firstBlock + blockCount) * chunk, n);
        int rmseEnd = Math.Min(end, run.RmseSamples);

        // The whole run's noise, as a single run draws it, then this shard's slice.
        float[] all = GaussianNoise.Create(n * size, run.Seed);
        float[] noise = all.AsSpan(start * size, (end - start) * size).ToArray();
        float[] reference = [];
        if (rmseEnd > start)
        {
            var mine = noise.AsSpan(0, (rmseEnd - start) * size).ToArray();
            ProgressDisplay.Run(stderr, "RK45 reference", 0, _ => reference = OdeError.ReferenceSolution(denoiser, mine, run.Tolerance, settings, chunk, ct));
        }

        var cells = new List<QualityShardCell>();
        ProgressDisplay.Run(stderr, $"bench quality shard {run.Part} on {ModelImages.Name(denoiser)}", 0, progress =>
        {
            foreach (var spec in specs)
            {
                foreach (int nfe in counts)
                {
                    var x = (float[])noise.Clone();
                    var clock = Stopwatch.StartNew();
                    int used = spec.SampleInChunks(denoiser, nfe, x, chunk, progress, ct);
                    double seconds = clock.Elapsed.TotalSeconds;
                    double sse = 0;
                    for (int i = 0; i < reference.Length; i++)
                    {
                        double d = (double)x[i] - reference[i];
                        sse += d * d;
                    }

                    Clamp(x, run.Range);
                    var moments = ClassifierFeatures.Moments(net, x, x.Length / size, chunk, run.RefMean, ct); // sums about the test mean: no cancellation
                    cells.Add(new QualityShardCell(spec.Label, SettingsKey(spec), nfe, used, moments, sse, reference.Length, seconds));
                }
            }
        });

        files.SetText(path, QualityShards.ToJson(new QualityShard(run.Key, run.Part.Index, run.Part.Count, n, run.RmseSamples, start, end, run.Title,
            [.. specs.Select(s => s.Label)], counts, run.RefMean, run.RefCov, cells)));
        files.Commit(ct);
        stdout.WriteLine($"wrote {path}: shard {run.Part}, samples {start} to {end - 1} of {n}, {cells.Count} cell(s); merge with `stork bench merge`.");
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
            Plots(files, dir, merged.Rows, merged.Labels, merged.Title, merged.RmseSamples);
            files.Commit(ct);
            stdout.WriteLine(md);
            return Task.FromResult(0);
        });
        return command;
    }
}
