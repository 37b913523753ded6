using System.Globalization;
using System.Text;

namespace Stork.Evaluation;

/// <summary>
/// One cell of a sample-quality run: a solver (its label and a hash of its resolved settings) at a requested NFE, with
/// the NFE used, the Frechet distance over <see cref="Samples"/> samples, the RMSE to a reference over
/// <see cref="RmseSamples"/>, and the wall time.
/// </summary>
public sealed record QualityRow(string Solver, string Settings, int RequestedNfe, int Nfe, int Samples, double Fd, double Rmse, int RmseSamples, double Seconds);

/// <summary>
/// The cells of a sample-quality run as a resumable CSV cache (a key line naming the run, a header, one line per cell)
/// and as markdown tables (solvers by NFE).
/// </summary>
public static class QualityTable
{
    /// <summary>The CSV header.</summary>
    public const string Header = "solver,settings,requested_nfe,nfe,samples,fd,rmse,rmse_samples,seconds";

    /// <summary>The first line of the cache: the format and the key of the run whose cells it holds.</summary>
    public const string KeyLine = "# stork bench quality cache v2, key ";

    /// <summary>
    /// The key of a run's cache (32 hex digits of SHA-256): what determines its cells besides the solver, namely the
    /// contents of its <paramref name="files"/> (each hashed), its tuned <paramref name="grids"/> (their keys) and its
    /// <paramref name="settings"/> (lines such as <c>seed=0</c>).
    /// </summary>
    public static string RunKey(IEnumerable<string> files, IEnumerable<string> grids, IEnumerable<string> settings)
    {
        ArgumentNullException.ThrowIfNull(files);
        ArgumentNullException.ThrowIfNull(grids);
        ArgumentNullException.ThrowIfNull(settings);
        var sb = new StringBuilder();
        foreach (string f in files)
        {
            using var stream = IO.InputFile.OpenRead(f, "input", IO.InputFile.MaxBinaryBytes, out _);
            sb.Append("file ").Append(Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(stream))).Append('\n');
        }

        foreach (string grid in grids)
        {
            sb.Append("grid ").Append(grid).Append('\n');
        }

        foreach (string line in settings)
        {
            sb.Append(line).Append('\n');
        }

