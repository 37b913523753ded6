using Stork.Evaluation;
using Stork.Models;

namespace Stork.Imaging;

/// <summary>
/// The pictures of a sample-quality run (<see cref="QualityTable"/>): Frechet distance and RMSE against NFE, one line
/// per solver, and a grid of samples (rows solvers, columns NFEs) from the same noise.
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

    private static List<PlotSeries> Series(IReadOnlyList<QualityRow> rows, IReadOnlyList<string> labels, Func<QualityRow, double> value)
    {
        ArgumentNullException.ThrowIfNull(rows);
        ArgumentNullException.ThrowIfNull(labels);
        return labels.Select(l => new PlotSeries(l, rows.Where(x => x.Solver == l).Select(x => ((double)x.Nfe, value(x))).ToList())).ToList();
    }
}
