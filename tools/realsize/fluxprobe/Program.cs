// fluxprobe TRANSFORMER_DIR|T5_DIR [--size 512] [--text 512] [--runs 2] [--save OUT.bin] [--ref REF.bin] [--profile yes]
//           [--arena on|off]
//           [--opt none|basic|extended|all] [--spin on|off]
// Loads DIR/model.onnx with the project's session options (src/Stork.Onnx/OnnxSessions.cs: all graph optimisations,
// intra-op threads = cores, sequential, CPU arena off), runs it on fixed seeded inputs and prints one JSON line.
// A FLUX.1 transformer (inputs hidden_states, encoder_hidden_states, ...) gets batch 1 (schnell, no guidance), size/16
// squared packed image tokens with their (0, row, col) positions, --text text tokens at position 0, timestep 1.0
// (and guidance 3.5 when the graph has that input); a T5 encoder (input_ids) gets --text seeded token ids.
// With --profile yes ONNX Runtime's profiler times every node; the kernel times are summed per block (node names
// carry the module path: transformer_blocks.N, single_transformer_blocks.N, encoder/block.N; everything else is
// "rest") and each run's sums are reported, so a block's cost is read from one graph holding few blocks.
// cpu_s is the process's CPU time per call; with --spin off (intra-op threads sleep instead of spinning) it counts
// the work alone and is the figure least affected by other jobs on the machine.
using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.ML.OnnxRuntime;

string dir = args[0];
string? reference = null, save = null;
int size = 512, text = 512, runs = 2;
bool arena = false, profile = false, spin = true;
var level = GraphOptimizationLevel.ORT_ENABLE_ALL;
for (int i = 1; i < args.Length; i += 2)
{
    switch (args[i])
    {
        case "--ref": reference = args[i + 1]; break;
        case "--save": save = args[i + 1]; break;
        case "--size": size = int.Parse(args[i + 1], CultureInfo.InvariantCulture); break;
        case "--text": text = int.Parse(args[i + 1], CultureInfo.InvariantCulture); break;
        case "--runs": runs = int.Parse(args[i + 1], CultureInfo.InvariantCulture); break;
        case "--arena": arena = args[i + 1] == "on"; break;
        case "--profile": profile = args[i + 1] == "yes"; break;
        case "--spin": spin = args[i + 1] != "off"; break;
        case "--opt": level = args[i + 1] switch { "none" => GraphOptimizationLevel.ORT_DISABLE_ALL, "basic" => GraphOptimizationLevel.ORT_ENABLE_BASIC, "extended" => GraphOptimizationLevel.ORT_ENABLE_EXTENDED, _ => GraphOptimizationLevel.ORT_ENABLE_ALL }; break;
        default: throw new ArgumentException(args[i]);
    }
}

string model = Path.Combine(dir, "model.onnx");
long bytes = Directory.GetFiles(dir).Where(f => f.EndsWith(".onnx", StringComparison.Ordinal) || f.EndsWith(".onnx_data", StringComparison.Ordinal)).Sum(f => new FileInfo(f).Length);
using var so = new SessionOptions
{
    IntraOpNumThreads = Environment.ProcessorCount,
    InterOpNumThreads = 1,
    ExecutionMode = ExecutionMode.ORT_SEQUENTIAL,
    GraphOptimizationLevel = level,
    LogSeverityLevel = OrtLoggingLevel.ORT_LOGGING_LEVEL_ERROR,
    EnableCpuMemArena = arena,
};
if (!spin)
{
    // Threads that sleep instead of spin: the process's CPU time then counts work, not waiting (a contention-proof figure).
    so.AddSessionConfigEntry("session.intra_op.allow_spinning", "0");
}

string profilePrefix = Path.Combine(Path.GetTempPath(), $"fluxprobe-{Environment.ProcessId}");
if (profile)
{
    so.ProfileOutputPathPrefix = profilePrefix; // read when EnableProfiling is set: first
    so.EnableProfiling = true;
}

var load = Stopwatch.StartNew();
using var session = new InferenceSession(model, so);
double loadS = load.Elapsed.TotalSeconds;
long rssAfterLoad = Environment.WorkingSet;

var rng = new Random(1234);
float Normal() => (float)(Math.Sqrt(-2 * Math.Log(1 - rng.NextDouble())) * Math.Cos(2 * Math.PI * rng.NextDouble()));
float[] Noise(int n)
{
    var a = new float[n];
    for (int i = 0; i < n; i++) a[i] = Normal();
    return a;
}

