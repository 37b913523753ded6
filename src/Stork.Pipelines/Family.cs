using System.Diagnostics;
using Stork.Pipelines.Denoising;
using Stork.Pipelines.Tokenizers;

namespace Stork.Pipelines;

/// <summary>How a family keeps its latents between the seeded noise and the decoder.</summary>
internal enum LatentLayout
{
    /// <summary>[C, h, w] per image (SD, SDXL, SD3).</summary>
    Unpacked,

    /// <summary>2x2 patches as tokens, [(h/2)(w/2), 4C] per image (FLUX.1, see <see cref="Flux.FluxLatents"/>).</summary>
    Packed,

    /// <summary>Packed as FLUX.1; given latents may also be [C, 1, h, w], the VAE's frame axis (Qwen-Image).</summary>
    PackedFrame,
}

/// <summary>
/// One text-to-image family as the one <see cref="TextToImagePipeline.Generate"/> needs it: its data (defaults, size
/// multiple, latent layout, guidance kind, scheduler kind) and small binders (tokenize, encode a prompt into denoiser
/// inputs, open the denoiser, the decoder). One instance per loaded folder; it owns the folder's components, loaded
/// when first needed. <see cref="FamilyTable"/> maps a <c>_class_name</c> to a family.
/// </summary>
internal abstract class Family : IDisposable
{
    private readonly List<IDisposable> _slots = [];
    private readonly List<IReleasable> _encoders = [];
    private readonly List<TextBranch> _texts = [];
    private readonly List<Func<TimeSpan>> _loadTimes = [];
    private readonly List<Func<TimeSpan>> _runTimes = [];
    private readonly List<ComponentLoad> _loads = [];
    private TimeSpan _tokenizerLoadTime;
    private ComponentSlot<DenoiserGraph> _denoiser = null!;
    private ComponentSlot<ILatentDecoder> _decoder = null!;

    protected Family(ModelFolder folder, PipelineOptions options, FamilyTraits traits)
    {
        Folder = folder;
        Options = options;
        Traits = traits;
        PatchSize = traits.Layout == LatentLayout.Unpacked ? 1 : 2;
    }

    public ModelFolder Folder { get; }

    protected PipelineOptions Options { get; }

    /// <summary>The ONNX Runtime options the family's components open with (the VAE encoder of image inputs too).</summary>
    public Stork.Onnx.OnnxRuntimeOptions Runtime => Options.Runtime;

    /// <summary>The family's constant data: name, latent layout, guidance kind, scheduler kind, sequence limit.</summary>
    public FamilyTraits Traits { get; }

    /// <summary>The family's name in messages (<c>FLUX.1</c>, <c>Stable Diffusion 3</c>, ...).</summary>
    public string Name => Traits.Name;

    public LatentLayout Layout => Traits.Layout;

    /// <summary>How a negative prompt guides the denoiser.</summary>
    public GuidanceKind Guidance => Traits.Guidance;

    public SchedulerKind Scheduler => Traits.Scheduler;

    /// <summary>The longest <c>max_sequence_length</c> (the T5 or language-model length), or null for CLIP only (77 tokens, fixed).</summary>
    public int? MaxSequenceLimit => Traits.MaxSequenceLimit;

    /// <summary>diffusers' defaults for this folder, before the folder's own <c>_stork_defaults</c>.</summary>
    public GenerationDefaults Defaults { get; protected init; } = null!;

    /// <summary>Image pixels per latent pixel (the VAE scale factor).</summary>
    public int VaeScale { get; protected init; }

    /// <summary>Latent pixels per token side: 2 for packed latents, the transformer's patch size for SD3, 1 for a UNet.</summary>
    public int PatchSize { get; protected init; }

    /// <summary>Height and width must be multiples of this.</summary>
    public int SizeMultiple => VaeScale * PatchSize;

    /// <summary>Latent channels (unpacked).</summary>
    public int LatentChannels { get; protected init; }

    /// <summary>FLUX.1-dev: the guidance scale is an input of the network (embedded guidance).</summary>
    public bool EmbedsGuidance { get; protected init; }

