using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using Spectre.Console;
using Stork.Imaging;
using Stork.Onnx;
using Stork.Sampling;
using Stork.Solvers;
using Stork.Solvers.Catalog;

namespace Stork.Cli;

/// <summary>
/// <c>stork compare</c>: several solvers at several step counts from the same noise, drawn as one labelled grid (rows
/// solvers, columns step counts), with a table of evaluations and times on stdout.
/// </summary>
internal static class CompareCommand
{
    /// <summary>Most cells (solvers x step counts) one grid may have.</summary>
    public const int MaxCells = 400;

    public static Command Create(TextWriter stdout, TextWriter stderr)
    {
        var models = new ModelOptionSet();
        var solvers = new SolverOptionSet();
        var runtime = new RuntimeOptionSet();
        var schedulers = new Option<string>("--schedulers")
        {
            Description = "Comma-separated solvers, one grid row each (from: " + string.Join(", ", SolverRegistry.Names) + ").",
            DefaultValueFactory = _ => "stork-4",
        };
        var steps = new Option<string>("--steps")
        {
            Description = "Comma-separated step counts (model evaluations), one grid column each.",
            DefaultValueFactory = _ => "5,10,20",
        };
        var seed = new Option<long>("--seed") { Description = "Seed of the noise every cell starts from.", DefaultValueFactory = _ => 0 };
        var batch = new Option<int>("--batch") { Description = "Samples per cell.", DefaultValueFactory = _ => 4 };
        var output = new Option<string>("--out") { Description = "Output PNG.", DefaultValueFactory = _ => "compare.png" };
        var scale = new Option<int>("--scale") { Description = "Pixels per sample pixel.", DefaultValueFactory = _ => 2 };

        var command = new Command("compare", "Sample with several solvers at several step counts from the same noise and draw one labelled grid (rows solvers, columns steps).");
        foreach (var o in models.All.Concat(solvers.Settings).Concat(runtime.All))
        {
            command.Add(o);
        }

        foreach (Option o in new Option[] { schedulers, steps, seed, batch, output, scale })
        {
            command.Add(o);
        }

        command.SetAction((r, ct) =>
        {
            string outPath = r.GetValue(output)!;
            if (!outPath.EndsWith(".png", StringComparison.OrdinalIgnoreCase))
            {
                throw new CliException($"--out must end in .png (got '{outPath}').");
            }

            string[] names = ParseList(r.GetValue(schedulers)!, "--schedulers");
            foreach (string n in names.Where(n => !SolverRegistry.Contains(n)))
            {
                throw new CliException($"unknown scheduler '{n}' (expected one of: {string.Join(", ", SolverRegistry.Names)}).");
            }

            foreach (string n in names.Where(SolverRegistry.IsAdaptive))
            {
                throw new CliException($"--schedulers: {n} is an adaptive integrator that chooses its own evaluations; a row of the grid needs a fixed-step solver.");
            }

            int[] counts = ParseList(r.GetValue(steps)!, "--steps").Select(s =>
                int.TryParse(s, NumberStyles.None, CultureInfo.InvariantCulture, out int v) && v >= 1
                    ? SolverOptionSet.CheckSteps(v, "--steps")
                    : throw new CliException($"--steps must be a comma-separated list of positive integers up to {SolverOptionSet.MaxSteps} (got '{s}').")).ToArray();
            if (names.Length * (long)counts.Length > MaxCells)
            {
                throw new CliException($"--schedulers x --steps make {names.Length} x {counts.Length} cells; the grid holds at most {MaxCells}.");
            }

            int batchSize = r.GetValue(batch), pixelScale = r.GetValue(scale);
            if (batchSize is < 1 or > 64 || pixelScale is < 1 or > 16)
            {
                throw new CliException($"--batch must be 1 to 64 and --scale 1 to 16 (got {batchSize}, {pixelScale}).");
            }

            var files = new OutputFiles();
            files.Output(outPath, "--out");
            models.DeclareInputs(r, files);
            var settings = solvers.Read(r);
            // One model for every row: noise models (Gaussian mixture, empirical) take the continuous VP unless --noise-schedule says.
            var denoiser = models.Load(r, new DenoiserHints { DiscreteNoise = false }, runtime.Read(r));
            using var disposeModel = denoiser as IDisposable;
            ModelOptionSet.DeclareInputs(denoiser, files);
            var range = ModelImages.RequireImage(denoiser, outPath);
            var shape = denoiser.SampleShape.ToArray();
            long size = shape.Aggregate(1L, (a, b) => a * b);
            int floats = MemoryBudget.Floats(batchSize, size, "--batch");
            // Every cell keeps its raster (3 bytes per pixel, scale^2 pixels per value) until the grid is drawn, then the grid and its PNG.
            double cellsBytes = (double)names.Length * counts.Length * floats * pixelScale * pixelScale * 3 * 3;
            MemoryBudget.Check(cellsBytes + (floats * (double)MemoryBudget.SolverBytesPerFloat * 2),
                $"compare with {names.Length} x {counts.Length} cells of {batchSize} samples", "--batch, --scale or the number of --schedulers / --steps");
            float[] noise = GaussianNoise.Create(floats, r.GetValue(seed));

            // Build every solver first: a bad combination fails before any sampling.
            var spec = ModelSpec.Of(denoiser);
            solvers.Check(r, names, spec);
            settings = settings.WithTrainingTimestepsOf(denoiser.Schedule);
            var grid = new ISolver[names.Length, counts.Length];
            for (int i = 0; i < names.Length; i++)
            {
                for (int j = 0; j < counts.Length; j++)
                {
                    grid[i, j] = SolverRegistry.Create(names[i], spec, counts[j], settings);
                }
            }

            var cells = new Raster[names.Length, counts.Length];
            var seconds = new double[names.Length, counts.Length];
            int total = (int)Math.Min(int.MaxValue, grid.Cast<ISolver>().Sum(s => (long)s.Times.Count));
            ProgressDisplay.Run(stderr, $"compare on {ModelImages.Name(denoiser)}", total, progress =>
            {
                for (int i = 0; i < names.Length; i++)
                {
                    for (int j = 0; j < counts.Length; j++)
                    {
                        var x = (float[])noise.Clone();
                        var clock = Stopwatch.StartNew();
                        Sampler.Run(denoiser, grid[i, j], x, progress, ct);
                        seconds[i, j] = clock.Elapsed.TotalSeconds;
                        cells[i, j] = SampleImage.RenderBatch(x, shape, range, pixelScale, columns: batchSize);
                    }
                }
            });

            string[] columnLabels = counts.Select((c, j) =>
                Enumerable.Range(0, names.Length).All(i => grid[i, j].Times.Count == c) ? $"NFE {c}" : $"{c} steps").ToArray();
            string title = string.Create(CultureInfo.InvariantCulture, $"{ModelImages.Name(denoiser)}, seed {r.GetValue(seed)}");
            files.Set(outPath, PngFile.Encode(LabelledGrid.Compose(cells, names, columnLabels, title)));
            files.Commit(ct);

            var table = new Table().AddColumns("scheduler", "steps", "NFE", "seconds");
            for (int i = 0; i < names.Length; i++)
            {
                for (int j = 0; j < counts.Length; j++)
                {
                    table.AddRow(names[i], counts[j].ToString(CultureInfo.InvariantCulture), grid[i, j].Times.Count.ToString(CultureInfo.InvariantCulture),
                        seconds[i, j].ToString("F2", CultureInfo.InvariantCulture));
                }
            }

            var console = AnsiConsole.Create(new AnsiConsoleSettings
            {
                Out = new AnsiConsoleOutput(stdout),
                Ansi = ReferenceEquals(stdout, Console.Out) && !Console.IsOutputRedirected ? AnsiSupport.Detect : AnsiSupport.No,
                ColorSystem = ColorSystemSupport.Detect,
            });
            console.Write(table);
            stdout.WriteLine($"wrote {outPath}: {names.Length} schedulers x {counts.Length} step counts, {batchSize} samples per cell.");
            return Task.FromResult(0);
        });
        return command;
    }

    private static string[] ParseList(string value, string option)
    {
        string[] items = value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (items.Length == 0)
        {
            throw new CliException($"{option} must name at least one value.");
        }

        if (items.Distinct(StringComparer.OrdinalIgnoreCase).Count() != items.Length)
        {
            throw new CliException($"{option} lists a value twice ('{value}').");
        }

        return items;
    }
}
