using System.Diagnostics;
using Stork.Pipelines.Tokenizers;
using Stork.Predictions;
using Stork.Sampling;
using Stork.Schedules;

namespace Stork.Pipelines.Flux;

/// <summary>
/// FLUX.1 schnell and dev exactly as diffusers' <c>FluxPipeline</c>: the CLIP pooled output and the T5 states (padded
/// to <c>max_sequence_length</c>, no mask), packed latents with their positions, sigmas <c>linspace(1, 1/N, N)</c>
/// (shifted dynamically from the image sequence length when the scheduler configuration says so), the timestep fed as
/// sigma, embedded guidance for dev, true classifier-free guidance with a negative prompt, the VAE decode of
/// <c>z / scaling_factor + shift_factor</c>, images clamped to [0, 1].
/// </summary>
public sealed class FluxPipeline : ITextToImagePipeline
{
    /// <summary>diffusers' <c>default_sample_size</c>: the default image side is this times the VAE scale factor.</summary>
    private const int DefaultSampleSize = 128;

    private readonly PipelineOptions _options;
    private readonly ComponentSlot<TextEncoder> _clip;
    private readonly ComponentSlot<TextEncoder> _t5;
    private readonly ComponentSlot<FluxTransformer> _transformer;
    private readonly ComponentSlot<VaeDecoder> _vae;
    private readonly Lazy<ITextTokenizer> _clipTokenizer;
    private readonly Lazy<ITextTokenizer> _t5Tokenizer;
    private readonly bool _guidanceEmbeds;
    private readonly int _vaeScale;

    internal FluxPipeline(ModelFolder folder, PipelineOptions options)
    {
        Folder = folder;
        _options = options;
        var runtime = options.Runtime;
        bool keep = options.KeepLoaded;

        // Read the configurations (cheap) up front so that a broken folder fails before any work.
        var transformerConfig = folder.Config("transformer", "unet");
        _guidanceEmbeds = transformerConfig.Bool("guidance_embeds", false);
        var vaeConfig = folder.Config("vae_decoder", "vae");
        _vaeScale = 1 << (vaeConfig.IntArray("block_out_channels").Length - 1);
        string clipGraph = folder.Graph("text_encoder");
        string t5Graph = folder.Graph("text_encoder_2");
        folder.Graph("transformer", "unet");
        folder.Graph("vae_decoder", "vae");
        string clipTokenizer = folder.ComponentFolder("tokenizer");
        string t5Tokenizer = folder.ComponentFolder("tokenizer_2");
        _ = folder.SchedulerConfigPath;

        _clip = new(() => new TextEncoder("text_encoder", clipGraph, runtime, [Onnx.PortSpec.Of("pooler_output")]), keep);
        _t5 = new(() => new TextEncoder("text_encoder_2", t5Graph, runtime, [Onnx.PortSpec.Of("last_hidden_state")]), keep);
        _transformer = new(() => new FluxTransformer(folder, runtime), keep);
        _vae = new(() => new VaeDecoder(folder, runtime), keep);
        _clipTokenizer = new(() => Timed(() => TokenizerLoader.Load(clipTokenizer)));
        _t5Tokenizer = new(() => Timed(() => TokenizerLoader.Load(t5Tokenizer)));
        var family = _guidanceEmbeds
            ? new GenerationDefaults(28, 3.5, DefaultSampleSize * _vaeScale, DefaultSampleSize * _vaeScale, 512, "model scheduler_config.json")
            : new GenerationDefaults(4, null, DefaultSampleSize * _vaeScale, DefaultSampleSize * _vaeScale, 256, "model scheduler_config.json");
        Defaults = WithFolderDefaults(family, folder.Index, _guidanceEmbeds);
    }

    /// <summary>The key of <c>model_index.json</c> that holds a folder's own defaults (see <see cref="Defaults"/>).</summary>
    public const string FolderDefaultsKey = "_stork_defaults";

