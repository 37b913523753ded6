using System.CommandLine;
using Stork.Onnx;
using Stork.Pipelines;

namespace Stork.Cli;

/// <summary>ONNX Runtime options: execution provider and threads.</summary>
internal sealed class RuntimeOptionSet
{
    public Option<string> Provider { get; } = new("--provider", "--device")
    {
        Description = "ONNX models: execution provider (alias --device): cpu, cuda, directml (dml) or coreml; all but cpu need the matching ONNX Runtime package.",
        DefaultValueFactory = _ => "cpu",
    };

    public Option<int?> Threads { get; } = new("--threads") { Description = "ONNX models: intra-op threads, 1 to 4 x the number of processors (default: the number of processors)." };

    public Option<string?> IoBinding { get; } = new("--io-binding")
    {
        Description = "Pipelines: on or off (default: on for cuda and directml, off on the CPU, where it was not faster): ONNX Runtime's IOBinding for the denoiser: the inputs that stay the same over a run are bound once (on a GPU copied to the device once), the latents and timestep moved each step. The images are the same bytes either way on the CPU.",
    };

    public Option<bool> CudaGraph { get; } = new("--cuda-graph") { Description = "Pipelines on --device cuda: capture the denoiser's calls as CUDA graphs and replay them (fixed shapes; every node must run on CUDA)." };

    public Option<bool> KeepLoaded { get; } = new("--keep-loaded") { Description = "Pipelines: keep every component loaded between prompts of a --prompt-file (an alias of --memory high)." };

    public Option<bool> LowMemory { get; } = new("--low-memory") { Description = "An alias of --memory low." };

    /// <param name="defaultMemory">The policy without <c>--memory</c>: low for generate, high for serve.</param>
    public RuntimeOptionSet(MemoryPolicy defaultMemory = MemoryPolicy.Low)
    {
        DefaultMemory = defaultMemory;
        string Default(MemoryPolicy p) => p == defaultMemory ? "default: " : "";
        Memory = new("--memory")
        {
            Description = $"Pipelines: which components stay loaded across prompts: low ({Default(MemoryPolicy.Low)}each is loaded when needed and released after; the peak is the largest component and its working memory), balanced ({Default(MemoryPolicy.Balanced)}the denoiser stays loaded; encoders and VAE per prompt) or high ({Default(MemoryPolicy.High)}everything stays loaded; the peak is the sum).",
        };
    }

    public MemoryPolicy DefaultMemory { get; }

    public Option<string?> Memory { get; }

    public IEnumerable<Option> All => [Provider, Threads];

    /// <summary>The options of <see cref="ReadPipeline"/>, for generate (<c>--keep-loaded</c> the alias of high).</summary>
    public IEnumerable<Option> Pipeline => [Memory, KeepLoaded, IoBinding, CudaGraph];

    /// <summary>The options of <see cref="ReadMemory"/> for serve (<c>--low-memory</c> the alias of low).</summary>
    public IEnumerable<Option> ServeMemory => [Memory, LowMemory];

    public OnnxRuntimeOptions Read(ParseResult r)
    {
        int maxThreads = 4 * Environment.ProcessorCount;
        if (r.GetValue(Threads) is { } threads && threads > maxThreads)
        {
            throw new CliException($"--threads must be at most {maxThreads} (4 x the {Environment.ProcessorCount} processors; got {threads}).");
        }

        // Its errors are keyed provider / threads, which CliApp maps to these flags.
        var options = new OnnxRuntimeOptions
        {
            ExecutionProvider = r.GetValue(Provider)!.ToLowerInvariant(),
            IntraOpThreads = r.GetValue(Threads),
            IoBinding = r.GetValue(IoBinding) switch
            {
                null => null,
                "on" => true,
                "off" => false,
                var other => throw new CliException($"--io-binding must be on or off (got '{other}')."),
            },
            CudaGraph = r.GetValue(CudaGraph),
        };
        options.Validate();
        options.RequireProvider();
        return options;
    }

    /// <summary>The pipeline options: <see cref="Read"/> and the memory policy (<c>--memory</c>, <c>--keep-loaded</c>).</summary>
    public PipelineOptions ReadPipeline(ParseResult r) => new() { Runtime = Read(r), Memory = ReadMemory(r) };

    /// <summary>The memory policy: <c>--memory</c>, or its aliases <c>--keep-loaded</c> (high) and <c>--low-memory</c> (low), else the default.</summary>
    public MemoryPolicy ReadMemory(ParseResult r)
    {
        var alias = r.GetValue(KeepLoaded) ? ("--keep-loaded", MemoryPolicy.High) : r.GetValue(LowMemory) ? ("--low-memory", MemoryPolicy.Low) : ((string, MemoryPolicy)?)null;
        var policy = r.GetValue(Memory) switch
        {
            null => alias?.Item2 ?? DefaultMemory,
            "low" => MemoryPolicy.Low,
            "balanced" => MemoryPolicy.Balanced,
            "high" => MemoryPolicy.High,
            var other => throw new CliException($"--memory must be low, balanced or high (got '{other}')."),
        };
        if (alias is { } a && a.Item2 != policy)
        {
            throw new CliException($"{a.Item1} means --memory {a.Item2.ToString().ToLowerInvariant()}; leave one out (got --memory {r.GetValue(Memory)}).");
        }

        return policy;
    }
}
