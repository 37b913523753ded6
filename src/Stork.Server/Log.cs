using Microsoft.Extensions.Logging;

namespace Stork.Server;

/// <summary>The server's structured log messages (category <c>Stork.Server</c>).</summary>
internal static partial class Log
{
    [LoggerMessage(1, LogLevel.Information, "model {Model}: {Folder} ({Family})")]
    public static partial void Model(ILogger log, string model, string folder, string family);

    [LoggerMessage(2, LogLevel.Information, "listening on {Url} (models: {Models})")]
    public static partial void Listening(ILogger log, string url, string models);

    [LoggerMessage(3, LogLevel.Information, "stopping: cancelling jobs")]
    public static partial void Stopping(ILogger log);

    [LoggerMessage(4, LogLevel.Information, "stopped")]
    public static partial void Stopped(ILogger log);

    [LoggerMessage(5, LogLevel.Information, "{Method} {Path} -> {Status} in {Milliseconds:0} ms")]
    public static partial void Request(ILogger log, string method, string? path, int status, double milliseconds);

    [LoggerMessage(6, LogLevel.Information, "job {Job} queued on {Model} ({Waiting} waiting)")]
    public static partial void Queued(ILogger log, string job, string model, int waiting);

    [LoggerMessage(7, LogLevel.Information, "job {Job} done on {Model}: {Count} image(s) {Width}x{Height}, {Steps} steps ({Scheduler}), {Seconds:0.00} s")]
    public static partial void Done(ILogger log, string job, string model, int count, int width, int height, int steps, string scheduler, double seconds);

    [LoggerMessage(8, LogLevel.Information, "job {Job} cancelled on {Model} after {Seconds:0.00} s")]
    public static partial void Cancelled(ILogger log, string job, string model, double seconds);

    [LoggerMessage(9, LogLevel.Information, "job {Job} refused by {Model}: {Message}")]
    public static partial void Refused(ILogger log, string job, string model, string message);

    [LoggerMessage(10, LogLevel.Error, "job {Job} failed on {Model}")]
    public static partial void Failed(ILogger log, Exception exception, string job, string model);
}
