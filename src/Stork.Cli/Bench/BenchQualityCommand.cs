using System.CommandLine;
using System.Globalization;
using Stork.Evaluation;
using Stork.Imaging;
using Stork.IO;
using Stork.Models;
using Stork.Onnx;
using Stork.Sampling;
using Stork.Solvers;
using Stork.Solvers.Catalog;

namespace Stork.Cli.Bench;

/// <summary>
/// <c>stork bench quality</c>: for one model, a list of solvers and NFEs, from one fixed noise batch: RMSE against a
/// high-accuracy RK45 solution of the same ODE, Frechet distance in the shipped classifier's feature space against the
/// Fashion-MNIST test set, wall time and NFE. Results are appended to quality.csv cell by cell; a rerun skips the cells
/// already there (resumable), then writes quality.md, fd.png, rmse.png and grid.png.
/// </summary>
internal static class BenchQualityCommand
{
    public static Command Create(TextWriter stdout, TextWriter stderr)
    {
        var models = new ModelOptionSet();
        var defaults = new SolverOptionSet();
        var runtime = new RuntimeOptionSet();
        var solvers = new Option<string>("--solvers")
        {
            Description = "Comma-separated solvers with optional options in brackets, e.g. euler,dpm++2m,unipc,stork-4,stork-4[variant=upstream,s=50,d=1].",
            DefaultValueFactory = _ => "euler,dpm++2m,unipc,stork-2,stork-4",
        };
        var nfes = new Option<string>("--nfe") { Description = "Comma-separated numbers of model evaluations.", DefaultValueFactory = _ => "5,8,10,15,20,30,50" };
        var samples = new Option<int>("--samples") { Description = "Samples per cell for the Frechet distance (5000 or more for reported numbers).", DefaultValueFactory = _ => 5000 };
        var rmseSamples = new Option<int>("--rmse-samples") { Description = "The first samples of the batch also solved by RK45 for the RMSE.", DefaultValueFactory = _ => 256 };
        var referenceTol = new Option<double>("--reference-tol") { Description = "rtol = atol of the RK45 reference solution.", DefaultValueFactory = _ => 1e-6 };
        var chunk = new Option<int>("--chunk") { Description = "Samples per model call (bounds memory).", DefaultValueFactory = _ => 250 };
        var seed = new Option<long>("--seed") { Description = "Seed of the noise batch (the same for every cell).", DefaultValueFactory = _ => 0 };
        var classifier = new Option<string?>("--classifier") { Description = "Classifier model card with test-set feature statistics (default: the shipped models/fashion-classifier.json)." };
        var outDir = new Option<string>("--out-dir") { Description = "Where quality.csv, quality.md, fd.png, rmse.png and grid.png go.", DefaultValueFactory = _ => "bench-quality" };
        var shard = ShardOption.Create();
        shard.Description = "Run shard i of n (0-based) of every cell: the i-th contiguous block of the run's --chunk blocks of samples; writes quality.shard-i-of-n.json "
            + "(feature sums and outer-product sums, squared errors, time) for `stork bench merge`. Default from JOB_COMPLETION_INDEX + STORK_SHARD_COUNT or SLURM_ARRAY_TASK_ID/COUNT.";

        var command = new Command("quality", "Sample quality per model evaluation: RMSE to an RK45 solution, Frechet distance to Fashion-MNIST test features, wall time.");
        command.AddOptions(models.All.Concat(defaults.Settings).Concat(runtime.All), [solvers, nfes, samples, rmseSamples, referenceTol, chunk, seed, classifier, outDir, shard]);

        command.SetAction((r, ct) =>
        {
            int n = r.GetValue(samples), nr = r.GetValue(rmseSamples), chunkSize = r.GetValue(chunk);
            double tol = r.GetValue(referenceTol);
            if (n < 2 || nr < 1 || nr > n || chunkSize < 1)
            {
                throw new CliException($"need --samples >= 2, 1 <= --rmse-samples <= --samples and --chunk >= 1 (got {n}, {nr}, {chunkSize}).");
            }

            if (!(tol is > 0 and < 1))
            {
                throw new CliException($"--reference-tol must be between 0 and 1 (got {tol}).");
            }

            string dir = r.GetValue(outDir)!;
            if (File.Exists(dir))
            {
                throw new CliException($"--out-dir '{dir}' is a file, not a folder.");
            }

            var part = ShardOption.Resolve(r.GetValue(shard), Environment.GetEnvironmentVariable, stderr);
            var files = new OutputFiles();
            foreach (string f in part.IsPartial ? [part.Suffixed("quality.json")] : new[] { "quality.md", "fd.png", "rmse.png", "grid.png" })
            {
                files.Output(Path.Combine(dir, f), "--out-dir", createFolder: true);
            }

            models.DeclareInputs(r, files);
            files.Input(r.GetValue(classifier));
            var settings = defaults.Read(r);
            var specs = BenchOdeCommand.ParseSolvers(r.GetValue(solvers)!, settings);
            int[] counts = BenchOdeCommand.ParseInts(r.GetValue(nfes)!, "--nfe");
            var denoiser = models.Load(r, new DenoiserHints { DiscreteNoise = false }, runtime.Read(r));
            using var disposeModel = denoiser as IDisposable;
            defaults.Check(r, specs.Select(s => s.Name).Distinct().ToList(), ModelSpec.Of(denoiser));
            ModelOptionSet.DeclareInputs(denoiser, files);
            var range = ModelImages.RequireImage(denoiser, Path.Combine(dir, "grid.png"));
            string classifierPath = r.GetValue(classifier) ?? ShippedModels.Find("fashion-classifier.json")
                ?? throw new CliException("no --classifier given and the shipped models/fashion-classifier.json was not found.");
            using var net = OnnxClassifier.Load(classifierPath, runtime.Read(r));
            files.Input(net.Card.CardPath);
            files.Input(net.Card.OnnxPath);
            var bench = new QualityBench(denoiser, net, new QualityBenchSettings(n, nr, chunkSize, tol, r.GetValue(seed), range));
            int size = Sampler.SampleSize(denoiser);

            // The noise, one cell's samples and the reference, the features, and the solver's buffers for one chunk.
            int floats = MemoryBudget.Floats(n, size, "--samples");
            double bytes = (floats * 4.0 * 3) + (n * (double)net.FeatureDim * 4) + ((double)Math.Min(chunkSize, n) * size * MemoryBudget.SolverBytesPerFloat);
            MemoryBudget.Check(bytes, $"--samples {n} ({size} values each, --chunk {chunkSize})", "--samples or --chunk");

            string key = RunKey(r, models, denoiser, net, n, nr, tol, chunkSize);
            string title = string.Create(CultureInfo.InvariantCulture, $"{DenoiserImages.Name(denoiser)}: {n} samples, seed {r.GetValue(seed)}");
            if (part.IsPartial)
            {
                BenchShards.RunShard(bench, part, (key, title, DenoiserImages.Name(denoiser)), specs, counts, settings, files, Path.Combine(dir, part.Suffixed("quality.json")), stdout, stderr, ct);
                return Task.FromResult(0);
            }

            Directory.CreateDirectory(dir);
            string csvPath = Path.Combine(dir, "quality.csv");
            var done = QualityTable.Load(csvPath, key, n, nr, out string? problem);
            if (problem is not null)
            {
                stderr.WriteLine($"warning: '{csvPath}' {problem}; rebuilding it.");
            }

            float[] noise = bench.Noise();
            var spec0 = ModelSpec.Of(denoiser);
            float[] reference = ReferenceCache.GetOrSolve(Path.Combine(dir, $"reference-{key}.npy"), null, denoiser, noise.AsSpan(0, nr * size).ToArray(), tol, settings, chunkSize,
                m => stderr.WriteLine($"warning: {m}"), ct);
            var todo = specs.SelectMany(s => counts.Select(c => (Spec: s, Nfe: c))).Where(c => !done.ContainsKey((c.Spec.Label, c.Spec.SettingsKey, c.Nfe))).ToList();
            long total = todo.Sum(c => (long)c.Spec.PlannedEvaluations(spec0, c.Nfe) * (long)Math.Ceiling((double)n / chunkSize));
            ProgressDisplay.Run(stderr, $"bench quality on {DenoiserImages.Name(denoiser)}", (int)Math.Min(int.MaxValue, total), progress =>
            {
                foreach (var (spec, nfe) in todo)
                {
                    var row = bench.Measure(spec, nfe, noise, reference, progress, ct);
                    done[(row.Solver, row.Settings, nfe)] = row;
                    ct.ThrowIfCancellationRequested();
                    AtomicFile.WriteAllText(csvPath, QualityTable.CsvText(key, done.Values)); // the whole cache, atomically: a signal never leaves half a row
                }
            });

            var rows = specs.SelectMany(s => counts.Select(c => done[(s.Label, s.SettingsKey, c)])).ToList();
            var labels = specs.Select(s => s.Label).ToList();
            string md = QualityTable.Markdown(rows, labels, counts, title);
            files.SetText(Path.Combine(dir, "quality.md"), md);
            files.Set(Path.Combine(dir, "fd.png"), QualityCharts.FdPlot(rows, labels, title));
            files.Set(Path.Combine(dir, "rmse.png"), QualityCharts.RmsePlot(rows, labels, title, nr));
            files.Set(Path.Combine(dir, "grid.png"), QualityCharts.SampleGrid(denoiser, specs, counts, noise.AsSpan(0, Math.Min(8, n) * size).ToArray(), range, title, ct));
            files.Commit(ct);
            stdout.WriteLine(md);
            return Task.FromResult(0);
        });
        return command;
    }

