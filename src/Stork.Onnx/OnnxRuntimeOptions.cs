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

        if (DeviceId < 0)
        {
            throw new ArgumentException($"device id must be non-negative (got {DeviceId}).");
        }
    }
}
