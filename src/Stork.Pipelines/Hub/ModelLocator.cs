namespace Stork.Pipelines.Hub;

/// <summary>
/// What a <c>--model</c> (or an API caller) may name, resolved to a path, in this order: an existing file or folder;
/// a model shipped with Stork by name (<c>fashion-flux</c>, <c>fashion-flow-unet</c>, ...) or as
/// <c>models/NAME</c>, found in a <c>models/</c> folder beside the running program or above it, or above the current
/// directory (so the README's <c>--model models/fashion-eps-unet.json</c> works with the installed tool from any
/// folder); a Hugging Face repository <c>ORG/NAME[@REVISION]</c> in the Hub's cache (<see cref="HubClient.FindCached"/>,
/// no network). Anything else is returned unchanged, for the caller's own "does not exist" message.
/// </summary>
public static class ModelLocator
{
    private const string ModelsFolder = "models";

    private static readonly (string Name, string Entry)[] Shipped =
    [
        ("fashion-flux", "fashion-flux"),
        ("fashion-flow-unet", "fashion-flow-unet.json"),
        ("fashion-eps-unet", "fashion-eps-unet.json"),
        ("fashion-classifier", "fashion-classifier.json"),
        ("fashion-mnist-train1000", "fashion-mnist-train1000.npy"),
    ];

    /// <summary>The names of the shipped models: a text-to-image folder, model cards and a data set.</summary>
    public static IReadOnlyList<string> ShippedNames { get; } = [.. Shipped.Select(s => s.Name)];

    /// <summary>
    /// The full path of <c>models/<paramref name="entry"/></c> (a file or a folder), searched upward from the running
    /// program's folder (<see cref="AppContext.BaseDirectory"/>, where the tool package puts <c>models/</c>) and from the
    /// current directory; null when no folder above has it.
    /// </summary>
    public static string? FindShipped(string entry)
    {
        ArgumentNullException.ThrowIfNull(entry);
        foreach (string start in new[] { AppContext.BaseDirectory, Directory.GetCurrentDirectory() })
        {
            for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
            {
                string candidate = Path.Combine(dir.FullName, ModelsFolder, entry);
                if (File.Exists(candidate) || Directory.Exists(candidate))
                {
                    return candidate;
                }
            }
        }

        return null;
    }

    /// <summary>
    /// Resolves <paramref name="model"/> as the class summary says; <paramref name="hub"/> locates the Hub cache
    /// (<see cref="HubSettings.FromEnvironment"/> when null).
    /// </summary>
    /// <exception cref="DirectoryNotFoundException">A repository id that is not a local path and not in the cache.</exception>
    public static string Resolve(string model, HubSettings? hub = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        if (File.Exists(model) || Directory.Exists(model))
        {
            return model;
        }

        string written = model.Replace('\\', '/').TrimEnd('/');
        bool prefixed = written.StartsWith(ModelsFolder + "/", StringComparison.Ordinal);
        string relative = prefixed ? written[(ModelsFolder.Length + 1)..] : written;
        foreach (var (name, entry) in Shipped)
        {
            if ((relative == name || relative == entry) && FindShipped(entry) is { } shipped)
            {
                return shipped;
            }
        }

        if (prefixed && relative.Length > 0 && FindShipped(relative) is { } file)
        {
            return file;
        }

        if (HubRepository.LooksLikeId(written) && !Directory.Exists(written.Split('/')[0]))
        {
            var repository = HubRepository.Parse(written);
            hub ??= HubSettings.FromEnvironment();
            return HubClient.FindCached(hub, repository) ?? throw new DirectoryNotFoundException(
                $"model '{model}' was not found: no such file or folder here, no shipped model of that name ({string.Join(", ", ShippedNames)}), "
                + $"and no snapshot of the Hugging Face repository {repository} in the cache '{hub.CacheFolder}' (`stork pull {model}` downloads it).");
        }

        return model;
    }
}
