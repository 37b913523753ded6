using Stork.IO;
using Stork.Onnx;
using Stork.Pipelines.Denoising;

namespace Stork.Pipelines.QwenImage;

/// <summary>
/// Qwen-Image's transformer (<c>QwenImageTransformer2DModel</c> with positions as inputs): its <c>config.json</c> and
/// the binder of its graph: <c>hidden_states</c> [B, S, 64], <c>encoder_hidden_states</c> [B, T, D],
/// <c>encoder_hidden_states_mask</c> [B, T], <c>timestep</c> [B] (sigma), <c>img_ids</c> [S, 3], <c>txt_ids</c> [T, 3]
/// in; <c>out_hidden_states</c> [B, S, 64] out.
/// </summary>
internal sealed class QwenImageTransformer
{
    private static readonly string[] InputNames =
        ["hidden_states", "encoder_hidden_states", "encoder_hidden_states_mask", "timestep", "img_ids", "txt_ids"];

    public QwenImageTransformer(JsonConfig config)
    {
        InChannels = config.Int("in_channels", 64);
        JointAttentionDim = config.Int("joint_attention_dim", 3584);
        if (InChannels < 4 || InChannels % 4 != 0)
        {
            throw new InvalidDataException($"'{config.Path}': in_channels must be a positive multiple of 4 (got {InChannels}).");
        }

        if (config.Bool("guidance_embeds", false))
        {
            throw new InvalidDataException($"'{config.Path}': guidance_embeds is true; the Qwen-Image graph layout has no guidance input.");
        }
    }

    /// <summary>Packed channels (4 x latent channels).</summary>
    public int InChannels { get; }

    /// <summary>The text hidden size the transformer takes.</summary>
    public int JointAttentionDim { get; }

    /// <summary>Opens and checks the graph.</summary>
    public DenoiserGraph Open(string path, OnnxRuntimeOptions runtime)
    {
        var graph = OnnxGraph.OpenDenoiser("transformer", path, runtime, [.. InputNames.Select(n => PortSpec.Of(n))],
            [PortSpec.Of("out_hidden_states", "sample", "out_sample")]);
        try
        {
            FlowTransformerPorts.RequireFloat(graph.Input("hidden_states"), 3, InChannels);
            FlowTransformerPorts.RequireFloat(graph.Input("encoder_hidden_states"), 3, JointAttentionDim);
            FlowTransformerPorts.RequireFloat(graph.Output("out_hidden_states"), 3, InChannels);
            var mask = graph.Input("encoder_hidden_states_mask");
            if (mask.Rank != 2)
            {
                throw new InvalidDataException($"transformer: input {mask.Describe()} is not a mask [B, T].");
            }

            FlowTransformerPorts.RequireTimestepAndPositions(graph);
        }
        catch
        {
            graph.Dispose();
            throw;
        }

        return new DenoiserGraph(graph, "hidden_states", "out_hidden_states");
    }
}
