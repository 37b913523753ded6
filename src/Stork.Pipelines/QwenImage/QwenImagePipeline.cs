using System.Diagnostics;
using Stork.Pipelines.Flux;
using Stork.Pipelines.Tokenizers;
using Stork.Predictions;
using Stork.Sampling;
using Stork.Schedules;

namespace Stork.Pipelines.QwenImage;

/// <summary>
/// Qwen-Image exactly as diffusers' <c>QwenImagePipeline</c>: the prompt in its chat template, tokenized to at most
/// 1058 tokens, encoded by the Qwen2.5-VL language model, the first 34 (template) positions dropped and the rest cut to
/// <c>max_sequence_length</c>; FLUX.1-packed latents with centred rotary positions; sigmas <c>linspace(1, 1/N, N)</c>
/// shifted dynamically (exponential, mu extrapolated from the image sequence length) and stretched to
/// <c>shift_terminal</c>; the timestep fed as sigma; true classifier-free guidance with a negative prompt and the norm
/// rescale; the 5-D VAE decode of <c>z * std_c + mean_c</c>; images clamped to [0, 1].
/// </summary>
/// <remarks>
/// Defaults are diffusers': 50 steps, 1024 x 1024 (<c>default_sample_size</c> 128 times the VAE scale factor), a true
/// CFG scale of 4.0 used only when a negative prompt is given, <c>max_sequence_length</c> 512. The ONNX layout is
/// described in <c>docs/text-to-image-qwen.md</c>.
/// </remarks>
public sealed class QwenImagePipeline : ITextToImagePipeline
{
    /// <summary>diffusers' <c>default_sample_size</c>: the default image side is this times the VAE scale factor.</summary>
    private const int DefaultSampleSize = 128;

    /// <summary>diffusers' default <c>true_cfg_scale</c>.</summary>
    public const double DefaultTrueCfgScale = 4.0;

    private readonly ComponentSlot<QwenImageTextEncoder> _textEncoder;
    private readonly ComponentSlot<QwenImageTransformer> _transformer;
    private readonly ComponentSlot<QwenImageVaeDecoder> _vae;
    private readonly Lazy<Qwen2Tokenizer> _tokenizer;
    private readonly int _vaeScale;
    private TimeSpan _tokenizerLoadTime;
    private TimeSpan _onnxTime;

    internal QwenImagePipeline(ModelFolder folder, PipelineOptions options)
    {
        Folder = folder;
        var runtime = options.Runtime;
        bool keep = options.KeepLoaded;

        // Read the configurations (cheap) up front so that a broken folder fails before any work.
        folder.Config("transformer");
        _vaeScale = QwenImageVaeDecoder.ScaleFactorOf(folder.Config("vae_decoder", "vae"));
        string textGraph = folder.Graph("text_encoder");
        folder.Graph("transformer");
        folder.Graph("vae_decoder", "vae");
        string tokenizerFolder = folder.ComponentFolder("tokenizer");
        _ = folder.SchedulerConfigPath;

        _textEncoder = new(() => new QwenImageTextEncoder(textGraph, runtime), keep);
        _transformer = new(() => new QwenImageTransformer(folder, runtime), keep);
        _vae = new(() => new QwenImageVaeDecoder(folder, runtime), keep);
        _tokenizer = new(() =>
        {
            var clock = Stopwatch.StartNew();
            var t = TokenizerLoader.Load(tokenizerFolder) as Qwen2Tokenizer
                ?? throw new InvalidDataException($"tokenizer folder {tokenizerFolder}: Qwen-Image needs a Qwen2 tokenizer (tokenizer_class Qwen2Tokenizer).");
            _tokenizerLoadTime += clock.Elapsed;
            return t;
        });
        Defaults = new GenerationDefaults(50, null, DefaultSampleSize * _vaeScale, DefaultSampleSize * _vaeScale,
            QwenImagePrompt.DefaultMaxSequenceLength, "model scheduler_config.json");
    }