var inputs = session.InputMetadata;
var names = new List<string>();
var values = new List<OrtValue>();
int tokens = 0;
if (inputs.ContainsKey("hidden_states"))
{
    int side = size / 16;
    tokens = side * side;
    int joint = inputs["encoder_hidden_states"].Dimensions[2];
    int pooled = inputs["pooled_projections"].Dimensions[1];
    var imgIds = new long[tokens * 3];
    for (int r = 0; r < side; r++)
    {
        for (int c = 0; c < side; c++)
        {
            imgIds[(r * side + c) * 3 + 1] = r;
            imgIds[(r * side + c) * 3 + 2] = c;
        }
    }

    void Add(string name, OrtValue v)
    {
        names.Add(name);
        values.Add(v);
    }

    Add("hidden_states", OrtValue.CreateTensorValueFromMemory(Noise(tokens * 64), [1, tokens, 64]));
    Add("encoder_hidden_states", OrtValue.CreateTensorValueFromMemory(Noise(text * joint), [1, text, joint]));
    Add("pooled_projections", OrtValue.CreateTensorValueFromMemory(Noise(pooled), [1, pooled]));
    Add("timestep", OrtValue.CreateTensorValueFromMemory(new float[] { 1f }, [1]));
    Add("img_ids", OrtValue.CreateTensorValueFromMemory(imgIds, [tokens, 3]));
    Add("txt_ids", OrtValue.CreateTensorValueFromMemory(new long[text * 3], [text, 3]));
    if (inputs.ContainsKey("guidance"))
    {
        Add("guidance", OrtValue.CreateTensorValueFromMemory(new float[] { 3.5f }, [1]));
    }
}
else
{
    var ids = new long[text];
    for (int i = 0; i < text; i++) ids[i] = rng.Next(32000);
    names.Add(inputs.Keys.First());
    values.Add(OrtValue.CreateTensorValueFromMemory(ids, [1, text]));
}

string outName = session.OutputMetadata.Keys.First();
using var runOptions = new RunOptions();
float[] output = [];
var times = new List<double>();
var cpu = new List<double>();
using var self = Process.GetCurrentProcess();
for (int r = 0; r < runs; r++)
{
    self.Refresh();
    var cpu0 = self.TotalProcessorTime;
    var sw = Stopwatch.StartNew();
    using var outputs = session.Run(runOptions, names, values, [outName]);
    times.Add(sw.Elapsed.TotalSeconds);
    self.Refresh();
    cpu.Add((self.TotalProcessorTime - cpu0).TotalSeconds);
    output = outputs[0].GetTensorDataAsSpan<float>().ToArray();
}

foreach (var v in values) v.Dispose();

string diff = ProbeOutput.SaveAndCompare(output, save, reference);

string blocks = "";
if (profile)
{
    string file = session.EndProfiling();
    using var doc = JsonDocument.Parse(File.ReadAllText(file));
    var runSpans = new List<(double Start, double End)>();
    var nodes = new List<(double Ts, double Dur, string Name)>();
    foreach (var e in doc.RootElement.EnumerateArray())
    {
        string cat = e.GetProperty("cat").GetString() ?? "";
        string name = e.GetProperty("name").GetString() ?? "";
        double ts = e.GetProperty("ts").GetDouble(), dur = e.GetProperty("dur").GetDouble();
        if (cat == "Session" && name == "model_run") runSpans.Add((ts, ts + dur));
        else if (cat == "Node" && name.EndsWith("_kernel_time", StringComparison.Ordinal)) nodes.Add((ts, dur, name));
    }

    var block = new Regex(@"(single_transformer_blocks\.\d+|transformer_blocks\.\d+|block\.\d+)", RegexOptions.CultureInvariant);
    var perRun = runSpans.Select(_ => new SortedDictionary<string, double>(StringComparer.Ordinal)).ToList();
    foreach (var (ts, dur, name) in nodes)
    {
        int run = runSpans.FindIndex(s => ts >= s.Start && ts <= s.End);
        if (run < 0) continue;
        var m = block.Match(name);
        string key = m.Success ? m.Value : "rest";
        perRun[run][key] = perRun[run].GetValueOrDefault(key) + dur / 1e6;
    }

    blocks = ", \"blocks_s\": [" + string.Join(", ", perRun.Select(d => "{" + string.Join(", ", d.Select(kv => string.Create(CultureInfo.InvariantCulture, $"\"{kv.Key}\": {kv.Value:F3}"))) + "}")) + "]";
    File.Delete(file);
}

Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
    $"{{\"dir\": \"{dir}\", \"size\": {size}, \"image_tokens\": {tokens}, \"text_tokens\": {text}, \"bytes\": {bytes}, \"load_s\": {loadS:F2}, \"rss_after_load\": {rssAfterLoad}, \"call_s\": [{ProbeOutput.Seconds(times)}], \"cpu_s\": [{ProbeOutput.Seconds(cpu)}], \"spin\": {(spin ? "true" : "false")}{blocks}{diff}}}"));
