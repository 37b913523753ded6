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
}
