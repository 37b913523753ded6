using System.CommandLine;
using System.Text.Json;
using Stork.Pipelines;

namespace Stork.Cli;

/// <summary><c>stork tokenize</c>: the ids each tokenizer of a model folder gives, padded as the pipeline feeds them.</summary>
internal static class TokenizeCommand
{
    public static Command Create(TextWriter stdout, TextWriter stderr)
    {
        var model = new Option<string?>("--model") { Description = "Model folder in the diffusers / Optimum ONNX layout (default: the shipped models/fashion-flux)." };
        var prompt = new Option<string>("--prompt") { Description = "The prompt.", Required = true };
        var maxSequence = new Option<int?>("--max-sequence-length") { Description = "T5 tokens (default: the family's)." };
        var command = new Command("tokenize", "Print, as JSON keyed by tokenizer component, the token ids the pipeline feeds its text encoders (truncation is reported on stderr).")
        {
            model, prompt, maxSequence,
        };
        command.SetAction(r =>
        {
            using var pipeline = TextToImage.Load(ShippedModels.TextToImageFolder(r.GetValue(model)));
            var ids = pipeline.Tokenize(r.GetValue(prompt)!, r.GetValue(maxSequence));
            foreach (var (component, t) in ids)
            {
                if (t.Truncated)
                {
                    stderr.WriteLine($"warning: {component} truncates the prompt to {t.Ids.Length} tokens (it has {t.UntruncatedLength}).");
                }
            }

            stdout.WriteLine(JsonSerializer.Serialize(ids.ToDictionary(p => p.Key, p => p.Value.Ids)));
            return 0;
        });
        return command;
    }
}
