using System.CommandLine;
using System.Globalization;

namespace Stork.Cli;

/// <summary>
/// Shard <see cref="Index"/> of <see cref="Count"/> of a run: it takes the <see cref="Index"/>-th of
/// <see cref="Count"/> contiguous blocks of the run's items (block sizes differ by at most one; the first blocks are the
/// smaller). From <c>--shard i/n</c>, or else from the environment of a job array: a Kubernetes Indexed Job's
/// <c>JOB_COMPLETION_INDEX</c> with <c>STORK_SHARD_COUNT</c> (the job's completions, which Kubernetes does not pass on),
/// or Slurm's <c>SLURM_ARRAY_TASK_ID</c> / <c>SLURM_ARRAY_TASK_COUNT</c> (less <c>SLURM_ARRAY_TASK_MIN</c>, so
/// <c>--array=1-4</c> works). A bad specification is a <see cref="CliException"/> (exit 2).
/// </summary>
internal sealed record ShardSpec(int Index, int Count)
{
    /// <summary>The whole run: shard 0 of 1.</summary>
    public static ShardSpec Whole { get; } = new(0, 1);

    /// <summary>Whether this is a part of the run (more than one shard).</summary>
    public bool IsPartial => Count > 1;

    /// <summary>The <c>--shard</c> option.</summary>
    public static Option<string?> CreateOption() => new("--shard")
    {
        Description = "Run shard i of n (0-based, e.g. 2/8): the i-th of n contiguous blocks of the run's images. Default: "
            + "JOB_COMPLETION_INDEX with STORK_SHARD_COUNT (Kubernetes Indexed Job), or SLURM_ARRAY_TASK_ID / SLURM_ARRAY_TASK_COUNT (Slurm array); else the whole run.",
    };

    /// <summary>Parses <c>i/n</c> with 0 &lt;= i &lt; n.</summary>
    public static ShardSpec Parse(string text, string source = "--shard")
    {
        string[] parts = text.Trim().Split('/');
        if (parts.Length != 2 || !TryInt(parts[0], out int i) || !TryInt(parts[1], out int n))
        {
            throw new CliException($"{source}: expected i/n with integers, shard i of n counted from 0 (got '{text}').");
        }

        return Checked(i, n, source);
    }

    /// <summary>
    /// <paramref name="option"/> when given; else the job-array environment read through <paramref name="environment"/>;
    /// else <see cref="Whole"/>.
    /// </summary>
    public static ShardSpec Resolve(string? option, Func<string, string?> environment)
    {
        if (option is not null)
        {
            return Parse(option);
        }

        if (Get(environment, "JOB_COMPLETION_INDEX") is { } k8s)
        {
            string count = Get(environment, "STORK_SHARD_COUNT") ?? throw new CliException(
                "JOB_COMPLETION_INDEX is set (a Kubernetes Indexed Job) but STORK_SHARD_COUNT is not: set it to the job's completions, or pass --shard i/n (--shard 0/1 for the whole run).");
            return Checked(Int(k8s, "JOB_COMPLETION_INDEX"), Int(count, "STORK_SHARD_COUNT"), "JOB_COMPLETION_INDEX/STORK_SHARD_COUNT");
        }

        if (Get(environment, "SLURM_ARRAY_TASK_ID") is { } slurm)
        {
            string count = Get(environment, "SLURM_ARRAY_TASK_COUNT") ?? throw new CliException(
                "SLURM_ARRAY_TASK_ID is set but SLURM_ARRAY_TASK_COUNT is not; pass --shard i/n.");
            int min = Get(environment, "SLURM_ARRAY_TASK_MIN") is { } m ? Int(m, "SLURM_ARRAY_TASK_MIN") : 0;
            if (Get(environment, "SLURM_ARRAY_TASK_STEP") is { } step && step.Trim() != "1")
            {
                throw new CliException($"SLURM_ARRAY_TASK_STEP is {step}: shards need a contiguous array (--array=0-N); pass --shard i/n.");
            }

            return Checked(Int(slurm, "SLURM_ARRAY_TASK_ID") - min, Int(count, "SLURM_ARRAY_TASK_COUNT"), "SLURM_ARRAY_TASK_ID/SLURM_ARRAY_TASK_COUNT");
        }

        return Whole;
    }

    /// <summary>The first item and the number of items of this shard of a run of <paramref name="total"/> items.</summary>
    public (long Start, long Length) Block(long total)
    {
        long start = total * Index / Count;
        long end = total * (Index + 1) / Count;
        return (start, end - start);
    }

    /// <summary>Checks that every shard gets at least one of the run's <paramref name="total"/> items.</summary>
    public void CheckCovers(long total, string what)
    {
        if (Count > total)
        {
            throw new CliException($"shard {this}: the run has {total} {what}, fewer than its {Count} shards; use at most {total}.");
        }
    }

    /// <summary>
    /// <paramref name="path"/> with the shard before its extension, <c>FILE.shard-I-of-N.EXT</c> (I zero-padded to the
    /// width of N - 1, so the files sort in shard order); the path itself for the whole run.
    /// </summary>
    public string Suffixed(string path)
    {
        if (!IsPartial)
        {
            return path;
        }

        int width = (Count - 1).ToString(CultureInfo.InvariantCulture).Length;
        string index = Index.ToString(CultureInfo.InvariantCulture).PadLeft(width, '0');
        return Path.Combine(Path.GetDirectoryName(path) ?? "",
            $"{Path.GetFileNameWithoutExtension(path)}.shard-{index}-of-{Count}{Path.GetExtension(path)}");
    }

    /// <inheritdoc />
    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"{Index}/{Count}");

    private static ShardSpec Checked(int i, int n, string source)
    {
        if (n < 1)
        {
            throw new CliException($"{source}: the shard count must be at least 1 (got {n}).");
        }

        if (i < 0 || i >= n)
        {
            throw new CliException($"{source}: shard index {i} is outside 0..{n - 1} (shards are counted from 0).");
        }

        return new ShardSpec(i, n);
    }

    private static string? Get(Func<string, string?> environment, string name) =>
        environment(name) is { } v && !string.IsNullOrWhiteSpace(v) ? v : null;

    private static bool TryInt(string s, out int value) =>
        int.TryParse(s.Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out value);

    private static int Int(string s, string name) =>
        TryInt(s, out int v) ? v : throw new CliException($"{name} must be a non-negative integer (got '{s}').");
}
