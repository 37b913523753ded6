using Stork.Onnx;
using Stork.Pipelines.Denoising;

namespace Stork.Pipelines.StableDiffusion;

/// <summary>
/// SD3 / SD3.5 exactly as diffusers' <c>StableDiffusion3Pipeline</c>: the penultimate hidden states of CLIP-L and
/// CLIP-G concatenated and zero-padded to the T5 width, followed along the sequence by the T5 states (padded to
/// <c>max_sequence_length</c>); pooled = CLIP-L <c>text_embeds</c> ‖ CLIP-G <c>text_embeds</c>; with guidance above 1
/// the negative prompt (empty when none is given) encoded the same way and batched <c>[negative, positive]</c>; the
/// scheduler's own flow grid (no pipeline sigmas: it ends at the shifted smallest training sigma), the timestep fed as
/// sigma x 1000; the VAE decode of <c>z / scaling_factor + shift_factor</c>.
/// </summary>
/// <remarks>diffusers' defaults: 28 steps, guidance 7.0, 1024 x 1024 (sample_size times the VAE factor), T5 length 256, the folder's scheduler.</remarks>
internal sealed class StableDiffusion3Family : Family
{
    private readonly TextBranch _clipL;
    private readonly TextBranch _clipG;
    private readonly TextBranch _t5;
    private readonly int _jointDim;
    private readonly int _pooledDim;

    public StableDiffusion3Family(ModelFolder folder, PipelineOptions options)
        : base(folder, options, new FamilyTraits("Stable Diffusion 3", LatentLayout.Unpacked, GuidanceKind.BatchedCfg, SchedulerKind.FlowOwnGrid, MaxSequenceLimit: 512))
    {
        var transformer = folder.Config("transformer");
        LatentChannels = transformer.Int("in_channels", 16);
        if (transformer.IntOrNull("out_channels") is { } outChannels && outChannels != LatentChannels)
        {
            // StableDiffusion3InpaintPipeline's 33-channel transformers ([latents ‖ mask ‖ masked-image latents]).
            throw new InvalidDataException(
                $"'{transformer.Path}': in_channels {LatentChannels} and out_channels {outChannels} differ: SD3 transformers with mask channels (33 for inpainting) are not supported.");
        }

        PatchSize = transformer.Int("patch_size", 2);
        _jointDim = transformer.Int("joint_attention_dim", 4096);
        _pooledDim = transformer.Int("pooled_projection_dim", 2048);
        if (PatchSize < 1)
        {
            throw new InvalidDataException($"'{transformer.Path}': patch_size must be positive (got {PatchSize}).");
        }

        VaeScale = VaeDecoder.ScaleFactorOf(folder.Config("vae_decoder", "vae"));
        folder.Graph("vae_decoder", "vae");
        _ = folder.SchedulerConfigPath;
        var runtime = options.Runtime;
        _clipL = Text("tokenizer", "tokenizer (CLIP-L)", g => TextEncoder.Penultimate("text_encoder", g, runtime, [PortSpec.Of("text_embeds")]), "text_encoder");
        _clipG = Text("tokenizer_2", "tokenizer_2 (CLIP-G)", g => TextEncoder.Penultimate("text_encoder_2", g, runtime, [PortSpec.Of("text_embeds")]), "text_encoder_2");
        _t5 = Text("tokenizer_3", "tokenizer_3 (T5)", g => new TextEncoder("text_encoder_3", g, runtime, [PortSpec.Of("last_hidden_state")]), "text_encoder_3",
            sequenceLength: true);
        string transformerGraph = folder.Graph("transformer");
        Denoiser = Slot(() => DenoiserNetwork.Open("transformer", transformerGraph, runtime, PortSpec.Of("sample", "hidden_states"),
            [PortSpec.Of("encoder_hidden_states"), PortSpec.Of("pooled_projections")], LatentChannels));
        Decoder = Slot<ILatentDecoder>(() => new VaeDecoder(folder, runtime));
        int side = transformer.Int("sample_size", 128) * VaeScale;
        Defaults = new GenerationDefaults(28, 7.0, side, side, 256, "model scheduler_config.json");
    }

    /// <summary>[CLIP-L ‖ CLIP-G, zero-padded to the T5 width] followed by T5 along the sequence; both pooled vectors.</summary>
    public override IReadOnlyList<DenoiserInput> Encode(IReadOnlyDictionary<string, int[]> ids, ResolvedGeneration run, string what, List<string> warnings)
    {
        int n = ids[_clipL.Tokenizer].Length, n2 = ids[_clipG.Tokenizer].Length, l = ids[_t5.Tokenizer].Length;
        if (n != n2)
        {
            throw new InvalidDataException($"the two CLIP tokenizers pad to {n} and {n2} tokens; SD3 concatenates their states, which needs one length.");
        }

        var o1 = _clipL.Encode(ids, "penultimate", "text_embeds");
        var o2 = _clipG.Encode(ids, "penultimate", "text_embeds");
        var (t5, s3) = _t5.Encode(ids, "last_hidden_state")[0];
        var (h1, s1) = o1[0];
        var (h2, s2) = o2[0];
        var (p1, _) = o1[1];
        var (p2, _) = o2[1];
        if (s1.Length != 3 || s2.Length != 3 || s1[1] != n || s2[1] != n || s3.Length != 3 || s3[1] != l || s3[2] != _jointDim)
        {
            throw new InvalidDataException(
                $"the text encoders give states [{string.Join(", ", s1)}], [{string.Join(", ", s2)}] and T5 [{string.Join(", ", s3)}]; the transformer's joint_attention_dim is {_jointDim}.");
        }

        int d1 = (int)s1[2], d2 = (int)s2[2];
        if (d1 + d2 > _jointDim || p1.Length + p2.Length != _pooledDim)
        {
            throw new InvalidDataException(
                $"the CLIP states ({d1} + {d2}) must fit the T5 width {_jointDim}, and the pooled vectors ({p1.Length} + {p2.Length}) make pooled_projection_dim {_pooledDim}.");
        }

        var states = new float[(n + l) * _jointDim];
        for (int i = 0; i < n; i++)
        {
            h1.AsSpan(i * d1, d1).CopyTo(states.AsSpan(i * _jointDim));
            h2.AsSpan(i * d2, d2).CopyTo(states.AsSpan((i * _jointDim) + d1));
        }

        t5.CopyTo(states, n * _jointDim);
        return
        [
            DenoiserInput.PerRow("encoder_hidden_states", states, [n + l, _jointDim]),
            DenoiserInput.PerRow("pooled_projections", [.. p1, .. p2], [_pooledDim]),
        ];
    }
}
