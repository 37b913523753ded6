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

    [Fact]
    public void BenchQualityRecomputesACellWhenAGridFileChanges()
    {
        using var h = new CliHarness();
        string models = Path.GetDirectoryName(TestData.Shipped("fashion-flow-unet.json"))!;
        string card = h.PathOf("card.json");
        var json = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(Path.Combine(models, "fashion-flow-unet.json")))!.AsObject();
        json["onnx"] = Path.Combine(models, "fashion-flow-unet.onnx");
        json["tuned_grids"] = new System.Text.Json.Nodes.JsonArray("card.euler.grid.json");
        json.Remove("fixture");
        File.WriteAllText(card, json.ToJsonString());
        string cardGrid = h.PathOf("card.euler.grid.json"), given = h.PathOf("given.grid.json");
        void Grids(double cardTime, double givenTime)
        {
            File.WriteAllText(cardGrid, new Stork.Grids.TunedGrid("euler", 2, [1.0, cardTime]).ToJson());
            File.WriteAllText(given, new Stork.Grids.TunedGrid("unipc", 2, [1.0, givenTime]).ToJson());
        }

        string[] args = ["bench", "quality", "--model", card, "--samples", "4", "--rmse-samples", "2", "--nfe", "2",
            "--solvers", $"euler,unipc[grid-file={given}]", "--reference-tol", "1e-3", "--out-dir", h.PathOf("q")];
        string csv = Path.Combine(h.PathOf("q"), "quality.csv");
        Grids(0.5, 0.5);
        Assert.True(h.Run(args).Code == 0);
        var first = Cells(File.ReadAllText(csv));

        // The same files: every cell from the cache.
        Assert.True(h.Run(args).Code == 0);
        Assert.Equal(first, Cells(File.ReadAllText(csv)));

        // A card's grid file changed: the run's key changes and its cells are measured again.
        Grids(0.3, 0.5);
        var (code, _, err) = h.Run(args);
        Assert.True(code == 0, err);
        var second = Cells(File.ReadAllText(csv));
        Assert.NotEqual(Assert.Single(first["euler"]), Assert.Single(second["euler"]));

        // A grid file given in a spec changed: that solver's cell is measured again (a new cell beside the old one).
        Grids(0.3, 0.2);
        Assert.True(h.Run(args).Code == 0);
        var third = Cells(File.ReadAllText(csv));
        Assert.Equal(Assert.Single(second["euler"]), Assert.Single(third["euler"]));
        string old = Assert.Single(second[$"unipc[grid-file={given}]"]);
        Assert.Equal(2, third[$"unipc[grid-file={given}]"].Distinct().Count());
        Assert.Contains(old, third[$"unipc[grid-file={given}]"]);

        // Each cached cell's FD and RMSE by solver label (one NFE here).
        static ILookup<string, string> Cells(string text) =>
            text.Trim().Split('\n').Skip(2).Select(l => l.Split(',')).ToLookup(c => c[0].Trim('"'), c => c[5] + "," + c[6]);
    }
}
