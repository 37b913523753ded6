using System.Globalization;

namespace Stork.Sampling;

/// <summary>
/// Shard <see cref="Index"/> of <see cref="Count"/> of a run: it takes the <see cref="Index"/>-th of
/// <see cref="Count"/> contiguous blocks of the run's items (block sizes differ by at most one; the first blocks are the
/// smaller). Given as <c>i/n</c>, or else taken from the environment of a job array: a Kubernetes Indexed Job's
/// <c>JOB_COMPLETION_INDEX</c> with <c>STORK_SHARD_COUNT</c> (the job's completions, which Kubernetes does not pass on),
/// or Slurm's <c>SLURM_ARRAY_TASK_ID</c> / <c>SLURM_ARRAY_TASK_COUNT</c> (less <c>SLURM_ARRAY_TASK_MIN</c>, so
/// <c>--array=1-4</c> works). A bad specification is an <see cref="OptionException"/> with the key <see cref="Key"/>.
/// </summary>
public sealed record ShardSpec(int Index, int Count)
{
    /// <summary>The option key of every shard error (<see cref="ArgumentException.ParamName"/>).</summary>
    public const string Key = "shard";

    /// <summary>How to take the shard into one's own hands, in every error about an environment shard.</summary>
    private const string Escape = "give it as i/n, or 0/1 for the whole run";

    /// <summary>The whole run: shard 0 of 1.</summary>
    public static ShardSpec Whole { get; } = new(0, 1);

    /// <summary>Whether this is a part of the run (more than one shard).</summary>
    public bool IsPartial => Count > 1;

    /// <summary>Parses <c>i/n</c> with 0 &lt;= i &lt; n.</summary>
    public static ShardSpec Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        string[] parts = text.Trim().Split('/');
        if (parts.Length != 2 || !TryInt(parts[0], out int i) || !TryInt(parts[1], out int n))
        {
            throw new OptionException(Key, $"must be i/n with integers, shard i of n counted from 0 (got '{text}').");
        }

