namespace Stork.Pipelines;

/// <summary>
/// Progress of a generation: the stage, and within denoising the model evaluations finished (0 when denoising starts)
/// and the solver time (<see cref="Time"/> is 0 outside denoising). After a <see cref="GenerationStage.Loading"/> report
/// the stage the run was in is reported again (within denoising, by the next step).
/// </summary>
public readonly record struct GenerationProgress(GenerationStage Stage, int Step, int Steps, double Time);

/// <summary>The stages of a text-to-image run.</summary>
public enum GenerationStage
{
    /// <summary>The text encoders encode the prompt.</summary>
    EncodingText,
    /// <summary>The solver steps over the latents.</summary>
    Denoising,
    /// <summary>The VAE decodes the final latents to images.</summary>
    Decoding,
    /// <summary>A component (text encoder, denoiser, VAE) is about to load: reported before each load, which can take minutes.</summary>
    Loading,
}
