using System.Diagnostics;
using Stork.Pipelines.Denoising;
using Stork.Pipelines.ImageInputs;
using Stork.Pipelines.Tokenizers;
using Stork.Sampling;

namespace Stork.Pipelines;

/// <summary>
/// The one text-to-image pipeline, over a <see cref="Family"/> looked up by the folder's <c>_class_name</c>
/// (<see cref="FamilyTable"/>). <see cref="Generate"/> reads top to bottom as diffusers' <c>FluxPipeline.__call__</c>:
/// check inputs, encode the prompt, prepare latents, prepare timesteps (the solver), the denoising loop, decode.
/// </summary>
internal sealed class TextToImagePipeline : ITextToImagePipeline
{
    private readonly Family _family;
    private readonly Lazy<IReadOnlyDictionary<string, string>> _modelHashes;

    internal TextToImagePipeline(Family family)
    {
        _family = family;
        Defaults = FolderDefaults.Apply(family.Defaults, family.Folder.Index, family);
        TunedGrids = FolderDefaults.TunedGrids(family.Folder.Index, family.Folder.Root);
        _modelHashes = new(() => ModelHashes.Of(family.Folder.Root));
    }

    /// <summary>The Stork.NET version with its commit (the informational version of this assembly).</summary>
    internal static string StorkVersion { get; } =
        typeof(TextToImagePipeline).Assembly.GetCustomAttributes(typeof(System.Reflection.AssemblyInformationalVersionAttribute), false)
            .OfType<System.Reflection.AssemblyInformationalVersionAttribute>().FirstOrDefault()?.InformationalVersion ?? "unknown";

    /// <summary>The ONNX Runtime version in use.</summary>
    internal static string OnnxRuntimeVersion => Microsoft.ML.OnnxRuntime.OrtEnv.Instance().GetVersionString();

    /// <inheritdoc/>
    public ModelFolder Folder => _family.Folder;

    /// <summary>The family's defaults, then the folder's own <c>_stork_defaults</c> (<see cref="FolderDefaults"/>).</summary>
    public GenerationDefaults Defaults { get; }

    /// <summary>The folder's tuned grids (<c>_stork_defaults.tuned_grids</c>, <see cref="FolderDefaults.TunedGrids"/>).</summary>
    internal IReadOnlyList<Grids.TunedGrid> TunedGrids { get; }

    /// <summary>The family (tests and the worked example in CONTRIBUTING read its data).</summary>
    internal Family Family => _family;

    /// <inheritdoc/>
    public IReadOnlyDictionary<string, TokenizedText> Tokenize(string prompt, int? maxSequenceLength = null)
    {
        ArgumentNullException.ThrowIfNull(prompt);
        return _family.Tokenize(prompt, ResolveSequenceLength(maxSequenceLength, []));
    }

    /// <inheritdoc/>
    public GenerationResult Generate(GenerationRequest request, IProgress<GenerationProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(request.Prompt, nameof(request.Prompt));
        var clock = Stopwatch.StartNew();
        var warnings = new List<string>();
        var (r, guidance) = CheckInputs(request, warnings);
        var positive = Tokens(r.Prompt, r.MaxSequenceLength, "the prompt", warnings);
        var negative = NegativePrompt(r, guidance) is { } neg ? Tokens(neg, r.MaxSequenceLength, "the negative prompt", warnings) : null;
        var result = Run(request, r, guidance, positive, negative, warnings, progress, cancellationToken);
        return result with { Timings = result.Timings with { Total = clock.Elapsed } };
    }

    /// <inheritdoc/>
    public ResolvedGeneration Check(GenerationRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(request.Prompt, nameof(request.Prompt));
        return Resolve(request).Settings;
    }

    /// <summary>One image's final latent shape at <paramref name="r"/>'s size (<see cref="GenerationResult.FinalLatentsShape"/> without the count).</summary>
    internal int[] LatentShape(ResolvedGeneration r)
    {
        int h = r.Height / _family.VaeScale, w = r.Width / _family.VaeScale;
        return _family.Layout != LatentLayout.Unpacked ? [h / 2 * (w / 2), _family.LatentChannels * 4] : [_family.LatentChannels, h, w];
    }