    /// <summary>
    /// The family's defaults overridden by the optional object <c>_stork_defaults</c> of <c>model_index.json</c> (diffusers
    /// ignores keys that start with an underscore), for models far from FLUX.1's size, such as
    /// <c>models/fashion-flux</c>. Any subset of: <c>num_inference_steps</c>, <c>height</c>, <c>width</c>,
    /// <c>max_sequence_length</c>, <c>guidance_scale</c> (dev-like models only), <c>negative_prompt</c> and
    /// <c>true_cfg_scale</c> (each the fallback of a request that leaves it null). Example:
    /// <c>"_stork_defaults": {"num_inference_steps": 20, "height": 32, "width": 32, "max_sequence_length": 32,
    /// "negative_prompt": "", "true_cfg_scale": 4.0}</c>.
    /// </summary>
    internal static GenerationDefaults WithFolderDefaults(GenerationDefaults family, JsonConfig index, bool guidanceEmbeds)
    {
        if (index.Section(FolderDefaultsKey) is not { } d)
        {
            return family;
        }

        string[] known = ["num_inference_steps", "height", "width", "max_sequence_length", "guidance_scale", "negative_prompt", "true_cfg_scale"];
        if (d.Keys.FirstOrDefault(k => !known.Contains(k)) is { } unknown)
        {
            throw new InvalidDataException($"'{d.Path}': unknown key '{unknown}' (known: {string.Join(", ", known)}).");
        }

        int steps = d.Int("num_inference_steps", family.Steps);
        int height = d.Int("height", family.Height), width = d.Int("width", family.Width);
        int length = d.Int("max_sequence_length", family.MaxSequenceLength);
        double? guidance = d.NumberOrNull("guidance_scale") ?? family.GuidanceScale;
        double? trueCfg = d.NumberOrNull("true_cfg_scale") ?? family.TrueCfgScale;
        string? negative = d.Has("negative_prompt") ? d.String("negative_prompt") : family.NegativePrompt;
        if (steps is < 1 or > 1000 || height < 1 || width < 1 || length is < 1 or > 512 || trueCfg is < 0 || (!guidanceEmbeds && d.Has("guidance_scale")))
        {
            throw new InvalidDataException(
                $"'{d.Path}': out of range (steps 1-1000, positive height and width, max_sequence_length 1-512, true_cfg_scale >= 0, guidance_scale only for a model with guidance_embeds).");
        }

        return family with
        {
            Steps = steps,
            Height = height,
            Width = width,
            MaxSequenceLength = length,
            GuidanceScale = guidance,
            NegativePrompt = negative,
            TrueCfgScale = trueCfg,
        };
    }

    /// <inheritdoc />
    public ModelFolder Folder { get; }

    /// <summary>
    /// dev (guidance embedded): 28 steps, guidance 3.5, T5 length 512; schnell: 4 steps, no guidance, T5 length 256;
    /// both 1024 x 1024 with the real VAE, the folder's scheduler configuration (diffusers' defaults and mflux's);
    /// then the folder's own <c>_stork_defaults</c> in <c>model_index.json</c>, if any (<see cref="WithFolderDefaults"/>).
    /// </summary>
    public GenerationDefaults Defaults { get; }

    /// <inheritdoc />
    public IReadOnlyDictionary<string, TokenizedText> Tokenize(string prompt, int? maxSequenceLength = null)
    {
        int length = ResolveSequenceLength(maxSequenceLength);
        return new Dictionary<string, TokenizedText>
        {
            ["tokenizer"] = _clipTokenizer.Value.EncodePadded(prompt, _clipTokenizer.Value.ModelMaxLength ?? 77),
            ["tokenizer_2"] = _t5Tokenizer.Value.EncodePadded(prompt, length),
        };
    }

    /// <inheritdoc />
    public GenerationResult Generate(GenerationRequest request, IProgress<GenerationProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        request = WithDefaultGuidance(request);
        var clock = Stopwatch.StartNew();
        var loadBefore = LoadTime;
        var warnings = new List<string>();
        int maxSequence = ResolveSequenceLength(request.MaxSequenceLength);
        var clip = _clipTokenizer.Value.EncodePadded(request.Prompt, _clipTokenizer.Value.ModelMaxLength ?? 77);
        var t5 = _t5Tokenizer.Value.EncodePadded(request.Prompt, maxSequence);
        TokenizedText? negClip = null, negT5 = null;
        bool trueCfg = request.NegativePrompt is not null && request.TrueCfgScale is > 1;
        if (trueCfg)
        {
            negClip = _clipTokenizer.Value.EncodePadded(request.NegativePrompt!, _clipTokenizer.Value.ModelMaxLength ?? 77);
            negT5 = _t5Tokenizer.Value.EncodePadded(request.NegativePrompt!, maxSequence);
        }

        Warn(warnings, clip, "tokenizer (CLIP)", "the prompt");
        Warn(warnings, t5, "tokenizer_2 (T5)", "the prompt");
        if (negClip is not null)
        {
            Warn(warnings, negClip, "tokenizer (CLIP)", "the negative prompt");
            Warn(warnings, negT5!, "tokenizer_2 (T5)", "the negative prompt");
        }

        var tokenizing = clock.Elapsed;
        var tokenizerLoading = LoadTime - loadBefore;
        var result = GenerateFromTokens(request, new PromptTokens(clip.Ids, t5.Ids, negClip?.Ids, negT5?.Ids), warnings, progress, cancellationToken);
        var t = result.Timings;
        return result with
        {
            Timings = t with { Total = t.Total + tokenizing, Loading = t.Loading + tokenizerLoading, TextEncoding = t.TextEncoding + tokenizing },
        };
    }

