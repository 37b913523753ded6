using Stork.Pipelines.Denoising;
using Stork.Pipelines.Onnx;
using Stork.Pipelines.Tokenizers;

namespace Stork.Pipelines.Flux;

/// <summary>
/// FLUX.1 schnell and dev exactly as diffusers' <c>FluxPipeline</c>: the CLIP pooled output and the T5 states (padded
/// to <c>max_sequence_length</c>, no mask), packed latents with their positions, sigmas <c>linspace(1, 1/N, N)</c>
/// (shifted dynamically from the image sequence length when the scheduler configuration says so), the timestep fed as
/// sigma, embedded guidance for dev, true classifier-free guidance with a negative prompt, the VAE decode of
/// <c>z / scaling_factor + shift_factor</c>, images clamped to [0, 1].
/// </summary>
/// <remarks>
/// Defaults (diffusers' and mflux's): dev (guidance embedded) 28 steps, guidance 3.5, T5 length 512; schnell 4 steps,
/// no guidance, T5 length 256; both 1024 x 1024 with the real VAE (<c>default_sample_size</c> 128 times the VAE scale
/// factor) and the folder's scheduler configuration.
/// </remarks>
internal sealed class FluxFamily : Family
{
    private readonly Lazy<ITextTokenizer> _clipTokenizer;
    private readonly Lazy<ITextTokenizer> _t5Tokenizer;
    private readonly ComponentSlot<TextEncoder> _clip;
    private readonly ComponentSlot<TextEncoder> _t5;
    private readonly FluxTransformer _transformer;

    public FluxFamily(ModelFolder folder, PipelineOptions options)
        : base(folder, options)
    {
        // Read the configurations (cheap) up front so that a broken folder fails before any work.
        _transformer = new FluxTransformer(folder.Config("transformer", "unet"));
        VaeScale = VaeDecoder.ScaleFactorOf(folder.Config("vae_decoder", "vae"));
        string clipGraph = folder.Graph("text_encoder");
        string t5Graph = folder.Graph("text_encoder_2");
        string transformerGraph = folder.Graph("transformer", "unet");
        folder.Graph("vae_decoder", "vae");
        _clipTokenizer = Tokenizer("tokenizer");
        _t5Tokenizer = Tokenizer("tokenizer_2");
        _ = folder.SchedulerConfigPath;

        var runtime = options.Runtime;
        _clip = Encoder(() => new TextEncoder("text_encoder", clipGraph, runtime, [PortSpec.Of("pooler_output")]));
        _t5 = Encoder(() => new TextEncoder("text_encoder_2", t5Graph, runtime, [PortSpec.Of("last_hidden_state")]));
        Denoiser = Slot(() => _transformer.Open(transformerGraph, runtime));
        Decoder = Slot<ILatentDecoder>(() => new VaeDecoder(folder, runtime));
        int side = 128 * VaeScale;
        Defaults = EmbedsGuidance
            ? new GenerationDefaults(28, 3.5, side, side, 512, "model scheduler_config.json")
            : new GenerationDefaults(4, null, side, side, 256, "model scheduler_config.json");
    }

    public override string Name => EmbedsGuidance ? "FLUX.1-dev" : "FLUX.1-schnell";

    public override GenerationDefaults Defaults { get; }

    public override int VaeScale { get; }

    public override LatentLayout Layout => LatentLayout.Packed;

    public override int LatentChannels => _transformer.OutChannels / 4;

    /// <summary>Features per token the transformer takes beyond the latents' (Fill 320, Control 64, else 0).</summary>
    public int ExtraInputFeatures => _transformer.InChannels - _transformer.OutChannels;

    public override GuidanceKind Guidance => GuidanceKind.TrueCfg;

    public override bool EmbedsGuidance => _transformer.GuidanceEmbeds;

    public override SchedulerKind Scheduler => SchedulerKind.FlowPipelineSigmas;

    public override int? MaxSequenceLimit => 512;

    public override IReadOnlyDictionary<string, TokenizedText> Tokenize(string prompt, int maxSequenceLength) => new Dictionary<string, TokenizedText>
    {
        ["tokenizer"] = _clipTokenizer.Value.EncodePadded(prompt, _clipTokenizer.Value.ModelMaxLength ?? 77),
        ["tokenizer_2"] = _t5Tokenizer.Value.EncodePadded(prompt, maxSequenceLength),
    };

    public override string TokenizerLabel(string component) => component == "tokenizer" ? "tokenizer (CLIP)" : "tokenizer_2 (T5)";

    /// <summary>The CLIP pooled vector and the T5 states, with the text positions (zeros).</summary>
    public override IReadOnlyList<DenoiserInput> Encode(IReadOnlyDictionary<string, int[]> ids, ResolvedGeneration run, string what, List<string> warnings)
    {
        int[] clipIds = ids["tokenizer"], t5Ids = ids["tokenizer_2"];
        var (pooled, pooledShape) = _clip.Get().Encode(clipIds, "pooler_output")[0];
        if (pooledShape.Length != 2 || pooledShape[0] != 1)
        {
            throw new InvalidDataException($"text_encoder: pooler_output has shape [{string.Join(", ", pooledShape)}], expected [1, P].");
        }

        var (states, statesShape) = _t5.Get().Encode(t5Ids, "last_hidden_state")[0];
        if (statesShape.Length != 3 || statesShape[0] != 1 || statesShape[1] != t5Ids.Length)
        {
            throw new InvalidDataException($"text_encoder_2: last_hidden_state has shape [{string.Join(", ", statesShape)}], expected [1, {t5Ids.Length}, D].");
        }

        int width = _transformer.JointAttentionDim, length = t5Ids.Length;
        if (states.Length != length * width || pooled.Length != _transformer.PooledProjectionDim)
        {
            throw new InvalidDataException(
                $"the text encoders give states of width {states.Length / Math.Max(1, length)} and a pooled vector of {pooled.Length}; the transformer's configuration expects {width} and {_transformer.PooledProjectionDim}.");
        }

        return
        [
            DenoiserInput.PerRow("encoder_hidden_states", states, [length, width]),
            DenoiserInput.PerRow("pooled_projections", pooled, [pooled.Length]),
            DenoiserInput.Positions("txt_ids", new long[length * 3]),
        ];
    }

    /// <summary>The image positions and, for dev, the embedded guidance.</summary>
    public override IReadOnlyList<DenoiserInput> RunInputs(ResolvedGeneration run, int latentHeight, int latentWidth)
    {
        var imageIds = DenoiserInput.Positions("img_ids", FluxLatents.ImageIds(latentHeight, latentWidth));
        return EmbedsGuidance
            ? [imageIds, DenoiserInput.Filled("guidance", run.GuidanceScale ?? throw new ArgumentException("this FLUX.1 model embeds guidance: a guidance scale is needed."))]
            : [imageIds];
    }
}
