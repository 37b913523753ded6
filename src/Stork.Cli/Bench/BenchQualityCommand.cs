using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using Stork.Evaluation;
using Stork.Imaging;
using Stork.IO;
using Stork.Models;
using Stork.Onnx;
using Stork.Sampling;
using Stork.Solvers;

namespace Stork.Cli.Bench;

/// <summary>
/// <c>stork bench quality</c>: for one model, a list of solvers and NFEs, from one fixed noise batch: RMSE against a
/// high-accuracy RK45 solution of the same ODE, Frechet distance in the shipped classifier's feature space against the
/// Fashion-MNIST test set, wall time and NFE. Results are appended to quality.csv cell by cell; a rerun skips the cells
/// already there (resumable), then writes quality.md, fd.png, rmse.png and grid.png.
/// </summary>
internal static class BenchQualityCommand
{
    private const string Header = "solver,requested_nfe,nfe,samples,fd,rmse,rmse_samples,seconds";

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

        var command = new Command("quality", "Sample quality per model evaluation: RMSE to an RK45 solution, Frechet distance to Fashion-MNIST test features, wall time.");
        foreach (var o in models.All.Concat(defaults.All.Where(o => o != defaults.Scheduler && o != defaults.Steps && o != defaults.SchedulerConfig)).Concat(runtime.All))
        {
            command.Add(o);
        }

        foreach (var o in new Option[] { solvers, nfes, samples, rmseSamples, referenceTol, chunk, seed, classifier, outDir })
        {
            command.Add(o);
        }

