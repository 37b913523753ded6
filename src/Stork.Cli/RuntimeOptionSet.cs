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

    public Option<string?> Memory { get; } = new("--memory")
    {
        Description = "Pipelines: which components stay loaded across the prompts of a run: low (default: each is loaded when needed and released after; the peak is the largest component and its working memory), balanced (the denoiser stays loaded; encoders and VAE per prompt) or high (everything stays loaded; the peak is the sum).",
    };

    public Option<bool> KeepLoaded { get; } = new("--keep-loaded") { Description = "Pipelines: keep every component loaded between prompts of a --prompt-file (an alias of --memory high)." };

    public IEnumerable<Option> All => [Provider, Threads];

    /// <summary>The options of <see cref="ReadPipeline"/>, for the commands that run pipelines.</summary>
    public IEnumerable<Option> Pipeline => [Memory, KeepLoaded];

    public OnnxRuntimeOptions Read(ParseResult r)
    {
        int maxThreads = 4 * Environment.ProcessorCount;
        if (r.GetValue(Threads) is { } threads && threads > maxThreads)
        {
            throw new CliException($"--threads must be at most {maxThreads} (4 x the {Environment.ProcessorCount} processors; got {threads}).");
        }

        // Its errors are keyed provider / threads, which CliApp maps to these flags.
        var options = new OnnxRuntimeOptions { ExecutionProvider = r.GetValue(Provider)!.ToLowerInvariant(), IntraOpThreads = r.GetValue(Threads) };
        options.Validate();
        return options;
    }

    /// <summary>The pipeline options: <see cref="Read"/> and the memory policy (<c>--memory</c>, <c>--keep-loaded</c>).</summary>
    public PipelineOptions ReadPipeline(ParseResult r)
    {
        bool keep = r.GetValue(KeepLoaded);
        var policy = r.GetValue(Memory) switch
        {
            null => keep ? MemoryPolicy.High : MemoryPolicy.Low,
            "low" => MemoryPolicy.Low,
            "balanced" => MemoryPolicy.Balanced,
            "high" => MemoryPolicy.High,
            var other => throw new CliException($"--memory must be low, balanced or high (got '{other}')."),
        };
        if (keep && policy != MemoryPolicy.High)
        {
            throw new CliException($"--keep-loaded means --memory high; leave one out (got --memory {r.GetValue(Memory)}).");
        }

        return new PipelineOptions { Runtime = Read(r), Memory = policy };
    }
}