        return Checked(i, n, null);
    }

    /// <summary>
    /// <paramref name="given"/> (<c>i/n</c>) when not null; else the job-array environment read through
    /// <paramref name="environment"/>; else <see cref="Whole"/>. The environment shards a run only when it is unambiguous:
    /// a Kubernetes Indexed Job with <c>STORK_SHARD_COUNT</c> set, or a Slurm array with its task count, and not both.
    /// </summary>
    public static ShardChoice Resolve(string? given, Func<string, string?> environment)
    {
        ArgumentNullException.ThrowIfNull(environment);
        if (given is not null)
        {
            return new ShardChoice(Parse(given), null, null);
        }

        string? k8s = Get(environment, "JOB_COMPLETION_INDEX");
        string? slurm = Get(environment, "SLURM_ARRAY_TASK_ID");
        if (k8s is not null && slurm is not null)
        {
            throw new OptionException(Key, $"is not given and both JOB_COMPLETION_INDEX and SLURM_ARRAY_TASK_ID are set, so the shard is ambiguous; {Escape}.");
        }

        if (k8s is not null)
        {
            if (Get(environment, "STORK_SHARD_COUNT") is not { } count)
            {
                return new ShardChoice(Whole, null,
                    "JOB_COMPLETION_INDEX is set (a Kubernetes Indexed Job) but STORK_SHARD_COUNT is not: rendering the whole run; set STORK_SHARD_COUNT to the job's completions to shard it");
            }

            var part = Checked(Int(k8s, "JOB_COMPLETION_INDEX"), Int(count, "STORK_SHARD_COUNT"), "JOB_COMPLETION_INDEX/STORK_SHARD_COUNT");
            return new ShardChoice(part, $"JOB_COMPLETION_INDEX (of STORK_SHARD_COUNT={part.Count})", null);
        }

        if (slurm is not null)
        {
            if (Get(environment, "SLURM_ARRAY_TASK_COUNT") is not { } count)
            {
                return new ShardChoice(Whole, null, "SLURM_ARRAY_TASK_ID is set but SLURM_ARRAY_TASK_COUNT is not: rendering the whole run");
            }

            int min = Get(environment, "SLURM_ARRAY_TASK_MIN") is { } m ? Int(m, "SLURM_ARRAY_TASK_MIN") : 0;
            if (Get(environment, "SLURM_ARRAY_TASK_STEP") is { } step && step.Trim() != "1")
            {
                throw new OptionException(Key, $"is not given and SLURM_ARRAY_TASK_STEP is {step}: shards need a contiguous Slurm array (step 1); {Escape}.");
            }

            var part = Checked(Int(slurm, "SLURM_ARRAY_TASK_ID") - min, Int(count, "SLURM_ARRAY_TASK_COUNT"), "SLURM_ARRAY_TASK_ID/SLURM_ARRAY_TASK_COUNT");
            return new ShardChoice(part, $"SLURM_ARRAY_TASK_ID (of SLURM_ARRAY_TASK_COUNT={part.Count})", null);
        }

        return new ShardChoice(Whole, null, null);
    }

    /// <summary>
    /// The shard of a run of <paramref name="total"/> items (<paramref name="what"/> names them in messages): a given
    /// shard must give every shard an item (else an error); a job-array environment shards the run only when it has at
    /// least as many items as the array has tasks (a task that renders its own small run, the common pattern, renders it
    /// whole, and <see cref="ShardChoice.Note"/> says so).
    /// </summary>
    public static ShardChoice ForRun(string? given, Func<string, string?> environment, long total, string what)
    {
        var choice = Resolve(given, environment);
        if (choice.Variable is not null && choice.Part.Count > total)
        {
            return new ShardChoice(Whole, null,
                string.Create(CultureInfo.InvariantCulture, $"{choice.Variable} is set (a job array of {choice.Part.Count} tasks) but the run has {total} {what}: rendering the whole run"));
        }

        choice.Part.CheckCovers(total, what);
        return choice;
    }

    /// <summary>The first item and the number of items of this shard of a run of <paramref name="total"/> items.</summary>
    public (long Start, long Length) Block(long total)
    {
        long start = total * Index / Count;
        long end = total * (Index + 1) / Count;
        return (start, end - start);
    }

    /// <summary>Checks that every shard gets at least one of the run's <paramref name="total"/> items (<paramref name="what"/>).</summary>
    public void CheckCovers(long total, string what)
    {
        if (Count > total)
        {
            throw new OptionException(Key, string.Create(CultureInfo.InvariantCulture,
                $"{this}: the run has {total} {what}, fewer than its {Count} shards; use at most {total} shards (0/1 is the whole run)."));
        }
    }

    /// <summary>
    /// <paramref name="path"/> with the shard before its extension, <c>FILE.shard-I-of-N.EXT</c> (I zero-padded to the
    /// width of N - 1, so the files sort in shard order); the path itself for the whole run.
    /// </summary>
    public string Suffixed(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
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

    /// <summary>A checked shard; <paramref name="variables"/> names the environment that gave it (null: given).</summary>
    private static ShardSpec Checked(int i, int n, string? variables)
    {
        if (n < 1)
        {
            throw new OptionException(Key, variables is null
                ? string.Create(CultureInfo.InvariantCulture, $"must have a shard count of at least 1 (got {n}).")
                : string.Create(CultureInfo.InvariantCulture, $"is not given and {variables} give a shard count of {n}, not at least 1; {Escape}."));
        }

        if (i < 0 || i >= n)
        {
            throw new OptionException(Key, variables is null
                ? string.Create(CultureInfo.InvariantCulture, $"has shard index {i}, outside 0..{n - 1} (shards are counted from 0).")
                : string.Create(CultureInfo.InvariantCulture, $"is not given and {variables} give shard index {i}, outside 0..{n - 1} (shards are counted from 0); {Escape}."));
        }

        return new ShardSpec(i, n);
    }

    private static string? Get(Func<string, string?> environment, string name) =>
        environment(name) is { } v && !string.IsNullOrWhiteSpace(v) ? v : null;

    private static bool TryInt(string s, out int value) =>
        int.TryParse(s.Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out value);

    private static int Int(string s, string name) =>
        TryInt(s, out int v) ? v : throw new OptionException(Key, $"is not given and {name} is not a non-negative integer (got '{s}'); {Escape}.");
}

/// <summary>
/// The shard a run takes: <see cref="Part"/>; <see cref="Variable"/> names the environment variable that gave it (null
/// when given or whole); <see cref="Note"/> says why a job-array variable that is set was not used (the whole run is rendered).
/// </summary>
public sealed record ShardChoice(ShardSpec Part, string? Variable, string? Note);