    /// <inheritdoc/>
    public ModelFolder Folder { get; }

    /// <summary>
    /// 50 steps, no guidance scale (the model has no guidance input; true CFG 4.0 with a negative prompt), 1024 x 1024
    /// with the real VAE, <c>max_sequence_length</c> 512, the folder's scheduler configuration.
    /// </summary>
    public GenerationDefaults Defaults { get; }

    /// <summary>The templated ids the text encoder gets (cut at 1058), keyed <c>tokenizer</c>.</summary>
    public IReadOnlyDictionary<string, TokenizedText> Tokenize(string prompt, int? maxSequenceLength = null)
    {
        ArgumentNullException.ThrowIfNull(prompt);
        ResolveSequenceLength(maxSequenceLength);
        return new Dictionary<string, TokenizedText> { ["tokenizer"] = QwenImagePrompt.Tokenize(_tokenizer.Value, prompt) };
    }

    /// <inheritdoc/>
    public GenerationResult Generate(GenerationRequest request, IProgress<GenerationProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(request.Prompt, nameof(request.Prompt));
        var clock = Stopwatch.StartNew();
        var loadBefore = _tokenizerLoadTime;
        var warnings = new List<string>();
        var prompt = QwenImagePrompt.Tokenize(_tokenizer.Value, request.Prompt);
        Warn(warnings, prompt, "the prompt");
        TokenizedText? negative = null;
        if (request.NegativePrompt is not null && (request.TrueCfgScale ?? DefaultTrueCfgScale) > 1)
        {
            negative = QwenImagePrompt.Tokenize(_tokenizer.Value, request.NegativePrompt);
            Warn(warnings, negative, "the negative prompt");
        }

        var tokenizing = clock.Elapsed;
        var tokenizerLoading = _tokenizerLoadTime - loadBefore;
        var result = GenerateFromTokens(request, new PromptTokens(prompt.Ids, negative?.Ids), warnings, progress, cancellationToken);
        var t = result.Timings;
        return result with
        {
            Timings = t with { Total = t.Total + tokenizing, Loading = t.Loading + tokenizerLoading, TextEncoding = t.TextEncoding + tokenizing },
        };
    }

    /// <summary>The templated token ids of a run: the prompt's and (true CFG) the negative prompt's.</summary>
    internal sealed record PromptTokens(int[] Prompt, int[]? Negative);

