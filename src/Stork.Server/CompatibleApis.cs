using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Stork.Imaging;

namespace Stork.Server;

/// <summary>Automatic1111's <c>StableDiffusionProcessingTxt2Img</c> fields that we honour; others are ignored as it does.</summary>
public record A1111Txt2ImgRequest
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

/// <summary>
/// Automatic1111's <c>StableDiffusionProcessingImg2Img</c> (<c>POST /sdapi/v1/img2img</c>): the txt2img fields and the
/// image-input ones that map onto diffusers' Img2Img and Inpaint pipelines. Values the pipeline cannot honour are a 400
/// naming the field (docs/serve.md lists them); fields not listed here are ignored, as Automatic1111 ignores unknown ones.
/// </summary>
public sealed record A1111Img2ImgRequest : A1111Txt2ImgRequest
{
    /// <summary>The input image, base64 (a data URL accepted); exactly one.</summary>
    public IReadOnlyList<string>? InitImages { get; init; }

    /// <summary>0 (just resize: Lanczos to width x height, as diffusers resizes) is served; 1-3 (crop, fill, latent upscale) are not.</summary>
    [JsonConverter(typeof(PydanticIntConverter))]
    public int? ResizeMode { get; init; }

    /// <summary>The strength, in (0, 1]; Automatic1111's default 0.75.</summary>
    public double? DenoisingStrength { get; init; }

    /// <summary>The inpainting mask, base64: white = repaint, or an RGBA image whose alpha marks the region (opaque = repaint).</summary>
    public string? Mask { get; init; }

    /// <summary>Gaussian blur of the mask in pixels, both directions (Automatic1111's default 4); overrides <see cref="MaskBlurX"/> and <see cref="MaskBlurY"/>.</summary>
    [JsonConverter(typeof(PydanticIntConverter))]
    public int? MaskBlur { get; init; }

    [JsonConverter(typeof(PydanticIntConverter))]
    public int? MaskBlurX { get; init; }

    [JsonConverter(typeof(PydanticIntConverter))]
    public int? MaskBlurY { get; init; }

    /// <summary>1 (original: the image's latents, noised, as diffusers' Inpaint pipelines start) is served; 0, 2, 3 are not.</summary>
    [JsonConverter(typeof(PydanticIntConverter))]
    public int? InpaintingFill { get; init; }

    /// <summary>"Only masked" (crop to the mask, inpaint, paste back) is not served: false, or no mask.</summary>
    [JsonConverter(typeof(PydanticBoolConverter))]
    public bool? InpaintFullRes { get; init; }

    [JsonConverter(typeof(PydanticIntConverter))]
    public int? InpaintFullResPadding { get; init; }

    /// <summary>1 inverts the mask (repaint the black part).</summary>
    [JsonConverter(typeof(PydanticIntConverter))]
    public int? InpaintingMaskInvert { get; init; }

    /// <summary>Only 1 (the default) is served.</summary>
    public double? InitialNoiseMultiplier { get; init; }

    /// <summary>Not served (a separate latent mask): a 400 when given.</summary>
    public string? LatentMask { get; init; }

