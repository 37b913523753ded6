using System.Globalization;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using Stork.Imaging;
using Stork.Pipelines;

namespace Stork.Server;

/// <summary>The JSON of jobs and the serializer settings of the own API (diffusers' snake_case names, nulls left out).</summary>
internal static class JobJson
{
    public static readonly JsonSerializerOptions Options = new(JsonSerializerDefaults.Web)
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        NumberHandling = JsonNumberHandling.AllowReadingFromString,
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.SnakeCaseLower) },
    };

    /// <summary>A job as the API shows it: state, the request as sent, and once done the settings used and the image URLs.</summary>
    public static JsonObject View(Job job)
    {
        var o = new JsonObject
        {
            ["id"] = job.Id,
            ["model"] = job.Model,
            ["state"] = job.State.ToString().ToLowerInvariant(),
            ["created"] = job.Created.ToString("O", CultureInfo.InvariantCulture),
            ["request"] = JsonSerializer.SerializeToNode(job.Echo, Options),
        };
        if (job.Error is { } error)
        {
            o["error"] = error;
        }

        if (job.Output is { } output)
        {
            o["settings"] = Settings(output.Settings);
            o["seeds"] = output.Seeds is { } seeds ? new JsonArray([.. seeds.Select(s => JsonValue.Create(s))]) : null;
            o["nfe"] = output.Settings.Times.Count;
            o["seconds"] = Math.Round(output.Timings.Total.TotalSeconds, 3);
            o["denoising_seconds"] = Math.Round(output.Timings.Denoising.TotalSeconds, 3);
            o["warnings"] = new JsonArray([.. output.Warnings.Select(w => JsonValue.Create(w))]);
            o["images"] = new JsonArray([.. Enumerable.Range(0, output.Pngs.Count).Select(k => JsonValue.Create($"/api/jobs/{job.Id}/images/{k}"))]);
        }

        return o;
    }

    /// <summary>The settings a run used (<see cref="ResolvedGeneration"/>), model shown by name, not by path.</summary>
    private static JsonObject Settings(ResolvedGeneration s) => new()
    {
        ["prompt"] = s.Prompt,
        ["negative_prompt"] = s.NegativePrompt,
        ["steps"] = s.Steps,
        ["guidance_scale"] = s.GuidanceScale,
        ["true_cfg_scale"] = s.TrueCfgScale,
        ["height"] = s.Height,
        ["width"] = s.Width,
        ["max_sequence_length"] = s.MaxSequenceLength,
        ["seed"] = s.Seed,
        ["count"] = s.Count,
        ["scheduler"] = s.Scheduler,
    };

    /// <summary>
    /// Image <paramref name="k"/> of a run as PNG, the settings in text chunks: ours (prompt, seed, steps, scheduler,
    /// model, size, ...) and Automatic1111's one <c>parameters</c> line set, which its PNG-info readers show.
    /// </summary>
    public static byte[] Png(GeneratedImages images, int k, ResolvedGeneration s, long? seed, string model, string? a1111Sampler)
    {
        string Num(double v) => v.ToString("R", CultureInfo.InvariantCulture);
        string size = string.Create(CultureInfo.InvariantCulture, $"{s.Width}x{s.Height}");
        string seedText = seed?.ToString(CultureInfo.InvariantCulture) ?? "latents";
        var text = new List<KeyValuePair<string, string>>
        {
            new("prompt", s.Prompt),
            new("seed", seedText),
            new("steps", s.Steps.ToString(CultureInfo.InvariantCulture)),
            new("scheduler", s.Scheduler),
            new("model", model),
            new("size", size),
        };
        if (s.NegativePrompt is { } neg)
        {
            text.Add(new("negative_prompt", neg));
        }

        if (s.GuidanceScale is { } g)
        {
            text.Add(new("guidance", Num(g)));
        }

        if (s.TrueCfgScale is { } t)
        {
            text.Add(new("true_cfg", Num(t)));
        }

        double? cfg = s.TrueCfgScale ?? s.GuidanceScale;
        string parameters = s.Prompt + (string.IsNullOrEmpty(s.NegativePrompt) ? "" : "\nNegative prompt: " + s.NegativePrompt)
            + $"\nSteps: {s.Steps.ToString(CultureInfo.InvariantCulture)}, Sampler: {a1111Sampler ?? s.Scheduler}"
            + (cfg is { } c ? $", CFG scale: {Num(c)}" : "") + $", Seed: {seedText}, Size: {size}, Model: {model}";
        text.Add(new("parameters", parameters));
        text.Add(new("software", "Stork.NET"));
        return PngText.Insert(PngFile.Encode(ToRaster(images, k)), text);
    }

    /// <summary>diffusers' <c>numpy_to_pil</c>: <c>(x * 255).round()</c> to 8 bits.</summary>
    public static Raster ToRaster(GeneratedImages images, int k)
    {
        var raster = new Raster(images.Width, images.Height);
        var src = images.Image(k);
        for (int i = 0; i < src.Length; i++)
        {
            raster.Pixels[i] = (byte)Math.Clamp(Math.Round(src[i] * 255.0, MidpointRounding.ToEven), 0, 255);
        }

        return raster;
    }
}
