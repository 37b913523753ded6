using System.CommandLine;
using System.Globalization;
using Spectre.Console;
using Stork.Imaging;
using Stork.IO;
using Stork.Onnx;
using Stork.Pipelines;
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
        var scale = new Option<int>("--scale") { Description = "Pixels per sample pixel (model folders: per image pixel; default 2, 1 for images wider than 128).", DefaultValueFactory = _ => 2 };
        var prompt = new Option<string?>("--prompt") { Description = "Text-to-image model folders (--model FOLDER; default the shipped fashion-flux): the prompt of every cell; each cell's label gives seconds, model evaluations and the RMSE of its image to the converged --reference run from the same noise." };
        var reference = new Option<string>("--reference")
        {
            Description = "Model folders: the converged run each cell is measured against, SOLVER:STEPS (its own error, against half its steps, is printed).",
            DefaultValueFactory = _ => "dpm++2m:200",
        };

        var command = new Command("compare", "Sample with several solvers at several step counts from the same noise and draw one labelled grid (rows solvers, columns steps).");
        command.AddOptions(models.All.Concat(solvers.Settings).Concat(runtime.All), [schedulers, steps, seed, batch, output, scale, prompt, reference]);

        command.SetAction((r, ct) =>
        {
            string outPath = r.GetValue(output)!;
            if (!outPath.EndsWith(".png", StringComparison.OrdinalIgnoreCase))
            {
                throw new CliException($"--out must end in .png (got '{outPath}').");
            }

            string[] names = ParseList(r.GetValue(schedulers)!, "--schedulers");
            foreach (string n in names)
            {
                SolverRegistry.Require(n);
            }

            int[] counts = Bench.BenchOdeCommand.ParseInts(r.GetValue(steps)!, "--steps");
            if (names.Length * (long)counts.Length > SchedulerComparison.MaxCells)
            {
                throw new CliException($"--schedulers x --steps make {names.Length} x {counts.Length} cells; the grid holds at most {SchedulerComparison.MaxCells}.");
            }

            if (r.GetValue(prompt) is { } text)
            {
                var refuse = models.All.Where(o => o != models.Model).Append(batch).FirstOrDefault(o => r.GetResult(o) is { Implicit: false });
                return refuse is null
                    ? Task.FromResult(CompareFolder(r, (solvers, runtime, stdout, stderr, ct), text, names, counts, r.GetValue(models.Model), r.GetValue(reference)!, r.GetValue(seed), r.GetValue(scale), outPath))
                    : throw new CliException($"{refuse.Name} does not apply to a text-to-image model folder.");
            }

            if (r.GetValue(models.Model) is { } m && Directory.Exists(ShippedModels.Resolve(m)))
            {
                throw new CliException($"'{m}' is a model folder: give --prompt to compare solvers on it.");
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

            // Every solver is built first: a bad combination fails before any sampling.
            solvers.Check(r, names, ModelSpec.Of(denoiser));
            var comparison = SolverComparison.Create(denoiser, names, counts, settings.WithTrainingTimestepsOf(denoiser.Schedule));
            ComparisonCell[,] cells = null!;
            ProgressDisplay.Run(stderr, $"compare on {DenoiserImages.Name(denoiser)}", comparison.TotalEvaluations, progress => cells = comparison.Run(noise, progress, ct));
            var table = new Table().AddColumns("scheduler", "steps", "NFE", "seconds");
            for (int i = 0; i < names.Length; i++)
            {
                for (int j = 0; j < counts.Length; j++)
                {
                    table.AddRow(names[i], counts[j].ToString(CultureInfo.InvariantCulture), cells[i, j].Evaluations.ToString(CultureInfo.InvariantCulture),
                        cells[i, j].Seconds.ToString("F2", CultureInfo.InvariantCulture));
                }
            }

            string title = string.Create(CultureInfo.InvariantCulture, $"{DenoiserImages.Name(denoiser)}, seed {r.GetValue(seed)}");
            files.Set(outPath, QualityCharts.ComparisonGrid(cells, names, counts, shape, range, pixelScale, batchSize, title));
            files.Commit(ct);

            WriteTable(stdout, table);
            stdout.WriteLine($"wrote {outPath}: {names.Length} schedulers x {counts.Length} step counts, {batchSize} samples per cell.");
            return Task.FromResult(0);
        });
        return command;
    }

    private static int CompareFolder(ParseResult r, (SolverOptionSet Solvers, RuntimeOptionSet Runtime, TextWriter Out, TextWriter Err, CancellationToken Token) io, string text, string[] names, int[] counts, string? model, string referenceSpec, long seed, int pixelScale, string outPath)
    {
        var (referenceScheduler, referenceSteps) = SchedulerComparison.ParseReference(referenceSpec);
        if (pixelScale is < 1 or > 16)
        {
            throw new CliException($"--scale must be 1 to 16 (got {pixelScale}).");
        }

        var files = new OutputFiles();
        files.Output(outPath, "--out");
        string folder = ShippedModels.TextToImageFolder(model);
        files.Input(folder);
        var settings = io.Solvers.Read(r);
        io.Solvers.Check(r, names, null);
        using var pipeline = TextToImage.Load(folder, new PipelineOptions { Runtime = io.Runtime.Read(r) });
        var request = new SchedulerComparisonRequest
        {
            Generation = new GenerationRequest { Prompt = text, Seed = seed },
            Schedulers = names,
            Steps = counts,
            Settings = settings,
            ReferenceScheduler = referenceScheduler,
            ReferenceSteps = referenceSteps,
        };
        SchedulerComparisonResult result = null!;
        ProgressDisplay.Run(io.Err, $"compare on {Path.GetFileName(Path.TrimEndingDirectorySeparator(folder))}", SchedulerComparison.TotalSteps(request),
            progress => result = SchedulerComparison.Run(pipeline, request, progress, io.Token));
        var table = new Table().AddColumns("scheduler", "steps", "NFE", "seconds", "RMSE");
        foreach (var cell in result.Cells)
        {
            table.AddRow(cell.Scheduler, cell.Steps.ToString(CultureInfo.InvariantCulture), cell.Evaluations.ToString(CultureInfo.InvariantCulture), cell.SecondsText, cell.RmseText);
        }

        string referenceText = string.Create(CultureInfo.InvariantCulture, $"{referenceScheduler} {referenceSteps} steps (its RMSE to {referenceSteps / 2} steps: {result.ReferenceError:0.00e0})");
        string title = string.Create(CultureInfo.InvariantCulture, $"{Path.GetFileName(Path.TrimEndingDirectorySeparator(folder))}, seed {seed}, RMSE to {referenceScheduler} {referenceSteps}");
        files.Set(outPath, SchedulerComparison.Grid(result, pixelScale, title));
        files.Commit(io.Token);
        WriteTable(io.Out, table);
        io.Out.WriteLine($"reference: {referenceText}.");
        io.Out.WriteLine($"wrote {outPath}: {names.Length} schedulers x {counts.Length} step counts, prompt '{text}'.");
        return 0;
    }

    private static void WriteTable(TextWriter stdout, Table table) => AnsiConsole.Create(new AnsiConsoleSettings
    {
        Out = new AnsiConsoleOutput(stdout),
        Ansi = ReferenceEquals(stdout, Console.Out) && !Console.IsOutputRedirected ? AnsiSupport.Detect : AnsiSupport.No,
        ColorSystem = ColorSystemSupport.Detect,
    }).Write(table);

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
