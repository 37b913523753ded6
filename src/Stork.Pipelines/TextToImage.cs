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

    /// <summary>
    /// The memory a run of <paramref name="images"/> images per request needs (<see cref="MemoryEstimate"/>), at the given
    /// size or the model's default: a family that batches classifier-free guidance (SD1.5/2.x, SDXL, SD3) runs twice the
    /// images per denoiser call when its guidance scale (<paramref name="guidanceScale"/> or the default) is above 1.
    /// </summary>
    public static MemoryEstimate EstimateMemory(this ITextToImagePipeline pipeline, int? height, int? width, int images, double? guidanceScale, MemoryPolicy policy)
    {
        ArgumentNullException.ThrowIfNull(pipeline);
        bool doubled = pipeline is TextToImagePipeline { Family.Guidance: Denoising.GuidanceKind.BatchedCfg } && (guidanceScale ?? pipeline.Defaults.GuidanceScale ?? 1) > 1;
        return MemoryEstimate.For(pipeline.Folder, height ?? pipeline.Defaults.Height, width ?? pipeline.Defaults.Width, images * (doubled ? 2 : 1), policy);
    }
}
