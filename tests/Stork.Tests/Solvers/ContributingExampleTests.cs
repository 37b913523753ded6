namespace Stork.Tests.Solvers;

/// <summary>CONTRIBUTING's worked solver example is the registered solver's file, word for word.</summary>
public class ContributingExampleTests
{
    [Fact]
    public void TheWorkedSolverExampleIsTheRealFile()
    {
        string root = SolverOptionTests.RepositoryRoot();
        string guide = File.ReadAllText(Path.Combine(root, "CONTRIBUTING.md")).ReplaceLineEndings("\n");
        string file = File.ReadAllText(Path.Combine(root, "src", "Stork", "Solvers", "Standard", "AdamsBashforth2.cs")).ReplaceLineEndings("\n");
        const string Fence = "```csharp\n";
        int start = guide.IndexOf("`src/Stork/Solvers/Standard/AdamsBashforth2.cs`:\n\n" + Fence, StringComparison.Ordinal);
        Assert.True(start >= 0, "CONTRIBUTING.md no longer shows AdamsBashforth2.cs in a csharp block");
        start = guide.IndexOf(Fence, start, StringComparison.Ordinal) + Fence.Length;
        int end = guide.IndexOf("```\n", start, StringComparison.Ordinal);
        Assert.Equal(file, guide[start..end]);
    }
}