    /// <summary>The request's settings, checked as <see cref="Generate"/> checks them, and the solver it would run (the grid tuner reads it).</summary>
    internal (ResolvedGeneration Settings, PipelineScheduler Scheduler) Resolve(GenerationRequest request)
    {
        var (r, _) = CheckInputs(request, []);
        int imageTokens = r.Height / _family.VaeScale / _family.PatchSize * (r.Width / _family.VaeScale / _family.PatchSize);
        return (r, PipelineScheduler.Resolve(Folder.SchedulerConfigPath, request.Scheduler, r.Steps, _family.Scheduler, imageTokens, TunedGrids));
    }

    /// <summary>
    /// <see cref="Generate"/> from token ids (keyed as <see cref="Tokenize"/>) in place of the prompts' text: the golden
    /// tests feed the ids diffusers fed its encoders.
    /// </summary>
    internal GenerationResult GenerateFromTokens(GenerationRequest request, IReadOnlyDictionary<string, int[]> positive,
        IReadOnlyDictionary<string, int[]>? negative, IProgress<GenerationProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        var warnings = new List<string>();
        var (r, guidance) = CheckInputs(request, warnings);
        return Run(request, r, guidance, positive, guidance == GuidanceKind.None ? null : negative, warnings, progress, cancellationToken);
    }

    private GenerationResult Run(GenerationRequest request, ResolvedGeneration r, GuidanceKind guidance, IReadOnlyDictionary<string, int[]> positive,
        IReadOnlyDictionary<string, int[]>? negative, List<string> warnings, IProgress<GenerationProgress>? progress, CancellationToken cancellationToken)
    {
        var family = _family;
        var total = Stopwatch.StartNew();
        int reported = 0;
        void Flush()
        {
            for (; reported < warnings.Count; reported++)
            {
                request.OnWarning?.Invoke(warnings[reported]);
            }
        }

        // The checks' and the tokenizers' warnings (a truncated prompt) before any model loads; a loading stage before each component loads.
        Flush();
        var tracked = progress is null ? null : new StageProgress(progress, r.Steps);
        family.Loading = tracked is null ? null : tracked.Loading;
        try
        {
            return RunStages(request, r, guidance, positive, negative, warnings, tracked, Flush, total, cancellationToken);
        }
        finally
        {
            family.Loading = null;
        }
    }

    // Progress that reports a loading stage before each component load, then the stage the run was in again (within
    // denoising, a stepwise preview's decoder: the next step's report, so that no step is reported twice).
    private sealed class StageProgress(IProgress<GenerationProgress> inner, int steps) : IProgress<GenerationProgress>
    {
        private GenerationProgress _last = new(GenerationStage.EncodingText, 0, steps, 0);

        public void Report(GenerationProgress value)
        {
            _last = value;
            inner.Report(value);
        }

        public void Loading(bool starting)
        {
            if (starting)
            {
                inner.Report(new GenerationProgress(GenerationStage.Loading, 0, steps, 0));
            }
            else if (_last.Stage != GenerationStage.Denoising)
            {
                inner.Report(_last);
            }
        }
    }

