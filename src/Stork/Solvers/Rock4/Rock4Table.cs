using System.Text.Json;

namespace Stork.Solvers.Rock4;

/// <summary>
/// Abdulle's ROCK4 coefficients (A. Abdulle, "Fourth order Chebyshev methods with recurrence relation", SIAM J. Sci.
/// Comput. 23(6), 2002), as distributed with the ROCK4 code and used by STORK-4. Shipped as the embedded resource
/// <c>rock4.json</c> (copied unchanged from the project's shared data, <c>shared/data/rock4/rock4.json</c>; its
/// <c>source</c> and <c>layout</c> fields state the provenance). Tabulated degrees run from 1 to 148.
/// </summary>
public sealed class Rock4Table
{
    private static readonly Lazy<Rock4Table> Shared = new(Load);
    private readonly int[] _degrees;
    private readonly double[][] _fpa;
    private readonly double[][] _fpb;
    private readonly double[] _recf;

    private Rock4Table(int[] degrees, double[][] fpa, double[][] fpb, double[] recf, string source)
    {
        _degrees = degrees;
        _fpa = fpa;
        _fpb = fpb;
        _recf = recf;
        Source = source;
    }

    /// <summary>The table shipped with the library.</summary>
    public static Rock4Table Default => Shared.Value;

    /// <summary>Where the coefficients come from.</summary>
    public string Source { get; }

    /// <summary>The tabulated degrees (stage counts of the recurrence), ascending.</summary>
    public IReadOnlyList<int> Degrees => _degrees;

    /// <summary>The largest number of sub-steps the table supports.</summary>
    public int MaxDegree => _degrees[^1];

    /// <summary>The coefficients for <paramref name="substeps"/> stages: the smallest tabulated degree &gt;= it.</summary>
    public Rock4Coefficients Select(int substeps)
    {
        if (substeps < 1 || substeps > MaxDegree)
        {
            throw new ArgumentOutOfRangeException(nameof(substeps), substeps,
                $"STORK-4 sub-steps must be between 1 and {MaxDegree}, the largest degree of the ROCK4 table (got {substeps}).");
        }

        int offset = 0;
        for (int i = 0; i < _degrees.Length; i++)
        {
            int m = _degrees[i];
            if (m >= substeps)
            {
                var mu = new double[m + 1];
                var kappa = new double[m + 1];
                mu[1] = _recf[offset];
                for (int j = 2; j <= m; j++)
                {
                    mu[j] = _recf[offset + (2 * (j - 2)) + 1];
                    kappa[j] = _recf[offset + (2 * (j - 2)) + 2];
                }

                return new Rock4Coefficients(m, mu, kappa, _fpa[i], _fpb[i]);
            }

            offset += (2 * m) - 1;
        }

        throw new InvalidOperationException("unreachable: the ROCK4 table is sorted.");
    }

    private static Rock4Table Load()
    {
        using var stream = typeof(Rock4Table).Assembly.GetManifestResourceStream("Stork.Rock4.json")
            ?? throw new InvalidOperationException("the ROCK4 table resource is missing from the assembly.");
        using var doc = JsonDocument.Parse(stream);
        var root = doc.RootElement;
        int[] ms = root.GetProperty("ms").EnumerateArray().Select(e => e.GetInt32()).ToArray();
        double[][] Rows(string name) => root.GetProperty(name).EnumerateArray()
            .Select(r => r.EnumerateArray().Select(e => e.GetDouble()).ToArray()).ToArray();
        double[] recf = root.GetProperty("recf").EnumerateArray().Select(e => e.GetDouble()).ToArray();
        return new Rock4Table(ms, Rows("fpa"), Rows("fpb"), recf, root.GetProperty("source").GetString() ?? "");
    }
}

/// <summary>
/// ROCK4 coefficients of one degree: the three-term recurrence <c>Mu[1]</c>, then <c>(Mu[j], Kappa[j])</c> for
/// j = 2..Degree, and the finishing procedure's <c>Fpa</c> (a21, a31, a32, a41, a42, a43) and weights <c>Fpb</c> (b1..b4).
/// </summary>
public sealed record Rock4Coefficients(int Degree, double[] Mu, double[] Kappa, double[] Fpa, double[] Fpb);
