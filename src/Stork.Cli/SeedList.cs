using System.Globalization;
using System.Security.Cryptography;

namespace Stork.Cli;

/// <summary>
/// <c>--seed</c>: one seed (image k of a prompt uses seed + k), <c>random</c> (one drawn and printed, then as one seed),
/// a list <c>1,5,9</c> or an inclusive range <c>5..8</c> (one image per seed, mflux's <c>--seed 1 5 9</c>).
/// </summary>
internal sealed record SeedList(long First, IReadOnlyList<long>? Explicit)
{
    /// <summary>The most seeds a list may hold (as many as <c>--count</c> allows).</summary>
    public const int MaxSeeds = 64;

    /// <summary>The seed of image <paramref name="k"/> of a prompt.</summary>
    public long Of(long k) => Explicit is { } list ? list[(int)k] : First + k;

    /// <summary>Parses <paramref name="text"/> (null: seed 0); a drawn seed is announced on <paramref name="stderr"/>.</summary>
    public static SeedList Parse(string? text, TextWriter stderr)
    {
        if (text is null)
        {
            return new SeedList(0, null);
        }

        string t = text.Trim();
        if (t.Equals("random", StringComparison.OrdinalIgnoreCase))
        {
            long drawn = RandomNumberGenerator.GetInt32(int.MaxValue);
            stderr.WriteLine(string.Create(CultureInfo.InvariantCulture, $"seed: {drawn} (--seed random; pass --seed {drawn} to repeat the run)"));
            return new SeedList(drawn, null);
        }

        var list = new List<long>();
        int dots = t.IndexOf("..", StringComparison.Ordinal);
        if (dots > 0)
        {
            long from = One(t[..dots], text), to = One(t[(dots + 2)..], text);
            if (to < from || to - from >= MaxSeeds)
            {
                throw new CliException($"--seed {text}: a range runs upward over 1 to {MaxSeeds} seeds.");
            }

            for (long s = from; s <= to; s++)
            {
                list.Add(s);
            }
        }
        else
        {
            list.AddRange(t.Split(',').Select(p => One(p, text)));
        }

        if (list.Count > MaxSeeds)
        {
            throw new CliException($"--seed {text}: at most {MaxSeeds} seeds.");
        }

        return list.Count == 1 && dots < 0 ? new SeedList(list[0], null) : new SeedList(list[0], list);
    }

    private static long One(string part, string text) =>
        long.TryParse(part.Trim(), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long v) ? v
            : throw new CliException($"--seed takes a whole number, a list (1,5,9), a range (5..8) or random (got '{text}').");
}
