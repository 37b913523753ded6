using Stork.Pipelines.Denoising;
using Stork.Pipelines.Onnx;
using Stork.Pipelines.Tokenizers;

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
    private readonly Lazy<ITextTokenizer> _tokenizer;
    private readonly Lazy<ITextTokenizer> _tokenizer2;
    private readonly Lazy<ITextTokenizer> _tokenizer3;
    private readonly ComponentSlot<TextEncoder> _clipL;
    private readonly ComponentSlot<TextEncoder> _clipG;
    private readonly ComponentSlot<TextEncoder> _t5;
    private readonly int _jointDim;
    private readonly int _pooledDim;

    public StableDiffusion3Family(ModelFolder folder, PipelineOptions options)
        : base(folder, options)
    {
        var transformer = folder.Config("transformer");
        LatentChannels = transformer.Int("in_channels", 16);
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
        string g1 = folder.Graph("text_encoder");
        string g2 = folder.Graph("text_encoder_2");
        string g3 = folder.Graph("text_encoder_3");
        string transformerGraph = folder.Graph("transformer");
        _tokenizer = Tokenizer("tokenizer");
        _tokenizer2 = Tokenizer("tokenizer_2");
        _tokenizer3 = Tokenizer("tokenizer_3");

        var runtime = options.Runtime;
        _clipL = Encoder(() => TextEncoder.Penultimate("text_encoder", g1, runtime, [PortSpec.Of("text_embeds")]));
        _clipG = Encoder(() => TextEncoder.Penultimate("text_encoder_2", g2, runtime, [PortSpec.Of("text_embeds")]));
        _t5 = Encoder(() => new TextEncoder("text_encoder_3", g3, runtime, [PortSpec.Of("last_hidden_state")]));
        Denoiser = Slot(() => DenoiserNetwork.Open("transformer", transformerGraph, runtime, PortSpec.Of("sample", "hidden_states"),
            [PortSpec.Of("encoder_hidden_states"), PortSpec.Of("pooled_projections")], LatentChannels));
        Decoder = Slot<ILatentDecoder>(() => new VaeDecoder(folder, runtime));
        int side = transformer.Int("sample_size", 128) * VaeScale;
        Defaults = new GenerationDefaults(28, 7.0, side, side, 256, "model scheduler_config.json");
    }

    public override string Name => "Stable Diffusion 3";

    public override GenerationDefaults Defaults { get; }

    public override int VaeScale { get; }

    public override int PatchSize { get; }

    public override LatentLayout Layout => LatentLayout.Unpacked;

    public override int LatentChannels { get; }

    public override GuidanceKind Guidance => GuidanceKind.BatchedCfg;

    public override SchedulerKind Scheduler => SchedulerKind.FlowOwnGrid;

    public override int? MaxSequenceLimit => 512;

    public override IReadOnlyDictionary<string, TokenizedText> Tokenize(string prompt, int maxSequenceLength) => new Dictionary<string, TokenizedText>
    {
        ["tokenizer"] = _tokenizer.Value.EncodePadded(prompt, _tokenizer.Value.ModelMaxLength ?? 77),
        ["tokenizer_2"] = _tokenizer2.Value.EncodePadded(prompt, _tokenizer2.Value.ModelMaxLength ?? 77),
        ["tokenizer_3"] = _tokenizer3.Value.EncodePadded(prompt, maxSequenceLength),
    };

    public override string TokenizerLabel(string component) => component switch
    {
        "tokenizer" => "tokenizer (CLIP-L)",
        "tokenizer_2" => "tokenizer_2 (CLIP-G)",
        _ => "tokenizer_3 (T5)",
    };

    /// <summary>[CLIP-L ‖ CLIP-G, zero-padded to the T5 width] followed by T5 along the sequence; both pooled vectors.</summary>
    public override IReadOnlyList<DenoiserInput> Encode(IReadOnlyDictionary<string, int[]> ids, ResolvedGeneration run, string what, List<string> warnings)
    {
        int[] ids1 = ids["tokenizer"], ids2 = ids["tokenizer_2"], ids3 = ids["tokenizer_3"];
        if (ids1.Length != ids2.Length)
        {
            throw new InvalidDataException($"the two CLIP tokenizers pad to {ids1.Length} and {ids2.Length} tokens; SD3 concatenates their states, which needs one length.");
        }

        var o1 = _clipL.Get().Encode(ids1, "penultimate", "text_embeds");
        var o2 = _clipG.Get().Encode(ids2, "penultimate", "text_embeds");
        var (t5, s3) = _t5.Get().Encode(ids3, "last_hidden_state")[0];
        var (h1, s1) = o1[0];
        var (h2, s2) = o2[0];
        var (p1, _) = o1[1];
        var (p2, _) = o2[1];
        int n = ids1.Length, l = ids3.Length;
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
