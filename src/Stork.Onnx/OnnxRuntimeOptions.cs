namespace Stork.Onnx;

/// <summary>How ONNX Runtime sessions are created: execution provider and threads.</summary>
public sealed record OnnxRuntimeOptions
{
    /// <summary>The names <see cref="ExecutionProvider"/> accepts.</summary>
    public static IReadOnlyList<string> Providers { get; } = ["cpu", "cuda", "dml", "coreml"];

    /// <summary>
    /// <c>cpu</c> (default), <c>cuda</c>, <c>dml</c> (DirectML; <c>directml</c> is accepted) or <c>coreml</c>; all but
    /// the CPU need the matching ONNX Runtime package (Microsoft.ML.OnnxRuntime.Gpu, .DirectML; CoreML ships in the
    /// macOS build of Microsoft.ML.OnnxRuntime).
    /// </summary>
    public string ExecutionProvider
    {
        get => _provider;
        init => _provider = value.Equals("directml", StringComparison.OrdinalIgnoreCase) ? "dml" : value.ToLowerInvariant();
    }

    private readonly string _provider = "cpu";

    /// <summary>GPU device for <c>cuda</c> / <c>dml</c>.</summary>
    public int DeviceId { get; init; }

    /// <summary>Threads inside one operator; null means <see cref="Environment.ProcessorCount"/>.</summary>
    public int? IntraOpThreads { get; init; }

    /// <summary>
    /// ONNX Runtime's CPU memory arena (<c>SessionOptions.EnableCpuMemArena</c>), off unless set: on the real-size SD1.5
    /// UNet the arena grows over the steps of a run (fp32, 512 x 512: 7.05 GB after one step, 10.3 GB after three) and
    /// keeps the int4 graph's per-call dequantized Conv weights (1.99 against 1.35 GB at 256 x 256); off, the peak is
    /// that of one call (docs/results/real-size-memory.md).
    /// </summary>
    public bool? CpuArena { get; init; }

    /// <summary>
    /// Whether a pipeline's denoiser runs through ONNX Runtime's IOBinding (<see cref="OnnxGraph.Prepare(IReadOnlyList{ValueTuple{string, Microsoft.ML.OnnxRuntime.OrtValue}}, IReadOnlyList{ValueTuple{string, Microsoft.ML.OnnxRuntime.OrtValue}}, IReadOnlyCollection{string})"/>):
    /// the inputs that stay the same over a run (text embeddings, positions, pooled embeddings, guidance) are bound once
    /// and, on a GPU, copied to the device once; the latents and the timestep are bound again before each call and the
    /// noise prediction is copied back into host memory. Null: the provider's default (<see cref="UsesIoBinding"/>).
    /// The images are the same bytes either way on the CPU (tests).
    /// </summary>
    public bool? IoBinding { get; init; }

    /// <summary>
    /// CUDA graphs (<c>cuda</c> only, with IOBinding): the CUDA provider's <c>enable_cuda_graph</c> for the denoiser's
    /// session, the latents, timestep and output kept at fixed device addresses and copied in and out around each call,
    /// one graph captured per prepared call (run option <c>gpu_graph_id</c>). For fixed shapes; every node must run on
    /// the CUDA provider, else ONNX Runtime refuses the session. Off by default.
    /// </summary>
    public bool CudaGraph { get; init; }

    /// <summary>
    /// Test seam: IOBinding keeps the changing inputs and the outputs in tensors of the provider's own allocator and
    /// copies them in and out around each call (the CUDA-graph layout) on any provider, the CPU included.
    /// </summary>
    internal bool ResidentTensors { get; init; }

    /// <summary>
    /// Whether a denoiser uses IOBinding: <see cref="IoBinding"/> when set, else on for the GPU providers and off on the
    /// CPU. On the CPU the bound path gives the same bytes but was not faster: bench/Stork.Benchmarks' BindingBenchmarks
    /// measured one call of the tiny SD1.5 UNet at 1.11x and 1.32x the unbound call's time, the tiny FLUX.1 transformer's
    /// at 0.99x and 0.91x (docs/results/gpu.md).
    /// </summary>
    public bool UsesIoBinding => IoBinding ?? ExecutionProvider != "cpu";

    /// <summary>Largest batch one network call gets (bigger batches run in chunks), for networks with a dynamic batch axis.</summary>
    public int MaxBatch { get; init; } = 64;

    /// <summary>Throws <see cref="ArgumentException"/> for invalid values (<see cref="OptionException"/> keyed <c>provider</c> or <c>threads</c>).</summary>
    public void Validate()
    {
        if (!Providers.Contains(ExecutionProvider))
        {
            throw new OptionException("provider", $"must be one of: {string.Join(", ", Providers)} (got '{ExecutionProvider}').");
        }

        if (IntraOpThreads is < 1)
        {
            throw new OptionException("threads", $"must be at least 1 (got {IntraOpThreads}).");
        }

        if (MaxBatch < 1)
        {
            throw new ArgumentException($"max batch must be at least 1 (got {MaxBatch}).");
        }

        if (CudaGraph && ExecutionProvider != "cuda")
        {
            throw new OptionException("cuda-graph", $"needs the cuda provider (got '{ExecutionProvider}').");
        }

        if (CudaGraph && IoBinding == false)
        {
            throw new OptionException("cuda-graph", "needs IOBinding, which is set off.");
        }

        if (DeviceId < 0)
        {
            throw new ArgumentException($"device id must be non-negative (got {DeviceId}).");
        }
    }

    /// <summary>
    /// Throws <see cref="OptionException"/> (key <c>provider</c>) when this process's ONNX Runtime build lacks the
    /// provider, naming the package or build switch that has it (the shipped tool carries the CPU build).
    /// </summary>
    public void RequireProvider()
    {
        if (OnnxSessions.Missing(ExecutionProvider) is { } message)
        {
            throw new OptionException("provider", message);
        }
    }
}
