namespace Stork.Pipelines;

/// <summary>Opens the pipeline a model folder's <c>model_index.json</c> names.</summary>
public static class TextToImage
{
    /// <summary>Loads the pipeline of the folder (components themselves load when first needed).</summary>
    public static ITextToImagePipeline Load(string folder, PipelineOptions? options = null)
    {
        var model = ModelFolder.Open(folder);
        options ??= new PipelineOptions();
        options.Runtime.Validate();
        return new TextToImagePipeline(FamilyTable.Open(model, options));
    }

    /// <summary>
    /// <see cref="ITextToImagePipeline.Generate"/> on the thread pool, for UI and server code that must not block: the
    /// work is the same synchronous ONNX Runtime calls, cancelled between them.
    /// </summary>
    public static Task<GenerationResult> GenerateAsync(this ITextToImagePipeline pipeline, GenerationRequest request,
        IProgress<GenerationProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(pipeline);
        ArgumentNullException.ThrowIfNull(request);
        return Task.Run(() => pipeline.Generate(request, progress, cancellationToken), cancellationToken);
    }
}
