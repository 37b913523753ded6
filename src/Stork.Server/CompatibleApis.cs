using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace Stork.Server;

/// <summary>Automatic1111's <c>StableDiffusionProcessingTxt2Img</c> fields that we honour; others are ignored as it does.</summary>
public sealed record A1111Txt2ImgRequest
{
    public string? Prompt { get; init; }

    public string? NegativePrompt { get; init; }

    public int? Steps { get; init; }

    public double? CfgScale { get; init; }

    public int? Width { get; init; }

    public int? Height { get; init; }

    /// <summary>-1 (the default) picks one at random.</summary>
    public long? Seed { get; init; }

    public int? BatchSize { get; init; }

    /// <summary>Batches of <see cref="BatchSize"/>: the request makes batch_size x n_iter images.</summary>
    public int? NIter { get; init; }

    /// <summary>Automatic1111's name (Euler, DPM++ 2M, UniPC, DDIM, Heun, ...) or ours (stork-4, dpm++2m, ...).</summary>
    public string? SamplerName { get; init; }

    /// <summary>The older name of <see cref="SamplerName"/>.</summary>
    public string? SamplerIndex { get; init; }

    /// <summary>Automatic1111's noise schedule choice (1.9+): only "Automatic" (the model's own) is served.</summary>
    public string? Scheduler { get; init; }

    /// <summary>Only <c>sd_model_checkpoint</c> is read: a served model's name.</summary>
    public Dictionary<string, JsonElement>? OverrideSettings { get; init; }
}

/// <summary>OpenAI's image generation request (<c>POST /v1/images/generations</c>); other fields (quality, style, user) are ignored.</summary>
public sealed record OpenAiImageRequest
{
    public string? Prompt { get; init; }

    public string? Model { get; init; }

    public int? N { get; init; }

    /// <summary><c>WIDTHxHEIGHT</c>, or <c>auto</c> for the model's default.</summary>
    public string? Size { get; init; }

    /// <summary>Only <c>b64_json</c> (the default here): images are not hosted at URLs that expire.</summary>
    public string? ResponseFormat { get; init; }
}

/// <summary>The Automatic1111- and OpenAI-compatible endpoints, over the same queues as the own API.</summary>
internal static class CompatibleApis
{
    public static void Map(WebApplication app, Models models)
    {
        var sd = app.MapGroup("/sdapi/v1").WithTags("Automatic1111");
        sd.MapPost("/txt2img", (Func<HttpContext, Task<IResult>>)(ctx => Txt2Img(ctx, models)))
            .WithMetadata(new JsonBody(typeof(A1111Txt2ImgRequest))).WithSummary("Automatic1111 txt2img: images as base64 PNG, parameters, info (a JSON string).");
        sd.MapGet("/samplers", () => SamplerNames.All.Select(n => new { name = n, aliases = Array.Empty<string>(), options = new { } }))
            .WithSummary("Sampler names txt2img takes: ours and Automatic1111's aliases.");
        sd.MapGet("/sd-models", () => models.All.Select(m => new { title = m.Name, model_name = m.Name, hash = (string?)null, sha256 = (string?)null, filename = m.Name, config = (string?)null }))
            .WithSummary("The served models (by name).");
        sd.MapGet("/options", () => new Dictionary<string, object> { ["sd_model_checkpoint"] = models.A1111Default.Name })
            .WithSummary("sd_model_checkpoint: the model txt2img uses when a request names none.");
        sd.MapPost("/options", (Func<HttpContext, Task<IResult>>)(ctx => SetOptions(ctx, models))).WithMetadata(new JsonBody(typeof(Dictionary<string, JsonElement>)))
            .WithSummary("Sets sd_model_checkpoint to a served model; other options are ignored.");
        sd.MapPost("/interrupt", () =>
        {
            models.A1111Default.Current?.Cancel();
            return Results.Json(new { });
        }).WithSummary("Cancels the running job of the sd_model_checkpoint model.");

        app.MapPost("/v1/images/generations", (Func<HttpContext, Task<IResult>>)(ctx => OpenAiGenerate(ctx, models))).WithTags("OpenAI")
            .WithMetadata(new JsonBody(typeof(OpenAiImageRequest))).WithSummary("OpenAI image generation: {created, data: [{b64_json}]}.");
        app.MapGet("/v1/models", () => new { @object = "list", data = models.All.Select(m => new { id = m.Name, @object = "model", created = 0, owned_by = "stork" }) })
            .WithTags("OpenAI").WithSummary("The served models, OpenAI-style.");
    }

    private static async Task<IResult> SetOptions(HttpContext ctx, Models models)
    {
        var body = await Http.ReadJson<Dictionary<string, JsonElement>>(ctx).ConfigureAwait(false);
        if (body.TryGetValue("sd_model_checkpoint", out var v))
        {
            string name = v.ValueKind == JsonValueKind.String ? v.GetString()! : throw new RequestException("sd_model_checkpoint must be a string.");
            models.A1111Default = models.Find(StripHash(name));
        }

        return Results.Json(true);
    }

    /// <summary>Automatic1111 titles read "name [hash]"; clients send the title back.</summary>
    private static string StripHash(string title) => title.Split(" [", 2)[0].Trim();

