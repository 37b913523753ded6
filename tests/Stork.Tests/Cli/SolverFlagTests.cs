namespace Stork.Tests.Cli;

/// <summary>A solver flag the chosen solver or model would ignore is an error (exit 2, one line naming the flag and why).</summary>
public class SolverFlagTests
{
    public static TheoryData<string, string, string[], string> Inapplicable() => new()
    {
        { "unipc", "epsilon", ["--stork-variant", "upstream"], "--stork-variant does not apply to unipc" },
        { "dpm++2m", "epsilon", ["--derivative-order", "2"], "--derivative-order does not apply to dpm++2m" },
        { "stork-4", "epsilon", ["--solver-order", "2"], "--solver-order does not apply to stork-4" },
        { "euler", "epsilon", ["--substeps", "10"], "--substeps does not apply to euler" },
        { "dpm++2m", "epsilon", ["--unipc-variant", "bh1"], "--unipc-variant does not apply to dpm++2m" },
        { "stork-4", "epsilon", ["--rtol", "1e-3"], "--rtol does not apply to stork-4" },
        { "rk45", "flow", ["--grid", "logsnr"], "--grid does not apply to rk45" },
        { "stork-4", "flow", ["--stopping-eps", "1e-3"], "--stopping-eps does not apply to flow models" },
        { "euler", "epsilon", ["--shift", "3"], "--shift does not apply to noise models" },
        { "dpm++2m", "epsilon", ["--sigmas", "karras"], "--sigmas does not apply to noise models" },
        { "rk45", "flow", [], "--steps does not apply to rk45" },
        { "unipc", "flow", ["--corrector", "on"], "--corrector does not apply to unipc" },
        { "stork-4", "epsilon", ["--base-sigmas", "step"], "--base-sigmas does not apply to noise models" },
    };

    [Theory]
    [MemberData(nameof(Inapplicable))]
    public void AnInapplicableFlagIsAnError(string solver, string prediction, string[] flag, string message)
    {
        var c = Golden.Load("baselines", "eps-ddim-n10");
        using var h = new CliHarness();
        var (code, _, err) = h.Run(["sample", "--model", c.ModelPath, "--prediction", prediction, "--scheduler", solver, "--steps", "4",
            "--seed", "1", "--out", h.PathOf("o.npy"), .. flag]);
        Assert.Equal(2, code);
        Assert.StartsWith("error: " + message, err, StringComparison.Ordinal);
        Assert.Single(err.Trim().Split('\n'));
        Assert.False(File.Exists(h.PathOf("o.npy")));
    }

    public static TheoryData<string, string, string[]> Applicable() => new()
    {
        { "stork-4", "epsilon", ["--stork-variant", "upstream", "--substeps", "10", "--derivative-order", "1", "--stopping-eps", "1e-2"] },
        { "unipc", "epsilon", ["--solver-order", "3", "--unipc-variant", "bh1", "--grid", "logsnr"] },
        { "dpm++2m", "flow", ["--shift", "3"] },
        { "euler", "flow", ["--sigmas", "karras", "--grid", "native"] },
        { "rk45", "flow", ["--rtol", "1e-3", "--atol", "1e-3"] },
        { "stork-4", "flow", ["--corrector", "on", "--base-sigmas", "training"] },
    };

    [Theory]
    [MemberData(nameof(Applicable))]
    public void AnApplicableFlagIsAccepted(string solver, string prediction, string[] flags)
    {
        var c = Golden.Load("baselines", "eps-ddim-n10");
        using var h = new CliHarness();
        string[] steps = solver == "rk45" ? [] : ["--steps", "4"];
        var (code, _, err) = h.Run(["sample", "--model", c.ModelPath, "--prediction", prediction, "--scheduler", solver, .. steps,
            "--seed", "1", "--out", h.PathOf("o.npy"), .. flags]);
        Assert.True(code == 0, err);
    }

    [Fact]
    public void GenerateRefusesAFlagTheSchedulerDoesNotRead()
    {
        var model = Pipelines.PipelineCase.Load("flux-schnell-euler-n4").ModelFolder;
        using var h = new CliHarness();
        var (code, _, err) = h.Run("generate", "--model", model, "--prompt", "a cat", "--height", "32", "--width", "32", "--scheduler", "unipc",
            "--substeps", "10", "--out", h.PathOf("x.png"));
        Assert.Equal(2, code);
        Assert.StartsWith("error: --substeps does not apply to unipc: only stork-2, stork-4 read it.", err, StringComparison.Ordinal);
        Assert.False(File.Exists(h.PathOf("x.png")));
    }

    [Fact]
    public void BenchOdeRefusesADefaultThatNoListedSolverReads()
    {
        using var h = new CliHarness();
        string a = Golden.PathOf("anchors", "gmm8.json");
        var (code, _, err) = h.Run("bench", "ode", "--model", a, "--prediction", "flow", "--solvers", "euler,dpm++2m", "--nfe", "5",
            "--substeps", "10", "--out-dir", h.PathOf("ode"));
        Assert.Equal(2, code);
        Assert.StartsWith("error: --substeps does not apply to euler, dpm++2m: only stork-2, stork-4 read it.", err, StringComparison.Ordinal);
    }
}
