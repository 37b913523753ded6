using Stork.IO;
using Stork.Solvers.Catalog;
using Stork.Tests.Cli;

namespace Stork.Tests.Solvers;

/// <summary>
/// Every registered solver at its default settings on every shipped model (issue 25): the default grids stay inside each
/// card's trained time range (the ONNX denoiser refuses any other time) and every solver runs on flow and noise cards.
/// A new solver or a new card is covered by registering or shipping it.
/// </summary>
public class ShippedModelDefaultsTests
{
    public static TheoryData<string, string> SolversOnShippedCards()
    {
        var data = new TheoryData<string, string>();
        string? folder = TestData.ShippedFolder();
        var cards = folder is null ? [] : Directory.GetFiles(folder, "*.json")
            .Where(c => File.ReadAllText(c).Contains("\"kind\": \"denoiser\"", StringComparison.Ordinal))
            .Order(StringComparer.Ordinal).ToArray();
        foreach (string card in cards)
        {
            foreach (string solver in SolverRegistry.Names.Order(StringComparer.Ordinal))
            {
                data.Add(Path.GetFileName(card), solver);
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(SolversOnShippedCards))]
    public void EverySolverRunsAtDefaultSettingsOnEveryShippedCard(string card, string solver)
    {
        using var h = new CliHarness();
        string output = h.PathOf("x.npy");
        string[] steps = SolverRegistry.IsAdaptive(solver) ? [] : ["--steps", "3"];
        var (code, _, err) = h.Run(["sample", "--model", TestData.Shipped(card), "--scheduler", solver, .. steps, "--batch", "1", "--out", output]);
        Assert.True(code == 0, $"{solver} on {card}: {err}");
        var x = NpyFile.Read(output).Data;
        Assert.All(x, v => Assert.True(double.IsFinite(v)));
    }

    public static TheoryData<string> FixedStepSolvers()
    {
        var data = new TheoryData<string>();
        foreach (string solver in SolverRegistry.Names.Where(s => !SolverRegistry.IsAdaptive(s)).Order(StringComparer.Ordinal))
        {
            data.Add(solver);
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(FixedStepSolvers))]
    public void EveryFixedStepSolverRunsAtDefaultSettingsOnTheShippedTextToImageModel(string solver)
    {
        using var h = new CliHarness();
        string output = h.PathOf("x.npy");
        var (code, _, err) = h.Run("generate", "--model", Path.Combine(TestData.ShippedFolder()!, "fashion-flux"), "--prompt", "a shirt",
            "--scheduler", solver, "--steps", "3", "--out", output);
        Assert.True(code == 0, $"{solver} on fashion-flux: {err}");
        Assert.All(NpyFile.Read(output).Data, v => Assert.True(double.IsFinite(v)));
    }
}
