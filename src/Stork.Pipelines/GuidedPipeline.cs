using System.Diagnostics;
using Stork.Pipelines.Tokenizers;
using Stork.Predictions;
using Stork.Sampling;
using Stork.Solvers;

namespace Stork.Pipelines;

/// <summary>
/// What SD3, SD1.5/2.x and SDXL share, as diffusers' pipelines do it: latents <c>[Count, C, h, w]</c> given or seeded per
/// image (seed + k) and multiplied by the scheduler's <c>init_noise_sigma</c>, classifier-free guidance batched
/// <c>[negative, positive]</c> when guidance_scale is above 1, the solver loop with a stepwise preview, and the VAE
/// decode of <c>z / scaling_factor + shift_factor</c>. Families supply the text encoding and the scheduler.
/// </summary>
public abstract class GuidedPipeline : ITextToImagePipeline
{
    private readonly ComponentSlot<DenoiserNetwork> _denoiser;
    private readonly ComponentSlot<VaeDecoder> _vae;
    private TimeSpan _tokenizerLoadTime;
    private TimeSpan _onnxTime;

    private protected GuidedPipeline(ModelFolder folder, PipelineOptions options, Func<DenoiserNetwork> denoiser)
    {
        Folder = folder;
        Options = options;
        var vaeConfig = folder.Config("vae_decoder", "vae");
        VaeScale = 1 << (vaeConfig.IntArray("block_out_channels").Length - 1);
        folder.Graph("vae_decoder", "vae");
        _ = folder.SchedulerConfigPath;
        _denoiser = new(denoiser, options.KeepLoaded);
        _vae = new(() => new VaeDecoder(folder, options.Runtime), options.KeepLoaded);
    }

    /// <inheritdoc/>
    public ModelFolder Folder { get; }

    /// <inheritdoc/>
    public abstract GenerationDefaults Defaults { get; }

    private protected PipelineOptions Options { get; }

    /// <summary>Image pixels per latent pixel (2^(len(block_out_channels) - 1)).</summary>
    private protected int VaeScale { get; }

    /// <summary>Height and width must be multiples of this (the VAE factor, times the patch size for SD3).</summary>
    private protected abstract int SizeMultiple { get; }

    /// <summary>Latent channels of the denoiser.</summary>
    private protected abstract int LatentChannels { get; }

    private protected abstract string FamilyName { get; }

    /// <inheritdoc/>
    public abstract IReadOnlyDictionary<string, TokenizedText> Tokenize(string prompt, int? maxSequenceLength = null);

    /// <summary>Encodes the prompts (and with guidance the negative prompts) into the denoiser's conditioning inputs, then releases the encoders.</summary>
    private protected abstract IReadOnlyList<GuidedDenoiser.Condition> EncodePrompts(GenerationRequest request, ResolvedGeneration r, bool guided, List<string> warnings);

    /// <summary>The solver for the run.</summary>
    private protected abstract DiscreteScheduler.Resolved CreateScheduler(SchedulerChoice? choice, ResolvedGeneration r, int latentHeight, int latentWidth);

    /// <summary>The T5 length of the run (SD3), or the CLIP length.</summary>
    private protected virtual int ResolveSequenceLength(int? requested, List<string> warnings)
    {
        if (requested is not null)
        {
            warnings.Add($"this model has no T5 encoder; max_sequence_length {requested} is ignored (CLIP takes 77 tokens).");
        }

        return 77;
    }

    private protected TimeSpan OnnxTime
    {
        get => _onnxTime;
        set => _onnxTime = value;
    }

    private protected virtual TimeSpan EncoderLoadTime => TimeSpan.Zero;

    private TimeSpan LoadTime => _denoiser.LoadTime + _vae.LoadTime + EncoderLoadTime + _tokenizerLoadTime;

    /// <summary>Loads a tokenizer, its time counted as loading.</summary>
    private protected T Timed<T>(Func<T> load)
    {
        var clock = Stopwatch.StartNew();
        var value = load();
        _tokenizerLoadTime += clock.Elapsed;
        return value;
    }

    /// <summary>Adds a warning when a prompt was cut to the tokenizer's length.</summary>
    private protected static void Warn(List<string> warnings, TokenizedText t, string tokenizer, string what)
    {
        if (t.Truncated)
        {
            warnings.Add($"{what} was truncated: {tokenizer} keeps {t.Ids.Length} tokens of {t.UntruncatedLength}.");
        }
    }

