using Stork.Pipelines.Tokenizers;

namespace Stork.Pipelines;

/// <summary>
/// A text-to-image pipeline over a model folder: load once, generate many. Thread-compatible, not thread-safe: one
/// <see cref="Generate"/> at a time.
/// </summary>
public interface ITextToImagePipeline : IDisposable
{
    /// <summary>The model folder the pipeline was loaded from.</summary>
    ModelFolder Folder { get; }

    /// <summary>The family's defaults (steps, guidance, size, sequence length, scheduler) for this folder.</summary>
    GenerationDefaults Defaults { get; }

    /// <summary>Runs the pipeline. Cancellation is honoured between network calls.</summary>
    GenerationResult Generate(GenerationRequest request, IProgress<GenerationProgress>? progress = null, CancellationToken cancellationToken = default);

    /// <summary>
    /// Checks <paramref name="request"/> as <see cref="Generate"/> does before any work (steps, count, size, guidance, the
    /// image inputs and the class they choose, a missing <c>vae_encoder</c>) without running anything: throws the
    /// <see cref="ArgumentException"/> or <see cref="InvalidDataException"/> that <see cref="Generate"/> would, else
    /// returns the settings resolved so far (size, guidance, count; no scheduler or times yet). A server checks requests
    /// with it before queueing them.
    /// </summary>
    ResolvedGeneration Check(GenerationRequest request);

    /// <summary>The ids each tokenizer gives for <paramref name="prompt"/>, padded as the pipeline feeds them, keyed by component.</summary>
    IReadOnlyDictionary<string, TokenizedText> Tokenize(string prompt, int? maxSequenceLength = null);
}

/// <summary>
/// A family's defaults, as diffusers' pipeline and the checkpoint's configuration give them, overridden by the folder's
/// own <c>_stork_defaults</c> (see <see cref="FolderDefaults"/>). <see cref="NegativePrompt"/> and
/// <see cref="TrueCfgScale"/> are used together, for a request that gives neither (null: no true CFG by default).
/// </summary>
public sealed record GenerationDefaults(int Steps, double? GuidanceScale, int Height, int Width, int MaxSequenceLength, string Scheduler,
    string? NegativePrompt = null, double? TrueCfgScale = null);
