namespace Stork.Pipelines.Hub;

/// <summary>Where a file of a pull stands.</summary>
public enum HubFileState
{
    /// <summary>Bytes are arriving; <see cref="HubProgress.Bytes"/> counts those on disk, resumed ones included.</summary>
    Downloading,

    /// <summary>The file was already in the cache; nothing was downloaded.</summary>
    Reused,

    /// <summary>The file was downloaded and checked.</summary>
    Done,
}

/// <summary>Progress of one file of a pull.</summary>
/// <param name="File">The file's path in the repository, e.g. <c>transformer/model.onnx</c>.</param>
/// <param name="FileIndex">Its index among the <paramref name="FileCount"/> files pulled.</param>
/// <param name="FileCount">The number of files pulled.</param>
/// <param name="Bytes">Bytes of the file on disk so far.</param>
/// <param name="Length">The file's length, as the Hub gives it.</param>
/// <param name="State">Where the file stands.</param>
public readonly record struct HubProgress(string File, int FileIndex, int FileCount, long Bytes, long Length, HubFileState State);

/// <summary>A pulled snapshot: the folder to load, and what the pull did.</summary>
/// <param name="Repository">The repository and the revision asked for.</param>
/// <param name="Commit">The commit the revision resolved to.</param>
/// <param name="Folder">The snapshot folder, <c>CACHE/models--ORG--NAME/snapshots/COMMIT</c>, a model folder.</param>
/// <param name="Files">The files of the snapshot that were pulled (repository paths).</param>
/// <param name="BytesDownloaded">Bytes downloaded by this pull (0 when everything was cached).</param>
/// <param name="FilesReused">Files found in the cache.</param>
/// <param name="FromCacheOnly">True when the Hub was not asked (offline, or unreachable with the snapshot cached).</param>
public sealed record HubSnapshot(HubRepository Repository, string Commit, string Folder, IReadOnlyList<string> Files, long BytesDownloaded, int FilesReused,
    bool FromCacheOnly);
