using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using Stork.Evaluation;
using Stork.Imaging;
using Stork.Pipelines;
using Stork.Solvers.Catalog;
using Stork.Solvers.Stabilized;
using Stork.Solvers.Standard;

namespace Stork.Server;

/// <summary>A request the server refuses: answered 400 (or the status given) with the message; nothing is queued.</summary>
public sealed class RequestException(string message, int status = 400) : Exception(message)
{
    /// <summary>The HTTP status.</summary>
    public int Status { get; } = status;
}

/// <summary>
/// The own JSON API's job: <see cref="GenerationRequest"/> in diffusers' snake_case names, plus the model by name and
/// whether to stream the predicted clean image after each step. Null means the model's default (seed: 0).
/// </summary>
public sealed record JobRequest
{
    /// <summary>A served model's name; null: the first one.</summary>
    public string? Model { get; init; }

    public string? Prompt { get; init; }

    public string? NegativePrompt { get; init; }

    public int? Steps { get; init; }

    public double? GuidanceScale { get; init; }

    public double? TrueCfgScale { get; init; }

    public int? Height { get; init; }

    public int? Width { get; init; }

    public int? MaxSequenceLength { get; init; }

    /// <summary>Seed of image 0 (image k uses seed + k); -1 picks one at random.</summary>
    public long? Seed { get; init; }

    public int? Count { get; init; }

    /// <summary>The solver; null: the model folder's scheduler configuration.</summary>
    public SchedulerRequest? Scheduler { get; init; }

    /// <summary>Send the predicted clean image after every step on the job's event stream (costs one VAE decode per step).</summary>
    public bool Preview { get; init; }

    /// <summary>
    /// The input image, a PNG or JPEG as base64 or a <c>data:</c> URL: img2img on a plain folder, inpainting with
    /// <see cref="Mask"/>, FLUX.1 Fill, or FLUX.1 Kontext's reference image. Without height and width the output size
    /// follows diffusers' class (the image's size, or the model's default).
    /// </summary>
    public string? Image { get; init; }

    /// <summary>The inpainting mask (same size as the image; white = repaint, binarised at 0.5 as diffusers does), base64 or a data URL.</summary>
    public string? Mask { get; init; }

    /// <summary>FLUX.1 Control (Canny, Depth) models: the control image, base64 or a data URL.</summary>
    public string? ControlImage { get; init; }

    /// <summary>With an image: how much of the schedule runs, in (0, 1]; null: the pipeline class's default.</summary>
    public double? Strength { get; init; }

    /// <summary>Images already decoded by a compatible API (its own mask conventions applied); take precedence over the base64 fields.</summary>
    [JsonIgnore]
    internal DecodedImages? Decoded { get; init; }
}

/// <summary>A request's image inputs, decoded and checked against the server's limits.</summary>
internal sealed record DecodedImages(Raster? Image, Raster? Mask, Raster? ControlImage)
{
    public bool Any => Image is not null || Mask is not null || ControlImage is not null;
}

/// <summary>
/// A solver by registry name (or an Automatic1111 name, see <see cref="SamplerNames"/>) and its options: every other
/// field is a solver option by its key (<see cref="SolverOption.Key"/>: <c>substeps</c>, <c>derivative-order</c>,
/// <c>corrector</c>, ...; <c>_</c> may stand for <c>-</c>), with a string, number or boolean value.
/// </summary>
public sealed record SchedulerRequest
{
    public string? Name { get; init; }

    /// <summary>The solver options, by key.</summary>
    [JsonExtensionData]
    public Dictionary<string, JsonElement>? Options { get; init; }
}

