namespace Stork.Cli;

/// <summary>
/// Finds the models shipped in the repository's <c>models/</c> folder: searched upward from the executable's folder
/// (<see cref="AppContext.BaseDirectory"/>) and from the current directory.
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
    public static string? Find(string file)
    {
        foreach (string start in new[] { AppContext.BaseDirectory, Directory.GetCurrentDirectory() })
        {
            for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
            {
                string candidate = Path.Combine(dir.FullName, "models", file);
                if (File.Exists(candidate))
                {
                    return candidate;
                }
            }
        }

        return null;
    }

    /// <summary>The default model's card; a <see cref="CliException"/> when it is not there.</summary>
    public static string Default() => Find(DefaultCard) ?? throw new CliException(
        $"no --model given and the shipped model models/{DefaultCard} was not found above '{AppContext.BaseDirectory}' or the current directory; pass --model.");
}
