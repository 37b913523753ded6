using Stork.Onnx;
using Stork.Pipelines.Denoising;

namespace Stork.Pipelines;

/// <summary>
/// The binder of an unpacked denoiser graph (SD1.5/SDXL UNet, SD3 transformer) by name: latents <c>[B, C, h, w]</c> in
/// as <c>sample</c>, a timestep of rank 0 or 1, the family's conditioning inputs, one output of the latents' shape.
/// </summary>
internal static class DenoiserNetwork
{
    /// <param name="component">The component folder name.</param>
    /// <param name="path">The graph.</param>
    /// <param name="runtime">ONNX Runtime options.</param>
    /// <param name="sample">The latent input, logical name <c>sample</c> (aliases: the family's Optimum name).</param>
    /// <param name="conditions">The family's conditioning inputs.</param>
    /// <param name="channels">Latent channels.</param>
    public static DenoiserGraph Open(string component, string path, OnnxRuntimeOptions runtime, PortSpec sample, IReadOnlyList<PortSpec> conditions, int channels)
    {
        var inputs = new List<PortSpec> { sample, PortSpec.Of("timestep", "t", "timesteps") };
        inputs.AddRange(conditions);
        var graph = OnnxGraph.OpenDenoiser(component, path, runtime, inputs, [PortSpec.Of("out_sample", "out_hidden_states", "sample", "noise_pred")]);
        try
        {
            var x = graph.Input("sample");
            if (x.Rank != 4 || !x.IsFloat || x.Fixed(1) is { } c && c != channels)
            {
                throw new InvalidDataException($"{component}: input {x.Describe()} is not float latents [B, {channels}, h, w].");
            }

            var o = graph.Output("out_sample");
            if (o.Rank != 4 || !o.IsFloat)
            {
                throw new InvalidDataException($"{component}: output {o.Describe()} is not float latents [B, C, h, w].");
            }

            var t = graph.Input("timestep");
            if (!t.IsFloat && !t.IsInteger || t.Rank > 1)
            {
                throw new InvalidDataException($"{component}: input {t.Describe()} is not a timestep of rank 0 or 1.");
            }
        }
        catch
        {
            graph.Dispose();
            throw;
        }

        return new DenoiserGraph(graph, "sample", "out_sample");
    }
}
