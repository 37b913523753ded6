namespace Stork.Tests.Pipelines;

/// <summary>A writable copy of a tiny model folder (tokenizer links resolved), to damage or re-type in a test.</summary>
internal sealed class TinyFolder : IDisposable
{
    public TinyFolder(string family)
    {
        Root = Directory.CreateTempSubdirectory($"stork-{family}-").FullName;
        Copy(new DirectoryInfo(Path.Combine(PipelineCase.Root, "models", family)), Root);
    }

    public string Root { get; }

    public string PathOf(string relative) => Path.Combine(Root, relative);

    public void Replace(string relative, string source) => File.Copy(source, PathOf(relative), overwrite: true);

    public void Write(string relative, string text) => File.WriteAllText(PathOf(relative), text);

    /// <summary>Renames a graph input (or output) by rewriting the name everywhere in the protobuf, keeping its length.</summary>
    public void RenameInGraph(string relative, string name, string sameLengthName)
    {
        if (name.Length != sameLengthName.Length)
        {
            throw new ArgumentException("the names must have the same length.");
        }

        var bytes = File.ReadAllBytes(PathOf(relative));
        var from = System.Text.Encoding.ASCII.GetBytes(name);
        var to = System.Text.Encoding.ASCII.GetBytes(sameLengthName);
        int count = 0;
        for (int i = 0; i + from.Length <= bytes.Length; i++)
        {
            if (bytes.AsSpan(i, from.Length).SequenceEqual(from))
            {
                to.CopyTo(bytes, i);
                count++;
            }
        }

        Assert.True(count > 0, $"'{name}' not found in {relative}");
        File.WriteAllBytes(PathOf(relative), bytes);
    }

    private static void Copy(DirectoryInfo source, string target)
    {
        Directory.CreateDirectory(target);
        foreach (var f in source.GetFiles())
        {
            f.CopyTo(Path.Combine(target, f.Name));
        }

        foreach (var d in source.GetDirectories())
        {
            Copy(d, Path.Combine(target, d.Name));
        }
    }

    public void Dispose() => Directory.Delete(Root, recursive: true);
}
