using Stork.IO;

namespace Stork.Tests;

/// <summary>Inputs reached through symbolic links resolve as the operating system resolves them.</summary>
public class InputFileLinkTests
{
    [Fact]
    public void A_relative_link_inside_a_linked_folder_resolves_from_the_real_folder()
    {
        if (OperatingSystem.IsWindows())
        {
            return;
        }

        var root = Directory.CreateTempSubdirectory("stork-links-").FullName;
        try
        {
            // root/real/cfg.json; root/links/l.json -> ../real/cfg.json; root/a/b/outer -> ../../links (a folder link at another depth),
            // the layout of a model folder whose tokenizer folder is a link, or of Hugging Face's cache (snapshots -> blobs).
            Directory.CreateDirectory(Path.Combine(root, "real"));
            Directory.CreateDirectory(Path.Combine(root, "links"));
            Directory.CreateDirectory(Path.Combine(root, "a", "b"));
            File.WriteAllText(Path.Combine(root, "real", "cfg.json"), "{}");
            File.CreateSymbolicLink(Path.Combine(root, "links", "l.json"), "../real/cfg.json");
            Directory.CreateSymbolicLink(Path.Combine(root, "a", "b", "outer"), "../../links");
            var file = InputFile.Check(Path.Combine(root, "a", "b", "outer", "l.json"), "test file");
            Assert.Equal(Path.Combine(root, "real", "cfg.json"), file.FullName);
            Assert.Equal("{}", InputFile.ReadAllText(Path.Combine(root, "a", "b", "outer", "l.json"), "test file"));

            File.CreateSymbolicLink(Path.Combine(root, "loop1"), "loop2");
            File.CreateSymbolicLink(Path.Combine(root, "loop2"), "loop1");
            Assert.Throws<InvalidDataException>(() => InputFile.Check(Path.Combine(root, "loop1"), "test file"));
            File.CreateSymbolicLink(Path.Combine(root, "broken"), "missing");
            Assert.Throws<InvalidDataException>(() => InputFile.Check(Path.Combine(root, "broken"), "test file"));
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }
}
