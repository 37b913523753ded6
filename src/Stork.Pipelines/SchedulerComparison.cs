using Stork.Imaging;
using Stork.Sampling;
using Stork.Solvers.Catalog;

namespace Stork.Pipelines;

/// <summary>
/// Solvers x step counts on a text-to-image pipeline, one prompt and one seed (<c>stork compare --model FOLDER</c>).
/// Every cell is the pipeline run with that solver at that step count from the same seeded noise; its error is the root
/// mean square difference of its decoded image (values in [0, 1], before 8-bit rounding) to a converged run of the same
/// pipeline from the same noise: <see cref="SchedulerComparisonRequest.ReferenceScheduler"/> at
/// <see cref="SchedulerComparisonRequest.ReferenceSteps"/> (default DPM-Solver++ 2M at 200 steps). The reference's own
/// error is estimated by the same difference between it and the same solver at half its steps.
/// </summary>
public static class SchedulerComparison
{
    /// <summary>Most cells one comparison may have.</summary>
    public const int MaxCells = 400;

    /// <summary>
    /// Runs the reference (and its half-step check), then every cell row by row. Reports every denoising step of every
    /// run; honours cancellation between network calls.
    /// </summary>
    public static SchedulerComparisonResult Run(ITextToImagePipeline pipeline, SchedulerComparisonRequest request,
        IProgress<StepInfo>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(pipeline);
        ArgumentNullException.ThrowIfNull(request);
        var names = request.Schedulers;
        var steps = request.Steps;
        if (names.Count == 0 || steps.Count == 0 || names.Count * (long)steps.Count > MaxCells)
        {
            throw new ArgumentException($"a comparison needs 1 to {MaxCells} cells (got {names.Count} schedulers x {steps.Count} step counts).", nameof(request));
        }

        foreach (string n in names.Append(request.ReferenceScheduler))
        {
            SolverRegistry.Require(n);
        }

        if (steps.Any(s => s < 1) || request.ReferenceSteps < 2)
        {
            throw new ArgumentException($"step counts must be positive and the reference's at least 2 (got {string.Join(", ", steps)}; {request.ReferenceSteps}).", nameof(request));
        }

        var sink = progress is null ? null : new Steps(progress, TotalSteps(request));
        GenerationResult Generate(string scheduler, int n) => pipeline.Generate(request.Generation with
        {
            Scheduler = SchedulerChoice.Named(scheduler, request.Settings),
            Steps = n,
            Count = 1,
            Stepwise = null,
        }, sink, cancellationToken);

        var reference = Generate(request.ReferenceScheduler, request.ReferenceSteps);
        var half = Generate(request.ReferenceScheduler, request.ReferenceSteps / 2);
        var cells = new SchedulerCell[names.Count, steps.Count];
        for (int i = 0; i < names.Count; i++)
        {
            for (int j = 0; j < steps.Count; j++)
            {
                var result = Generate(names[i], steps[j]);
                cells[i, j] = new SchedulerCell(names[i], steps[j], result, Rmse(result.Images.Pixels, reference.Images.Pixels));
            }
        }

        return new SchedulerComparisonResult(cells, reference, Rmse(half.Images.Pixels, reference.Images.Pixels));
    }

    /// <summary>The denoising steps a comparison runs: every cell's, the reference's and its half-step check's.</summary>
    public static int TotalSteps(SchedulerComparisonRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        return (request.Steps.Sum() * request.Schedulers.Count) + request.ReferenceSteps + (request.ReferenceSteps / 2);
    }

    /// <summary>
    /// The reference run written <c>SOLVER:STEPS</c> (a fixed-step solver, 2 to 10000 steps); an
    /// <see cref="OptionException"/> keyed <c>reference</c> otherwise.
    /// </summary>
    public static (string Scheduler, int Steps) ParseReference(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        string[] parts = text.Split(':');
        return parts.Length == 2 && SolverRegistry.Contains(parts[0]) && !SolverRegistry.IsAdaptive(parts[0])
            && int.TryParse(parts[1], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int steps) && steps is >= 2 and <= 10_000
            ? (parts[0], steps)
            : throw new OptionException("reference", $"must be SOLVER:STEPS with a fixed-step solver and 2 to 10000 steps (got '{text}').");
    }