        return Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(Encoding.UTF8.GetBytes(sb.ToString())))[..32];
    }

    /// <summary>The text of the cache: the key line, the header and one line per cell.</summary>
    public static string CsvText(string key, IEnumerable<QualityRow> rows)
    {
        ArgumentNullException.ThrowIfNull(rows);
        var sb = new StringBuilder().Append(KeyLine).Append(key).Append('\n').Append(Header).Append('\n');
        foreach (var r in rows)
        {
            sb.Append(string.Create(CultureInfo.InvariantCulture,
                $"\"{r.Solver}\",{r.Settings},{r.RequestedNfe},{r.Nfe},{r.Samples},{r.Fd:R},{r.Rmse:R},{r.RmseSamples},{r.Seconds:R}")).Append('\n');
        }

        return sb.ToString();
    }

    /// <summary>
    /// The cells of the cache file at <paramref name="path"/> (see <see cref="Parse"/>): none when there is no file; none
    /// and <paramref name="problem"/> when it belongs to another run or is damaged (it is then rebuilt, never trusted).
    /// </summary>
    public static Dictionary<(string Solver, string Settings, int Nfe), QualityRow> Load(string path, string key, int samples, int rmseSamples, out string? problem)
    {
        problem = null;
        if (Directory.Exists(path))
        {
            throw new IOException($"'{path}' is a folder; bench quality keeps its cache in a file of that name.");
        }

        if (!File.Exists(path))
        {
            return [];
        }

        try
        {
            if (Parse(IO.InputFile.ReadAllText(path, "bench cache"), key, samples, rmseSamples, out string why) is { } cached)
            {
                return cached;
            }

            problem = why;
        }
        catch (InvalidDataException e)
        {
            problem = $"is damaged ({e.Message})";
        }

        return [];
    }

    /// <summary>
    /// The cells of a cache <paramref name="text"/> when it belongs to the run <paramref name="key"/> with
    /// <paramref name="samples"/> and <paramref name="rmseSamples"/> and every row is well formed; otherwise null and
    /// <paramref name="why"/> says why (the cache is then rebuilt, never trusted).
    /// </summary>
    public static Dictionary<(string Solver, string Settings, int Nfe), QualityRow>? Parse(string text, string key, int samples, int rmseSamples, out string why)
    {
        ArgumentNullException.ThrowIfNull(text);
        string[] lines = text.Split('\n', StringSplitOptions.TrimEntries);
        if (lines.Length < 2 || !lines[0].StartsWith(KeyLine, StringComparison.Ordinal) || lines[1] != Header)
        {
            why = "is not a cache of this version";
            return null;
        }

        if (lines[0][KeyLine.Length..] != key)
        {
            why = "belongs to another run (model, classifier, seed, sample counts, tolerance or chunk differ)";
            return null;
        }

        var rows = new Dictionary<(string, string, int), QualityRow>();
        foreach (string line in lines.Skip(2).Where(l => l.Length > 0))
        {
            var row = ParseRow(line);
            if (row is null)
            {
                why = "is damaged (a malformed row)";
                return null;
            }

            if (row.Samples != samples || row.RmseSamples != rmseSamples || !rows.TryAdd((row.Solver, row.Settings, row.RequestedNfe), row))
            {
                why = "is damaged (an inconsistent row)";
                return null;
            }
        }

        why = "";
        return rows;
    }

    private static QualityRow? ParseRow(string line)
    {
        if (line.Length < 2 || line[0] != '"')
        {
            return null;
        }

        int q = line.IndexOf('"', 1);
        if (q < 1 || q + 1 >= line.Length || line[q + 1] != ',')
        {
            return null;
        }

        string solver = line[1..q];
        string[] f = line[(q + 2)..].Split(',');
        var c = CultureInfo.InvariantCulture;
        if (f.Length != 8 || f[0].Length != 16 || !f[0].All(char.IsAsciiHexDigitLower)
            || !int.TryParse(f[1], NumberStyles.None, c, out int requested) || !int.TryParse(f[2], NumberStyles.None, c, out int nfe)
            || !int.TryParse(f[3], NumberStyles.None, c, out int samples) || !double.TryParse(f[4], NumberStyles.Float, c, out double fd)
            || !double.TryParse(f[5], NumberStyles.Float, c, out double rmse) || !int.TryParse(f[6], NumberStyles.None, c, out int rmseSamples)
            || !double.TryParse(f[7], NumberStyles.Float, c, out double seconds) || requested < 1 || nfe < 0 || !(seconds >= 0))
        {
            return null;
        }

        return new QualityRow(solver, f[0], requested, nfe, samples, fd, rmse, rmseSamples, seconds);
    }

    /// <summary>Markdown tables of Frechet distance, RMSE and wall time: one row per solver label, one column per NFE.</summary>
    public static string Markdown(IReadOnlyList<QualityRow> rows, IReadOnlyList<string> labels, IReadOnlyList<int> counts, string title)
    {
        ArgumentNullException.ThrowIfNull(rows);
        ArgumentNullException.ThrowIfNull(labels);
        ArgumentNullException.ThrowIfNull(counts);
        var sb = new StringBuilder().AppendLine(CultureInfo.InvariantCulture, $"**{title}**").AppendLine();
        void Table(string what, Func<QualityRow, string> cell)
        {
            sb.AppendLine(CultureInfo.InvariantCulture, $"{what}").AppendLine();
            sb.Append("| solver |").AppendJoin("", counts.Select(c => string.Create(CultureInfo.InvariantCulture, $" NFE {c} |"))).AppendLine();
            sb.Append("|---|").AppendJoin("", counts.Select(_ => "---|")).AppendLine();
            foreach (string label in labels)
            {
                sb.Append(CultureInfo.InvariantCulture, $"| {label} |");
                foreach (int c in counts)
                {
                    var row = rows.First(x => x.Solver == label && x.RequestedNfe == c);
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
}
