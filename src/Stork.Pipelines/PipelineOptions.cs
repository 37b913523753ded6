using Stork.Onnx;

namespace Stork.Pipelines;

/// <summary>How a pipeline uses ONNX Runtime and memory.</summary>
public sealed record PipelineOptions
{
    /// <summary>Execution provider, threads.</summary>
    public OnnxRuntimeOptions Runtime { get; init; } = new();

    /// <summary>
    /// Keep every component loaded between and during runs (faster for repeated prompts). By default a component is
    /// loaded when first needed and released when the run no longer needs it (text encoders before the denoising loop,
    /// the transformer before decoding, the VAE after it), so peak memory is about the largest component.
    /// </summary>
    public bool KeepLoaded { get; init; }
}
