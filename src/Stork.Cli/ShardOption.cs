using System.CommandLine;
using Stork.Sampling;

namespace Stork.Cli;

/// <summary>
/// <c>--shard i/n</c> (<see cref="ShardSpec"/>), defaulting to a job array's environment; the shard taken from the
/// environment, or an array variable left unused, is announced on stderr.
/// </summary>
internal static class ShardOption
{
    /// <summary>The <c>--shard</c> option (its name is the library's key, so errors name the flag).</summary>
    public static Option<string?> Create() => new("--" + ShardSpec.Key)
    {
        Description = "Run shard i of n (0-based, e.g. 2/8): the i-th of n contiguous blocks of the run's images; 0/1 is the whole run. Default: "
            + "JOB_COMPLETION_INDEX with STORK_SHARD_COUNT (Kubernetes Indexed Job), or SLURM_ARRAY_TASK_ID / SLURM_ARRAY_TASK_COUNT (Slurm array), announced on stderr; "
            + "a job array with more tasks than the run has images renders the whole run in each task; else the whole run.",
    };

    /// <summary><see cref="ShardSpec.Resolve"/>, announced on <paramref name="stderr"/>.</summary>
    public static ShardSpec Resolve(string? option, Func<string, string?> environment, TextWriter stderr) =>
        Announce(ShardSpec.Resolve(option, environment), stderr);

    /// <summary><see cref="ShardSpec.ForRun"/>, announced on <paramref name="stderr"/>.</summary>
    public static ShardSpec ForRun(string? option, Func<string, string?> environment, long total, string what, TextWriter stderr) =>
        Announce(ShardSpec.ForRun(option, environment, total, what), stderr);

    private static ShardSpec Announce(ShardChoice choice, TextWriter stderr)
    {
        if (choice.Note is { } note)
        {
            stderr.WriteLine($"note: {note}; pass --shard i/n to shard it.");
        }

        if (choice.Variable is { } variable)
        {
            stderr.WriteLine($"shard {choice.Part} from {variable}; --shard 0/1 renders the whole run.");
        }

        return choice.Part;
    }
}
