using System.Runtime.InteropServices;
using Microsoft.ML.OnnxRuntime.Tensors;
using Stork.Onnx;
using Stork.Pipelines;

namespace Stork.Tests.Pipelines;

/// <summary>
/// The denoiser through ONNX Runtime's IOBinding (the GPU path's binding logic, run on the CPU): the same bytes as
/// the unbound calls on every golden case, the constant inputs bound once per run, float16 graphs fed natively.
/// </summary>
public sealed class IoBindingTests : IDisposable
{
    private readonly string _temp = Directory.CreateTempSubdirectory("stork-iobinding-").FullName;

    private static readonly OnnxRuntimeOptions Unbound = new() { IoBinding = false };
    private static readonly OnnxRuntimeOptions Bound = new() { IoBinding = true };

    /// <summary>Changing inputs and outputs in allocator-owned tensors copied in and out around each call: the CUDA-graph layout.</summary>
    private static readonly OnnxRuntimeOptions Resident = new() { IoBinding = true, ResidentTensors = true };

    public static TheoryData<string> Cases() => new(PipelineCase.Names("").Concat(PipelineCase.ImageInputNames()).Order(StringComparer.Ordinal));

    private GenerationResult Run(PipelineCase c, OnnxRuntimeOptions runtime, string? folder = null, Action<TextToImagePipeline>? after = null) =>
        c.RunFromTokens(_temp, folder, options: new PipelineOptions { Runtime = runtime, Memory = after is null ? MemoryPolicy.Low : MemoryPolicy.High }, after: after);

