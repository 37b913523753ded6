using System.Diagnostics;
using System.Net;
using System.Reflection;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Stork.Pipelines;
using Stork.Solvers.Catalog;

namespace Stork.Server;

/// <summary>
/// <c>stork serve</c>: Kestrel serving the web page, the own JSON API (<c>/api</c>), Automatic1111's
/// (<c>/sdapi/v1</c>) and OpenAI's (<c>/v1/images/generations</c>) APIs, <c>/health</c> and the OpenAPI document
/// (<c>/openapi/v1.json</c>), over one queue per model (docs/serve.md).
/// </summary>
public sealed class StorkServer : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly IReadOnlyList<ModelHost> _hosts;
    private readonly CancellationTokenSource _stopping;
    private readonly ILogger _log;
    private int _stopped;

    private StorkServer(WebApplication app, IReadOnlyList<ModelHost> hosts, CancellationTokenSource stopping, ILogger log, Uri url)
    {
        _app = app;
        _hosts = hosts;
        _stopping = stopping;
        _log = log;
        Url = url;
    }

    /// <summary>The address the server listens on (the real port when 0 was asked for).</summary>
    public Uri Url { get; }

    /// <summary>
    /// Loads the models and starts listening. Bad options raise <see cref="ArgumentException"/>; a model folder that
    /// cannot be opened raises what <see cref="TextToImage.Load"/> raises; a port in use raises <see cref="IOException"/>.
    /// </summary>
    public static async Task<StorkServer> StartAsync(ServerOptions options, Action<ILoggingBuilder>? logging = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        if (options.OutputFolder is { } output)
        {
            Directory.CreateDirectory(output);
        }

        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = [], ContentRootPath = AppContext.BaseDirectory });
        builder.Logging.ClearProviders();
        builder.Logging.AddFilter("Microsoft", LogLevel.Warning);
        logging?.Invoke(builder.Logging);
        builder.Services.AddSingleton<IHostLifetime, CallerLifetime>();
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(10));
        builder.Services.ConfigureHttpJsonOptions(j =>
        {
            j.SerializerOptions.PropertyNamingPolicy = JobJson.Options.PropertyNamingPolicy;
            j.SerializerOptions.DefaultIgnoreCondition = JobJson.Options.DefaultIgnoreCondition;
        });
        builder.Services.Configure<FormOptions>(f =>
        {
            // Multipart uploads (OpenAI's image edits) stay in memory, within the body limit: nothing is buffered to disk.
            f.MemoryBufferThreshold = (int)Math.Min(int.MaxValue, options.Limits.MaxRequestBytes);
            f.MultipartBodyLengthLimit = options.Limits.MaxRequestBytes;
            f.ValueLengthLimit = (int)Math.Min(int.MaxValue, options.Limits.MaxRequestBytes);
        });
        builder.Services.AddOpenApi(o =>
        {
            o.AddDocumentTransformer((doc, _, _) =>
            {
                doc.Info.Title = "Stork.NET serve";
                doc.Info.Description = "stork serve: own JSON API (/api), Automatic1111-compatible (/sdapi/v1) and OpenAI-compatible (/v1) image generation. See docs/serve.md.";
                return Task.CompletedTask;
            });
            o.AddOperationTransformer(JsonBody.DescribeAsync);
        });
        builder.WebHost.ConfigureKestrel(k =>
        {
            k.Limits.MaxRequestBodySize = options.Limits.MaxRequestBytes;
            k.AddServerHeader = false;
            if (options.Address is { } address)
            {
                k.Listen(address, options.Port);
            }
            else
            {
                k.ListenLocalhost(options.Port);
            }
        });

        var app = builder.Build();
        var log = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("Stork.Server");
        var stopping = new CancellationTokenSource();
        var store = new JobStore(options.Limits.GallerySize);
        var pipelineOptions = new PipelineOptions { Memory = options.Memory };
        var hosts = new List<ModelHost>();
        try
        {
            foreach (var m in options.Models)
            {
                hosts.Add(new ModelHost(m, pipelineOptions, options.Limits, options.OutputFolder, store, log));
                Log.Model(log, m.Name, m.Folder, hosts[^1].Pipeline.Folder.PipelineClass);
            }

            var models = new Models(hosts, stopping.Token);
            Configure(app, options, models, store, log);
            foreach (var h in hosts)
            {
                h.Start();
            }

            await app.StartAsync(cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            await stopping.CancelAsync().ConfigureAwait(false);
            foreach (var h in hosts)
            {
                await h.StopAsync().ConfigureAwait(false);
                h.Dispose();
            }

            await app.DisposeAsync().ConfigureAwait(false);
            stopping.Dispose();
            throw;
        }

        string bound = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        var url = new Uri(bound.Replace("://[::]", "://[::1]", StringComparison.Ordinal).Replace("://0.0.0.0", "://127.0.0.1", StringComparison.Ordinal) + "/");
        Log.Listening(log, bound, string.Join(", ", hosts.Select(h => h.Name)));
        return new StorkServer(app, hosts, stopping, log, url);
    }

    /// <summary>Completes when <paramref name="cancellationToken"/> is cancelled, then stops the server.</summary>
    public async Task RunUntilCancelledAsync(CancellationToken cancellationToken)
    {
        try
        {
            await Task.Delay(Timeout.Infinite, cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }

        await StopAsync().ConfigureAwait(false);
    }

    /// <summary>Cancels every job (queued ones at once, running ones between network calls), closes the listener and the models.</summary>
    public async Task StopAsync()
    {
        if (Interlocked.Exchange(ref _stopped, 1) != 0)
        {
            return;
        }

        Log.Stopping(_log);
        await _stopping.CancelAsync().ConfigureAwait(false);
        foreach (var h in _hosts)
        {
            await h.StopAsync().ConfigureAwait(false);
        }

        await _app.StopAsync(CancellationToken.None).ConfigureAwait(false);
        foreach (var h in _hosts)
        {
            h.Dispose();
        }

        Log.Stopped(_log);
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync().ConfigureAwait(false);
        await _app.DisposeAsync().ConfigureAwait(false);
        _stopping.Dispose();
    }

    private static void Configure(WebApplication app, ServerOptions options, Models models, JobStore store, ILogger log)
    {
        app.Use(async (ctx, next) =>
        {
            var clock = Stopwatch.StartNew();
            try
            {
                if (options.ApiKey is { } key && NeedsKey(ctx.Request.Path) && !HasKey(ctx.Request, key))
                {
                    ctx.Response.Headers.WWWAuthenticate = "Bearer";
                    await Http.WriteError(ctx, StatusCodes.Status401Unauthorized, "missing or wrong API key (send Authorization: Bearer KEY or x-api-key: KEY).").ConfigureAwait(false);
                }
                else
                {
                    await next(ctx).ConfigureAwait(false);
                }
            }
            catch (RequestException e) when (!ctx.Response.HasStarted)
            {
                if (e.Status == StatusCodes.Status429TooManyRequests)
                {
                    ctx.Response.Headers.RetryAfter = "5";
                }

                await Http.WriteError(ctx, e.Status, e.Message).ConfigureAwait(false);
            }
            catch (BadHttpRequestException e) when (!ctx.Response.HasStarted)
            {
                await Http.WriteError(ctx, e.StatusCode, e.StatusCode == 413 ? $"the body is larger than {options.Limits.MaxRequestBytes} bytes." : e.Message).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (ctx.RequestAborted.IsCancellationRequested)
            {
                // The client went away; its job, if any, was cancelled with it.
            }

            if (ctx.Request.Path.StartsWithSegments("/api", StringComparison.Ordinal) || ctx.Request.Path.StartsWithSegments("/sdapi", StringComparison.Ordinal)
                || ctx.Request.Path.StartsWithSegments("/v1", StringComparison.Ordinal))
            {
                Log.Request(log, ctx.Request.Method, ctx.Request.Path.Value, ctx.Response.StatusCode, clock.Elapsed.TotalMilliseconds);
            }
        });

        StaticPage.Map(app);
        app.MapOpenApi();
        app.MapGet("/health", () => Results.Json(new
        {
            status = "ok",
            models = models.All.Select(m => new { name = m.Name, waiting = m.Waiting, running = m.Current is not null }),
        }, JobJson.Options)).WithSummary("Liveness and queue lengths.");

        var api = app.MapGroup("/api").WithTags("Stork");
        api.MapGet("/models", () => Results.Json(models.All.Select(m => new
        {
            name = m.Name,
            family = m.Pipeline.Folder.PipelineClass,
            defaults = m.Defaults,
            waiting = m.Waiting,
            running = m.Current is not null,
        }), JobJson.Options)).WithSummary("The served models and their defaults.");
        api.MapGet("/solvers", () => Results.Json(SamplerNames.Solvers.Select(n => new
        {
            name = n,
            description = SolverRegistry.Describe(n),
            a1111_name = SamplerNames.A1111Name(n),
            options = SolverRegistry.Reads(n).Where(o => o.Pipelines).Select(o => new { key = o.Key, description = o.Description }),
        }), JobJson.Options)).WithSummary("The solvers a job may name, and the scheduler options each reads.");
        api.MapGet("/limits", () => Results.Json(options.Limits, JobJson.Options)).WithSummary("The server's request limits.");
        api.MapPost("/jobs", async (HttpContext ctx) =>
        {
            var job = Jobs.Submit(models, await Http.ReadJson<JobRequest>(ctx).ConfigureAwait(false));
            return Results.Json(JobJson.View(job), JobJson.Options, statusCode: StatusCodes.Status202Accepted);
        }).WithMetadata(new JsonBody(typeof(JobRequest))).WithSummary("Queues a job; 202 with its id, 429 when the model's queue is full.");
        api.MapPost("/generate", async (HttpContext ctx) =>
        {
            var job = await Jobs.RunToEnd(ctx, models, await Http.ReadJson<JobRequest>(ctx).ConfigureAwait(false)).ConfigureAwait(false);
            return job is null ? Results.Empty : Results.Json(JobJson.View(job), JobJson.Options);
        }).WithMetadata(new JsonBody(typeof(JobRequest))).WithSummary("Queues a job and answers when it ends (the job is cancelled if the client goes away).");
        api.MapGet("/jobs/{id}", (string id) => Results.Json(JobJson.View(Find(store, id)), JobJson.Options)).WithSummary("A job's state and, once done, its settings and image URLs.");
        api.MapGet("/jobs/{id}/events", (string id, HttpContext ctx) => Events(Find(store, id), ctx))
            .WithSummary("Server-sent events: queued, started, progress, preview (predicted clean images), then done, failed or cancelled. The job is cancelled when its last watcher disconnects before it ends.");
        api.MapPost("/jobs/{id}/cancel", (string id) => Cancel(store, id)).WithSummary("Cancels a job.");
        api.MapDelete("/jobs/{id}", (string id) => Cancel(store, id)).WithSummary("Cancels a job.");
        api.MapGet("/jobs/{id}/images/{index:int}", (string id, int index) =>
        {
            var job = Find(store, id);
            return job.Output is { } o && index >= 0 && index < o.Pngs.Count
                ? Results.File(o.Pngs[index], "image/png", $"{job.Id}-{index}.png")
                : throw new RequestException($"job {job.Id} has no image {index}.", StatusCodes.Status404NotFound);
        }).WithSummary("Image k of a finished job (PNG, settings in its text chunks).");
        api.MapGet("/jobs/{id}/inputs/{role}", (string id, string role) =>
        {
            var job = Find(store, id);
            return JobJson.Inputs(job.Request).FirstOrDefault(i => i.Role == role).Image is { } image
                ? Results.File(Imaging.PngFile.Encode(image), "image/png", $"{job.Id}-{role}.png")
                : throw new RequestException($"job {job.Id} has no input '{SamplerNames.Shorten(role)}' (roles: image, mask, control_image).", StatusCodes.Status404NotFound);
        }).WithSummary("A job's image input by role (image, mask, control_image) as PNG: the pixels the run read (the mask after the API's conversions).");
        api.MapGet("/gallery", () => Results.Json(store.Gallery().Select(JobJson.View), JobJson.Options)).WithSummary("Finished jobs, newest first.");

        CompatibleApis.Map(app, models);
    }

    private static Job Find(JobStore store, string id) =>
        store.Find(id) ?? throw new RequestException($"no job '{SamplerNames.Shorten(id)}' (ids are 32 hex digits; only the newest finished jobs are kept).", StatusCodes.Status404NotFound);

    private static IResult Cancel(JobStore store, string id)
    {
        var job = Find(store, id);
        job.Cancel();
        return Results.Json(JobJson.View(job), JobJson.Options, statusCode: StatusCodes.Status202Accepted);
    }

    private static async Task Events(Job job, HttpContext ctx)
    {
        ctx.Response.ContentType = "text/event-stream";
        ctx.Response.Headers.CacheControl = "no-cache";
        ctx.Response.Headers["X-Accel-Buffering"] = "no";
        await ctx.Response.Body.FlushAsync(ctx.RequestAborted).ConfigureAwait(false);
        using var watch = job.Subscribe();
        try
        {
            await foreach (var e in watch.Events.ReadAllAsync(ctx.RequestAborted).ConfigureAwait(false))
            {
                string data = e.Data.ToJsonString(JobJson.Options);
                await ctx.Response.WriteAsync($"event: {e.Type}\ndata: {data}\n\n", Encoding.UTF8, ctx.RequestAborted).ConfigureAwait(false);
                await ctx.Response.Body.FlushAsync(ctx.RequestAborted).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (ctx.RequestAborted.IsCancellationRequested)
        {
        }
        catch (IOException)
        {
        }
    }

    private static bool NeedsKey(PathString path) => path.StartsWithSegments("/api", StringComparison.Ordinal) || path.StartsWithSegments("/sdapi", StringComparison.Ordinal)
        || path.StartsWithSegments("/v1", StringComparison.Ordinal) || path.StartsWithSegments("/openapi", StringComparison.Ordinal);

    /// <summary>
    /// Bearer token, <c>x-api-key</c>, or HTTP Basic whose password (or whole user:password) is the key, as Open WebUI
    /// sends its Automatic1111 credentials. Compared in constant time.
    /// </summary>
    private static bool HasKey(HttpRequest request, string key)
    {
        var candidates = new List<string>();
        if (request.Headers["x-api-key"] is { Count: > 0 } x)
        {
            candidates.Add(x.ToString());
        }

        string auth = request.Headers.Authorization.ToString();
        if (auth.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
        {
            candidates.Add(auth[7..].Trim());
        }
        else if (auth.StartsWith("Basic ", StringComparison.OrdinalIgnoreCase))
        {
            try
            {
                string pair = Encoding.UTF8.GetString(Convert.FromBase64String(auth[6..].Trim()));
                candidates.Add(pair);
                candidates.Add(pair[(pair.IndexOf(':', StringComparison.Ordinal) + 1)..]);
            }
            catch (FormatException)
            {
            }
        }

        byte[] expected = Encoding.UTF8.GetBytes(key);
        return candidates.Any(c => CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(c), expected));
    }

    /// <summary>The host's lifetime is the caller's: no console signal handling of its own (the CLI owns Ctrl-C and SIGTERM).</summary>
    private sealed class CallerLifetime : IHostLifetime
    {
        public Task WaitForStartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }
}

/// <summary>The web page: three files embedded in the assembly, served by name from a fixed list (no file system access).</summary>
internal static class StaticPage
{
    private static readonly Dictionary<string, (string Resource, string Type)> Files = new(StringComparer.Ordinal)
    {
        ["/"] = ("wwwroot/index.html", "text/html; charset=utf-8"),
        ["/app.js"] = ("wwwroot/app.js", "text/javascript; charset=utf-8"),
        ["/app.css"] = ("wwwroot/app.css", "text/css; charset=utf-8"),
    };

    public static void Map(WebApplication app)
    {
        foreach (var (route, (resource, type)) in Files)
        {
            byte[] bytes = Read(resource);
            app.MapGet(route, (HttpContext ctx) =>
            {
                ctx.Response.Headers.CacheControl = "no-cache";
                ctx.Response.Headers.XContentTypeOptions = "nosniff";
                return Results.Bytes(bytes, type);
            }).ExcludeFromDescription();
        }
    }

    private static byte[] Read(string name)
    {
        using var stream = Assembly.GetExecutingAssembly().GetManifestResourceStream(name)
            ?? throw new InvalidOperationException($"embedded resource {name} is missing from the build.");
        using var ms = new MemoryStream();
        stream.CopyTo(ms);
        return ms.ToArray();
    }
}
