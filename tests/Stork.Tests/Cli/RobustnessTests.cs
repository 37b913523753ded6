using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;
using Stork.Cli;
using Stork.IO;
using Stork.Solvers.Catalog;

namespace Stork.Tests.Cli;

/// <summary>
/// A corpus of bad inputs over every command, generated here (no checked-in binaries): each must fail with exit code 2,
/// exactly one <c>error: ...</c> line on stderr, and no file created or changed.
/// </summary>
public class RobustnessTests
{
    private static string Gmm => Golden.PathOf("stork", "gmm8.json");

    private static string Noise => Golden.PathOf("stork", "flow-stork4-n10-d1-s50.noise.npy");

    private static void WriteNpy(string path, string header, byte[]? body = null, int version = 1, uint? headerLength = null)
    {
        byte[] h = Encoding.Latin1.GetBytes(header);
        using var s = new MemoryStream();
        s.Write([0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y', (byte)version, 0]);
        if (version == 1)
        {
            s.Write(BitConverter.GetBytes((ushort)(headerLength ?? (uint)h.Length)));
        }
        else
        {
            s.Write(BitConverter.GetBytes(headerLength ?? (uint)h.Length));
        }

        s.Write(h);
        s.Write(body ?? []);
        File.WriteAllBytes(path, s.ToArray());
    }

    private static string Header(string descr, string shape, bool fortran = false) =>
        $"{{'descr': '{descr}', 'fortran_order': {(fortran ? "True" : "False")}, 'shape': ({shape}), }}\n";

    private static bool TryMakeFifo(string path)
    {
        if (!OperatingSystem.IsLinux() && !OperatingSystem.IsMacOS())
        {
            return false;
        }

        try
        {
            using var p = Process.Start(new ProcessStartInfo("mkfifo", path) { UseShellExecute = false });
            p!.WaitForExit(5000);
            return p.ExitCode == 0;
        }
        catch (Exception e) when (e is System.ComponentModel.Win32Exception or InvalidOperationException)
        {
            return false;
        }
    }

    /// <summary>Writes the corpus's files into <paramref name="dir"/>.</summary>
    private static List<(string Why, string[] Args)> Corpus(string dir, out bool fifo)
    {
        string P(string name) => Path.Combine(dir, name);
        WriteNpy(P("big.npy"), Header("<f4", "2147483648, 8"));
        WriteNpy(P("product.npy"), Header("<f4", "2000000000, 2000000000, 8"));
        WriteNpy(P("nonnumeric.npy"), Header("<f4", "a, 8"));
        WriteNpy(P("negative.npy"), Header("<f4", "-4, 8"));
        WriteNpy(P("dtype.npy"), Header("<f99999999", "4, 8"));
        WriteNpy(P("v2.npy"), Header("<f4", "4, 8"), version: 2, headerLength: 0xFFFFFFF0);
        WriteNpy(P("v3.npy"), Header("<f4", "4, 8"), version: 3, headerLength: 0xFFFFFFFF);
        WriteNpy(P("int.npy"), Header("<i4", "4, 8"), new byte[128]);
        WriteNpy(P("bool.npy"), Header("|b1", "4, 8"), new byte[32]);
        WriteNpy(P("truncated.npy"), Header("<f4", "4, 8"), new byte[100]);
        WriteNpy(P("fortran.npy"), Header("<f4", "4, 8", fortran: true), new byte[128]);
        WriteNpy(P("wrongshape.npy"), Header("<f4", "4, 3"), new byte[48]);
        WriteNpy(P("version9.npy"), Header("<f4", "4, 8"), new byte[128], version: 9);
        var nan = Enumerable.Repeat(float.NaN, 32).ToArray();
        NpyFile.Write(P("nan.npy"), [4, 8], nan);
        File.WriteAllBytes(P("empty.npy"), []);
        File.WriteAllText(P("garbage.npy"), "not numpy at all");
        Directory.CreateDirectory(P("folder.npy"));
        File.WriteAllText(P("sc-order.json"), "{\"_class_name\": \"STORKScheduler\", \"derivative_order\": 1e20}");
        File.WriteAllText(P("sc-steps.json"), "{\"_class_name\": \"STORKScheduler\", \"num_train_timesteps\": 1e30}");
        File.WriteAllText(P("sc-empty.json"), "");
        File.WriteAllBytes(P("net.onnx"), [1, 2, 3]);
        File.WriteAllText(P("card-shape.json"), "{\"kind\": \"denoiser\", \"onnx\": \"net.onnx\", \"sample_shape\": [65536, 65536, 65536], \"data_range\": [-1, 1]}");
        File.WriteAllText(P("card-fifo.json"), "{\"kind\": \"denoiser\", \"onnx\": \"fifo\", \"sample_shape\": [1, 28, 28], \"data_range\": [-1, 1]}");
        File.WriteAllText(P("card-dir.json"), "{\"kind\": \"denoiser\", \"onnx\": \"folder.npy\", \"sample_shape\": [1, 28, 28], \"data_range\": [-1, 1]}");
        File.WriteAllText(P("not-a-dir"), "a file");
        fifo = TryMakeFifo(P("fifo"));

        string[] flow = ["--model", Gmm, "--prediction", "flow"];
        string[] sample = ["sample", .. flow, "--out", P("out.npy")];
        var cases = new List<(string, string[])>();
        foreach (string f in new[] { "big", "product", "nonnumeric", "negative", "dtype", "v2", "v3", "int", "bool", "truncated", "fortran",
            "wrongshape", "version9", "nan", "empty", "garbage", "folder", "missing" })
        {
            cases.Add(($"sample --noise {f}", [.. sample, "--noise", P(f + ".npy")]));
            cases.Add(($"bench ode --exact {f}", ["bench", "ode", .. flow, "--noise", Noise, "--exact", P(f + ".npy"), "--nfe", "2", "--out-dir", P("ode")]));
            cases.Add(($"empirical {f}", [.. sample.Take(1), "--model", "empirical:" + P(f + ".npy"), "--prediction", "flow", "--out", P("out.npy")]));
        }

        if (File.Exists("/dev/zero"))
        {
            cases.Add(("noise /dev/zero", [.. sample, "--noise", "/dev/zero"]));
            cases.Add(("model /dev/zero", ["sample", "--model", "/dev/zero", "--prediction", "flow", "--out", P("out.npy")]));
        }

        if (fifo)
        {
            cases.Add(("noise FIFO", [.. sample, "--noise", P("fifo")]));
            cases.Add(("model FIFO", ["sample", "--model", P("fifo"), "--prediction", "flow", "--out", P("out.npy")]));
            cases.Add(("scheduler config FIFO", [.. sample, "--scheduler-config", P("fifo")]));
            cases.Add(("card with a FIFO network", ["sample", "--model", P("card-fifo.json"), "--out", P("out.png")]));
        }

        cases.AddRange(
        [
            ("model folder", ["sample", "--model", dir, "--prediction", "flow", "--out", P("out.npy")]),
            ("card network folder", ["sample", "--model", P("card-dir.json"), "--out", P("out.png")]),
            ("card sample_shape overflow", ["sample", "--model", P("card-shape.json"), "--out", P("out.png")]),
            ("derivative_order 1e20", [.. sample, "--scheduler-config", P("sc-order.json")]),
            ("num_train_timesteps 1e30", [.. sample, "--scheduler-config", P("sc-steps.json")]),
            ("empty scheduler config", [.. sample, "--scheduler-config", P("sc-empty.json")]),
            ("scheduler config folder", [.. sample, "--scheduler-config", dir]),
            ("batch overflow", [.. sample, "--batch", "1000000000"]),
            ("batch beyond int", [.. sample, "--batch", "99999999999"]),
            ("steps int max", [.. sample, "--steps", "2147483647"]),
            ("steps beyond the limit", [.. sample, "--steps", "10001"]),
            ("threads", [.. sample, "--threads", "100000"]),
            ("times-out equals out", [.. sample, "--times-out", P("out.npy")]),
            ("out overwrites the noise", ["sample", .. flow, "--noise", P("nan.npy"), "--out", P("nan.npy")]),
            ("out in a missing folder", ["sample", .. flow, "--out", P("none/out.npy")]),
            ("out is a folder", ["sample", .. flow, "--out", P("folder.npy")]),
            ("times-out in a missing folder", [.. sample, "--times-out", P("none/t.json")]),
            ("times-out under a file", [.. sample, "--times-out", P("not-a-dir/t.json")]),
            ("compare steps overflow", ["compare", .. flow, "--steps", "99999999999", "--out", P("c.png")]),
            ("compare steps twice", ["compare", .. flow, "--steps", "5,5", "--out", P("c.png")]),
            ("compare threads", ["compare", .. flow, "--threads", "100000", "--out", P("c.png")]),
            ("compare empty schedulers", ["compare", .. flow, "--schedulers", ",", "--out", P("c.png")]),
            ("compare too many cells", ["compare", .. flow, "--steps", string.Join(",", Enumerable.Range(1, 500)), "--out", P("c.png")]),
            ("bench ode nfe overflow", ["bench", "ode", .. flow, "--nfe", "99999999999", "--out-dir", P("ode")]),
            ("bench ode heun nfe 100000", ["bench", "ode", .. flow, "--solvers", "heun", "--nfe", "100000", "--out-dir", P("ode")]),
            ("bench ode empty solvers", ["bench", "ode", .. flow, "--solvers", ",", "--nfe", "2", "--out-dir", P("ode")]),
            ("bench ode solver twice", ["bench", "ode", .. flow, "--solvers", "euler,euler", "--nfe", "2", "--out-dir", P("ode")]),
            ("bench ode nfe twice", ["bench", "ode", .. flow, "--solvers", "euler", "--nfe", "2,2", "--out-dir", P("ode")]),
            ("bench ode batch overflow", ["bench", "ode", .. flow, "--batch", "1000000000", "--nfe", "2", "--out-dir", P("ode")]),
            ("bench ode out-dir under a file", ["bench", "ode", .. flow, "--nfe", "2", "--out-dir", P("not-a-dir/ode")]),
            ("bench quality samples", ["bench", "quality", "--samples", "3000000", "--out-dir", P("q")]),
            ("bench quality nfe overflow", ["bench", "quality", "--nfe", "99999999999", "--out-dir", P("q")]),
            ("bench quality empty solvers", ["bench", "quality", "--solvers", ",", "--out-dir", P("q")]),
            ("bench quality solver twice", ["bench", "quality", "--solvers", "euler,euler", "--out-dir", P("q")]),
            ("bench quality tolerance", ["bench", "quality", "--reference-tol", "0", "--out-dir", P("q")]),
            ("bench quality out-dir is a file", ["bench", "quality", "--samples", "4", "--rmse-samples", "2", "--out-dir", P("not-a-dir")]),
            ("bench quality threads", ["bench", "quality", "--threads", "100000", "--out-dir", P("q")]),
        ]);
        return cases;
    }

    private static Dictionary<string, string> Snapshot(string dir) =>
        Directory.EnumerateFileSystemEntries(dir, "*", SearchOption.AllDirectories).ToDictionary(
            p => p,
            p => Directory.Exists(p) ? "dir" : new FileInfo(p).Length == 0 ? "empty"
                : Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(p))));

