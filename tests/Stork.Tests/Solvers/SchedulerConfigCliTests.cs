using System.Text.Json;
using Stork.Cli;
using Stork.IO;

namespace Stork.Tests.Solvers;

public sealed class SchedulerConfigCliTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("stork-cli-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    public static TheoryData<string> Cases() => new(BaselineCase.Names);

    private (int Code, string Out, string Err) Run(params string[] args)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        int code = CliApp.Run(args, stdout, stderr);
        return (code, stdout.ToString(), stderr.ToString());
    }

    private string WriteConfig(string json, string name = "scheduler_config.json")
    {
        string path = Path.Combine(_dir, name);
        File.WriteAllText(path, json);
        return path;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void SchedulerConfigReproducesDiffusers(string name)
    {
        var c = Golden.Load("baselines", name);
        string config = WriteConfig(BaselineCase.SchedulerConfigJson(c));
        string output = Path.Combine(_dir, "out.npy"), times = Path.Combine(_dir, "times.json");
        var (code, _, err) = Run("sample", "--model", c.ModelPath, "--scheduler-config", config,
            "--steps", BaselineCase.Steps(c).ToString(System.Globalization.CultureInfo.InvariantCulture),
            "--noise", Golden.PathOf("baselines", name + ".noise.npy"), "--out", output, "--times-out", times);
        Assert.True(code == 0, err);

        var x = NpyFile.Read(output).ToSingle();
        double e = Golden.RelativeL2(x, c.Final.Data);
        Console.WriteLine($"PARITY cli {name}: {e:E3}");
        Assert.True(e < 1e-4, $"{name}: relative L2 error {e:E3}");

        using var doc = JsonDocument.Parse(File.ReadAllText(times));
        var mine = doc.RootElement.GetProperty("times").EnumerateArray().Select(v => v.GetDouble()).ToArray();
        var expected = BaselineCase.ModelTimes(c);
        Assert.Equal(expected.Length, mine.Length);
        for (int i = 0; i < expected.Length; i++)
        {
            Assert.True(Math.Abs(mine[i] - expected[i]) <= 1e-6 * Math.Abs(expected[i]), $"{name} time {i}: {mine[i]} vs {expected[i]}");
        }
    }

    [Theory]
    [InlineData("""{"_class_name": "DPMSolverMultistepScheduler", "use_lu_lambdas": true}""", "use_lu_lambdas")]
    [InlineData("""{"_class_name": "PNDMScheduler"}""", "dpm++2m")]
    [InlineData("""{"_class_name": "DPMSolverMultistepScheduler", "algorithm_type": "sde-dpmsolver++"}""", "algorithm_type")]
    [InlineData("""{"_class_name": "DPMSolverMultistepScheduler", "no_such_option": 1}""", "no_such_option")]
    [InlineData("""{"_class_name": "UniPCMultistepScheduler", "predict_x0": false}""", "predict_x0")]
    [InlineData("""{"_class_name": "DDIMScheduler", "thresholding": true}""", "thresholding")]
    [InlineData("""{"_class_name": "DDIMScheduler", "timestep_spacing": "sideways"}""", "timestep_spacing")]
    [InlineData("""{"_class_name": "FlowMatchEulerDiscreteScheduler", "stochastic_sampling": true}""", "stochastic_sampling")]
    [InlineData("""{"_class_name": "FlowMatchEulerDiscreteScheduler", "use_dynamic_shifting": true}""", "--mu")]
    [InlineData("""{"_class_name": "EulerAncestralDiscreteScheduler"}""", "EulerAncestralDiscreteScheduler")]
    [InlineData("""{"_class_name": "DEISMultistepScheduler", "solver_order": 4}""", "solver_order")]
    [InlineData("""{"_class_name": "STORKScheduler", "solver_order": 3}""", "solver_order")]
    [InlineData("""{"solver_order": 2}""", "_class_name")]
    public void UnsupportedConfigurationIsAUsageError(string json, string mentioned)
    {
        string config = WriteConfig(json);
        var c = Golden.Load("baselines", "eps-ddim-n10");
        var (code, _, err) = Run("sample", "--model", c.ModelPath, "--scheduler-config", config, "--seed", "1",
            "--out", Path.Combine(_dir, "o.npy"));
        Assert.Equal(CliApp.UsageError, code);
        Assert.Contains(mentioned, err, StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(_dir, "o.npy")));
    }

    [Fact]
    public void SolverOptionsCannotBeCombinedWithASchedulerConfig()
    {
        string config = WriteConfig("""{"_class_name": "UniPCMultistepScheduler"}""");
        var c = Golden.Load("baselines", "eps-ddim-n10");
        var (code, _, err) = Run("sample", "--model", c.ModelPath, "--scheduler-config", config, "--solver-order", "3", "--out", Path.Combine(_dir, "o.npy"));
        Assert.Equal(CliApp.UsageError, code);
        Assert.Contains("--solver-order", err, StringComparison.Ordinal);
    }

    [Fact]
    public void PythonInfinityLiteralsAreRead()
    {
        string config = WriteConfig("""{"_class_name": "DPMSolverMultistepScheduler", "_diffusers_version": "0.30.0", "lambda_min_clipped": -Infinity, "variance_type": null}""");
        var c = Golden.Load("baselines", "eps-ddim-n10");
        var (code, _, err) = Run("sample", "--model", c.ModelPath, "--scheduler-config", config, "--seed", "1", "--out", Path.Combine(_dir, "o.npy"));
        Assert.True(code == 0, err);
    }

    [Theory]
    [InlineData("euler", "flow")]
    [InlineData("heun", "flow")]
    [InlineData("dpm++2m", "flow")]
    [InlineData("dpm++3m", "epsilon")]
    [InlineData("unipc", "v_prediction")]
    [InlineData("deis", "epsilon")]
    [InlineData("ddim", "sample")]
    [InlineData("rk45", "flow")]
    [InlineData("euler", "epsilon")]
    public void EveryRegisteredSolverRunsFromTheCommandLine(string solver, string prediction)
    {
        var c = Golden.Load("baselines", "eps-ddim-n10");
        string output = Path.Combine(_dir, "o.npy");
        // RK45 chooses its own steps: --steps is refused for it.
        string[] steps = Stork.Solvers.Catalog.SolverRegistry.IsAdaptive(solver) ? [] : ["--steps", "8"];
        var (code, stdout, err) = Run(["sample", "--model", c.ModelPath, "--prediction", prediction, "--scheduler", solver, .. steps,
            "--seed", "3", "--out", output]);
        Assert.True(code == 0, err);
        Assert.Contains(solver, stdout, StringComparison.Ordinal);
        Assert.All(NpyFile.Read(output).Data, v => Assert.True(double.IsFinite(v)));
    }

    [Fact]
    public void NoiseScheduleOptionIsValidated()
    {
        var c = Golden.Load("baselines", "eps-ddim-n10");
        var (code, _, err) = Run("sample", "--model", c.ModelPath, "--prediction", "epsilon", "--scheduler", "ddim", "--noise-schedule", "wobbly",
            "--out", Path.Combine(_dir, "o.npy"));
        Assert.Equal(CliApp.UsageError, code);
        Assert.Contains("--noise-schedule", err, StringComparison.Ordinal);
    }
}
