namespace Stork.Onnx.Quantization;

/// <summary>How <see cref="ModelQuantizer"/> stores the weights of a graph.</summary>
public enum WeightFormat
{
    /// <summary>
    /// 8-bit codes per block along the input dimension with a float32 scale and a uint8 zero point per block:
    /// MatMul weights become <c>com.microsoft.MatMulNBits</c> (bits 8), Conv weights a blocked
    /// <c>com.microsoft.DequantizeLinear</c> in front of the Conv.
    /// </summary>
    [System.Diagnostics.CodeAnalysis.SuppressMessage("Naming", "CA1720", Justification = "The format's name in ONNX Runtime, the CLI and the docs.")]
    Int8,

    /// <summary>As <see cref="Int8"/> with 4-bit codes and zero points (two per byte).</summary>
    Int4,

    /// <summary>
    /// Weights stored as float16 (those whose values fit; the rest stay float32), each cast back to float32 in the graph,
    /// so the graph's inputs, outputs and arithmetic stay float32.
    /// </summary>
    Float16,

    /// <summary>Weights kept as they are (float32): the graph rewrite alone (<see cref="QuantizationOptions.FuseAttention"/>).</summary>
    [System.Diagnostics.CodeAnalysis.SuppressMessage("Naming", "CA1720", Justification = "The format's name in the CLI and the docs, beside Float16.")]
    Float32,
}

/// <summary>Options of <see cref="ModelQuantizer"/>.</summary>
public sealed class QuantizationOptions
{
    /// <summary>Block sizes MatMulNBits accepts (powers of two from 16).</summary>
    public static IReadOnlyList<int> BlockSizes { get; } = [16, 32, 64, 128, 256];

    /// <summary>The weight format.</summary>
    public WeightFormat Weights { get; init; } = WeightFormat.Int8;

    /// <summary>Values per quantization block along a weight's input dimension (int8/int4); default 32.</summary>
    public int BlockSize { get; init; } = 32;

    /// <summary>
    /// Whether the graphs' attention (<c>MatMul(Q, K^T) * scale -> Softmax -> MatMul(., V)</c> with its head reshapes)
    /// is replaced by ONNX Runtime's <c>com.microsoft.MultiHeadAttention</c>, whose CPU kernel runs it as flash attention
    /// without the [batch, heads, tokens, tokens] scores (the denoiser's peak memory at real resolutions). On by default.
    /// </summary>
    public bool FuseAttention { get; init; } = true;

    /// <summary>
    /// Whether each converted graph is then written as ONNX Runtime optimizes it on this machine (ORT_ENABLE_ALL: layout
    /// transforms and fusions done once instead of at every load; the real-size SD1.5 UNet loads 3-6x faster). The
    /// result is tied to this CPU's instruction set and this ONNX Runtime version, and to the CPU execution provider.
    /// </summary>
    public bool RuntimeOptimized { get; init; }

    /// <summary>
    /// ONNX Runtime's <c>accuracy_level</c> of the <c>MatMulNBits</c> nodes (int8/int4): the lowest precision the kernel
    /// may compute the activations in. 0 (default) writes no attribute (float32 activations), 1 float32, 2 float16,
    /// 3 bfloat16, 4 int8 (activations quantized per block: on the real-width FLUX.1 transformer int8 weights then run at
    /// about float32's speed instead of 2.6x slower, at 1.8x the output error; docs/results/flux-real-size.md).
    /// </summary>
    public int AccuracyLevel { get; init; }

    /// <summary>Code bits of the format (8 or 4; 16 for float16, 32 for float32).</summary>
    public int Bits => Weights switch
    {
        WeightFormat.Int8 => 8,
        WeightFormat.Int4 => 4,
        WeightFormat.Float16 => 16,
        _ => 32,
    };

    /// <summary>Throws <see cref="ArgumentException"/> for a value out of range.</summary>
    public void Validate()
    {
        if (!Enum.IsDefined(Weights))
        {
            throw new ArgumentException($"unknown weight format {Weights}.");
        }

        if (!BlockSizes.Contains(BlockSize))
        {
            throw new ArgumentException($"block size must be one of {string.Join(", ", BlockSizes)} (got {BlockSize}).");
        }

        if (AccuracyLevel is < 0 or > 4)
        {
            throw new ArgumentException($"accuracy level must be 0 to 4 (got {AccuracyLevel}).");
        }

        if (Weights == WeightFormat.Float32 && !FuseAttention && !RuntimeOptimized)
        {
            throw new ArgumentException("float32 weights with neither fused attention nor the runtime-optimized graph would write an unchanged copy (fuse the attention, or choose int8, int4 or fp16).");
        }
    }

    /// <summary>
    /// The format named <paramref name="name"/>: <c>int8</c>, <c>int4</c>, <c>fp16</c> (alias <c>float16</c>), <c>fp32</c>
    /// (aliases <c>float32</c>, <c>keep</c>).
    /// </summary>
    public static WeightFormat ParseFormat(string name) => name.Trim().ToLowerInvariant() switch
    {
        "int8" => WeightFormat.Int8,
        "int4" => WeightFormat.Int4,
        "fp16" or "float16" => WeightFormat.Float16,
        "fp32" or "float32" or "keep" => WeightFormat.Float32,
        _ => throw new ArgumentException($"unknown weight format '{name}' (expected int8, int4, fp16 or fp32)."),
    };

    /// <summary>The name of a format as <see cref="ParseFormat"/> reads it.</summary>
    public static string FormatName(WeightFormat format) => format switch
    {
        WeightFormat.Int8 => "int8",
        WeightFormat.Int4 => "int4",
        WeightFormat.Float16 => "fp16",
        _ => "fp32",
    };
}

/// <summary>What <see cref="ModelQuantizer"/> did to one graph.</summary>
/// <param name="Component">The component folder (<c>unet</c>, <c>text_encoder</c>, ...), or the graph file's name.</param>
/// <param name="BytesBefore">Bytes of the source graph and its external data.</param>
/// <param name="BytesAfter">Bytes of the written graph and its external data.</param>
/// <param name="MatMuls">MatMul nodes turned into MatMulNBits.</param>
/// <param name="Convs">Conv weights stored quantized.</param>
/// <param name="HalfTensors">Initializers stored as float16.</param>
/// <param name="KeptFloat32">Weights left in float32 (shapes the format does not cover, or values outside float16).</param>
public sealed record QuantizedGraph(string Component, long BytesBefore, long BytesAfter, int MatMuls, int Convs, int HalfTensors, int KeptFloat32)
{
    /// <summary>Attentions replaced by <c>com.microsoft.MultiHeadAttention</c> (<see cref="QuantizationOptions.FuseAttention"/>).</summary>
    public int FusedAttentions { get; init; }
}
