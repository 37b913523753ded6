using System.Text.RegularExpressions;

namespace Stork.Tests.Pipelines;

/// <summary>
/// CONTRIBUTING.md's worked "adding a text-to-image family" example is the real code: each code block marked
/// <c>&lt;!-- whole file: PATH --&gt;</c> is that file, each marked <c>&lt;!-- line: PATH --&gt;</c> is a line of it.
/// </summary>
public sealed partial class ContributingExampleTests
{
    [GeneratedRegex(@"<!-- (whole file|line): (\S+) -->\s*```csharp\n(.*?)\n```", RegexOptions.Singleline)]
    private static partial Regex MarkedBlock();

    private static string? RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "CONTRIBUTING.md")) && Directory.Exists(Path.Combine(dir.FullName, "src")))
            {
                return dir.FullName;
            }
        }

        return null;
    }

    [Fact]
    public void The_family_example_blocks_are_the_files_they_name()
    {
        string root = RepositoryRoot() ?? throw new DirectoryNotFoundException("CONTRIBUTING.md not found above the test binaries.");
        string text = File.ReadAllText(Path.Combine(root, "CONTRIBUTING.md")).ReplaceLineEndings("\n");
        string section = text[text.IndexOf("## Adding a text-to-image family", StringComparison.Ordinal)..];
        var blocks = MarkedBlock().Matches(section);
        Assert.Equal(3, blocks.Count);
        foreach (Match m in blocks)
        {
            string file = File.ReadAllText(Path.Combine(root, m.Groups[2].Value)).ReplaceLineEndings("\n").TrimEnd('\n');
            string block = m.Groups[3].Value;
            if (m.Groups[1].Value == "whole file")
            {
                Assert.Equal(file, block);
            }
            else
            {
                Assert.Contains(file.Split('\n'), line => line.Trim() == block.Trim());
            }
        }
    }
}