    private GenerationResult RunStages(GenerationRequest request, ResolvedGeneration r, GuidanceKind guidance, IReadOnlyDictionary<string, int[]> positive,
        IReadOnlyDictionary<string, int[]>? negative, List<string> warnings, IProgress<GenerationProgress>? progress, Action flush, Stopwatch total,
        CancellationToken cancellationToken)
    {
        var family = _family;
        var loadBefore = family.LoadTime;
        int loadsBefore = family.Loads.Count;
        var onnxBefore = family.OnnxTime;
        int h = r.Height / family.VaeScale, w = r.Width / family.VaeScale;
        int channels = family.LatentChannels;

        // 2. Encode the prompt (and, guided, the negative prompt), then release the text encoders.
        var stage = Stopwatch.StartNew();
        progress?.Report(new GenerationProgress(GenerationStage.EncodingText, 0, r.Steps, 0));
        var conditions = new List<IReadOnlyList<DenoiserInput>> { family.Encode(positive, r, "the prompt", warnings) };
        if (guidance != GuidanceKind.None)
        {
            conditions.Add(negative is not null ? family.Encode(negative, r, "the negative prompt", warnings) : family.ZeroNegative(conditions[0]));
        }

        family.ReleaseEncoders();
        flush();
        cancellationToken.ThrowIfCancellationRequested();
        var textTime = stage.Elapsed;

        // 3. Prepare timesteps: the solver on the family's grid.
        int imageTokens = h / family.PatchSize * (w / family.PatchSize);
        var scheduler = PipelineScheduler.Resolve(Folder.SchedulerConfigPath, request.Scheduler, r.Steps, family.Scheduler, imageTokens, TunedGrids);
        var solver = scheduler.Solver;

        // 4. Prepare latents: given, or the noise of seed + k for image k, times the scheduler's initial noise scale. With
        // image inputs the given or seeded latents are the noise, mixed with the encoded image by the scheduler's rule at
        // the strength's first step (ImageConditioning), and the solver starts there.
        bool packed = family.Layout != LatentLayout.Unpacked;
        float[] x = LatentBatch.Initial(request.Latents, r.Seed, r.Count, channels, h, w, packed, family.Layout == LatentLayout.PackedFrame,
            r.Height, r.Width, out long[]? seeds);
        var task = ImageTasks.Resolve(family, ImageInputs(request));
        ImageConditioning? image = null;
        if (task.Task != ImageTask.None)
        {
            image = PrepareImage(request, task, r, scheduler, x);
            solver = image.Solver;
            x = image.Initial;
        }
        else if (scheduler.InitialNoiseScale != 1.0)
        {
            float s = (float)scheduler.InitialNoiseScale;
            for (int i = 0; i < x.Length; i++)
            {
                x[i] *= s;
            }
        }

        // 5. Denoising loop: Sampler.Run over the guided denoiser; after each evaluation a stepwise preview, after each
        // step a finite check and progress.
        stage.Restart();
        var graph = family.Denoiser.Get();
        progress?.Report(new GenerationProgress(GenerationStage.Denoising, 0, solver.Times.Count, solver.Times[0]));
        int[] sampleShape = packed ? [h / 2 * (w / 2), channels * 4] : [channels, h, w];
        double scale = (guidance == GuidanceKind.BatchedCfg ? r.GuidanceScale : r.TrueCfgScale) ?? 1.0;
        var runInputs = family.RunInputs(r, h, w);
        if (image?.ExtraImageIds is { } extraIds)
        {
            // Kontext: the reference image's positions follow the noise tokens' (DenoiserRun appends its tokens).
            runInputs = [.. runInputs.Select(i => i.Name == "img_ids" && i.Ids is { } ids ? DenoiserInput.Positions("img_ids", [.. ids, .. extraIds]) : i)];
        }

        StepCallback stepped = image is { Blends: true } ? (i, t, sample, output) =>
        {
            image.Blend(i, sample);
            FiniteCheck(i, t, sample, output);
        }
        : FiniteCheck;
        using (var denoiser = new DenoiserRun(graph.Graph, graph.Sample, graph.Output, scheduler.Model, r.Count, sampleShape,
            runInputs, conditions, guidance, scale, scheduler.TimestepScale, image?.Extension))
        {
            StepCallback? preview = request.Stepwise is { } stepwise
                ? (i, t, latents, output) => stepwise(i, Decode(LatentBatch.PredictedClean(scheduler.Model, t, latents, output), r.Count, channels, h, w, CancellationToken.None))
                : null;
            Sampler.Run(denoiser, solver, x, progress is null ? null : new DenoisingProgress(progress), cancellationToken, preview, stepped);
        }

        var denoiseTime = stage.Elapsed;
        family.Denoiser.Release();

        // 6. Decode.
        cancellationToken.ThrowIfCancellationRequested();
        stage.Restart();
        progress?.Report(new GenerationProgress(GenerationStage.Decoding, r.Steps, r.Steps, 0));
        var images = Decode(x, r.Count, channels, h, w, cancellationToken);
        family.Decoder.Release();
        var decodeTime = stage.Elapsed;
        flush();

        return new GenerationResult
        {
            Images = images,
            FinalLatents = x,
            FinalLatentsShape = [r.Count, .. LatentShape(r)],
            Settings = r with
            {
                Scheduler = scheduler.Name,
                Mu = scheduler.Mu,
                Times = solver.Times.Select(t => t * scheduler.TimestepScale).ToArray(),
                TimesName = family.Scheduler == SchedulerKind.FlowPipelineSigmas ? "sigmas" : "timesteps",
                Solver = scheduler.SolverName,
                SolverOptions = scheduler.ResolvedOptions(r.Steps),
                SchedulerRequest = request.Scheduler,
                ModelHashes = _modelHashes.Value,
                StorkVersion = StorkVersion,
                OnnxRuntimeVersion = OnnxRuntimeVersion,
                Pipeline = task.Task == ImageTask.None ? Folder.PipelineClass : task.PipelineClass,
                Strength = task.Strength,
                StepsRun = image?.StepsRun,
                Inputs = InputHashes(request),
            },
            Seeds = seeds,
            Warnings = warnings,
            Timings = new GenerationTimings(total.Elapsed, family.OnnxTime - onnxBefore, family.LoadTime - loadBefore, textTime, denoiseTime, decodeTime)
            {
                Loads = family.Loads.Skip(loadsBefore).ToList(),
            },
        };
    }

