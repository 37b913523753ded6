namespace Stork.Pipelines;

/// <summary>The outcome of <see cref="ITextToImagePipeline.Generate"/>: images, final latents and how they were made.</summary>
public sealed record GenerationResult
{
    /// <summary>The decoded images.</summary>
    public required GeneratedImages Images { get; init; }

    /// <summary>The latents after the last step, in the pipeline's form (FLUX.1: packed [Count, S, 4C]).</summary>
    public required float[] FinalLatents { get; init; }

    /// <summary>The shape of <see cref="FinalLatents"/>.</summary>
    public required int[] FinalLatentsShape { get; init; }

    /// <summary>The settings actually used, defaults filled in.</summary>
    public required ResolvedGeneration Settings { get; init; }

    /// <summary>Seeds of the images (Seed + k), or null when latents were given.</summary>
    public long[]? Seeds { get; init; }

    /// <summary>What the run changed or ignored (a prompt truncated to the tokenizer's length, a guidance scale the model has no use for).</summary>
    public IReadOnlyList<string> Warnings { get; init; } = [];

    /// <summary>Wall time of each stage.</summary>
    public required GenerationTimings Timings { get; init; }
}

/// <summary>A request with every default resolved: what a user needs to reproduce a run.</summary>
public sealed record ResolvedGeneration
{
    /// <summary>The model folder.</summary>
    public required string Model { get; init; }

    /// <summary>The prompt as given.</summary>
    public required string Prompt { get; init; }

    /// <summary>The negative prompt, if any.</summary>
    public string? NegativePrompt { get; init; }

    /// <summary>Number of solver steps.</summary>
    public required int Steps { get; init; }

    /// <summary>The (distilled) guidance scale fed to the model, if it takes one.</summary>
    public double? GuidanceScale { get; init; }

    /// <summary>The true classifier-free guidance scale, if used.</summary>
    public double? TrueCfgScale { get; init; }

    /// <summary>Image height in pixels.</summary>
    public required int Height { get; init; }

    /// <summary>Image width in pixels.</summary>
    public required int Width { get; init; }

    /// <summary>Token length the prompt was padded or truncated to.</summary>
    public required int MaxSequenceLength { get; init; }

    /// <summary>Seed of the first image (image k uses Seed + k).</summary>
    public required long Seed { get; init; }

    /// <summary>Number of images.</summary>
    public required int Count { get; init; }

    /// <summary>The solver's name and, when it came from a configuration file, the file.</summary>
    public required string Scheduler { get; init; }

    /// <summary>The dynamic shift, when the scheduler configuration asks for one.</summary>
    public double? Mu { get; init; }

    /// <summary>
    /// Model-evaluation times in the order the loop used them, in the unit the network is fed (<see cref="TimesName"/>):
    /// sigmas for FLUX.1 and Qwen-Image, timesteps for SD3 (1000 sigma) and the discrete UNets (SD1.5/2.x, SDXL).
    /// </summary>
    public required IReadOnlyList<double> Times { get; init; }

    /// <summary>What <see cref="Times"/> are: <c>sigmas</c> or <c>timesteps</c> (the name of the metadata field).</summary>
    public string TimesName { get; init; } = "sigmas";

    /// <summary>The registry name of the solver that ran (<c>stork-4</c>; from a configuration, the solver it maps to).</summary>
    public string? Solver { get; init; }

    /// <summary>
    /// Every option <see cref="Solver"/> reads, as the run resolved it (the pipeline's defaults applied: STORK's variant,
    /// sub-steps, derivative order, corrector; orders, grid, shift), keyed by <see cref="Solvers.Catalog.SolverOption.Key"/>.
    /// </summary>
    public IReadOnlyDictionary<string, string>? SolverOptions { get; init; }

    /// <summary>The scheduler as the request chose it (null: the model folder's configuration); a new request with it runs the same solver.</summary>
    public SchedulerChoice? SchedulerRequest { get; init; }

    /// <summary>
    /// <c>sha256:</c> of the model folder's graph files (every <c>.onnx</c> file and its external data) by path in the
    /// folder; a file in a Hugging Face cache is named by the Hub's sha256 (its blob), which <c>stork pull</c> checked.
    /// </summary>
    public IReadOnlyDictionary<string, string>? ModelHashes { get; init; }

    /// <summary>The Stork.NET version (with its commit) that made the run.</summary>
    public string? StorkVersion { get; init; }

    /// <summary>The ONNX Runtime version that ran the graphs.</summary>
    public string? OnnxRuntimeVersion { get; init; }

    /// <summary>The diffusers class the run followed (<c>FluxPipeline</c>, <c>FluxImg2ImgPipeline</c>, <c>FluxFillPipeline</c>, ...).</summary>
    public string? Pipeline { get; init; }

    /// <summary>The strength of an image-input run (null without one, or for Kontext and Control, which have none).</summary>
    public double? Strength { get; init; }

    /// <summary>
    /// The steps an image-input run made after the strength's cut (diffusers' <c>num_inference_steps</c> after
    /// <c>get_timesteps</c>: <see cref="Steps"/> minus the steps dropped); null without image inputs.
    /// </summary>
    public int? StepsRun { get; init; }

    /// <summary>
    /// The image inputs by role (<c>image</c>, <c>mask</c>, <c>control_image</c>): <c>sha256:</c> of their decoded RGB
    /// pixels after "W x H\n", so a run records exactly what it saw; null without image inputs.
    /// </summary>
    public IReadOnlyDictionary<string, string>? Inputs { get; init; }

    /// <summary>
    /// A request that runs these settings again (the same bytes with the same model and inputs): prompt, sizes, steps,
    /// guidance, seed and count, strength and <see cref="SchedulerRequest"/>. Image inputs and given latents are not
    /// part of it (<see cref="Inputs"/> holds their hashes): set them on the request again.
    /// </summary>
    public GenerationRequest ToRequest() => new()
    {
        Prompt = Prompt,
        NegativePrompt = NegativePrompt,
        Steps = Steps,
        GuidanceScale = GuidanceScale,
        TrueCfgScale = TrueCfgScale,
        Height = Height,
        Width = Width,
        MaxSequenceLength = MaxSequenceLength,
        Seed = Seed,
        Count = Count,
        Scheduler = SchedulerRequest,
        Strength = Strength,
    };
}

/// <summary>Where the time of a run went. <see cref="OnnxRuntime"/> is the part inside ONNX Runtime's <c>Run</c>.</summary>
public sealed record GenerationTimings(TimeSpan Total, TimeSpan OnnxRuntime, TimeSpan Loading, TimeSpan TextEncoding, TimeSpan Denoising, TimeSpan Decoding)
{
    /// <summary>Time outside ONNX Runtime's calls and session loading, as a fraction of the total.</summary>
    public double Overhead => Total <= TimeSpan.Zero ? 0 : Math.Max(0, (Total - OnnxRuntime - Loading).TotalSeconds) / Total.TotalSeconds;

    /// <summary>Each load of the run on its own, in order (<see cref="Loading"/> is their sum); empty when everything was loaded already.</summary>
    public IReadOnlyList<ComponentLoad> Loads { get; init; } = [];
}

/// <summary>One component load: the component's folder name (<c>unet</c>, <c>text_encoder_2</c>, <c>tokenizer</c>, ...) and its time.</summary>
/// <param name="Component">The component.</param>
/// <param name="Time">The time the load took.</param>
public sealed record ComponentLoad(string Component, TimeSpan Time);