    /// <summary>Appends the input image to the answer's images, as Automatic1111 does.</summary>
    [JsonConverter(typeof(PydanticBoolConverter))]
    public bool? IncludeInitImages { get; init; }
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
        sd.MapPost("/img2img", (Func<HttpContext, Task<IResult>>)(ctx => Img2Img(ctx, models)))
            .WithMetadata(new JsonBody(typeof(A1111Img2ImgRequest))).WithSummary("Automatic1111 img2img and inpainting: images as base64 PNG, parameters, info (a JSON string).");
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
        app.MapPost("/v1/images/edits", (Func<HttpContext, Task<IResult>>)(ctx => OpenAiEdit(ctx, models))).WithTags("OpenAI")
            .WithMetadata(new FormBody()).WithSummary("OpenAI image edits (multipart/form-data: image, mask whose fully transparent pixels mark where to edit, prompt, n, size): {created, data: [{b64_json}]}.");
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
        return await A1111Run(ctx, models, r, null, null, r).ConfigureAwait(false);
    }

    private static async Task<IResult> Img2Img(HttpContext ctx, Models models)
    {
        var r = await Http.ReadJson<A1111Img2ImgRequest>(ctx).ConfigureAwait(false);
        var limits = models.Default.Limits;
        if (r.InitImages is not { Count: > 0 } init)
        {
            throw new RequestException("init_images is required: one input image as base64.");
        }

        if (init.Count > 1)
        {
            throw new RequestException($"init_images holds {init.Count} images; one is served (the same image for every image of the batch).");
        }

        if (r.ResizeMode is { } resize and not 0)
        {
            throw new RequestException($"resize_mode {resize} is not served; send 0 (just resize: Lanczos to width x height, as diffusers does).");
        }

        if (r.InitialNoiseMultiplier is { } noise && noise != 1)
        {
            throw new RequestException(string.Create(CultureInfo.InvariantCulture, $"initial_noise_multiplier {noise} is not served; send 1 (the pipeline's noise, unscaled)."));
        }

        if (!string.IsNullOrEmpty(r.LatentMask))
        {
            throw new RequestException("latent_mask is not served; send the mask in mask.");
        }

        var image = ImageUploads.Decode(ImageUploads.FromBase64(init[0], "init_images[0]") ?? throw new RequestException("init_images[0] is empty."), "init_images[0]", limits);
        Raster? mask = null;
        if (ImageUploads.FromBase64(r.Mask, "mask") is { } maskBytes)
        {
            if (r.InpaintFullRes == true)
            {
                throw new RequestException("inpaint_full_res (inpaint area: only masked) is not served; send false (whole picture).");
            }

            if (r.InpaintingFill is { } fill and not 1)
            {
                throw new RequestException($"inpainting_fill {fill} is not served; send 1 (original: the image's latents noised to the strength, as diffusers' inpainting pipelines start).");
            }

            if (r.InpaintingMaskInvert is { } invert and not (0 or 1))
            {
                throw new RequestException($"inpainting_mask_invert must be 0 or 1 (got {invert}).");
            }

            int blurX = r.MaskBlur ?? r.MaskBlurX ?? 4, blurY = r.MaskBlur ?? r.MaskBlurY ?? 4;
            if (blurX is < 0 or > 64 || blurY is < 0 or > 64)
            {
                throw new RequestException($"mask_blur must be 0 to 64 pixels (got {blurX}, {blurY}).");
            }

            var (maskImage, alpha) = ImageUploads.DecodeWithAlpha(maskBytes, "mask", limits);
            if (maskImage.Width != image.Width || maskImage.Height != image.Height)
            {
                throw new RequestException($"the mask is {maskImage.Width} x {maskImage.Height} pixels and the image {image.Width} x {image.Height}: they must have the same size.");
            }

            mask = ImageUploads.A1111Mask(maskImage, alpha!, blurX, blurY, r.InpaintingMaskInvert == 1);
        }

        double strength = r.DenoisingStrength ?? 0.75;
        return await A1111Run(ctx, models, r, new DecodedImages(image, mask, null), strength, r with { InitImages = null, Mask = null }, r.IncludeInitImages == true ? image : null)
            .ConfigureAwait(false);
    }

    /// <summary>
    /// Runs an Automatic1111 request (txt2img, or img2img with <paramref name="images"/>) and answers as Automatic1111:
    /// images as base64 PNG, the request as <c>parameters</c> (images left out, as it does), <c>info</c> as a JSON string.
    /// </summary>
    private static async Task<IResult> A1111Run(HttpContext ctx, Models models, A1111Txt2ImgRequest r, DecodedImages? images, double? strength, object echo,
        Raster? appendImage = null)
    {
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
            Strength = images is null ? null : strength,
            Decoded = images,
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
            ["denoising_strength"] = settings.Strength,
            ["sd_model_name"] = done.Model,
            ["sd_model_hash"] = null,
            ["infotexts"] = new JsonArray([.. infotexts.Select(t => JsonValue.Create(t))]),
            ["job_timestamp"] = done.Created.ToString("yyyyMMddHHmmss", CultureInfo.InvariantCulture),
            ["stork_job"] = done.Id,
            ["stork_nfe"] = settings.Times.Count,
            ["stork_seconds"] = Math.Round(output.Timings.Total.TotalSeconds, 3),
            ["stork_pipeline"] = settings.Pipeline,
        };
        var parameters = JsonSerializer.SerializeToNode(echo, echo.GetType(), JobJson.Options)!.AsObject();
        parameters["seed"] = settings.Seed;
        var pngs = appendImage is null ? output.Pngs : [.. output.Pngs, Imaging.PngFile.Encode(appendImage)];
        return Results.Json(new JsonObject
        {
            ["images"] = new JsonArray([.. pngs.Select(p => JsonValue.Create(Convert.ToBase64String(p)))]),
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

        var (width, height) = ParseSize(r.Size);
        var job = new JobRequest { Model = host.Name, Prompt = r.Prompt, Count = r.N ?? 1, Width = width, Height = height, Seed = -1 };
        var done = await Jobs.RunToEnd(ctx, models, job).ConfigureAwait(false);
        if (done is null)
        {
            return Results.Empty;
        }

        return OpenAiAnswer(done);
    }

    private static async Task<IResult> OpenAiEdit(HttpContext ctx, Models models)
    {
        if (!ctx.Request.HasFormContentType)
        {
            throw new RequestException("send the edit as multipart/form-data (image, mask, prompt, ...), as OpenAI's clients do.");
        }

        IFormCollection form;
        try
        {
            form = await ctx.Request.ReadFormAsync(ctx.RequestAborted).ConfigureAwait(false);
        }
        catch (InvalidDataException e)
        {
            throw new RequestException($"the multipart/form-data body cannot be read: {e.Message}");
        }

        string? Field(string name) => form.TryGetValue(name, out var v) && v.Count > 0 ? v[0] : null;
        var host = string.IsNullOrEmpty(Field("model")) ? models.Default : models.Find(Field("model"));
        var limits = host.Limits;
        var imageFiles = form.Files.Where(f => f.Name is "image" or "image[]").ToList();
        if (imageFiles.Count != 1)
        {
            throw new RequestException(imageFiles.Count == 0 ? "image is required: the image to edit, a PNG file." : $"{imageFiles.Count} images were sent; one is served.");
        }

        var (image, imageAlpha) = ImageUploads.DecodeWithAlpha(await ReadFile(imageFiles[0], limits, ctx.RequestAborted).ConfigureAwait(false), "image", limits);
        Raster? mask;
        if (form.Files.GetFile("mask") is { } maskFile)
        {
            var (maskImage, alpha) = ImageUploads.DecodeWithAlpha(await ReadFile(maskFile, limits, ctx.RequestAborted).ConfigureAwait(false), "mask", limits);
            if (maskImage.Width != image.Width || maskImage.Height != image.Height)
            {
                throw new RequestException($"the mask is {maskImage.Width} x {maskImage.Height} pixels and the image {image.Width} x {image.Height}: they must have the same size.");
            }

            mask = ImageUploads.FromTransparency(maskImage.Width, maskImage.Height, alpha!)
                ?? throw new RequestException("the mask has no fully transparent pixels: its transparent (alpha 0) area marks where to edit.");
        }
        else
        {
            // OpenAI: without a mask, the image's own transparent pixels mark the edit; an opaque image is edited as a whole (img2img).
            mask = ImageUploads.FromTransparency(image.Width, image.Height, imageAlpha!);
        }

        string? format = Field("response_format");
        if (format is not null && format != "b64_json")
        {
            throw new RequestException($"response_format '{SamplerNames.Shorten(format)}' is not served; use b64_json (images are not hosted at URLs).");
        }

        int n = 1;
        if (Field("n") is { } nText && !int.TryParse(nText, NumberStyles.None, CultureInfo.InvariantCulture, out n))
        {
            throw new RequestException($"n must be a whole number (got '{SamplerNames.Shorten(nText)}').");
        }

        var (width, height) = ParseSize(Field("size"));
        var job = new JobRequest
        {
            Model = host.Name,
            Prompt = Field("prompt"),
            Count = n,
            Width = width,
            Height = height,
            Seed = -1,
            Decoded = new DecodedImages(image, mask, null),
        };
        var done = await Jobs.RunToEnd(ctx, models, job).ConfigureAwait(false);
        return done is null ? Results.Empty : OpenAiAnswer(done);
    }

    private static async Task<byte[]> ReadFile(IFormFile file, ServerLimits limits, CancellationToken cancellationToken)
    {
        if (file.Length > limits.MaxRequestBytes)
        {
            throw new RequestException($"{file.Name} is larger than {limits.MaxRequestBytes} bytes.", StatusCodes.Status413PayloadTooLarge);
        }

        using var ms = new MemoryStream((int)file.Length);
        await file.CopyToAsync(ms, cancellationToken).ConfigureAwait(false);
        return ms.ToArray();
    }

    private static (int? Width, int? Height) ParseSize(string? size)
    {
        if (size is null || size == "auto")
        {
            return (null, null);
        }

        var parts = size.Split('x');
        if (parts.Length != 2 || !int.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out int w)
            || !int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out int h))
        {
            throw new RequestException($"size must be WIDTHxHEIGHT (e.g. 512x512) or auto (got '{SamplerNames.Shorten(size)}').");
        }

        return (w, h);
    }

    private static IResult OpenAiAnswer(Job done) => Results.Json(new
    {
        created = done.Created.ToUnixTimeSeconds(),
        data = done.Output!.Pngs.Select(p => new { b64_json = Convert.ToBase64String(p), revised_prompt = done.Output.Settings.Prompt }),
    });
}

