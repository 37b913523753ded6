namespace Stork.Cli;

/// <summary>
/// Finds the models shipped in the repository's <c>models/</c> folder: searched upward from the executable's folder
/// (<see cref="AppContext.BaseDirectory"/>) and from the current directory.
/// </summary>
internal static class ShippedModels
{
    /// <summary>The card of the default model of <c>stork sample</c> and <c>stork compare</c>.</summary>
    public const string DefaultCard = "fashion-flow-unet.json";

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
