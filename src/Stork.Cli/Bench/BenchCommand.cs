using System.CommandLine;

namespace Stork.Cli.Bench;

/// <summary><c>stork bench</c>: measurements (exact-ODE error; sample quality).</summary>
internal static class BenchCommand
{
    public static Command Create(TextWriter stdout, TextWriter stderr)
    {
        var command = new Command("bench", "Measure solvers: error against exact ODE solutions, sample quality per model evaluation; merge the shards of a sharded quality run.")
        {
            BenchOdeCommand.Create(stdout),
            BenchQualityCommand.Create(stdout, stderr),
            BenchShards.CreateMerge(stdout),
            BenchPromptedCommand.Create(stdout),
        };
        return command;
    }
}
