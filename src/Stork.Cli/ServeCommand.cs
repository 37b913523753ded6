using System.CommandLine;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Console;
using Stork.IO;
using Stork.Server;

namespace Stork.Cli;

/// <summary>
/// <c>stork serve</c>: the web page and the HTTP APIs (own, Automatic1111, OpenAI) over one or more model folders
/// (src/Stork.Server, docs/serve.md). Runs until Ctrl-C or SIGTERM, then cancels the jobs and exits 0.
/// </summary>
internal static class ServeCommand
{
    public const string ApiKeyVariable = "STORK_API_KEY";

    public static Command Create(TextWriter stdout, TextWriter stderr)
    {
        var model = new Option<string[]>("--model")
        {
            Description = "A model to serve, repeatable: a model folder (served under its folder's name), NAME=FOLDER, or the name of a shipped model. The first is the default. Default: the shipped fashion-flux.",
            AllowMultipleArgumentsPerToken = false,
        };
        var config = new Option<string?>("--config") { Description = "A JSON file: {\"models\": [\"NAME=FOLDER\", ...], \"host\", \"port\", \"api_key\", \"output\", \"limits\": {\"max_pixels\", \"max_steps\", \"max_count\", \"max_prompt_length\", \"queue_size\", \"gallery_size\", \"max_request_bytes\"}}; folders relative to the file; flags override it." };
        var port = new Option<int?>("--port") { Description = $"TCP port (default {ServerOptions.DefaultPort}, Automatic1111's)." };
        var host = new Option<string?>("--host") { Description = "Address to bind: 127.0.0.1 (default), ::1, 0.0.0.0, ... Any non-loopback address needs an API key." };
        var apiKey = new Option<string?>("--api-key") { Description = $"Key every API request must carry (Authorization: Bearer KEY or x-api-key: KEY); also from {ApiKeyVariable}. Required for a non-loopback --host." };
        var output = new Option<string?>("--output") { Description = "Folder where every finished image is also saved, as JOBID-K.png (default: kept in memory only)." };
        var maxPixels = new Option<long?>("--max-pixels") { Description = "Largest width x height a request may ask for (default 1048576)." };
        var maxSteps = new Option<int?>("--max-steps") { Description = "Most steps a request may ask for (default 100)." };
        var maxCount = new Option<int?>("--max-count") { Description = "Most images per request (default 4)." };
        var maxPrompt = new Option<int?>("--max-prompt-length") { Description = "Longest prompt in characters (default 2000)." };
        var queue = new Option<int?>("--queue-size") { Description = "Jobs that may wait per model; more are answered 429 (default 16)." };
        var gallery = new Option<int?>("--gallery-size") { Description = "Finished jobs kept in memory for the gallery (default 100)." };
        var memory = new RuntimeOptionSet(Stork.Pipelines.MemoryPolicy.High);

        var command = new Command("serve", "Web page and HTTP APIs (own JSON + server-sent events, Automatic1111 /sdapi/v1/txt2img and img2img, OpenAI /v1/images/generations and edits) for text-to-image models, image inputs included; opens on the shipped fashion-flux.");
        foreach (Option o in new Option[] { model, config, port, host, apiKey, output, maxPixels, maxSteps, maxCount, maxPrompt, queue, gallery }.Concat(memory.ServeMemory))
        {
            command.Add(o);
        }

        command.SetAction(async (r, cancellationToken) =>
        {
            var file = r.GetValue(config) is { } path ? ServeConfig.Read(path) : new ServeConfig();
            var limits = file.Limits ?? new ServerLimits();
            limits = limits with
            {
                MaxPixels = r.GetValue(maxPixels) ?? limits.MaxPixels,
                MaxSteps = r.GetValue(maxSteps) ?? limits.MaxSteps,
                MaxCount = r.GetValue(maxCount) ?? limits.MaxCount,
                MaxPromptLength = r.GetValue(maxPrompt) ?? limits.MaxPromptLength,
                QueueSize = r.GetValue(queue) ?? limits.QueueSize,
                GallerySize = r.GetValue(gallery) ?? limits.GallerySize,
            };
            string[] specs = r.GetValue(model) is { Length: > 0 } given ? given : file.Models is { Count: > 0 } listed ? [.. listed] : [ShippedModels.DefaultTextToImage];
            string baseDir = r.GetValue(model) is { Length: > 0 } ? Directory.GetCurrentDirectory() : file.BaseDirectory;
            var options = new ServerOptions
            {
                Models = [.. specs.Select(s => ResolveModel(s, baseDir))],
                Host = r.GetValue(host) ?? file.Host ?? "127.0.0.1",
                Port = r.GetValue(port) ?? file.Port ?? ServerOptions.DefaultPort,
                ApiKey = r.GetValue(apiKey) ?? NonEmpty(Environment.GetEnvironmentVariable(ApiKeyVariable)) ?? file.ApiKey,
                OutputFolder = r.GetValue(output) ?? (file.Output is { } o ? Path.Combine(file.BaseDirectory, o) : null),
                Limits = limits,
                Memory = memory.ReadMemory(r),
            };
            try
            {
                options.Validate();
            }
            catch (ArgumentException e)
            {
                throw new CliException(FlagFor(e.ParamName) + CliApp.Sentence(e));
            }

            StorkServer server;
            try
            {
                server = await StorkServer.StartAsync(options, b => b
                    .AddSimpleConsole(c =>
                    {
                        c.SingleLine = true;
                        c.TimestampFormat = "HH:mm:ss ";
                    })
                    .AddFilter("Stork.Server", LogLevel.Information)
                    .Services.Configure<ConsoleLoggerOptions>(c => c.LogToStandardErrorThreshold = LogLevel.Trace), cancellationToken).ConfigureAwait(false);
            }
            catch (IOException e) when (e.Message.Contains("address already in use", StringComparison.OrdinalIgnoreCase))
            {
                throw new CliException($"--port {options.Port}: {e.Message} Pick another with --port.");
            }

            await using (server.ConfigureAwait(false))
            {
                stdout.WriteLine($"stork serve: {server.Url} (models: {string.Join(", ", options.Models.Select(m => m.Name))}); Ctrl-C stops.");
                stdout.Flush();
                await server.RunUntilCancelledAsync(cancellationToken).ConfigureAwait(false);
            }

            stdout.WriteLine("stork serve: stopped.");
            return 0;
        });
        return command;
    }

