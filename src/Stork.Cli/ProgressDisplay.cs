using Spectre.Console;
using Stork.Sampling;

namespace Stork.Cli;

/// <summary>
/// A Spectre.Console progress bar on stderr for long runs, shown only when stderr is the process's own terminal (never
/// when it is redirected or a test's writer), so that piped and captured output stays clean.
/// </summary>
internal static class ProgressDisplay
{
    public static bool IsShown(TextWriter stderr) => ReferenceEquals(stderr, Console.Error) && !Console.IsErrorRedirected;

    /// <summary>Runs <paramref name="work"/> with a progress sink counting <paramref name="total"/> model evaluations.</summary>
    public static void Run(TextWriter stderr, string description, int total, Action<IProgress<StepInfo>?> work) =>
        Run(stderr, description, total, (steps, _) => work(steps));

    /// <summary>As <see cref="Run(TextWriter, string, int, Action{IProgress{StepInfo}})"/>, with a callback that renames the bar (a stage: loading, encoding text, ...).</summary>
    public static void Run(TextWriter stderr, string description, int total, Action<IProgress<StepInfo>?, Action<string>?> work)
    {
        if (!IsShown(stderr) || total < 1)
        {
            work(null, null);
            return;
        }

        var console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(stderr) });
        console.Progress()
            .AutoClear(true)
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn(), new RemainingTimeColumn())
            .Start(ctx =>
            {
                var task = ctx.AddTask(Markup.Escape(description), maxValue: total);
                work(new Sink(task), text => task.Description = Markup.Escape(text));
                task.Value = task.MaxValue;
            });
    }

    private sealed class Sink(ProgressTask task) : IProgress<StepInfo>
    {
        public void Report(StepInfo value) => task.Increment(1);
    }
}
