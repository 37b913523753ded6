namespace Stork.Pipelines;

/// <summary>The text-to-image pipelines this library runs, by the diffusers class that defines each.</summary>
public enum PipelineFamily
{
    /// <summary>FLUX.1 schnell and dev (diffusers <c>FluxPipeline</c>).</summary>
    Flux,

    /// <summary>Stable Diffusion 3 and 3.5 (diffusers <c>StableDiffusion3Pipeline</c>).</summary>
    StableDiffusion3,

    /// <summary>Stable Diffusion 1.x and 2.x (diffusers <c>StableDiffusionPipeline</c>, <c>OnnxStableDiffusionPipeline</c>).</summary>
    StableDiffusion,

    /// <summary>Stable Diffusion XL (diffusers <c>StableDiffusionXLPipeline</c>).</summary>
    StableDiffusionXL,

    /// <summary>Qwen-Image (diffusers <c>QwenImagePipeline</c>; the ONNX layout is this project's own).</summary>
    QwenImage,
}