    internal GenerationResult GenerateFromTokens(GenerationRequest request, PromptTokens tokens, List<string> warnings,
        IProgress<GenerationProgress>? progress, CancellationToken cancellationToken)
    {
        var total = Stopwatch.StartNew();
        var loadBefore = LoadTime;
        var onnxBefore = _onnxTime;
        var r = Resolve(request, warnings);
        int latentH = 2 * (r.Height / (_vaeScale * 2)), latentW = 2 * (r.Width / (_vaeScale * 2));

        // Text.
        var stage = Stopwatch.StartNew();
        progress?.Report(new GenerationProgress(GenerationStage.EncodingText, 0, r.Steps, double.NaN));
        var prompt = Encode(tokens.Prompt, r.MaxSequenceLength, "the prompt", warnings);
        bool trueCfg = tokens.Negative is not null && r.TrueCfgScale is > 1;
        var negative = trueCfg ? Encode(tokens.Negative!, r.MaxSequenceLength, "the negative prompt", warnings) : null;
        _textEncoder.Release();
        cancellationToken.ThrowIfCancellationRequested();
        var textTime = stage.Elapsed;

        // Latents and solver.
        var transformer = _transformer.Get();
        int channels = transformer.InChannels / 4;
        int tokensPerImage = latentH / 2 * (latentW / 2);
        float[] x = InitialLatents(request, r, channels, latentH, latentW, out long[]? seeds);
        var scheduler = FlowScheduler.Create(Folder.SchedulerConfigPath, request.Scheduler, r.Steps, tokensPerImage);
        var solver = scheduler.Solver;

        // Denoising.
        stage.Restart();
        var transformerBefore = transformer.RunTime;
        using (var run = transformer.Begin(r.Count, latentH, latentW, prompt, negative, r.TrueCfgScale ?? DefaultTrueCfgScale))
        {
            DenoisingLoop.Preview? preview = request.Stepwise is { } callback
                ? (i, t, latents, velocity) => callback(i, Decode(LatentBatch.PredictedClean(FlowScheduler.Flow, t, latents, velocity), r.Count, channels, latentH, latentW, CancellationToken.None))
                : null;
            DenoisingLoop.Run(run.Predict, solver, x, preview, progress, cancellationToken);
        }

        var denoiseTime = stage.Elapsed;
        _onnxTime += transformer.RunTime - transformerBefore;
        _transformer.Release();

        // Decoding.
        cancellationToken.ThrowIfCancellationRequested();
        stage.Restart();
        progress?.Report(new GenerationProgress(GenerationStage.Decoding, r.Steps, r.Steps, 0));
        var images = Decode(x, r.Count, channels, latentH, latentW, cancellationToken);
        _vae.Release();
        var decodeTime = stage.Elapsed;

        return new GenerationResult
        {
            Images = images,
            FinalLatents = x,
            FinalLatentsShape = [r.Count, tokensPerImage, transformer.InChannels],
            Settings = r with { Scheduler = scheduler.Name, Mu = scheduler.Mu, Times = solver.Times.ToArray() },
            Seeds = seeds,
            Warnings = warnings,
            Timings = new GenerationTimings(total.Elapsed, _onnxTime - onnxBefore, LoadTime - loadBefore, textTime, denoiseTime, decodeTime),
        };
    }

    private TimeSpan LoadTime => _textEncoder.LoadTime + _transformer.LoadTime + _vae.LoadTime + _tokenizerLoadTime;

    /// <summary>
    /// <c>_get_qwen_prompt_embeds</c> and <c>encode_prompt</c> for one prompt: the states of every position (one prompt
    /// has no padding), the first 34 dropped, cut to <paramref name="maxSequenceLength"/>.
    /// </summary>
    private QwenImageTransformer.PromptEmbedding Encode(int[] ids, int maxSequenceLength, string what, List<string> warnings)
    {
        if (ids.Length <= QwenImagePrompt.DropIndex)
        {
            throw new ArgumentException(
                $"{what} gives {ids.Length} template tokens; Qwen-Image drops the first {QwenImagePrompt.DropIndex}, so more are needed.", nameof(ids));
        }

        var encoder = _textEncoder.Get();
        var before = encoder.RunTime;
        var (states, width) = encoder.Encode(ids);
        _onnxTime += encoder.RunTime - before;
        int kept = ids.Length - QwenImagePrompt.DropIndex;
        int length = Math.Min(kept, maxSequenceLength);
        if (kept > maxSequenceLength)
        {
            warnings.Add($"{what} was truncated: the transformer gets {maxSequenceLength} text tokens (max_sequence_length) of {kept}.");
        }

        return new QwenImageTransformer.PromptEmbedding(states.AsSpan(QwenImagePrompt.DropIndex * width, length * width).ToArray(), length);
    }

