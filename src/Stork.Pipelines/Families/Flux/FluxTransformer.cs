using Stork.IO;
using Stork.Onnx;
using Stork.Pipelines.Denoising;

namespace Stork.Pipelines.Flux;

/// <summary>
/// FLUX.1's transformer: its <c>config.json</c> (sizes, guidance_embeds) and the binder of its graph by name (Optimum's
/// names; <c>out_hidden_states</c>, <c>sample</c> or <c>latent</c> as the output; stored in <c>transformer/</c> or
/// <c>unet/</c>), typed from its metadata.
/// </summary>
internal sealed class FluxTransformer
{
    public FluxTransformer(JsonConfig config)
    {
        InChannels = config.Int("in_channels", 64);
        OutChannels = config.IntOrNull("out_channels") ?? InChannels;
        GuidanceEmbeds = config.Bool("guidance_embeds", false);
        JointAttentionDim = config.Int("joint_attention_dim", 4096);
        PooledProjectionDim = config.Int("pooled_projection_dim", 768);
        if (InChannels < 4 || InChannels % 4 != 0)
        {
            throw new InvalidDataException($"'{config.Path}': in_channels must be a positive multiple of 4 (got {InChannels}).");
        }

        if (OutChannels < 4 || OutChannels % 4 != 0 || OutChannels > InChannels)
        {
            throw new InvalidDataException($"'{config.Path}': out_channels must be a positive multiple of 4 up to in_channels (got {OutChannels}).");
        }
    }

    /// <summary>Packed channels (4 x latent channels).</summary>
    public int InChannels { get; }

    /// <summary>
    /// Features per packed token of the output: the latents' (FLUX.1 Fill's 384 and Control's 128 inputs carry the
    /// conditioning after the 64 latent features).
    /// </summary>
    public int OutChannels { get; }

    /// <summary>FLUX.1-dev: guidance is an input of the network.</summary>
    public bool GuidanceEmbeds { get; }

    public int JointAttentionDim { get; }

    public int PooledProjectionDim { get; }

    /// <summary>Opens and checks the graph.</summary>
    public DenoiserGraph Open(string path, OnnxRuntimeOptions runtime)
    {
        var inputs = new List<PortSpec>
        {
            PortSpec.Of("hidden_states"),
            PortSpec.Of("encoder_hidden_states"),
            PortSpec.Of("pooled_projections"),
            PortSpec.Of("timestep"),
            PortSpec.Of("img_ids"),
            PortSpec.Of("txt_ids"),
        };
        if (GuidanceEmbeds)
        {
            inputs.Add(PortSpec.Of("guidance"));
        }

        var graph = OnnxGraph.OpenDenoiser("transformer", path, runtime, inputs, [PortSpec.Of("out_hidden_states", "sample", "latent", "out_sample")]);
        try
        {
            FlowTransformerPorts.RequireFloat(graph.Input("hidden_states"), 3, InChannels);
            FlowTransformerPorts.RequireFloat(graph.Input("encoder_hidden_states"), 3, JointAttentionDim);
            FlowTransformerPorts.RequireFloat(graph.Input("pooled_projections"), 2, PooledProjectionDim);
            FlowTransformerPorts.RequireFloat(graph.Output("out_hidden_states"), 3, OutChannels);
            FlowTransformerPorts.RequireTimestepAndPositions(graph);
            if (GuidanceEmbeds && (graph.Input("guidance") is var g) && (!g.IsFloat || g.Rank > 1))
            {
                throw new InvalidDataException($"transformer: input {g.Describe()} is not a float guidance of rank 0 or 1.");
            }
        }
        catch
        {
            graph.Dispose();
            throw;
        }

        return new DenoiserGraph(graph, "hidden_states", "out_hidden_states");
    }
}
