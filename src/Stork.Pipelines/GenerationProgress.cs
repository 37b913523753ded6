namespace Stork.Pipelines;

/// <summary>Progress of a generation: the stage, and within denoising the step finished.</summary>
public readonly record struct GenerationProgress(GenerationStage Stage, int Step, int Steps, double Time);

/// <summary>The stages of a text-to-image run.</summary>
public enum GenerationStage
{
    EncodingText,
    Denoising,
    Decoding,
}