    private ResolvedGeneration Resolve(GenerationRequest request, List<string> warnings)
    {
        int steps = request.Steps ?? Defaults.Steps;
        if (steps < 1 || steps > 10_000)
        {
            throw new ArgumentException($"the number of steps must be 1 to 10000 (got {steps}).", nameof(request));
        }

        int? latentCount = request.Latents?.Shape.Length > 0 ? request.Latents.Shape[0] : null;
        int count = request.Count ?? latentCount ?? 1;
        if (count < 1 || count > 64)
        {
            throw new ArgumentException($"the number of images must be 1 to 64 (got {count}).", nameof(request));
        }

        int height = request.Height ?? InferSide(request.Latents, fromEnd: 2) ?? Defaults.Height;
        int width = request.Width ?? InferSide(request.Latents, fromEnd: 1) ?? Defaults.Width;
        int multiple = _vaeScale * 2;
        if (height < multiple || width < multiple || height % multiple != 0 || width % multiple != 0 || height > 8192 || width > 8192)
        {
            throw new ArgumentException($"height and width must be positive multiples of {multiple} up to 8192 (got {height} x {width}).", nameof(request));
        }

        if (request.GuidanceScale is { } g && g != 0 && g != 1)
        {
            warnings.Add($"Qwen-Image has no guidance input (guidance_embeds false); guidance {g} is ignored (the true CFG scale with a negative prompt guides it).");
        }

        double trueCfg = request.TrueCfgScale ?? DefaultTrueCfgScale;
        if (!double.IsFinite(trueCfg) || trueCfg < 0)
        {
            throw new ArgumentException($"the true CFG scale must be a non-negative number (got {trueCfg}).", nameof(request));
        }

        if (request.TrueCfgScale is > 1 && request.NegativePrompt is null)
        {
            warnings.Add("true CFG needs a negative prompt; without one it is off (as in diffusers).");
        }
        else if (request.NegativePrompt is not null && trueCfg <= 1)
        {
            warnings.Add("the negative prompt is used only with a true CFG scale above 1; it is ignored.");
        }

        return new ResolvedGeneration
        {
            Model = Folder.Root,
            Prompt = request.Prompt,
            NegativePrompt = request.NegativePrompt,
            Steps = steps,
            GuidanceScale = null,
            TrueCfgScale = request.NegativePrompt is null ? request.TrueCfgScale : trueCfg,
            Height = height,
            Width = width,
            MaxSequenceLength = ResolveSequenceLength(request.MaxSequenceLength),
            Seed = request.Seed,
            Count = count,
            Scheduler = "",
            Times = [],
        };
    }

    /// <summary>The image side from unpacked latents [N, C, h, w] or [N, C, 1, h, w].</summary>
    private int? InferSide(LatentsInput? latents, int fromEnd) =>
        latents is { Shape.Length: 4 or 5 } l ? l.Shape[^fromEnd] * _vaeScale : null;

    private static int ResolveSequenceLength(int? requested)
    {
        int length = requested ?? QwenImagePrompt.DefaultMaxSequenceLength;
        if (length < 1 || length > 1024)
        {
            throw new ArgumentException($"max_sequence_length must be 1 to 1024 (got {length}).", nameof(requested));
        }

        return length;
    }

    private static void Warn(List<string> warnings, TokenizedText t, string what)
    {
        if (t.Truncated)
        {
            warnings.Add($"{what} was truncated: the tokenizer keeps {t.Ids.Length} templated tokens of {t.UntruncatedLength} (tokenizer_max_length {QwenImagePrompt.TokenizerMaxLength}).");
        }
    }

    // diffusers draws [B, 1, C, h, w] noise: per image the same numbers as [C, h, w].
    private static float[] InitialLatents(GenerationRequest request, ResolvedGeneration r, int channels, int h, int w, out long[]? seeds) =>
        LatentBatch.Initial(request.Latents, r.Seed, r.Count, channels, h, w, packed: true, frameAxis: true, r.Height, r.Width, out seeds);

    private GeneratedImages Decode(float[] packed, int count, int channels, int h, int w, CancellationToken cancellationToken)
    {
        var images = LatentBatch.Decode(_vae.Get(), packed, count, channels, h, w, packed: true, out var onnxTime, cancellationToken);
        _onnxTime += onnxTime;
        return images;
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        _textEncoder.Dispose();
        _transformer.Dispose();
        _vae.Dispose();
    }
}