/// <summary>Checks requests against the limits and turns them into <see cref="GenerationRequest"/>s.</summary>
internal static class RequestValidation
{
    public static GenerationRequest ToGeneration(JobRequest r, GenerationDefaults defaults, ServerLimits limits)
    {
        string prompt = CheckPrompt(r.Prompt, "prompt", limits) ?? throw new RequestException("prompt is required.");
        string? negative = CheckPrompt(r.NegativePrompt, "negative_prompt", limits);
        int steps = r.Steps ?? defaults.Steps;
        if (steps < 1 || steps > limits.MaxSteps)
        {
            throw new RequestException($"steps must be 1 to {limits.MaxSteps} (got {steps}).");
        }

        int count = r.Count ?? 1;
        if (count < 1 || count > limits.MaxCount)
        {
            throw new RequestException($"count must be 1 to {limits.MaxCount} (got {count}).");
        }

        int height = r.Height ?? defaults.Height, width = r.Width ?? defaults.Width;
        if (height < 8 || width < 8 || (long)height * width > limits.MaxPixels)
        {
            throw new RequestException($"size {width}x{height} must be at least 8x8 and at most {limits.MaxPixels} pixels.");
        }

        CheckScale(r.GuidanceScale, "guidance_scale");
        CheckScale(r.TrueCfgScale, "true_cfg_scale");
        if (r.MaxSequenceLength is { } len && len is < 1 or > 512)
        {
            throw new RequestException($"max_sequence_length must be 1 to 512 (got {len}).");
        }

        long seed = r.Seed ?? 0;
        if (seed == -1)
        {
            seed = Random.Shared.NextInt64(0, uint.MaxValue);
        }
        else if (seed < 0)
        {
            throw new RequestException($"seed must be 0 or more, or -1 for a random one (got {seed}).");
        }

        var images = r.Decoded ?? new DecodedImages(
            ImageUploads.FromBase64(r.Image, "image") is { } image ? ImageUploads.Decode(image, "image", limits) : null,
            ImageUploads.FromBase64(r.Mask, "mask") is { } mask ? ImageUploads.Decode(mask, "mask", limits) : null,
            ImageUploads.FromBase64(r.ControlImage, "control_image") is { } control ? ImageUploads.Decode(control, "control_image", limits) : null);
        if (images.Mask is not null && images.Image is null)
        {
            throw new RequestException("mask needs image (the image to inpaint).");
        }

        if (r.Strength is { } strength && images.Image is null)
        {
            throw new RequestException($"strength needs image (got strength {strength.ToString(CultureInfo.InvariantCulture)} without an input image).");
        }

        return new GenerationRequest
        {
            Prompt = prompt,
            NegativePrompt = negative,
            Steps = r.Steps,
            GuidanceScale = r.GuidanceScale,
            TrueCfgScale = r.TrueCfgScale,
            Height = r.Height,
            Width = r.Width,
            MaxSequenceLength = r.MaxSequenceLength,
            Seed = seed,
            Count = count,
            Scheduler = r.Scheduler is null ? null : ToScheduler(r.Scheduler),
            Image = images.Image,
            Mask = images.Mask,
            ControlImage = images.ControlImage,
            Strength = r.Strength,
        };
    }

    private static string? CheckPrompt(string? text, string field, ServerLimits limits)
    {
        if (text is null)
        {
            return null;
        }

        if (text.Length > limits.MaxPromptLength)
        {
            throw new RequestException($"{field} is {text.Length} characters; at most {limits.MaxPromptLength}.");
        }

        return text.Any(c => char.IsControl(c) && c is not ('\n' or '\r' or '\t'))
            ? throw new RequestException($"{field} holds control characters.")
            : text;
    }

    private static void CheckScale(double? value, string field)
    {
        if (value is { } v && (!double.IsFinite(v) || v < 0 || v > 100))
        {
            throw new RequestException(string.Create(CultureInfo.InvariantCulture, $"{field} must be 0 to 100 (got {v})."));
        }
    }

    public static SchedulerChoice? ToScheduler(SchedulerRequest s)
    {
        if (s.Name is null)
        {
            return s.Options is null or { Count: 0 } ? null : throw new RequestException("scheduler options need scheduler.name.");
        }

        string name = SamplerNames.Resolve(s.Name);
        var settings = new SolverSettings();
        foreach (var (field, value) in s.Options ?? [])
        {
            string key = field.Replace('_', '-');
            var option = SolverOption.Find(key, name);
            if (option is null || !option.Pipelines)
            {
                string known = string.Join(", ", SolverRegistry.Reads(name).Where(o => o.Pipelines).Select(o => o.Key));
                throw new RequestException($"scheduler.{field} is not a scheduler option of {name} (its options: {(known.Length > 0 ? known : "none")}).");
            }

            string text = value.ValueKind == JsonValueKind.String ? value.GetString()! : value.GetRawText();
            try
            {
                settings = option.Apply(settings, text);
                option.CheckApplies([name], null);
            }
            catch (OptionException e)
            {
                throw new RequestException($"scheduler.{field} {e.Reason}");
            }
        }

        return SchedulerChoice.Named(name, settings);
    }
}
