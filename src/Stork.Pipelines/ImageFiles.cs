using System.Globalization;
using System.Text.Json;
using Stork.Imaging;
using Stork.IO;

namespace Stork.Pipelines;

/// <summary>
/// Generated images as files, as mflux's <c>GeneratedImage.save</c>: a PNG per image with the run's settings in text
/// chunks (prompt, seed, steps, scheduler, model, size, ...), diffusers' <c>numpy_to_pil</c> rounding, numbered paths
/// when a run makes several images, a float32 <c>.npy</c> of the whole batch, and the run's settings, seeds, times and
/// timings as JSON metadata.
/// </summary>
public static class ImageFiles
{
    private static readonly JsonSerializerOptions IndentedJson = new() { WriteIndented = true };

    /// <summary>
    /// Writes <paramref name="result"/>: to <paramref name="path"/> itself when it ends in <c>.npy</c> (float32 [N, H, W, 3])
    /// or the run made one image, else to <see cref="NumberedPath"/>s (<c>cat-0.png</c>, <c>cat-1.png</c>, ...); with
    /// <paramref name="metadata"/> also <see cref="MetadataJson"/> beside it (<c>cat.json</c>). Each file is written whole
    /// or not at all. Returns the paths written.
    /// </summary>
    public static IReadOnlyList<string> Save(this GenerationResult result, string path, bool metadata = false)
    {
        ArgumentNullException.ThrowIfNull(result);
        var files = Encode([result], path, 0);
        if (metadata)
        {
            string json = Path.ChangeExtension(path, ".json");
            files.Add((json, System.Text.Encoding.UTF8.GetBytes(MetadataJson([result], files.Select(f => f.Path).ToList()))));
        }

        foreach (var (file, bytes) in files)
        {
            AtomicFile.WriteAllBytes(file, bytes);
        }

        return files.Select(f => f.Path).ToList();
    }

    /// <summary>
    /// The files of <paramref name="results"/> (one run's prompts, in order) without writing them: one <c>.npy</c> at
    /// <paramref name="path"/>, or one PNG per image; numbered from <paramref name="firstNumber"/> when
    /// <paramref name="numbered"/> (default: when there is more than one image).
    /// </summary>
    public static List<(string Path, byte[] Bytes)> Encode(IReadOnlyList<GenerationResult> results, string path, long firstNumber, bool? numbered = null)
    {
        ArgumentNullException.ThrowIfNull(results);
        ArgumentNullException.ThrowIfNull(path);
        if (results.Count == 0)
        {
            throw new ArgumentException("no results to write.", nameof(results));
        }

        if (!IsPng(path))
        {
            if (!path.EndsWith(".npy", StringComparison.OrdinalIgnoreCase))
            {
                throw new ArgumentException($"'{path}' must end in .png or .npy.", nameof(path));
            }

            var first = results[0].Images;
            int n = results.Sum(r => r.Images.Count);
            return [(path, NpyFile.Encode([n, first.Height, first.Width, 3], results.SelectMany(r => r.Images.Pixels).ToArray()))];
        }

        bool number = numbered ?? results.Sum(r => r.Images.Count) > 1;
        var files = new List<(string, byte[])>();
        long index = firstNumber;
        foreach (var result in results)
        {
            for (int k = 0; k < result.Images.Count; k++, index++)
            {
                files.Add((number ? NumberedPath(path, index) : path, EncodePng(result, k)));
            }
        }

        return files;
    }

    /// <summary>Whether <paramref name="path"/> names a PNG (else it should name a <c>.npy</c>).</summary>
    public static bool IsPng(string path) => path?.EndsWith(".png", StringComparison.OrdinalIgnoreCase) ?? throw new ArgumentNullException(nameof(path));

    /// <summary>Image <paramref name="index"/>'s path: <c>cat.png</c> becomes <c>cat-3.png</c>.</summary>
    public static string NumberedPath(string path, long index)
    {
        ArgumentNullException.ThrowIfNull(path);
        return Path.Combine(Path.GetDirectoryName(path) ?? "", string.Create(CultureInfo.InvariantCulture,
            $"{Path.GetFileNameWithoutExtension(path)}-{index}{Path.GetExtension(path)}"));
    }