    /// <summary>
    /// The grid of <paramref name="result"/>: rows schedulers, columns step counts, each cell its image
    /// (<paramref name="scale"/> pixels per pixel) captioned with its denoising seconds, NFE and RMSE to the reference.
    /// </summary>
    public static byte[] Grid(SchedulerComparisonResult result, int scale, string title)
    {
        ArgumentNullException.ThrowIfNull(result);
        int rows = result.Cells.GetLength(0), columns = result.Cells.GetLength(1);
        var rasters = new Raster[rows, columns];
        for (int i = 0; i < rows; i++)
        {
            for (int j = 0; j < columns; j++)
            {
                var cell = result.Cells[i, j];
                rasters[i, j] = LabelledGrid.Captioned(ImageFiles.ToRaster(cell.Result.Images, 0), scale, [$"{cell.SecondsText} s, NFE {cell.Evaluations}", $"RMSE {cell.RmseText}"]);
            }
        }

        return PngFile.Encode(LabelledGrid.Compose(rasters, [.. Enumerable.Range(0, rows).Select(i => result.Cells[i, 0].Scheduler)],
            [.. Enumerable.Range(0, columns).Select(j => $"{result.Cells[0, j].Steps} steps")], title));
    }

    /// <summary>Root mean square difference of two images of the same size.</summary>
    public static double Rmse(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        if (a.Length != b.Length || a.Length == 0)
        {
            throw new ArgumentException($"the images differ in size ({a.Length} and {b.Length} values).");
        }

        double sum = 0;
        for (int k = 0; k < a.Length; k++)
        {
            double d = (double)a[k] - b[k];
            sum += d * d;
        }

        return Math.Sqrt(sum / a.Length);
    }

    // Denoising steps of every run counted on, against the planned total.
    private sealed class Steps(IProgress<StepInfo> progress, int total) : IProgress<GenerationProgress>
    {
        private int _done;

        public void Report(GenerationProgress value)
        {
            if (value.Stage == GenerationStage.Denoising)
            {
                progress.Report(new StepInfo(++_done, total, value.Time));
            }
        }
    }
}

/// <summary>What <see cref="SchedulerComparison.Run"/> compares.</summary>
public sealed record SchedulerComparisonRequest
{
    /// <summary>Prompt, seed, size, guidance ...; its scheduler, steps, count and stepwise callback are set per cell.</summary>
    public required GenerationRequest Generation { get; init; }

    /// <summary>The solvers (registry names), one row each.</summary>
    public required IReadOnlyList<string> Schedulers { get; init; }

    /// <summary>The step counts (num_inference_steps), one column each.</summary>
    public required IReadOnlyList<int> Steps { get; init; }

    /// <summary>Options of every named solver (null: each solver's pipeline defaults).</summary>
    public SolverSettings? Settings { get; init; }

    /// <summary>The solver of the converged run each cell is measured against.</summary>
    public string ReferenceScheduler { get; init; } = "dpm++2m";

    /// <summary>The steps of the converged run.</summary>
    public int ReferenceSteps { get; init; } = 200;
}

/// <summary>One cell: the run and its image's RMSE to the reference.</summary>
public sealed record SchedulerCell(string Scheduler, int Steps, GenerationResult Result, double Rmse)
{
    /// <summary>Model evaluation times of the run (a guided step is one evaluation).</summary>
    public int Evaluations => Result.Settings.Times.Count;

    /// <summary>Seconds the denoising loop took (text encoding and decoding left out: the same for every cell).</summary>
    public double Seconds => Result.Timings.Denoising.TotalSeconds;

    /// <summary><see cref="Seconds"/> as the grid and a table show it (two decimals).</summary>
    public string SecondsText => Seconds.ToString("F2", System.Globalization.CultureInfo.InvariantCulture);

    /// <summary><see cref="Rmse"/> as the grid and a table show it (three significant digits).</summary>
    public string RmseText => Rmse.ToString("0.00e0", System.Globalization.CultureInfo.InvariantCulture);
}

/// <summary>The cells (rows schedulers, columns step counts), the reference run and the reference's estimated error.</summary>
public sealed record SchedulerComparisonResult(SchedulerCell[,] Cells, GenerationResult Reference, double ReferenceError);
