// unetprobe UNET_DIR|VAE_DECODER_DIR [--ref REF.bin] [--save OUT.bin] [--size 256] [--runs 2] [--arena on|off] [--config key=value]...
//           [--opt none|basic|extended|all] [--load-only yes] [--write-optimized OUT_DIR]
// Loads UNET_DIR/model.onnx with the project's session options (src/Stork.Onnx/OnnxSessions.cs), runs the SD1.5 UNet on
// fixed seeded inputs (batch 2, as classifier-free guidance calls it), and prints one JSON line: the session load time,
// the read time of the same files from the page cache, the time per call, and the output's difference from REF.
using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

string dir = args[0];
string? reference = null, save = null;
int size = 256, runs = 2;
bool arena = true, loadOnly = false;
var level = GraphOptimizationLevel.ORT_ENABLE_ALL;
var config = new List<(string, string)>();
string? optimizedDir = null;
for (int i = 1; i < args.Length; i += 2)
{
    switch (args[i])
    {
        case "--ref": reference = args[i + 1]; break;
        case "--save": save = args[i + 1]; break;
        case "--size": size = int.Parse(args[i + 1], CultureInfo.InvariantCulture); break;
        case "--runs": runs = int.Parse(args[i + 1], CultureInfo.InvariantCulture); break;
        case "--arena": arena = args[i + 1] != "off"; break;
        case "--opt": level = args[i + 1] switch { "none" => GraphOptimizationLevel.ORT_DISABLE_ALL, "basic" => GraphOptimizationLevel.ORT_ENABLE_BASIC, "extended" => GraphOptimizationLevel.ORT_ENABLE_EXTENDED, _ => GraphOptimizationLevel.ORT_ENABLE_ALL }; break;
        case "--load-only": loadOnly = args[i + 1] == "yes"; break;
        case "--write-optimized": optimizedDir = args[i + 1]; break;
        case "--config": var kv = args[i + 1].Split('=', 2); config.Add((kv[0], kv[1])); break;
        default: throw new ArgumentException(args[i]);
    }
}

string model = Path.Combine(dir, "model.onnx");
var files = Directory.GetFiles(dir).Where(f => f.EndsWith(".onnx", StringComparison.Ordinal) || f.EndsWith(".onnx_data", StringComparison.Ordinal)).ToArray();
long bytes = files.Sum(f => new FileInfo(f).Length);

// Read time of the same files (page cache after the first pass): the floor a load can reach.
var buffer = new byte[1 << 22];
double read = double.MaxValue;
for (int pass = 0; pass < 2; pass++)
{
    var sw = Stopwatch.StartNew();
    foreach (string f in files)
    {
        using var s = new FileStream(f, FileMode.Open, FileAccess.Read, FileShare.Read, 1, FileOptions.SequentialScan);
        while (s.Read(buffer) > 0)
        {
        }
    }

    read = Math.Min(read, sw.Elapsed.TotalSeconds);
}

using var so = new SessionOptions
{
    IntraOpNumThreads = Environment.ProcessorCount,
    InterOpNumThreads = 1,
    ExecutionMode = ExecutionMode.ORT_SEQUENTIAL,
    GraphOptimizationLevel = level,
    LogSeverityLevel = OrtLoggingLevel.ORT_LOGGING_LEVEL_ERROR,
    EnableCpuMemArena = arena,
};
foreach (var (k, v) in config)
{
    so.AddSessionConfigEntry(k, v);
}

if (optimizedDir is not null)
{
    // ONNX Runtime's offline optimization: the graph as optimized at this level, weights in one external file.
    Directory.CreateDirectory(optimizedDir);
    so.OptimizedModelFilePath = Path.Combine(optimizedDir, "model.onnx");
    so.AddSessionConfigEntry("session.optimized_model_external_initializers_file_name", "model.onnx_data");
    so.AddSessionConfigEntry("session.optimized_model_external_initializers_min_size_in_bytes", "1024");
}

var load = Stopwatch.StartNew();
using var session = new InferenceSession(model, so);
double loadS = load.Elapsed.TotalSeconds;
long rssAfterLoad = Environment.WorkingSet;

