using Stork.Pipelines.Onnx;
using Stork.Pipelines.Tokenizers;

namespace Stork.Pipelines.StableDiffusionXL;

/// <summary>
/// SDXL exactly as diffusers' <c>StableDiffusionXLPipeline</c>: the penultimate hidden states of CLIP-L and CLIP-G
/// concatenated, the pooled <c>text_embeds</c> of CLIP-G, <c>time_ids = [H, W, 0, 0, H, W]</c>; with guidance above 1
/// the negative prompt encoded the same way, or zeros when <c>force_zeros_for_empty_prompt</c> holds and none is given;
/// guidance batched <c>[negative, positive]</c>; the folder's scheduler (EulerDiscrete, leading spacing) or any other;
/// the VAE decode of <c>z / scaling_factor</c>.
/// </summary>
public sealed class StableDiffusionXLPipeline : GuidedPipeline
{
    private readonly ComponentSlot<TextEncoder> _clipL;
    private readonly ComponentSlot<TextEncoder> _clipG;
    private readonly Lazy<ITextTokenizer> _tokenizer;
    private readonly Lazy<ITextTokenizer> _tokenizer2;
    private readonly int _channels;
    private readonly int _crossAttentionDim;
    private readonly int? _pooledDim;
    private readonly bool _forceZeros;

    internal StableDiffusionXLPipeline(ModelFolder folder, PipelineOptions options)
        : base(folder, options, () => Network(folder, options))
    {
        var unet = folder.Config("unet");
        _channels = unet.Int("in_channels", 4);
        _crossAttentionDim = unet.Int("cross_attention_dim", 2048);
        int sampleSize = unet.Int("sample_size", 128);
        int? timeDim = unet.IntOrNull("addition_time_embed_dim");
        int? projection = unet.IntOrNull("projection_class_embeddings_input_dim");
        _pooledDim = timeDim is { } td && projection is { } pr ? pr - (6 * td) : null;
        _forceZeros = folder.Index.Bool("force_zeros_for_empty_prompt", true);
        string g1 = folder.Graph("text_encoder");
        string g2 = folder.Graph("text_encoder_2");
        folder.Graph("unet");
        string t1 = folder.ComponentFolder("tokenizer");
        string t2 = folder.ComponentFolder("tokenizer_2");
        var runtime = options.Runtime;
        _clipL = new(() => Penultimate(new TextEncoder("text_encoder", g1, runtime, [])), options.KeepLoaded);
        _clipG = new(() => Penultimate(new TextEncoder("text_encoder_2", g2, runtime, [PortSpec.Of("text_embeds", "pooler_output")])), options.KeepLoaded);
        _tokenizer = new(() => Timed(() => TokenizerLoader.Load(t1)));
        _tokenizer2 = new(() => Timed(() => TokenizerLoader.Load(t2)));
        Defaults = new GenerationDefaults(50, 5.0, sampleSize * VaeScale, sampleSize * VaeScale, 77, "model scheduler_config.json");
    }

    /// <summary>diffusers' defaults: 50 steps, guidance 5.0, 1024 x 1024 (the UNet's sample_size times the VAE factor), the folder's scheduler.</summary>
    public override GenerationDefaults Defaults { get; }

    private protected override int SizeMultiple => VaeScale;

    private protected override int LatentChannels => _channels;

    private protected override string FamilyName => "Stable Diffusion XL";

    private protected override TimeSpan EncoderLoadTime => _clipL.LoadTime + _clipG.LoadTime;

    private static TextEncoder Penultimate(TextEncoder e)
    {
        try
        {
            e.BindPenultimate();
            return e;
        }
        catch
        {
            e.Dispose();
            throw;
        }
    }

    private static DenoiserNetwork Network(ModelFolder folder, PipelineOptions options)
    {
        var unet = folder.Config("unet");
        return new DenoiserNetwork("unet", folder.Graph("unet"), options.Runtime, PortSpec.Of("sample", "latent_sample"),
            [PortSpec.Of("encoder_hidden_states"), PortSpec.Of("text_embeds"), PortSpec.Of("time_ids")], unet.Int("in_channels", 4));
    }

    /// <inheritdoc/>
    public override IReadOnlyDictionary<string, TokenizedText> Tokenize(string prompt, int? maxSequenceLength = null) =>
        new Dictionary<string, TokenizedText>
        {
            ["tokenizer"] = _tokenizer.Value.EncodePadded(prompt, _tokenizer.Value.ModelMaxLength ?? 77),
            ["tokenizer_2"] = _tokenizer2.Value.EncodePadded(prompt, _tokenizer2.Value.ModelMaxLength ?? 77),
        };