    [Fact]
    public void EveryBadInputFailsWithOneLineExit2AndTouchesNoFile()
    {
        using var h = new CliHarness();
        var cases = Corpus(h.Directory, out bool fifo);
        var before = fifo ? null : Snapshot(h.Directory);
        var failures = new List<string>();
        foreach (var (why, args) in cases)
        {
            var clock = Stopwatch.StartNew();
            var (code, _, err) = h.Run(args);
            string[] lines = err.TrimEnd('\n', '\r').Split('\n');
            if (code != 2 || lines.Length != 1 || !lines[0].StartsWith("error: ", StringComparison.Ordinal))
            {
                failures.Add($"{why}: exit {code}, stderr '{err.Trim()}'");
            }

            if (clock.Elapsed > TimeSpan.FromSeconds(20))
            {
                failures.Add($"{why}: took {clock.Elapsed.TotalSeconds:F0} s");
            }
        }

        Assert.True(failures.Count == 0, string.Join("\n", failures));
        if (before is not null)
        {
            var after = Snapshot(h.Directory);
            Assert.Equal(before.OrderBy(kv => kv.Key), after.OrderBy(kv => kv.Key));
        }
        else
        {
            // A FIFO cannot be hashed; check the names and the regular files.
            Assert.False(File.Exists(h.PathOf("out.npy")) || File.Exists(h.PathOf("out.png")) || File.Exists(h.PathOf("c.png"))
                || Directory.Exists(h.PathOf("ode")) || Directory.Exists(h.PathOf("q")) || Directory.Exists(h.PathOf("none")));
            Assert.Empty(Directory.EnumerateFiles(h.Directory, "*.tmp", SearchOption.AllDirectories));
        }
    }

