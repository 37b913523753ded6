namespace Stork.Cli;

/// <summary>A user error: printed as one line on stderr, exit code 2, no output written.</summary>
public sealed class CliException(string message) : Exception(message);
