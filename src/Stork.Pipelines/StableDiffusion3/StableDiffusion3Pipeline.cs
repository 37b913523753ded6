using Stork.Pipelines.Onnx;
using Stork.Pipelines.Tokenizers;
using Stork.Predictions;
using Stork.Schedules;
using Stork.Solvers;

namespace Stork.Pipelines.StableDiffusion3;

/// <summary>
/// SD3 / SD3.5 exactly as diffusers' <c>StableDiffusion3Pipeline</c>: the penultimate hidden states of CLIP-L and
/// CLIP-G concatenated and zero-padded to the T5 width, followed along the sequence by the T5 states (padded to
/// <c>max_sequence_length</c>); pooled = CLIP-L <c>text_embeds</c> ‖ CLIP-G <c>text_embeds</c>; with guidance above 1
/// the negative prompt (empty when none is given) encoded the same way and batched <c>[negative, positive]</c>; the
/// scheduler's own flow grid (no pipeline sigmas: it ends at the shifted smallest training sigma), the timestep fed as
/// sigma x 1000; the VAE decode of <c>z / scaling_factor + shift_factor</c>.
/// </summary>
public sealed class StableDiffusion3Pipeline : GuidedPipeline
{
    private readonly ComponentSlot<TextEncoder> _clipL;
    private readonly ComponentSlot<TextEncoder> _clipG;
    private readonly ComponentSlot<TextEncoder> _t5;
    private readonly Lazy<ITextTokenizer> _tokenizer;
    private readonly Lazy<ITextTokenizer> _tokenizer2;
    private readonly Lazy<ITextTokenizer> _tokenizer3;
    private readonly int _channels;
    private readonly int _patch;
    private readonly int _jointDim;
    private readonly int _pooledDim;

    internal StableDiffusion3Pipeline(ModelFolder folder, PipelineOptions options)
        : base(folder, options, () => Network(folder, options))
    {
        var transformer = folder.Config("transformer");
        _channels = transformer.Int("in_channels", 16);
        _patch = transformer.Int("patch_size", 2);
        _jointDim = transformer.Int("joint_attention_dim", 4096);
        _pooledDim = transformer.Int("pooled_projection_dim", 2048);
        int sampleSize = transformer.Int("sample_size", 128);
        if (_patch < 1)
        {
            throw new InvalidDataException($"'{transformer.Path}': patch_size must be positive (got {_patch}).");
        }

        string g1 = folder.Graph("text_encoder");
        string g2 = folder.Graph("text_encoder_2");
        string g3 = folder.Graph("text_encoder_3");
        folder.Graph("transformer");
        string t1 = folder.ComponentFolder("tokenizer");
        string t2 = folder.ComponentFolder("tokenizer_2");
        string t3 = folder.ComponentFolder("tokenizer_3");
        var runtime = options.Runtime;
        _clipL = new(() => Penultimate(new TextEncoder("text_encoder", g1, runtime, [PortSpec.Of("text_embeds")])), options.KeepLoaded);
        _clipG = new(() => Penultimate(new TextEncoder("text_encoder_2", g2, runtime, [PortSpec.Of("text_embeds")])), options.KeepLoaded);
        _t5 = new(() => new TextEncoder("text_encoder_3", g3, runtime, [PortSpec.Of("last_hidden_state")]), options.KeepLoaded);
        _tokenizer = new(() => Timed(() => TokenizerLoader.Load(t1)));
        _tokenizer2 = new(() => Timed(() => TokenizerLoader.Load(t2)));
        _tokenizer3 = new(() => Timed(() => TokenizerLoader.Load(t3)));
        Defaults = new GenerationDefaults(28, 7.0, sampleSize * VaeScale, sampleSize * VaeScale, 256, "model scheduler_config.json");
    }

    /// <summary>diffusers' defaults: 28 steps, guidance 7.0, 1024 x 1024 (sample_size times the VAE factor), T5 length 256, the folder's scheduler.</summary>
    public override GenerationDefaults Defaults { get; }

    private protected override int SizeMultiple => VaeScale * _patch;

    private protected override int LatentChannels => _channels;

    private protected override string FamilyName => "Stable Diffusion 3";

    private protected override TimeSpan EncoderLoadTime => _clipL.LoadTime + _clipG.LoadTime + _t5.LoadTime;

