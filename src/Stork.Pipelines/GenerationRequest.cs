using Stork.IO;

namespace Stork.Pipelines;

/// <summary>
/// What to generate (diffusers' <c>__call__</c> arguments; null means the family's default, see
/// <see cref="ITextToImagePipeline.Defaults"/>). Image k of a request starts from the noise of seed <c>Seed + k</c>, so
/// any image can be regenerated alone with <c>Seed + k</c> and <c>Count = 1</c>.
/// </summary>
public sealed record GenerationRequest
{
    /// <summary>The text prompt.</summary>
    public required string Prompt { get; init; }

    /// <summary>The negative prompt (FLUX.1: used with true classifier-free guidance, <see cref="TrueCfgScale"/> &gt; 1).</summary>
    public string? NegativePrompt { get; init; }

    /// <summary>num_inference_steps.</summary>
    public int? Steps { get; init; }

    /// <summary>guidance_scale (FLUX.1-dev: the embedded guidance; ignored by schnell, which has none).</summary>
    public double? GuidanceScale { get; init; }

    /// <summary>true_cfg_scale: with a negative prompt and a value above 1, two passes per step.</summary>
    public double? TrueCfgScale { get; init; }

    /// <summary>Image height in pixels; null for the model's default.</summary>
    public int? Height { get; init; }

    /// <summary>Image width in pixels; null for the model's default.</summary>
    public int? Width { get; init; }

    /// <summary>T5 tokens (max_sequence_length).</summary>
    public int? MaxSequenceLength { get; init; }

    /// <summary>Seed of image 0; image k uses Seed + k.</summary>
    public long Seed { get; init; }

    /// <summary>Images per prompt (num_images_per_prompt); null: the number of given latents, else 1.</summary>
    public int? Count { get; init; }

    /// <summary>Initial latents in place of seeded noise: unpacked [Count, C, h, w] or, for FLUX.1, packed [Count, S, 4C].</summary>
    public LatentsInput? Latents { get; init; }

    /// <summary>The solver; null: the model folder's <c>scheduler/scheduler_config.json</c>.</summary>
    public SchedulerChoice? Scheduler { get; init; }

    /// <summary>Called after every step with the step index and the predicted clean images [Count, H, W, 3] in [0, 1].</summary>
    public Action<int, GeneratedImages>? Stepwise { get; init; }

    /// <summary>
    /// Called with each warning when it arises (a truncated prompt before any model loads, an ignored setting), not only
    /// at the end in <see cref="GenerationResult.Warnings"/>, which lists them all.
    /// </summary>
    public Action<string>? OnWarning { get; init; }

    /// <summary>
    /// The input image: img2img on a plain folder, inpainting with <see cref="Mask"/>, FLUX.1 Fill, or FLUX.1 Kontext's
    /// reference image. Resized with PIL's Lanczos filter when its size differs (read files with
    /// <see cref="Stork.Imaging.ImageFile.Read"/>). With it, <see cref="Latents"/> holds the Gaussian noise the pipeline
    /// draws, not the initial latents.
    /// </summary>
    public Stork.Imaging.Raster? Image { get; init; }

    /// <summary>The inpainting mask, white = repaint (converted to grey and binarised at 0.5, as diffusers does).</summary>
    public Stork.Imaging.Raster? Mask { get; init; }

    /// <summary>FLUX.1 Control (Canny, Depth) folders: the control image.</summary>
    public Stork.Imaging.Raster? ControlImage { get; init; }

    /// <summary>With an image: the part of the schedule that runs, in (0, 1]; null: the pipeline class's default.</summary>
    public double? Strength { get; init; }
}

/// <summary>Initial latents: values (C order) and their shape.</summary>
public sealed record LatentsInput(float[] Values, int[] Shape)
{
    /// <summary>
    /// Latents from a .npy file (float32 or float64): [N, C, h, w], Qwen-Image's [N, C, 1, h, w] or packed [N, S, 64],
    /// every value finite (an <see cref="InvalidDataException"/> otherwise).
    /// </summary>
    public static LatentsInput Read(string path)
    {
        InputFile.Check(path, "latents file");
        var array = NpyFile.Read(path, floatOnly: true);
        if (array.Shape.Length is not (3 or 4 or 5) || array.Shape.Any(d => d < 1))
        {
            throw new InvalidDataException($"latents '{path}' have shape [{string.Join(", ", array.Shape)}]; expected [N, C, h, w], Qwen-Image's [N, C, 1, h, w] or packed [N, S, 64].");
        }

        if (array.Data.Any(v => !double.IsFinite(v)))
        {
            throw new InvalidDataException($"latents '{path}' hold non-finite values.");
        }

        return new LatentsInput(array.ToSingle(), array.Shape);
    }
}