    private static ImageInputSet ImageInputs(GenerationRequest request) => new(request.Image, request.Mask, request.ControlImage, request.Strength);

    /// <summary>The image inputs' part of preparing latents: encode, noise by the scheduler's rule, start the solver.</summary>
    private ImageConditioning PrepareImage(GenerationRequest request, ImageTasks.Resolved task, ResolvedGeneration r, PipelineScheduler scheduler, float[] noise)
    {
        var family = _family;
        var inputs = ImageInputs(request) with { Strength = task.Strength };
        if (task.Task == ImageTask.Kontext)
        {
            var (_, _, ih, iw) = KontextSize.Resolve(request.Image!.Height, request.Image.Width, request.Height, request.Width, Defaults.Height, Defaults.Width,
                family.SizeMultiple);
            if (ih != request.Image.Height || iw != request.Image.Width)
            {
                inputs = inputs with { Image = ImageProcessor.Resize(request.Image, ih, iw) };
            }
        }

        using var encoder = new VaeEncoder(Folder, family.Runtime, frameAxis: family.Layout == LatentLayout.PackedFrame);
        if (encoder.LatentChannels != family.LatentChannels || encoder.ScaleFactor != family.VaeScale)
        {
            throw new InvalidDataException(
                $"vae_encoder: {encoder.LatentChannels} latent channels at scale {encoder.ScaleFactor}; the denoiser takes {family.LatentChannels} at scale {family.VaeScale}.");
        }

        var schedule = scheduler.Model.Schedule;
        var traits = new ImageConditioning.FamilyTraits(family.Layout != LatentLayout.Unpacked, family.LatentChannels, ImageTasks.Rounding(family),
            family.Scheduler != SchedulerKind.DiscreteVp, schedule.Alpha, schedule.Sigma, scheduler.InitialNoiseScale);
        return ImageConditioning.Prepare(task.Task, inputs, encoder, traits, r.Height, r.Width, r.Count, noise, scheduler.Solver, r.Steps);
    }

    /// <summary>The image inputs' hashes by role, or null without any.</summary>
    private static Dictionary<string, string>? InputHashes(GenerationRequest request)
    {
        var hashes = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (role, raster) in new[] { ("image", request.Image), ("mask", request.Mask), ("control_image", request.ControlImage) })
        {
            if (raster is not null)
            {
                byte[] header = System.Text.Encoding.ASCII.GetBytes($"{raster.Width} x {raster.Height}\n");
                using var sha = System.Security.Cryptography.IncrementalHash.CreateHash(System.Security.Cryptography.HashAlgorithmName.SHA256);
                sha.AppendData(header);
                sha.AppendData(raster.Pixels);
                hashes[role] = "sha256:" + Convert.ToHexStringLower(sha.GetHashAndReset());
            }
        }