        command.SetAction((r, ct) =>
        {
            int n = r.GetValue(samples), nr = r.GetValue(rmseSamples), chunkSize = r.GetValue(chunk);
            if (n < 2 || nr < 1 || nr > n || chunkSize < 1)
            {
                throw new CliException($"need --samples >= 2, 1 <= --rmse-samples <= --samples and --chunk >= 1 (got {n}, {nr}, {chunkSize}).");
            }

            var settings = defaults.Read(r);
            var specs = SolverSpec.ParseList(r.GetValue(solvers)!, settings);
            int[] counts = BenchOdeCommand.ParseInts(r.GetValue(nfes)!, "--nfe");
            var denoiser = models.Load(r, new ModelDefaults { DiscreteNoise = false }, runtime.Read(r));
            using var disposeModel = denoiser as IDisposable;
            string dir = r.GetValue(outDir)!;
            var range = ModelImages.RequireImage(denoiser, Path.Combine(dir, "grid.png"));
            string classifierPath = r.GetValue(classifier) ?? ShippedModels.Find("fashion-classifier.json")
                ?? throw new CliException("no --classifier given and the shipped models/fashion-classifier.json was not found.");
            using var net = OnnxClassifier.Load(classifierPath, runtime.Read(r));
            var (refMean, refCov) = LoadStats(net.Card);
            int size = Sampler.SampleSize(denoiser);
            if (size != net.Card.SampleSize)
            {
                throw new CliException($"the classifier takes samples of {net.Card.SampleSize} values, the model makes {size}.");
            }

            Directory.CreateDirectory(dir);
            string csvPath = Path.Combine(dir, "quality.csv");
            var done = ReadCsv(csvPath);
            float[] noise = GaussianNoise.Create(checked(n * size), r.GetValue(seed));
            var spec0 = ModelSpec.Of(denoiser);

            float[] reference = Reference(dir, denoiser, noise.AsSpan(0, nr * size).ToArray(), r.GetValue(referenceTol), chunkSize, settings, stderr, ct);
            var todo = specs.SelectMany(s => counts.Select(c => (Spec: s, Nfe: c))).Where(c => !done.ContainsKey((c.Spec.Label, c.Nfe))).ToList();
            int total = todo.Sum(c => c.Spec.CreateForNfe(spec0, c.Nfe).Times.Count * (int)Math.Ceiling((double)n / chunkSize));
            ProgressDisplay.Run(stderr, $"bench quality on {ModelImages.Name(denoiser)}", total, progress =>
            {
                foreach (var (spec, nfe) in todo)
                {
                    var x = (float[])noise.Clone();
                    var clock = Stopwatch.StartNew();
                    int used = 0;
                    for (int start = 0; start < n; start += chunkSize)
                    {
                        int count = Math.Min(chunkSize, n - start);
                        var solver = spec.CreateForNfe(spec0, nfe);
                        var counter = new CountingDenoiser(denoiser);
                        Sampler.Run(counter, solver, x.AsSpan(start * size, count * size), progress, ct);
                        used = counter.Evaluations;
                    }

                    double seconds = clock.Elapsed.TotalSeconds;
                    double rmse = OdeError.Rmse(x.AsSpan(0, nr * size), reference);
                    Clamp(x, range);
                    double fd = Frechet(net, x, n, chunkSize, refMean, refCov);
                    var row = new QualityRow(spec.Label, nfe, used, n, fd, rmse, nr, seconds);
                    done[(spec.Label, nfe)] = row;
                    AppendCsv(csvPath, row);
                }
            });

            var rows = specs.SelectMany(s => counts.Select(c => done[(s.Label, c)])).ToList();
            string title = string.Create(CultureInfo.InvariantCulture, $"{ModelImages.Name(denoiser)}: {n} samples, seed {r.GetValue(seed)}");
            string md = Markdown(rows, specs, counts, title);
            AtomicFile.WriteAllText(Path.Combine(dir, "quality.md"), md);
            PngFile.Write(Path.Combine(dir, "fd.png"), LinePlot.Render($"Frechet distance to test features, {title}", "model evaluations (NFE)", "FD", Series(rows, specs, x => x.Fd)));
            PngFile.Write(Path.Combine(dir, "rmse.png"), LinePlot.Render($"RMSE to RK45 (first {nr}), {title}", "model evaluations (NFE)", "RMSE", Series(rows, specs, x => x.Rmse)));
            WriteGrid(Path.Combine(dir, "grid.png"), denoiser, specs, counts, noise.AsSpan(0, Math.Min(8, n) * size).ToArray(), range, title, ct);
            stdout.WriteLine(md);
            return Task.FromResult(0);
        });
        return command;
    }

    private static float[] Reference(string dir, IDenoiser denoiser, float[] noise, double tol, int chunk, SolverSettings settings, TextWriter stderr, CancellationToken ct)
    {
        string key = string.Create(CultureInfo.InvariantCulture, $"reference-{ModelImages.Name(denoiser)}-{noise.Length}-{tol:0e0}-{Hash(noise):x8}.npy");
        string path = Path.Combine(dir, key);
        if (File.Exists(path))
        {
            var cached = NpyFile.Read(path);
            if (cached.Data.Length == noise.Length)
            {
                return cached.ToSingle();
            }
        }

        float[] x = [];
        ProgressDisplay.Run(stderr, "RK45 reference", 0, _ => x = OdeError.ReferenceSolution(denoiser, noise, tol, settings, chunk, ct));
        int size = Sampler.SampleSize(denoiser);
        NpyFile.Write(path, [noise.Length / size, .. denoiser.SampleShape], x);
        return x;
    }

    private static uint Hash(float[] data)
    {
        uint h = 2166136261;
        foreach (float v in data)
        {
            h = (h ^ (uint)BitConverter.SingleToInt32Bits(v)) * 16777619;
        }

        return h;
    }

    private static void Clamp(float[] x, (double Min, double Max) range)
    {
        for (int i = 0; i < x.Length; i++)
        {
            x[i] = (float)Math.Clamp(x[i], range.Min, range.Max);
        }
    }

    private static double Frechet(OnnxClassifier net, float[] x, int n, int chunk, double[] refMean, double[] refCov)
    {
        int size = net.Card.SampleSize, dim = net.FeatureDim;
        var features = new float[n * dim];
        for (int start = 0; start < n; start += chunk)
        {
            int count = Math.Min(chunk, n - start);
            var logits = new float[count * net.Classes];
            net.Run(x.AsSpan(start * size, count * size), features.AsSpan(start * dim, count * dim), logits);
        }

        var (mean, cov) = FrechetDistance.Statistics(features, n, dim);
        return FrechetDistance.Compute(mean, cov, refMean, refCov);
    }

    private static (double[] Mean, double[] Cov) LoadStats(ModelCard card)
    {
        if (!card.TestStats.TryGetValue("mean", out string? mean) || !card.TestStats.TryGetValue("cov", out string? cov))
        {
            throw new CliException($"classifier card '{card.CardPath}' has no test_stats (mean, cov).");
        }

        string dir = Path.GetDirectoryName(card.CardPath) ?? ".";
        var m = NpyFile.Read(Path.Combine(dir, mean)).Data;
        var c = NpyFile.Read(Path.Combine(dir, cov)).Data;
        if (m.Length != card.FeatureDim || c.Length != card.FeatureDim * card.FeatureDim)
        {
            throw new CliException($"classifier test statistics do not match its feature dimension {card.FeatureDim}.");
        }

        return (m, c);
    }

    private static void WriteGrid(string path, IDenoiser denoiser, IReadOnlyList<SolverSpec> specs, int[] counts, float[] noise,
        (double Min, double Max) range, string title, CancellationToken ct)
    {
        var cells = new Raster[specs.Count, counts.Length];
        for (int i = 0; i < specs.Count; i++)
        {
            for (int j = 0; j < counts.Length; j++)
            {
                var x = (float[])noise.Clone();
                Sampler.Run(denoiser, specs[i].CreateForNfe(ModelSpec.Of(denoiser), counts[j]), x, null, ct);
                cells[i, j] = SampleImage.RenderBatch(x, denoiser.SampleShape, range, 1, columns: 4);
            }
        }

        PngFile.Write(path, LabelledGrid.Compose(cells, specs.Select(s => s.Label).ToList(), counts.Select(c => $"NFE {c}").ToList(), title));
    }

    private static List<PlotSeries> Series(IEnumerable<QualityRow> rows, IReadOnlyList<SolverSpec> specs, Func<QualityRow, double> value) =>
        specs.Select(s => new PlotSeries(s.Label, rows.Where(x => x.Solver == s.Label).Select(x => ((double)x.Nfe, value(x))).ToList())).ToList();

    private static string Markdown(IReadOnlyList<QualityRow> rows, IReadOnlyList<SolverSpec> specs, int[] counts, string title)
    {
        var sb = new StringBuilder().AppendLine(CultureInfo.InvariantCulture, $"**{title}**").AppendLine();
        void Table(string what, Func<QualityRow, string> cell)
        {
            sb.AppendLine(CultureInfo.InvariantCulture, $"{what}").AppendLine();
            sb.Append("| solver |").AppendJoin("", counts.Select(c => string.Create(CultureInfo.InvariantCulture, $" NFE {c} |"))).AppendLine();
            sb.Append("|---|").AppendJoin("", counts.Select(_ => "---|")).AppendLine();
            foreach (var s in specs)
            {
                sb.Append(CultureInfo.InvariantCulture, $"| {s.Label} |");
                foreach (int c in counts)
                {
                    var row = rows.First(x => x.Solver == s.Label && x.RequestedNfe == c);
                    string note = row.Nfe != c ? string.Create(CultureInfo.InvariantCulture, $" ({row.Nfe})") : "";
                    sb.Append(CultureInfo.InvariantCulture, $" {cell(row)}{note} |");
                }

                sb.AppendLine();
            }

            sb.AppendLine();
        }

        Table("Frechet distance to the Fashion-MNIST test set (classifier features; lower is better)", x => x.Fd.ToString("0.00", CultureInfo.InvariantCulture));
        Table("RMSE to the RK45 solution from the same noise (lower is better)", x => x.Rmse.ToString("0.00e+0", CultureInfo.InvariantCulture));
        Table("Wall time of the cell, seconds", x => x.Seconds.ToString("0.0", CultureInfo.InvariantCulture));
        return sb.ToString();
    }

    private static Dictionary<(string, int), QualityRow> ReadCsv(string path)
    {
        var rows = new Dictionary<(string, int), QualityRow>();
        if (!File.Exists(path))
        {
            return rows;
        }

        foreach (string line in File.ReadLines(path).Skip(1).Where(l => l.Length > 0))
        {
            int q = line.LastIndexOf('"');
            string solver = line[1..q];
            string[] f = line[(q + 2)..].Split(',');
            var c = CultureInfo.InvariantCulture;
            var row = new QualityRow(solver, int.Parse(f[0], c), int.Parse(f[1], c), int.Parse(f[2], c), double.Parse(f[3], c),
                double.Parse(f[4], c), int.Parse(f[5], c), double.Parse(f[6], c));
            rows[(row.Solver, row.RequestedNfe)] = row;
        }

        return rows;
    }

    private static void AppendCsv(string path, QualityRow r)
    {
        bool fresh = !File.Exists(path);
        using var w = new StreamWriter(path, append: true);
        if (fresh)
        {
            w.WriteLine(Header);
        }

        w.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"\"{r.Solver}\",{r.RequestedNfe},{r.Nfe},{r.Samples},{r.Fd:R},{r.Rmse:R},{r.RmseSamples},{r.Seconds:R}"));
    }

    private sealed record QualityRow(string Solver, int RequestedNfe, int Nfe, int Samples, double Fd, double Rmse, int RmseSamples, double Seconds);
}
