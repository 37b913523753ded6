using Stork.Pipelines.Flux;
using Stork.Pipelines.QwenImage;
using Stork.Pipelines.StableDiffusion;
using Stork.Pipelines.StableDiffusion3;
using Stork.Pipelines.StableDiffusionXL;

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
        return model.Family switch
        {
            PipelineFamily.Flux => new FluxPipeline(model, options),
            PipelineFamily.StableDiffusion3 => new StableDiffusion3Pipeline(model, options),
            PipelineFamily.StableDiffusion => new StableDiffusionPipeline(model, options),
            PipelineFamily.StableDiffusionXL => new StableDiffusionXLPipeline(model, options),
            PipelineFamily.QwenImage => new QwenImagePipeline(model, options),
            _ => throw new InvalidDataException($"pipeline family {model.Family} is not supported."),
        };
    }
}