if (loadOnly)
{
    // Load time against read time only (any component): --opt, --arena and --config entries are the experiment.
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
        $"{{\"dir\": \"{dir}\", \"bytes\": {bytes}, \"read_s\": {read:F2}, \"load_s\": {loadS:F2}, \"load_over_read\": {loadS / read:F1}, \"rss_after_load\": {rssAfterLoad}, \"opt\": \"{level}\", \"arena\": {(arena ? "true" : "false")}, \"config\": \"{string.Join(';', config.Select(c => c.Item1 + "=" + c.Item2))}\"}}"));
    return;
}

int h = size / 8;
var rng = new Random(1234);
float Normal() => (float)(Math.Sqrt(-2 * Math.Log(1 - rng.NextDouble())) * Math.Cos(2 * Math.PI * rng.NextDouble()));
var sample = new float[2 * 4 * h * h];
for (int i = 0; i < sample.Length; i++) sample[i] = Normal();
var text = new float[2 * 77 * 768];
for (int i = 0; i < text.Length; i++) text[i] = Normal();
var inputs = session.InputMetadata;
if (inputs.Count == 1)
{
    // A VAE decoder: one latent_sample [1, 4, h, h]; the call's time and the process peak are what count.
    var latent = new float[4 * h * h];
    for (int i = 0; i < latent.Length; i++) latent[i] = Normal();
    using var latentValue = OrtValue.CreateTensorValueFromMemory(latent, [1, 4, h, h]);
    using var vaeRun = new RunOptions();
    var vaeTimes = new List<double>();
    for (int r = 0; r < runs; r++)
    {
        var sw = Stopwatch.StartNew();
        using var outputs = session.Run(vaeRun, [inputs.Keys.First()], [latentValue], [session.OutputMetadata.Keys.First()]);
        vaeTimes.Add(sw.Elapsed.TotalSeconds);
    }

    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
        $"{{\"dir\": \"{dir}\", \"size\": {size}, \"bytes\": {bytes}, \"read_s\": {read:F2}, \"load_s\": {loadS:F2}, \"rss_after_load\": {rssAfterLoad}, \"call_s\": [{ProbeOutput.Seconds(vaeTimes)}], \"arena\": {(arena ? "true" : "false")}}}"));
    return;
}

string tName = inputs.Keys.First(k => k.Contains("timestep", StringComparison.Ordinal));
var tMeta = inputs[tName];
using var sampleValue = OrtValue.CreateTensorValueFromMemory(sample, [2, 4, h, h]);
using var textValue = OrtValue.CreateTensorValueFromMemory(text, [2, 77, 768]);
long[] tShape = tMeta.Dimensions.Length == 0 ? [] : [2];
using var tValue = tMeta.ElementDataType == TensorElementType.Int64
    ? OrtValue.CreateTensorValueFromMemory(tShape.Length == 0 ? new long[] { 500 } : [500L, 500L], tShape)
    : OrtValue.CreateTensorValueFromMemory(tShape.Length == 0 ? new float[] { 500f } : [500f, 500f], tShape);
string sampleName = inputs.Keys.First(k => k.Contains("sample", StringComparison.Ordinal));
string textName = inputs.Keys.First(k => k.Contains("encoder_hidden_states", StringComparison.Ordinal));
string outName = session.OutputMetadata.Keys.First();
using var runOptions = new RunOptions();
float[] output = [];
var times = new List<double>();
for (int r = 0; r < runs; r++)
{
    var sw = Stopwatch.StartNew();
    using var outputs = session.Run(runOptions, [sampleName, tName, textName], [sampleValue, tValue, textValue], [outName]);
    times.Add(sw.Elapsed.TotalSeconds);
    output = outputs[0].GetTensorDataAsSpan<float>().ToArray();
}

string diff = ProbeOutput.SaveAndCompare(output, save, reference);

Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
    $"{{\"dir\": \"{dir}\", \"size\": {size}, \"bytes\": {bytes}, \"read_s\": {read:F2}, \"load_s\": {loadS:F2}, \"rss_after_load\": {rssAfterLoad}, \"call_s\": [{ProbeOutput.Seconds(times)}], \"arena\": {(arena ? "true" : "false")}, \"config\": \"{string.Join(';', config.Select(c => c.Item1 + "=" + c.Item2))}\"{diff}}}"));
