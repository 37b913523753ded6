using System.Globalization;
using System.Security.Cryptography;

namespace Stork.Sampling;

/// <summary>
/// The seeds of a run: one seed (image k of a prompt uses seed + k), <c>random</c> (one drawn, <see cref="Drawn"/>, then
/// as one seed), a list <c>1,5,9</c> or an inclusive range <c>5..8</c> (one image per seed, <see cref="Explicit"/>;
/// mflux's <c>--seed 1 5 9</c>). A bad text is an <see cref="OptionException"/> with the key <see cref="Key"/>.
/// </summary>
public sealed record SeedList(long First, IReadOnlyList<long>? Explicit)
{
    /// <summary>The option key of every seed error.</summary>
    public const string Key = "seed";

    /// <summary>The most seeds a list may hold.</summary>
    public const int MaxSeeds = 64;

    /// <summary>Whether the seed was drawn at random (<c>random</c>); a front end shows it so the run can be repeated.</summary>
    public bool Drawn { get; init; }

    /// <summary>The seed of image <paramref name="k"/> of a prompt.</summary>
    public long Of(long k) => Explicit is { } list ? list[(int)k] : First + k;

    /// <summary>Parses <paramref name="text"/> (null: seed 0).</summary>
    public static SeedList Parse(string? text)
    {
        if (text is null)
        {
            return new SeedList(0, null);
        }

        string t = text.Trim();
        if (t.Equals("random", StringComparison.OrdinalIgnoreCase))
        {
            return new SeedList(RandomNumberGenerator.GetInt32(int.MaxValue), null) { Drawn = true };
        }

        var list = new List<long>();
        int dots = t.IndexOf("..", StringComparison.Ordinal);
        if (dots > 0)
        {
            long from = One(t[..dots], text), to = One(t[(dots + 2)..], text);
            if (to < from || to - from >= MaxSeeds)
            {
                throw new OptionException(Key, string.Create(CultureInfo.InvariantCulture, $"{text}: a range runs upward over 1 to {MaxSeeds} seeds."));
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
            throw new OptionException(Key, string.Create(CultureInfo.InvariantCulture, $"{text}: at most {MaxSeeds} seeds."));
        }

        return list.Count == 1 && dots < 0 ? new SeedList(list[0], null) : new SeedList(list[0], list);
    }

    private static long One(string part, string text) =>
        long.TryParse(part.Trim(), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long v) ? v
            : throw new OptionException(Key, $"takes a whole number, a list (1,5,9), a range (5..8) or random (got '{text}').");
}
