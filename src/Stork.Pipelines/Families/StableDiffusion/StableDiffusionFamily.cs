using Stork.Onnx;
using Stork.Pipelines.Denoising;

namespace Stork.Pipelines.StableDiffusion;

/// <summary>
/// SD1.5 / SD2.x exactly as diffusers' <c>StableDiffusionPipeline</c> (also the <c>OnnxStableDiffusionPipeline</c>
/// layout: int32 ids, a [B] timestep): the CLIP <c>last_hidden_state</c> of the prompt and, with guidance above 1, of
/// the negative prompt (empty when none is given), batched <c>[negative, positive]</c>; epsilon or v-prediction, the
/// discrete VP schedule of the scheduler configuration's betas with its spacing and offset, the UNet fed the
/// scheduler's timestep as float; the VAE decode of <c>z / scaling_factor</c>.
/// </summary>
/// <remarks>
/// diffusers' defaults: 50 steps, guidance 7.5, the UNet's <c>sample_size</c> times the VAE factor (512 for SD1.5, 768
/// for SD2.x), the folder's scheduler configuration.
/// </remarks>
internal sealed class StableDiffusionFamily : Family
{
    private readonly TextBranch _clip;
    private readonly int _crossAttentionDim;

    public StableDiffusionFamily(ModelFolder folder, PipelineOptions options)
        : base(folder, options, new FamilyTraits("Stable Diffusion", LatentLayout.Unpacked, GuidanceKind.BatchedCfg, SchedulerKind.DiscreteVp, MaxSequenceLimit: null))
    {
        var unet = folder.Config("unet");
        InputChannels = unet.Int("in_channels", 4);
        LatentChannels = unet.IntOrNull("out_channels") ?? InputChannels;
        _crossAttentionDim = unet.Int("cross_attention_dim", 768);
        VaeScale = VaeDecoder.ScaleFactorOf(folder.Config("vae_decoder", "vae"));
        folder.Graph("vae_decoder", "vae");
        _ = folder.SchedulerConfigPath;
        var runtime = options.Runtime;
        _clip = Text("tokenizer", "tokenizer (CLIP)", g => new TextEncoder("text_encoder", g, runtime, [PortSpec.Of("last_hidden_state")]), "text_encoder");
        string unetGraph = folder.Graph("unet");
        Denoiser = Slot(() => DenoiserNetwork.Open("unet", unetGraph, runtime, PortSpec.Of("sample", "latent_sample"), [PortSpec.Of("encoder_hidden_states")], InputChannels));
        Decoder = Slot<ILatentDecoder>(() => new VaeDecoder(folder, runtime));
        int side = unet.Int("sample_size", 64) * VaeScale;
        Defaults = new GenerationDefaults(50, 7.5, side, side, 77, "model scheduler_config.json");
    }

    /// <summary>The UNet's input channels: 9 for an inpainting UNet ([latents ‖ mask ‖ masked-image latents]), else the latents'.</summary>
    public int InputChannels { get; }

    /// <summary>The CLIP <c>last_hidden_state</c>.</summary>
    public override IReadOnlyList<DenoiserInput> Encode(IReadOnlyDictionary<string, int[]> ids, ResolvedGeneration run, string what, List<string> warnings)
    {
        int length = ids[_clip.Tokenizer].Length;
        var (values, shape) = _clip.Encode(ids, "last_hidden_state")[0];
        if (shape.Length != 3 || shape[0] != 1 || shape[1] != length || shape[2] != _crossAttentionDim)
        {
            throw new InvalidDataException(
                $"text_encoder: last_hidden_state has shape [{string.Join(", ", shape)}]; the UNet's cross_attention_dim is {_crossAttentionDim} (expected [1, {length}, {_crossAttentionDim}]).");
        }

        return [DenoiserInput.PerRow("encoder_hidden_states", values, [length, _crossAttentionDim])];
    }
}
