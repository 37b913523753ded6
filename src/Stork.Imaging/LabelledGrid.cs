namespace Stork.Imaging;

/// <summary>
/// A table of images with a label for every row (left) and every column (top), and an optional title: the picture
/// <c>stork compare</c> draws (rows solvers, columns step counts). Cells may differ in size; each column is as wide and
/// each row as tall as its largest cell, and cells are centred.
/// </summary>
public static class LabelledGrid
{
    /// <summary>Lays <paramref name="cells"/> out as a grid with the row labels on the left and the column labels on top.</summary>
    public static Raster Compose(Raster[,] cells, IReadOnlyList<string> rowLabels, IReadOnlyList<string> columnLabels,
        string? title = null, int textScale = 2, int gap = 8)
    {
        int rows = cells.GetLength(0), cols = cells.GetLength(1);
        if (rows == 0 || cols == 0 || rowLabels.Count != rows || columnLabels.Count != cols)
        {
            throw new ArgumentException("a labelled grid needs at least one cell and one label per row and per column.");
        }

        int[] colWidth = new int[cols], rowHeight = new int[rows];
        for (int r = 0; r < rows; r++)
        {
            for (int c = 0; c < cols; c++)
            {
                colWidth[c] = Math.Max(colWidth[c], Math.Max(cells[r, c].Width, BitmapFont.Measure(columnLabels[c], textScale).Width));
                rowHeight[r] = Math.Max(rowHeight[r], cells[r, c].Height);
            }
        }

        int textHeight = BitmapFont.GlyphHeight * textScale;
        int labelWidth = rowLabels.Max(l => BitmapFont.Measure(l, textScale).Width);
        int titleHeight = string.IsNullOrEmpty(title) ? 0 : textHeight + gap;
        int left = gap + labelWidth + gap, top = gap + titleHeight + textHeight + gap;
        int width = left + colWidth.Sum() + (cols * gap);
        int height = top + rowHeight.Sum() + (rows * gap);
        if (!string.IsNullOrEmpty(title))
        {
            width = Math.Max(width, (2 * gap) + BitmapFont.Measure(title, textScale).Width);
        }

        var image = new Raster(width, height, Rgb.Background);
        if (!string.IsNullOrEmpty(title))
        {
            image.DrawText(title, gap, gap, Rgb.Text, textScale);
        }

        int x = left;
        for (int c = 0; c < cols; c++)
        {
            int tw = BitmapFont.Measure(columnLabels[c], textScale).Width;
            image.DrawText(columnLabels[c], x + ((colWidth[c] - tw) / 2), gap + titleHeight, Rgb.Text, textScale);
            x += colWidth[c] + gap;
        }

        int y = top;
        for (int r = 0; r < rows; r++)
        {
            image.DrawText(rowLabels[r], gap, y + ((rowHeight[r] - textHeight) / 2), Rgb.Text, textScale);
            x = left;
            for (int c = 0; c < cols; c++)
            {
                var cell = cells[r, c];
                image.Draw(cell, x + ((colWidth[c] - cell.Width) / 2), y + ((rowHeight[r] - cell.Height) / 2));
                x += colWidth[c] + gap;
            }

            y += rowHeight[r] + gap;
        }

        return image;
    }

    /// <summary>
    /// A cell with caption lines under it: <paramref name="image"/> enlarged <paramref name="scale"/> times (nearest
    /// neighbour), each line centred below it (the labels of <c>stork compare</c> on a model folder: seconds, evaluations, error).
    /// </summary>
    public static Raster Captioned(Raster image, int scale, IReadOnlyList<string> caption, int textScale = 1)
    {
        ArgumentNullException.ThrowIfNull(image);
        ArgumentNullException.ThrowIfNull(caption);
        ArgumentOutOfRangeException.ThrowIfLessThan(scale, 1);
        int w = image.Width * scale, h = image.Height * scale, line = BitmapFont.LineHeight * textScale;
        int width = Math.Max(w, caption.Count == 0 ? 0 : caption.Max(c => BitmapFont.Measure(c, textScale).Width));
        var cell = new Raster(width, h + (caption.Count * line) + (caption.Count > 0 ? 2 : 0), Rgb.Background);
        int left = (width - w) / 2;
        for (int y = 0; y < h; y++)
        {
            for (int x = 0; x < w; x++)
            {
                cell[left + x, y] = image[x / scale, y / scale];
            }
        }

        for (int k = 0; k < caption.Count; k++)
        {
            cell.DrawText(caption[k], (width - BitmapFont.Measure(caption[k], textScale).Width) / 2, h + 2 + (k * line), Rgb.Text, textScale);
        }

        return cell;
    }
}
