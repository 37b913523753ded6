using System.Globalization;

namespace Stork.Imaging;

/// <summary>One line of a <see cref="LinePlot"/>: a name and its (x, y) points.</summary>
public sealed record PlotSeries(string Name, IReadOnlyList<(double X, double Y)> Points);

/// <summary>A log-log line plot (one line and marker set per series, decade grid, legend) rendered to a raster.</summary>
public static class LinePlot
{
    private static readonly Rgb[] Palette =
    [
        new(230, 97, 80), new(90, 170, 240), new(120, 200, 110), new(240, 190, 60), new(190, 120, 230),
        new(80, 210, 200), new(240, 140, 190), new(180, 180, 180), new(160, 110, 70), new(255, 255, 255),
    ];

    /// <summary>Renders <paramref name="series"/> as a log-log plot of <paramref name="width"/> x <paramref name="height"/> pixels; points with a non-positive or non-finite coordinate are skipped.</summary>
    public static Raster Render(string title, string xLabel, string yLabel, IReadOnlyList<PlotSeries> series, int width = 1040, int height = 520)
    {
        var points = series.SelectMany(s => s.Points).Where(p => p.X > 0 && p.Y > 0 && double.IsFinite(p.Y)).ToList();
        if (points.Count == 0)
        {
            throw new ArgumentException("nothing to plot: every value is missing or not positive.");
        }

        double x0 = Math.Floor(Math.Log10(points.Min(p => p.X)) * 4) / 4, x1 = Math.Ceiling(Math.Log10(points.Max(p => p.X)) * 4) / 4;
        double y0 = Math.Floor(Math.Log10(points.Min(p => p.Y))), y1 = Math.Ceiling(Math.Log10(points.Max(p => p.Y)));
        if (x1 <= x0)
        {
            x1 = x0 + 1;
        }

        if (y1 <= y0)
        {
            y1 = y0 + 1;
        }

        var image = new Raster(width, height, Rgb.Background);
        int left = 80, right = width - 380, top = 40, bottom = height - 50;
        int Px(double x) => left + (int)Math.Round((Math.Log10(x) - x0) / (x1 - x0) * (right - left));
        int Py(double y) => bottom - (int)Math.Round((Math.Log10(y) - y0) / (y1 - y0) * (bottom - top));

        var grid = Rgb.Gray(70);
        for (double e = y0; e <= y1 + 1e-9; e++)
        {
            int y = Py(Math.Pow(10, e));
            Line(image, left, y, right, y, grid);
            string label = "1e" + e.ToString(CultureInfo.InvariantCulture);
            BitmapFont.Draw(image, label, left - BitmapFont.Measure(label).Width - 8, y - 4, Rgb.Text);
        }

        foreach (double x in points.Select(p => p.X).Distinct().OrderBy(v => v))
        {
            int px = Px(x);
            Line(image, px, top, px, bottom, grid);
            string label = x.ToString("0.##", CultureInfo.InvariantCulture);
            BitmapFont.Draw(image, label, px - (BitmapFont.Measure(label).Width / 2), bottom + 8, Rgb.Text);
        }

        Line(image, left, bottom, right, bottom, Rgb.Text);
        Line(image, left, top, left, bottom, Rgb.Text);
        BitmapFont.Draw(image, title, left, 12, Rgb.Text);
        BitmapFont.Draw(image, xLabel, ((left + right) / 2) - (BitmapFont.Measure(xLabel).Width / 2), bottom + 28, Rgb.Text);
        BitmapFont.Draw(image, yLabel, 8, 12 + 16, Rgb.Text);

        for (int s = 0; s < series.Count; s++)
        {
            var color = Palette[s % Palette.Length];
            var pts = series[s].Points.Where(p => p.X > 0 && p.Y > 0 && double.IsFinite(p.Y)).OrderBy(p => p.X).ToList();
            for (int i = 0; i + 1 < pts.Count; i++)
            {
                Line(image, Px(pts[i].X), Py(pts[i].Y), Px(pts[i + 1].X), Py(pts[i + 1].Y), color, thick: true);
            }

            foreach (var p in pts)
            {
                Box(image, Px(p.X), Py(p.Y), 3, color);
            }

            int ly = top + 10 + (s * 18);
            Line(image, right + 16, ly + 4, right + 40, ly + 4, color, thick: true);
            BitmapFont.Draw(image, series[s].Name, right + 46, ly, Rgb.Text);
        }

        return image;
    }

    private static void Box(Raster image, int cx, int cy, int r, Rgb color)
    {
        for (int y = cy - r; y <= cy + r; y++)
        {
            for (int x = cx - r; x <= cx + r; x++)
            {
                image[x, y] = color;
            }
        }
    }

    private static void Line(Raster image, int x0, int y0, int x1, int y1, Rgb color, bool thick = false)
    {
        int dx = Math.Abs(x1 - x0), dy = -Math.Abs(y1 - y0), sx = x0 < x1 ? 1 : -1, sy = y0 < y1 ? 1 : -1, err = dx + dy;
        while (true)
        {
            image[x0, y0] = color;
            if (thick)
            {
                image[x0 + 1, y0] = color;
                image[x0, y0 + 1] = color;
            }

            if (x0 == x1 && y0 == y1)
            {
                break;
            }

            int e2 = 2 * err;
            if (e2 >= dy)
            {
                err += dy;
                x0 += sx;
            }

            if (e2 <= dx)
            {
                err += dx;
                y0 += sy;
            }
        }
    }
}
