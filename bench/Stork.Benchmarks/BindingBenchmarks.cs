using BenchmarkDotNet.Attributes;
using Microsoft.ML.OnnxRuntime;
using Stork.IO;
using Stork.Onnx;

namespace Stork.Benchmarks;

/// <summary>
/// One denoiser call of a tiny golden folder (tests/Stork.Tests/Data/pipelines) on the CPU, as a pipeline step makes
/// it: new latents and timestep written into the call's tensors, the graph run, the output read back. Unbound: the
/// plain prepared call (<c>session.Run</c> with every input); Bound: the IOBinding call (constant inputs bound once,
/// latents and timestep re-bound each call). The graphs are tiny, so the call's fixed cost is what is compared.
/// Usage: dotnet run -c Release --project bench/Stork.Benchmarks -- --filter '*BindingBenchmarks*'
/// </summary>
[MemoryDiagnoser]
public class BindingBenchmarks : IDisposable
{
    private OnnxGraph _graph = null!;
    private readonly List<GraphTensor> _tensors = [];
    private OnnxGraph.Call _unbound = null!;
    private OnnxGraph.Call _bound = null!;
    private GraphTensor _sample = null!;
    private GraphTensor _timestep = null!;
    private GraphTensor _output = null!;
    private float[] _latents = [];
    private float[] _result = [];
    private int _step;

    /// <summary>The golden case: a UNet (SD1.5, batched CFG) or a transformer (FLUX.1-schnell).</summary>
    [Params("sd15-dpmpp2m-n8-cfg7.5", "flux-schnell-euler-n4")]
    public string Case { get; set; } = "sd15-dpmpp2m-n8-cfg7.5";

    private static string Root
    {
        get
        {
            for (var d = new DirectoryInfo(AppContext.BaseDirectory); d is not null; d = d.Parent)
            {
                string p = Path.Combine(d.FullName, "tests", "Stork.Tests", "Data", "pipelines");
                if (Directory.Exists(p))
                {
                    return p;
                }
            }

            throw new DirectoryNotFoundException("tests/Stork.Tests/Data/pipelines not found above the benchmark's folder.");
        }
    }

    [GlobalSetup]
    public void Setup()
    {
        string model = Case.StartsWith("sd15", StringComparison.Ordinal) ? "sd15/unet" : "flux-schnell/transformer";
        _graph = OnnxGraph.OpenUnbound("denoiser", Path.Combine(Root, "models", model, "model.onnx"), new OnnxRuntimeOptions { IntraOpThreads = 1 });
        string sampleName = _graph.InputMetadata.ContainsKey("sample") ? "sample" : "hidden_states";
        string outName = _graph.OutputMetadata.Keys.First();
        var inputs = new List<(string, OrtValue)>();
        int batch = 1;
        foreach (var (name, meta) in _graph.InputMetadata.OrderBy(m => m.Key != sampleName))
        {
            _graph.BindInput(name, name);
            var npy = NpyFile.Read(Path.Combine(Root, $"{Case}.denoiser.{name}.npy"));
            long[] shape = name == "timestep" ? (meta.Dimensions.Length == 0 ? [] : [batch]) : [.. npy.Shape.Select(d => (long)d)];
            if (name == sampleName)
            {
                batch = npy.Shape[0];
            }

            var t = new GraphTensor(meta.ElementDataType, shape);
            _tensors.Add(t);
            if (t.IsFloat)
            {
                t.SetFloats([.. npy.Data.Take(t.Length).Select(v => (float)v)]);
            }
            else
            {
                t.SetIntegers([.. npy.Data.Select(v => (long)v)]);
            }

            inputs.Add((name, t.Value));
            if (name == sampleName)
            {
                _sample = t;
            }
            else if (name == "timestep")
            {
                _timestep = t;
            }
        }

        _graph.BindOutput(outName, outName);
        var outMeta = _graph.OutputMetadata[outName];
        _output = new GraphTensor(outMeta.ElementDataType, _sample.Shape);
        _tensors.Add(_output);
        _latents = new float[_sample.Length];
        _result = new float[_output.Length];
        _unbound = _graph.Prepare(inputs, [(outName, _output.Value)]);
        _bound = _graph.Prepare(inputs, [(outName, _output.Value)], [sampleName, "timestep"]);
    }

    private void Step(OnnxGraph.Call call)
    {
        _step++;
        _latents[_step % _latents.Length] = _step;
        _sample.SetFloats(_latents);
        _timestep.Fill(_step % 1000);
        call.Run();
        _output.CopyTo(_result);
    }

    [Benchmark(Baseline = true)]
    public void Unbound() => Step(_unbound);

    [Benchmark]
    public void Bound() => Step(_bound);

    [GlobalCleanup]
    public void Dispose()
    {
        _unbound.Dispose();
        _bound.Dispose();
        foreach (var t in _tensors)
        {
            t.Dispose();
        }

        _graph.Dispose();
        GC.SuppressFinalize(this);
    }
}
