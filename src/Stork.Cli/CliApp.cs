using System.CommandLine;

namespace Stork.Cli;

/// <summary>The <c>stork</c> command line: subcommands, and the one rule for errors (one line on stderr, exit 2).</summary>
public static class CliApp
{
    public const int UsageError = 2;

    public static int Run(string[] args, TextWriter stdout, TextWriter stderr)
    {
        var root = new RootCommand("Stork.NET: fast training-free sampling of diffusion and flow models (STORK and the standard solvers).")
        {
            SampleCommand.Create(stdout, stderr),
            CompareCommand.Create(stdout, stderr),
            Bench.BenchCommand.Create(stdout, stderr),
            GenerateCommand.Create(stdout, stderr),
            TokenizeCommand.Create(stdout, stderr),
        };

        var parse = root.Parse(args);
        bool help = args.Any(a => a is "-h" or "--help" or "-?");
        if (parse.Errors.Count > 0 && !help)
        {
            stderr.WriteLine($"error: {parse.Errors[0].Message}");
            return UsageError;
        }

        try
        {
            return parse.Invoke(new InvocationConfiguration { Output = stdout, Error = stderr, EnableDefaultExceptionHandler = false });
        }
        catch (Exception e) when (e is CliException or ArgumentException or InvalidDataException or FileNotFoundException
            or DirectoryNotFoundException or IOException or UnauthorizedAccessException or InvalidOperationException)
        {
            stderr.WriteLine($"error: {e.Message}");
            return UsageError;
        }
        catch (OperationCanceledException)
        {
            stderr.WriteLine("error: cancelled.");
            return 130;
        }
    }
}
