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

            int[] counts = ParseList(r.GetValue(steps)!, "--steps").Select(s =>
                int.TryParse(s, NumberStyles.None, CultureInfo.InvariantCulture, out int v) && v >= 1
                    ? SolverOptionSet.CheckSteps(v, "--steps")
                    : throw new CliException($"--steps must be a comma-separated list of positive integers up to {SolverOptionSet.MaxSteps} (got '{s}').")).ToArray();
            if (names.Length * (long)counts.Length > MaxCells)
            {
                throw new CliException($"--schedulers x --steps make {names.Length} x {counts.Length} cells; the grid holds at most {MaxCells}.");
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
            ProgressDisplay.Run(stderr, $"compare on {ModelImages.Name(denoiser)}", comparison.TotalEvaluations, progress => cells = comparison.Run(noise, progress, ct));
            var rasters = new Raster[names.Length, counts.Length];
            var table = new Table().AddColumns("scheduler", "steps", "NFE", "seconds");
            for (int i = 0; i < names.Length; i++)
            {
                for (int j = 0; j < counts.Length; j++)
                {
                    rasters[i, j] = SampleImage.RenderBatch(cells[i, j].Samples, shape, range, pixelScale, columns: batchSize);
                    table.AddRow(names[i], counts[j].ToString(CultureInfo.InvariantCulture), cells[i, j].Evaluations.ToString(CultureInfo.InvariantCulture),
                        cells[i, j].Seconds.ToString("F2", CultureInfo.InvariantCulture));
                }
            }

            string[] columnLabels = counts.Select((c, j) =>
                Enumerable.Range(0, names.Length).All(i => cells[i, j].Evaluations == c) ? $"NFE {c}" : $"{c} steps").ToArray();
            string title = string.Create(CultureInfo.InvariantCulture, $"{ModelImages.Name(denoiser)}, seed {r.GetValue(seed)}");
            files.Set(outPath, PngFile.Encode(LabelledGrid.Compose(rasters, names, columnLabels, title)));
            files.Commit(ct);

            WriteTable(stdout, table);
            stdout.WriteLine($"wrote {outPath}: {names.Length} schedulers x {counts.Length} step counts, {batchSize} samples per cell.");
            return Task.FromResult(0);
        });
        return command;
    }

    private static int CompareFolder(ParseResult r, (SolverOptionSet Solvers, RuntimeOptionSet Runtime, TextWriter Out, TextWriter Err, CancellationToken Token) io, string text, string[] names, int[] counts, string? model, string referenceSpec, long seed, int pixelScale, string outPath)
    {
        string[] parts = referenceSpec.Split(':');
        if (parts.Length != 2 || !SolverRegistry.Contains(parts[0]) || SolverRegistry.IsAdaptive(parts[0])
            || !int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out int referenceSteps) || referenceSteps is < 2 or > SolverOptionSet.MaxSteps)
        {
            throw new CliException($"--reference must be SOLVER:STEPS with a fixed-step solver and 2 to {SolverOptionSet.MaxSteps} steps (got '{referenceSpec}').");
        }

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
            ReferenceScheduler = parts[0],
            ReferenceSteps = referenceSteps,
        };
        SchedulerComparisonResult result = null!;
        ProgressDisplay.Run(io.Err, $"compare on {Path.GetFileName(Path.TrimEndingDirectorySeparator(folder))}", counts.Sum() * names.Length + referenceSteps + (referenceSteps / 2),
            progress => result = SchedulerComparison.Run(pipeline, request, progress, io.Token));
        var rasters = new Raster[names.Length, counts.Length];
        var table = new Table().AddColumns("scheduler", "steps", "NFE", "seconds", "RMSE");
        for (int i = 0; i < names.Length; i++)
        {
            for (int j = 0; j < counts.Length; j++)
            {
                var cell = result.Cells[i, j];
                string seconds = cell.Seconds.ToString("F2", CultureInfo.InvariantCulture), rmse = cell.Rmse.ToString("0.00e0", CultureInfo.InvariantCulture);
                rasters[i, j] = LabelledGrid.Captioned(ImageFiles.ToRaster(cell.Result.Images, 0), pixelScale,
                    [$"{seconds} s, NFE {cell.Evaluations}", $"RMSE {rmse}"]);
                table.AddRow(names[i], counts[j].ToString(CultureInfo.InvariantCulture), cell.Evaluations.ToString(CultureInfo.InvariantCulture), seconds, rmse);
            }
        }

        string referenceText = string.Create(CultureInfo.InvariantCulture, $"{parts[0]} {referenceSteps} steps (its RMSE to {referenceSteps / 2} steps: {result.ReferenceError:0.00e0})");
        string title = string.Create(CultureInfo.InvariantCulture, $"{Path.GetFileName(Path.TrimEndingDirectorySeparator(folder))}, seed {seed}, RMSE to {parts[0]} {referenceSteps}");
        files.Set(outPath, PngFile.Encode(LabelledGrid.Compose(rasters, names, counts.Select(c => $"{c} steps").ToArray(), title)));
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
