using System.Reflection;
using System.Text;

namespace Stork.Pipelines.Tokenizers;

/// <summary>
/// Unicode NFC (canonical decomposition, canonical ordering, canonical composition) from an embedded table.
/// </summary>
/// <remarks>
/// The repository runs with <c>InvariantGlobalization</c>, where <see cref="string.Normalize()"/> leaves text unchanged,
/// so NFC is done here. The table (<c>Data/nfc.txt</c>, Unicode 14) is made by <c>Data/make_nfc_table.py</c>.
/// </remarks>
internal static class UnicodeNfc
{
    private const int SBase = 0xAC00, LBase = 0x1100, VBase = 0x1161, TBase = 0x11A7;
    private const int LCount = 19, VCount = 21, TCount = 28, NCount = VCount * TCount, SCount = LCount * NCount;

    private static readonly Lazy<Tables> Data = new(Load);

    /// <summary>The NFC form of <paramref name="text"/>.</summary>
    public static string Normalize(string text)
    {
        bool simple = true;
        foreach (char c in text)
        {
            if (c >= 0x300)
            {
                simple = false;
                break;
            }
        }

        if (simple)
        {
            return text;
        }

        var tables = Data.Value;
        var cps = new List<int>(text.Length);
        foreach (Rune r in text.EnumerateRunes())
        {
            Decompose(r.Value, cps, tables);
        }

        // Canonical ordering: stable sort of each run of non-starters by combining class.
        for (int i = 1; i < cps.Count; i++)
        {
            int ccc = Ccc(cps[i], tables);
            if (ccc == 0)
            {
                continue;
            }

            int j = i;
            while (j > 0 && Ccc(cps[j - 1], tables) > ccc)
            {
                (cps[j - 1], cps[j]) = (cps[j], cps[j - 1]);
                j--;
            }
        }

        Compose(cps, tables);
        var sb = new StringBuilder(text.Length);
        foreach (int cp in cps)
        {
            sb.Append(new Rune(cp).ToString());
        }

        return sb.ToString();
    }

    private static int Ccc(int cp, Tables t) => t.Ccc.TryGetValue(cp, out byte c) ? c : 0;

    private static void Decompose(int cp, List<int> output, Tables t)
    {
        if (cp >= SBase && cp < SBase + SCount)
        {
            int s = cp - SBase;
            output.Add(LBase + (s / NCount));
            output.Add(VBase + (s % NCount / TCount));
            if (s % TCount != 0)
            {
                output.Add(TBase + (s % TCount));
            }

            return;
        }

        if (t.Decomposition.TryGetValue(cp, out int[]? parts))
        {
            foreach (int p in parts)
            {
                Decompose(p, output, t);
            }

            return;
        }

        output.Add(cp);
    }

    private static void Compose(List<int> cps, Tables t)
    {
        // UAX #15 canonical composition: a character composes with the last starter unless a character between them
        // is a starter or has a combining class >= its own (the run between is sorted, so the last one decides).
        int starter = -1, lastCcc = -1, write = 0;
        for (int read = 0; read < cps.Count; read++)
        {
            int cp = cps[read];
            int ccc = Ccc(cp, t);
            if (starter >= 0 && !(lastCcc != -1 && lastCcc >= ccc))
            {
                int composite = ComposePair(cps[starter], cp, t);
                if (composite >= 0)
                {
                    cps[starter] = composite;
                    continue;
                }
            }

            if (ccc == 0)
            {
                starter = write;
                lastCcc = -1;
            }
            else
            {
                lastCcc = ccc;
            }

            cps[write++] = cp;
        }

        cps.RemoveRange(write, cps.Count - write);
    }

    private static int ComposePair(int a, int b, Tables t)
    {
        if (a >= LBase && a < LBase + LCount && b >= VBase && b < VBase + VCount)
        {
            return SBase + (((a - LBase) * VCount) + (b - VBase)) * TCount;
        }

        if (a >= SBase && a < SBase + SCount && (a - SBase) % TCount == 0 && b > TBase && b < TBase + TCount)
        {
            return a + (b - TBase);
        }

        return t.Composition.TryGetValue(((long)a << 21) | (uint)b, out int c) ? c : -1;
    }

    private static Tables Load()
    {
        var t = new Tables();
        using Stream stream = Assembly.GetExecutingAssembly().GetManifestResourceStream("Stork.Pipelines.Tokenizers.nfc.txt")
            ?? throw new InvalidOperationException("embedded NFC table missing");
        using var reader = new StreamReader(stream);
        while (reader.ReadLine() is { } line)
        {
            if (line.Length == 0 || line[0] == '#')
            {
                continue;
            }

            string[] f = line.Split(' ');
            int cp = Convert.ToInt32(f[0], 16);
            if (f.Length == 2)
            {
                t.Ccc[cp] = byte.Parse(f[1], System.Globalization.CultureInfo.InvariantCulture);
                continue;
            }

            int[] parts = f.Skip(2).Select(p => Convert.ToInt32(p, 16)).ToArray();
            t.Decomposition[cp] = parts;
            if (f[1] == "c")
            {
                t.Composition[((long)parts[0] << 21) | (uint)parts[1]] = cp;
            }
        }

        return t;
    }

    private sealed class Tables
    {
        public Dictionary<int, byte> Ccc { get; } = [];

        public Dictionary<int, int[]> Decomposition { get; } = [];

        public Dictionary<long, int> Composition { get; } = [];
    }
}
