using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Http;

namespace Stork.Server;

/// <summary>The served models by name; the first one is the default.</summary>
internal sealed class Models(IReadOnlyList<ModelHost> hosts, CancellationToken stopping)
{
    private ModelHost _a1111 = hosts[0];

    public IReadOnlyList<ModelHost> All => hosts;

    public ModelHost Default => hosts[0];

    /// <summary>Automatic1111's <c>sd_model_checkpoint</c>: the model its txt2img uses when a request names none.</summary>
    public ModelHost A1111Default
    {
        get => Volatile.Read(ref _a1111);
        set => Volatile.Write(ref _a1111, value);
    }

    /// <summary>Cancelled when the server stops: every job's token is linked to it.</summary>
    public CancellationToken Stopping => stopping;

    public ModelHost Find(string? name) => name is null ? Default : hosts.FirstOrDefault(h => h.Name.Equals(name, StringComparison.OrdinalIgnoreCase))
        ?? throw new RequestException($"unknown model '{SamplerNames.Shorten(name)}' (served: {string.Join(", ", hosts.Select(h => h.Name))}).");
}

/// <summary>Submitting jobs, for every API.</summary>
internal static class Jobs
{
    /// <summary>Validates <paramref name="request"/> and queues it on its model; 429 when that queue is full.</summary>
    public static Job Submit(Models models, JobRequest request)
    {
        var host = models.Find(request.Model);
        var generation = RequestValidation.ToGeneration(request, host.Defaults, host.Limits);
        host.Check(generation);
        // The echo (gallery, re-run) keeps the settings; the images are served at /api/jobs/{id}/inputs/{role}.
        var echo = request with { Model = host.Name, Seed = generation.Seed, Image = null, Mask = null, ControlImage = null, Decoded = null };
        var job = new Job(host.Name, generation, echo, request.Preview, models.Stopping);
        if (!host.TryEnqueue(job))
        {
            job.Dispose();
            throw new RequestException($"the queue of model {host.Name} is full ({host.Limits.QueueSize} waiting); retry later.", StatusCodes.Status429TooManyRequests);
        }

        return job;
    }

    /// <summary>
    /// Submits and waits for the end; a client that goes away cancels its job (null then: nothing to answer). A failed
    /// or cancelled job is a <see cref="RequestException"/> (400 for the request's fault, 500 for ours, 503 cancelled).
    /// </summary>
    public static async Task<Job?> RunToEnd(HttpContext ctx, Models models, JobRequest request)
    {
        var job = Submit(models, request);
        using (ctx.RequestAborted.Register(job.Cancel))
        {
            await job.Finished.ConfigureAwait(false);
        }

        return job.State switch
        {
            JobState.Done => job,
            _ when ctx.RequestAborted.IsCancellationRequested => null,
            JobState.Failed => throw new RequestException(job.Error!, job.ClientError ? 400 : 500),
            _ => throw new RequestException("the job was cancelled (interrupted, or the server is stopping).", StatusCodes.Status503ServiceUnavailable),
        };
    }
}

/// <summary>Request bodies and error answers, in the shape each API's clients expect.</summary>
internal static class Http
{
    /// <summary>The body as <typeparamref name="T"/>; malformed JSON or a wrong type is a <see cref="RequestException"/> naming the field.</summary>
    public static async Task<T> ReadJson<T>(HttpContext ctx)
        where T : class
    {
        try
        {
            return await JsonSerializer.DeserializeAsync<T>(ctx.Request.Body, JobJson.Options, ctx.RequestAborted).ConfigureAwait(false)
                ?? throw new RequestException("the body must be a JSON object.");
        }
        catch (JsonException e)
        {
            throw new RequestException(e.Path is { Length: > 1 } p
                ? $"the body's {p[2..]} has the wrong type or is malformed (see the OpenAPI document, /openapi/v1.json)."
                : $"the body is not valid JSON: {FirstSentence(e.Message)}");
        }
    }

    private static string FirstSentence(string message)
    {
        int end = message.IndexOf(". ", StringComparison.Ordinal);
        return end > 0 ? message[..(end + 1)] : message;
    }

    /// <summary>An error answer: OpenAI's shape under /v1, Automatic1111's under /sdapi, <c>{"error": message}</c> elsewhere.</summary>
    public static Task WriteError(HttpContext ctx, int status, string message)
    {
        ctx.Response.StatusCode = status;
        ctx.Response.ContentType = "application/json; charset=utf-8";
        string path = ctx.Request.Path.Value ?? "";
        object body = path.StartsWith("/v1/", StringComparison.Ordinal)
            ? new
            {
                error = new
                {
                    message,
                    type = status switch
                    {
                        401 => "authentication_error",
                        404 => "not_found_error",
                        429 => "rate_limit_error",
                        >= 500 => "server_error",
                        _ => "invalid_request_error",
                    },
                    param = (string?)null,
                    code = status == 401 ? "invalid_api_key" : null,
                },
            }
            : path.StartsWith("/sdapi/", StringComparison.Ordinal)
                ? new { error = ReasonPhrase(status), detail = message, body = "", errors = "" }
                : new { error = message };
        return ctx.Response.WriteAsync(JsonSerializer.Serialize(body, JsonSerializerOptions.Web), Encoding.UTF8);
    }

    private static string ReasonPhrase(int status) => Microsoft.AspNetCore.WebUtilities.ReasonPhrases.GetReasonPhrase(status).Replace(" ", "", StringComparison.Ordinal);
}
