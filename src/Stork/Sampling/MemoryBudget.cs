using System.Globalization;

namespace Stork.Sampling;

/// <summary>
/// The memory a run may plan to allocate: half of the memory available to the process
/// (<see cref="GCMemoryInfo.TotalAvailableMemoryBytes"/>: physical memory or the container's limit), or
/// <c>STORK_MEMORY_LIMIT</c> (bytes, or with a K, M, G or T suffix, powers of 1024). Front ends estimate what a run
/// allocates (samples, solver history, model batches, images) before allocating it and refuse what exceeds the limit
/// (an <see cref="ArgumentException"/> naming, in the caller's words, what to change).
/// </summary>
public static class MemoryBudget
{
    /// <summary>The environment variable that sets the limit.</summary>
    public const string Variable = "STORK_MEMORY_LIMIT";

    /// <summary>Bytes a solver may hold per sample float: the sample, the model output and up to ten history buffers.</summary>
    public const long SolverBytesPerFloat = 4 * 12;

    /// <summary>The limit in bytes.</summary>
    public static long Limit
    {
        get
        {
            string? text = Environment.GetEnvironmentVariable(Variable);
            if (string.IsNullOrWhiteSpace(text))
            {
                return Math.Max(GC.GetGCMemoryInfo().TotalAvailableMemoryBytes / 2, 256L << 20);
            }

            return Parse(text.Trim()) ?? throw new InvalidOperationException(
                $"{Variable} must be a number of bytes, optionally with a K, M, G or T suffix (got '{text}').");
        }
    }

    private static long? Parse(string text)
    {
        long unit = char.ToUpperInvariant(text[^1]) switch
        {
            'K' => 1L << 10,
            'M' => 1L << 20,
            'G' => 1L << 30,
            'T' => 1L << 40,
            _ => 1,
        };
        string number = unit == 1 ? text : text[..^1];
        if (!double.TryParse(number, NumberStyles.Float, CultureInfo.InvariantCulture, out double v) || !(v >= 1) || v * unit > long.MaxValue / 2.0)
        {
            return null;
        }

        return (long)(v * unit);
    }

    /// <summary>
    /// Refuses a run whose estimated allocation <paramref name="bytes"/> (for <paramref name="what"/>) exceeds the limit;
    /// <paramref name="change"/> names the options that make it smaller.
    /// </summary>
    public static void Check(double bytes, string what, string change)
    {
        ArgumentNullException.ThrowIfNull(what);
        ArgumentNullException.ThrowIfNull(change);
        long limit = Limit;
        if (!(bytes <= limit))
        {
            throw new ArgumentException(string.Create(CultureInfo.InvariantCulture,
                $"{what} needs about {Format(bytes)} of memory, more than the limit of {Format(limit)}; lower {change} (or raise {Variable})."));
        }
    }

    /// <summary>
    /// A count of floats that must fit one .NET array: <paramref name="count"/> x <paramref name="size"/>, in 64-bit
    /// arithmetic; <paramref name="change"/> names what makes it smaller.
    /// </summary>
    public static int Floats(long count, long size, string change)
    {
        ArgumentNullException.ThrowIfNull(change);
        double n = (double)count * size;
        if (!(n <= Array.MaxLength))
        {
            throw new ArgumentException(string.Create(CultureInfo.InvariantCulture,
                $"{count} samples of {size} values are {n:0} values, more than one array holds ({Array.MaxLength}); lower {change}."));
        }

        return (int)n;
    }

    /// <summary>A byte count in KiB, MiB, GiB or TiB with one decimal.</summary>
    public static string Format(double bytes) => bytes switch
    {
        >= 1L << 40 => string.Create(CultureInfo.InvariantCulture, $"{bytes / (1L << 40):0.#} TiB"),
        >= 1L << 30 => string.Create(CultureInfo.InvariantCulture, $"{bytes / (1L << 30):0.#} GiB"),
        >= 1L << 20 => string.Create(CultureInfo.InvariantCulture, $"{bytes / (1L << 20):0.#} MiB"),
        _ => string.Create(CultureInfo.InvariantCulture, $"{bytes / 1024:0.#} KiB"),
    };
}
