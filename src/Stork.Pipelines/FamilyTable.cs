using Stork.Pipelines.Flux;
using Stork.Pipelines.QwenImage;
using Stork.Pipelines.StableDiffusion;

namespace Stork.Pipelines;

/// <summary>
/// The text-to-image families this library runs: ONE table from a diffusers pipeline class (<c>_class_name</c> of
/// <c>model_index.json</c>, also with the <c>Onnx</c> or <c>ORT</c> prefix exporters add) to the family that opens
/// the folder. Adding a family is one line here (see CONTRIBUTING.md).
/// </summary>
internal static class FamilyTable
{
    private static readonly Dictionary<string, Func<ModelFolder, PipelineOptions, Family>> Families = new(StringComparer.Ordinal)
    {
        ["FluxPipeline"] = (folder, options) => new FluxFamily(folder, options),
        ["StableDiffusion3Pipeline"] = (folder, options) => new StableDiffusion3Family(folder, options),
        ["StableDiffusionPipeline"] = (folder, options) => new StableDiffusionFamily(folder, options),
        ["StableDiffusionXLPipeline"] = (folder, options) => new StableDiffusionXLFamily(folder, options),
        ["QwenImagePipeline"] = (folder, options) => new QwenImageFamily(folder, options),

        // Image-input classes (issue 21): the same families; the class and the inputs choose the task (ImageTasks).
        ["FluxImg2ImgPipeline"] = (folder, options) => new FluxFamily(folder, options),
        ["FluxInpaintPipeline"] = (folder, options) => new FluxFamily(folder, options),
        ["FluxFillPipeline"] = (folder, options) => new FluxFamily(folder, options),
        ["FluxKontextPipeline"] = (folder, options) => new FluxFamily(folder, options),
        ["FluxControlPipeline"] = (folder, options) => new FluxFamily(folder, options),
        ["StableDiffusion3Img2ImgPipeline"] = (folder, options) => new StableDiffusion3Family(folder, options),
        ["StableDiffusion3InpaintPipeline"] = (folder, options) => new StableDiffusion3Family(folder, options),
        ["StableDiffusionImg2ImgPipeline"] = (folder, options) => new StableDiffusionFamily(folder, options),
        ["StableDiffusionInpaintPipeline"] = (folder, options) => new StableDiffusionFamily(folder, options),
        ["StableDiffusionXLImg2ImgPipeline"] = (folder, options) => new StableDiffusionXLFamily(folder, options),
        ["StableDiffusionXLInpaintPipeline"] = (folder, options) => new StableDiffusionXLFamily(folder, options),
        ["QwenImageImg2ImgPipeline"] = (folder, options) => new QwenImageFamily(folder, options),
        ["QwenImageInpaintPipeline"] = (folder, options) => new QwenImageFamily(folder, options),
    };

    /// <summary>The pipeline classes accepted (without prefix).</summary>
    public static IReadOnlyCollection<string> Classes => Families.Keys;

    /// <summary>Whether <paramref name="pipelineClass"/> (without prefix) names a family.</summary>
    public static bool Contains(string pipelineClass) => Families.ContainsKey(pipelineClass);

    /// <summary>Opens <paramref name="folder"/> as its family (configurations read and checked; components load when first needed).</summary>
    public static Family Open(ModelFolder folder, PipelineOptions options) => Families[folder.PipelineClass](folder, options);
}
