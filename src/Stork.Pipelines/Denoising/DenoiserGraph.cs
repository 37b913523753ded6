using Stork.Onnx;

namespace Stork.Pipelines.Denoising;

/// <summary>
/// A family's denoiser graph (UNet or transformer) opened and checked by its binder, with the logical names of its latent
/// input and its output (the timestep input is always <c>timestep</c>).
/// </summary>
internal sealed class DenoiserGraph(OnnxGraph graph, string sample, string output) : IOnnxComponent
{
    public OnnxGraph Graph { get; } = graph;

    /// <summary>Logical name of the latent input.</summary>
    public string Sample { get; } = sample;

    /// <summary>Logical name of the output.</summary>
    public string Output { get; } = output;

    public TimeSpan RunTime => Graph.RunTime;

    public void Dispose() => Graph.Dispose();
}
