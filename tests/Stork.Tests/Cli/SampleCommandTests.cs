using System.Text.Json;
using Stork.IO;

namespace Stork.Tests.Cli;

public class SampleCommandTests
{
    private static string Gmm => Golden.PathOf("stork", "gmm8.json");

    private static string Noise => Golden.PathOf("stork", "flow-stork4-n10-d1-s50.noise.npy");

    [Fact]
    public void SampleMatchesTheGoldenCaseAndWritesTimes()
    {
        using var h = new CliHarness();
        string output = h.PathOf("out.npy"), times = h.PathOf("times.json");
        var (code, _, err) = h.Run("sample", "--model", Gmm, "--prediction", "flow", "--scheduler", "stork-4", "--stork-variant", "upstream",
            "--steps", "10", "--substeps", "50", "--derivative-order", "1", "--noise", Noise, "--out", output, "--out-dtype", "float64", "--times-out", times);
        Assert.True(code == 0, err);
        var result = NpyFile.Read(output);
        Assert.Equal([4, 8], result.Shape);
        var golden = Golden.Load("stork", "flow-stork4-n10-d1-s50");
        Assert.True(Golden.RelativeL2(result.ToSingle(), golden.Final.Data) < 1e-4);
        using var doc = JsonDocument.Parse(File.ReadAllText(times));
        var timesteps = doc.RootElement.GetProperty("timesteps").EnumerateArray().Select(e => e.GetDouble()).ToArray();
        Assert.Equal(golden.Timesteps.Length, timesteps.Length);
        Assert.Equal(golden.Timesteps[5], timesteps[5], 3);
    }

    [Fact]
    public void SameSeedSameBytes()
    {
        using var h = new CliHarness();
        string[] common = ["sample", "--model", Gmm, "--prediction", "flow", "--scheduler", "stork-2", "--seed", "7", "--batch", "3"];
        Assert.Equal(0, h.Run([.. common, "--out", h.PathOf("a.npy")]).Code);
        Assert.Equal(0, h.Run([.. common, "--out", h.PathOf("b.npy")]).Code);
        Assert.Equal(File.ReadAllBytes(h.PathOf("a.npy")), File.ReadAllBytes(h.PathOf("b.npy")));
    }

    public static TheoryData<string, string[]> BadInputs() => new()
    {
        { "unknown scheduler", ["--scheduler", "stork-9"] },
        { "sub-steps beyond the ROCK4 table", ["--substeps", "149"] },
        { "derivative order 3 upstream", ["--derivative-order", "3", "--stork-variant", "upstream"] },
        { "derivative order 4", ["--derivative-order", "4"] },
        { "zero steps", ["--steps", "0"] },
        { "unknown variant", ["--stork-variant", "fancy"] },
        { "bad time shift", ["--time-shift", "cubic"] },
        { "not a number", ["--steps", "ten"] },
        { "unknown option", ["--frobnicate", "1"] },
        { "negative shift", ["--shift", "-2"] },
    };

    [Theory]
    [MemberData(nameof(BadInputs))]
    public void BadOptionsFailWithOneLineExit2AndNoOutput(string why, string[] extra)
    {
        using var h = new CliHarness();
        string output = h.PathOf("out.npy");
        string[] args = ["sample", "--model", Gmm, "--prediction", "flow", "--noise", Noise, "--out", output, .. extra];
        var (code, _, err) = h.Run(args);
        Assert.True(code == 2, $"{why}: exit {code}, stderr {err}");
        Assert.StartsWith("error: ", err);
        Assert.Single(err.Trim().Split('\n'));
        Assert.False(File.Exists(output), why);
    }