/// <summary>Endpoint metadata for the OpenAPI document: a multipart/form-data body (OpenAI's image edits).</summary>
internal sealed record FormBody;

/// <summary>
/// Automatic1111's request models are pydantic: an int field takes <c>true</c>/<c>false</c> and whole numbers written
/// as <c>4.0</c>; clients send both. Anything else is the usual 400 naming the field.
/// </summary>
internal sealed class PydanticIntConverter : JsonConverter<int?>
{
    public override int? Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) => reader.TokenType switch
    {
        JsonTokenType.Null => null,
        JsonTokenType.True => 1,
        JsonTokenType.False => 0,
        JsonTokenType.Number when reader.TryGetInt32(out int i) => i,
        JsonTokenType.Number when reader.GetDouble() is var d && d == Math.Floor(d) && d is >= int.MinValue and <= int.MaxValue => (int)d,
        _ => throw new JsonException("not a whole number"),
    };

    public override void Write(Utf8JsonWriter writer, int? value, JsonSerializerOptions options)
    {
        if (value is { } v)
        {
            writer.WriteNumberValue(v);
        }
        else
        {
            writer.WriteNullValue();
        }
    }
}

/// <summary>pydantic's bool: <c>true</c>/<c>false</c>, or the numbers 0 and 1, which clients send for Automatic1111's checkboxes.</summary>
internal sealed class PydanticBoolConverter : JsonConverter<bool?>
{
    public override bool? Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) => reader.TokenType switch
    {
        JsonTokenType.Null => null,
        JsonTokenType.True => true,
        JsonTokenType.False => false,
        JsonTokenType.Number when reader.TryGetInt32(out int i) && i is 0 or 1 => i == 1,
        _ => throw new JsonException("not a boolean"),
    };

    public override void Write(Utf8JsonWriter writer, bool? value, JsonSerializerOptions options)
    {
        if (value is { } v)
        {
            writer.WriteBooleanValue(v);
        }
        else
        {
            writer.WriteNullValue();
        }
    }
}
