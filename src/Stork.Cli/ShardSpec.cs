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
        Description = "Run shard i of n (0-based, e.g. 2/8): the i-th of n contiguous blocks of the run's images; 0/1 is the whole run. Default: "
            + "JOB_COMPLETION_INDEX with STORK_SHARD_COUNT (Kubernetes Indexed Job), or SLURM_ARRAY_TASK_ID / SLURM_ARRAY_TASK_COUNT (Slurm array), announced on stderr; "
            + "a job array with more tasks than the run has images renders the whole run in each task; else the whole run.",
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
    public static ShardSpec Resolve(string? option, Func<string, string?> environment) => Resolve(option, environment, out _, out _);

    /// <summary>
    /// As <see cref="Resolve(string?, Func{string, string?})"/>, and announces on <paramref name="stderr"/> a shard taken from
    /// the environment (naming the variable and <c>--shard 0/1</c>) or an array variable left unused.
    /// </summary>
    public static ShardSpec Resolve(string? option, Func<string, string?> environment, TextWriter stderr)
    {
        var part = Resolve(option, environment, out string? source, out string? note);
        Announce(part, source, note, stderr);
        return part;
    }

    /// <summary>
    /// The shard of a run of <paramref name="total"/> items: <c>--shard</c> must give every shard an item (else an error);
    /// a job-array environment shards the run only when it has at least as many items as the array has tasks (a task that
    /// renders its own small run, the common pattern, renders it whole); either way the choice is announced on
    /// <paramref name="stderr"/>.
    /// </summary>
    public static ShardSpec ForRun(string? option, Func<string, string?> environment, long total, string what, TextWriter stderr)
    {
        var part = Resolve(option, environment, out string? source, out string? note);
        if (source is not null && part.Count > total)
        {
            stderr.WriteLine($"note: {source} is set (a job array of {part.Count} tasks) but the run has {total} {what}: rendering the whole run; pass --shard i/n to shard it.");
            return Whole;
        }

        Announce(part, source, note, stderr);
        part.CheckCovers(total, what);
        return part;
    }

    /// <summary>
    /// The shard and, when it comes from the environment, the variable that gave it (<paramref name="source"/>);
    /// <paramref name="note"/> says why an array variable present was not used. The environment shards a run only when
    /// it is unambiguous: a Kubernetes Indexed Job with <c>STORK_SHARD_COUNT</c> set, or a Slurm array with its task count,
    /// and not both.
    /// </summary>
    internal static ShardSpec Resolve(string? option, Func<string, string?> environment, out string? source, out string? note)
    {
        source = note = null;
        if (option is not null)
        {
            return Parse(option);
        }

        string? k8s = Get(environment, "JOB_COMPLETION_INDEX");
        string? slurm = Get(environment, "SLURM_ARRAY_TASK_ID");
        if (k8s is not null && slurm is not null)
        {
            throw new CliException($"both JOB_COMPLETION_INDEX and SLURM_ARRAY_TASK_ID are set, so the shard is ambiguous; {Escape}.");
        }

        if (k8s is not null)
        {
            if (Get(environment, "STORK_SHARD_COUNT") is not { } count)
            {
                note = "JOB_COMPLETION_INDEX is set (a Kubernetes Indexed Job) but STORK_SHARD_COUNT is not: rendering the whole run; set STORK_SHARD_COUNT to the job's completions, or pass --shard i/n, to shard it.";
                return Whole;
            }

            var part = Checked(Int(k8s, "JOB_COMPLETION_INDEX"), Int(count, "STORK_SHARD_COUNT"), "JOB_COMPLETION_INDEX/STORK_SHARD_COUNT");
            source = $"JOB_COMPLETION_INDEX (of STORK_SHARD_COUNT={part.Count})";
            return part;
        }

        if (slurm is not null)
        {
            if (Get(environment, "SLURM_ARRAY_TASK_COUNT") is not { } count)
            {
                note = "SLURM_ARRAY_TASK_ID is set but SLURM_ARRAY_TASK_COUNT is not: rendering the whole run; pass --shard i/n to shard it.";
                return Whole;
            }

            int min = Get(environment, "SLURM_ARRAY_TASK_MIN") is { } m ? Int(m, "SLURM_ARRAY_TASK_MIN") : 0;
            if (Get(environment, "SLURM_ARRAY_TASK_STEP") is { } step && step.Trim() != "1")
            {
                throw new CliException($"SLURM_ARRAY_TASK_STEP is {step}: shards need a contiguous array (--array=0-N); {Escape}.");
            }

            var part = Checked(Int(slurm, "SLURM_ARRAY_TASK_ID") - min, Int(count, "SLURM_ARRAY_TASK_COUNT"), "SLURM_ARRAY_TASK_ID/SLURM_ARRAY_TASK_COUNT");
            source = $"SLURM_ARRAY_TASK_ID (of SLURM_ARRAY_TASK_COUNT={part.Count})";
            return part;
        }

        return Whole;
    }

    /// <summary>How to take the shard into one's own hands, in every error about an environment shard.</summary>
    private const string Escape = "pass --shard i/n, or --shard 0/1 for the whole run";

    private static void Announce(ShardSpec part, string? source, string? note, TextWriter stderr)
    {
        if (note is not null)
        {
            stderr.WriteLine($"note: {note}");
        }

        if (source is not null)
        {
            stderr.WriteLine($"shard {part} from {source}; --shard 0/1 renders the whole run.");
        }
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
            throw new CliException($"shard {this}: the run has {total} {what}, fewer than its {Count} shards; use at most {total} shards (--shard 0/1 renders the whole run).");
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
        string escape = source == "--shard" ? "" : $"; {Escape}";
        if (n < 1)
        {
            throw new CliException($"{source}: the shard count must be at least 1 (got {n}){escape}.");
        }

        if (i < 0 || i >= n)
        {
            throw new CliException($"{source}: shard index {i} is outside 0..{n - 1} (shards are counted from 0){escape}.");
        }

        return new ShardSpec(i, n);
    }

    private static string? Get(Func<string, string?> environment, string name) =>
        environment(name) is { } v && !string.IsNullOrWhiteSpace(v) ? v : null;

    private static bool TryInt(string s, out int value) =>
        int.TryParse(s.Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out value);

    private static int Int(string s, string name) =>
        TryInt(s, out int v) ? v : throw new CliException($"{name} must be a non-negative integer (got '{s}'); {Escape}.");
}