    private static async Task<IResult> Txt2Img(HttpContext ctx, Models models)
    {
        var r = await Http.ReadJson<A1111Txt2ImgRequest>(ctx).ConfigureAwait(false);
        var host = models.A1111Default;
        if (r.OverrideSettings?.TryGetValue("sd_model_checkpoint", out var ckpt) == true && ckpt.ValueKind == JsonValueKind.String)
        {
            host = models.Find(StripHash(ckpt.GetString()!));
        }

        if (r.Scheduler is { } s && !s.Equals("Automatic", StringComparison.OrdinalIgnoreCase))
        {
            throw new RequestException($"scheduler '{SamplerNames.Shorten(s)}' is not served; leave it out or send \"Automatic\" (the model's own time grid).");
        }

        int batch = r.BatchSize ?? 1, iterations = r.NIter ?? 1;
        if (batch < 1 || iterations < 1)
        {
            throw new RequestException($"batch_size and n_iter must be at least 1 (got {batch} and {iterations}).");
        }

        string? sampler = r.SamplerName ?? r.SamplerIndex;
        var job = new JobRequest
        {
            Model = host.Name,
            Prompt = r.Prompt ?? "",
            NegativePrompt = string.IsNullOrEmpty(r.NegativePrompt) ? null : r.NegativePrompt,
            Steps = r.Steps,
            // cfg_scale is classifier-free guidance: true CFG on FLUX.1 folders that default to it, guidance_scale elsewhere.
            GuidanceScale = host.Defaults.TrueCfgScale is null ? r.CfgScale : null,
            TrueCfgScale = host.Defaults.TrueCfgScale is not null ? r.CfgScale : null,
            Width = r.Width,
            Height = r.Height,
            Seed = r.Seed ?? -1,
            Count = (int)Math.Min((long)batch * iterations, int.MaxValue),
            Scheduler = string.IsNullOrEmpty(sampler) ? null : new SchedulerRequest { Name = sampler },
        };
        var done = await Jobs.RunToEnd(ctx, models, job).ConfigureAwait(false);
        if (done is null)
        {
            return Results.Empty;
        }

        var output = done.Output!;
        var settings = output.Settings;
        var seeds = output.Seeds ?? [];
        string samplerName = sampler is null ? settings.Scheduler : SamplerNames.A1111Name(SamplerNames.Resolve(sampler)) ?? SamplerNames.Resolve(sampler);
        double? cfg = settings.TrueCfgScale ?? settings.GuidanceScale;
        var infotexts = output.Pngs.Select(p => Imaging.PngText.Read(p).FirstOrDefault(kv => kv.Key == "parameters").Value ?? "").ToList();
        var info = new JsonObject
        {
            ["prompt"] = settings.Prompt,
            ["all_prompts"] = new JsonArray([.. seeds.Select(_ => JsonValue.Create(settings.Prompt))]),
            ["negative_prompt"] = settings.NegativePrompt ?? "",
            ["all_negative_prompts"] = new JsonArray([.. seeds.Select(_ => JsonValue.Create(settings.NegativePrompt ?? ""))]),
            ["seed"] = settings.Seed,
            ["all_seeds"] = new JsonArray([.. seeds.Select(x => JsonValue.Create(x))]),
            ["subseed"] = -1,
            ["all_subseeds"] = new JsonArray([.. seeds.Select(_ => JsonValue.Create(-1))]),
            ["width"] = settings.Width,
            ["height"] = settings.Height,
            ["sampler_name"] = samplerName,
            ["cfg_scale"] = cfg,
            ["steps"] = settings.Steps,
            ["batch_size"] = settings.Count,
            ["n_iter"] = 1,
            ["sd_model_name"] = done.Model,
            ["sd_model_hash"] = null,
            ["infotexts"] = new JsonArray([.. infotexts.Select(t => JsonValue.Create(t))]),
            ["job_timestamp"] = done.Created.ToString("yyyyMMddHHmmss", CultureInfo.InvariantCulture),
            ["stork_job"] = done.Id,
            ["stork_nfe"] = settings.Times.Count,
            ["stork_seconds"] = Math.Round(output.Timings.Total.TotalSeconds, 3),
        };
        var parameters = JsonSerializer.SerializeToNode(r, JobJson.Options)!.AsObject();
        parameters["seed"] = settings.Seed;
        return Results.Json(new JsonObject
        {
            ["images"] = new JsonArray([.. output.Pngs.Select(p => JsonValue.Create(Convert.ToBase64String(p)))]),
            ["parameters"] = parameters,
            ["info"] = info.ToJsonString(JobJson.Options),
        });
    }

    private static async Task<IResult> OpenAiGenerate(HttpContext ctx, Models models)
    {
        var r = await Http.ReadJson<OpenAiImageRequest>(ctx).ConfigureAwait(false);
        var host = string.IsNullOrEmpty(r.Model) ? models.Default : models.Find(r.Model);
        if (r.ResponseFormat is { } format && format != "b64_json")
        {
            throw new RequestException($"response_format '{SamplerNames.Shorten(format)}' is not served; use b64_json (images are not hosted at URLs).");
        }

        int? width = null, height = null;
        if (r.Size is { } size && size != "auto")
        {
            var parts = size.Split('x');
            if (parts.Length != 2 || !int.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out int w)
                || !int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out int h))
            {
                throw new RequestException($"size must be WIDTHxHEIGHT (e.g. 512x512) or auto (got '{SamplerNames.Shorten(size)}').");
            }

            (width, height) = (w, h);
        }

        var job = new JobRequest { Model = host.Name, Prompt = r.Prompt, Count = r.N ?? 1, Width = width, Height = height, Seed = -1 };
        var done = await Jobs.RunToEnd(ctx, models, job).ConfigureAwait(false);
        if (done is null)
        {
            return Results.Empty;
        }

        return Results.Json(new
        {
            created = done.Created.ToUnixTimeSeconds(),
            data = done.Output!.Pngs.Select(p => new { b64_json = Convert.ToBase64String(p), revised_prompt = done.Output.Settings.Prompt }),
        });
    }
}