        if (request.Latents is { } latents)
        {
            // Given latents (or an image run's noise): sha256 of "[shape]\n" and the float32 values, little-endian.
            using var sha = System.Security.Cryptography.IncrementalHash.CreateHash(System.Security.Cryptography.HashAlgorithmName.SHA256);
            sha.AppendData(System.Text.Encoding.ASCII.GetBytes($"[{string.Join(", ", latents.Shape)}]\n"));
            sha.AppendData(System.Runtime.InteropServices.MemoryMarshal.AsBytes(latents.Values.AsSpan()));
            hashes["latents"] = "sha256:" + Convert.ToHexStringLower(sha.GetHashAndReset());
        }

        return hashes.Count == 0 ? null : hashes;
    }

    private GeneratedImages Decode(float[] latents, int count, int channels, int h, int w, CancellationToken cancellationToken) =>
        LatentBatch.Decode(_family.Decoder.Get(), latents, count, channels, h, w, _family.Layout != LatentLayout.Unpacked, cancellationToken);

    private static void FiniteCheck(int step, double time, Span<float> sample, ReadOnlySpan<float> output)
    {
        foreach (float v in sample)
        {
            if (!float.IsFinite(v))
            {
                throw new InvalidDataException($"the denoising loop produced non-finite latents (step {step + 1}, time {time:R}).");
            }
        }
    }

    /// <summary>The negative prompt a run encodes: with guidance on, the request's (batched CFG: empty when none is given).</summary>
    private string? NegativePrompt(ResolvedGeneration r, GuidanceKind guidance) =>
        guidance == GuidanceKind.None ? null : r.NegativePrompt ?? (guidance == GuidanceKind.BatchedCfg ? _family.EmptyNegativePrompt : null);

    private Dictionary<string, int[]> Tokens(string text, int maxSequenceLength, string what, List<string> warnings)
    {
        var ids = new Dictionary<string, int[]>(StringComparer.Ordinal);
        foreach (var (component, t) in _family.Tokenize(text, maxSequenceLength))
        {
            if (t.Truncated)
            {
                warnings.Add($"{what} was truncated: {_family.TokenizerLabel(component)} keeps {t.Ids.Length} tokens of {t.UntruncatedLength}.");
            }

            ids[component] = [.. t.Ids];
        }

        return ids;
    }

    /// <summary>1. Check inputs: the request with every default filled in, and the guidance the run uses.</summary>
    private (ResolvedGeneration Run, GuidanceKind Guidance) CheckInputs(GenerationRequest request, List<string> warnings)
    {
        var family = _family;
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

        // Image inputs: the class (checked here, before any work), and the size it takes from the image.
        var task = ImageTasks.Resolve(family, ImageInputs(request));
        if (task.Task != ImageTask.None)
        {
            VaeEncoder.RequireIn(Folder);
        }

        int m = family.SizeMultiple;
        int? imageHeight = null, imageWidth = null;
        if (task.Task == ImageTask.Kontext)
        {
            (imageHeight, imageWidth, _, _) = KontextSize.Resolve(request.Image!.Height, request.Image.Width, request.Height, request.Width,
                Defaults.Height, Defaults.Width, m);
        }
        else if (ImageTasks.SizeFromImage(task, family) && request.Height is null && request.Width is null)
        {
            (imageHeight, imageWidth) = ImageProcessor.DefaultSize(request.Image!, family.VaeScale);
        }

        int height = (task.Task == ImageTask.Kontext ? imageHeight : null) ?? request.Height ?? imageHeight ?? InferSide(request.Latents, 2) ?? Defaults.Height;
        int width = (task.Task == ImageTask.Kontext ? imageWidth : null) ?? request.Width ?? imageWidth ?? InferSide(request.Latents, 1) ?? Defaults.Width;
        if (height < m || width < m || height % m != 0 || width % m != 0 || height > 8192 || width > 8192)
        {
            throw new ArgumentException($"{family.Name}: height and width must be positive multiples of {m} up to 8192 (got {height} x {width}).", nameof(request));
        }

        double? guidanceScale = request.GuidanceScale;
        if (guidanceScale is { } gs && !double.IsFinite(gs))
        {
            throw new ArgumentException($"the guidance scale must be finite (got {gs}).", nameof(request));
        }

        // The negative prompt and the true CFG scale fall back to the defaults' together (a folder's _stork_defaults).
        double? trueCfg = request.TrueCfgScale ?? Defaults.TrueCfgScale;
        string? negative = request.NegativePrompt ?? (trueCfg > 1 ? Defaults.NegativePrompt : null);
        var guidance = GuidanceKind.None;
        if (family.Guidance == GuidanceKind.BatchedCfg)
        {
            guidanceScale ??= Defaults.GuidanceScale ?? 1.0;
            if (guidanceScale < 0)
            {
                throw new ArgumentException($"the guidance scale must be a non-negative number (got {guidanceScale}).", nameof(request));
            }

            if (request.TrueCfgScale is { } tc)
            {
                warnings.Add($"{family.Name} uses classifier-free guidance through the guidance scale; true_cfg_scale {tc} is ignored.");
            }

            if (negative is not null && guidanceScale <= 1)
            {
                warnings.Add("the negative prompt is used only with a guidance scale above 1; it is ignored.");
            }

            guidance = guidanceScale > 1 ? GuidanceKind.BatchedCfg : GuidanceKind.None;
            trueCfg = null;
        }
        else
        {
            if (family.EmbedsGuidance)
            {
                guidanceScale ??= Defaults.GuidanceScale;
            }
            else if (guidanceScale is { } g && g != 0 && g != 1)
            {
                warnings.Add($"{family.Name} has no guidance input (guidance_embeds false); guidance {g} is ignored (a true CFG scale above 1 with a negative prompt guides it).");
                guidanceScale = null;
            }
            else
            {
                guidanceScale = null;
            }

            if (trueCfg is { } tc && (!double.IsFinite(tc) || tc < 0))
            {
                throw new ArgumentException($"the true CFG scale must be a non-negative number (got {tc}).", nameof(request));
            }

            if (request.TrueCfgScale is > 1 && negative is null)
            {
                warnings.Add("true CFG needs a negative prompt; without one it is off (as in diffusers).");
            }
            else if (negative is not null && trueCfg is not > 1)
            {
                warnings.Add("the negative prompt is used only with a true CFG scale above 1; it is ignored.");
            }

            guidance = negative is not null && trueCfg > 1 ? family.Guidance : GuidanceKind.None;
            trueCfg = negative is null ? request.TrueCfgScale : trueCfg;
        }

        var resolved = new ResolvedGeneration
        {
            Model = Folder.Root,
            Prompt = request.Prompt,
            NegativePrompt = negative,
            Steps = steps,
            GuidanceScale = guidanceScale,
            TrueCfgScale = trueCfg,
            Height = height,
            Width = width,
            MaxSequenceLength = ResolveSequenceLength(request.MaxSequenceLength, warnings),
            Seed = request.Seed,
            Count = count,
            Scheduler = "",
            Times = [],
        };
        return (resolved, guidance);
    }

    /// <summary>The image side from unpacked latents [N, C, h, w] (or [N, C, 1, h, w] with a frame axis).</summary>
    private int? InferSide(LatentsInput? latents, int fromEnd) =>
        latents is { Shape.Length: 4 } or { Shape.Length: 5 } && (latents.Shape.Length == 4 || _family.Layout == LatentLayout.PackedFrame)
            ? latents.Shape[^fromEnd] * _family.VaeScale
            : null;

    private int ResolveSequenceLength(int? requested, List<string> warnings)
    {
        if (_family.MaxSequenceLimit is not { } limit)
        {
            if (requested is not null && requested != Defaults.MaxSequenceLength)
            {
                warnings.Add($"this model has no T5 encoder; max_sequence_length {requested} is ignored (CLIP takes 77 tokens).");
            }

            return Defaults.MaxSequenceLength;
        }

        int length = requested ?? Defaults.MaxSequenceLength;
        if (length < 1 || length > limit)
        {
            throw new ArgumentException($"max_sequence_length must be 1 to {limit} (got {length}).", nameof(requested));
        }

        return length;
    }

    /// <inheritdoc/>
    public void Dispose() => _family.Dispose();

    // Sampler progress as the pipeline's denoising stage.
    private sealed class DenoisingProgress(IProgress<GenerationProgress> progress) : IProgress<StepInfo>
    {
        public void Report(StepInfo value) => progress.Report(new GenerationProgress(GenerationStage.Denoising, value.Evaluation, value.Total, value.Time));
    }
}
