using System.Globalization;
using System.Text;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Running;
using Stork.Benchmarks;

// Usage: dotnet run -c Release --project bench/Stork.Benchmarks [-- --out bench/results/overhead.md] [--inProcess] [BenchmarkDotNet args]
// --inProcess runs the short job inside this process (no generated project to build: on a loaded machine that build
// can pass BenchmarkDotNet's two-minute limit).
string? outPath = null;
bool inProcess = false;
var rest = new List<string>();
for (int i = 0; i < args.Length; i++)
{
    if (args[i] == "--out" && i + 1 < args.Length)
    {
        outPath = args[++i];
    }
    else if (args[i] == "--inProcess")
    {
        inProcess = true;
    }
    else
    {
        rest.Add(args[i]);
    }
}

var job = Job.ShortRun.WithWarmupCount(3).WithIterationCount(5);
var config = DefaultConfig.Instance.AddJob(inProcess ? job.WithToolchain(BenchmarkDotNet.Toolchains.InProcess.Emit.InProcessEmitToolchain.Instance) : job);
var summary = rest.Count > 0
    ? BenchmarkSwitcher.FromAssembly(typeof(StepBenchmarks).Assembly).Run([.. rest], config).FirstOrDefault()
    : BenchmarkRunner.Run<StepBenchmarks>(config);
if (summary is null || summary.BenchmarksCases.All(b => b.Descriptor.Type != typeof(StepBenchmarks)))
{
    return; // the pass table below is StepBenchmarks' (BindingBenchmarks prints BenchmarkDotNet's own table)
}

// Bytes each step moves, in tensor passes (a pass reads or writes one sample-sized tensor):
// copy 2; fused STORK (derivative order 2), one loop: read the output and x, write the stored output, read u1 and u2,
// write x = 6;
// DPM-Solver++ 2M: convert to x0 (3) + combine x, M0, M1 (4) = 7; UniPC bh2 order 2: convert (3) + corrector (4) + copy (2)
// + predictor (4) = 13; the literal RKG2 recurrence: 21 passes per stage.
var passes = new Dictionary<string, double>
{
    ["Copy"] = 2,
    ["Stork2Fused"] = 6,
    ["Stork4Fused"] = 6,
    ["Stork2Literal"] = 2 + 3 + (49 * 21) + 2,
    ["DpmSolverPlusPlus2M"] = 7,
    ["UniPc"] = 13,
};
var md = new StringBuilder();
md.AppendLine("| step | shape | mean time | tensor passes | time / bandwidth floor |");
md.AppendLine("|---|---|---|---|---|");
foreach (var shapeGroup in summary.Reports.GroupBy(r => r.BenchmarkCase.Parameters["Shape"]?.ToString() ?? ""))
{
    var copy = shapeGroup.First(r => r.BenchmarkCase.Descriptor.WorkloadMethod.Name == "Copy");
    double copyNs = copy.ResultStatistics?.Mean ?? double.NaN;
    foreach (var r in shapeGroup)
    {
        string name = r.BenchmarkCase.Descriptor.WorkloadMethod.Name;
        double ns = r.ResultStatistics?.Mean ?? double.NaN;
        double p = passes.GetValueOrDefault(name, double.NaN);
        double ratio = ns / (copyNs * p / 2);
        md.AppendLine(CultureInfo.InvariantCulture, $"| {name} | {shapeGroup.Key} | {ns / 1000:0.0} us | {p} | {ratio:0.00} |");
    }
}

Console.WriteLine(md);
if (outPath is not null)
{
    Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(outPath))!);
    File.WriteAllText(outPath, md.ToString());
}
