using System.Net;
using System.Text.RegularExpressions;
using Stork.Pipelines;

namespace Stork.Server;

/// <summary>A model folder served under a name; requests choose models by this name, never by a path.</summary>
public sealed record ServedModel(string Name, string Folder);

/// <summary>What one request may ask for. Every bound is checked before a job is queued (HTTP 400 past it).</summary>
public sealed record ServerLimits
{
    /// <summary>Width x height of one image, at most (default 1024 x 1024); input images (image, mask, control image) too, checked in their header before decoding.</summary>
    public long MaxPixels { get; init; } = 1024 * 1024;

    /// <summary>Solver steps of one request, at most.</summary>
    public int MaxSteps { get; init; } = 100;

    /// <summary>Images of one request, at most.</summary>
    public int MaxCount { get; init; } = 4;

    /// <summary>Characters of a prompt or negative prompt, at most.</summary>
    public int MaxPromptLength { get; init; } = 2000;

    /// <summary>Jobs waiting in one model's queue, at most (the running job not counted); past it a request gets 429.</summary>
    public int QueueSize { get; init; } = 16;

    /// <summary>Finished jobs kept in memory for the gallery and the result endpoints (oldest dropped first).</summary>
    public int GallerySize { get; init; } = 100;

    /// <summary>Bytes of a request body, at most (default 16 MiB: room for an input image, a mask and a control image as base64).</summary>
    public long MaxRequestBytes { get; init; } = 16 << 20;

    /// <summary>Throws <see cref="ArgumentOutOfRangeException"/> naming the first bound out of range.</summary>
    public void Validate()
    {
        Check(MaxPixels, 64, 1L << 26, nameof(MaxPixels));
        Check(MaxSteps, 1, 1000, nameof(MaxSteps));
        Check(MaxCount, 1, 64, nameof(MaxCount));
        Check(MaxPromptLength, 1, 100_000, nameof(MaxPromptLength));
        Check(QueueSize, 0, 10_000, nameof(QueueSize));
        Check(GallerySize, 1, 100_000, nameof(GallerySize));
        Check(MaxRequestBytes, 1024, 1L << 30, nameof(MaxRequestBytes));
    }

    private static void Check(long value, long min, long max, string name)
    {
        if (value < min || value > max)
        {
            throw new ArgumentOutOfRangeException(name, value, $"{name} must be {min} to {max} (got {value}).");
        }
    }
}

/// <summary>Everything <c>stork serve</c> needs: the models, where to listen, the key, the limits and the output folder.</summary>
public sealed partial record ServerOptions
{
    /// <summary>Default port: Automatic1111's, so that its clients find the server.</summary>
    public const int DefaultPort = 7860;

    /// <summary>The models, first one the default.</summary>
    public required IReadOnlyList<ServedModel> Models { get; init; }

    /// <summary>An IP address (IPv4 or IPv6) or <c>localhost</c>.</summary>
    public string Host { get; init; } = "127.0.0.1";

    /// <summary>TCP port; 0 picks a free one (tests).</summary>
    public int Port { get; init; } = DefaultPort;

    /// <summary>Required on every API request (Bearer token or <c>x-api-key</c>) when set; must be set on a non-loopback host.</summary>
    public string? ApiKey { get; init; }

    /// <summary>Request limits and queue sizes.</summary>
    public ServerLimits Limits { get; init; } = new();

    /// <summary>Folder where every finished image is also saved as <c>JOBID-K.png</c>; null: kept in memory only.</summary>
    public string? OutputFolder { get; init; }

    /// <summary>
    /// Which model components stay loaded between jobs (<see cref="MemoryPolicy"/>): <see cref="MemoryPolicy.High"/> by
    /// default (faster; memory is the sum of the components), <see cref="MemoryPolicy.Low"/> loads each when a job needs it.
    /// </summary>
    public MemoryPolicy Memory { get; init; } = MemoryPolicy.High;

    /// <summary>Keep every model component loaded between jobs: <see cref="Memory"/> = <see cref="MemoryPolicy.High"/> (an alias; false is <see cref="MemoryPolicy.Low"/>).</summary>
    public bool KeepLoaded
    {
        get => Memory == MemoryPolicy.High;
        init => Memory = value ? MemoryPolicy.High : MemoryPolicy.Low;
    }

    /// <summary>The address to bind, or <c>null</c> for <c>localhost</c>.</summary>
    internal IPAddress? Address => Host.Equals("localhost", StringComparison.OrdinalIgnoreCase) ? null : IPAddress.Parse(Host.Trim('[', ']'));

    /// <summary>Whether the host is a loopback address (or <c>localhost</c>).</summary>
    public bool IsLoopback => Address is not { } a || IPAddress.IsLoopback(a);

    /// <summary>Throws <see cref="ArgumentException"/> naming the first bad setting (models, host, port, key, limits).</summary>
    public void Validate()
    {
        if (Models.Count == 0)
        {
            throw new ArgumentException("at least one model is needed.", nameof(Models));
        }

        var names = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        foreach (var m in Models)
        {
            if (!ModelName().IsMatch(m.Name))
            {
                throw new ArgumentException($"model name '{m.Name}' must be 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit.", nameof(Models));
            }

            if (!names.Add(m.Name))
            {
                throw new ArgumentException($"model name '{m.Name}' is given twice; name one of them (NAME=FOLDER).", nameof(Models));
            }
        }

        if (!Host.Equals("localhost", StringComparison.OrdinalIgnoreCase) && !IPAddress.TryParse(Host.Trim('[', ']'), out _))
        {
            throw new ArgumentException($"host '{Host}' must be an IP address (127.0.0.1, 0.0.0.0, ::1, ...) or localhost.", nameof(Host));
        }

        if (Port is < 0 or > 65535)
        {
            throw new ArgumentOutOfRangeException(nameof(Port), Port, $"port must be 0 to 65535 (got {Port}).");
        }

        if (ApiKey is { } key && (key.Length < 8 || key.Any(char.IsWhiteSpace)))
        {
            throw new ArgumentException("the API key must be at least 8 characters without spaces.", nameof(ApiKey));
        }

        if (ApiKey is null && !IsLoopback)
        {
            throw new ArgumentException($"host {Host} is reachable from other machines: an API key is required (the server's API key, or the environment variable STORK_API_KEY).", nameof(ApiKey));
        }

        Limits.Validate();
    }

    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")]
    internal static partial Regex ModelName();
}
