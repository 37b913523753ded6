namespace Stork.Pipelines;

/// <summary>Progress of a generation: the stage, and within denoising the step finished.</summary>
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
}