    /// <summary>
    /// The negative prompt batched CFG uses when none is given: <c>""</c>, or null for zeros in place of its encoding
    /// (SDXL's <c>force_zeros_for_empty_prompt</c>, see <see cref="ZeroNegative"/>).
    /// </summary>
    public string? EmptyNegativePrompt { get; protected init; } = "";

    /// <summary>
    /// The ids each tokenizer gives <paramref name="prompt"/>, keyed by component (<c>tokenizer</c>, <c>tokenizer_2</c>,
    /// ...): by default each <see cref="Text"/> branch's, padded as it feeds its encoder.
    /// </summary>
    public virtual IReadOnlyDictionary<string, TokenizedText> Tokenize(string prompt, int maxSequenceLength) =>
        _texts.ToDictionary(t => t.Tokenizer, t => t.Tokenize(prompt, maxSequenceLength));

    /// <summary>How a truncation warning names the tokenizer of <paramref name="component"/>.</summary>
    public virtual string TokenizerLabel(string component) => _texts.First(t => t.Tokenizer == component).Label;

    /// <summary>One prompt's token ids (keyed as <see cref="Tokenize"/>) encoded into the denoiser's per-prompt inputs.</summary>
    public abstract IReadOnlyList<DenoiserInput> Encode(IReadOnlyDictionary<string, int[]> ids, ResolvedGeneration run, string what, List<string> warnings);

    /// <summary>The negative inputs when <see cref="EmptyNegativePrompt"/> is null: zeros shaped as the positive ones.</summary>
    public virtual IReadOnlyList<DenoiserInput> ZeroNegative(IReadOnlyList<DenoiserInput> positive) =>
        throw new InvalidOperationException($"{Name} encodes an empty negative prompt.");

    /// <summary>Releases the text encoders (after the prompts are encoded).</summary>
    public void ReleaseEncoders()
    {
        foreach (var encoder in _encoders)
        {
            encoder.Release();
        }
    }

    /// <summary>
    /// The denoiser graph, opened and checked by the family's binder on first use; kept loaded across runs unless the
    /// memory policy is <see cref="MemoryPolicy.Low"/>.
    /// </summary>
    public ComponentSlot<DenoiserGraph> Denoiser
    {
        get => _denoiser;
        protected init
        {
            _denoiser = value;
            value.KeepLoaded = Options.Memory != MemoryPolicy.Low;
            value.Component = Directory.Exists(Path.Combine(Folder.Root, "transformer")) ? "transformer" : "unet";
        }
    }

    /// <summary>The denoiser inputs of a run that do not depend on the prompt (positions, embedded guidance).</summary>
    public virtual IReadOnlyList<DenoiserInput> RunInputs(ResolvedGeneration run, int latentHeight, int latentWidth) => [];

    /// <summary>The VAE decoder, loaded on first use.</summary>
    public ComponentSlot<ILatentDecoder> Decoder
    {
        get => _decoder;
        protected init
        {
            _decoder = value;
            value.Component = Directory.Exists(Path.Combine(Folder.Root, "vae_decoder")) ? "vae_decoder" : "vae";
        }
    }

    /// <summary>Called with true before a component loads and false after (a run's loading stage in progress).</summary>
    public Action<bool>? Loading { get; set; }

    /// <summary>Time spent loading components and tokenizers so far.</summary>
    public TimeSpan LoadTime => _loadTimes.Aggregate(_tokenizerLoadTime, (a, f) => a + f());

    /// <summary>Every load so far, in order (component, time); tokenizers count as <c>tokenizer</c>.</summary>
    public IReadOnlyList<ComponentLoad> Loads => _loads;

    /// <summary>Time spent inside ONNX Runtime so far.</summary>
    public TimeSpan OnnxTime => _runTimes.Aggregate(TimeSpan.Zero, (a, f) => a + f());

    /// <summary>
    /// A component of this family, loaded on first use, its times counted; kept loaded under <see cref="MemoryPolicy.High"/>
    /// (the denoiser's slot also under <see cref="MemoryPolicy.Balanced"/>, see <see cref="Denoiser"/>).
    /// </summary>
    protected ComponentSlot<T> Slot<T>(Func<T> load, string component = "component")
        where T : class, IOnnxComponent
    {
        var slot = new ComponentSlot<T>(component, () =>
        {
            Loading?.Invoke(true);
            try
            {
                return load();
            }
            finally
            {
                Loading?.Invoke(false);
            }
        }, Options.Memory == MemoryPolicy.High, _loads.Add);
        _slots.Add(slot);
        _loadTimes.Add(() => slot.LoadTime);
        _runTimes.Add(() => slot.RunTime);
        return slot;
    }

