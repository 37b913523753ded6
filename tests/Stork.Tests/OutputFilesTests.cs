using Stork.IO;

namespace Stork.Tests;

/// <summary>Outputs declared before any work, named as the caller names them, written together or not at all.</summary>
public sealed class OutputFilesTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("stork-outputs-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string PathOf(string name) => Path.Combine(_dir, name);

    [Fact]
    public void Clashes_and_missing_folders_fail_when_declared_naming_the_output()
    {
        var files = new OutputFiles();
        File.WriteAllText(PathOf("in.txt"), "x");
        files.Input(PathOf("in.txt"));
        var e = Assert.Throws<ArgumentException>(() => files.Output(PathOf("in.txt"), "the result"));
        Assert.StartsWith("the result '", e.Message, StringComparison.Ordinal);
        Assert.Contains("would overwrite the input", e.Message, StringComparison.Ordinal);

        var other = new OutputFiles();
        other.Output(PathOf("a.png"), "first");
        Assert.Contains("is the same file as first", Assert.Throws<ArgumentException>(() => other.Output(PathOf("a.png"), "second")).Message, StringComparison.Ordinal);
        Assert.Contains("does not exist", Assert.Throws<ArgumentException>(() => other.Output(PathOf("no/b.png"), "third")).Message, StringComparison.Ordinal);
        Assert.Contains("is a folder", Assert.Throws<ArgumentException>(() => other.Output(_dir, "fourth")).Message, StringComparison.Ordinal);
        other.Output(PathOf("made/c.png"), "fifth", createFolder: true);
    }

    [Fact]
    public void Commit_writes_every_output_and_a_cancelled_one_writes_none()
    {
        File.WriteAllText(PathOf("b.txt"), "old");
        var cancelled = new OutputFiles();
        cancelled.Output(PathOf("a.txt"), "a");
        cancelled.Output(PathOf("b.txt"), "b");
        cancelled.SetText(PathOf("a.txt"), "new a");
        cancelled.SetText(PathOf("b.txt"), "new b");
        Assert.Throws<OperationCanceledException>(() => cancelled.Commit(new CancellationToken(canceled: true)));
        Assert.False(File.Exists(PathOf("a.txt")));
        Assert.Equal("old", File.ReadAllText(PathOf("b.txt")));
        Assert.Equal(["b.txt"], Directory.GetFiles(_dir).Select(Path.GetFileName));

        var files = new OutputFiles();
        files.Output(PathOf("a.txt"), "a");
        files.Output(PathOf("sub/b.txt"), "b", createFolder: true);
        files.SetText(PathOf("a.txt"), "new a");
        files.Set(PathOf("sub/b.txt"), [1, 2, 3]);
        Assert.Throws<InvalidOperationException>(() => files.Set(PathOf("undeclared.txt"), []));
        files.Commit(CancellationToken.None);
        Assert.Equal("new a", File.ReadAllText(PathOf("a.txt")));
        Assert.Equal([1, 2, 3], File.ReadAllBytes(PathOf("sub/b.txt")));
    }
}
