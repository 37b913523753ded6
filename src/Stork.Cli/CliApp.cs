using System.CommandLine;
using Stork.Sampling;

namespace Stork.Cli;

/// <summary>
/// The <c>stork</c> command line: subcommands, and the rules for errors: bad input prints one <c>error: ...</c> line
/// on stderr and exits 2; cancellation (Ctrl-C, SIGTERM) prints <c>error: cancelled.</c> and exits 130 / 143; anything
/// else is a bug: one line asking to report it, exit 70. No stack trace is ever printed.
/// </summary>
public static class CliApp
{
    public const int UsageError = 2;

    /// <summary>Exit code of an unexpected exception (a bug; EX_SOFTWARE).</summary>
    public const int InternalError = 70;

    public static int Run(string[] args, TextWriter stdout, TextWriter stderr) => Run(args, stdout, stderr, null);

    internal static int Run(string[] args, TextWriter stdout, TextWriter stderr, Interrupts? interrupts)
    {
        ParseResult? parse = null;
        try
        {
            var root = CreateRoot(stdout, stderr);
            parse = root.Parse(args);
            bool help = args.Any(a => a is "-h" or "--help" or "-?");
            if (args.Length == 0)
            {
                root.Parse(["--help"]).Invoke(new InvocationConfiguration { Output = stdout, Error = stderr });
                return Fail(stderr, $"give a command ({string.Join(", ", root.Subcommands.Select(c => c.Name))}); 'stork COMMAND --help' describes each.", UsageError);
            }

            if (parse.Errors.Count > 0 && !help)
            {
                return Fail(stderr, ParseErrors.Describe(parse), UsageError);
            }

            var token = interrupts?.Token ?? CancellationToken.None;
            var config = new InvocationConfiguration
            {
                Output = stdout,
                Error = stderr,
                EnableDefaultExceptionHandler = false,
                ProcessTerminationTimeout = null,
            };
            return parse.InvokeAsync(config, token).GetAwaiter().GetResult();
        }
        catch (Exception e)
        {
            return Report(stderr, Unwrap(e), interrupts, parse?.CommandResult.Command);
        }
    }

    /// <summary>
    /// The command tree. The root is a plain command named <c>stork</c> (a <see cref="RootCommand"/> takes the name of
    /// the executable, <c>Stork.Cli</c>, for its usage lines) with the help and version options a root command has.
    /// </summary>
    internal static Command CreateRoot(TextWriter stdout, TextWriter stderr) => new("stork",
        "Stork.NET: fast training-free sampling of diffusion and flow models (STORK and the standard solvers), and text to image with FLUX.1, SD3/3.5, SD1.5/2.x, SDXL and Qwen-Image ONNX pipelines.")
    {
        SampleCommand.Create(stdout, stderr),
        CompareCommand.Create(stdout, stderr),
        Bench.BenchCommand.Create(stdout, stderr),
        GenerateCommand.Create(stdout, stderr),
        TokenizeCommand.Create(stdout, stderr),
        PullCommand.Create(stdout, stderr),
        ServeCommand.Create(stdout, stderr),
        QuantizeCommand.Create(stdout, stderr),
        TuneCommand.Create(stdout, stderr),
        new System.CommandLine.Help.HelpOption(),
        new VersionOption(),
    };

    private static Exception Unwrap(Exception e)
    {
        while (e is AggregateException { InnerExceptions.Count: 1 } a)
        {
            e = a.InnerExceptions[0];
        }

        return e is AggregateException many && many.Flatten().InnerExceptions.All(x => x is OperationCanceledException)
            ? many.Flatten().InnerExceptions[0]
            : e;
    }

    private static int Report(TextWriter stderr, Exception e, Interrupts? interrupts, Command? command) => e switch
    {
        OperationCanceledException => Fail(stderr, "cancelled.", interrupts?.ExitCode ?? 130),
        CliException or ArgumentException or InvalidDataException or FileNotFoundException or DirectoryNotFoundException or IOException
            or UnauthorizedAccessException or InvalidOperationException or NotSupportedException => Fail(stderr, Message(e, command), UsageError),
        OverflowException => Fail(stderr, $"a number is too large for this run ({e.Message})", UsageError),
        OutOfMemoryException => Fail(stderr, $"out of memory; make the run smaller (--batch, --samples) or set {MemoryBudget.Variable} lower so that it is refused up front.", UsageError),
        _ => Fail(stderr, $"internal error ({e.GetType().Name}: {e.Message}). This is a bug in stork; please report it with the command line that caused it.", InternalError),
    };

    /// <summary>
    /// The message of an expected exception. Library errors about an option carry its key (<see cref="OptionException"/>,
    /// <see cref="ArgumentException.ParamName"/>); the command's flag <c>--KEY</c> then names it. Library text is never rewritten.
    /// </summary>
    private static string Message(Exception e, Command? command)
    {
        if (e is not ArgumentException { ParamName: { } key } a)
        {
            return e.Message;
        }

        string? flag = command?.Options.FirstOrDefault(o => o.Name == "--" + key)?.Name;
        if (a is OptionException o)
        {
            return flag is null ? o.Message : $"{flag} {o.Reason}";
        }

        return flag is null ? Sentence(a) : $"{flag}: {Sentence(a)}";
    }

    /// <summary>
    /// The library's sentence of <paramref name="e"/>: <see cref="ArgumentException.Message"/> without the
    /// " (Parameter 'key')" that .NET appends to it (the key is shown as the flag instead, or not at all).
    /// </summary>
    internal static string Sentence(ArgumentException e)
    {
        string suffix = $" (Parameter '{e.ParamName}')";
        return e.ParamName is not null && e.Message.EndsWith(suffix, StringComparison.Ordinal) ? e.Message[..^suffix.Length] : e.Message;
    }

    /// <summary>Writes one line, whatever newlines the message holds.</summary>
    private static int Fail(TextWriter stderr, string message, int code)
    {
        string line = string.Join(' ', message.Split(['\r', '\n'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
        stderr.WriteLine($"error: {line}");
        return code;
    }
}

/// <summary>Adding a command's options: its option sets and its own options, in help order.</summary>
internal static class CommandOptions
{
    public static void AddOptions(this Command command, params IEnumerable<Option>[] groups)
    {
        foreach (var o in groups.SelectMany(g => g))
        {
            command.Add(o);
        }
    }
}