    /// <summary>
    /// Image <paramref name="k"/> of <paramref name="result"/> as a PNG, its settings in text chunks; <paramref name="text"/>
    /// replaces the chunk of the same key or adds one (a server's model name, Automatic1111's <c>parameters</c> line).
    /// </summary>
    public static byte[] EncodePng(GenerationResult result, int k, IReadOnlyList<KeyValuePair<string, string>>? text = null)
    {
        ArgumentNullException.ThrowIfNull(result);
        var s = result.Settings;
        var chunks = new List<KeyValuePair<string, string>>
        {
            new("prompt", s.Prompt),
            new("seed", result.Seeds is { } seeds ? seeds[k].ToString(CultureInfo.InvariantCulture) : "latents"),
            new("steps", s.Steps.ToString(CultureInfo.InvariantCulture)),
            new("scheduler", s.Scheduler),
            new("model", s.Model),
            new("size", string.Create(CultureInfo.InvariantCulture, $"{s.Width}x{s.Height}")),
        };
        if (s.NegativePrompt is { } neg)
        {
            chunks.Add(new("negative_prompt", neg));
        }

        if (s.GuidanceScale is { } g)
        {
            chunks.Add(new("guidance", g.ToString("R", CultureInfo.InvariantCulture)));
        }

        if (s.TrueCfgScale is { } t)
        {
            chunks.Add(new("true_cfg", t.ToString("R", CultureInfo.InvariantCulture)));
        }

        if (s.Pipeline is { } pipelineClass)
        {
            chunks.Add(new("pipeline", pipelineClass));
        }

        if (s.Strength is { } strength)
        {
            chunks.Add(new("strength", strength.ToString("R", CultureInfo.InvariantCulture)));
        }

        foreach (var (role, hash) in s.Inputs ?? new Dictionary<string, string>())
        {
            chunks.Add(new(role, hash));
        }

        foreach (var (key, value) in text ?? [])
        {
            int at = chunks.FindIndex(c => c.Key == key);
            if (at >= 0)
            {
                chunks[at] = new(key, value);
            }
            else
            {
                chunks.Add(new(key, value));
            }
        }

        chunks.Add(new("software", "Stork.NET"));
        return PngText.Insert(PngFile.Encode(ToRaster(result.Images, k)), chunks);
    }

    /// <summary>Image <paramref name="k"/> in 8 bits, as diffusers' <c>numpy_to_pil</c>: <c>(x * 255).round()</c>, clipped.</summary>
    public static Raster ToRaster(GeneratedImages images, int k)
    {
        ArgumentNullException.ThrowIfNull(images);
        var raster = new Raster(images.Width, images.Height);
        var src = images.Image(k);
        for (int i = 0; i < src.Length; i++)
        {
            raster.Pixels[i] = (byte)Math.Clamp(Math.Round(src[i] * 255.0, MidpointRounding.ToEven), 0, 255);
        }

        return raster;
    }

    /// <summary>
    /// Writes every image of <paramref name="images"/> (the predicted clean images after step <paramref name="step"/>) into
    /// <paramref name="folder"/> as <c>step-NNN-K.png</c>, or <c>step-NNN-pP-K.png</c> for prompt <paramref name="prompt"/> of several.
    /// </summary>
    public static void WriteStep(string folder, int? prompt, int step, GeneratedImages images)
    {
        ArgumentNullException.ThrowIfNull(images);
        Directory.CreateDirectory(folder);
        for (int k = 0; k < images.Count; k++)
        {
            string name = prompt is { } p
                ? string.Create(CultureInfo.InvariantCulture, $"step-{step:D3}-p{p}-{k}.png")
                : string.Create(CultureInfo.InvariantCulture, $"step-{step:D3}-{k}.png");
            PngFile.Write(Path.Combine(folder, name), ToRaster(images, k));
        }
    }

    /// <summary>The runs' settings, seeds, sigmas, warnings and timings as indented JSON, with the <paramref name="files"/> written.</summary>
    public static string MetadataJson(IReadOnlyList<GenerationResult> results, IReadOnlyList<string> files)
    {
        ArgumentNullException.ThrowIfNull(results);
        var runs = results.Select(r => new
        {
            prompt = r.Settings.Prompt,
            negative_prompt = r.Settings.NegativePrompt,
            model = r.Settings.Model,
            scheduler = r.Settings.Scheduler,
            steps = r.Settings.Steps,
            guidance_scale = r.Settings.GuidanceScale,
            true_cfg_scale = r.Settings.TrueCfgScale,
            height = r.Settings.Height,
            width = r.Settings.Width,
            max_sequence_length = r.Settings.MaxSequenceLength,
            seeds = r.Seeds,
            mu = r.Settings.Mu,
            sigmas = r.Settings.Times,
            pipeline = r.Settings.Pipeline,
            strength = r.Settings.Strength,
            inputs = r.Settings.Inputs,
            warnings = r.Warnings,
            timings_seconds = new
            {
                total = r.Timings.Total.TotalSeconds,
                onnx_runtime = r.Timings.OnnxRuntime.TotalSeconds,
                loading = r.Timings.Loading.TotalSeconds,
                loads = r.Timings.Loads.Select(l => new { component = l.Component, seconds = l.Time.TotalSeconds }),
                text_encoding = r.Timings.TextEncoding.TotalSeconds,
                denoising = r.Timings.Denoising.TotalSeconds,
                decoding = r.Timings.Decoding.TotalSeconds,
                overhead_fraction = r.Timings.Overhead,
            },
        });
        return JsonSerializer.Serialize(new { files, runs }, IndentedJson);
    }
}
