using System.CommandLine;
using Stork.Onnx;

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

    public IEnumerable<Option> All => [Provider, Threads];

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
}
