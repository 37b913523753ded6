using Microsoft.ML.OnnxRuntime.Tensors;

namespace Stork.Onnx;

/// <summary>Element type of a model's sample input and output (the card's <c>dtype</c>); converted at the boundary.</summary>
public enum TensorDType
{
    /// <summary>32-bit IEEE floating point.</summary>
    Float32,
    /// <summary>16-bit IEEE floating point (converted to and from float32 at the session boundary).</summary>
    Float16,
}

/// <summary>Parsing <see cref="TensorDType"/>.</summary>
public static class TensorDTypes
{
    /// <summary>Parses <c>float32</c> or <c>float16</c> (case-insensitive).</summary>
    public static TensorDType Parse(string name) => name.ToLowerInvariant() switch
    {
        "float32" or "fp32" or "float" => TensorDType.Float32,
        "float16" or "fp16" or "half" => TensorDType.Float16,
        _ => throw new ArgumentException($"unknown dtype '{name}' (expected float32 or float16)."),
    };

    /// <summary>The ONNX Runtime element type of <paramref name="t"/>.</summary>
    public static TensorElementType ToElementType(this TensorDType t) =>
        t == TensorDType.Float16 ? TensorElementType.Float16 : TensorElementType.Float;

    /// <summary>The card name of <paramref name="t"/>: <c>float32</c> or <c>float16</c>.</summary>
    public static string ToName(this TensorDType t) => t == TensorDType.Float16 ? "float16" : "float32";
}
