using System.Text.Json;
using System.Text.Json.Nodes;
using Stork.IO;
using Stork.Pipelines;

namespace Stork.Tests.Pipelines;

/// <summary>A golden diffusers pipeline run (Data/pipelines, see its PROVENANCE.md).</summary>
internal sealed class PipelineCase
{
    private PipelineCase(string name, JsonElement json)
    {
        Name = name;
        Json = json;
    }

    public static string Root => Path.Combine(AppContext.BaseDirectory, "Data", "pipelines");

    public string Name { get; }

    public JsonElement Json { get; }

    /// <summary>The text-to-image cases whose name starts with <paramref name="prefix"/> (image-input cases are listed by <see cref="ImageInputNames"/>).</summary>
    public static IEnumerable<string> Names(string prefix) =>
        Directory.GetFiles(Root, prefix + "*.json").Where(f => !IsImageInput(f)).Select(Path.GetFileNameWithoutExtension).Order(StringComparer.Ordinal)!;

    /// <summary>The image-input cases (<c>"task": "image-input"</c>): img2img, inpainting, Fill, Kontext, Control.</summary>
    public static IEnumerable<string> ImageInputNames() =>
        Directory.GetFiles(Root, "*.json").Where(IsImageInput).Select(Path.GetFileNameWithoutExtension).Order(StringComparer.Ordinal)!;

    private static bool IsImageInput(string jsonPath) =>
        JsonDocument.Parse(System.IO.File.ReadAllText(jsonPath)).RootElement.TryGetProperty("task", out var t) && t.GetString() == "image-input";

    public static TheoryData<string> Flux() => new(Names("flux-"));

    /// <summary>The SD3, SD1.5 and SDXL cases.</summary>
    public static TheoryData<string> StableDiffusion() => new(Names("sd3-").Concat(Names("sd15-")).Concat(Names("sdxl-")));

    public static PipelineCase Load(string name) =>
        new(name, JsonDocument.Parse(System.IO.File.ReadAllText(Path.Combine(Root, name + ".json"))).RootElement.Clone());

    /// <summary>The diffusers class the case ran (image-input cases), else the folder's.</summary>
    public string PipelineClass => Json.TryGetProperty("pipeline", out var p) ? p.GetString()! : Json.GetProperty("model_class").GetString()!;

    /// <summary>An input file of an image-input case (<c>image</c>, <c>mask</c>, <c>control_image</c>), or null.</summary>
    public string? Input(string key) =>
        Json.TryGetProperty("inputs", out var i) && i.TryGetProperty(key, out var f) && f.ValueKind == JsonValueKind.String ? Path.Combine(Root, f.GetString()!) : null;

    public string ModelFolder => Path.Combine(Root, Json.GetProperty("model").GetString()!);

    public string File(string suffix) => Path.Combine(Root, $"{Name}.{suffix}");

    public NpyArray Array(string suffix) => NpyFile.Read(File(suffix));

    public string Prompt => Json.GetProperty("prompt").GetString()!;

    public string? NegativePrompt => Json.GetProperty("negative_prompt").ValueKind == JsonValueKind.String ? Json.GetProperty("negative_prompt").GetString() : null;

    public double? Number(string key) => Json.TryGetProperty(key, out var v) && v.ValueKind == JsonValueKind.Number ? v.GetDouble() : null;

    public int Int(string key) => Json.GetProperty(key).GetInt32();

    public double ImageTolerance => Json.GetProperty("tolerance").GetProperty("image_abs").GetDouble();

    public double LatentsTolerance => Json.GetProperty("tolerance").GetProperty("latents_rel_l2").GetDouble();

    /// <summary>The case's full scheduler configuration as a scheduler_config.json file (written to a temp folder).</summary>
    public string WriteSchedulerConfig(string folder)
    {
        var scheduler = Json.GetProperty("scheduler");
        var node = JsonNode.Parse(scheduler.GetProperty("config").GetRawText())!.AsObject();
        node.Insert(0, "_class_name", scheduler.GetProperty("class").GetString());
        string path = Path.Combine(folder, Name + ".scheduler_config.json");
        System.IO.File.WriteAllText(path, node.ToJsonString());
        return path;
    }

    /// <summary>The token ids diffusers fed the text encoders, in call order.</summary>
    public int[][] TextEncoderCalls(string graph) =>
        Json.GetProperty("text_encoder_calls").EnumerateArray()
            .Where(c => c.GetProperty("graph").GetString() == graph)
            .Select(c => c.GetProperty("input_ids")[0].EnumerateArray().Select(e => e.GetInt32()).ToArray())
            .ToArray();

    /// <summary>
    /// Runs the case through the pipeline of <paramref name="folder"/> (default: the case's model) from the token ids
    /// diffusers fed its text encoders: per tokenizer component, call 0 is the prompt and call 1 (true CFG) the negative prompt.
    /// </summary>
    public GenerationResult RunFromTokens(string schedulerFolder, string? folder = null, GenerationRequest? request = null, PipelineOptions? options = null,
        Action<TextToImagePipeline>? after = null)
    {
        using var pipeline = (TextToImagePipeline)TextToImage.Load(folder ?? ModelFolder, options);
        (string Graph, string Tokenizer)[] encoders = [("text_encoder", "tokenizer"), ("text_encoder_2", "tokenizer_2"), ("text_encoder_3", "tokenizer_3")];
        var calls = encoders.Select(e => (e.Tokenizer, Calls: TextEncoderCalls(e.Graph))).Where(e => e.Calls.Length > 0).ToList();
        var positive = calls.ToDictionary(e => e.Tokenizer, e => e.Calls[0]);
        var negative = calls.All(e => e.Calls.Length > 1) ? calls.ToDictionary(e => e.Tokenizer, e => e.Calls[1]) : null;
        var result = pipeline.GenerateFromTokens(request ?? Request(WriteSchedulerConfig(schedulerFolder)), positive, negative);
        after?.Invoke(pipeline);
        return result;
    }

    public GenerationRequest Request(string schedulerConfig)
    {
        var latents = Array("latents.npy");
        return new GenerationRequest
        {
            Prompt = Prompt,
            NegativePrompt = NegativePrompt,
            Steps = Int("num_inference_steps"),
            GuidanceScale = Number("guidance_scale"),
            TrueCfgScale = Number("true_cfg_scale"),
            Height = Int("height"),
            Width = Int("width"),
            MaxSequenceLength = Json.GetProperty("max_sequence_length").ValueKind == JsonValueKind.Number ? Int("max_sequence_length") : null,
            Count = Int("num_images_per_prompt"),
            Latents = new LatentsInput(latents.ToSingle(), latents.Shape),
            Scheduler = SchedulerChoice.FromConfig(schedulerConfig),
            Image = Input("image") is { } image ? Stork.Imaging.ImageFile.Read(image) : null,
            Mask = Input("mask") is { } mask ? Stork.Imaging.ImageFile.Read(mask) : null,
            ControlImage = Input("control_image") is { } control ? Stork.Imaging.ImageFile.Read(control) : null,
            Strength = Number("strength"),
        };
    }

    /// <summary>The <c>timestep</c> the denoiser graph received at each step (first batch entry).</summary>
    public double[] DenoiserTimesteps() =>
        Json.GetProperty("denoiser_timesteps").EnumerateArray().Select(e => e[0].GetDouble()).ToArray();

    public static double MaxAbs(ReadOnlySpan<float> a, ReadOnlySpan<double> reference)
    {
        double m = 0;
        for (int i = 0; i < a.Length; i++)
        {
            m = Math.Max(m, Math.Abs(a[i] - reference[i]));
        }

        return m;
    }
}