    private static void AssertSameBytes(GenerationResult expected, GenerationResult actual, string what)
    {
        Assert.True(MemoryMarshal.AsBytes(expected.FinalLatents.AsSpan()).SequenceEqual(MemoryMarshal.AsBytes(actual.FinalLatents.AsSpan())), $"{what}: final latents differ");
        Assert.True(MemoryMarshal.AsBytes(expected.Images.Pixels.AsSpan()).SequenceEqual(MemoryMarshal.AsBytes(actual.Images.Pixels.AsSpan())), $"{what}: image differs");
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Bound_calls_give_the_same_bytes_as_unbound_calls(string name)
    {
        var c = PipelineCase.Load(name);
        var unbound = Run(c, Unbound);
        AssertSameBytes(unbound, Run(c, Bound), $"{name}, bound");
        AssertSameBytes(unbound, Run(c, Resident), $"{name}, resident tensors");
    }

    [Fact]
    public void Io_binding_is_the_default_on_gpus_and_not_on_the_cpu()
    {
        Assert.False(new OnnxRuntimeOptions().UsesIoBinding);
        Assert.True(new OnnxRuntimeOptions { ExecutionProvider = "cuda" }.UsesIoBinding);
        Assert.True(new OnnxRuntimeOptions { ExecutionProvider = "directml" }.UsesIoBinding);
        Assert.False(new OnnxRuntimeOptions { ExecutionProvider = "cuda", IoBinding = false }.UsesIoBinding);
        Assert.True(Bound.UsesIoBinding);
    }

    [Theory]
    [InlineData("sd15-dpmpp2m-n8-cfg7.5", 1)] // batched CFG: one call per evaluation
    [InlineData("qwen-image-euler-n6-truecfg4", 2)] // true CFG: a positive and a negative call per evaluation
    [InlineData("flux-dev-euler-n6-g3.5", 1)] // embedded guidance, positions, pooled embeddings
    public void Constant_inputs_are_bound_once_per_run_and_the_latents_every_call(string name, int calls)
    {
        var c = PipelineCase.Load(name);
        int steps = c.Int("num_inference_steps");
        IReadOnlyDictionary<string, int>? binds = null;
        string sample = "";
        string[] inputs = [], outputs = [];
        Run(c, Bound, after: p =>
        {
            var denoiser = p.Family.Denoiser.Get();
            binds = denoiser.Graph.Binds.ToDictionary();
            sample = denoiser.Sample;
            inputs = [.. denoiser.Graph.InputMetadata.Keys];
            outputs = [denoiser.Output];
        });

        Assert.NotNull(binds);
        int evaluations = binds[sample] / calls;
        Assert.True(evaluations >= steps, $"{name}: {binds[sample]} sample binds for {steps} steps and {calls} call(s) per step");
        Assert.Equal(binds[sample], binds["timestep"]);
        var constants = binds.Keys.Where(k => k != sample && k != "timestep").ToArray();
        Assert.True(constants.Length >= (name.StartsWith("sd15", StringComparison.Ordinal) ? 2 : 4), $"{name}: constants bound: {string.Join(", ", constants)}");
        foreach (string k in constants)
        {
            Assert.True(binds[k] == calls, $"{name}: '{k}' bound {binds[k]} times over {evaluations} evaluations ({calls} call(s) per evaluation); expected once per call");
        }

        Assert.Contains(outputs[0], constants);
        Assert.Equal(inputs.Length + 1, binds.Count);
    }

    [Fact]
    public void Unbound_calls_bind_nothing()
    {
        var c = PipelineCase.Load("sd15-dpmpp2m-n8-cfg7.5");
        int binds = -1;
        Run(c, Unbound, after: p => binds = p.Family.Denoiser.Get().Graph.Binds.Count);
        Assert.Equal(0, binds);
    }

    [Theory]
    [InlineData("sd3-euler-n5-cfg5", "sd3", "transformer/model.onnx", "sd3-transformer-fp16-io.onnx")]
    [InlineData("flux-dev-stork4-n6-truecfg2.5", "flux-dev", "transformer/model.onnx", "flux-dev-transformer-fp16-io.onnx")]
    public void A_float16_graph_is_bound_in_float16_with_the_same_bytes(string name, string family, string graph, string variant)
    {
        var c = PipelineCase.Load(name);
        using var folder = new TinyFolder(family);
        folder.Replace(graph, Path.Combine(PipelineCase.Root, "variants", variant));
        TensorElementType sampleType = default, outputType = default;
        int sampleBinds = 0;
        var bound = Run(c, Bound, folder.Root, p =>
        {
            var d = p.Family.Denoiser.Get();
            sampleType = d.Graph.Input(d.Sample).ElementType;
            outputType = d.Graph.Output(d.Output).ElementType;
            sampleBinds = d.Graph.Binds[d.Sample];
        });
        Assert.Equal(TensorElementType.Float16, sampleType);
        Assert.Equal(TensorElementType.Float16, outputType);
        Assert.True(sampleBinds > 0);
        AssertSameBytes(Run(c, Unbound, folder.Root), bound, $"{name}, float16 graph");
    }

    [Fact]
    public void Cuda_graphs_need_the_cuda_provider_and_io_binding()
    {
        var e = Assert.Throws<OptionException>(() => new OnnxRuntimeOptions { CudaGraph = true }.Validate());
        Assert.Equal("cuda-graph", e.Key);
        Assert.Contains("cuda provider", e.Message, StringComparison.Ordinal);
        e = Assert.Throws<OptionException>(() => new OnnxRuntimeOptions { ExecutionProvider = "cuda", CudaGraph = true, IoBinding = false }.Validate());
        Assert.Contains("IOBinding", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_missing_cuda_provider_names_the_gpu_build()
    {
        // The tests run on the CPU package; were they built with -p:StorkOnnxRuntime=Gpu, CUDA would be there.
        if (Microsoft.ML.OnnxRuntime.OrtEnv.Instance().GetAvailableProviders().Contains("CUDAExecutionProvider"))
        {
            return;
        }

        var e = Assert.Throws<OptionException>(() => new OnnxRuntimeOptions { ExecutionProvider = "cuda" }.RequireProvider());
        Assert.Equal("provider", e.Key);
        Assert.Contains("-p:StorkOnnxRuntime=Gpu", e.Message, StringComparison.Ordinal);
        Assert.Contains("Microsoft.ML.OnnxRuntime.Gpu", e.Message, StringComparison.Ordinal);
        new OnnxRuntimeOptions().RequireProvider();
    }

    [Fact]
    public void Generate_on_cuda_without_the_gpu_build_is_one_line_naming_the_switch_before_any_work()
    {
        if (Microsoft.ML.OnnxRuntime.OrtEnv.Instance().GetAvailableProviders().Contains("CUDAExecutionProvider"))
        {
            return;
        }

        using var h = new Stork.Tests.Cli.CliHarness();
        var model = PipelineCase.Load("flux-schnell-euler-n4").ModelFolder;
        var (code, _, err) = h.Run("generate", "--model", model, "--prompt", "a cat", "--height", "32", "--width", "32", "--device", "cuda", "--out", h.PathOf("x.png"));
        Assert.Equal(2, code);
        Assert.Single(err.Trim().Split('\n'));
        Assert.StartsWith("error: --provider 'cuda' is not in this ONNX Runtime build", err, StringComparison.Ordinal);
        Assert.Contains("-p:StorkOnnxRuntime=Gpu", err, StringComparison.Ordinal);
        Assert.Empty(Directory.GetFiles(h.Directory, "x*"));
    }

    [Fact]
    public void Generate_refuses_a_bad_io_binding_value_and_cuda_graphs_on_the_cpu()
    {
        using var h = new Stork.Tests.Cli.CliHarness();
        var model = PipelineCase.Load("flux-schnell-euler-n4").ModelFolder;
        var (code, _, err) = h.Run("generate", "--model", model, "--prompt", "a cat", "--io-binding", "maybe", "--out", h.PathOf("x.png"));
        Assert.Equal(2, code);
        Assert.Equal("error: --io-binding must be on or off (got 'maybe').", err.Trim());
        (code, _, err) = h.Run("generate", "--model", model, "--prompt", "a cat", "--cuda-graph", "--out", h.PathOf("x.png"));
        Assert.Equal(2, code);
        Assert.Equal("error: --cuda-graph needs the cuda provider (got 'cpu').", err.Trim());
    }

    public void Dispose() => Directory.Delete(_temp, recursive: true);
}