    /// <summary>
    /// What determines a cache's content besides the solver: the model's and the classifier's files (SHA-256), the model's tuned grids (their times) and solver options, the
    /// model options, the seed, the sample counts, the reference tolerance and the chunk size.
    /// </summary>
    private static string RunKey(ParseResult r, ModelOptionSet models, IDenoiser denoiser, OnnxClassifier net, int n, int nr, double tol, int chunk)
    {
        string? model = r.GetValue(models.Model) is { } m ? DenoiserLoader.FileOf(m) : null;
        var modelFiles = denoiser is OnnxDenoiser o ? [o.Card.CardPath, o.Card.OnnxPath] : model is null ? Array.Empty<string>() : [model];
        var options = denoiser.SolverOptions.OrderBy(kv => kv.Key, StringComparer.OrdinalIgnoreCase).Select(kv => $"options {kv.Key}[{kv.Value}]");
        var settings = options.Concat(models.All.Select(option => $"{option.Name}={Convert.ToString(r.GetResult(option)?.GetValueOrDefault<object?>(), CultureInfo.InvariantCulture)}"))
            .Append(string.Create(CultureInfo.InvariantCulture, $"seed={r.GetValue<long>("--seed")} samples={n} rmse={nr} tol={tol:R} chunk={chunk}"));
        return QualityTable.RunKey(modelFiles.Concat([net.Card.CardPath, net.Card.OnnxPath]).Concat(net.Card.TestStats.Values), denoiser.TunedGrids.Select(g => g.Key), settings);
    }
}
