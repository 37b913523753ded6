using System.Security.Cryptography;

namespace Stork.Pipelines;

/// <summary>
/// The hashes of a model folder's graph files, for the metadata of its runs: every <c>.onnx</c> file and ONNX external
/// data file (<c>*.onnx_data</c>, <c>*.onnx.data</c>, <c>*.data</c>) in the folder and its component folders, by path in the
/// folder. A file that is a link to a Hugging Face cache blob named by a sha256 (what <c>stork pull</c> and
/// <c>huggingface_hub</c> write for large files, checked on download) takes that name without reading the file; others
/// are read once and their hash kept in a small cache keyed by the file's full path, length and modification time
/// (<c>STORK_CACHE</c>, else <c>XDG_CACHE_HOME/stork</c>, else <c>~/.cache/stork</c>; <c>hashes/</c>): a later run of a
/// 30 GB folder costs a stat per file, and a file rewritten in place (new length or time) is read again. The cache is
/// best effort: a folder that cannot be written only means the files are read again next time.
/// </summary>
internal static class ModelHashes
{
    private static readonly string[] Endings = [".onnx", ".onnx_data", ".onnx.data", ".data"];

    public static IReadOnlyDictionary<string, string> Of(string root)
    {
        var hashes = new SortedDictionary<string, string>(StringComparer.Ordinal);
        var folders = new[] { root }.Concat(Directory.EnumerateDirectories(root).Order(StringComparer.Ordinal));
        foreach (string folder in folders)
        {
            foreach (string file in Directory.EnumerateFiles(folder).Order(StringComparer.Ordinal))
            {
                if (Endings.Any(e => file.EndsWith(e, StringComparison.OrdinalIgnoreCase)))
                {
                    hashes[Path.GetRelativePath(root, file).Replace('\\', '/')] = "sha256:" + Hash(file);
                }
            }
        }

        return hashes;
    }

    private static string Hash(string file)
    {
        if (new FileInfo(file).LinkTarget is { } target && Path.GetFileName(target) is { Length: 64 } blob && blob.All(Uri.IsHexDigit))
        {
            return blob.ToLowerInvariant();
        }

        var info = new FileInfo(file);
        string? entry = CacheEntry(info);
        if (entry is not null && File.Exists(entry))
        {
            try
            {
                string cached = File.ReadAllText(entry).Trim();
                if (cached.Length == 64 && cached.All(Uri.IsHexDigit))
                {
                    return cached;
                }
            }
            catch (IOException)
            {
            }
            catch (UnauthorizedAccessException)
            {
            }
        }

        string hash;
        using (var stream = new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20, FileOptions.SequentialScan))
        {
            hash = Convert.ToHexStringLower(SHA256.HashData(stream));
        }

        if (entry is not null)
        {
            try
            {
                Directory.CreateDirectory(Path.GetDirectoryName(entry)!);
                Stork.IO.AtomicFile.WriteAllText(entry, hash);
            }
            catch (IOException)
            {
            }
            catch (UnauthorizedAccessException)
            {
            }
        }

        return hash;
    }

    /// <summary>The cache file of <paramref name="info"/>'s hash (named by a hash of its full path, length and time), or null without a home folder.</summary>
    internal static string? CacheEntry(FileInfo info)
    {
        string? root = Environment.GetEnvironmentVariable("STORK_CACHE") is { Length: > 0 } stork ? stork
            : Environment.GetEnvironmentVariable("XDG_CACHE_HOME") is { Length: > 0 } xdg ? Path.Combine(xdg, "stork")
            : Environment.GetFolderPath(Environment.SpecialFolder.UserProfile) is { Length: > 0 } home ? Path.Combine(home, ".cache", "stork")
            : null;
        if (root is null)
        {
            return null;
        }

        string key = string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{info.FullName}|{info.Length}|{info.LastWriteTimeUtc.Ticks}");
        return Path.Combine(root, "hashes", Convert.ToHexStringLower(SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(key))));
    }
}
