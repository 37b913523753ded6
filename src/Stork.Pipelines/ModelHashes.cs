using System.Security.Cryptography;

namespace Stork.Pipelines;

/// <summary>
/// The hashes of a model folder's graph files, for the metadata of its runs: every <c>.onnx</c> file and ONNX external
/// data file (<c>*.onnx_data</c>, <c>*.onnx.data</c>, <c>*.data</c>) in the folder and its component folders, by path in the
/// folder. A file that is a link to a Hugging Face cache blob named by a sha256 (what <c>stork pull</c> and
/// <c>huggingface_hub</c> write for large files, checked on download) takes that name without reading the file; others
/// are read once per loaded pipeline (about 1 GB/s).
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

        using var stream = new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20, FileOptions.SequentialScan);
        return Convert.ToHexStringLower(SHA256.HashData(stream));
    }
}
