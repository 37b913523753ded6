using System.Globalization;

namespace Stork.Tests.Cli;

/// <summary><c>stork bench prompted</c> on the shipped fashion-flux model (small settings).</summary>
public class BenchPromptedTests
{
    [Fact]
    public void Writes_adherence_frechet_distance_and_rmse_per_solver_nfe_and_guidance()
    {
        using var h = new CliHarness();
        var (code, stdout, err) = h.Run("bench", "prompted", "--solvers", "euler,stork-2,stork-2[corrector=on,d=2]", "--nfe", "3", "--guidance", "1,4", "--per-class", "13",
            "--reference-steps", "12", "--out-dir", h.Directory);
        Assert.True(code == 0, err);
        Assert.Contains("True CFG 4", stdout);
        var lines = File.ReadAllLines(h.PathOf("prompted.csv"));
        Assert.Equal("solver,nfe,guidance,adherence,fd,rmse", lines[0]);
        Assert.Equal(7, lines.Length);
        foreach (string line in lines.Skip(1))
        {
            var f = Fields(line);
            double adherence = double.Parse(f[3], CultureInfo.InvariantCulture), fd = double.Parse(f[4], CultureInfo.InvariantCulture);
            double rmse = double.Parse(f[5], CultureInfo.InvariantCulture);
            Assert.InRange(adherence, 0.0, 1.0);
            Assert.True(fd > 0 && double.IsFinite(fd), line);
            Assert.True(rmse > 0 && rmse < 0.5, line);
        }

        // Guidance makes the prompted class more likely (the point of classifier-free guidance): the guidance scale must
        // reach the network, so the two rows differ and the guided one adheres more.
        string[] Row(string solver, string g) => lines.Skip(1).Select(Fields).Single(f => f[0] == solver && f[1] == "3" && f[2] == g);
        double Adherence(string solver, string g) => double.Parse(Row(solver, g)[3], CultureInfo.InvariantCulture);
        Assert.True(Adherence("euler", "4") > Adherence("euler", "1"), $"adherence {Adherence("euler", "4")} with CFG 4, {Adherence("euler", "1")} without");

        // A solver's bracketed options reach the pipeline's scheduler: the corrected, d=2 STORK-2 gives other images.
        Assert.NotEqual(Row("stork-2", "4")[5], Row("stork-2[corrector=on,d=2]", "4")[5]);
    }

    /// <summary>One CSV line: a quoted solver label (it may hold commas), then plain fields.</summary>
    private static string[] Fields(string line)
    {
        Assert.StartsWith("\"", line, StringComparison.Ordinal);
        int close = line.IndexOf('"', 1);
        return [line[1..close], .. line[(close + 2)..].Split(',')];
    }

    [Theory]
    [InlineData("--solvers", "rk45")]
    [InlineData("--solvers", "euler,euler")]
    [InlineData("--solvers", "stork-4[corrector=maybe]")]
    [InlineData("--guidance", "0.5")]
    [InlineData("--per-class", "3")]
    public void Bad_settings_are_one_error_line(string option, string value)
    {
        using var h = new CliHarness();
        var (code, _, err) = h.Run("bench", "prompted", option, value, "--out-dir", h.Directory);
        Assert.Equal(2, code);
        Assert.Single(err.Trim().Split('\n'));
        Assert.False(File.Exists(h.PathOf("prompted.csv")));
    }
}
