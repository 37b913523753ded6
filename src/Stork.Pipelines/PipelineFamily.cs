namespace Stork.Pipelines;

/// <summary>The text-to-image pipelines this library runs, by the diffusers class that defines each.</summary>
public enum PipelineFamily
{
    /// <summary>FLUX.1 schnell and dev (diffusers <c>FluxPipeline</c>).</summary>
    Flux,
}
