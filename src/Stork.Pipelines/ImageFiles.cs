using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
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
    private static readonly JsonSerializerOptions IndentedJson = new() { WriteIndented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    private static readonly JsonSerializerOptions CompactJson = new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

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

        if (s.Solver is { } solver)
        {
            chunks.Add(new("solver", SolverSettingsText.Line(solver, s.SolverOptions ?? new Dictionary<string, string>())));
        }

        // The whole run for this image, as stork generate --from-metadata reads it back (no timings: the same run, the same bytes).
        chunks.Add(new(RunChunk, RunJson(result, k).ToJsonString(CompactJson)));
        chunks.Add(new("software", Software(s)));
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
        Directory.CreateDirectory(folder);
        foreach (var (path, bytes) in EncodeStep(folder, prompt, step, images))
        {
            AtomicFile.WriteAllBytes(path, bytes);
        }
    }

    /// <summary>The files <see cref="WriteStep"/> writes, without writing them (a caller that writes them only when the run succeeds).</summary>
    public static List<(string Path, byte[] Bytes)> EncodeStep(string folder, int? prompt, int step, GeneratedImages images)
    {
        ArgumentNullException.ThrowIfNull(folder);
        ArgumentNullException.ThrowIfNull(images);
        var files = new List<(string, byte[])>();
        for (int k = 0; k < images.Count; k++)
        {
            string name = prompt is { } p
                ? string.Create(CultureInfo.InvariantCulture, $"step-{step:D3}-p{p}-{k}.png")
                : string.Create(CultureInfo.InvariantCulture, $"step-{step:D3}-{k}.png");
            files.Add((Path.Combine(folder, name), PngFile.Encode(ToRaster(images, k))));
        }

        return files;
    }

    /// <summary>
    /// The runs' settings (<see cref="RunJson"/>) with their warnings and timings as indented JSON, with the
    /// <paramref name="files"/> written: <c>{"files": [...], "runs": [...]}</c>.
    /// </summary>
    public static string MetadataJson(IReadOnlyList<GenerationResult> results, IReadOnlyList<string> files)
    {
        ArgumentNullException.ThrowIfNull(results);
        ArgumentNullException.ThrowIfNull(files);
        var runs = new JsonArray();
        foreach (var r in results)
        {
            var run = RunJson(r);
            run["warnings"] = new JsonArray([.. r.Warnings.Select(w => JsonValue.Create(w))]);
            run["timings_seconds"] = new JsonObject
            {
                ["total"] = r.Timings.Total.TotalSeconds,
                ["onnx_runtime"] = r.Timings.OnnxRuntime.TotalSeconds,
                ["loading"] = r.Timings.Loading.TotalSeconds,
                ["loads"] = new JsonArray([.. r.Timings.Loads.Select(l => (JsonNode)new JsonObject { ["component"] = l.Component, ["seconds"] = l.Time.TotalSeconds })]),
                ["text_encoding"] = r.Timings.TextEncoding.TotalSeconds,
                ["denoising"] = r.Timings.Denoising.TotalSeconds,
                ["decoding"] = r.Timings.Decoding.TotalSeconds,
                ["overhead_fraction"] = r.Timings.Overhead,
            };
            runs.Add(run);
        }

        return new JsonObject { ["files"] = new JsonArray([.. files.Select(f => JsonValue.Create(f))]), ["runs"] = runs }.ToJsonString(IndentedJson);
    }

    /// <summary>The PNG text key of <see cref="RunJson"/>, which <see cref="ReadRuns"/> reads back.</summary>
    public const string RunChunk = "stork";

    /// <summary>
    /// Every resolved setting of a run as JSON (snake_case, diffusers' names): prompt, sizes, steps, guidance, seeds, the
    /// solver with all its resolved options and the scheduler as requested, the times under their name (<c>sigmas</c> or
    /// <c>timesteps</c>), the model folder with its graph hashes, input hashes and versions. With <paramref name="image"/>,
    /// that one image's run (its seed, count 1).
    /// </summary>
    public static JsonObject RunJson(GenerationResult result, int? image = null)
    {
        ArgumentNullException.ThrowIfNull(result);
        return image is { } k
            ? RunSettings(result.Settings, result.Seeds is { } all ? [all[k]] : null, single: true)
            : RunSettings(result.Settings, result.Seeds, single: false);
    }

    /// <summary>
    /// <see cref="RunJson"/> from a run's settings and its seeds (null: given latents), for callers
    /// that keep those and not the images.
    /// </summary>
    public static JsonObject SettingsJson(ResolvedGeneration settings, IReadOnlyList<long>? seeds) => RunSettings(settings, seeds, single: false);

    private static JsonObject RunSettings(ResolvedGeneration s, IReadOnlyList<long>? seeds, bool single)
    {
        ArgumentNullException.ThrowIfNull(s);
        var o = new JsonObject
        {
            ["prompt"] = s.Prompt,
            ["negative_prompt"] = s.NegativePrompt,
            ["model"] = s.Model,
            ["model_sha256"] = Strings(s.ModelHashes),
            ["pipeline"] = s.Pipeline,
            ["scheduler"] = s.Scheduler,
            ["solver"] = s.Solver,
            ["solver_options"] = Strings(s.SolverOptions),
            ["scheduler_request"] = SchedulerJson(s.SchedulerRequest),
            ["steps"] = s.Steps,
            ["guidance_scale"] = s.GuidanceScale,
            ["true_cfg_scale"] = s.TrueCfgScale,
            ["height"] = s.Height,
            ["width"] = s.Width,
            ["max_sequence_length"] = s.MaxSequenceLength,
            ["seed"] = seeds?[0] ?? s.Seed,
            ["count"] = single ? 1 : s.Count,
            ["seeds"] = seeds is null ? null : new JsonArray([.. seeds.Select(x => JsonValue.Create(x))]),
            ["strength"] = s.Strength,
            ["mu"] = s.Mu,
            [s.TimesName] = new JsonArray([.. s.Times.Select(t => JsonValue.Create(t))]),
            ["inputs"] = Strings(s.Inputs),
            ["versions"] = new JsonObject { ["stork"] = s.StorkVersion, ["onnx_runtime"] = s.OnnxRuntimeVersion },
        };
        return o;
    }

    /// <summary>
    /// The runs a PNG written by <see cref="EncodePng"/> (its <see cref="RunChunk"/> text) or a <see cref="MetadataJson"/>
    /// file records, as settings whose <see cref="ResolvedGeneration.ToRequest"/> runs them again. A scheduler
    /// configuration file recorded by hash must still hash the same. Bad files raise <see cref="InvalidDataException"/>.
    /// </summary>
    public static IReadOnlyList<ResolvedGeneration> ReadRuns(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        JsonNode? root;
        try
        {
            if (IsPng(path))
            {
                byte[] png = IO.InputFile.ReadAllBytes(path, "metadata image", 1L << 30);
                string json = PngText.Read(png).FirstOrDefault(c => c.Key == RunChunk).Value
                    ?? throw new InvalidDataException($"'{path}' holds no Stork.NET run settings (no '{RunChunk}' text); only images written by Stork.NET 0.2 or later do.");
                root = JsonNode.Parse(json);
            }
            else
            {
                root = JsonNode.Parse(IO.InputFile.ReadAllText(path, "metadata file", 64L << 20));
            }

            var runs = root?["runs"] is JsonArray list ? list.ToList() : [root];
            if (runs.Count == 0 || runs.Any(r => r is not JsonObject))
            {
                throw new InvalidDataException($"'{path}' holds no runs.");
            }

            return runs.Select(r => ReadRun((JsonObject)r!, path)).ToList();
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException or FormatException or ArgumentException)
        {
            throw new InvalidDataException($"'{path}' is not Stork.NET run metadata: {e.Message}", e);
        }
    }

    private static ResolvedGeneration ReadRun(JsonObject o, string path)
    {
        T Need<T>(string key) => o[key] is { } v ? v.GetValue<T>() : throw new InvalidDataException($"'{path}': the run has no '{key}'.");
        T? Maybe<T>(string key)
            where T : struct => o[key]?.GetValue<T>();
        var times = (o["sigmas"] ?? o["timesteps"]) is JsonArray t ? t.Select(x => x!.GetValue<double>()).ToArray() : [];
        var inputs = o["inputs"] is JsonObject ins ? ins.ToDictionary(kv => kv.Key, kv => kv.Value!.GetValue<string>()) : null;
        var hashes = o["model_sha256"] is JsonObject ms ? ms.ToDictionary(kv => kv.Key, kv => kv.Value!.GetValue<string>()) : null;
        return new ResolvedGeneration
        {
            Model = Need<string>("model"),
            Prompt = Need<string>("prompt"),
            NegativePrompt = o["negative_prompt"]?.GetValue<string>(),
            Steps = Need<int>("steps"),
            GuidanceScale = Maybe<double>("guidance_scale"),
            TrueCfgScale = Maybe<double>("true_cfg_scale"),
            Height = Need<int>("height"),
            Width = Need<int>("width"),
            MaxSequenceLength = Need<int>("max_sequence_length"),
            Seed = Need<long>("seed"),
            Count = Need<int>("count"),
            Scheduler = o["scheduler"]?.GetValue<string>() ?? "",
            Solver = o["solver"]?.GetValue<string>(),
            SchedulerRequest = ReadScheduler(o["scheduler_request"] as JsonObject, path),
            Mu = Maybe<double>("mu"),
            Times = times,
            TimesName = o["timesteps"] is null ? "sigmas" : "timesteps",
            Pipeline = o["pipeline"]?.GetValue<string>(),
            Strength = Maybe<double>("strength"),
            Inputs = inputs,
            ModelHashes = hashes,
        };
    }

    private static JsonObject? SchedulerJson(SchedulerChoice? choice)
    {
        if (choice is null)
        {
            return null;
        }

        var o = new JsonObject { ["name"] = choice.Name };
        if (choice.Settings is { } settings)
        {
            o["options"] = Strings(SolverSettingsText.Requested(settings));
            if (settings.Times is { } times)
            {
                o["times"] = new JsonArray([.. times.Select(x => JsonValue.Create(x))]);
            }
        }

        if (choice.ConfigPath is { } config)
        {
            o["config"] = config;
            o["config_sha256"] = File.Exists(config) ? Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(File.ReadAllBytes(config))) : null;
        }

        if (choice.Variant is { } variant)
        {
            o["variant"] = variant == Solvers.Stabilized.StorkVariant.Upstream ? "upstream" : "corrected";
        }

        return o;
    }

    private static SchedulerChoice? ReadScheduler(JsonObject? o, string path)
    {
        if (o is null)
        {
            return null;
        }

        string? name = o["name"]?.GetValue<string>();
        var options = o["options"] is JsonObject opts ? opts.ToDictionary(kv => kv.Key, kv => kv.Value!.GetValue<string>()) : [];
        var times = o["times"] is JsonArray t ? t.Select(x => x!.GetValue<double>()).ToArray() : null;
        var variant = o["variant"]?.GetValue<string>() switch
        {
            null => (Solvers.Stabilized.StorkVariant?)null,
            "upstream" => Solvers.Stabilized.StorkVariant.Upstream,
            "corrected" => Solvers.Stabilized.StorkVariant.Corrected,
            var v => throw new InvalidDataException($"'{path}': unknown STORK variant '{v}'."),
        };
        string? config = o["config"]?.GetValue<string>();
        if (config is not null && o["config_sha256"]?.GetValue<string>() is { } recorded)
        {
            IO.InputFile.Check(config, "scheduler config");
            string now = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(File.ReadAllBytes(config)));
            if (now != recorded)
            {
                throw new InvalidDataException($"'{path}': the scheduler config '{config}' has changed since the run (sha256 {now}, recorded {recorded}).");
            }
        }

        try
        {
            return new SchedulerChoice
            {
                Name = name,
                Settings = name is null ? null : SolverSettingsText.Settings(name, options, times),
                ConfigPath = config,
                Variant = variant,
            };
        }
        catch (OptionException e)
        {
            throw new InvalidDataException($"'{path}': {e.Message}", e);
        }
    }

    private static JsonObject? Strings(IReadOnlyDictionary<string, string>? map) =>
        map is null ? null : new JsonObject(map.Select(kv => KeyValuePair.Create(kv.Key, (JsonNode?)JsonValue.Create(kv.Value))));

    private static string Software(ResolvedGeneration s) =>
        s.StorkVersion is null ? "Stork.NET" : $"Stork.NET {s.StorkVersion}; ONNX Runtime {s.OnnxRuntimeVersion}";
}
