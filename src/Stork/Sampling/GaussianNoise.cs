namespace Stork.Sampling;

/// <summary>
/// Reproducible standard normal noise: SplitMix64 (Steele, Lea, Flood 2014) feeding the Box-Muller transform, all in
/// integer and double arithmetic, so the same seed gives the same bytes on every machine and .NET version.
/// </summary>
public static class GaussianNoise
{
    /// <summary>Fills <paramref name="destination"/> with N(0, 1) samples for <paramref name="seed"/>.</summary>
    public static void Fill(Span<float> destination, long seed)
    {
        ulong state = unchecked((ulong)seed);
        for (int i = 0; i < destination.Length; i += 2)
        {
            double u1 = ToUnit(Next(ref state));
            double u2 = ToUnit(Next(ref state));
            double r = Math.Sqrt(-2.0 * Math.Log(u1));
            double a = 2.0 * Math.PI * u2;
            destination[i] = (float)(r * Math.Cos(a));
            if (i + 1 < destination.Length)
            {
                destination[i + 1] = (float)(r * Math.Sin(a));
            }
        }
    }

    /// <summary>A new array of <paramref name="count"/> N(0, 1) samples.</summary>
    public static float[] Create(int count, long seed)
    {
        var r = new float[count];
        Fill(r, seed);
        return r;
    }

    private static ulong Next(ref ulong state)
    {
        unchecked
        {
            state += 0x9E3779B97F4A7C15UL;
            ulong z = state;
            z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
            z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
            return z ^ (z >> 31);
        }
    }

    // (0, 1]: never 0, so the logarithm is finite.
    private static double ToUnit(ulong bits) => ((bits >> 11) + 1.0) * (1.0 / 9007199254740992.0);
}