    private protected override IReadOnlyList<GuidedDenoiser.Condition> EncodePrompts(GenerationRequest request, ResolvedGeneration r, bool guided, List<string> warnings)
    {
        var (states, pooled) = Encode(request.Prompt, "the prompt", warnings);
        float[]? negStates = null, negPooled = null;
        if (guided)
        {
            if (request.NegativePrompt is null && _forceZeros)
            {
                negStates = new float[states.Length];
                negPooled = new float[pooled.Length];
            }
            else
            {
                (negStates, negPooled) = Encode(request.NegativePrompt ?? "", "the negative prompt", warnings);
            }
        }

        _clipL.Release();
        _clipG.Release();
        if (_pooledDim is { } p && p != pooled.Length)
        {
            throw new InvalidDataException(
                $"text_encoder_2 gives a pooled vector of {pooled.Length}; the UNet's projection_class_embeddings_input_dim expects {p} (plus 6 time ids).");
        }

        // diffusers' _get_add_time_ids: original size, crop top-left (0, 0), target size.
        float[] timeIds = [r.Height, r.Width, 0, 0, r.Height, r.Width];
        int length = states.Length / _crossAttentionDim;
        return
        [
            new GuidedDenoiser.Condition("encoder_hidden_states", states, negStates, [length, _crossAttentionDim]),
            new GuidedDenoiser.Condition("text_embeds", pooled, negPooled, [pooled.Length]),
            new GuidedDenoiser.Condition("time_ids", timeIds, timeIds, [6]),
        ];
    }

    private (float[] States, float[] Pooled) Encode(string text, string what, List<string> warnings)
    {
        var ids1 = _tokenizer.Value.EncodePadded(text, _tokenizer.Value.ModelMaxLength ?? 77);
        var ids2 = _tokenizer2.Value.EncodePadded(text, _tokenizer2.Value.ModelMaxLength ?? 77);
        Warn(warnings, ids1, "tokenizer (CLIP-L)", what);
        Warn(warnings, ids2, "tokenizer_2 (CLIP-G)", what);
        if (ids1.Ids.Length != ids2.Ids.Length)
        {
            throw new InvalidDataException($"the two tokenizers pad to {ids1.Ids.Length} and {ids2.Ids.Length} tokens; SDXL concatenates their states, which needs one length.");
        }

        var e1 = _clipL.Get();
        var e2 = _clipG.Get();
        var b1 = e1.RunTime;
        var b2 = e2.RunTime;
        var (h1, s1) = e1.Encode(ids1.Ids, "penultimate")[0];
        var out2 = e2.Encode(ids2.Ids, "penultimate", "text_embeds");
        OnnxTime += e1.RunTime - b1 + (e2.RunTime - b2);
        var (h2, s2) = out2[0];
        var (pooled, sp) = out2[1];
        int n = ids1.Ids.Length;
        if (s1.Length != 3 || s2.Length != 3 || s1[1] != n || s2[1] != n || sp.Length != 2 || s1[2] + s2[2] != _crossAttentionDim)
        {
            throw new InvalidDataException(
                $"the text encoders give states [{string.Join(", ", s1)}] and [{string.Join(", ", s2)}] and pooled [{string.Join(", ", sp)}]; the UNet's cross_attention_dim is {_crossAttentionDim} (the two widths summed).");
        }

        int d1 = (int)s1[2], d2 = (int)s2[2];
        var states = new float[n * (d1 + d2)];
        for (int i = 0; i < n; i++)
        {
            h1.AsSpan(i * d1, d1).CopyTo(states.AsSpan(i * (d1 + d2)));
            h2.AsSpan(i * d2, d2).CopyTo(states.AsSpan((i * (d1 + d2)) + d1));
        }

        return (states, pooled);
    }

    private protected override DiscreteScheduler.Resolved CreateScheduler(SchedulerChoice? choice, ResolvedGeneration r, int latentHeight, int latentWidth) =>
        DiscreteScheduler.Create(Folder.SchedulerConfigPath, choice, r.Steps);

    private protected override void DisposeEncoders()
    {
        _clipL.Dispose();
        _clipG.Dispose();
    }
}
