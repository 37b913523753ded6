using Stork.Onnx;
using Stork.Pipelines.Denoising;

namespace Stork.Pipelines.StableDiffusion;

/// <summary>
/// SDXL exactly as diffusers' <c>StableDiffusionXLPipeline</c>: the penultimate hidden states of CLIP-L and CLIP-G
/// concatenated, the pooled <c>text_embeds</c> of CLIP-G, <c>time_ids = [H, W, 0, 0, H, W]</c>; with guidance above 1
/// the negative prompt encoded the same way, or zeros when <c>force_zeros_for_empty_prompt</c> holds and none is given;
/// guidance batched <c>[negative, positive]</c>; the folder's scheduler (EulerDiscrete, leading spacing) or any other;
/// the VAE decode of <c>z / scaling_factor</c>.
/// </summary>
/// <remarks>diffusers' defaults: 50 steps, guidance 5.0, 1024 x 1024 (the UNet's sample_size times the VAE factor), the folder's scheduler.</remarks>
internal sealed class StableDiffusionXLFamily : Family
{
    private readonly TextBranch _clipL;
    private readonly TextBranch _clipG;
    private readonly int _crossAttentionDim;
    private readonly int? _pooledDim;

    public StableDiffusionXLFamily(ModelFolder folder, PipelineOptions options)
        : base(folder, options, new FamilyTraits("Stable Diffusion XL", LatentLayout.Unpacked, GuidanceKind.BatchedCfg, SchedulerKind.DiscreteVp, MaxSequenceLimit: null))
    {
        var unet = folder.Config("unet");
        InputChannels = unet.Int("in_channels", 4);
        LatentChannels = unet.IntOrNull("out_channels") ?? InputChannels;
        _crossAttentionDim = unet.Int("cross_attention_dim", 2048);
        int? timeDim = unet.IntOrNull("addition_time_embed_dim");
        int? projection = unet.IntOrNull("projection_class_embeddings_input_dim");
        _pooledDim = timeDim is { } td && projection is { } pr ? pr - (6 * td) : null;

        // diffusers' force_zeros_for_empty_prompt: zeros in place of an empty negative prompt's encoding.
        EmptyNegativePrompt = folder.Index.Bool("force_zeros_for_empty_prompt", true) ? null : "";
        VaeScale = VaeDecoder.ScaleFactorOf(folder.Config("vae_decoder", "vae"));
        folder.Graph("vae_decoder", "vae");
        _ = folder.SchedulerConfigPath;
        var runtime = options.Runtime;
        _clipL = Text("tokenizer", "tokenizer (CLIP-L)", g => TextEncoder.Penultimate("text_encoder", g, runtime, []), "text_encoder");
        _clipG = Text("tokenizer_2", "tokenizer_2 (CLIP-G)", g => TextEncoder.Penultimate("text_encoder_2", g, runtime, [PortSpec.Of("text_embeds", "pooler_output")]),
            "text_encoder_2");
        string unetGraph = folder.Graph("unet");
        Denoiser = Slot(() => DenoiserNetwork.Open("unet", unetGraph, runtime, PortSpec.Of("sample", "latent_sample"),
            [PortSpec.Of("encoder_hidden_states"), PortSpec.Of("text_embeds"), PortSpec.Of("time_ids")], InputChannels));
        Decoder = Slot<ILatentDecoder>(() => new VaeDecoder(folder, runtime));
        int side = unet.Int("sample_size", 128) * VaeScale;
        Defaults = new GenerationDefaults(50, 5.0, side, side, 77, "model scheduler_config.json");
    }

    /// <summary>The UNet's input channels: 9 for an inpainting UNet ([latents ‖ mask ‖ masked-image latents]), else the latents'.</summary>
    public int InputChannels { get; }

    /// <summary>CLIP-L ‖ CLIP-G penultimate states, CLIG-G's pooled <c>text_embeds</c>, and diffusers' <c>_get_add_time_ids</c>.</summary>
    public override IReadOnlyList<DenoiserInput> Encode(IReadOnlyDictionary<string, int[]> ids, ResolvedGeneration run, string what, List<string> warnings)
    {
        int n = ids[_clipL.Tokenizer].Length, n2 = ids[_clipG.Tokenizer].Length;
        if (n != n2)
        {
            throw new InvalidDataException($"the two tokenizers pad to {n} and {n2} tokens; SDXL concatenates their states, which needs one length.");
        }

        var (h1, s1) = _clipL.Encode(ids, "penultimate")[0];
        var out2 = _clipG.Encode(ids, "penultimate", "text_embeds");
        var (h2, s2) = out2[0];
        var (pooled, sp) = out2[1];
        if (s1.Length != 3 || s2.Length != 3 || s1[1] != n || s2[1] != n || sp.Length != 2 || s1[2] + s2[2] != _crossAttentionDim)
        {
            throw new InvalidDataException(
                $"the text encoders give states [{string.Join(", ", s1)}] and [{string.Join(", ", s2)}] and pooled [{string.Join(", ", sp)}]; the UNet's cross_attention_dim is {_crossAttentionDim} (the two widths summed).");
        }

        if (_pooledDim is { } p && p != pooled.Length)
        {
            throw new InvalidDataException(
                $"text_encoder_2 gives a pooled vector of {pooled.Length}; the UNet's projection_class_embeddings_input_dim expects {p} (plus 6 time ids).");
        }

        int d1 = (int)s1[2], d2 = (int)s2[2];
        var states = new float[n * (d1 + d2)];
        for (int i = 0; i < n; i++)
        {
            h1.AsSpan(i * d1, d1).CopyTo(states.AsSpan(i * (d1 + d2)));
            h2.AsSpan(i * d2, d2).CopyTo(states.AsSpan((i * (d1 + d2)) + d1));
        }

        // diffusers' _get_add_time_ids: original size, crop top-left (0, 0), target size.
        float[] timeIds = [run.Height, run.Width, 0, 0, run.Height, run.Width];
        return
        [
            DenoiserInput.PerRow("encoder_hidden_states", states, [n, _crossAttentionDim]),
            DenoiserInput.PerRow("text_embeds", pooled, [pooled.Length]),
            DenoiserInput.PerRow("time_ids", timeIds, [6]),
        ];
    }

    /// <summary>Zeros for the states and the pooled vector; the same time ids.</summary>
    public override IReadOnlyList<DenoiserInput> ZeroNegative(IReadOnlyList<DenoiserInput> positive) =>
        [.. positive.Select(i => i.Name == "time_ids" ? i : i with { Rows = new float[i.Rows!.Length] })];
}