    private protected override int ResolveSequenceLength(int? requested, List<string> warnings)
    {
        int length = requested ?? Defaults.MaxSequenceLength;
        if (length < 1 || length > 512)
        {
            throw new ArgumentException($"max_sequence_length must be 1 to 512 (got {length}).");
        }

        return length;
    }

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
        var config = folder.Config("transformer");
        return new DenoiserNetwork("transformer", folder.Graph("transformer"), options.Runtime, PortSpec.Of("sample", "hidden_states"),
            [PortSpec.Of("encoder_hidden_states"), PortSpec.Of("pooled_projections")], config.Int("in_channels", 16));
    }

    /// <inheritdoc/>
    public override IReadOnlyDictionary<string, TokenizedText> Tokenize(string prompt, int? maxSequenceLength = null)
    {
        int length = ResolveSequenceLength(maxSequenceLength, []);
        return new Dictionary<string, TokenizedText>
        {
            ["tokenizer"] = _tokenizer.Value.EncodePadded(prompt, _tokenizer.Value.ModelMaxLength ?? 77),
            ["tokenizer_2"] = _tokenizer2.Value.EncodePadded(prompt, _tokenizer2.Value.ModelMaxLength ?? 77),
            ["tokenizer_3"] = _tokenizer3.Value.EncodePadded(prompt, length),
        };
    }

    private protected override IReadOnlyList<GuidedDenoiser.Condition> EncodePrompts(GenerationRequest request, ResolvedGeneration r, bool guided, List<string> warnings)
    {
        var (states, pooled, length) = Encode(request.Prompt, r.MaxSequenceLength, "the prompt", warnings);
        float[]? negStates = null, negPooled = null;
        if (guided)
        {
            (negStates, negPooled, _) = Encode(request.NegativePrompt ?? "", r.MaxSequenceLength, "the negative prompt", warnings);
        }

        _clipL.Release();
        _clipG.Release();
        _t5.Release();
        return
        [
            new GuidedDenoiser.Condition("encoder_hidden_states", states, negStates, [length, _jointDim]),
            new GuidedDenoiser.Condition("pooled_projections", pooled, negPooled, [_pooledDim]),
        ];
    }

    private (float[] States, float[] Pooled, int Length) Encode(string text, int maxSequence, string what, List<string> warnings)
    {
        var ids1 = _tokenizer.Value.EncodePadded(text, _tokenizer.Value.ModelMaxLength ?? 77);
        var ids2 = _tokenizer2.Value.EncodePadded(text, _tokenizer2.Value.ModelMaxLength ?? 77);
        var ids3 = _tokenizer3.Value.EncodePadded(text, maxSequence);
        Warn(warnings, ids1, "tokenizer (CLIP-L)", what);
        Warn(warnings, ids2, "tokenizer_2 (CLIP-G)", what);
        Warn(warnings, ids3, "tokenizer_3 (T5)", what);
        if (ids1.Ids.Length != ids2.Ids.Length)
        {
            throw new InvalidDataException($"the two CLIP tokenizers pad to {ids1.Ids.Length} and {ids2.Ids.Length} tokens; SD3 concatenates their states, which needs one length.");
        }

        var e1 = _clipL.Get();
        var b1 = e1.RunTime;
        var o1 = e1.Encode(ids1.Ids, "penultimate", "text_embeds");
        OnnxTime += e1.RunTime - b1;
        var e2 = _clipG.Get();
        var b2 = e2.RunTime;
        var o2 = e2.Encode(ids2.Ids, "penultimate", "text_embeds");
        OnnxTime += e2.RunTime - b2;
        var e3 = _t5.Get();
        var b3 = e3.RunTime;
        var (t5, s3) = e3.Encode(ids3.Ids, "last_hidden_state")[0];
        OnnxTime += e3.RunTime - b3;
        var (h1, s1) = o1[0];
        var (h2, s2) = o2[0];
        var (p1, _) = o1[1];
        var (p2, _) = o2[1];
        int n = ids1.Ids.Length, l = ids3.Ids.Length;
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

        // [CLIP-L ‖ CLIP-G, zero-padded to the T5 width] followed by T5 along the sequence.
        var states = new float[(n + l) * _jointDim];
        for (int i = 0; i < n; i++)
        {
            h1.AsSpan(i * d1, d1).CopyTo(states.AsSpan(i * _jointDim));
            h2.AsSpan(i * d2, d2).CopyTo(states.AsSpan((i * _jointDim) + d1));
        }

        t5.CopyTo(states, n * _jointDim);
        return (states, [.. p1, .. p2], n + l);
    }

    private protected override DiscreteScheduler.Resolved CreateScheduler(SchedulerChoice? choice, ResolvedGeneration r, int latentHeight, int latentWidth)
    {
        int tokens = latentHeight / _patch * (latentWidth / _patch);
        var s = FlowScheduler.Create(Folder.SchedulerConfigPath, choice, r.Steps, tokens, pipelineSigmas: false);
        return new DiscreteScheduler.Resolved(s.Solver, s.Name, new ModelSpec(Prediction.FlowVelocity, RectifiedFlowSchedule.Instance), 1000.0, 1.0);
    }

    private protected override void DisposeEncoders()
    {
        _clipL.Dispose();
        _clipG.Dispose();
        _t5.Dispose();
    }
}
