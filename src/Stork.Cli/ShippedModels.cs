using Stork.Pipelines.Hub;

namespace Stork.Cli;

/// <summary>
/// Finds the models shipped in the repository's <c>models/</c> folder: searched upward from the executable's folder
/// (<see cref="AppContext.BaseDirectory"/>) and from the current directory (<see cref="ModelLocator"/>, the library's
/// resolver of model names, which the API uses too).
/// </summary>
internal static class ShippedModels
{
    /// <summary>The card of the default model of <c>stork sample</c> and <c>stork compare</c>.</summary>
    public const string DefaultCard = "fashion-flow-unet.json";

    /// <summary>
    /// The default model folder of <c>stork generate</c> and <c>stork tokenize</c>: a small text-to-image model in the
    /// FLUX.1 ONNX layout trained on Fashion-MNIST (tools/train_fashion_flux.py), 32 x 32 images by default.
    /// </summary>
    public const string DefaultTextToImage = "fashion-flux";

    /// <summary>The default text-to-image folder; a <see cref="CliException"/> when it is not there.</summary>
    public static string DefaultTextToImageFolder()
    {
        string? index = Find(Path.Combine(DefaultTextToImage, "model_index.json"));
        return index is not null ? Path.GetDirectoryName(index)! : throw new CliException(
            $"no --model given and the shipped model folder models/{DefaultTextToImage}/ was not found above '{AppContext.BaseDirectory}' or the current directory; pass --model.");
    }

    /// <summary>The full path of <c>models/<paramref name="file"/></c>, or null when no folder above has it.</summary>
    public static string? Find(string file) => ModelLocator.FindShipped(file);

    /// <summary>
    /// What <c>--model</c> names: a path as given, a shipped model by name (<c>fashion-flux</c>, <c>models/fashion-eps-unet.json</c>,
    /// ...) from any folder, or a Hugging Face repository in the cache (<see cref="ModelLocator.Resolve"/>).
    /// </summary>
    public static string Resolve(string model) => ModelLocator.Resolve(model);

    /// <summary>The text-to-image folder of <c>--model</c>, or the shipped default when it is not given.</summary>
    public static string TextToImageFolder(string? model) => model is null ? DefaultTextToImageFolder() : Resolve(model);

    /// <summary>The default model's card; a <see cref="CliException"/> when it is not there.</summary>
    public static string Default() => Find(DefaultCard) ?? throw new CliException(
        $"no --model given and the shipped model models/{DefaultCard} was not found above '{AppContext.BaseDirectory}' or the current directory; pass --model.");
}
