using System.Globalization;
using System.Text.Json.Nodes;
using Stork.Cli;
using Stork.IO;

namespace Stork.Tests.Solvers;

public sealed class StorkSchedulerConfigCliTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("stork-cfg-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    public static TheoryData<string> Cases() => new(Golden.CaseNames("stork"));

    [Theory]
    [MemberData(nameof(Cases))]
    public void StorkSchedulerConfigReproducesTheAuthorsCode(string name)
    {
        var c = Golden.Load("stork", name);
        var node = new JsonObject { ["_class_name"] = "STORKScheduler" };
        foreach (var p in c.Scheduler.EnumerateObject())
        {
            if (p.Name != "num_inference_steps")
            {
                node[p.Name] = JsonNode.Parse(p.Value.GetRawText());
            }
        }

        string config = Path.Combine(_dir, "scheduler_config.json"), output = Path.Combine(_dir, "out.npy");
        File.WriteAllText(config, node.ToJsonString());
        var stderr = new StringWriter();
        int code = CliApp.Run(
            ["sample", "--model", c.ModelPath, "--scheduler-config", config, "--steps", ((int)c.Get("num_inference_steps", 10)).ToString(CultureInfo.InvariantCulture),
                "--noise", Golden.PathOf("stork", name + ".noise.npy"), "--out", output], new StringWriter(), stderr);
        Assert.True(code == 0, stderr.ToString());
        double err = Golden.RelativeL2(NpyFile.Read(output).ToSingle(), c.Final.Data);
        Assert.True(err < 1e-4, $"{name}: relative L2 error {err:E3}");
    }
}
