using System.CommandLine;
using System.Globalization;
using Stork.Onnx.Quantization;
using Stork.Sampling;

namespace Stork.Cli;

/// <summary>
/// <c>stork quantize FOLDER --to OUT --weights int8|int4|fp16</c>: a copy of a model folder with weight-only quantized
/// (or float16) denoiser and text encoders (<see cref="ModelQuantizer"/>); one line per converted graph on stdout.
/// </summary>
internal static class QuantizeCommand
{
    public static Command Create(TextWriter stdout, TextWriter stderr)
    {
        var folder = new Argument<string>("FOLDER") { Description = "Model folder in the diffusers / Optimum ONNX layout." };
        var to = new Option<string>("--to") { Description = "The new model folder to write (must not exist).", Required = true };
        var weights = new Option<string>("--weights") { Description = "int8 or int4 (MatMul and Conv weights in blocks with a scale and zero point each), fp16 (weights stored as float16), or fp32 (alias keep: weights unchanged, the attention rewrite alone).", Required = true };
        var attention = new Option<string>("--attention")
        {
            Description = "fused (default: ONNX Runtime's MultiHeadAttention, flash attention on the CPU without the token x token scores) or unfused (the graph's own attention).",
            DefaultValueFactory = _ => "fused",
        };
        var blockSize = new Option<int>("--block-size")
        {
            Description = "Weights per quantization block along the input dimension (int8/int4): " + string.Join(", ", QuantizationOptions.BlockSizes) + "; default 32.",
            DefaultValueFactory = _ => 32,
        };
        var accuracy = new Option<int>("--accuracy-level")
        {
            Description = "ONNX Runtime's accuracy_level of the int8/int4 MatMulNBits nodes: 0 (default, float32 activations), 1 float32, 2 float16, 3 bfloat16, 4 int8 activations (int8 weights run about as fast as float32 on the CPU, at about twice the error).",
            DefaultValueFactory = _ => 0,
        };
        var optimized = new Option<bool>("--runtime-optimized")
        {
            Description = "Also write each converted graph as ONNX Runtime optimizes it on this machine (loads several times faster; the folder is then tied to this CPU kind, this ONNX Runtime version and the CPU provider).",
        };
        var command = new Command("quantize", "Write a copy of a model folder whose denoiser and text encoders have int8, int4 or float16 weights (ONNX Runtime's MatMulNBits for MatMul weights); the VAE and every other file are copied.")
        {
            folder, to, weights, blockSize, accuracy, attention, optimized,
        };
        command.SetAction((r, token) =>
        {
            bool fuse = r.GetValue(attention)!.Trim().ToLowerInvariant() switch
            {
                "fused" => true,
                "unfused" => false,
                var other => throw new ArgumentException($"unknown attention form '{other}' (expected fused or unfused)."),
            };
            var options = new QuantizationOptions { Weights = QuantizationOptions.ParseFormat(r.GetValue(weights)!), BlockSize = r.GetValue(blockSize), AccuracyLevel = r.GetValue(accuracy), FuseAttention = fuse, RuntimeOptimized = r.GetValue(optimized) };
            options.Validate();
            var graphs = ModelQuantizer.QuantizeFolder(r.GetValue(folder)!, r.GetValue(to)!, options, new Lines(stderr), token);
            foreach (var g in graphs)
            {
                stdout.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"{g.Component}: {MemoryBudget.Format(g.BytesBefore)} -> {MemoryBudget.Format(g.BytesAfter)} ({(double)g.BytesBefore / g.BytesAfter:0.00}x); {g.MatMuls} MatMul, {g.Convs} Conv weights quantized, {g.HalfTensors} float16, {g.KeptFloat32} weights kept float32, {g.FusedAttentions} attentions fused"));
            }

            return Task.FromResult(0);
        });
        return command;
    }

    /// <summary>Progress written on the calling thread, one line per graph.</summary>
    private sealed class Lines(TextWriter stderr) : IProgress<string>
    {
        public void Report(string value) => stderr.WriteLine($"quantizing {value} ...");
    }
}
