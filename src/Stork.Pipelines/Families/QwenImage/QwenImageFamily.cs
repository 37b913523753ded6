using Stork.Pipelines.Denoising;
using Stork.Pipelines.Tokenizers;

namespace Stork.Pipelines.QwenImage;

/// <summary>
/// Qwen-Image exactly as diffusers' <c>QwenImagePipeline</c>: the prompt in its chat template, tokenized to at most
/// 1058 tokens, encoded by the Qwen2.5-VL language model, the first 34 (template) positions dropped and the rest cut to
/// <c>max_sequence_length</c>; FLUX.1-packed latents with centred rotary positions; sigmas <c>linspace(1, 1/N, N)</c>
/// shifted dynamically (exponential, mu extrapolated from the image sequence length) and stretched to
/// <c>shift_terminal</c>; the timestep fed as sigma; true classifier-free guidance with a negative prompt and the norm
/// rescale; the 5-D VAE decode of <c>z * std_c + mean_c</c>; images clamped to [0, 1].
/// </summary>
/// <remarks>
/// Defaults are diffusers': 50 steps, 1024 x 1024 (<c>default_sample_size</c> 128 times the VAE scale factor), a true
/// CFG scale of 4.0 used only when a negative prompt is given, <c>max_sequence_length</c> 512. The ONNX layout is
/// described in <c>docs/text-to-image-qwen.md</c>.
/// </remarks>
internal sealed class QwenImageFamily : Family
{
    /// <summary>diffusers' default <c>true_cfg_scale</c>.</summary>
    public const double DefaultTrueCfgScale = 4.0;

    private readonly Lazy<Qwen2Tokenizer> _tokenizer;
    private readonly ComponentSlot<QwenImageTextEncoder> _textEncoder;
    private readonly QwenImageTransformer _transformer;

    public QwenImageFamily(ModelFolder folder, PipelineOptions options)
        : base(folder, options, new FamilyTraits("Qwen-Image", LatentLayout.PackedFrame, GuidanceKind.TrueCfgRescaled, SchedulerKind.FlowPipelineSigmas, MaxSequenceLimit: 1024))
    {
        // Read the configurations (cheap) up front so that a broken folder fails before any work.
        _transformer = new QwenImageTransformer(folder.Config("transformer"));
        LatentChannels = _transformer.InChannels / 4;
        VaeScale = QwenImageVaeDecoder.ScaleFactorOf(folder.Config("vae_decoder", "vae"));
        string textGraph = folder.Graph("text_encoder");
        string transformerGraph = folder.Graph("transformer");
        folder.Graph("vae_decoder", "vae");
        string tokenizerFolder = folder.ComponentFolder("tokenizer");
        _ = folder.SchedulerConfigPath;

        var runtime = options.Runtime;
        _tokenizer = Tokenizer(() => TokenizerLoader.Load(tokenizerFolder) as Qwen2Tokenizer
            ?? throw new InvalidDataException($"tokenizer folder {tokenizerFolder}: Qwen-Image needs a Qwen2 tokenizer (tokenizer_class Qwen2Tokenizer)."));
        _textEncoder = Encoder(() => new QwenImageTextEncoder(textGraph, runtime));
        Denoiser = Slot(() => _transformer.Open(transformerGraph, runtime));
        Decoder = Slot<ILatentDecoder>(() => new QwenImageVaeDecoder(folder, runtime));

        // 50 steps, no guidance scale (no guidance input; true CFG 4.0 with a negative prompt), 1024 x 1024 with the real
        // VAE, max_sequence_length 512, the folder's scheduler configuration.
        Defaults = new GenerationDefaults(50, null, 128 * VaeScale, 128 * VaeScale, QwenImagePrompt.DefaultMaxSequenceLength, "model scheduler_config.json",
            TrueCfgScale: DefaultTrueCfgScale);
    }

    /// <summary>The templated ids the text encoder gets (cut at 1058), keyed <c>tokenizer</c>.</summary>
    public override IReadOnlyDictionary<string, TokenizedText> Tokenize(string prompt, int maxSequenceLength) =>
        new Dictionary<string, TokenizedText> { ["tokenizer"] = QwenImagePrompt.Tokenize(_tokenizer.Value, prompt) };

    public override string TokenizerLabel(string component) => $"the tokenizer (templated; tokenizer_max_length {QwenImagePrompt.TokenizerMaxLength})";

    /// <summary>
    /// <c>_get_qwen_prompt_embeds</c> and <c>encode_prompt</c> for one prompt: the states of every position (one prompt
    /// has no padding), the first 34 dropped, cut to <c>max_sequence_length</c>; a mask of ones and the text positions.
    /// </summary>
    public override IReadOnlyList<DenoiserInput> Encode(IReadOnlyDictionary<string, int[]> ids, ResolvedGeneration run, string what, List<string> warnings)
    {
        int[] tokens = ids["tokenizer"];
        if (tokens.Length <= QwenImagePrompt.DropIndex)
        {
            throw new ArgumentException(
                $"{what} gives {tokens.Length} template tokens; Qwen-Image drops the first {QwenImagePrompt.DropIndex}, so more are needed.", nameof(ids));
        }

        var (states, width) = _textEncoder.Get().Encode(tokens);
        int kept = tokens.Length - QwenImagePrompt.DropIndex;
        int length = Math.Min(kept, run.MaxSequenceLength);
        if (kept > run.MaxSequenceLength)
        {
            warnings.Add($"{what} was truncated: the transformer gets {run.MaxSequenceLength} text tokens (max_sequence_length) of {kept}.");
        }

        if (width != _transformer.JointAttentionDim)
        {
            throw new InvalidDataException($"the text encoder gives states of width {width}; the transformer's joint_attention_dim is {_transformer.JointAttentionDim}.");
        }

        int latentHeight = run.Height / VaeScale, latentWidth = run.Width / VaeScale;
        return
        [
            DenoiserInput.PerRow("encoder_hidden_states", states.AsSpan(QwenImagePrompt.DropIndex * width, length * width).ToArray(), [length, width]),
            DenoiserInput.Filled("encoder_hidden_states_mask", 1.0, length),
            DenoiserInput.Positions("txt_ids", QwenImagePositions.TextIds(length, latentHeight, latentWidth)),
        ];
    }

    /// <summary>The centred image positions.</summary>
    public override IReadOnlyList<DenoiserInput> RunInputs(ResolvedGeneration run, int latentHeight, int latentWidth) =>
        [DenoiserInput.Positions("img_ids", QwenImagePositions.ImageIds(latentHeight, latentWidth))];
}