    /// <summary>A text encoder of this family, loaded on first use and released by <see cref="ReleaseEncoders"/>.</summary>
    protected ComponentSlot<T> Encoder<T>(Func<T> load, string component = "text_encoder")
        where T : class, IOnnxComponent
    {
        var slot = Slot(load, component);
        _encoders.Add(slot);
        return slot;
    }

    /// <summary>
    /// A tokenizer folder and the text encoder it feeds (<c>tokenizer_2</c> and <c>text_encoder_2</c>, ...): ids padded
    /// to the tokenizer's own length, or with <paramref name="sequenceLength"/> to the run's <c>max_sequence_length</c> (T5).
    /// </summary>
    /// <param name="tokenizer">The tokenizer's component folder.</param>
    /// <param name="label">How truncation warnings name it.</param>
    /// <param name="open">Opens the encoder from the graph path of <paramref name="encoder"/>.</param>
    /// <param name="encoder">The encoder's component folder.</param>
    /// <param name="sequenceLength">Pad to max_sequence_length rather than the tokenizer's model_max_length.</param>
    protected TextBranch Text(string tokenizer, string label, Func<string, TextEncoder> open, string encoder, bool sequenceLength = false)
    {
        string graph = Folder.Graph(encoder);
        var branch = new TextBranch(tokenizer, label, Tokenizer(tokenizer), Encoder(() => open(graph), encoder), sequenceLength);
        _texts.Add(branch);
        return branch;
    }

    /// <summary>A tokenizer loaded on first use, its time counted as loading.</summary>
    protected Lazy<T> Tokenizer<T>(Func<T> load) => new(() =>
    {
        var clock = Stopwatch.StartNew();
        var value = load();
        _tokenizerLoadTime += clock.Elapsed;
        _loads.Add(new ComponentLoad("tokenizer", clock.Elapsed));
        return value;
    });

    /// <summary>A tokenizer folder's tokenizer, loaded on first use.</summary>
    protected Lazy<ITextTokenizer> Tokenizer(string component)
    {
        string folder = Folder.ComponentFolder(component);
        return Tokenizer(() => TokenizerLoader.Load(folder));
    }

    public void Dispose()
    {
        foreach (var slot in _slots)
        {
            slot.Dispose();
        }
    }
}

/// <summary>A family's constant data.</summary>
/// <param name="Name">Its name in messages.</param>
/// <param name="Layout">How it keeps its latents.</param>
/// <param name="Guidance">How a negative prompt guides it.</param>
/// <param name="Scheduler">How it drives its scheduler.</param>
/// <param name="MaxSequenceLimit">The longest max_sequence_length, or null for CLIP only (77 tokens).</param>
internal sealed record FamilyTraits(string Name, LatentLayout Layout, GuidanceKind Guidance, SchedulerKind Scheduler, int? MaxSequenceLimit);

/// <summary>A tokenizer and the text encoder it feeds.</summary>
internal sealed class TextBranch(string tokenizer, string label, Lazy<ITextTokenizer> tokens, ComponentSlot<TextEncoder> encoder, bool sequenceLength)
{
    /// <summary>The tokenizer's component folder (the key of its ids).</summary>
    public string Tokenizer { get; } = tokenizer;

    public string Label { get; } = label;

    /// <summary>The ids of <paramref name="prompt"/>, padded as the encoder takes them.</summary>
    public TokenizedText Tokenize(string prompt, int maxSequenceLength) =>
        tokens.Value.EncodePadded(prompt, sequenceLength ? maxSequenceLength : tokens.Value.ModelMaxLength ?? 77);

    /// <summary>Runs the encoder on the branch's ids of <paramref name="ids"/> and returns the requested outputs with their shapes.</summary>
    public IReadOnlyList<(float[] Values, long[] Shape)> Encode(IReadOnlyDictionary<string, int[]> ids, params string[] outputs) =>
        encoder.Get().Encode(ids[Tokenizer], outputs);
}