    private static string? NonEmpty(string? s) => string.IsNullOrEmpty(s) ? null : s;

    private static string FlagFor(string? parameter) => parameter switch
    {
        nameof(ServerOptions.Host) => "--host: ",
        nameof(ServerOptions.Port) => "--port: ",
        nameof(ServerOptions.ApiKey) => "--api-key: ",
        nameof(ServerOptions.Models) => "--model: ",
        nameof(ServerLimits.MaxPixels) => "--max-pixels: ",
        nameof(ServerLimits.MaxSteps) => "--max-steps: ",
        nameof(ServerLimits.MaxCount) => "--max-count: ",
        nameof(ServerLimits.MaxPromptLength) => "--max-prompt-length: ",
        nameof(ServerLimits.QueueSize) => "--queue-size: ",
        nameof(ServerLimits.GallerySize) => "--gallery-size: ",
        _ => "",
    };

    /// <summary>NAME=FOLDER, a folder (named after itself) or a shipped model's name.</summary>
    internal static ServedModel ResolveModel(string spec, string baseDirectory)
    {
        int eq = spec.IndexOf('=', StringComparison.Ordinal);
        string? name = eq > 0 ? spec[..eq] : null;
        string where = eq > 0 ? spec[(eq + 1)..] : spec;
        string folder = Path.Combine(baseDirectory, where);
        if (!File.Exists(Path.Combine(folder, "model_index.json")))
        {
            folder = ShippedModels.Find(Path.Combine(where, "model_index.json")) is { } index
                ? Path.GetDirectoryName(index)!
                : throw new CliException($"--model '{spec}': no model_index.json in folder '{folder}', and no shipped model of that name.");
        }

        return new ServedModel(name ?? Path.GetFileName(Path.TrimEndingDirectorySeparator(Path.GetFullPath(folder))), Path.GetFullPath(folder));
    }

    /// <summary>The optional JSON configuration file of <c>--config</c>.</summary>
    internal sealed record ServeConfig
    {
        private static readonly JsonSerializerOptions Json = new()
        {
            PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
            UnmappedMemberHandling = System.Text.Json.Serialization.JsonUnmappedMemberHandling.Disallow,
            ReadCommentHandling = JsonCommentHandling.Skip,
            AllowTrailingCommas = true,
        };

        public List<string>? Models { get; init; }

        public string? Host { get; init; }

        public int? Port { get; init; }

        public string? ApiKey { get; init; }

        public string? Output { get; init; }

        public ServerLimits? Limits { get; init; }

        [System.Text.Json.Serialization.JsonIgnore]
        public string BaseDirectory { get; init; } = Directory.GetCurrentDirectory();

        public static ServeConfig Read(string path)
        {
            string text = InputFile.ReadAllText(path, "serve config");
            try
            {
                var config = JsonSerializer.Deserialize<ServeConfig>(text, Json) ?? throw new CliException($"--config '{path}': expected a JSON object.");
                return config with { BaseDirectory = Path.GetDirectoryName(Path.GetFullPath(path))! };
            }
            catch (JsonException e)
            {
                throw new CliException($"--config '{path}': {e.Message}");
            }
        }
    }
}
