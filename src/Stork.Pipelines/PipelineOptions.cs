using Stork.Onnx;

namespace Stork.Pipelines;

/// <summary>How a pipeline uses ONNX Runtime and memory.</summary>
public sealed record PipelineOptions
{
    /// <summary>Execution provider, threads.</summary>
    public OnnxRuntimeOptions Runtime { get; init; } = new();

    /// <summary>
    /// Which components stay loaded between runs (<see cref="MemoryPolicy"/>). By default (<see cref="MemoryPolicy.Low"/>)
    /// a component is loaded when first needed and released when the run no longer needs it, so the peak is the largest
    /// component and its working memory (<see cref="MemoryEstimate"/>).
    /// </summary>
    public MemoryPolicy Memory { get; init; }

    /// <summary>Keep every component loaded between and during runs: <see cref="Memory"/> = <see cref="MemoryPolicy.High"/> (an alias).</summary>
    public bool KeepLoaded
    {
        get => Memory == MemoryPolicy.High;
        init => Memory = value ? MemoryPolicy.High : MemoryPolicy.Low;
    }
}