    [Fact]
    public void BadFilesFailWithExit2AndNoOutput()
    {
        using var h = new CliHarness();
        string output = h.PathOf("out.npy");
        File.WriteAllText(h.PathOf("garbage.npy"), "not numpy");
        File.WriteAllText(h.PathOf("broken.json"), "{ \"weights\": [1], ");
        File.WriteAllText(h.PathOf("wrong.json"), "{ \"weights\": [1], \"means\": [[0, 1]], \"stds\": [-1] }");
        NpyFile.Write(h.PathOf("shape.npy"), [4, 3], new float[12]);
        var nan = new float[32];
        nan[5] = float.NaN;
        NpyFile.Write(h.PathOf("nan.npy"), [4, 8], nan);

        (string Why, string[] Args)[] cases =
        [
            ("missing model file", ["--model", h.PathOf("none.json"), "--prediction", "flow", "--noise", Noise]),
            ("malformed model JSON", ["--model", h.PathOf("broken.json"), "--prediction", "flow", "--noise", Noise]),
            ("invalid mixture", ["--model", h.PathOf("wrong.json"), "--prediction", "flow", "--noise", Noise]),
            ("missing prediction", ["--model", Gmm, "--noise", Noise]),
            ("unreadable noise", ["--model", Gmm, "--prediction", "flow", "--noise", h.PathOf("garbage.npy")]),
            ("missing noise", ["--model", Gmm, "--prediction", "flow", "--noise", h.PathOf("none.npy")]),
            ("wrong noise shape", ["--model", Gmm, "--prediction", "flow", "--noise", h.PathOf("shape.npy")]),
            ("NaN in noise", ["--model", Gmm, "--prediction", "flow", "--noise", h.PathOf("nan.npy")]),
            ("noise and seed", ["--model", Gmm, "--prediction", "flow", "--noise", Noise, "--seed", "3"]),
            ("upstream STORK-2 on noise", ["--model", Gmm, "--prediction", "epsilon", "--scheduler", "stork-2", "--noise", Noise]),
        ];
        foreach (var (why, args) in cases)
        {
            var (code, _, err) = h.Run(["sample", "--stork-variant", "upstream", .. args, "--out", output]);
            Assert.True(code == 2, $"{why}: exit {code}, stderr {err}");
            Assert.StartsWith("error: ", err);
            Assert.Single(err.Trim().Split('\n'));
            Assert.False(File.Exists(output), why);
        }
    }

    [Fact]
    public void HelpDocumentsEveryOption()
    {
        using var h = new CliHarness();
        var (code, output, _) = h.Run("sample", "--help");
        Assert.Equal(0, code);
        foreach (string option in new[] { "--model", "--prediction", "--scheduler", "--stork-variant", "--steps", "--substeps", "--derivative-order",
            "--shift", "--mu", "--time-shift", "--stopping-eps", "--beta-schedule", "--beta-start", "--beta-end", "--train-steps", "--noise",
            "--seed", "--batch", "--out", "--out-dtype", "--times-out" })
        {
            Assert.Contains(option, output);
        }
    }
}

public class SampleCommandConsistencyTests
{
    private static string Gmm => Golden.PathOf("stork", "gmm8.json");

    [Theory]
    [InlineData("dpm++2m")]
    [InlineData("unipc")]
    [InlineData("deis")]
    public void Multistep_solvers_refuse_more_steps_than_distinct_integer_timesteps_with_a_clear_message(string solver)
    {
        using var h = new CliHarness();
        var (code, _, err) = h.Run("sample", "--model", Gmm, "--prediction", "epsilon", "--scheduler", solver, "--steps", "1000", "--out", h.PathOf("x.npy"));
        Assert.Equal(2, code);
        Assert.Contains("repeat the integer timestep", err);
        Assert.False(File.Exists(h.PathOf("x.npy")));
    }

    [Theory]
    [InlineData("ddim")]
    [InlineData("dpm++2m")]
    public void Train_steps_reach_the_diffusers_solvers(string solver)
    {
        using var h = new CliHarness();
        var (code, _, err) = h.Run("sample", "--model", Gmm, "--prediction", "epsilon", "--scheduler", solver, "--train-steps", "500", "--steps", "10",
            "--out", h.PathOf("x.npy"), "--times-out", h.PathOf("t.json"));
        Assert.True(code == 0, err);
        using var doc = System.Text.Json.JsonDocument.Parse(File.ReadAllText(h.PathOf("t.json")));
        double first = doc.RootElement.GetProperty("times")[0].GetDouble();
        Assert.True(first < 500, $"first timestep {first} should lie below 500 training timesteps");
    }
}

public class IgnoredOptionTests
{
    [Theory]
    [InlineData("logsnr")]
    [InlineData("uniform-time")]
    [InlineData("karras")]
    public void A_noise_grid_with_stork_on_a_flow_model_is_an_error_not_ignored(string grid)
    {
        using var h = new CliHarness();
        var (code, _, err) = h.Run("sample", "--model", Golden.PathOf("stork", "gmm8.json"), "--prediction", "flow", "--scheduler", "stork-4",
            "--grid", grid, "--steps", "5", "--out", h.PathOf("x.npy"));
        Assert.Equal(2, code);
        Assert.Contains("--grid applies to noise models", err);
    }

    [Fact]
    public void Bench_ode_takes_no_scheduler_config_it_would_ignore()
    {
        using var h = new CliHarness();
        string a = Golden.PathOf("anchors", "gmm8.json");
        var (code, _, err) = h.Run("bench", "ode", "--model", a, "--prediction", "flow", "--solvers", "euler", "--nfe", "5",
            "--scheduler-config", h.PathOf("nope.json"));
        Assert.Equal(2, code);
        Assert.Contains("--scheduler-config", err);
    }
}