    /// <inheritdoc/>
    public GenerationResult Generate(GenerationRequest request, IProgress<GenerationProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        var total = Stopwatch.StartNew();
        var loadBefore = LoadTime;
        var onnxBefore = OnnxTime;
        var warnings = new List<string>();
        var r = Resolve(request, warnings);
        int h = r.Height / VaeScale, w = r.Width / VaeScale;
        bool guided = r.GuidanceScale is > 1;

        // Text.
        var stage = Stopwatch.StartNew();
        progress?.Report(new GenerationProgress(GenerationStage.EncodingText, 0, r.Steps, double.NaN));
        var conditions = EncodePrompts(request, r, guided, warnings);
        cancellationToken.ThrowIfCancellationRequested();
        var textTime = stage.Elapsed;

        // Latents and solver.
        var scheduler = CreateScheduler(request.Scheduler, r, h, w);
        var solver = scheduler.Solver;
        int channels = LatentChannels;
        float[] x = InitialLatents(request, r, channels, h, w, out long[]? seeds);
        if (scheduler.InitialNoiseScale != 1.0)
        {
            float s = (float)scheduler.InitialNoiseScale;
            for (int i = 0; i < x.Length; i++)
            {
                x[i] *= s;
            }
        }

        // Denoising.
        stage.Restart();
        var net = _denoiser.Get();
        var netBefore = net.RunTime;
        using (var denoiser = new GuidedDenoiser(net.Graph, "sample", "out_sample", r.Count, [channels, h, w], conditions, r.GuidanceScale ?? 1.0, scheduler.TimestepScale))
        {
            DenoisingLoop.Preview? preview = request.Stepwise is { } callback
                ? (i, t, latents, prediction) => callback(i, Decode(LatentBatch.PredictedClean(scheduler.Model, t, latents, prediction), r.Count, channels, h, w, CancellationToken.None))
                : null;
            DenoisingLoop.Run(denoiser.Predict, solver, x, preview, progress, cancellationToken);
        }

        var denoiseTime = stage.Elapsed;
        OnnxTime += net.RunTime - netBefore;
        _denoiser.Release();

        // Decoding.
        cancellationToken.ThrowIfCancellationRequested();
        stage.Restart();
        progress?.Report(new GenerationProgress(GenerationStage.Decoding, r.Steps, r.Steps, 0));
        var images = Decode(x, r.Count, channels, h, w, cancellationToken);
        _vae.Release();
        var decodeTime = stage.Elapsed;
        return new GenerationResult
        {
            Images = images,
            FinalLatents = x,
            FinalLatentsShape = [r.Count, channels, h, w],
            Settings = r with { Scheduler = scheduler.Name, Times = solver.Times.Select(t => t * scheduler.TimestepScale).ToArray() },
            Seeds = seeds,
            Warnings = warnings,
            Timings = new GenerationTimings(total.Elapsed, OnnxTime - onnxBefore, LoadTime - loadBefore, textTime, denoiseTime, decodeTime),
        };
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
        int m = SizeMultiple;
        if (height < m || width < m || height % m != 0 || width % m != 0 || height > 8192 || width > 8192)
        {
            throw new ArgumentException($"{FamilyName}: height and width must be positive multiples of {m} up to 8192 (got {height} x {width}).");
        }

        double guidance = request.GuidanceScale ?? Defaults.GuidanceScale ?? 1.0;
        if (!double.IsFinite(guidance) || guidance < 0)
        {
            throw new ArgumentException($"the guidance scale must be a non-negative number (got {guidance}).");
        }

        if (request.TrueCfgScale is { } tc)
        {
            warnings.Add($"{FamilyName} uses classifier-free guidance through the guidance scale; true_cfg_scale {tc} is ignored.");
        }

        if (request.NegativePrompt is not null && guidance <= 1)
        {
            warnings.Add("the negative prompt is used only with a guidance scale above 1; it is ignored.");
        }

        return new ResolvedGeneration
        {
            Model = Folder.Root,
            Prompt = request.Prompt,
            NegativePrompt = request.NegativePrompt,
            Steps = steps,
            GuidanceScale = guidance,
            Height = height,
            Width = width,
            MaxSequenceLength = ResolveSequenceLength(request.MaxSequenceLength, warnings),
            Seed = request.Seed,
            Count = count,
            Scheduler = "",
            Times = [],
        };
    }

    private int? InferSide(LatentsInput? latents, int axis) =>
        latents is { Shape.Length: 4 } l ? l.Shape[axis] * VaeScale : null;

    private static float[] InitialLatents(GenerationRequest request, ResolvedGeneration r, int channels, int h, int w, out long[]? seeds) =>
        LatentBatch.Initial(request.Latents, r.Seed, r.Count, channels, h, w, packed: false, frameAxis: false, r.Height, r.Width, out seeds);

    private GeneratedImages Decode(float[] latents, int count, int channels, int h, int w, CancellationToken cancellationToken)
    {
        var images = LatentBatch.Decode(_vae.Get(), latents, count, channels, h, w, packed: false, out var onnxTime, cancellationToken);
        OnnxTime += onnxTime;
        return images;
    }

    /// <summary>Releases the text encoders (families override).</summary>
    private protected virtual void DisposeEncoders()
    {
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        DisposeEncoders();
        _denoiser.Dispose();
        _vae.Dispose();
        GC.SuppressFinalize(this);
    }
}
