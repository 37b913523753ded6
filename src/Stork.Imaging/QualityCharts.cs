using Stork.Evaluation;
using Stork.Models;
using Stork.Sampling;

namespace Stork.Imaging;

/// <summary>
/// The pictures of solver measurements: a sample-quality run's Frechet distance and RMSE against NFE (one line per
/// solver) and its grid of samples (rows solvers, columns NFEs) from the same noise (<see cref="QualityTable"/>); the
/// exact-ODE error against NFE (<see cref="OdeError"/>); a <see cref="SolverComparison"/>'s grid.
/// </summary>
public static class QualityCharts
{
    /// <summary>fd.png: the Frechet distance of every solver in <paramref name="labels"/> against NFE.</summary>
    public static byte[] FdPlot(IReadOnlyList<QualityRow> rows, IReadOnlyList<string> labels, string title) =>
        PngFile.Encode(LinePlot.Render($"Frechet distance to test features, {title}", "model evaluations (NFE)", "FD", Series(rows, labels, x => x.Fd)));

    /// <summary>rmse.png: the RMSE (over the first <paramref name="rmseSamples"/> samples) of every solver against NFE.</summary>
    public static byte[] RmsePlot(IReadOnlyList<QualityRow> rows, IReadOnlyList<string> labels, string title, int rmseSamples) =>
        PngFile.Encode(LinePlot.Render($"RMSE to RK45 (first {rmseSamples}), {title}", "model evaluations (NFE)", "RMSE", Series(rows, labels, x => x.Rmse)));

    /// <summary>
    /// grid.png: every solver of <paramref name="specs"/> at every NFE of <paramref name="counts"/>, sampled from
    /// <paramref name="noise"/> (a few samples, four to a row) and drawn in the data <paramref name="range"/>.
    /// </summary>
    public static byte[] SampleGrid(IDenoiser denoiser, IReadOnlyList<SolverSpec> specs, IReadOnlyList<int> counts, float[] noise,
        (double Min, double Max) range, string title, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(denoiser);
        ArgumentNullException.ThrowIfNull(specs);
        ArgumentNullException.ThrowIfNull(counts);
        ArgumentNullException.ThrowIfNull(noise);
        var cells = new Raster[specs.Count, counts.Count];
        for (int i = 0; i < specs.Count; i++)
        {
            for (int j = 0; j < counts.Count; j++)
            {
                var x = (float[])noise.Clone();
                specs[i].Sample(denoiser, counts[j], x, null, cancellationToken);
                cells[i, j] = SampleImage.RenderBatch(x, denoiser.SampleShape, range, 1, columns: 4);
            }
        }

        return PngFile.Encode(LabelledGrid.Compose(cells, specs.Select(s => s.Label).ToList(), counts.Select(c => $"NFE {c}").ToList(), title));
    }

    /// <summary>ode.png: the RMSE to the exact solution against NFE, one line per solver (non-finite and zero errors left out).</summary>
    public static byte[] OdePlot(IReadOnlyList<OdeErrorResult> results, string title)
    {
        ArgumentNullException.ThrowIfNull(results);
        var series = results.GroupBy(x => x.Solver)
            .Select(g => new PlotSeries(g.Key, g.Select(m => ((double)m.Nfe, m.Rmse)).Where(p => double.IsFinite(p.Item2) && p.Item2 > 0).ToList()))
            .ToList();
        return PngFile.Encode(LinePlot.Render(title, "model evaluations (NFE)", "RMSE", series));
    }

    /// <summary>
    /// The grid of a <see cref="SolverComparison"/>: rows <paramref name="solvers"/>, columns <paramref name="steps"/>
    /// (labelled "NFE n" where every row made n evaluations, else "n steps"), each cell its batch of samples of
    /// <paramref name="shape"/> drawn in <paramref name="range"/>, <paramref name="scale"/> pixels per value, <paramref name="columns"/> to a row.
    /// </summary>
    public static byte[] ComparisonGrid(ComparisonCell[,] cells, IReadOnlyList<string> solvers, IReadOnlyList<int> steps, IReadOnlyList<int> shape,
        (double Min, double Max) range, int scale, int columns, string title)
    {
        ArgumentNullException.ThrowIfNull(cells);
        ArgumentNullException.ThrowIfNull(solvers);
        ArgumentNullException.ThrowIfNull(steps);
        var rasters = new Raster[solvers.Count, steps.Count];
        for (int i = 0; i < solvers.Count; i++)
        {
            for (int j = 0; j < steps.Count; j++)
            {
                rasters[i, j] = SampleImage.RenderBatch(cells[i, j].Samples, shape, range, scale, columns: columns);
            }
        }

        string[] columnLabels = steps.Select((c, j) => Enumerable.Range(0, solvers.Count).All(i => cells[i, j].Evaluations == c) ? $"NFE {c}" : $"{c} steps").ToArray();
        return PngFile.Encode(LabelledGrid.Compose(rasters, solvers, columnLabels, title));
    }

    private static List<PlotSeries> Series(IReadOnlyList<QualityRow> rows, IReadOnlyList<string> labels, Func<QualityRow, double> value)
    {
        ArgumentNullException.ThrowIfNull(rows);
        ArgumentNullException.ThrowIfNull(labels);
        return labels.Select(l => new PlotSeries(l, rows.Where(x => x.Solver == l).Select(x => ((double)x.Nfe, value(x))).ToList())).ToList();
    }
}
