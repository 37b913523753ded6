using Stork.Onnx;
using Stork.Pipelines.Denoising;

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
    private readonly TextBranch _clip;
    private readonly TextBranch _t5;
    private readonly FluxTransformer _transformer;

    public FluxFamily(ModelFolder folder, PipelineOptions options)
        : base(folder, options, new FamilyTraits("FLUX.1", LatentLayout.Packed, GuidanceKind.TrueCfg, SchedulerKind.FlowPipelineSigmas, MaxSequenceLimit: 512))
    {
        // Read the configurations (cheap) up front so that a broken folder fails before any work.
        _transformer = new FluxTransformer(folder.Config("transformer", "unet"));
        LatentChannels = _transformer.OutChannels / 4;
        EmbedsGuidance = _transformer.GuidanceEmbeds;
        VaeScale = VaeDecoder.ScaleFactorOf(folder.Config("vae_decoder", "vae"));
        var runtime = options.Runtime;
        _clip = Text("tokenizer", "tokenizer (CLIP)", g => new TextEncoder("text_encoder", g, runtime, [PortSpec.Of("pooler_output")]), "text_encoder");
        _t5 = Text("tokenizer_2", "tokenizer_2 (T5)", g => new TextEncoder("text_encoder_2", g, runtime, [PortSpec.Of("last_hidden_state")]), "text_encoder_2",
            sequenceLength: true);
        string transformerGraph = folder.Graph("transformer", "unet");
        folder.Graph("vae_decoder", "vae");
        _ = folder.SchedulerConfigPath;
        Denoiser = Slot(() => _transformer.Open(transformerGraph, runtime));
        Decoder = Slot<ILatentDecoder>(() => new VaeDecoder(folder, runtime));
        int side = 128 * VaeScale;
        Defaults = EmbedsGuidance
            ? new GenerationDefaults(28, 3.5, side, side, 512, "model scheduler_config.json")
            : new GenerationDefaults(4, null, side, side, 256, "model scheduler_config.json");
    }

    /// <summary>Features per token the transformer takes beyond the latents' (Fill 320, Control 64, else 0).</summary>
    public int ExtraInputFeatures => _transformer.InChannels - _transformer.OutChannels;

    /// <summary>The CLIP pooled vector and the T5 states, with the text positions (zeros).</summary>
    public override IReadOnlyList<DenoiserInput> Encode(IReadOnlyDictionary<string, int[]> ids, ResolvedGeneration run, string what, List<string> warnings)
    {
        int[] t5Ids = ids[_t5.Tokenizer];
        var (pooled, pooledShape) = _clip.Encode(ids, "pooler_output")[0];
        if (pooledShape.Length != 2 || pooledShape[0] != 1)
        {
            throw new InvalidDataException($"text_encoder: pooler_output has shape [{string.Join(", ", pooledShape)}], expected [1, P].");
        }

        var (states, statesShape) = _t5.Encode(ids, "last_hidden_state")[0];
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
