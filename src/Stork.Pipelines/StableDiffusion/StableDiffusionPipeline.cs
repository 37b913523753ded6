using Stork.Pipelines.Onnx;
using Stork.Pipelines.Tokenizers;

namespace Stork.Pipelines.StableDiffusion;

/// <summary>
/// SD1.5 / SD2.x exactly as diffusers' <c>StableDiffusionPipeline</c> (also the <c>OnnxStableDiffusionPipeline</c>
/// layout: int32 ids, a [B] timestep): the CLIP <c>last_hidden_state</c> of the prompt and, with guidance above 1, of
/// the negative prompt (empty when none is given), batched <c>[negative, positive]</c>; epsilon or v-prediction, the
/// discrete VP schedule of the scheduler configuration's betas with its spacing and offset, the UNet fed the
/// scheduler's timestep as float; the VAE decode of <c>z / scaling_factor</c>.
/// </summary>
public sealed class StableDiffusionPipeline : GuidedPipeline
{
    private readonly ComponentSlot<TextEncoder> _clip;
    private readonly Lazy<ITextTokenizer> _tokenizer;
    private readonly int _channels;
    private readonly int _crossAttentionDim;

    internal StableDiffusionPipeline(ModelFolder folder, PipelineOptions options)
        : base(folder, options, () => Network(folder, options))
    {
        var unet = folder.Config("unet");
        _channels = unet.Int("in_channels", 4);
        _crossAttentionDim = unet.Int("cross_attention_dim", 768);
        int sampleSize = unet.Int("sample_size", 64);
        string clipGraph = folder.Graph("text_encoder");
        folder.Graph("unet");
        string tokenizer = folder.ComponentFolder("tokenizer");
        var runtime = options.Runtime;
        _clip = new(() => new TextEncoder("text_encoder", clipGraph, runtime, [PortSpec.Of("last_hidden_state")]), options.KeepLoaded);
        _tokenizer = new(() => Timed(() => TokenizerLoader.Load(tokenizer)));
        Defaults = new GenerationDefaults(50, 7.5, sampleSize * VaeScale, sampleSize * VaeScale, 77, "model scheduler_config.json");
    }

    /// <summary>
    /// diffusers' defaults: 50 steps, guidance 7.5, the UNet's <c>sample_size</c> times the VAE factor (512 for SD1.5,
    /// 768 for SD2.x), the folder's scheduler configuration.
    /// </summary>
    public override GenerationDefaults Defaults { get; }

    private protected override int SizeMultiple => VaeScale;

    private protected override int LatentChannels => _channels;

    private protected override string FamilyName => "Stable Diffusion";

    private protected override TimeSpan EncoderLoadTime => _clip.LoadTime;

    private static DenoiserNetwork Network(ModelFolder folder, PipelineOptions options)
    {
        var unet = folder.Config("unet");
        return new DenoiserNetwork("unet", folder.Graph("unet"), options.Runtime, PortSpec.Of("sample", "latent_sample"),
            [PortSpec.Of("encoder_hidden_states")], unet.Int("in_channels", 4));
    }

    /// <inheritdoc/>
    public override IReadOnlyDictionary<string, TokenizedText> Tokenize(string prompt, int? maxSequenceLength = null) =>
        new Dictionary<string, TokenizedText> { ["tokenizer"] = _tokenizer.Value.EncodePadded(prompt, _tokenizer.Value.ModelMaxLength ?? 77) };

    private protected override IReadOnlyList<GuidedDenoiser.Condition> EncodePrompts(GenerationRequest request, ResolvedGeneration r, bool guided, List<string> warnings)
    {
        var tok = _tokenizer.Value;
        int length = tok.ModelMaxLength ?? 77;
        var ids = tok.EncodePadded(request.Prompt, length);
        Warn(warnings, ids, "tokenizer (CLIP)", "the prompt");
        var positive = Encode(ids.Ids);
        float[]? negative = null;
        if (guided)
        {
            var neg = tok.EncodePadded(request.NegativePrompt ?? "", length);
            Warn(warnings, neg, "tokenizer (CLIP)", "the negative prompt");
            negative = Encode(neg.Ids);
        }

        _clip.Release();
        return [new GuidedDenoiser.Condition("encoder_hidden_states", positive, negative, [length, _crossAttentionDim])];
    }

    internal float[] Encode(int[] ids)
    {
        var clip = _clip.Get();
        var before = clip.RunTime;
        var (values, shape) = clip.Encode(ids, "last_hidden_state")[0];
        OnnxTime += clip.RunTime - before;
        if (shape.Length != 3 || shape[0] != 1 || shape[1] != ids.Length || shape[2] != _crossAttentionDim)
        {
            throw new InvalidDataException(
                $"text_encoder: last_hidden_state has shape [{string.Join(", ", shape)}]; the UNet's cross_attention_dim is {_crossAttentionDim} (expected [1, {ids.Length}, {_crossAttentionDim}]).");
        }

        return values;
    }

    private protected override DiscreteScheduler.Resolved CreateScheduler(SchedulerChoice? choice, ResolvedGeneration r, int latentHeight, int latentWidth) =>
        DiscreteScheduler.Create(Folder.SchedulerConfigPath, choice, r.Steps);

    private protected override void DisposeEncoders() => _clip.Dispose();
}