    [Fact]
    public void ASignalCancelsWithOneLineAndItsExitCodeAndNoOutput()
    {
        using var h = new CliHarness();
        foreach (var (signal, expected) in new[] { (2, 130), (15, 143) })
        {
            using var interrupts = new Interrupts();
            Assert.True(interrupts.Cancel(signal));
            var stdout = new StringWriter();
            var stderr = new StringWriter();
            int code = CliApp.Run(["sample", "--model", Gmm, "--prediction", "flow", "--out", h.PathOf("out.npy"), "--times-out", h.PathOf("t.json")],
                stdout, stderr, interrupts);
            Assert.Equal(expected, code);
            Assert.Equal("error: cancelled.", stderr.ToString().Trim());
        }

        Assert.Empty(Directory.EnumerateFileSystemEntries(h.Directory));
    }

    [Fact]
    public void BenchQualityRebuildsADamagedOrForeignCache()
    {
        using var h = new CliHarness();
        string dir = h.PathOf("q");
        string[] args = ["bench", "quality", "--samples", "4", "--rmse-samples", "2", "--nfe", "2", "--solvers", "euler", "--reference-tol", "1e-3", "--out-dir", dir];
        Assert.Equal(0, h.Run(args).Code);
        string csv = Path.Combine(dir, "quality.csv");
        string good = File.ReadAllText(csv);

        File.WriteAllText(csv, good.Replace(",2,", ",x,", StringComparison.Ordinal) + "\"garbage");
        var (code, _, err) = h.Run(args);
        Assert.Equal(0, code);
        Assert.Contains("rebuilding", err);
        Assert.Equal(Lines(good), Lines(File.ReadAllText(csv)));

        // Another seed is another run: its cells are not taken from the cache.
        (code, _, err) = h.Run([.. args, "--seed", "1"]);
        Assert.Equal(0, code);
        Assert.Contains("another run", err);
        Assert.NotEqual(good.Split('\n')[0], File.ReadAllText(csv).Split('\n')[0]);

        static int Lines(string s) => s.Trim().Split('\n').Length;
    }

    [Fact]
    public void TheNfeSearchFindsTheLargestStepCountQuickly()
    {
        var model = Stork.Solvers.ModelSpec.Of(new Stork.Models.GaussianMixtureDenoiser(
            Stork.Models.GaussianMixture.Load(Gmm), Stork.Schedules.RectifiedFlowSchedule.Instance, Stork.Predictions.Prediction.FlowVelocity));
        var heun = Stork.Evaluation.SolverSpec.Parse("heun", new Stork.Solvers.Catalog.SolverSettings());
        var clock = Stopwatch.StartNew();
        Assert.Equal(9999, heun.CreateForNfe(model, 10_000).Times.Count);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(5), $"{clock.Elapsed}");
        foreach (int nfe in new[] { 1, 2, 3, 10, 11, 57 })
        {
            int expected = Enumerable.Range(1, nfe).Select(s => Stork.Solvers.Catalog.SolverRegistry.Create("heun", model, s, new Stork.Solvers.Catalog.SolverSettings()).Times.Count)
                .Where(c => c <= nfe).Max();
            Assert.Equal(expected, heun.CreateForNfe(model, nfe).Times.Count);
        }
    }
}
