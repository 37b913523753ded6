using System.Security.Cryptography;
using Stork.Pipelines;

namespace Stork.Tests.Pipelines;

/// <summary>A model folder's graph hashes: read once, then taken from the cache until the file changes.</summary>
public class ModelHashesTests
{
    [Fact]
    public void A_hash_is_cached_by_path_length_and_time_and_a_changed_file_is_read_again()
    {
        string root = Directory.CreateTempSubdirectory("stork-hashes-").FullName;
        try
        {
            string unet = Path.Combine(root, "unet");
            Directory.CreateDirectory(unet);
            string graph = Path.Combine(unet, "model.onnx");
            File.WriteAllBytes(graph, [1, 2, 3]);
            File.WriteAllText(Path.Combine(unet, "config.json"), "{}");
            string expected = "sha256:" + Convert.ToHexStringLower(SHA256.HashData(new byte[] { 1, 2, 3 }));
            Assert.Equal(new Dictionary<string, string> { ["unet/model.onnx"] = expected }, ModelHashes.Of(root));

            // The cache answers while the file is unchanged (a planted entry proves it is read, not the file) ...
            string entry = ModelHashes.CacheEntry(new FileInfo(graph))!;
            Assert.True(File.Exists(entry));
            string planted = new('a', 64);
            File.WriteAllText(entry, planted);
            Assert.Equal("sha256:" + planted, ModelHashes.Of(root)["unet/model.onnx"]);

            // ... and a file rewritten in place (another length and time) is read again.
            File.WriteAllBytes(graph, [1, 2, 3, 4]);
            File.SetLastWriteTimeUtc(graph, DateTime.UtcNow.AddMinutes(1));
            Assert.Equal("sha256:" + Convert.ToHexStringLower(SHA256.HashData(new byte[] { 1, 2, 3, 4 })), ModelHashes.Of(root)["unet/model.onnx"]);
            File.Delete(entry);
        }
        finally
        {
            Directory.Delete(root, true);
        }
    }
}