    /// <summary>
    /// The negative prompt and the true CFG scale of a request, each falling back to the defaults' (a folder's
    /// <c>_stork_defaults</c>; FLUX.1's own defaults have neither): <c>TrueCfgScale = 1</c> turns a default guidance off.
    /// </summary>
    internal GenerationRequest WithDefaultGuidance(GenerationRequest request)
    {
        double? scale = request.TrueCfgScale ?? Defaults.TrueCfgScale;
        return request with { TrueCfgScale = scale, NegativePrompt = request.NegativePrompt ?? (scale > 1 ? Defaults.NegativePrompt : null) };
    }

    /// <summary>The token ids of a run: CLIP and T5, of the prompt and (true CFG) of the negative prompt.</summary>
    internal sealed record PromptTokens(int[] Clip, int[] T5, int[]? NegativeClip, int[]? NegativeT5);

    internal GenerationResult GenerateFromTokens(GenerationRequest request, PromptTokens tokens, List<string> warnings,
        IProgress<GenerationProgress>? progress, CancellationToken cancellationToken)
    {
        var total = Stopwatch.StartNew();
        var loadBefore = LoadTime;
        var onnxBefore = OnnxTime;
        var r = Resolve(request, warnings);
        int latentH = 2 * (r.Height / (_vaeScale * 2)), latentW = 2 * (r.Width / (_vaeScale * 2));

        // Text.
        var stage = Stopwatch.StartNew();
        progress?.Report(new GenerationProgress(GenerationStage.EncodingText, 0, r.Steps, double.NaN));
        var prompt = Encode(tokens.Clip, tokens.T5);
        FluxTransformer.PromptEmbedding? negative = null;
        bool trueCfg = tokens.NegativeClip is not null && request.TrueCfgScale is > 1;
        if (trueCfg)
        {
            negative = Encode(tokens.NegativeClip!, tokens.NegativeT5!);
        }

        _clip.Release();
        _t5.Release();
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
        using (var run = transformer.Begin(r.Count, latentH, latentW, prompt, negative, _guidanceEmbeds ? r.GuidanceScale : null, r.TrueCfgScale ?? 1.0))
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
            Timings = new GenerationTimings(total.Elapsed, OnnxTime - onnxBefore, LoadTime - loadBefore, textTime, denoiseTime, decodeTime),
        };
    }

    private TimeSpan LoadTime => _clip.LoadTime + _t5.LoadTime + _transformer.LoadTime + _vae.LoadTime + _tokenizerLoadTime;

    private TimeSpan _tokenizerLoadTime;

    private T Timed<T>(Func<T> load)
    {
        var clock = Stopwatch.StartNew();
        var value = load();
        _tokenizerLoadTime += clock.Elapsed;
        return value;
    }

    private TimeSpan OnnxTime => _onnxTime;

    private TimeSpan _onnxTime;

    private FluxTransformer.PromptEmbedding Encode(int[] clipIds, int[] t5Ids)
    {
        var clip = _clip.Get();
        var before = clip.RunTime;
        var pooled = clip.Encode(clipIds, "pooler_output")[0];
        _onnxTime += clip.RunTime - before;
        if (pooled.Shape.Length != 2 || pooled.Shape[0] != 1)
        {
            throw new InvalidDataException($"text_encoder: pooler_output has shape [{string.Join(", ", pooled.Shape)}], expected [1, P].");
        }

        var t5 = _t5.Get();
        before = t5.RunTime;
        var states = t5.Encode(t5Ids, "last_hidden_state")[0];
        _onnxTime += t5.RunTime - before;
        if (states.Shape.Length != 3 || states.Shape[0] != 1 || states.Shape[1] != t5Ids.Length)
        {
            throw new InvalidDataException($"text_encoder_2: last_hidden_state has shape [{string.Join(", ", states.Shape)}], expected [1, {t5Ids.Length}, D].");
        }

        return new FluxTransformer.PromptEmbedding(states.Values, t5Ids.Length, pooled.Values);
    }

    private ResolvedGeneration Resolve(GenerationRequest request, List<string> warnings)
    {
        int steps = request.Steps ?? Defaults.Steps;
        if (steps < 1 || steps > 10_000)
        {
            throw new ArgumentException($"the number of steps must be 1 to 10000 (got {steps}).");
        }

        int? latentCount = request.Latents?.Shape.Length > 0 ? request.Latents.Shape[0] : null;
        int count = request.Count ?? latentCount ?? 1;
        if (count < 1 || count > 64)
        {
            throw new ArgumentException($"the number of images must be 1 to 64 (got {count}).");
        }

        int height = request.Height ?? InferSide(request.Latents, 2) ?? Defaults.Height;
        int width = request.Width ?? InferSide(request.Latents, 3) ?? Defaults.Width;
        int multiple = _vaeScale * 2;
        if (height < multiple || width < multiple || height % multiple != 0 || width % multiple != 0 || height > 8192 || width > 8192)
        {
            throw new ArgumentException($"height and width must be positive multiples of {multiple} up to 8192 (got {height} x {width}).");
        }

        double? guidance = request.GuidanceScale;
        if (guidance is { } gs && !double.IsFinite(gs))
        {
            throw new ArgumentException($"the guidance scale must be finite (got {gs}).");
        }

        if (_guidanceEmbeds)
        {
            guidance ??= Defaults.GuidanceScale;
        }
        else if (guidance is { } g && g != 0)
        {
            warnings.Add($"this model (FLUX.1-schnell-like: guidance_embeds false) has no guidance input; guidance {g} is ignored (use a true CFG scale above 1 with a negative prompt for classifier-free guidance).");
            guidance = null;
        }

        if (request.TrueCfgScale is { } tc && (!double.IsFinite(tc) || tc < 0))
        {
            throw new ArgumentException($"the true CFG scale must be a non-negative number (got {tc}).");
        }

        if (request.TrueCfgScale is > 1 && request.NegativePrompt is null)
        {
            warnings.Add("true CFG needs a negative prompt; without one it is off (as in diffusers).");
        }
        else if (request.NegativePrompt is not null && request.TrueCfgScale is not > 1)
        {
            warnings.Add("the negative prompt is used only with a true CFG scale above 1; it is ignored.");
        }

        return new ResolvedGeneration
        {
            Model = Folder.Root,
            Prompt = request.Prompt,
            NegativePrompt = request.NegativePrompt,
            Steps = steps,
            GuidanceScale = guidance,
            TrueCfgScale = request.TrueCfgScale,
            Height = height,
            Width = width,
            MaxSequenceLength = ResolveSequenceLength(request.MaxSequenceLength),
            Seed = request.Seed,
            Count = count,
            Scheduler = "",
            Times = [],
        };
    }

    private int? InferSide(LatentsInput? latents, int axis) =>
        latents is { Shape.Length: 4 } l ? l.Shape[axis] * _vaeScale : null;

    private int ResolveSequenceLength(int? requested)
    {
        int length = requested ?? Defaults.MaxSequenceLength;
        if (length < 1 || length > 512)
        {
            throw new ArgumentException($"max_sequence_length must be 1 to 512 (got {length}).");
        }

        return length;
    }

    private static void Warn(List<string> warnings, TokenizedText t, string tokenizer, string what)
    {
        if (t.Truncated)
        {
            warnings.Add($"{what} was truncated: {tokenizer} keeps {t.Ids.Length} tokens of {t.UntruncatedLength}.");
        }
    }

    private static float[] InitialLatents(GenerationRequest request, ResolvedGeneration r, int channels, int h, int w, out long[]? seeds) =>
        LatentBatch.Initial(request.Latents, r.Seed, r.Count, channels, h, w, packed: true, frameAxis: false, r.Height, r.Width, out seeds);

    private GeneratedImages Decode(float[] packed, int count, int channels, int h, int w, CancellationToken cancellationToken)
    {
        var images = LatentBatch.Decode(_vae.Get(), packed, count, channels, h, w, packed: true, out var onnxTime, cancellationToken);
        _onnxTime += onnxTime;
        return images;
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        _clip.Dispose();
        _t5.Dispose();
        _transformer.Dispose();
        _vae.Dispose();
    }
}
