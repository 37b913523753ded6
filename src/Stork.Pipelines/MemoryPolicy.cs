namespace Stork.Pipelines;

/// <summary>
/// Which components stay loaded between the phases of a run and across the prompts of a batch. Loading is paid again
/// for every component that is released (the real-size SD1.5 UNet: seconds per prompt); keeping one adds its weights to
/// the peak of every other phase.
/// </summary>
public enum MemoryPolicy
{
    /// <summary>
    /// Every component is loaded when first needed and released when the run is done with it (text encoders before the
    /// denoising loop, the denoiser before decoding, the VAE after it): the peak is the largest component plus its
    /// working memory. The default.
    /// </summary>
    Low,

    /// <summary>
    /// The denoiser (the largest component and the longest load) stays loaded across prompts; the text encoders and the
    /// VAE are loaded per prompt and released: the peak is the denoiser plus the larger of the others.
    /// </summary>
    Balanced,

    /// <summary>Every component stays loaded (what <see cref="PipelineOptions.KeepLoaded"/> means): the peak is the sum.</summary>
    High,
}
