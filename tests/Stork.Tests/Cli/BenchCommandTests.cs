namespace Stork.Tests.Cli;

public class BenchCommandTests
{
    [Fact]
    public void BenchOdeWritesTheTableCsvAndPlotWithThePeerTableNumbers()
    {
        using var h = new CliHarness();
        string a = Path.Combine(Golden.Root, "anchors");
        var (code, output, err) = h.Run("bench", "ode", "--model", Path.Combine(a, "gmm8.json"), "--prediction", "flow",
            "--noise", Path.Combine(a, "gmm8-flow.noise.npy"), "--exact", Path.Combine(a, "gmm8-flow.exact.npy"),
            "--solvers", "stork-4[variant=upstream,s=50,d=1],stork-4", "--nfe", "10,20", "--out-dir", h.PathOf("ode"));
        Assert.True(code == 0, err);
        Assert.Contains("| stork-4[variant=upstream,s=50,d=1] | 2.09e-2 | 5.28e-3 |", output);
        foreach (string f in new[] { "ode.md", "ode.csv", "ode.png" })
        {
            Assert.True(File.Exists(Path.Combine(h.PathOf("ode"), f)), f);
        }

        Assert.Equal(5, File.ReadAllLines(Path.Combine(h.PathOf("ode"), "ode.csv")).Length);
    }

    [Fact]
    public void BenchQualityRunsEndToEndAndResumes()
    {
        using var h = new CliHarness();
        string[] args = ["bench", "quality", "--samples", "6", "--rmse-samples", "2", "--nfe", "2", "--solvers", "euler,stork-4",
            "--reference-tol", "1e-3", "--out-dir", h.PathOf("q")];
        var (code, output, err) = h.Run(args);
        Assert.True(code == 0, err);
        Assert.Contains("Frechet distance", output);
        foreach (string f in new[] { "quality.csv", "quality.md", "fd.png", "rmse.png", "grid.png" })
        {
            Assert.True(File.Exists(Path.Combine(h.PathOf("q"), f)), f);
        }

        string csv = File.ReadAllText(Path.Combine(h.PathOf("q"), "quality.csv"));
        Assert.Equal(4, csv.Trim().Split('\n').Length); // the key line, the header, two cells
        Assert.Equal(0, h.Run(args).Code);
        Assert.Equal(csv, File.ReadAllText(Path.Combine(h.PathOf("q"), "quality.csv")));
    }
}
