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
            o["settings"] = ImageFiles.SettingsJson(output.Settings, output.Seeds);
            o["seeds"] = output.Seeds is { } seeds ? new JsonArray([.. seeds.Select(s => JsonValue.Create(s))]) : null;
            o["nfe"] = output.Settings.Times.Count;
            o["seconds"] = Math.Round(output.Timings.Total.TotalSeconds, 3);
            o["denoising_seconds"] = Math.Round(output.Timings.Denoising.TotalSeconds, 3);
            o["warnings"] = new JsonArray([.. output.Warnings.Select(w => JsonValue.Create(w))]);
            o["images"] = new JsonArray([.. Enumerable.Range(0, output.Pngs.Count).Select(k => JsonValue.Create($"/api/jobs/{job.Id}/images/{k}"))]);
        }

        if (InputUrls(job) is { Count: > 0 } inputs)
        {
            o["inputs"] = inputs;
        }

        return o;
    }

    /// <summary>The roles of a request's image inputs (<c>image</c>, <c>mask</c>, <c>control_image</c>) and their images.</summary>
    public static IEnumerable<(string Role, Raster Image)> Inputs(GenerationRequest r)
    {
        foreach (var (role, image) in new[] { ("image", r.Image), ("mask", r.Mask), ("control_image", r.ControlImage) })
        {
            if (image is not null)
            {
                yield return (role, image);
            }
        }
    }

    /// <summary>Where a job's image inputs are served (PNG), by role: the page shows them and re-runs with them.</summary>
    private static JsonObject InputUrls(Job job)
    {
        var o = new JsonObject();
        foreach (var (role, _) in Inputs(job.Request))
        {
            o[role] = $"/api/jobs/{job.Id}/inputs/{role}";
        }

        return o;
    }

    /// <summary>
    /// Image <paramref name="k"/> of a run as PNG: the library's text chunks (<see cref="ImageFiles.EncodePng"/>; the result's
    /// model is the served name) and Automatic1111's one <c>parameters</c> line, which its PNG-info readers show.
    /// </summary>
    public static byte[] Png(GenerationResult result, int k, string? a1111Sampler)
    {
        var s = result.Settings;
        string model = s.Model;
        string Num(double v) => v.ToString("R", CultureInfo.InvariantCulture);
        string size = string.Create(CultureInfo.InvariantCulture, $"{s.Width}x{s.Height}");
        string seedText = result.Seeds?[k].ToString(CultureInfo.InvariantCulture) ?? "latents";
        double? cfg = s.TrueCfgScale ?? s.GuidanceScale;
        string parameters = s.Prompt + (string.IsNullOrEmpty(s.NegativePrompt) ? "" : "\nNegative prompt: " + s.NegativePrompt)
            + $"\nSteps: {s.Steps.ToString(CultureInfo.InvariantCulture)}, Sampler: {a1111Sampler ?? s.Scheduler}"
            + (cfg is { } c ? $", CFG scale: {Num(c)}" : "") + $", Seed: {seedText}, Size: {size}, Model: {model}"
            + (s.Strength is { } strength ? $", Denoising strength: {Num(strength)}" : "");
        return ImageFiles.EncodePng(result, k, [new("parameters", parameters)]);
    }
}
