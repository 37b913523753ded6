using System.Globalization;

namespace Stork.Tests.Cli;

/// <summary><c>stork bench prompted</c> on the shipped fashion-flux model (small settings).</summary>
public class BenchPromptedTests
{
    [Fact]
    public void Writes_adherence_frechet_distance_and_rmse_per_solver_nfe_and_guidance()
    {
        using var h = new CliHarness();
        var (code, stdout, err) = h.Run("bench", "prompted", "--solvers", "euler,stork-2", "--nfe", "3", "--guidance", "1,4", "--per-class", "13",
            "--reference-steps", "12", "--out-dir", h.Directory);
        Assert.True(code == 0, err);
        Assert.Contains("True CFG 4", stdout);
        var lines = File.ReadAllLines(h.PathOf("prompted.csv"));
        Assert.Equal("solver,nfe,guidance,adherence,fd,rmse", lines[0]);
        Assert.Equal(5, lines.Length);
        foreach (string line in lines.Skip(1))
        {
            var f = line.Split(',');
            double adherence = double.Parse(f[3], CultureInfo.InvariantCulture), fd = double.Parse(f[4], CultureInfo.InvariantCulture);
            double rmse = double.Parse(f[5], CultureInfo.InvariantCulture);
            Assert.InRange(adherence, 0.0, 1.0);
            Assert.True(fd > 0 && double.IsFinite(fd), line);
            Assert.True(rmse > 0 && rmse < 0.5, line);
        }

        // Guidance makes the prompted class more likely (the point of classifier-free guidance): the guidance scale must
        // reach the network, so the two rows differ and the guided one adheres more.
        double Adherence(string solver, string g) => double.Parse(lines.Single(l => l.StartsWith($"{solver},3,{g},", StringComparison.Ordinal)).Split(',')[3], CultureInfo.InvariantCulture);
        Assert.True(Adherence("euler", "4") > Adherence("euler", "1"), $"adherence {Adherence("euler", "4")} with CFG 4, {Adherence("euler", "1")} without");
    }

    [Theory]
    [InlineData("--solvers", "rk45")]
    [InlineData("--solvers", "euler,euler")]
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
